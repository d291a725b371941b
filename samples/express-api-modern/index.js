// Starts server.js: PORT (default 3000; 0 picks a free port) on HOST (default 127.0.0.1), and
// prints the address it listens on. Stops on SIGINT and SIGTERM.
const app = require("./server");

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || "127.0.0.1";

const server = app.listen(port, host, () => {
  console.log(`Application running on http://${host}:${server.address().port}`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
