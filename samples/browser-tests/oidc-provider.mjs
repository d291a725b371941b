// node-oidc-provider as an upstream identity provider for `connections.test.mjs`: an
// independent OpenID Connect implementation on a free 127.0.0.1 port, with its development
// login and consent pages (any login and password sign in as that login). The one client is
// the tenant under test, given by CLIENT_ID, CLIENT_SECRET and REDIRECT_URI. Prints its issuer
// as one JSON line once it listens.

import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const { CLIENT_ID, CLIENT_SECRET, REDIRECT_URI } = process.env;
const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // The ID token carries the scopes' claims, as most providers' do.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  cookies: { keys: ['browser-suite-only'] },
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: `${id}@oidc-provider.example`, email_verified: true, name: id }),
  }),
});
server.on('request', provider.callback());
console.log(JSON.stringify({ issuer }));
