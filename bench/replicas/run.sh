#!/usr/bin/env bash
# Scale-out benchmark: one replica and two replicas of `portcullis serve` on one PostgreSQL, and
# one server on SQLite for reference, under the same bounded load in the same run.
#
# Starts its own throwaway PostgreSQL cluster (initdb + pg_ctl in a temporary directory, a free
# port of 127.0.0.1, default durability settings, pg_stat_statements loaded to count the
# statements per request), creates the tenant through the CLI on it and on a SQLite store,
# starts the servers, and measures each setup in turn (rounds alternate the order):
# client_credentials tokens/s with wrk (THREADS threads, CONNECTIONS connections, DURATION
# seconds), then the full browser login flow (login-flow.mjs, LOGIN_CONCURRENCY flows at a time
# for DURATION seconds). With two replicas, wrk's two threads each drive one replica
# with half the connections, and the login flows send each request to the next replica in turn
# (round robin without sticky sessions: the steps of one flow land on both replicas). No load
# balancer process: the figures are the replicas' and PostgreSQL's, not a proxy's. CPU per
# token and per flow come from /proc/PID/stat of the replicas and of the PostgreSQL postmaster
# and its backends.
# Loopback only; every process started here is stopped by its PID (the cluster by pg_ctl), and
# the temporary directories are removed, also on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")"
. ../lib.sh
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=2
LOGIN_CONCURRENCY=${LOGIN_CONCURRENCY:-4}
unset PORTCULLIS_DATABASE_URL PORTCULLIS_MASTER_KEY PORTCULLIS_DATA_DIR PORTCULLIS_CONFIG

ensure_wrk
build_release ../..
MASTER_KEY=$(head -c 32 /dev/urandom | base64)
WORK=""
PG_DIR=""
PIDS=()
cleanup() {
  set +e
  [ -z "$CHILD" ] || kill "$CHILD" 2>/dev/null
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
    local postmaster; postmaster=$(head -1 "$PG_DIR/data/postmaster.pid")
    as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
      || kill -KILL "$postmaster" 2>/dev/null
  fi
  rm -rf ${WORK:+"$WORK"} ${PG_DIR:+"$PG_DIR"}
}
trap cleanup EXIT
trap 'exit 130' INT TERM
WORK=$(mktemp -d -t portcullis-bench-XXXXXX)
cp "$BIN" "$WORK/portcullis"; BIN="$WORK/portcullis" # immune to rebuilds while it runs

# --- PostgreSQL: the same throwaway cluster as crates/portcullis-testkit/src/postgres.rs. ---
# Server binaries: PORTCULLIS_PG_BIN, then PATH, then Debian's /usr/lib/postgresql/<v>/bin
# (installed by scripts/install-test-deps.sh when missing).
find_pg_bin() {
  local dir
  if [ -n "${PORTCULLIS_PG_BIN:-}" ]; then echo "$PORTCULLIS_PG_BIN"; return; fi
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"; return
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return; fi
  done
  return 1
}
PG_BIN=$(find_pg_bin || { ../../scripts/install-test-deps.sh >&2 && find_pg_bin; })
# PostgreSQL refuses to run as root: as root, the cluster runs as `postgres` (created by the
# package) or a `portcullis-pg` system user.
PG_USER=""
if [ "$(id -u)" = 0 ]; then
  if id postgres >/dev/null 2>&1; then PG_USER=postgres
  else
    id portcullis-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin portcullis-pg
    PG_USER=portcullis-pg
  fi
