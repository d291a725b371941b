// The end user's account in headless Chromium, through the spa-js sample (auth0-spa-js asks for
// `openid profile email` by default): sign up on the hosted page, open the verification link
// from the email, log in again and see `email_verified: true` in the profile the SDK shows
// (the ID token's claims); "Forgot password?" on the login page, open the reset link from the
// email, choose a new password, log in with it while the old one fails.
//
// The server delivers its emails over SMTP to a real SMTP server the suite runs
// (smtp-sink.mjs): the links are read from the message as it arrived, and the dashboard's
// Emails page, signed in as the stack's administrator, shows the same message as sent, with the
// same link. Run by `cargo xtask browser`; screenshots go to ARTIFACTS_DIR/account/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  artifactsFor,
  deliveredMail,
  launch,
  newPage,
  onHostedPage,
  serverLinks,
  signInToDashboard,
  stack,
} from './support.mjs';

const artifacts = artifactsFor('account');

const TIMEOUT = 120_000;
const VERIFY_SUBJECT = 'Verify your email';
const RESET_SUBJECT = 'Reset your password';

const app = stack.apps.find((candidate) => candidate.sample === 'spa-js');
let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

/** The sample's page, logged out. */
async function openSample(page) {
  await page.goto(app.url);
  await page.waitForSelector('#btn-login:not([disabled])');
}

/** The sample's page, whose SDK renews the session silently. */
async function openSampleLoggedIn(page) {
  await page.goto(app.url);
  await page.waitForSelector('#btn-logout:not([disabled])');
}

/** Back in the sample, logged in: the profile the SDK shows (auth0.getUser(), the ID token's claims). */
async function loggedInProfile(page) {
  await page.waitForURL((url) => url.origin === app.url);
  await page.waitForSelector('#btn-logout:not([disabled])');
  await page.waitForFunction(() => document.getElementById('ipt-user-profile').textContent.length > 0);
  return JSON.parse(await page.textContent('#ipt-user-profile'));
}

/** From the sample, the hosted login page's sign-up: the new user comes back logged in. */
async function signUp(page, shot, email, password) {
  await openSample(page);
  await shot('sample-logged-out');
  await page.click('#btn-login');
  await onHostedPage(page, '/u/login');
  await page.click('#signup-link');
  await onHostedPage(page, '/u/signup');
  await page.fill('#email', email);
  await page.fill('#password', password);
  await shot('hosted-signup');
  await page.click('button[type=submit]');
  return loggedInProfile(page);
}

/** From the sample, the hosted login page with these credentials. */
async function logIn(page, shot, email, password) {
  await openSample(page);
  await page.click('#btn-login');
  await onHostedPage(page, '/u/login');
  await page.fill('#email', email);
  await page.fill('#password', password);
  await shot('hosted-login');
  await page.click('button[type=submit]');
}

async function logOut(page) {
  await page.click('#btn-logout');
  await page.waitForURL((url) => url.origin === app.url);
  await page.waitForSelector('#btn-login:not([disabled])');
}

/**
 * The recipient's mailbox and the administrator's window on the dashboard: `linkFrom` reads the
 * one link of the newest message to `to` whose subject starts with `subject` as the SMTP server
 * received it, and checks that the dashboard's Emails page shows that message as sent.
 */
async function dashboard() {
  const { context, page, shot } = await newPage(browser, artifacts, 'dashboard');
  await signInToDashboard(page);

  async function linkFrom(to, subject, label) {
    const mail = await deliveredMail(to, subject);
    assert.deepEqual(mail.envelope.to, [to]);
    assert.match(mail.from, /no-reply@example\.com/);
    const delivered = serverLinks(mail.text);
    assert.equal(delivered.length, 1, `one link in the text: ${delivered}`);
    // The HTML part as a mail client shows it (its variables are escaped): the same link.
    await page.setContent(mail.html);
    const anchors = await page.locator('a[href]').evaluateAll((all) => all.map((a) => a.href));
    assert.deepEqual(serverLinks(anchors.join(' ')), delivered, 'the HTML part has the same link');

    const row = page.locator('#emails-table tbody tr', { hasText: subject }).first();
    // The message is written while the request is answered; the list may be read before.
    for (let attempt = 0; ; attempt += 1) {
      await page.goto(`${stack.domain}/dashboard/emails?to=${encodeURIComponent(to)}`);
      if ((await row.count()) > 0) break;
      assert.ok(attempt < 20, `no "${subject}" email to ${to} on the Emails page`);
      await page.waitForTimeout(250);
    }
    await shot(`${label}-emails`);
    await row.locator('a.cell-title').click();
    await page.waitForSelector('#email-subject');
    assert.match(await page.textContent('#email-subject'), new RegExp(`^${subject}`));
    assert.equal((await page.textContent('#email-to')).trim(), to);
    // Delivered: the queue marked it sent once the SMTP server accepted it.
    for (let attempt = 0; (await page.textContent('#email-status')).trim() !== 'sent'; attempt += 1) {
      assert.ok(attempt < 20, `the message is ${await page.textContent('#email-status')}, not sent`);
      await page.waitForTimeout(250);
      await page.reload();
    }
    const links = await page.locator('.email-link a').evaluateAll((anchors) => anchors.map((a) => a.href));
    assert.deepEqual(links, delivered, 'the dashboard shows the link that was delivered');
    await shot(`${label}-email`);
    // The message's HTML is a sandboxed frame, which Chromium draws in a process of its own
    // and leaves blank in a full-page screenshot: a picture of the frame itself shows it.
    const frame = page.locator('iframe.email-frame');
    await frame.scrollIntoViewIfNeeded();
    const body = await (await frame.elementHandle()).contentFrame();
    assert.match(await body.innerText('body'), new RegExp(subject));
    await frame.screenshot({ path: join(artifacts, `dashboard-${label}-email-html.png`) });
    return delivered[0];
  }

  return { context, linkFrom };
}

