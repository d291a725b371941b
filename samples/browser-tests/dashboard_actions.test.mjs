// The dashboard's Actions in headless Chromium: the stack's administrator creates a post-login
// Action in Actions → Library, gives it a secret, writes code adding a namespaced claim to the
// ID and access tokens, runs it on the sample event in the Test panel and sees the claim, is
// shown the compiler's message for a script that does not compile, deploys it, and binds it in
// Actions → Triggers. Then a user logs in through the spa-js sample: the tokens of that real
// login (the code exchange's answer, decoded here) carry the claim. The binding and the Action
// are removed at the end through the Management API, so the other files' logins see no Action.
// Run by `cargo xtask browser`; screenshots go to ARTIFACTS_DIR/dashboard_actions/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { artifactsFor, jwtClaims, launch, management, newPage, onHostedPage, signInToDashboard, stack } from './support.mjs';

const artifacts = artifactsFor('dashboard_actions');
const TIMEOUT = 120_000;
const ACTION = 'Team claim';
const CLAIM = 'https://portcullis.example/team';
const CODE = `exports.onExecutePostLogin = async (event, api) => {
console.log('team for', event.user.email);
api.idToken.setCustomClaim('${CLAIM}', event.secrets.TEAM);
api.accessToken.setCustomClaim('${CLAIM}', event.secrets.TEAM);
};
`;
const BROKEN = `exports.onExecutePostLogin = async (event, api) => {
api.idToken.setCustomClaim('${CLAIM}',
};
`;

const app = stack.apps.find((candidate) => candidate.sample === 'spa-js');
let browser;
let actionId;

before(async () => {
  browser = await launch();
});

after(async () => {
  if (actionId) {
    await management('PATCH', 'actions/triggers/post-login/bindings', { bindings: [] }).catch(() => {});
    await management('DELETE', `actions/actions/${actionId}?force=true`).catch(() => {});
  }
  await browser?.close();
});

/** Types `text` into the code editor as a person would: its Enter keeps the indentation. */
async function typeCode(page, text) {
  await page.fill('#code', '');
  await page.focus('#code');
  await page.keyboard.type(text);
}

test('an Action written, tested, deployed and bound in the dashboard sets a claim of a real login', { timeout: TIMEOUT }, async () => {
  const admin = await newPage(browser, artifacts, 'admin');
  const { page, shot } = admin;
  await signInToDashboard(page);

  // Library → Create Action.
  await page.click('nav.nav a[href="/dashboard/actions/library"]');
  await page.waitForSelector('#actions-table');
  await shot('library-empty');
  await page.click('#create-action');
  await page.fill('#name', ACTION);
  await page.selectOption('#trigger', 'post-login');
  await shot('create-action');
  await page.click('#create');
  await page.waitForSelector('#action-name');
  actionId = (await page.textContent('#action-id')).trim();
  assert.match(await page.inputValue('#code'), /exports\.onExecutePostLogin = async \(event, api\) =>/);
  assert.match(await page.inputValue('#event'), /"email": "j\+smith@example\.com"/);
  assert.equal((await page.textContent('#action-status')).trim(), 'Draft');
  await shot('new-action');

  // A secret, whose value is never shown back.
  await page.fill('#secret_name', 'TEAM');
  await page.fill('#secret_value', 'blue');
  await page.click('#add-secret');
  await page.waitForSelector('#flash');
  const secrets = await page.textContent('#secrets');
  assert.match(secrets, /TEAM/);
  assert.doesNotMatch(secrets, /blue/);

  // The editor indents as code is typed.
  await typeCode(page, CODE);
  const typed = await page.inputValue('#code');
  assert.match(typed, /\n {2}console\.log\('team for', event\.user\.email\);/, typed);
  assert.match(typed, /\n\};\n$/, typed);

  // Test: the draft on the sample event.
  await page.click('#run-test');
  await page.waitForSelector('#test-result');
  await page.locator('#test-panel').scrollIntoViewIfNeeded();
  await shot('test-run');
  const commands = await page.textContent('#test-commands');
  assert.match(commands, /ID token claim\s*https:\/\/portcullis\.example\/team\s*"blue"/);
  assert.match(commands, /Access token claim/);
  assert.match(await page.textContent('#test-logs'), /log: team for j\+smith@example\.com/);

  // Deploy: a script that does not compile is refused with the compiler's message.
  await page.fill('#code', BROKEN);
  await page.click('#deploy');
  await page.waitForSelector('#code-error');
  assert.match(await page.textContent('#code-error'), /the code does not compile/);
  await shot('deploy-refused');
  await page.fill('#code', typed);
  await page.click('#deploy');
  await page.waitForSelector('#flash');
  assert.match(await page.textContent('#flash'), /Version 1 deployed/);
  assert.equal((await page.textContent('#action-status')).trim(), 'Deployed');
  await shot('deployed');
  await page.goto(`${stack.domain}/dashboard/actions/library`);
  await shot('library');

  // Triggers → Post Login: bind it.
  await page.click('nav.nav a[href="/dashboard/actions/triggers"]');
  await page.waitForSelector('#bindings-table');
  await page.selectOption('#action', actionId);
  await shot('trigger-before');
  await page.click('#add-binding');
  await page.waitForSelector(`#bindings-table tr[data-action="${ACTION}"]`);
  await shot('trigger-bound');
  await admin.context.close();

  // A real login through the spa-js sample: the code exchange's tokens carry the claim.
  const user = await newPage(browser, artifacts, 'login');
  const exchange = user.page.waitForResponse((response) =>
    new URL(response.url()).pathname === '/oauth/token' && response.request().method() === 'POST');
  await user.page.goto(app.url);
  await user.page.waitForSelector('#btn-login:not([disabled])');
  await user.page.click('#btn-login');
  await onHostedPage(user.page, '/u/login');
  await user.page.fill('#email', stack.user.email);
  await user.page.fill('#password', stack.user.password);
  await user.page.click('button[type=submit]');
  const answer = await exchange;
  assert.equal(answer.status(), 200);
  const tokens = await answer.json();
  assert.equal(jwtClaims(tokens.id_token)[CLAIM], 'blue', 'the ID token carries the claim');
  assert.equal(jwtClaims(tokens.access_token)[CLAIM], 'blue', 'the access token carries the claim');
  await user.page.waitForSelector('#btn-logout:not([disabled])');
  await user.page.waitForFunction(() => document.getElementById('ipt-user-profile').textContent.length > 0);
  assert.equal(JSON.parse(await user.page.textContent('#ipt-user-profile'))[CLAIM], 'blue');
  await user.shot('sample-profile');
  await user.context.close();
});