fi
as_pg_user() { if [ -n "$PG_USER" ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi; }

PG_DIR=$(mktemp -d -t portcullis-pg-XXXXXX)
[ -z "$PG_USER" ] || chown "$PG_USER:" "$PG_DIR"
as_pg_user "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --no-locale --no-sync >/dev/null
for attempt in 1 2 3 4 5; do # a port found free can be taken before the server binds it
  PG_PORT=$(free_port)
  if as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
      -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_stat_statements" start >/dev/null; then break; fi
  [ "$attempt" -lt 5 ] || { echo "pg_ctl start failed:" >&2; cat "$PG_DIR/server.log" >&2; exit 1; }
done
as_pg_user "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres portcullis
psql_bench() { "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d portcullis -Atq -c "$1"; }
# Statements executed so far (pg_stat_statements counts each as it ends, without delay).
psql_bench "CREATE EXTENSION pg_stat_statements"
pg_statements() { psql_bench "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements"; }
DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/portcullis"
PG_PID=$(head -1 "$PG_DIR/data/postmaster.pid")
PG_VERSION=$("$PG_BIN/postgres" --version | awk '{print $3}')

# --- The tenant, through the CLI, on PostgreSQL and on SQLite. ---
export PORTCULLIS_MASTER_KEY=$MASTER_KEY
cli() { PORTCULLIS_DATABASE_URL="$DATABASE_URL" PORTCULLIS_DATA_DIR="$WORK/cli" "$BIN" "$@"; }
create_tenant
PG_TOKEN_BODY=$TOKEN_BODY PG_SPA_ID=$SPA_ID
cli() { PORTCULLIS_DATA_DIR="$WORK/sqlite" "$BIN" "$@"; }
create_tenant
SQLITE_TOKEN_BODY=$TOKEN_BODY SQLITE_SPA_ID=$SPA_ID

# --- The servers: replicas A and B on PostgreSQL, one server on SQLite. All run until the end;
# a setup's load goes only to its own servers. ---
start_server() { # name port [VAR=value...]: starts `portcullis serve`, waits for /readyz; sets SERVER_PID
  local name=$1 port=$2; shift 2
  mkdir -p "$WORK/$name"
  env "$@" PORTCULLIS_LOG=warn PORTCULLIS_DATA_DIR="$WORK/$name" \
    "$BIN" serve --listen "127.0.0.1:$port" --issuer "$ISSUER" >"$WORK/$name.log" 2>&1 &
  SERVER_PID=$!; PIDS+=("$SERVER_PID")
  wait_ready "http://127.0.0.1:$port/readyz" >/dev/null || { tail -20 "$WORK/$name.log" >&2; exit 1; }
}
PORT_A=$(free_port)
ISSUER="http://localhost:$PORT_A" # the same for every server, as behind one load balancer
start_server replica-a "$PORT_A" PORTCULLIS_DATABASE_URL="$DATABASE_URL"; PID_A=$SERVER_PID
PORT_B=$(free_port)
start_server replica-b "$PORT_B" PORTCULLIS_DATABASE_URL="$DATABASE_URL"; PID_B=$SERVER_PID
PORT_S=$(free_port)
start_server sqlite "$PORT_S"; PID_S=$SERVER_PID

sum_ticks() { local pid s=0; for pid in "$@"; do s=$(( s + $(cpu_ticks "$pid") )); done; echo "$s"; }
pg_ticks() { tree_cpu_ticks "$PG_PID"; }
HZ=$(getconf CLK_TCK)
LOAD_BEFORE=$(cut -d" " -f1-3 /proc/loadavg)

# One setup, one round. Sets MEASURED: tokens/s, replica and PostgreSQL CPU ms per token, login flows/s,
# p50 and p95 ms, replica and PostgreSQL CPU ms per flow, non-200 tokens, failed flows, and the
# first server's share (%) of the setup's server CPU under each load, PostgreSQL statements per
# token and per flow.
measure() { # setup: sqlite | pg-1 | pg-2
  local ports pids body spa uses_pg=1
  case $1 in
    sqlite) ports=("$PORT_S"); pids=("$PID_S"); body=$SQLITE_TOKEN_BODY; spa=$SQLITE_SPA_ID; uses_pg=0 ;;
    pg-1) ports=("$PORT_A"); pids=("$PID_A"); body=$PG_TOKEN_BODY; spa=$PG_SPA_ID ;;
    pg-2) ports=("$PORT_A" "$PORT_B"); pids=("$PID_A" "$PID_B"); body=$PG_TOKEN_BODY; spa=$PG_SPA_ID ;;
  esac
  local targets="" bases="" port
  for port in "${ports[@]}"; do targets+="127.0.0.1:$port "; bases+="${bases:+,}http://127.0.0.1:$port"; done
  local url="http://127.0.0.1:${ports[0]}"
  wrk_run() { TOKEN_PATH=/oauth/token TOKEN_BODY=$body TOKEN_TARGETS=$targets \
    exec wrk -t"$THREADS" -c"$CONNECTIONS" -d"$1s" --timeout 10s -s ../server/token.lua "$url"; }
  run_to /dev/null wrk_run 3 # warm-up
  local s0 p0 a0 q0 s1 p1 a1 q1 out
  # (psql's own backend is started outside the CPU snapshots; its one query is subtracted)
  statements() { if [ "$uses_pg" = 1 ]; then pg_statements; else echo 0; fi; }
  per() { if [ "$uses_pg" = 1 ]; then echo "$1 $2 $3" | awk '{printf "%.1f", ($2 - $1 - 1) / $3}'; else echo -; fi; }
  q0=$(statements); s0=$(sum_ticks "${pids[@]}"); p0=$(pg_ticks); a0=$(cpu_ticks "${pids[0]}")
  run_to "$WORK/out" wrk_run "$DURATION"; out=$(cat "$WORK/out")
  s1=$(sum_ticks "${pids[@]}"); p1=$(pg_ticks); a1=$(cpu_ticks "${pids[0]}"); q1=$(statements)
  local token_share=$(( 100 * (a1 - a0) / (s1 - s0 > 0 ? s1 - s0 : 1) ))
  local rps tokens bad
  rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  tokens=$(echo "$out" | awk '/requests in/ {print $1}')
  bad=$(echo "$out" | awk '/non-200/ {print $2}')
  local token_statements; token_statements=$(per "$q0" "$q1" "$tokens")
  local token_cpu; token_cpu=$(echo "$s0 $s1 $p0 $p1 $tokens $uses_pg $HZ" \
    | awk '{printf "%.3f %s", ($2-$1)*1000/$7/$5, $6 ? sprintf("%.3f", ($4-$3)*1000/$7/$5) : "-"}')
  q0=$(statements); s0=$(sum_ticks "${pids[@]}"); p0=$(pg_ticks); a0=$(cpu_ticks "${pids[0]}")
  run_to "$WORK/out" timeout $(( DURATION + 60 )) node ../server/login-flow.mjs "$bases" "$spa" "$BENCH_EMAIL" "$BENCH_PASSWORD" \
    "${DURATION}s" "$LOGIN_CONCURRENCY"; out=$(cat "$WORK/out")
  s1=$(sum_ticks "${pids[@]}"); p1=$(pg_ticks); a1=$(cpu_ticks "${pids[0]}"); q1=$(statements)
  local flow_share=$(( 100 * (a1 - a0) / (s1 - s0 > 0 ? s1 - s0 : 1) ))
  local flows per_s p50 p95 failed
  flows=$(echo "$out" | json_field flows); failed=$(echo "$out" | json_field failed)
  per_s=$(echo "$out" | json_field flows_per_s); p50=$(echo "$out" | json_field p50_ms); p95=$(echo "$out" | json_field p95_ms)
  local flow_statements; flow_statements=$(per "$q0" "$q1" "$flows")
  local flow_cpu; flow_cpu=$(echo "$s0 $s1 $p0 $p1 $flows $uses_pg $HZ" \
    | awk '{printf "%.1f %s", ($2-$1)*1000/$7/$5, $6 ? sprintf("%.1f", ($4-$3)*1000/$7/$5) : "-"}')
  MEASURED="$rps $token_cpu $per_s $p50 $p95 $flow_cpu $bad $failed $token_share $flow_share $token_statements $flow_statements"
}

