// The full browser login flow against Portcullis, timed: /authorize -> login page -> POST the
// form -> /authorize -> callback with a code -> /oauth/token (PKCE). Sequential flows give the
// latency; CONCURRENCY parallel flows give flows per second.
// Usage: node login-flow.mjs BASES CLIENT_ID EMAIL PASSWORD COUNT CONCURRENCY
//   BASES: one base URL, or several separated by commas: then every request goes to the next
//          one in turn (round robin, as a load balancer without sticky sessions would send it),
//          so the steps of one flow land on different servers.
//   COUNT: a number of flows, or a duration such as "10s": flows are started until it has
//          passed, and the ones under way are finished.
// Prints one JSON line: flows (completed), failed, p50_ms, p95_ms, flows_per_s.
import { createHash, randomBytes } from 'node:crypto';

const [basesText, clientId, email, password, countText, concurrencyText] = process.argv.slice(2);
const bases = basesText.split(',');
const seconds = /^\d+(\.\d+)?s$/.test(countText || '') ? Number(countText.slice(0, -1)) : null;
const count = seconds === null ? Number(countText || 20) : Infinity;
const concurrency = Number(concurrencyText || 1);
const redirectUri = 'http://localhost:3000';
const b64url = (buffer) => buffer.toString('base64url');

let turn = 0;
// The URL of a path (or of a Location header) on the next server in turn.
const at = (url) => {
  const { pathname, search } = new URL(url, bases[0]);
  const base = bases[turn++ % bases.length];
  return new URL(pathname + search, base);
};

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
    const response = await fetch(at(url), { redirect: 'manual', headers: { cookie: jar.header() } });
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
  if (toLogin.status !== 302) throw new Error(`authorize answered ${toLogin.status}`);
  const page = await get(toLogin.headers.get('location'));
  const html = await page.text();
  const field = (name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))[1].replaceAll('&amp;', '&').replaceAll('&#x2f;', '/');
  const form = new URLSearchParams({ email, password, csrf: field('csrf'), authorize_query: field('authorize_query') });
  const posted = await fetch(at('/u/login'), {
    method: 'POST', redirect: 'manual', body: form,
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
  });
  jar.store(posted);
  if (posted.status !== 303) throw new Error(`login answered ${posted.status}`);
  const back = await get(posted.headers.get('location'));
  const code = new URL(back.headers.get('location')).searchParams.get('code');
  if (!code) throw new Error(`authorize after login answered ${back.status} without a code`);
  const token = await fetch(at('/oauth/token'), {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: clientId, code, code_verifier: verifier, redirect_uri: redirectUri }),
  });
  if (token.status !== 200) throw new Error(`token answered ${token.status}`);
  await token.json();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const durations = [];
const failures = [];
const wallStart = process.hrtime.bigint();
const deadline = seconds === null ? null : wallStart + BigInt(Math.round(seconds * 1e9));
let started = 0;
const more = () => (deadline === null ? started < count : process.hrtime.bigint() < deadline);
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (more()) {
    started += 1;
    try {
      durations.push(await oneFlow());
    } catch (error) {
      failures.push(String(error.message || error));
    }
  }
}));
const wallSeconds = Number(process.hrtime.bigint() - wallStart) / 1e9;
if (failures.length) console.error(`login-flow: ${failures.length} failed, first: ${failures[0]}`);
durations.sort((a, b) => a - b);
const quantile = (q) => durations[Math.min(durations.length - 1, Math.floor(q * durations.length))];
console.log(JSON.stringify({
  flows: durations.length, failed: failures.length, p50_ms: quantile(0.5), p95_ms: quantile(0.95),
  flows_per_s: durations.length / wallSeconds,
}));
