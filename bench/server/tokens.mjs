// client_credentials token requests, timed: COUNT requests (or as many as fit in a duration such
// as "10s", or with "signal" until the process gets SIGTERM), CONCURRENCY at a time, one
// keep-alive connection each.
// Usage: node tokens.mjs BASE BODY COUNT CONCURRENCY
//   BODY: the form body of the token request (grant_type=client_credentials&client_id=...).
// Prints one JSON line: requests, ok (200s), statuses (count per status; "error" for a failed
// connection), p50_ms, p99_ms, max_ms.
const [base, body, countText, concurrencyText] = process.argv.slice(2);
const seconds = /^\d+(\.\d+)?s$/.test(countText || '') ? Number(countText.slice(0, -1)) : null;
const untilSignal = countText === 'signal';
const count = seconds === null && !untilSignal ? Number(countText || 1000) : Infinity;
const concurrency = Number(concurrencyText || 4);
const deadline = seconds === null ? null : process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
let signalled = false;
process.on('SIGTERM', () => { signalled = true; });
const more = () => !signalled && (deadline === null ? started < count : process.hrtime.bigint() < deadline);

const durations = [];
const statuses = {};
let started = 0;
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (more()) {
    started += 1;
    const begin = process.hrtime.bigint();
    let status;
    try {
      const response = await fetch(`${base}/oauth/token`, {
        method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      await response.arrayBuffer();
      status = response.status;
    } catch {
      status = 'error';
    }
    durations.push(Number(process.hrtime.bigint() - begin) / 1e6);
    statuses[status] = (statuses[status] || 0) + 1;
  }
}));
durations.sort((a, b) => a - b);
const quantile = (q) => durations[Math.min(durations.length - 1, Math.floor(q * durations.length))];
console.log(JSON.stringify({
  requests: durations.length, ok: statuses[200] || 0, statuses,
  p50_ms: quantile(0.5), p99_ms: quantile(0.99), max_ms: durations[durations.length - 1],
}));
