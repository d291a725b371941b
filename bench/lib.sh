# Shell pieces shared by the server benchmarks (bench/server/run.sh, bench/replicas/run.sh,
# bench/flood/run.sh).
# Sourced, never run: it defines functions and constants and starts nothing.

# The tenant every benchmark creates; login-flow.mjs asks for BENCH_API and redirects to
# http://localhost:3000.
BENCH_API=https://bench.example/api
# The same API signed with ES256, for the benchmarks that compare algorithms.
BENCH_API_ES256=https://bench.example/api-es256
BENCH_EMAIL=bench@example.com
BENCH_PASSWORD='bench password 1'

ensure_wrk() {
  command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
}

# Builds the release binary of the workspace at $1 and sets BIN.
build_release() {
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/portcullis-target}"
  (cd "$1" && cargo build --release -q -p portcullis)
  BIN="$CARGO_TARGET_DIR/release/portcullis"
}

now_ms() { date +%s%3N; }
rss_kb() { ps -o rss= -p "$1" | tr -d ' '; }
# User + system clock ticks of a process (fields 14 and 15 of /proc/PID/stat, counted after the
# parenthesised command name, which may contain spaces).
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
# The same for a process tree one level deep: the process, the children it has reaped, and its
# live children (a PostgreSQL postmaster and its backends).
tree_cpu_ticks() {
  {
    sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13 + $14 + $15}'
    for child in $(ps -o pid= --ppid "$1"); do
      sed 's/^.*) //' "/proc/$child/stat" 2>/dev/null | awk '{print $12 + $13}' || true
    done
  } | awk '{s += $1} END {print s}'
}
# Waits for a URL to answer 2xx (at most 20 s); prints the milliseconds waited.
wait_ready() {
  local start; start=$(now_ms)
  until curl -sf --max-time 2 -o /dev/null "$1"; do
    if [ $(( $(now_ms) - start )) -gt 20000 ]; then echo "not ready: $1" >&2; return 1; fi
    sleep 0.01
  done
  echo $(( $(now_ms) - start ))
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
# A TCP port of 127.0.0.1 that was free a moment ago.
free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
column_of() { local n=$1; shift; for row in "$@"; do echo "$row" | awk -v n="$n" '{print $n}'; done; }
# Prints field $1 of the JSON object on standard input.
json_field() { node -e 'let s = ""; process.stdin.on("data", d => s += d).on("end", () => console.log(JSON.parse(s)[process.argv[1]]))' "$1"; }

# Creates the benchmark tenant (an API, an M2M client granted on it, an SPA, a user) through the
# caller's `cli` function (the portcullis CLI on the store under test), and its ES256 twin. Sets
# M2M_ID, M2M_SECRET, SPA_ID, TOKEN_BODY (a client_credentials request for token.lua) and
# TOKEN_BODY_ES256 (the same for the ES256 API).
create_tenant() {
  local m2m
  cli apis create --name Bench --identifier "$BENCH_API" --scopes read:messages >/dev/null
  cli apis create --name Bench-ES256 --identifier "$BENCH_API_ES256" --scopes read:messages \
    --signing-alg ES256 >/dev/null
  m2m=$(cli clients create --name bench-m2m --type m2m --grant "$BENCH_API=read:messages" \
    --grant "$BENCH_API_ES256=read:messages" --json)
  M2M_ID=$(echo "$m2m" | json_field client_id)
  M2M_SECRET=$(echo "$m2m" | json_field client_secret)
  SPA_ID=$(cli clients create --name bench-spa --type spa --callbacks http://localhost:3000 \
    --web-origins http://localhost:3000 --json | json_field client_id)
  cli users create --email "$BENCH_EMAIL" --password "$BENCH_PASSWORD" >/dev/null
  TOKEN_BODY="grant_type=client_credentials&client_id=$M2M_ID&client_secret=$M2M_SECRET&audience=$(node -p 'encodeURIComponent(process.argv[1])' "$BENCH_API")"
  TOKEN_BODY_ES256="grant_type=client_credentials&client_id=$M2M_ID&client_secret=$M2M_SECRET&audience=$(node -p 'encodeURIComponent(process.argv[1])' "$BENCH_API_ES256")"
}

# Runs a command in the background, its standard output into file $1, and waits for it: a
# trapped Ctrl-C then stops the script at once (for a foreground child, bash defers the trap
# until the child has exited, and drops it when the child handles SIGINT itself, as wrk does).
# CHILD holds its PID meanwhile, for the caller's cleanup.
CHILD=""
run_to() { local file=$1; shift; "$@" >"$file" & CHILD=$!; wait "$CHILD"; CHILD=""; }
