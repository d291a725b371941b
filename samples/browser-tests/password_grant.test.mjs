// auth0.js's password-realm login (`webAuth.client.login({ realm })`) from the auth0js sample's
// page, in headless Chromium, for users imported from an Auth0 export: the test makes the
// users' bcrypt hashes with a reference implementation (`bcryptjs`, one `$2a$`, one `$2b$`),
// imports them through `POST /api/v2/jobs/users-imports`, turns the password-realm grant on for
// the sample's application through the Management API (it is off by default), and logs each
// user in from the page: the access token gets 200 from the Rust sample API; a wrong password
// gets auth0.js's error; the first login rehashes the password, and the next logins with the
// original password still work. The application's grants are put back at the end. Run by
// `cargo xtask browser`; screenshots go to ARTIFACTS_DIR/password_grant/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { artifactsFor, clientCredentials, jwtClaims, launch, management, newPage, stack } from './support.mjs';

const artifacts = artifactsFor('password_grant');
const REALM = 'Username-Password-Authentication';
const REALM_GRANT = 'http://auth0.com/oauth/grant-type/password-realm';
const TIMEOUT = 120_000;

const app = stack.apps.find((candidate) => candidate.sample === 'auth0js' && candidate.api === 'rust');
const run = Date.now();
let browser;
let grantsBefore;

/**
 * A bcrypt hash in the spelling `minor` (`a` or `b`), made by bcryptjs: it writes `$2b$`
 * salts, and hashes under the salt it is given, so a `$2a$` salt gives a `$2a$` hash.
 */
function bcryptHash(password, minor) {
  const salt = bcrypt.genSaltSync(10).replace(/^\$2b\$/, `$2${minor}$`);
  const hash = bcrypt.hashSync(password, salt);
  assert.ok(hash.startsWith(`$2${minor}$10$`), hash);
  assert.ok(bcrypt.compareSync(password, hash));
  return hash;
}

/** Imported users: Auth0's export format, passwords known only to the test. */
const users = [
  {
    user_id: `auth0|import-${run}-a`,
    email: `imported-a-${run}@example.com`,
    email_verified: true,
    name: 'Ada Imported',
    app_metadata: { plan: 'gold' },
    password: 'Analytical-Engine-1843',
    minor: 'a',
  },
  {
    user_id: `import-${run}-b`,
    email: `imported-b-${run}@example.com`,
    email_verified: false,
    name: 'Grace Imported',
    password: 'Compiler-A0-1952',
    minor: 'b',
  },
];

