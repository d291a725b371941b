#!/usr/bin/env bash
# The guard benchmark: the Rust sample API (portcullis-guard) against the tutorial's Express
# server (express-jwt 6 + jwks-rsa 1, the versions the seed's code runs on, and the current
# express-jwt 8 + jwks-rsa 3), same JWKS, same tokens, same load, one core each.
#
#   bench/guard/run.sh
#
# Environment (all optional): DURATION (10 s measured), WARMUP (3 s), CONNECTIONS (32),
# TOKENS (20000 distinct tokens for the fresh-token case), ROUNDS (3), JWKS_PORT (4100),
# RUST_PORT (3100), EXPRESS_PORT (3200), FLOOR_PORT (3300, and the six ports after it),
# SERVER_CPU (1), LOAD_CPU (0).
#
# The Rust sample API and its floor servers run side by side, all pinned to SERVER_CPU and idle
# unless loaded, and are measured in turn, ROUNDS times: a burst of load from elsewhere on a
# shared machine then falls on both, and each figure is the median of its rounds.
#
# The Rust sample API is measured again with the tokens of PS256 and ES256 APIs (one key per
# algorithm in the same JWKS), each next to a floor of its own (below).
#
# Besides the two servers it measures the floor of this machine and loopback: a bare axum
# server (`floor_server`, no guard, no middleware) whose handler is busy for as long as
# jsonwebtoken's own RS256 decode takes here (timed by `verify_cost` on the same core), or not
# at all; and a second floor per algorithm whose handler runs jsonwebtoken's own decode on each
# request's token (one key, parsed at start; no cache, no header policy, no key lookup), which
# also pays for what the signature's code and tables do to the core's caches between requests.
# No guard built on jsonwebtoken can beat those rows.
#
# Everything listens on 127.0.0.1. Each server runs alone, pinned to SERVER_CPU; wrk and the
# JWKS file server run on LOAD_CPU. Every process started here is stopped by its PID on exit.
set -euo pipefail

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
CONNECTIONS=${CONNECTIONS:-32}
TOKENS=${TOKENS:-20000}
ROUNDS=${ROUNDS:-3}
JWKS_PORT=${JWKS_PORT:-4100}
RUST_PORT=${RUST_PORT:-3100}
EXPRESS_PORT=${EXPRESS_PORT:-3200}
FLOOR_PORT=${FLOOR_PORT:-3300}
SERVER_CPU=${SERVER_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# Where cargo puts its builds, as cargo itself reports it (a wrapper or a config may move it).
TARGET_DIR=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
WORK=$(mktemp -d)
PIDS=()

stop() { # pid
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  for pid in "${PIDS[@]}"; do stop "$pid"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '==> %s\n' "$*" >&2; }

wait_for() { # url
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "nothing answers at $1" >&2
  return 1
}

status_of() { # url [token]
  if [ -n "${2:-}" ]; then
    curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $2" "$1"
  else
    curl -s -o /dev/null -w '%{http_code}' "$1"
  fi
}

# --- tools ---------------------------------------------------------------------------------
if ! command -v wrk > /dev/null; then
  log "installing wrk"
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y wrk; else sudo apt-get install -y wrk; fi
fi
for tool in cargo node npm curl python3 taskset; do
  command -v "$tool" > /dev/null || { echo "missing: $tool" >&2; exit 1; }
done

log "building sample-api, the token minter and the floor tools (release)"
(cd "$ROOT" && cargo build --quiet --release -p sample-api -p portcullis-guard --bin sample-api \
  --example mint --example verify_cost --example floor_server)

log "installing express, express-jwt and jwks-rsa (npm ci)"
(cd "$HERE" && npm ci --silent --no-audit --no-fund)

# --- issuer: key, JWKS, tokens -------------------------------------------------------------
DOMAIN="http://127.0.0.1:$JWKS_PORT"
AUDIENCE="https://bench.portcullis.example/api"
ALGS=(RS256 PS256 ES256)
declare -A TOKEN
for alg in "${ALGS[@]}"; do
  log "minting a $alg key and $TOKENS tokens"
  "$TARGET_DIR/release/examples/mint" "$WORK/issuer-$alg" "$DOMAIN/" "$AUDIENCE" "$TOKENS" "$alg" \
    > /dev/null
  TOKEN[$alg]=$(cat "$WORK/issuer-$alg/token.txt")
done

mkdir -p "$WORK/www/.well-known" "$WORK/site"
# One JWKS with every algorithm's key, as an issuer publishes them.
python3 - "$WORK/www/.well-known/jwks.json" "${ALGS[@]/#/$WORK/issuer-}" <<'PY'
import json, sys
keys = [key for folder in sys.argv[2:] for key in json.load(open(f"{folder}/jwks.json"))["keys"]]
json.dump({"keys": keys}, open(sys.argv[1], "w"))
PY
printf '{"domain":"%s","clientId":"bench","audience":"%s"}\n' "$DOMAIN" "$AUDIENCE" \
  > "$WORK/site/auth_config.json"

taskset -c "$LOAD_CPU" python3 -m http.server "$JWKS_PORT" --bind 127.0.0.1 \
  --directory "$WORK/www" > "$WORK/jwks.log" 2>&1 &
PIDS+=($!)
wait_for "$DOMAIN/.well-known/jwks.json"

# --- load ----------------------------------------------------------------------------------
declare -A RPS P99 ERRORS RUNS

# A fresh-token run starts where the warm-up stopped (its request count, plus the requests
# that may still have been in flight), so that none of its tokens is still in the guard's
# verified-token cache (10,000 entries, first in first out, against TOKENS cycled).
requests_of() { awk '/ requests in / {print $1; exit}' <<< "$1"; }

measure() { # key case url [alg]; appends "req/s p99" to RUNS[key.case]
  local key=$1 case=$2 url=$3 alg=${4:-RS256} warm out start=0
  local args=(-t1 "-c$CONNECTIONS" --latency)
  if [ "$case" = reused ]; then
    args+=(-H "Authorization: Bearer ${TOKEN[$alg]}")
  else
    args+=(-s "$HERE/fresh-tokens.lua")
  fi
  warm=$(START=0 TOKENS_FILE="$WORK/issuer-$alg/tokens.txt" taskset -c "$LOAD_CPU" \
    wrk "${args[@]}" "-d${WARMUP}s" "$url")
  start=$(( ($(requests_of "$warm") + 2 * CONNECTIONS) % TOKENS ))
  out=$(START=$start TOKENS_FILE="$WORK/issuer-$alg/tokens.txt" taskset -c "$LOAD_CPU" \
    wrk "${args[@]}" "-d${DURATION}s" "$url")
  RUNS[$key.$case]+="$(awk '/^Requests\/sec:/ {printf "%d", $2}' <<< "$out") $(awk '$1 == "99%" {print $2}' <<< "$out")"$'\n'
  local errors
  errors=$(awk '/Non-2xx/ {print $NF}' <<< "$out")
  if [ -n "$errors" ]; then ERRORS[$key.$case]=$errors; fi
}

# The median run of each key (by req/s) gives its req/s and p99.
summarize() {
  local key line
  for key in "${!RUNS[@]}"; do
    line=$(printf '%s' "${RUNS[$key]}" | sort -n | awk 'NF {a[++n] = $0} END {print a[int((n + 1) / 2)]}')
    RPS[$key]=${line%% *}
    P99[$key]=${line##* }
  done
}

start_pinned() { # name port command...; sets SERVER_PID
  local name=$1 port=$2
  shift 2
  log "starting $name on CPU $SERVER_CPU"
  (cd "$WORK/site" && PORT=$port exec taskset -c "$SERVER_CPU" "$@") > "$WORK/$name.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_for "http://127.0.0.1:$port/api/external"
}

check_server() { # name url alg
  local name=$1 url=$2 alg=$3 valid tampered missing
  valid=$(status_of "$url" "${TOKEN[$alg]}")
  tampered=$(status_of "$url" "${TOKEN[$alg]%?????}AAAAA")
  missing=$(status_of "$url")
  if [ "$valid" != 200 ] || [ "$tampered" != 401 ] || [ "$missing" != 401 ]; then
    echo "$name, $alg: valid=$valid tampered=$tampered missing=$missing (expected 200/401/401)" >&2
    cat "$WORK/$name.log" >&2
    exit 1
  fi
}

log "timing verification in-process on CPU $SERVER_CPU"
COST=$(taskset -c "$SERVER_CPU" "$TARGET_DIR/release/examples/verify_cost" "$TOKENS")
# verify_cost's columns: RS256, PS256, ES256 (fields 3, 4 and 5 of its Markdown rows).
declare -A DECODE_US
column=3
for alg in "${ALGS[@]}"; do
  DECODE_US[$alg]=$(awk -F'|' -v c="$column" '/jsonwebtoken::decode/ {gsub(/ /, "", $c); print $c}' \
    <<< "$COST")
  column=$((column + 1))
done

# The Rust sample API and its floors, side by side: the bare floor for (a), and for (b) the
# floor busy for each algorithm's jsonwebtoken decode.
rust_url="http://127.0.0.1:$RUST_PORT/api/external"
start_pinned rust "$RUST_PORT" env SAMPLE_API_WORKERS=1 RUST_LOG=warn "$TARGET_DIR/release/sample-api"
RUST_PID=$SERVER_PID
for alg in "${ALGS[@]}"; do check_server rust "$rust_url" "$alg"; done
floor_server="$TARGET_DIR/release/examples/floor_server"
declare -A FLOOR_URL DECODE_URL FLOOR_PIDS
start_pinned floor-bare "$FLOOR_PORT" "$floor_server" "$FLOOR_PORT" busy 0
FLOOR_PIDS[bare]=$SERVER_PID
port=$FLOOR_PORT
for alg in "${ALGS[@]}"; do
  port=$((port + 1))
  start_pinned "floor-busy-$alg" "$port" "$floor_server" "$port" busy "${DECODE_US[$alg]}"
  FLOOR_URL[$alg]="http://127.0.0.1:$port/api/external"
  FLOOR_PIDS[$alg]=$SERVER_PID
  port=$((port + 1))
  start_pinned "floor-decode-$alg" "$port" "$floor_server" "$port" decode \
    "$WORK/issuer-$alg/jwks.json" "$DOMAIN/" "$AUDIENCE"
  check_server "floor-decode-$alg" "http://127.0.0.1:$port/api/external" "$alg"
  DECODE_URL[$alg]="http://127.0.0.1:$port/api/external"
  FLOOR_PIDS[decode-$alg]=$SERVER_PID
done
for round in $(seq 1 "$ROUNDS"); do
  log "round $round of $ROUNDS: the Rust sample API and its floors"
  measure floor reused "http://127.0.0.1:$FLOOR_PORT/api/external"
  for alg in "${ALGS[@]}"; do
    rust=rust floor=floor
    [ "$alg" = RS256 ] || { rust="rust-$alg"; floor="floor-$alg"; }
    measure "$rust" reused "$rust_url" "$alg"
    measure "$rust" fresh "$rust_url" "$alg"
    measure "$floor" fresh "${FLOOR_URL[$alg]}" "$alg"
    measure "decode-$alg" fresh "${DECODE_URL[$alg]}" "$alg"
  done
done
stop "$RUST_PID"
for pid in "${FLOOR_PIDS[@]}"; do stop "$pid"; done

# The seed's Express server (RS256 only), once per version.
for express in express express8; do
  url="http://127.0.0.1:$EXPRESS_PORT/api/external"
  if [ "$express" = express ]; then
    start_pinned "$express" "$EXPRESS_PORT" node "$HERE/express-server.js"
  else
    start_pinned "$express" "$EXPRESS_PORT" env EXPRESS_JWT=8 node "$HERE/express-server.js"
  fi
  check_server "$express" "$url" RS256
  measure "$express" reused "$url"
  measure "$express" fresh "$url"
  stop "$SERVER_PID"
done
summarize

# --- report --------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }'; }
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
echo
echo "Guard benchmark: GET /api/external, wrk -t1 -c$CONNECTIONS, ${WARMUP} s warm-up + ${DURATION} s,"
echo "servers on CPU $SERVER_CPU, wrk on CPU $LOAD_CPU ($cpu); the Rust API and its floors: the"
echo "median of $ROUNDS rounds measured in turn; Express: one run"
echo
echo "| case | Rust sample-api req/s | p99 | Express (express-jwt 6) req/s | p99 | Rust / Express | Express (express-jwt 8) req/s | Rust / Express 8 | floor req/s | Rust / floor |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for case in reused fresh; do
  label=$([ "$case" = reused ] && echo "(a) one reused token" || echo "(b) fresh token per request ($TOKENS cycled)")
  echo "| $label | ${RPS[rust.$case]} | ${P99[rust.$case]} | ${RPS[express.$case]} | ${P99[express.$case]} | $(ratio "${RPS[rust.$case]}" "${RPS[express.$case]}") | ${RPS[express8.$case]} | $(ratio "${RPS[rust.$case]}" "${RPS[express8.$case]}") | ${RPS[floor.$case]} | $(awk -v a="${RPS[rust.$case]}" -v b="${RPS[floor.$case]}" 'BEGIN { printf "%.0f%%", 100 * a / b }') |"
done
echo
echo "Per algorithm, the Rust sample API against the floors of the same run ((a) shares the bare"
echo "floor; (b) has two: one busy for that algorithm's jsonwebtoken decode time, and one that runs"
echo "jsonwebtoken's decode on each request's token):"
echo
echo "| algorithm | case | Rust sample-api req/s | p99 | busy floor req/s | Rust / busy floor | decode floor req/s | Rust / decode floor |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
percent() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "n/a" }'; }
for alg in "${ALGS[@]}"; do
  rust=rust floor=floor
  [ "$alg" = RS256 ] || { rust="rust-$alg"; floor="floor-$alg"; }
  echo "| $alg | (a) one reused token | ${RPS[$rust.reused]} | ${P99[$rust.reused]} | ${RPS[floor.reused]} | $(percent "${RPS[$rust.reused]}" "${RPS[floor.reused]}") | | |"
  echo "| $alg | (b) fresh token per request | ${RPS[$rust.fresh]} | ${P99[$rust.fresh]} | ${RPS[$floor.fresh]} | $(percent "${RPS[$rust.fresh]}" "${RPS[$floor.fresh]}") | ${RPS[decode-$alg.fresh]} | $(percent "${RPS[$rust.fresh]}" "${RPS[decode-$alg.fresh]}") |"
done
echo
echo "busy floor: bare axum on the same core and load, handler busy 0 us for (a), for (b)"
echo "${DECODE_US[RS256]} us (RS256), ${DECODE_US[PS256]} us (PS256), ${DECODE_US[ES256]} us (ES256)"
echo "(jsonwebtoken's own decode of each algorithm's tokens, timed in-process on CPU $SERVER_CPU):"
echo
echo "$COST"
echo
echo "(b) against the aws-lc-rs RS256 verify ceiling of 64,900/s per core (validation.md): \
$(awk -v a="${RPS[rust.fresh]}" 'BEGIN { printf "%.0f%%", 100 * a / 64900 }'); the floor of (b): \
$(awk -v a="${RPS[floor.fresh]}" 'BEGIN { printf "%.0f%%", 100 * a / 64900 }')"
for key in rust.reused rust.fresh rust-PS256.reused rust-PS256.fresh rust-ES256.reused rust-ES256.fresh \
  express.reused express.fresh express8.reused express8.fresh; do
  if [ -n "${ERRORS[$key]:-}" ]; then echo "warning: $key had ${ERRORS[$key]} non-2xx responses"; fi
done
