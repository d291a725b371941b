// The quickstart API switched to PS256 and then ES256 through the Management API: tokens from
// client_credentials carry the algorithm, node's `jose` verifies each against the JWKS, and
// the APIs of the stack accept them — the Rust sample API both, the seed's Express API
// (express-jwt 5 + jwks-rsa 1) PS256. jwks-rsa 1 reads only RSA keys from a JWKS, so that
// API cannot verify ES256 tokens at all; the test states it rather than skip it. The API is
// put back to RS256 at the end. Run by `cargo xtask browser` (no browser needed here).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

const stack = JSON.parse(readFileSync(process.env.PORTCULLIS_STACK, 'utf8'));

async function managementToken() {
  const { clientId, clientSecret, audience } = stack.management;
  const token = await clientCredentials(clientId, clientSecret, audience);
  return { token, audience };
}

async function clientCredentials(clientId, clientSecret, audience) {
  const response = await fetch(`${stack.domain}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, audience }),
  });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return body.access_token;
}

async function management(method, path, body) {
  const { token, audience } = await managementToken();
  const response = await fetch(`${audience}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  const answer = response.status === 204 ? null : await response.json();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

async function callApi(base, token) {
  const response = await fetch(`${base}/external`, { headers: { authorization: `Bearer ${token}` } });
  return response.status;
}

const api = encodeURIComponent(stack.audience);
let client;

after(async () => {
  await management('PATCH', `resource-servers/${api}`, { signing_alg: 'RS256' });
  if (client) await management('DELETE', `clients/${client.client_id}`);
});

test('PS256 and ES256 tokens verify with jose and at the APIs', async () => {
  client = await management('POST', 'clients', { name: 'Algorithms', app_type: 'non_interactive' });
  await management('POST', 'client-grants', {
    client_id: client.client_id,
    audience: stack.audience,
    scope: [stack.scope],
  });
  const jwks = createRemoteJWKSet(new URL(`${stack.domain}/.well-known/jwks.json`));
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
    const express = await callApi(stack.apis.express, token);
    if (alg === 'PS256') assert.equal(express, 200, 'Express API, PS256');
    else assert.notEqual(express, 200, 'Express API: jwks-rsa 1 finds no EC key');
  }
});
