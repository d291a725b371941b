// Signing in with other identity providers in headless Chromium, through the spa-js sample:
// a second Portcullis started by this test (its own data folder, on 127.0.0.1 so that its
// cookies stay apart from the stack's on localhost) and node-oidc-provider (an independent
// implementation, `oidc-provider.mjs`) are made connections of the stack through the
// Management API. The sample signs in through each — the "Continue with" button of the hosted
// login page, and `connection=` straight to the provider — and calls its API. Hostile answers
// (a state this browser did not start, the provider's error answer, and from
// `hostile-provider.mjs` an ID token with a wrong nonce, a wrong issuer or a bad signature)
// show a clear page.
// Screenshots go to ARTIFACTS_DIR/connections/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { artifactsFor, launch, management, newPage, onHostedPage, signInToDashboard, stack } from './support.mjs';

const artifacts = artifactsFor('connections');
const TIMEOUT = 180_000;
const EXTERNAL_MESSAGE = 'Your access token was successfully validated!';
const UPSTREAM_EMAIL = 'ada@upstream.example';
const UPSTREAM_PASSWORD = 'Upstream-Password-42';
const CALLBACK = `${stack.domain}/login/callback`;

const app = stack.apps.find((candidate) => candidate.sample === 'spa-js');
const children = [];
const created = [];
let browser;
let upstreamDir;
let portcullis;
let nodeProvider;
let hostile;
const HOSTILE_MODES = ['nonce', 'issuer', 'signature'];

/** A port free on 127.0.0.1 right now. */
async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The `portcullis` command on the upstream's data folder; its JSON output. */
function upstreamCli(args) {
  const output = execFileSync(stack.binary, [...args, '--data-dir', upstreamDir, '--json'], { encoding: 'utf8' });
  return JSON.parse(output);
}

/** Waits until `url` answers. */
async function waitFor(url) {
  for (let i = 0; i < 200; i += 1) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} never answered`);
}

/** The second Portcullis: a client for the stack and a user, then `serve`. */
async function startPortcullis() {
  upstreamDir = mkdtempSync(join(tmpdir(), 'portcullis-upstream-'));
  const client = upstreamCli(['clients', 'create', '--name', 'Stack', '--type', 'regular_web', '--callbacks', CALLBACK]);
  upstreamCli(['users', 'create', '--email', UPSTREAM_EMAIL, '--password', UPSTREAM_PASSWORD]);
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}/`;
  const child = spawn(stack.binary, ['serve', '--listen', `127.0.0.1:${port}`, '--issuer', issuer, '--data-dir', upstreamDir], {
    stdio: 'ignore',
    env: { ...process.env, NO_COLOR: '1' },
  });
  children.push(child);
  await waitFor(`${issuer}.well-known/openid-configuration`);
  return { issuer, clientId: client.client_id, clientSecret: client.client_secret };
}

/** node-oidc-provider, as `oidc-provider.mjs` starts it. */
async function startNodeProvider() {
  const clientId = 'portcullis-stack';
  const clientSecret = `secret-${Date.now()}-of-some-length`;
  const child = spawn(process.execPath, ['oidc-provider.mjs'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, CLIENT_ID: clientId, CLIENT_SECRET: clientSecret, REDIRECT_URI: CALLBACK },
  });
  children.push(child);
  const [line] = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next().then((r) => [r.value]);
  const { issuer } = JSON.parse(line);
  await waitFor(`${issuer}/.well-known/openid-configuration`);
  return { issuer, clientId, clientSecret };
}

/** `hostile-provider.mjs`: its base address; each mode is an issuer under it. */
async function startHostileProvider() {
  const clientId = 'portcullis-stack';
  const child = spawn(process.execPath, ['hostile-provider.mjs'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, CLIENT_ID: clientId },
  });
  children.push(child);
  const [line] = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next().then((r) => [r.value]);
  const { base } = JSON.parse(line);
  await waitFor(`${base}/nonce/.well-known/openid-configuration`);
  return { base, clientId, clientSecret: 'hostile-secret-of-some-length' };
}

