// Logins with a session, timed: one browser signs in once with the form (argon2id), then
// completes COUNT logins one after another with prompt=none — /authorize answers the callback
// with a code at once (the post-login Actions run there, before the code), then /oauth/token
// (PKCE) — so no password hash is in the timing and an Action's cost is visible.
// Usage: node session-login.mjs BASE CLIENT_ID EMAIL PASSWORD COUNT
// Prints one JSON line: logins (completed), failed, p50_ms, p99_ms, claim (the access token's
// https://bench.example/tier claim of the last login, or null).
import { createHash, randomBytes } from 'node:crypto';

const [base, clientId, email, password, countText] = process.argv.slice(2);
const count = Number(countText || 200);
const redirectUri = 'http://localhost:3000';
const b64url = (buffer) => buffer.toString('base64url');
const cookies = new Map();
const store = (response) => {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const index = pair.indexOf('=');
    cookies.set(pair.slice(0, index), pair.slice(index + 1));
  }
};
const header = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
const get = async (url) => {
  const response = await fetch(new URL(url, base), { redirect: 'manual', headers: { cookie: header() } });
  store(response);
  return response;
};

function authorizeQuery(extra) {
  const verifier = b64url(randomBytes(32));
  const query = new URLSearchParams({
    client_id: clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid profile email',
    audience: 'https://bench.example/api', state: b64url(randomBytes(12)), nonce: b64url(randomBytes(12)),
    code_challenge: b64url(createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256',
    ...extra,
  });
  return { query, verifier };
}

async function redeem(location, verifier) {
  const code = new URL(location).searchParams.get('code');
  if (!code) throw new Error(`no code in ${location}`);
  const token = await fetch(new URL('/oauth/token', base), {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: clientId, code, code_verifier: verifier, redirect_uri: redirectUri }),
  });
  if (token.status !== 200) throw new Error(`token answered ${token.status}`);
  return token.json();
}

// The one form login that opens the session.
{
  const { query, verifier } = authorizeQuery({});
  const toLogin = await get(`/authorize?${query}`);
  const page = await get(toLogin.headers.get('location'));
  const html = await page.text();
  const field = (name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))[1].replaceAll('&amp;', '&').replaceAll('&#x2f;', '/');
  const form = new URLSearchParams({ email, password, csrf: field('csrf'), authorize_query: field('authorize_query') });
  const posted = await fetch(new URL('/u/login', base), {
    method: 'POST', redirect: 'manual', body: form,
    headers: { cookie: header(), 'content-type': 'application/x-www-form-urlencoded' },
  });
  store(posted);
  if (posted.status !== 303) throw new Error(`login answered ${posted.status}`);
  const back = await get(posted.headers.get('location'));
  await redeem(back.headers.get('location'), verifier);
}

const durations = [];
const failures = [];
let last = null;
for (let i = 0; i < count; i += 1) {
  try {
    const { query, verifier } = authorizeQuery({ prompt: 'none' });
    const started = process.hrtime.bigint();
    const answer = await get(`/authorize?${query}`);
    if (answer.status !== 302) throw new Error(`authorize answered ${answer.status}`);
    const tokens = await redeem(answer.headers.get('location'), verifier);
    durations.push(Number(process.hrtime.bigint() - started) / 1e6);
    last = tokens.access_token;
  } catch (error) {
    failures.push(String(error.message || error));
  }
}
if (failures.length) console.error(`session-login: ${failures.length} failed, first: ${failures[0]}`);
durations.sort((a, b) => a - b);
const quantile = (q) => durations[Math.min(durations.length - 1, Math.floor(q * durations.length))];
const claim = last
  ? JSON.parse(Buffer.from(last.split('.')[1], 'base64url').toString())['https://bench.example/tier'] ?? null
  : null;
console.log(JSON.stringify({
  logins: durations.length, failed: failures.length, p50_ms: quantile(0.5), p99_ms: quantile(0.99), claim,
}));
