// The quickstart API switched to PS256 and then ES256 through the Management API: tokens from
// client_credentials carry the algorithm, node's `jose` verifies each against the JWKS, and
// the Rust sample API and the modern Express API (`samples/express-api-modern`: express-jwt 8 +
// jwks-rsa 3, started here) accept them. The seed's Express API (express-jwt 5 + jwks-rsa 1 +
// jsonwebtoken 8) refuses both, as those versions do; the test states it rather than skip it.
// A forged token (a key of its own under the API's `kid`) and one of an algorithm the APIs do
// not take (HS256 keyed with the RSA public key, the classic confusion) are refused by all.
// The API is put back to RS256 at the end. Run by `cargo xtask browser` (no browser needed here).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT, createRemoteJWKSet, decodeProtectedHeader, exportSPKI, generateKeyPair, importJWK, jwtVerify } from 'jose';
import { artifactsFor, clientCredentials, jwtClaims, management, stack } from './support.mjs';

async function callApi(base, token) {
  const response = await fetch(`${base}/external`, { headers: { authorization: `Bearer ${token}` } });
  return response.status;
}

/** The modern Express API on a free port, with the stack's issuer and audience. */
function startModernExpress() {
  const artifacts = artifactsFor('algorithms');
  const config = join(artifacts, 'express-api-modern.json');
  writeFileSync(config, JSON.stringify({ domain: stack.domain, audience: stack.audience }));
  const sample = join(dirname(fileURLToPath(import.meta.url)), '..', 'express-api-modern');
  const child = spawn(process.execPath, ['index.js'], {
    cwd: sample,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', AUTH_CONFIG: config },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`express-api-modern exited (${code})`)));
    child.stdout.on('data', (chunk) => {
      const address = /running on (http:\/\/\S+)/.exec(chunk.toString())?.[1];
      if (address) resolve(`${address}/api`);
    });
  });
  return { child, url };
}

const api = encodeURIComponent(stack.audience);
let client;
let modern;

after(async () => {
  modern?.child.kill();
  await management('PATCH', `resource-servers/${api}`, { signing_alg: 'RS256' });
  if (client) await management('DELETE', `clients/${client.client_id}`);
});

test('PS256 and ES256 tokens verify with jose and at the APIs', { timeout: 90_000 }, async () => {
  modern = startModernExpress();
  const modernApi = await modern.url;
  client = await management('POST', 'clients', { name: 'Algorithms', app_type: 'non_interactive' });
  await management('POST', 'client-grants', {
    client_id: client.client_id,
    audience: stack.audience,
    scope: [stack.scope],
  });
  const jwks = createRemoteJWKSet(new URL(`${stack.domain}/.well-known/jwks.json`));
  const published = (await (await fetch(`${stack.domain}/.well-known/jwks.json`)).json()).keys;
  // Every algorithm's keys are published from the server's first start, so the guards of the
  // running APIs, which fetched the JWKS during the earlier files, already know them.
  for (const alg of ['PS256', 'ES256']) {
    const updated = await management('PATCH', `resource-servers/${api}`, { signing_alg: alg });
    assert.equal(updated.signing_alg, alg);
    const token = await clientCredentials(client.client_id, client.client_secret, stack.audience);
    assert.equal(decodeProtectedHeader(token).alg, alg);
    // jose checks the JWK's `alg` against the token's, so each key verifies its own algorithm.
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: stack.issuer,
      audience: stack.audience,
      algorithms: [alg],
    });
    assert.equal(protectedHeader.alg, alg);
    assert.equal(payload.sub, `${client.client_id}@clients`);
    assert.equal(await callApi(stack.apis.rust, token), 200, `Rust sample API, ${alg}`);
    assert.equal(await callApi(modernApi, token), 200, `modern Express API, ${alg}`);
    // The seed's Express API cannot take either: jwks-rsa 1's expressJwtSecret hands
    // express-jwt a key for RS256 tokens only, and loads only RSA keys from the JWKS. A team
    // moving an API to PS256 or ES256 upgrades that stack (samples/express-api-modern).
    assert.notEqual(await callApi(stack.apis.express, token), 200, `Express API, ${alg}`);

    // Forged: the same claims signed by a key of the forger's own, under the API's `kid`.
    const { privateKey } = await generateKeyPair(alg);
    const forged = await new SignJWT(jwtClaims(token))
      .setProtectedHeader({ alg, kid: protectedHeader.kid, typ: 'JWT' })
      .sign(privateKey);
    await assert.rejects(jwtVerify(forged, jwks, { issuer: stack.issuer, audience: stack.audience }));
    assert.equal(await callApi(stack.apis.rust, forged), 401, `Rust sample API, forged ${alg}`);
    assert.equal(await callApi(modernApi, forged), 401, `modern Express API, forged ${alg}`);
  }

  // The wrong algorithm: HS256 keyed with the published RSA public key, as an attacker who
  // hopes the API verifies HMAC with whatever key the `kid` names.
  const rsaJwk = published.find((key) => key.kty === 'RSA');
  const pem = await exportSPKI(await importJWK(rsaJwk, rsaJwk.alg));
  const confused = await new SignJWT({ sub: 'attacker', scope: stack.scope })
    .setProtectedHeader({ alg: 'HS256', kid: rsaJwk.kid, typ: 'JWT' })
    .setIssuer(stack.issuer)
    .setAudience(stack.audience)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(pem));
  assert.equal(await callApi(stack.apis.rust, confused), 401, 'Rust sample API, HS256 with the public key');
  assert.equal(await callApi(modernApi, confused), 401, 'modern Express API, HS256 with the public key');
});