/** `POST /api/v2/jobs/users-imports` with `file` as the `users` part: the job. */
async function importUsers(file, connectionId) {
  const { clientId, clientSecret, audience } = stack.management;
  const token = await clientCredentials(clientId, clientSecret, audience);
  const form = new FormData();
  form.append('users', new Blob([file], { type: 'application/json' }), 'users.json');
  form.append('connection_id', connectionId);
  form.append('external_id', `browser-${run}`);
  const response = await fetch(`${audience}jobs/users-imports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const job = await response.json();
  assert.equal(response.status, 202, JSON.stringify(job));
  return job;
}

before(async () => {
  assert.ok(app, 'the stack runs an auth0js app with the Rust API');
  browser = await launch();
  const client = await management('GET', `clients/${app.clientId}`);
  grantsBefore = client.grant_types;
});

after(async () => {
  if (grantsBefore) await management('PATCH', `clients/${app.clientId}`, { grant_types: grantsBefore });
  await browser?.close();
});

/** Calls `webAuth.client.login(options, callback)` in the page; `{ error, result }`. */
function clientLogin(page, options) {
  return page.evaluate(
    (options) =>
      new Promise((resolve) => {
        window.webAuth.client.login(options, (error, result) => {
          // Shown on the page for the screenshot.
          document.getElementById('login-status').innerText = error
            ? `webAuth.client.login: ${error.statusCode} ${error.code}: ${error.description}`
            : `webAuth.client.login: ${result.tokenType} token for ${options.username}, expires in ${result.expiresIn} s`;
          resolve({ error: error && JSON.parse(JSON.stringify(error)), result });
        });
      }),
    options,
  );
}

/** The sample API's `/private` with the token, from the page: its status and message. */
function callPrivate(page, accessToken) {
  return page.evaluate(
    async ([apiUrl, accessToken]) => {
      const response = await fetch(`${apiUrl}/private`, { headers: { authorization: `Bearer ${accessToken}` } });
      const body = await response.json().catch(() => null);
      document.getElementById('btn-ping-view').click();
      document.getElementById('ping-message').innerText = `GET /api/private: ${response.status} ${body?.message ?? ''}`;
      return { status: response.status, message: body?.message };
    },
    [app.apiUrl, accessToken],
  );
}

test('auth0.js client.login with a realm, for users imported with bcrypt hashes', { timeout: TIMEOUT }, async (t) => {
  const { context, page, shot } = await newPage(browser, artifacts, 'realm');
  const login = (user, password) =>
    clientLogin(page, {
      realm: REALM,
      username: user.email,
      password,
      audience: stack.audience,
      scope: 'openid profile email',
    });
  try {
    await t.test('the users import from an Auth0 export with bcrypt hashes', async () => {
      const [connection] = await management('GET', 'connections');
      assert.equal(connection.name, REALM);
      const file = JSON.stringify(
        users.map(({ password, minor, ...user }) => ({ ...user, password_hash: bcryptHash(password, minor) })),
      );
      const job = await importUsers(file, connection.id);
      assert.equal(job.type, 'users_import');
      const done = await management('GET', `jobs/${job.id}`);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.summary, { failed: 0, updated: 0, inserted: 2, total: 2 });
      const [ada] = await management('GET', `users-by-email?email=${encodeURIComponent(users[0].email)}`);
      assert.equal(ada.user_id, users[0].user_id);
      assert.equal(ada.app_metadata.plan, 'gold');
    });

    await page.goto(app.url);
    await page.waitForSelector('body[data-ready=true]');

    await t.test('the grant is off until the application lists it', async () => {
      const { error, result } = await login(users[0], users[0].password);
      assert.equal(result, undefined);
      assert.equal(error.code, 'unauthorized_client', JSON.stringify(error));
      assert.equal(error.statusCode, 400);
      await shot('grant-off');
      const updated = await management('PATCH', `clients/${app.clientId}`, {
        grant_types: [...grantsBefore, REALM_GRANT],
      });
      assert.ok(updated.grant_types.includes(REALM_GRANT));
    });

    for (const user of users) {
      await t.test(`$2${user.minor}$: a wrong password gets auth0.js's error`, async () => {
        const { error, result } = await login(user, 'not the password');
        assert.equal(result, undefined);
        assert.equal(error.statusCode, 400, JSON.stringify(error));
        assert.equal(error.code, 'invalid_grant');
        assert.equal(error.description, 'Wrong email or password.');
        await shot(`2${user.minor}-wrong-password`);
      });

      await t.test(`$2${user.minor}$: the original password logs in, the token calls the API`, async () => {
        const { error, result } = await login(user, user.password);
        assert.equal(error, null, JSON.stringify(error));
        assert.equal(result.tokenType, 'Bearer');
        assert.ok(result.idToken);
        const claims = jwtClaims(result.accessToken);
        assert.equal(claims.sub, user.user_id.startsWith('auth0|') ? user.user_id : `auth0|${user.user_id}`);
        assert.ok([claims.aud].flat().includes(stack.audience));
        assert.equal(jwtClaims(result.idToken).email, user.email);
        const answer = await callPrivate(page, result.accessToken);
        assert.equal(answer.status, 200);
        assert.match(answer.message, /private endpoint/i);
        await shot(`2${user.minor}-api-called`);
      });

      await t.test(`$2${user.minor}$: after the rehash, the original password still works, a wrong one not`, async () => {
        const refused = await login(user, 'not the password either');
        assert.equal(refused.error.code, 'invalid_grant');
        for (let again = 0; again < 2; again += 1) {
          const { error, result } = await login(user, user.password);
          assert.equal(error, null, JSON.stringify(error));
          assert.equal((await callPrivate(page, result.accessToken)).status, 200);
        }
        await shot(`2${user.minor}-again`);
      });
    }

    await t.test('the hosted login page takes the original password too', async () => {
      const user = users[1];
      await page.click('#btn-home-view');
      await page.click('#qsLoginBtn');
      await page.waitForURL((url) => url.origin === stack.domain && url.pathname === '/u/login');
      await page.fill('#email', user.email);
      await page.fill('#password', user.password);
      await shot('hosted-login');
      await page.click('button[type=submit]');
      await page.waitForURL((url) => url.origin === app.url);
      await page.waitForSelector('#qsLogoutBtn:visible');
      await shot('hosted-logged-in');
    });
  } finally {
    await context.close();
  }
});