SETUPS=(pg-1 pg-2 sqlite)
declare -A ROWS
for round in $(seq 1 "$ROUNDS"); do
  order=("${SETUPS[@]}")
  [ $(( round % 2 )) = 1 ] || order=(sqlite pg-2 pg-1)
  for setup in "${order[@]}"; do
    echo "round $round: $setup" >&2
    measure "$setup"
    ROWS[$setup]+="$MEASURED"$'\n'
  done
done

# Median over the rounds of column $2 of setup $1, printed with format $3.
med() { printf '%s' "${ROWS[$1]}" | awk -v n="$2" '{print $n}' | median | awk -v f="${3:-%s}" '{printf f, $1}'; }
rounds_of() { printf '%s' "${ROWS[$1]}" | awk -v n="$2" -v f="$3" '{printf f "\n", $n}' | paste -sd, - | sed 's/,/, /g'; }
total() { printf '%s' "${ROWS[$1]}" | awk -v n="$2" '{s += $n} END {print s}'; }
label() { case $1 in pg-1) echo "1 replica, PostgreSQL" ;; pg-2) echo "2 replicas, one PostgreSQL" ;; sqlite) echo "1 server, SQLite (reference)" ;; esac; }
cpu_pair() { if [ "$1" = sqlite ]; then med "$1" "$2" "$4"; else echo "$(med "$1" "$2" "$4") + $(med "$1" "$3" "$4")"; fi; }

