// WebAuthn in headless Chromium, with a DevTools virtual authenticator (CTAP2, internal
// transport, resident keys and user verification: a platform passkey). Through the spa-js
// sample under the "always" policy: after the password a user without a factor enrols a
// passkey on the spot; the API call succeeds with `amr: ["pwd", "mfa", "swk"]`. After logging
// out, the login page signs in with the passkey alone through conditional UI (the email
// field's autofill; `amr: ["swk", "mfa"]`, no password, no second-factor page); the next
// password login is asked for the key as its second factor. A newcomer signs up with a passkey
// instead of a password, logs out and signs in with it. The policy and factors are put back at
// the end. Run by `cargo xtask browser`; a screenshot of every page visited goes to
// ARTIFACTS_DIR/passkeys/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  artifactsFor,
  jwtClaims,
  launch,
  management,
  onHostedPage,
  pageWithAuthenticator as withAuthenticator,
  requireMfa,
  resetMfa,
  stack,
} from './support.mjs';

const artifacts = artifactsFor('passkeys');
const TIMEOUT = 120_000;
const PASSWORD = 'Correct-Horse-Battery-42';
const EXTERNAL_MESSAGE = 'Your access token was successfully validated!';
const FACTORS = ['webauthn-platform', 'webauthn-roaming'];

const app = stack.apps.find((candidate) => candidate.sample === 'spa-js');
let browser;

before(async () => {
  browser = await launch();
  await requireMfa(FACTORS);
});

after(async () => {
  await resetMfa(FACTORS);
  await browser?.close();
});

/** A page whose browser holds a virtual platform authenticator. */
const pageWithAuthenticator = (name) => withAuthenticator(browser, artifacts, name);

/** From the sample to the hosted login page. */
async function toLogin(page, shot) {
  await page.goto(app.url);
  await page.waitForSelector('#btn-login:not([disabled])');
  if (shot) { await shot('sample'); }
  await page.click('#btn-login');
  await onHostedPage(page, '/u/login');
}

async function backInTheSample(page) {
  await page.waitForURL((url) => url.origin === app.url);
  await page.waitForSelector('#btn-logout:not([disabled])');
}

async function logOut(page) {
  await page.click('#btn-logout');
  await page.waitForURL((url) => url.origin === app.url);
  await page.waitForSelector('#btn-login:not([disabled])');
}

/** Calls the sample's API; the access token's `amr`. */
async function callApi(page, shot, name) {
  await page.click('#btn-call-api');
  await page.waitForFunction(
    (text) => document.getElementById('api-call-result').innerText.includes(text),
    EXTERNAL_MESSAGE,
  );
  await shot(name);
  return jwtClaims((await page.textContent('#ipt-access-token')).trim()).amr;
}

test('a passkey enrolled after the password signs in alone and answers the second factor', { timeout: TIMEOUT }, async (t) => {
  assert.ok(app, 'the stack runs a spa-js app');
  const email = `passkey-${Date.now()}@example.com`;
  await management('POST', 'users', { email, password: PASSWORD, connection: 'Username-Password-Authentication' });
  const { context, page, shot, cdp, authenticatorId } = await pageWithAuthenticator('passkey');

  await t.test('after the password, the user enrols a passkey on the spot', async () => {
    await toLogin(page);
    assert.equal(await page.getAttribute('#email', 'autocomplete'), 'username webauthn');
    await page.fill('#email', email);
    await page.fill('#password', PASSWORD);
    await shot('hosted-login');
    await page.click('button[type=submit]');
    await onHostedPage(page, '/u/mfa');
    await page.waitForSelector('#enrol-webauthn-platform');
    await shot('enrol');
    await page.click('#enrol-webauthn-platform');
    await backInTheSample(page);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.ok(credentials[0].isResidentCredential, 'the passkey is discoverable');
    assert.deepEqual(await callApi(page, shot, 'api-call-enrolled'), ['pwd', 'mfa', 'swk']);
  });

  await t.test('after logging out, the passkey alone signs in from the email field\'s autofill', async () => {
    await logOut(page);
    // The login page offers the passkey through conditional UI; the virtual authenticator
    // answers at once, as a person picking it in the autofill would: no password is typed.
    await page.goto(app.url);
    await page.waitForSelector('#btn-login:not([disabled])');
    await page.click('#btn-login');
    await backInTheSample(page);
    await shot('logged-in-with-passkey');
    assert.deepEqual(await callApi(page, shot, 'api-call-passkey'), ['swk', 'mfa']);
    const id = await page.evaluate(() => auth0.getIdTokenClaims());
    assert.deepEqual(id.amr, ['swk', 'mfa'], JSON.stringify(id));
  });

  await t.test('a password login is asked for the key as its second factor', async () => {
    await logOut(page);
    // Without presence the autofill's request waits, and the password can be typed.
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false });
    await toLogin(page);
    await page.waitForSelector('#passkey');
    await shot('login-with-passkey-button');
    await page.fill('#email', email);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await onHostedPage(page, '/u/mfa');
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: true });
    await page.waitForSelector('#use-key');
    await shot('second-factor-key');
    await page.click('#use-key');
    await backInTheSample(page);
    assert.deepEqual(await callApi(page, shot, 'api-call-second-factor'), ['pwd', 'mfa', 'swk']);
  });

  await context.close();
});

test('a newcomer signs up with a passkey instead of a password, then signs in with it', { timeout: TIMEOUT }, async (t) => {
  const email = `passkey-signup-${Date.now()}@example.com`;
  const { context, page, shot, cdp, authenticatorId } = await pageWithAuthenticator('signup');

  await t.test('the sign-up page creates the account with a passkey', async () => {
    // No passkey yet: the login page's autofill request waits, as it does for a newcomer.
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false });
    await toLogin(page, shot);
    await shot('hosted-login');
    await page.click('#signup-link');
    await onHostedPage(page, '/u/signup');
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: true });
    await page.fill('#email', email);
    await shot('hosted-signup');
    await page.click('#signup-passkey');
    await backInTheSample(page);
    await shot('signed-up');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.ok(credentials[0].isResidentCredential, 'the passkey is discoverable');
    assert.deepEqual(await callApi(page, shot, 'api-call-signed-up'), ['swk', 'mfa']);
    const id = await page.evaluate(() => auth0.getIdTokenClaims());
    assert.equal(id.email, email);
  });

  await t.test('after logging out, the passkey signs in', async () => {
    await logOut(page);
    await shot('logged-out');
    await page.click('#btn-login');
    await backInTheSample(page);
    await shot('logged-in-with-passkey');
    assert.deepEqual(await callApi(page, shot, 'api-call-passkey'), ['swk', 'mfa']);
  });

  const [user] = await management('GET', `users-by-email?email=${encodeURIComponent(email)}`);
  const methods = await management('GET', `users/${encodeURIComponent(user.user_id)}/authentication-methods`);
  assert.equal(methods.length, 1);
  assert.equal(methods[0].type, 'passkey');
  await context.close();
});
