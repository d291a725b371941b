// Multi-factor authentication in headless Chromium, through the spa-js sample: under the
// "always" policy (`PUT /api/v2/guardian/policies ["all-applications"]`) a user without a
// factor enrols TOTP on the spot after the password (QR code and key, a code computed from the
// key shown on the page, then the recovery codes shown once); back in the sample, the API call
// succeeds and the tokens say `amr: ["pwd", "mfa", "otp"]`. The next login asks for a code;
// a recovery code works once and is refused the second time. The policy and factors are put
// back at the end, so the other files see the default. Run by `cargo xtask browser`;
// screenshots go to ARTIFACTS_DIR/mfa/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TOTP } from 'otpauth';
import {
  artifactsFor,
  jwtClaims,
  launch,
  management,
  newPage,
  onHostedPage,
  requireMfa,
  resetMfa,
  stack,
} from './support.mjs';

const artifacts = artifactsFor('mfa');
const TIMEOUT = 120_000;
const PASSWORD = 'Correct-Horse-Battery-42';
const EXTERNAL_MESSAGE = 'Your access token was successfully validated!';
const FACTORS = ['otp', 'recovery-code'];

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

/** From the sample, the hosted login page with the password: the page that comes next. */
async function password(page, shot, email) {
  await page.goto(app.url);
  await page.waitForSelector('#btn-login:not([disabled])');
  await page.click('#btn-login');
  await onHostedPage(page, '/u/login');
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await shot('hosted-login');
  await page.click('button[type=submit]');
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

/** The recovery-code form of the second-factor page, submitted with `code`. */
async function useRecoveryCode(page, code) {
  await page.click('#use-recovery');
  await page.fill('#recovery_code', code);
  await page.click('#verify-recovery');
}

test('TOTP and recovery codes through the spa-js sample under the "always" policy', { timeout: TIMEOUT }, async (t) => {
  assert.ok(app, 'the stack runs a spa-js app');
  const email = `mfa-${Date.now()}@example.com`;
  await management('POST', 'users', { email, password: PASSWORD, connection: 'Username-Password-Authentication' });
  const { context, page, shot } = await newPage(browser, artifacts, 'totp');
  let totp;
  let recoveryCodes;

  await t.test('after the password, a user without a factor enrols TOTP on the spot', async () => {
    await password(page, shot, email);
    // The second-factor step offers enrolment to a user who has no factor yet.
    await onHostedPage(page, '/u/mfa');
    await page.waitForSelector('#qr');
    const secret = (await page.textContent('#secret')).replace(/\s+/g, '');
    totp = new TOTP({ secret, digits: 6, period: 30, algorithm: 'SHA1' });
    await shot('enrol');
    await page.fill('#code', '000000');
    await page.click('#confirm');
    await page.waitForSelector('#error');
    await shot('enrol-wrong-code');
    await page.fill('#code', totp.generate());
    await page.click('#confirm');
    await page.waitForSelector('#recovery-codes');
    recoveryCodes = await page.locator('#recovery-codes code').allTextContents();
    assert.equal(recoveryCodes.length, 10);
    await shot('recovery-codes');
    await page.click('#continue');
    await backInTheSample(page);
    await shot('logged-in');
  });

  await t.test('the API call succeeds, and the tokens carry amr', async () => {
    await page.click('#btn-call-api');
    await page.waitForFunction(
      (text) => document.getElementById('api-call-result').innerText.includes(text),
      EXTERNAL_MESSAGE,
    );
    await shot('api-call');
    const access = jwtClaims((await page.textContent('#ipt-access-token')).trim());
    assert.deepEqual(access.amr, ['pwd', 'mfa', 'otp'], JSON.stringify(access));
    const id = await page.evaluate(() => auth0.getIdTokenClaims());
    assert.deepEqual(id.amr, ['pwd', 'mfa', 'otp'], JSON.stringify(id));
  });

  await t.test('the next login asks for a code from the app', async () => {
    await logOut(page);
    await password(page, shot, email);
    await onHostedPage(page, '/u/mfa');
    await shot('code');
    // The enrolment used this time step's code, which is accepted once: the app's next code.
    await page.fill('#code', totp.generate({ timestamp: Date.now() + 30_000 }));
    await page.click('#verify');
    await backInTheSample(page);
  });

  await t.test('a recovery code works once', async () => {
    await logOut(page);
    await password(page, shot, email);
    await onHostedPage(page, '/u/mfa');
    await useRecoveryCode(page, recoveryCodes[0]);
    await backInTheSample(page);
    await shot('logged-in-recovery-code');

    await logOut(page);
    await password(page, shot, email);
    await onHostedPage(page, '/u/mfa');
    await useRecoveryCode(page, recoveryCodes[0]);
    await page.waitForSelector('#error');
    await onHostedPage(page, '/u/mfa');
    await shot('recovery-code-used');
  });

  await context.close();
});
