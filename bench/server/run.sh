#!/usr/bin/env bash
# Token-endpoint benchmark: Portcullis against node-oidc-provider, side by side in one run.
#
# Prints client_credentials tokens/s (whole machine, same wrk load for both, alternating
# rounds), CPU used and tokens per core-second, idle and loaded memory, start-to-ready time, and
# the latency and rate of the full browser login flow on Portcullis.
# Loopback only; every process started here is stopped by its PID.
set -euo pipefail
cd "$(dirname "$0")"
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-16}
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

start_portcullis() {
  PORTCULLIS_LOG=warn "$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" --issuer "http://localhost:$PORT" >/dev/null 2>&1 &
  PORTCULLIS_PID=$!; PIDS+=("$PORTCULLIS_PID")
}
start_peer() {
  node peer-oidc-provider.mjs "$PEER_PORT" >/dev/null 2>&1 &
  PEER_PID=$!; PIDS+=("$PEER_PID")
}

# Start-up: the first start generates the RSA keys; a restart finds them.
start_portcullis; FIRST_READY=$(wait_ready "http://127.0.0.1:$PORT/readyz"); stop "$PORTCULLIS_PID"
start_portcullis; READY=$(wait_ready "http://127.0.0.1:$PORT/readyz"); sleep 1; IDLE_RSS=$(rss_kb "$PORTCULLIS_PID"); stop "$PORTCULLIS_PID"
start_peer; PEER_READY=$(wait_ready "http://127.0.0.1:$PEER_PORT/.well-known/openid-configuration"); sleep 1; PEER_IDLE_RSS=$(rss_kb "$PEER_PID"); stop "$PEER_PID"

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

OURS_BODY=$TOKEN_BODY
PEER_BODY="grant_type=client_credentials&client_id=bench-m2m&client_secret=bench-m2m-secret&resource=https%3A%2F%2Fbench.example%2Fapi&scope=read%3Amessages"
declare -a OURS PEER
for round in $(seq 1 "$ROUNDS"); do
  start_portcullis; wait_ready "http://127.0.0.1:$PORT/readyz" >/dev/null
  OURS+=("$(load "$PORTCULLIS_PID" "http://127.0.0.1:$PORT" /oauth/token "$OURS_BODY")")
  if [ "$round" = 1 ]; then
    LOGIN_SEQ=$(node login-flow.mjs "http://localhost:$PORT" "$SPA_ID" "$BENCH_EMAIL" "$BENCH_PASSWORD" 20 1)
    LOGIN_PAR=$(node login-flow.mjs "http://localhost:$PORT" "$SPA_ID" "$BENCH_EMAIL" "$BENCH_PASSWORD" 60 4)
  fi
  stop "$PORTCULLIS_PID"
  start_peer; wait_ready "http://127.0.0.1:$PEER_PORT/.well-known/openid-configuration" >/dev/null
  PEER+=("$(load "$PEER_PID" "http://127.0.0.1:$PEER_PORT" /token "$PEER_BODY")")
  stop "$PEER_PID"
done

O_RPS=$(column_of 1 "${OURS[@]}" | median); P_RPS=$(column_of 1 "${PEER[@]}" | median)
O_CORES=$(column_of 3 "${OURS[@]}" | median); P_CORES=$(column_of 3 "${PEER[@]}" | median)

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load: wrk -t1 -c$CONNECTIONS, ${DURATION}s x $ROUNDS rounds, alternating"
echo
printf '%-34s %16s %16s %8s\n' "client_credentials (RS256-2048)" "portcullis" "oidc-provider" "ratio"
printf '%-34s %16s %16s %8s\n' "tokens/s (median)" "$O_RPS" "$P_RPS" "$(echo "$O_RPS $P_RPS" | awk '{printf "%.1fx", $1/$2}')"
for i in $(seq 0 $((ROUNDS - 1))); do
  printf '%-34s %16s %16s\n' "  round $((i + 1)): tokens/s, p99" "$(echo "${OURS[$i]}" | awk '{print $1", "$2}')" "$(echo "${PEER[$i]}" | awk '{print $1", "$2}')"
done
printf '%-34s %16s %16s\n' "CPU cores used (median)" "$O_CORES" "$P_CORES"
O_PER_CORE=$(echo "$O_RPS $O_CORES" | awk '{printf "%.0f", $1/$2}'); P_PER_CORE=$(echo "$P_RPS $P_CORES" | awk '{printf "%.0f", $1/$2}')
printf '%-34s %16s %16s %8s\n' "tokens per core-second" "$O_PER_CORE" "$P_PER_CORE" "$(echo "$O_PER_CORE $P_PER_CORE" | awk '{printf "%.1fx", $1/$2}')"
printf '%-34s %15s%% %16s\n' "  of the RSA-2048 signing ceiling" "$(echo "$O_PER_CORE $SIGN_CEILING" | awk '{printf "%.0f", 100*$1/$2}')" "-"
printf '%-34s %16s %16s\n' "non-200 responses (all rounds)" "$(column_of 4 "${OURS[@]}" | awk "{s+=\$1} END {print s}")" "$(column_of 4 "${PEER[@]}" | awk "{s+=\$1} END {print s}")"
printf '%-34s %13s MB %13s MB\n' "idle resident memory" "$(echo "$IDLE_RSS" | awk '{printf "%.1f", $1/1024}')" "$(echo "$PEER_IDLE_RSS" | awk '{printf "%.1f", $1/1024}')"
printf '%-34s %13s MB %13s MB\n' "resident memory after load" "$(column_of 5 "${OURS[@]}" | median | awk '{printf "%.1f", $1/1024}')" "$(column_of 5 "${PEER[@]}" | median | awk '{printf "%.1f", $1/1024}')"
printf '%-34s %13s ms %13s ms\n' "start to ready" "$READY" "$PEER_READY"
printf '%-34s %13s ms %16s\n' "  first start (generates keys)" "$FIRST_READY" "-"
echo
echo "login flow on portcullis (authorize, login page, POST credentials, code, token; argon2id):"
echo "  sequential: $LOGIN_SEQ"
echo "  4 parallel: $LOGIN_PAR"
