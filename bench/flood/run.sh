#!/usr/bin/env bash
# Hostile load: a flood of wrong-password login POSTs while a machine client (a process of its
# own) keeps asking for tokens, one request at a time. Prints one table: the answers to the flood counted by status with their latencies,
# the server's peak resident memory (VmHWM) and its memory a few seconds later, and the
# client_credentials latency alone and during the flood.
#
# Each POST is for its own unknown account, so brute-force protection per account never
# applies: what bounds the damage is the password-hashing queue (about one hash per core,
# a short queue, the rest answered 429 at once). The per-address limit is raised for the run,
# since every request comes from 127.0.0.1.
# Loopback only; every process started here is stopped by its PID.
set -euo pipefail
cd "$(dirname "$0")"
FLOOD=${FLOOD:-500}
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-4710}
. ../lib.sh

if [ -n "${PORTCULLIS_BIN:-}" ]; then BIN=$PORTCULLIS_BIN; else build_release ../..; fi
DATA=$(mktemp -d)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$DATA"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

cli() { PORTCULLIS_DATA_DIR="$DATA" "$BIN" "$@"; }
create_tenant

status_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
mb() { awk '{printf "%.1fMB\n", $1/1024}'; }
field() { node -e 'const v = JSON.parse(process.argv[1]); const x = process.argv[2].split(".").reduce((o, k) => (o == null ? o : o[k]), v); console.log(x == null ? "-" : typeof x === "number" ? Math.round(x * 10) / 10 : JSON.stringify(x))' "$1" "$2"; }

declare -a RESULTS PEAKS AFTER IDLE ALONE CPU
for round in $(seq 1 "$ROUNDS"); do
  PORTCULLIS_LOG=warn PORTCULLIS_MAX_FAILED_LOGINS_PER_IP=1000000 \
    "$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" --issuer "http://localhost:$PORT" >/dev/null 2>&1 &
  SERVER=$!; PIDS+=("$SERVER")
  wait_ready "http://127.0.0.1:$PORT/readyz" >/dev/null; sleep 1
  IDLE+=("$(status_kb "$SERVER" VmRSS)")
  ALONE+=("$(node ../server/tokens.mjs "http://127.0.0.1:$PORT" "$TOKEN_BODY" 3s 1)")
  # The machine client in a process of its own, from just before the flood until it is answered.
  node ../server/tokens.mjs "http://127.0.0.1:$PORT" "$TOKEN_BODY" signal 1 >"$DATA/tokens.json" &
  TOKENS=$!; PIDS+=("$TOKENS"); sleep 0.2
  TICKS0=$(cpu_ticks "$SERVER")
  run_to "$DATA/flood.json" node flood.mjs "http://127.0.0.1:$PORT" "$SPA_ID" "$FLOOD"
  CPU+=("$(echo "$TICKS0 $(cpu_ticks "$SERVER") $(getconf CLK_TCK)" | awk '{printf "%.2f", ($2-$1)/$3}')")
  kill -TERM "$TOKENS"; wait "$TOKENS"
  RESULTS+=("$(node -e 'const [f, t] = process.argv.slice(1).map(JSON.parse); console.log(JSON.stringify({ ...f, tokens: t }))' "$(cat "$DATA/flood.json")" "$(cat "$DATA/tokens.json")")")
  PEAKS+=("$(status_kb "$SERVER" VmHWM)")
  sleep 3
  AFTER+=("$(status_kb "$SERVER" VmRSS)")
  stop "$SERVER"
done

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "flood: $FLOOD wrong-password login POSTs at once (one unknown account each, one address), $ROUNDS rounds;"
echo "meanwhile one client_credentials client, one request at a time"
echo
printf '%-44s' ""; for round in $(seq 1 "$ROUNDS"); do printf '%20s' "round $round"; done; echo
row() { # label, then one value per round
  printf '%-44s' "$1"; shift; for value in "$@"; do printf '%20s' "$value"; done; echo
}
each() { local path=$1; for r in "${RESULTS[@]}"; do field "$r" "$path"; done; }
row "logins refused at once (429)" $(each logins.429.count)
row "  latency p50 / max (ms)" $(for r in "${RESULTS[@]}"; do echo "$(field "$r" logins.429.p50_ms)/$(field "$r" logins.429.max_ms)"; done)
row "logins checked (401)" $(each logins.401.count)
row "  latency p50 / max (ms)" $(for r in "${RESULTS[@]}"; do echo "$(field "$r" logins.401.p50_ms)/$(field "$r" logins.401.max_ms)"; done)
row "other answers" $(for r in "${RESULTS[@]}"; do node -e 'const v = JSON.parse(process.argv[1]).logins; console.log(Object.entries(v).filter(([s]) => s !== "401" && s !== "429").map(([s, x]) => `${s}:${x.count}`).join(",") || "0")' "$r"; done)
row "flood answered in (ms)" $(each flood_ms)
row "server CPU meanwhile (core-seconds)" "${CPU[@]}"
row "resident memory before" $(for kb in "${IDLE[@]}"; do echo "$kb" | mb; done)
row "peak resident memory (VmHWM)" $(for kb in "${PEAKS[@]}"; do echo "$kb" | mb; done)
row "resident memory 3 s after" $(for kb in "${AFTER[@]}"; do echo "$kb" | mb; done)
row "tokens alone: p50 / p99 (ms)" $(for a in "${ALONE[@]}"; do echo "$(field "$a" p50_ms)/$(field "$a" p99_ms)"; done)
row "tokens during the flood" $(each tokens.requests)
row "  p50 / p99 / max (ms)" $(for r in "${RESULTS[@]}"; do echo "$(field "$r" tokens.p50_ms)/$(field "$r" tokens.p99_ms)/$(field "$r" tokens.max_ms)"; done)
row "  non-200" $(for r in "${RESULTS[@]}"; do node -e 'const t = JSON.parse(process.argv[1]).tokens; console.log(t.requests - t.ok)' "$r"; done)
