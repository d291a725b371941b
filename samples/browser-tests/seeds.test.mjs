// The seed tutorials' SPAs in headless Chromium, each against the Rust sample API and the
// Express API, with Auth0's SDKs unchanged. Run by `cargo xtask browser`, which starts the stack
// and names it in PORTCULLIS_STACK (see xtask/src/stack.rs); screenshots of every step go to
// ARTIFACTS_DIR/<app>/.
//
// For every app: logged out, the secured call gets 401; log in on the hosted login page; the
// secured call shows the API's message; /api/private-scoped answers 200 with read:messages
// (granted by an RBAC role); a reload keeps the session through silent authentication
// (prompt=none, response_mode=web_message); logout ends the session, and the next silent call
// fails with login_required; a user without the role (for one app, a new user from the hosted
// sign-up page) gets the message from /api/private but 403 from /api/private-scoped.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch, stack } from './support.mjs';

const artifacts = process.env.ARTIFACTS_DIR || join(process.cwd(), 'artifacts');

const STEP_TIMEOUT = 30_000;
const APP_TIMEOUT = 120_000;

const PRIVATE_MESSAGE = 'Hello from a private endpoint! You need to be authenticated to see this.';
const SCOPED_MESSAGE =
  'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.';
const EXTERNAL_MESSAGE = 'Your access token was successfully validated!';

let browser;

