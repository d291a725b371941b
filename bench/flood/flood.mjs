// A login flood: COUNT wrong-password login POSTs sent at once, each for its own unknown account
// (so only the hashing bound and the address limit apply).
// Usage: node flood.mjs BASE CLIENT_ID COUNT
// Prints one JSON line: logins (per status, "error" for a failed connection: count, p50_ms,
// p99_ms, max_ms) and flood_ms (first POST to last answer).
const [base, clientId, countText] = process.argv.slice(2);
const count = Number(countText || 500);
// Node's fetch opens as many connections to one origin as there are requests under way, so
// the flood arrives together.

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const summary = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50_ms: quantile(sorted, 0.5), p99_ms: quantile(sorted, 0.99), max_ms: sorted[sorted.length - 1] };
};

// The login page once: its CSRF cookie and value serve every POST.
const query = new URLSearchParams({
  client_id: clientId, redirect_uri: 'http://localhost:3000', response_type: 'code', scope: 'openid',
  code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
});
const page = await fetch(`${base}/u/login?${query}`);
if (page.status !== 200) throw new Error(`login page answered ${page.status}`);
const cookie = page.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
const html = await page.text();
const field = (name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))[1].replaceAll('&amp;', '&').replaceAll('&#x2f;', '/');
const csrf = field('csrf');
const authorizeQuery = field('authorize_query');

async function login(n) {
  const body = new URLSearchParams({
    email: `flood${n}@example.com`, password: 'wrong password', csrf, authorize_query: authorizeQuery,
  });
  const begin = process.hrtime.bigint();
  let status;
  try {
    const response = await fetch(`${base}/u/login`, {
      method: 'POST', redirect: 'manual', body,
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    });
    await response.arrayBuffer();
    status = response.status;
  } catch {
    status = 'error';
  }
  return { status, ms: Number(process.hrtime.bigint() - begin) / 1e6 };
}

const started = process.hrtime.bigint();
const answers = await Promise.all(Array.from({ length: count }, (_, n) => login(n)));
const floodMs = Number(process.hrtime.bigint() - started) / 1e6;

const groups = {};
for (const { status, ms } of answers) (groups[status] ||= []).push(ms);
const logins = Object.fromEntries(Object.entries(groups).map(([status, ms]) => [status, summary(ms)]));
console.log(JSON.stringify({ logins, flood_ms: floodMs }));
