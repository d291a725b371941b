// auth0-spa-js 2 with `useDpop: true` in Chromium, against the Rust sample API. The page
// (`pages/dpop.html`) is served by this file on a loopback port of its own, for an SPA
// application made here through the Management API. It logs in on the hosted page; the code
// exchange carries a DPoP proof (and goes through the server's `use_dpop_nonce` round trip),
// so the access token is bound to the browser's key (`cnf.jkt`, `token_type: DPoP`); the SDK's
// `createFetcher().fetchWithAuth` calls the API with `Authorization: DPoP` and a proof, which
// the API accepts. The same token is then refused as a Bearer token, with a proof made by
// another key (a stolen token), and with the browser's own proof replayed.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT, calculateJwkThumbprint, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { artifactsFor, jwtClaims, launch, management, newPage, onHostedPage, stack } from './support.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const spaJs = join(
  dirname(createRequire(import.meta.url).resolve('@auth0/auth0-spa-js/package.json')),
  'dist',
  'auth0-spa-js.production.js',
);
const artifacts = artifactsFor('dpop');
const apiUrl = stack.apis.rust;

/** Serves the page and the SDK on 127.0.0.1; resolves to the server and its origin. */
function servePage() {
  const files = {
    '/auth0-spa-js.production.js': ['text/javascript', readFileSync(spaJs)],
    '/': ['text/html; charset=utf-8', readFileSync(join(here, 'pages', 'dpop.html'))],
  };
  const server = createServer((request, response) => {
    const [type, body] = files[new URL(request.url, 'http://localhost').pathname] || files['/'];
    response.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
    response.end(body);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://localhost:${server.address().port}` }));
  });
}

/** A DPoP proof for `GET url` naming `token`, by `key` (a jose key pair). */
async function proofBy(key, url, token) {
  const jwk = await exportJWK(key.publicKey);
  return new SignJWT({
    htm: 'GET',
    htu: url,
    jti: randomUUID(),
    ath: createHash('sha256').update(token).digest('base64url'),
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
    .setIssuedAt()
    .sign(key.privateKey);
}

async function callApi(headers) {
  const response = await fetch(`${apiUrl}/external`, { headers });
  return { status: response.status, body: await response.json().catch(() => null) };
}

let site;
let client;
let browser;

after(async () => {
  await browser?.close();
  site?.server.close();
  if (client) await management('DELETE', `clients/${client.client_id}`);
});

test('auth0-spa-js 2 with useDpop calls the Rust sample API with a bound token', { timeout: 120_000 }, async () => {
  site = await servePage();
  client = await management('POST', 'clients', {
    name: 'DPoP SPA (auth0-spa-js 2)',
    app_type: 'spa',
    token_endpoint_auth_method: 'none',
    callbacks: [`${site.origin}/`],
    allowed_logout_urls: [`${site.origin}/`],
    web_origins: [site.origin],
    allowed_origins: [site.origin],
  });
  browser = await launch();
  const { page, shot } = await newPage(browser, artifacts, 'spa-js-2-dpop');

  // Every call to the token endpoint and the API, with the headers the SDK sent.
  const calls = [];
  page.on('response', (response) => {
    const url = new URL(response.url());
    const request = response.request();
    if (request.method() === 'OPTIONS') return;
    if (url.pathname === '/oauth/token' || url.href.startsWith(apiUrl)) {
      calls.push(request.allHeaders().then((headers) => ({ path: url.pathname, status: response.status(), headers })));
    }
  });

  const query = new URLSearchParams({ domain: stack.domain, clientId: client.client_id, audience: stack.audience, apiUrl });
  await page.goto(`${site.origin}/?${query}`);
  await page.waitForSelector('#btn-login:not([disabled])');
  await shot('logged-out');
  await page.click('#btn-login');
  await onHostedPage(page, '/u/login');
  await page.fill('#email', stack.user.email);
  await page.fill('#password', stack.user.password);
  await shot('hosted-login-page');
  await page.click('button[type=submit]');
  await page.waitForURL((url) => url.origin === site.origin);
  await page.waitForSelector('#btn-call-api:not([disabled])');

  const result = await page.evaluate(() => window.callApi());
  await page.waitForFunction(() => document.getElementById('api-answer').textContent !== '-');
  await shot('api-called-with-dpop');

  // The code exchange: a proof on every attempt; the server asked for its nonce first.
  const seen = await Promise.all(calls);
  const exchanges = seen.filter((call) => call.path === '/oauth/token');
  assert.deepEqual(exchanges.map((call) => call.status), [400, 200], JSON.stringify(exchanges.map((c) => c.status)));
  for (const exchange of exchanges) assert.ok(exchange.headers.dpop, 'the token request carries a DPoP proof');
  assert.ok(jwtClaims(exchanges[1].headers.dpop).nonce, 'the retried proof carries the server nonce');

  // The token is bound to the browser's key, the one the SDK signs its proofs with.
  assert.equal(result.tokenType, 'DPoP');
  const token = result.accessToken;
  const claims = jwtClaims(token);
  assert.ok([].concat(claims.aud).includes(stack.audience), JSON.stringify(claims.aud));
  const browserProof = await page.evaluate(async () => (await window.ready).generateDpopProof({ url: 'http://localhost/', method: 'GET' }));
  assert.equal(claims.cnf?.jkt, await calculateJwkThumbprint(decodeProtectedHeader(browserProof).jwk));

  // The API accepted it with the SDK's proof for this very request.
  assert.equal(result.status, 200, JSON.stringify(result.body));
  assert.equal(result.body.msg, 'Your access token was successfully validated!');
  const apiCall = seen.find((call) => call.path === '/api/external');
  assert.equal(apiCall.headers.authorization, `DPoP ${token}`);
  const apiProof = jwtClaims(apiCall.headers.dpop);
  assert.equal(apiProof.htm, 'GET');
  assert.equal(apiProof.htu, `${apiUrl}/external`);

  // A second call: a new proof, accepted again.
  const again = await page.evaluate(() => window.callApi());
  assert.equal(again.status, 200);

  // The bound token without a proof, as a Bearer token: refused.
  const bearer = await callApi({ authorization: `Bearer ${token}` });
  assert.equal(bearer.status, 401, 'a bound token is not a bearer token');
  // Stolen: the token with a proof made by another key. Refused.
  const thief = await generateKeyPair('ES256');
  const stolen = await callApi({
    authorization: `DPoP ${token}`,
    dpop: await proofBy(thief, `${apiUrl}/external`, token),
  });
  assert.equal(stolen.status, 401, 'a proof by another key');
  // The browser's own proof, replayed: each proof passes once.
  const replayed = await callApi({ authorization: `DPoP ${token}`, dpop: apiCall.headers.dpop });
  assert.equal(replayed.status, 401, 'a replayed proof');
  await page.evaluate(
    ([bearerStatus, stolenStatus, replayedStatus]) => {
      document.getElementById('api-answer').textContent +=
        ` | replayed elsewhere: as Bearer ${bearerStatus}, with another key's proof ${stolenStatus}, with the same proof again ${replayedStatus}`;
    },
    [bearer.status, stolen.status, replayed.status],
  );
  await shot('replays-refused');
});
