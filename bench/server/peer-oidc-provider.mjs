// The reference peer: node-oidc-provider issuing RS256 JWT access tokens for one API through
// client_credentials, configured the way an Auth0-style deployment would be (RFC 8707
// resource indicators, one confidential client). Loopback only.
// Usage: node peer-oidc-provider.mjs PORT
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 4100);
const audience = 'https://bench.example/api';
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'peer-rs256', alg: 'RS256', use: 'sig' };

const provider = new Provider(`http://127.0.0.1:${port}`, {
  jwks: { keys: [signingKey] },
  clients: [{
    client_id: 'bench-m2m',
    client_secret: 'bench-m2m-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== audience) throw new Error('unknown resource');
        return { scope: 'read:messages', audience, accessTokenTTL: 86400, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
      },
    },
  },
});

provider.listen(port, '127.0.0.1', () => console.log(`peer ready on 127.0.0.1:${port} pid ${process.pid}`));
