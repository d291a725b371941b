// A dashboard administrator's passkey in headless Chromium, with a DevTools virtual
// authenticator (CTAP2, internal transport, resident keys and user verification: a platform
// passkey). The stack's administrator signs in with the password, adds a passkey on their
// account page (named, with recovery codes shown once as it is their first factor), signs
// out, and signs in again with the password and then the passkey as the second step. The
// factors are removed at the end, so that the administrator signs in with the password alone
// again. Run by `cargo xtask browser`; a screenshot of every page visited goes to
// ARTIFACTS_DIR/admin_passkeys/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  artifactsFor,
  launch,
  pageWithAuthenticator as withAuthenticator,
  stack,
} from './support.mjs';

const artifacts = artifactsFor('admin_passkeys');
const TIMEOUT = 120_000;
const KEY_NAME = 'Build laptop';

let browser;
let opened;

before(async () => {
  browser = await launch();
});

after(async () => {
  // Whatever happened, the administrator leaves without a factor: the account page's reset,
  // reached through the passkey if the session still owes it.
  if (opened) {
    const { page } = opened;
    await page.goto(`${stack.domain}/dashboard/account`).catch(() => {});
    if (new URL(page.url()).pathname === '/dashboard/mfa') {
      await page.click('#use-key').catch(() => {});
      await page.waitForURL((url) => url.pathname !== '/dashboard/mfa').catch(() => {});
      await page.goto(`${stack.domain}/dashboard/account`).catch(() => {});
    }
    if (await page.locator('#remove-mfa').count()) {
      await page.click('#remove-mfa');
      await page.waitForSelector('.flash');
    }
  }
  await browser?.close();
});

/** A page whose browser holds a virtual platform authenticator. */
const pageWithAuthenticator = (name) => withAuthenticator(browser, artifacts, name);

/** The dashboard's sign-in form, with the stack's administrator's password. */
async function signInWithPassword(page, shot) {
  await page.goto(`${stack.domain}/dashboard/signin`);
  await page.fill('#email', stack.admin.email);
  await page.fill('#password', stack.admin.password);
  await shot('signin');
  await page.click('button[type=submit]');
  await page.waitForURL((url) => url.pathname !== '/dashboard/signin');
}

test('an administrator enrols a passkey and signs in with the password and the passkey', { timeout: TIMEOUT }, async (t) => {
  opened = await pageWithAuthenticator('admin');
  const { page, shot, cdp, authenticatorId } = opened;

  await t.test('the administrator adds a passkey on their account page', async () => {
    await signInWithPassword(page, shot);
    assert.notEqual(new URL(page.url()).pathname, '/dashboard/mfa', 'no factor yet');
    await page.goto(`${stack.domain}/dashboard/account`);
    await page.waitForSelector('#add-key');
    await shot('account');
    await page.click('#add-key');
    await page.waitForSelector('#enrol-webauthn-platform');
    await page.fill('#key-name', KEY_NAME);
    await shot('add-key');
    await page.click('#enrol-webauthn-platform');
    await page.waitForSelector('#recovery-codes');
    assert.equal(await page.locator('#recovery-codes li').count(), 10);
    await shot('recovery-codes');
    await page.click('#continue');
    await page.waitForSelector('#key-list');
    assert.match(await page.textContent('#key-list'), new RegExp(KEY_NAME));
    await shot('account-with-key');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
  });

  await t.test('signed out, the next sign-in asks for the passkey after the password', async () => {
    await page.click('form[action="/dashboard/signout"] button');
    await page.waitForURL((url) => url.pathname === '/dashboard/signin');
    await shot('signed-out');
    await signInWithPassword(page, shot);
    assert.equal(new URL(page.url()).pathname, '/dashboard/mfa');
    await page.waitForSelector('#use-key');
    assert.equal(await page.locator('#code').count(), 0, 'no authenticator app enrolled');
    await shot('second-step');
    await page.click('#use-key');
    await page.waitForURL((url) => url.pathname !== '/dashboard/mfa');
    await page.waitForSelector('#admin-email');
    await shot('signed-in-with-passkey');
    await page.goto(`${stack.domain}/dashboard/logs`);
    await page.waitForSelector('text=Administrator second factor accepted');
    await shot('logs');
  });

  await t.test('the administrator removes their factors again', async () => {
    await page.goto(`${stack.domain}/dashboard/account`);
    await page.click('#remove-mfa');
    await page.waitForSelector('text=No passkey or security key yet.');
    await shot('account-reset');
  });
});
