// A hostile OpenID provider for `connections.test.mjs`: on a free 127.0.0.1 port, one issuer
// per hostile mode (`http://127.0.0.1:PORT/<mode>`), each with its discovery document and
// JWKS. Its authorization endpoint answers at once (no login) with a code; its token
// endpoint answers an ID token signed with `jose`, wrong in the mode's one way:
//   nonce      another nonce than the one the request carried
//   issuer     another issuer than the document's
//   signature  signed with a key its JWKS does not publish
// The one client is the tenant under test, given by CLIENT_ID. Prints its base address as
// one JSON line once it listens.

import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

const { CLIENT_ID } = process.env;
const MODES = ['nonce', 'issuer', 'signature'];
const published = await generateKeyPair('ES256');
const foreign = await generateKeyPair('ES256');
const jwk = { ...(await exportJWK(published.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
/** code → the nonce its authorization request carried. */
const nonces = new Map();

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;

function json(response, body, status = 200) {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

async function idToken(mode, issuer, nonce) {
  const key = mode === 'signature' ? foreign.privateKey : published.privateKey;
  return new SignJWT({
    nonce: mode === 'nonce' ? 'not-the-requests-nonce' : nonce,
    email: `${mode}@hostile.example`,
    email_verified: true,
  })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(mode === 'issuer' ? 'https://evil.example' : issuer)
    .setSubject(`hostile-${mode}`)
    .setAudience(CLIENT_ID)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key);
}

server.on('request', async (request, response) => {
  const url = new URL(request.url, base);
  const [, mode, ...rest] = url.pathname.split('/');
  const path = rest.join('/');
  if (!MODES.includes(mode)) return json(response, { error: 'not_found' }, 404);
  const issuer = `${base}/${mode}`;
  if (path === '.well-known/openid-configuration') {
    return json(response, {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
    });
  }
  if (path === 'jwks') return json(response, { keys: [jwk] });
  if (path === 'authorize') {
    const code = randomUUID();
    nonces.set(code, url.searchParams.get('nonce'));
    const back = new URL(url.searchParams.get('redirect_uri'));
    back.searchParams.set('code', code);
    back.searchParams.set('state', url.searchParams.get('state'));
    response.writeHead(302, { location: back.href });
    return response.end();
  }
  if (path === 'token' && request.method === 'POST') {
    let body = '';
    for await (const chunk of request) body += chunk;
    const code = new URLSearchParams(body).get('code');
    if (!nonces.has(code)) return json(response, { error: 'invalid_grant' }, 400);
    const nonce = nonces.get(code);
    nonces.delete(code);
    return json(response, {
      access_token: randomUUID(),
      token_type: 'Bearer',
      expires_in: 60,
      id_token: await idToken(mode, issuer, nonce),
    });
  }
  return json(response, { error: 'not_found' }, 404);
});
console.log(JSON.stringify({ base }));
