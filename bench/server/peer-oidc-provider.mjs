// The reference peer: node-oidc-provider issuing JWT access tokens through client_credentials for
// two APIs, one signed RS256 and one ES256 (P-256), configured the way an Auth0-style deployment
// would be (RFC 8707 resource indicators, one confidential client). Loopback only.
// Usage: node peer-oidc-provider.mjs PORT
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 4100);
const audiences = { 'https://bench.example/api': 'RS256', 'https://bench.example/api-es256': 'ES256' };
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const signingKeys = [
  { ...rsa.export({ format: 'jwk' }), kid: 'peer-rs256', alg: 'RS256', use: 'sig' },
  { ...ec.export({ format: 'jwk' }), kid: 'peer-es256', alg: 'ES256', use: 'sig' },
];

const provider = new Provider(`http://127.0.0.1:${port}`, {
  jwks: { keys: signingKeys },
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
      defaultResource: () => 'https://bench.example/api',
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        const alg = audiences[indicator];
        if (!alg) throw new Error('unknown resource');
        return { scope: 'read:messages', audience: indicator, accessTokenTTL: 86400, accessTokenFormat: 'jwt', jwt: { sign: { alg } } };
      },
    },
  },
});

provider.listen(port, '127.0.0.1', () => console.log(`peer ready on 127.0.0.1:${port} pid ${process.pid}`));