before(async () => {
  // A fresh user-data-dir in a temporary folder, removed on close; every app below gets a
  // fresh context (cookies, storage) of its own.
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

/** Is this response the server's answer to a silent authentication request? */
function isSilentAuthorize(response) {
  const url = new URL(response.url());
  return (
    url.origin === stack.domain &&
    url.pathname === '/authorize' &&
    url.searchParams.get('prompt') === 'none' &&
    url.searchParams.get('response_mode') === 'web_message'
  );
}

/** Fills in the hosted login page (or, with `signup`, its sign-up page). */
async function hostedLogin(page, shot, credentials, signup) {
  await page.waitForURL((url) => url.origin === stack.domain && url.pathname === '/u/login');
  if (signup) {
    await page.click('#signup-link');
    await page.waitForURL((url) => url.pathname === '/u/signup');
  }
  await page.fill('#email', credentials.email);
  await page.fill('#password', credentials.password);
  await shot(signup ? 'hosted-signup-page' : 'hosted-login-page');
  await page.click('button[type=submit]');
}

// What differs between the three SPAs: how to see their state and press their buttons.

const spaJs = {
  async ready(page, loggedIn) {
    await page.waitForSelector(loggedIn ? '#btn-logout:not([disabled])' : '#btn-login:not([disabled])');
  },
  async startLogin(page) {
    await page.click('#btn-login');
  },
  // The "Call Api" button is disabled while logged out: call the endpoint the way callApi()
  // does, without a token.
  async securedCallLoggedOut(page) {
    const result = await page.evaluate(async () => {
      const response = await fetch('/api/external');
      return { status: response.status, body: await response.json() };
    });
    assert.equal(result.status, 401);
    assert.deepEqual(result.body, { msg: 'Invalid token' });
  },
  async securedCall(page) {
    await page.click('#btn-call-api');
    await page.waitForFunction(
      (text) => document.getElementById('api-call-result').innerText.includes(text),
      EXTERNAL_MESSAGE,
    );
  },
  // The tutorial's SPA asks for no scope of the API; ask the SDK for a token with it.
  async scopedCall(page, app, dialogs, allowed) {
    const result = await page.evaluate(async () => {
      const token = await auth0.getTokenSilently({ scope: 'read:messages' });
      const response = await fetch('/api/private-scoped', {
        headers: { Authorization: `Bearer ${token}` },
      });
      const body = await response.text();
      document.getElementById('api-call-result').innerText = `/api/private-scoped: ${response.status}\n${body}`;
      return { status: response.status, body };
    });
    if (allowed) {
      assert.equal(result.status, 200);
      assert.equal(JSON.parse(result.body).message, SCOPED_MESSAGE);
    } else {
      assert.equal(result.status, 403);
    }
  },
  async afterReload(page) {
    await this.securedCall(page);
  },
  async logout(page) {
    await page.click('#btn-logout');
  },
  async silentCall(page) {
    return page.evaluate(() =>
      auth0.getTokenSilently({ ignoreCache: true }).then(
        () => 'ok',
        (error) => error.error || String(error),
      ),
    );
  },
};

/** Settings as the page got them. */
function pageConfig(page) {
  return page.evaluate(() => fetch('/auth_config.json').then((r) => r.json()));
}

const auth0js = {
  async ready(page, loggedIn) {
    await page.waitForSelector('body[data-ready=true]');
    await page.waitForSelector(loggedIn ? '#qsLogoutBtn:visible' : '#qsLoginBtn:visible');
  },
  async startLogin(page) {
    await page.click('#qsLoginBtn');
  },
  // callAPI('/private', true) sends "Bearer null"; the tutorial alerts "Request failed".
  async securedCallLoggedOut(page, app, dialogs) {
    await page.click('#btn-ping-view');
    const response = page.waitForResponse((r) => r.url() === `${app.apiUrl}/private` && r.request().method() === 'GET');
    const dialog = page.waitForEvent('dialog');
    await page.click('#btn-ping-private');
    assert.equal((await response).status(), 401);
    await dialog;
    assert.ok(dialogs.includes('Request failed: Unauthorized'), `dialogs: ${dialogs}`);
  },
  async securedCall(page) {
    await page.click('#btn-ping-view');
    await page.click('#btn-ping-private');
    await page.waitForFunction((text) => document.getElementById('ping-message').innerText === text, PRIVATE_MESSAGE);
  },
  async scopedCall(page, app, dialogs, allowed) {
    await page.click('#btn-ping-view');
    const response = page.waitForResponse((r) => r.url() === `${app.apiUrl}/private-scoped` && r.request().method() === 'GET');
    const dialog = allowed ? null : page.waitForEvent('dialog');
    await page.click('#btn-ping-private-scoped');
    assert.equal((await response).status(), allowed ? 200 : 403);
    if (allowed) {
      await page.waitForFunction((text) => document.getElementById('ping-message').innerText === text, SCOPED_MESSAGE);
    } else {
      await dialog;
      assert.ok(dialogs.includes('Request failed: Forbidden'), `dialogs: ${dialogs}`);
    }
  },
  async afterReload(page) {
    assert.match(await page.innerText('#login-status'), /session renewed/);
    await this.securedCall(page);
  },
  async logout(page) {
    await page.click('#qsLogoutBtn');
  },
  // checkSession with the sample's own settings, through the page's auth0.js.
  async silentCall(page) {
    const config = await pageConfig(page);
    return page.evaluate(
      (config) =>
        new Promise((resolve) => {
          const webAuth = new auth0.WebAuth({
            domain: config.domain,
            clientID: config.clientId,
            redirectUri: window.location.origin,
            responseType: 'token id_token',
            audience: config.audience,
            scope: 'openid profile read:messages',
            overrides: { __token_issuer: config.domain + '/' },
          });
          webAuth.checkSession({}, (error) => resolve(error ? error.error : 'ok'));
        }),
      config,
    );
  },
};

const angularjs = {
  async ready(page, loggedIn) {
    await page.waitForSelector('nav[data-ready=true]');
    await page.waitForSelector(loggedIn ? '#qsLogoutBtn' : '#qsLoginBtn');
  },
  async startLogin(page) {
    await page.click('#qsLoginBtn');
  },
  // jwtInterceptor attaches no header without a token; the controller shows the error.
  async securedCallLoggedOut(page, app) {
    await page.click('#btn-ping');
    const response = page.waitForResponse((r) => r.url() === `${app.apiUrl}/private` && r.request().method() === 'GET');
    await page.click('#btn-ping-private');
    const answer = await response;
    assert.equal(answer.status(), 401);
    assert.equal(await answer.request().headerValue('authorization'), null);
    await page.waitForFunction(() => (document.getElementById('ping-message') || {}).innerText?.includes('"status":401'));
  },
  async securedCall(page) {
    await page.click('#btn-ping');
    await page.click('#btn-ping-private');
    await page.waitForFunction((text) => (document.getElementById('ping-message') || {}).innerText === text, PRIVATE_MESSAGE);
  },
  async scopedCall(page, app, dialogs, allowed) {
    await page.click('#btn-ping');
    const response = page.waitForResponse((r) => r.url() === `${app.apiUrl}/private-scoped` && r.request().method() === 'GET');
    await page.click('#btn-ping-private-scoped');
    assert.equal((await response).status(), allowed ? 200 : 403);
    if (allowed) {
      await page.waitForFunction((text) => (document.getElementById('ping-message') || {}).innerText === text, SCOPED_MESSAGE);
    } else {
      await page.waitForFunction(() => (document.getElementById('ping-message') || {}).innerText?.includes('"status":403'));
    }
  },
  async afterReload(page) {
    await page.click('#btn-home');
    await page.waitForSelector('#auth-message');
    assert.equal(await page.innerText('#auth-message'), 'Session renewed.');
    await this.securedCall(page);
  },
  async logout(page) {
    await page.click('#qsLogoutBtn');
  },
  // checkSession through the app's own angularAuth0 service.
  async silentCall(page) {
    return page.evaluate(
      () =>
        new Promise((resolve) => {
          const angularAuth0 = angular.element(document.body).injector().get('angularAuth0');
          angularAuth0.checkSession({}, (error) => resolve(error ? error.error : 'ok'));
        }),
    );
  },
};

const drivers = { 'spa-js': spaJs, auth0js, angularjs };

let signedUp = false;

for (const app of stack.apps) {
  const driver = drivers[app.sample];
  // One app signs up through the hosted sign-up page; the others log in.
  const signup = !signedUp;
  signedUp = true;

  test(`${app.name}: ${app.sample} against the ${app.api} API`, { timeout: APP_TIMEOUT }, async (t) => {
    const dir = join(artifacts, app.name);
    mkdirSync(dir, { recursive: true });
    const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const dialogs = [];
    const log = (line) => appendFileSync(join(dir, 'browser.log'), `${line}\n`);
    page.on('console', (m) => log(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => log(`pageerror: ${e.message}`));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      log(`dialog: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    page.on('response', (r) => {
      const url = new URL(r.url());
      if (!url.pathname.startsWith('/node_modules/')) log(`${r.status()} ${r.request().method()} ${url.origin}${url.pathname}`);
    });
    let shots = 0;
    const shot = async (label) => {
      shots += 1;
      await page.screenshot({ path: join(dir, `${String(shots).padStart(2, '0')}-${label}.png`), fullPage: true });
    };
    // Without the role that grants read:messages: a new user from the sign-up page, or the
    // tenant's other user.
    const unprivileged = signup
      ? { email: `signup-${Date.now()}@example.com`, password: 'a new password 1' }
      : stack.deniedUser;

    let failed = false;
    const step = async (name, fn) => {
      await t.test(name, { skip: failed && 'an earlier step failed', timeout: STEP_TIMEOUT }, async () => {
        try {
          await fn();
        } catch (error) {
          failed = true;
          await shot(`FAILED-${name.replace(/[^a-z0-9]+/gi, '-')}`).catch(() => {});
          throw error;
        }
      });
    };

    try {
      await step('logged out, the secured call gets 401', async () => {
        await page.goto(app.url);
        await driver.ready(page, false);
        await shot('logged-out');
        await driver.securedCallLoggedOut(page, app, dialogs);
        await shot('logged-out-secured-call-401');
      });

      await step('log in on the hosted login page', async () => {
        await driver.startLogin(page);
        await hostedLogin(page, shot, stack.user, false);
        await page.waitForURL((url) => url.origin === app.url);
        await driver.ready(page, true);
        await shot('logged-in');
      });

      await step('the secured call shows the API message', async () => {
        await driver.securedCall(page);
        await shot('secured-call');
      });

      await step('private-scoped answers 200 with read:messages', async () => {
        await driver.scopedCall(page, app, dialogs, true);
        await shot('private-scoped-200');
      });

      await step('a reload keeps the session through silent authentication', async () => {
        const silent = page.waitForResponse(isSilentAuthorize);
        await page.reload();
        const response = await silent;
        assert.equal(response.status(), 200);
        await driver.ready(page, true);
        await driver.afterReload(page);
        await shot('after-reload');
      });

      await step('logout ends the session: the next silent call fails with login_required', async () => {
        await driver.logout(page);
        await page.waitForURL((url) => url.origin === app.url);
        await driver.ready(page, false);
        await shot('logged-out-again');
        const silent = page.waitForResponse(isSilentAuthorize);
        assert.equal(await driver.silentCall(page), 'login_required');
        assert.equal((await silent).status(), 200);
      });

      await step(
        `${signup ? 'a user who signs up' : 'a user'} without the RBAC role gets 403 from private-scoped`,
        async () => {
          await driver.startLogin(page);
          await hostedLogin(page, shot, unprivileged, signup);
          await page.waitForURL((url) => url.origin === app.url);
          await driver.ready(page, true);
          await driver.securedCall(page);
          await driver.scopedCall(page, app, dialogs, false);
          await shot('rbac-denied-private-scoped-403');
        },
      );
    } finally {
      await context.close();
    }
  });
}
