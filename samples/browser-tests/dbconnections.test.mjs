// auth0.js's database-connection calls from the auth0js sample's page, in headless Chromium:
// webAuth.signup creates a user who then logs in through the sample's normal login,
// webAuth.changePassword gets Auth0's answer, and with disable_signup set through the
// Management API, webAuth.signup gets Auth0's error and the hosted login page offers no
// sign-up. Run by `cargo xtask browser` after seeds.test.mjs (one file at a time: this one
// changes the tenant's connection, and puts it back). Screenshots go to
// ARTIFACTS_DIR/dbconnections/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { artifactsFor, launch, management, stack } from './support.mjs';

const artifacts = artifactsFor('dbconnections');

const CONNECTION = 'Username-Password-Authentication';
const RESET_ANSWER = "We've just sent you an email to reset your password.";
const TIMEOUT = 90_000;

const app = stack.apps.find((candidate) => candidate.sample === 'auth0js');
let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

async function setDisableSignup(disabled) {
  const [connection] = await management('GET', 'connections');
  const updated = await management('PATCH', `connections/${connection.id}`, {
    options: { disable_signup: disabled },
  });
  assert.equal(updated.options.disable_signup, disabled);
}

/** The sample's page with its own WebAuth (`window.webAuth`), a log and numbered screenshots. */
async function openSample(context, name) {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const log = (line) => appendFileSync(join(artifacts, 'browser.log'), `${line}\n`);
  page.on('console', (m) => log(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    const url = new URL(r.url());
    if (!url.pathname.startsWith('/node_modules/')) log(`${r.status()} ${r.request().method()} ${url.origin}${url.pathname}`);
  });
  let shots = 0;
  const shot = async (label) => {
    shots += 1;
    await page.screenshot({ path: join(artifacts, `${name}-${String(shots).padStart(2, '0')}-${label}.png`), fullPage: true });
  };
  await page.goto(app.url);
  await page.waitForSelector('body[data-ready=true]');
  return { page, shot };
}

/** Calls `webAuth[method](options, callback)` in the page; resolves with `{ error, result }`. */
function callWebAuth(page, method, options) {
  return page.evaluate(
    ([method, options]) =>
      new Promise((resolve) => {
        window.webAuth[method](options, (error, result) => {
          // Shown on the page for the screenshot.
          document.getElementById('login-status').innerText =
            `webAuth.${method}: ` + JSON.stringify(error ? { code: error.code, description: error.description } : result);
          resolve({ error: error && JSON.parse(JSON.stringify(error)), result });
        });
      }),
    [method, options],
  );
}

test('auth0.js signup and changePassword from the auth0js sample', { timeout: TIMEOUT }, async (t) => {
  assert.ok(app, 'the stack runs an auth0js app');
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  const { page, shot } = await openSample(context, 'enabled');
  const email = `webauth-${Date.now()}@example.com`;
  const password = 'a new password 2';
  try {
    await t.test('webAuth.signup creates the user', async () => {
      const { error, result } = await callWebAuth(page, 'signup', {
        connection: CONNECTION,
        email,
        password,
        userMetadata: { plan: 'free' },
      });
      assert.equal(error, null);
      assert.equal(result.email, email);
      assert.equal(result.emailVerified, false);
      assert.ok(result.Id || result._id || result.id, JSON.stringify(result));
      assert.deepEqual(result.userMetadata, { plan: 'free' });
      await shot('signup-result');
    });

    await t.test('the new user logs in through the sample', async () => {
      await page.click('#qsLoginBtn');
      await page.waitForURL((url) => url.origin === stack.domain && url.pathname === '/u/login');
      await page.fill('#email', email);
      await page.fill('#password', password);
      await shot('hosted-login');
      await page.click('button[type=submit]');
      await page.waitForURL((url) => url.origin === app.url);
      await page.waitForSelector('#qsLogoutBtn:visible');
      await shot('logged-in');
    });

    await t.test("webAuth.changePassword gets Auth0's answer", async () => {
      const { error, result } = await callWebAuth(page, 'changePassword', { connection: CONNECTION, email });
      assert.equal(error, null);
      assert.equal(result, RESET_ANSWER);
      // The same answer for an address nobody uses.
      const unknown = await callWebAuth(page, 'changePassword', { connection: CONNECTION, email: `nobody-${Date.now()}@example.com` });
      assert.equal(unknown.result, RESET_ANSWER);
      await shot('change-password-result');
    });
  } finally {
    await context.close();
  }
});

test('with disable_signup, webAuth.signup is refused and the login page has no sign-up link', { timeout: TIMEOUT }, async (t) => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  await setDisableSignup(true);
  try {
    const { page, shot } = await openSample(context, 'disabled');
    await t.test("webAuth.signup gets Auth0's error", async () => {
      const { error, result } = await callWebAuth(page, 'signup', {
        connection: CONNECTION,
        email: `refused-${Date.now()}@example.com`,
        password: 'a new password 3',
      });
      assert.equal(result, undefined);
      assert.equal(error.statusCode, 400);
      assert.equal(error.code, 'public signup is disabled');
      assert.equal(error.description, 'public signup is disabled');
      await shot('signup-refused');
    });

    await t.test('the hosted login page has no sign-up link', async () => {
      await page.click('#qsLoginBtn');
      await page.waitForURL((url) => url.origin === stack.domain && url.pathname === '/u/login');
      await page.waitForSelector('#email');
      assert.equal(await page.locator('#signup-link').count(), 0);
      assert.ok(!(await page.content()).includes('/u/signup'));
      await shot('login-without-signup');
    });
  } finally {
    await setDisableSignup(false);
    await context.close();
  }
});
