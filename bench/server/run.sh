#!/usr/bin/env bash
# Token-endpoint benchmark: Portcullis against node-oidc-provider, side by side in one run.
#
# Prints client_credentials tokens/s (same wrk load for all, alternating rounds), CPU used and
# tokens per core-second, the same with a credentials-exchange Action that sets one claim, idle
# and loaded memory, the latency of a login with a session (prompt=none, then the code's
# exchange) with and without a post-login Action that sets one claim (and Portcullis's idle
# memory after a fixed
# workload of 100 logins and 1,000 tokens), start-to-ready time, and the latency and rate of the
# full browser login flow on Portcullis. Portcullis runs on the whole machine; the peer
# runs twice per round: pinned to one core, as the reference figures were taken (Node runs
# JavaScript on one thread; research/peers.md §4), and unpinned, where its libuv and GC threads
# spread over both cores.
# Loopback only; every process started here is stopped by its PID.
set -euo pipefail
cd "$(dirname "$0")"
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-16}
LOGINS=${LOGINS:-300} # sequential logins with a session per round, with and without an Action
PORT=${PORT:-4700}
PEER_PORT=${PEER_PORT:-4701}
SIGN_CEILING=3428 # aws-lc-rs RSA-2048 signatures/s on one core (research/validation.md §2)
. ../lib.sh