/** A connection of the stack, enabled for the spa-js app. */
async function connect(name, displayName, provider) {
  const connection = await management('POST', 'connections', {
    name,
    strategy: 'oidc',
    display_name: displayName,
    options: {
      issuer: provider.issuer,
      client_id: provider.clientId,
      client_secret: provider.clientSecret,
      scope: 'openid profile email',
    },
    enabled_clients: [app.clientId],
  });
  created.push(connection.id);
  return connection;
}

before(async () => {
  browser = await launch();
  portcullis = await startPortcullis();
  nodeProvider = await startNodeProvider();
  await connect('upstream-portcullis', 'Upstream Portcullis', portcullis);
  await connect('node-oidc', 'node-oidc-provider', nodeProvider);
  hostile = await startHostileProvider();
  for (const mode of HOSTILE_MODES) {
    await connect(`hostile-${mode}`, `Hostile ${mode}`, { ...hostile, issuer: `${hostile.base}/${mode}` });
  }
});

after(async () => {
  for (const id of created) await management('DELETE', `connections/${id}`);
  await browser?.close();
  for (const child of children) child.kill('SIGTERM');
  if (upstreamDir) rmSync(upstreamDir, { recursive: true, force: true });
});

async function backInTheSample(page) {
  await page.waitForURL((url) => url.origin === app.url);
  await page.waitForSelector('#btn-logout:not([disabled])');
}

async function callsTheApi(page, shot) {
  await page.click('#btn-call-api');
  await page.waitForFunction(
    (text) => document.getElementById('api-call-result').innerText.includes(text),
    EXTERNAL_MESSAGE,
  );
  await shot('api-call');
}

async function logOut(page) {
  await page.click('#btn-logout');
  await page.waitForURL((url) => url.origin === app.url);
  await page.waitForSelector('#btn-login:not([disabled])');
}

/** The upstream Portcullis's own login form. */
async function upstreamLogin(page, shot) {
  await page.waitForURL((url) => url.origin === new URL(portcullis.issuer).origin && url.pathname === '/u/login');
  await shot('upstream-portcullis-login');
  await page.fill('#email', UPSTREAM_EMAIL);
  await page.fill('#password', UPSTREAM_PASSWORD);
  await page.click('button[type=submit]');
}

/** node-oidc-provider's development login and consent pages. */
async function nodeProviderLogin(page, shot, login) {
  await page.waitForURL((url) => url.origin === nodeProvider.issuer && url.pathname.startsWith('/interaction/'));
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'anything');
  await shot('node-oidc-provider-login');
  await page.click('button[type=submit]');
  await page.waitForSelector('button:has-text("Continue")');
  await shot('node-oidc-provider-consent');
  await page.click('button:has-text("Continue")');
}

/** The sample's login with `connection=`, straight to the provider. */
async function loginThrough(page, connection) {
  await page.goto(app.url);
  await page.waitForSelector('#btn-login:not([disabled])');
  await page.evaluate((name) => auth0.loginWithRedirect({ redirect_uri: window.location.origin, connection: name }), connection);
}

