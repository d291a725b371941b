// The full browser login flow against Portcullis, timed: /authorize -> login page -> POST the
// form -> /authorize -> callback with a code -> /oauth/token (PKCE). Sequential flows give the
// latency; CONCURRENCY parallel flows give flows per second.
// Usage: node login-flow.mjs BASE CLIENT_ID EMAIL PASSWORD COUNT CONCURRENCY
import { createHash, randomBytes } from 'node:crypto';

const [base, clientId, email, password, countText, concurrencyText] = process.argv.slice(2);
const count = Number(countText || 20);
const concurrency = Number(concurrencyText || 1);
const redirectUri = 'http://localhost:3000';
const b64url = (buffer) => buffer.toString('base64url');

function cookieJar() {
  const cookies = new Map();
  return {
    store(response) {
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const index = pair.indexOf('=');
        cookies.set(pair.slice(0, index), pair.slice(index + 1));
      }
    },
    header() {
      return [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    },
  };
}

async function oneFlow() {
  const jar = cookieJar();
  const get = async (url) => {
    const response = await fetch(new URL(url, base), { redirect: 'manual', headers: { cookie: jar.header() } });
    jar.store(response);
    return response;
  };
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  const query = new URLSearchParams({
    client_id: clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid profile email',
    audience: 'https://bench.example/api', state: b64url(randomBytes(12)), nonce: b64url(randomBytes(12)),
    code_challenge: challenge, code_challenge_method: 'S256',
  });
  const started = process.hrtime.bigint();
  const toLogin = await get(`/authorize?${query}`);
  const page = await get(toLogin.headers.get('location'));
  const html = await page.text();
  const field = (name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))[1].replaceAll('&amp;', '&').replaceAll('&#x2f;', '/');
  const form = new URLSearchParams({ email, password, csrf: field('csrf'), authorize_query: field('authorize_query') });
  const posted = await fetch(new URL('/u/login', base), {
    method: 'POST', redirect: 'manual', body: form,
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
  });
  jar.store(posted);
  if (posted.status !== 303) throw new Error(`login answered ${posted.status}`);
  const back = await get(posted.headers.get('location'));
  const code = new URL(back.headers.get('location')).searchParams.get('code');
  const token = await fetch(new URL('/oauth/token', base), {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: clientId, code, code_verifier: verifier, redirect_uri: redirectUri }),
  });
  if (token.status !== 200) throw new Error(`token answered ${token.status}`);
  await token.json();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const durations = [];
const wallStart = process.hrtime.bigint();
let next = 0;
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < count) {
    next += 1;
    durations.push(await oneFlow());
  }
}));
const wallSeconds = Number(process.hrtime.bigint() - wallStart) / 1e9;
durations.sort((a, b) => a - b);
const at = (q) => durations[Math.min(durations.length - 1, Math.floor(q * durations.length))];
console.log(JSON.stringify({ flows: durations.length, p50_ms: at(0.5), p95_ms: at(0.95), flows_per_s: durations.length / wallSeconds }));