echo
echo "$(date -u +%F), $(nproc) vCPU ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), PostgreSQL $PG_VERSION"
echo "load per setup and round: client_credentials wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s; login flows $LOGIN_CONCURRENCY at a time for ${DURATION}s; $ROUNDS rounds, medians"
echo "load average of the machine (1, 5, 15 min) before: $LOAD_BEFORE, after: $(cut -d" " -f1-3 /proc/loadavg)"
echo
printf '| %-28s | %12s | %13s | %16s | %20s | %18s |\n' "setup" "cc tokens/s" "login flows/s" "login p50/p95 ms" "CPU ms/token srv+PG" "CPU ms/flow srv+PG"
printf '|%s|%s|%s|%s|%s|%s|\n' "------------------------------" "-------------:" "--------------:" "-----------------:" "---------------------:" "-------------------:"
for setup in "${SETUPS[@]}"; do
  printf '| %-28s | %12s | %13s | %16s | %20s | %18s |\n' "$(label "$setup")" "$(med "$setup" 1 %.0f)" \
    "$(med "$setup" 4 %.1f)" "$(med "$setup" 5 %.0f) / $(med "$setup" 6 %.0f)" \
    "$(cpu_pair "$setup" 2 3 %.3f)" "$(cpu_pair "$setup" 7 8 %.1f)"
done
echo
for setup in "${SETUPS[@]}"; do
  printf '%-40s tokens/s %s; login flows/s %s\n' "$(label "$setup"), by round:" \
    "$(rounds_of "$setup" 1 %s)" "$(rounds_of "$setup" 4 %.1f)"
done
echo
echo "two replicas / one replica: tokens/s x$(echo "$(med pg-2 1) $(med pg-1 1)" | awk '{printf "%.2f", $1/$2}'), login flows/s x$(echo "$(med pg-2 4) $(med pg-1 4)" | awk '{printf "%.2f", $1/$2}')"
echo "load split with two replicas: replica A used $(rounds_of pg-2 11 %s) % of the replicas' CPU under the token load, $(rounds_of pg-2 12 %s) % under the login flows (by round)"
echo "PostgreSQL statements per token: 1 replica $(med pg-1 13 %.1f), 2 replicas $(med pg-2 13 %.1f); per login flow: $(med pg-1 14 %.1f), $(med pg-2 14 %.1f) (pg_stat_statements)"
echo "errors (all rounds): non-200 tokens $(( $(total pg-1 9) + $(total pg-2 9) + $(total sqlite 9) )), failed login flows $(( $(total pg-1 10) + $(total pg-2 10) + $(total sqlite 10) ))"
echo "CPU: srv = the setup's portcullis processes, PG = postmaster + backends (utime+stime from /proc)"