test('the spa-js sample signs in through another Portcullis and node-oidc-provider', { timeout: TIMEOUT }, async (t) => {
  assert.ok(app, 'the stack runs a spa-js app');
  const { context, page, shot } = await newPage(browser, artifacts, 'providers');

  await t.test('the login page offers both; the upstream Portcullis signs the user in', async () => {
    await page.goto(app.url);
    await page.waitForSelector('#btn-login:not([disabled])');
    await page.click('#btn-login');
    await onHostedPage(page, '/u/login');
    await page.waitForSelector('text=Continue with Upstream Portcullis');
    await page.waitForSelector('text=Continue with node-oidc-provider');
    await shot('login-page-buttons');
    await page.click('text=Continue with Upstream Portcullis');
    await upstreamLogin(page, shot);
    await backInTheSample(page);
    await shot('logged-in-upstream-portcullis');
    const id = await page.evaluate(() => auth0.getIdTokenClaims());
    assert.match(id.sub, /^oidc\|upstream-portcullis\|/, JSON.stringify(id));
    assert.equal(id.email, UPSTREAM_EMAIL);
    await callsTheApi(page, shot);
    await logOut(page);
  });

  await t.test('connection= goes straight to node-oidc-provider', async () => {
    await loginThrough(page, 'node-oidc');
    await nodeProviderLogin(page, shot, 'grace');
    await backInTheSample(page);
    await shot('logged-in-node-oidc-provider');
    const id = await page.evaluate(() => auth0.getIdTokenClaims());
    assert.equal(id.sub, 'oidc|node-oidc|grace', JSON.stringify(id));
    assert.equal(id.email, 'grace@oidc-provider.example');
    await callsTheApi(page, shot);
    await logOut(page);
  });

  await t.test('connection= goes straight to the upstream Portcullis too', async () => {
    await loginThrough(page, 'upstream-portcullis');
    // The upstream still has this browser's session: no form, straight back.
    await backInTheSample(page);
    const id = await page.evaluate(() => auth0.getIdTokenClaims());
    assert.match(id.sub, /^oidc\|upstream-portcullis\|/);
    await callsTheApi(page, shot);
    await logOut(page);
  });

  await context.close();
});

test('hostile or refusing providers get a clear page', { timeout: TIMEOUT }, async (t) => {
  const { context, page, shot } = await newPage(browser, artifacts, 'hostile');

  await t.test('a state this browser did not start is refused', async () => {
    await page.goto(`${CALLBACK}?code=stolen-code&state=not-this-browsers`);
    await page.waitForSelector('text=This sign-in was not started in this browser');
    await shot('wrong-state');
    const status = await page.evaluate(async (url) => (await fetch(url)).status, `${CALLBACK}?code=c&state=s`);
    assert.equal(status, 400);
  });

  await t.test("the provider's error answer is shown, and nobody signs in", async () => {
    await loginThrough(page, 'node-oidc');
    await page.waitForURL((url) => url.origin === nodeProvider.issuer && url.pathname.startsWith('/interaction/'));
    // node-oidc-provider's "[ Cancel ]": its error answer, access_denied, to our callback.
    await page.click('text=[ Cancel ]');
    await page.waitForURL((url) => url.href.startsWith(CALLBACK));
    await page.waitForSelector('text=node-oidc refused the sign-in (access_denied)');
    await shot('provider-error');
    assert.equal(new URL(page.url()).origin, stack.domain, 'the application never gets the answer');
  });

  const why = {
    nonce: 'invalid nonce',
    issuer: 'invalid issuer',
    signature: 'signature verification failed',
  };
  for (const mode of HOSTILE_MODES) {
    await t.test(`an ID token with a wrong ${mode} is refused`, async () => {
      await loginThrough(page, `hostile-${mode}`);
      await page.waitForURL((url) => url.href.startsWith(CALLBACK));
      await page.waitForSelector(`text=The answer of hostile-${mode} was refused`);
      await shot(`wrong-${mode}`);
      const text = await page.innerText('body');
      assert.ok(text.includes("the provider's ID token was refused"), text);
      assert.ok(text.toLowerCase().includes(why[mode].toLowerCase()), text);
      assert.equal(new URL(page.url()).origin, stack.domain, 'the application never gets the answer');
    });
  }

  await context.close();
});

test("the dashboard's Social / Enterprise page shows both, never their secrets", { timeout: TIMEOUT }, async () => {
  const { context, page, shot } = await newPage(browser, artifacts, 'dashboard');
  await signInToDashboard(page);
  await page.goto(`${stack.domain}/dashboard/connections`);
  await page.waitForSelector('text=Continue with Upstream Portcullis');
  await shot('connections');
  await page.click('a:has-text("node-oidc")');
  await page.waitForSelector('#client_secret');
  await shot('connection');
  const html = await page.content();
  assert.ok(!html.includes(nodeProvider.clientSecret), 'the client secret is never shown');
  assert.equal(await page.inputValue('#client_id'), nodeProvider.clientId);
  await context.close();
});