test('sign up, verify the address from the email, and the next login says email_verified', { timeout: TIMEOUT }, async (t) => {
  assert.ok(app, 'the stack runs a spa-js app');
  const { context, page, shot } = await newPage(browser, artifacts, 'verify');
  const admin = await dashboard();
  const email = `verify-${Date.now()}@example.com`;
  const password = 'a first passphrase 1';
  try {
    await t.test('the new user is logged in, not yet verified', async () => {
      const profile = await signUp(page, shot, email, password);
      assert.equal(profile.email, email);
      assert.equal(profile.email_verified, false);
      await shot('logged-in-unverified');
    });

    let link;
    await t.test('the verification email is delivered over SMTP, and shown sent on the dashboard', async () => {
      link = await admin.linkFrom(email, VERIFY_SUBJECT, 'verify');
      const url = new URL(link);
      assert.equal(url.origin, stack.domain);
      assert.equal(url.pathname, '/u/email-verification');
      assert.ok(url.searchParams.get('ticket'));
    });

    await t.test('the link verifies the address, once', async () => {
      await page.goto(link);
      assert.equal(await page.textContent('h1'), 'Email verified');
      await shot('email-verified');
      await page.goto(link);
      assert.equal(await page.textContent('h1'), 'Link not valid');
      await shot('link-used');
    });

    await t.test('logged in again, the ID token says email_verified: true', async () => {
      // Back in the sample (its session renewed silently), then out and in again.
      await openSampleLoggedIn(page);
      await logOut(page);
      await logIn(page, shot, email, password);
      const profile = await loggedInProfile(page);
      assert.equal(profile.email, email);
      assert.equal(profile.email_verified, true);
      const claims = await page.evaluate(() => auth0.getIdTokenClaims());
      assert.equal(claims.email_verified, true);
      await shot('logged-in-verified');
    });
  } finally {
    await context.close();
    await admin.context.close();
  }
});

test('forgot password: the reset link from the email sets a new password, the old one fails', { timeout: TIMEOUT }, async (t) => {
  const { context, page, shot } = await newPage(browser, artifacts, 'reset');
  const admin = await dashboard();
  const email = `reset-${Date.now()}@example.com`;
  const oldPassword = 'an old passphrase 1';
  const newPassword = 'a new passphrase 2';
  try {
    await signUp(page, shot, email, oldPassword);
    await logOut(page);

    await t.test('"Forgot password?" on the login page answers the same for any address', async () => {
      await page.click('#btn-login');
      await onHostedPage(page, '/u/login');
      await page.click('#forgot-link');
      await onHostedPage(page, '/u/forgot-password');
      await page.fill('#email', email);
      await shot('forgot-password');
      await page.click('button[type=submit]');
      await page.waitForSelector('#message');
      const answer = await page.textContent('#message');
      await shot('check-your-email');
      // An address nobody uses gets the same page.
      await page.goBack();
      await onHostedPage(page, '/u/forgot-password');
      await page.reload();
      await page.fill('#email', `nobody-${Date.now()}@example.com`);
      await page.click('button[type=submit]');
      await page.waitForSelector('#message');
      assert.equal(await page.textContent('#message'), answer);
    });

    let link;
    await t.test('the reset email is delivered over SMTP, and shown sent on the dashboard', async () => {
      link = await admin.linkFrom(email, RESET_SUBJECT, 'reset');
      const url = new URL(link);
      assert.equal(url.origin, stack.domain);
      assert.equal(url.pathname, '/u/reset-password');
    });

    await t.test('the reset page applies the password policy, then sets the new password', async () => {
      await page.goto(link);
      await page.waitForSelector('#password-rules');
      await shot('reset-form');
      // Under the policy's minimum length: the browser would refuse it before it is sent.
      await page.$eval('#password', (input) => input.removeAttribute('minlength'));
      await page.fill('#password', 'short');
      await page.click('button[type=submit]');
      await page.waitForSelector('#error');
      await shot('reset-refused');
      await page.fill('#password', newPassword);
      await page.click('button[type=submit]');
      await page.waitForSelector('#message');
      assert.equal(await page.textContent('h1'), 'Password changed');
      await shot('password-changed');
    });

    await t.test('the old password fails', async () => {
      await logIn(page, shot, email, oldPassword);
      await page.waitForSelector('#error');
      assert.equal(await page.textContent('#error'), 'Wrong email or password.');
      assert.equal(new URL(page.url()).origin, stack.domain);
      await shot('old-password-refused');
    });

    await t.test('the new password logs in', async () => {
      await logIn(page, shot, email, newPassword);
      const profile = await loggedInProfile(page);
      assert.equal(profile.email, email);
      await shot('logged-in-new-password');
    });
  } finally {
    await context.close();
    await admin.context.close();
  }
});