ensure_wrk
[ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null
build_release ../..
DATA=$(mktemp -d)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$DATA"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

cli() { PORTCULLIS_DATA_DIR="$DATA" "$BIN" "$@"; }
create_tenant

# The token endpoint's per-address limit (20,000/s by default) is off: all the load comes from
# one address here, and the figure sought is the server's, not the limit's.
start_portcullis() {
  PORTCULLIS_LOG=warn PORTCULLIS_RATE_LIMITS=token=0 "$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" --issuer "http://localhost:$PORT" >/dev/null 2>&1 &
  PORTCULLIS_PID=$!; PIDS+=("$PORTCULLIS_PID")
}
start_peer() { # [taskset cpu list]
  if [ -n "${1:-}" ]; then
    taskset -c "$1" node peer-oidc-provider.mjs "$PEER_PORT" >/dev/null 2>&1 &
  else
    node peer-oidc-provider.mjs "$PEER_PORT" >/dev/null 2>&1 &
  fi
  PEER_PID=$!; PIDS+=("$PEER_PID")
}

# Start-up: the first start generates the RSA keys; a restart finds them.
start_portcullis; FIRST_READY=$(wait_ready "http://127.0.0.1:$PORT/readyz"); stop "$PORTCULLIS_PID"
start_portcullis; READY=$(wait_ready "http://127.0.0.1:$PORT/readyz"); sleep 1; IDLE_RSS=$(rss_kb "$PORTCULLIS_PID"); stop "$PORTCULLIS_PID"
start_peer; PEER_READY=$(wait_ready "http://127.0.0.1:$PEER_PORT/.well-known/openid-configuration"); sleep 1; PEER_IDLE_RSS=$(rss_kb "$PEER_PID"); stop "$PEER_PID"
# Memory after a fixed workload, a few seconds after it: 100 login flows (an argon2id check of
# 19 MiB each), four at a time, then 1,000 client_credentials tokens, eight at a time.
start_portcullis; wait_ready "http://127.0.0.1:$PORT/readyz" >/dev/null
node login-flow.mjs "http://localhost:$PORT" "$SPA_ID" "$BENCH_EMAIL" "$BENCH_PASSWORD" 100 4 >/dev/null
node tokens.mjs "http://127.0.0.1:$PORT" "$TOKEN_BODY" 1000 8 >/dev/null
sleep 3; WORKED_RSS=$(rss_kb "$PORTCULLIS_PID"); stop "$PORTCULLIS_PID"

# One wrk round against a running server: prints "tokens/s p99_ms cpu_cores non200 rss_kb".
load() { # pid url path body
  TOKEN_PATH=$3 TOKEN_BODY=$4 wrk -t1 -c"$CONNECTIONS" -d3s -s token.lua "$2" >/dev/null
  local ticks0; ticks0=$(cpu_ticks "$1")
  local out; out=$(TOKEN_PATH=$3 TOKEN_BODY=$4 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s token.lua "$2")
  local ticks1; ticks1=$(cpu_ticks "$1")
  local rps; rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  local p99; p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  local bad; bad=$(echo "$out" | awk '/non-200/ {print $2}')
  local cores; cores=$(echo "$ticks0 $ticks1 $(getconf CLK_TCK) $DURATION" | awk '{printf "%.2f", ($2-$1)/$3/$4}')
  echo "$rps $p99 $cores $bad $(rss_kb "$1")"
}

PEER_BODY="grant_type=client_credentials&client_id=bench-m2m&client_secret=bench-m2m-secret&scope=read%3Amessages&resource="
PEER_RS256="${PEER_BODY}$(node -p 'encodeURIComponent(process.argv[1])' "$BENCH_API")"
PEER_ES256="${PEER_BODY}$(node -p 'encodeURIComponent(process.argv[1])' "$BENCH_API_ES256")"
# LOGINS logins with a session, one after another: prints "p50_ms p99_ms failed claim".
session_logins() {
  node session-login.mjs "http://localhost:$PORT" "$SPA_ID" "$BENCH_EMAIL" "$BENCH_PASSWORD" "$LOGINS" |
    node -e 'let s = ""; process.stdin.on("data", d => s += d).on("end", () => { const r = JSON.parse(s); console.log(r.p50_ms.toFixed(2), r.p99_ms.toFixed(2), r.failed, r.claim); })'
}
declare -a OURS PEER PINNED OURS_ES PEER_ES PINNED_ES SESSION
for round in $(seq 1 "$ROUNDS"); do
  start_portcullis; wait_ready "http://127.0.0.1:$PORT/readyz" >/dev/null
  OURS+=("$(load "$PORTCULLIS_PID" "http://127.0.0.1:$PORT" /oauth/token "$TOKEN_BODY")")
  OURS_ES+=("$(load "$PORTCULLIS_PID" "http://127.0.0.1:$PORT" /oauth/token "$TOKEN_BODY_ES256")")
  SESSION+=("$(session_logins)")
  if [ "$round" = 1 ]; then
    LOGIN_SEQ=$(node login-flow.mjs "http://localhost:$PORT" "$SPA_ID" "$BENCH_EMAIL" "$BENCH_PASSWORD" 20 1)
    LOGIN_PAR=$(node login-flow.mjs "http://localhost:$PORT" "$SPA_ID" "$BENCH_EMAIL" "$BENCH_PASSWORD" 60 4)
  fi
  stop "$PORTCULLIS_PID"
  start_peer; wait_ready "http://127.0.0.1:$PEER_PORT/.well-known/openid-configuration" >/dev/null
  PEER+=("$(load "$PEER_PID" "http://127.0.0.1:$PEER_PORT" /token "$PEER_RS256")")
  PEER_ES+=("$(load "$PEER_PID" "http://127.0.0.1:$PEER_PORT" /token "$PEER_ES256")")
  stop "$PEER_PID"
  start_peer 1; wait_ready "http://127.0.0.1:$PEER_PORT/.well-known/openid-configuration" >/dev/null
  PINNED+=("$(load "$PEER_PID" "http://127.0.0.1:$PEER_PORT" /token "$PEER_RS256")")
  PINNED_ES+=("$(load "$PEER_PID" "http://127.0.0.1:$PEER_PORT" /token "$PEER_ES256")")
  stop "$PEER_PID"
done

# The same RS256 load with a credentials-exchange Action that sets one claim, bound while the
# server is stopped (the CLI writes the store), after the rounds without it.
ACTION_JS="$DATA/one-claim.js"
echo "exports.onExecuteCredentialsExchange = async (event, api) => { api.accessToken.setCustomClaim('https://bench.example/tier', 'gold'); };" >"$ACTION_JS"
cli actions deploy "$ACTION_JS" --name one-claim --trigger credentials-exchange >/dev/null
cli actions bind credentials-exchange one-claim >/dev/null
# And a post-login Action that sets one claim, for the logins with a session.
LOGIN_JS="$DATA/one-claim-login.js"
echo "exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('https://bench.example/tier', 'gold'); };" >"$LOGIN_JS"
cli actions deploy "$LOGIN_JS" --name one-claim-login --trigger post-login >/dev/null
cli actions bind post-login one-claim-login >/dev/null
declare -a OURS_ACTION SESSION_ACTION
for round in $(seq 1 "$ROUNDS"); do
  start_portcullis; wait_ready "http://127.0.0.1:$PORT/readyz" >/dev/null
  OURS_ACTION+=("$(load "$PORTCULLIS_PID" "http://127.0.0.1:$PORT" /oauth/token "$TOKEN_BODY")")
  SESSION_ACTION+=("$(session_logins)")
  stop "$PORTCULLIS_PID"
done

ratio() { echo "$1 $2" | awk '{printf "%.1fx", $1/$2}'; }
per_core() { echo "$1 $2" | awk '{printf "%.0f", $1/$2}'; }
row() { printf '%-34s %18s %18s %18s\n' "$@"; }
sum_of() { column_of 4 "$@" | awk '{s+=$1} END {print s}'; }
# One algorithm's rows: title, signing ceiling per core (or "-"), then the names of the three
# arrays of load results (Portcullis, the pinned peer, the unpinned peer).
algorithm_table() {
  local title=$1 ceiling=$2
  local -n ours=$3 pinned=$4 peer=$5
  local o q p oc qc pc opc qpc ppc
  o=$(column_of 1 "${ours[@]}" | median); q=$(column_of 1 "${pinned[@]}" | median); p=$(column_of 1 "${peer[@]}" | median)
  oc=$(column_of 3 "${ours[@]}" | median); qc=$(column_of 3 "${pinned[@]}" | median); pc=$(column_of 3 "${peer[@]}" | median)
  echo
  row "$title" "portcullis" "peer, 1 core" "peer, 2 cores"
  row "tokens/s (median)" "$o" "$q" "$p"
  row "  portcullis / peer" "" "$(ratio "$o" "$q")" "$(ratio "$o" "$p")"
  for i in $(seq 0 $((ROUNDS - 1))); do
    row "  round $((i + 1)): tokens/s, p99" "$(echo "${ours[$i]}" | awk '{print $1", "$2}')" "$(echo "${pinned[$i]}" | awk '{print $1", "$2}')" "$(echo "${peer[$i]}" | awk '{print $1", "$2}')"
  done
  row "CPU cores used (median)" "$oc" "$qc" "$pc"
  opc=$(per_core "$o" "$oc"); qpc=$(per_core "$q" "$qc"); ppc=$(per_core "$p" "$pc")
  row "tokens per core-second" "$opc" "$qpc" "$ppc"
  row "  portcullis / peer" "" "$(ratio "$opc" "$qpc")" "$(ratio "$opc" "$ppc")"
  if [ "$ceiling" != "-" ]; then
    printf '%-34s %17s%% %18s %18s\n' "  of the signing ceiling" "$(echo "$opc $ceiling" | awk '{printf "%.0f", 100*$1/$2}')" "-" "-"
  fi
  row "non-200 responses (all rounds)" "$(sum_of "${ours[@]}")" "$(sum_of "${pinned[@]}")" "$(sum_of "${peer[@]}")"
  row "resident memory after load" "$(column_of 5 "${ours[@]}" | median | mb)" "$(column_of 5 "${pinned[@]}" | median | mb)" "$(column_of 5 "${peer[@]}" | median | mb)"
}
mb() { awk '{printf "%.1f MB", $1/1024}'; }

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load: wrk -t1 -c$CONNECTIONS, ${DURATION}s x $ROUNDS rounds, alternating"
echo "portcullis: whole machine; oidc-provider: pinned to CPU 1 (as peers.md 4), then unpinned"
algorithm_table "client_credentials, RS256-2048" "$SIGN_CEILING" OURS PINNED PEER
algorithm_table "client_credentials, ES256 (P-256)" - OURS_ES PINNED_ES PEER_ES
A=$(column_of 1 "${OURS_ACTION[@]}" | median); W=$(column_of 1 "${OURS[@]}" | median)
echo
row "client_credentials, RS256, Actions" "without" "one-claim Action" ""
row "tokens/s (median)" "$W" "$A" ""
row "  with / without" "" "$(echo "$A $W" | awk '{printf "%.2fx", $1/$2}')" ""
row "  added per token (2 cores busy)" "" "$(echo "$A $W $(nproc)" | awk '{printf "%.0f us", $3*1e6*(1/$1 - 1/$2)}')" ""
for i in $(seq 0 $((ROUNDS - 1))); do
  row "  round $((i + 1)): tokens/s, p99" "$(echo "${OURS[$i]}" | awk '{print $1", "$2}')" "$(echo "${OURS_ACTION[$i]}" | awk '{print $1", "$2}')" ""
done
row "non-200 responses (all rounds)" "$(sum_of "${OURS[@]}")" "$(sum_of "${OURS_ACTION[@]}")" ""
P50=$(column_of 1 "${SESSION[@]}" | median); P50A=$(column_of 1 "${SESSION_ACTION[@]}" | median)
P99=$(column_of 2 "${SESSION[@]}" | median); P99A=$(column_of 2 "${SESSION_ACTION[@]}" | median)
echo
row "login with a session, Actions" "without" "one-claim Action" "difference"
row "  $LOGINS sequential, p50 (median)" "$P50 ms" "$P50A ms" "$(echo "$P50A $P50" | awk '{printf "%+.2f ms", $1-$2}')"
row "  p99 (median)" "$P99 ms" "$P99A ms" "$(echo "$P99A $P99" | awk '{printf "%+.2f ms", $1-$2}')"
for i in $(seq 0 $((ROUNDS - 1))); do
  row "  round $((i + 1)): p50, p99" "$(echo "${SESSION[$i]}" | awk '{print $1", "$2}')" "$(echo "${SESSION_ACTION[$i]}" | awk '{print $1", "$2}')" ""
done
row "  failed; the claim in the token" "$(column_of 3 "${SESSION[@]}" | awk '{s+=$1} END {print s}'); $(echo "${SESSION[0]}" | awk '{print $4}')" "$(column_of 3 "${SESSION_ACTION[@]}" | awk '{s+=$1} END {print s}'); $(echo "${SESSION_ACTION[0]}" | awk '{print $4}')" ""
echo
printf '%-34s %18s %18s %18s\n' "idle resident memory" "$(echo "$IDLE_RSS" | mb)" "-" "$(echo "$PEER_IDLE_RSS" | mb)"
printf '%-34s %18s\n' "  after 100 logins, 1,000 tokens" "$(echo "$WORKED_RSS" | mb)"
printf '%-34s %18s %18s %18s\n' "start to ready" "$READY ms" "-" "$PEER_READY ms"
printf '%-34s %18s\n' "  first start (generates keys)" "$FIRST_READY ms"
echo
echo "login flow on portcullis (authorize, login page, POST credentials, code, token; argon2id):"
echo "  sequential: $LOGIN_SEQ"
echo "  4 parallel: $LOGIN_PAR"
