#!/usr/bin/env bash
# Installs what the test suites need beyond the Rust toolchain: the PostgreSQL server binaries
# (initdb, pg_ctl), from Debian's packages, for the throwaway clusters the tests start.
# Idempotent: does nothing when they are already there. The packaged "main" cluster is not
# created (tests never use a system-wide server).
set -euo pipefail

have_postgres() {
    command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
    for bin in /usr/lib/postgresql/*/bin; do
        [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] && return 0
    done
    return 1
}

if have_postgres; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "install-test-deps: PostgreSQL server binaries are missing and this user cannot install them;" >&2
    echo "install-test-deps: install Debian's postgresql package (or set PORTCULLIS_PG_BIN)." >&2
    exit 1
fi

echo "install-test-deps: installing postgresql" >&2
if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    "${sudo[@]}" mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | "${sudo[@]}" tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends postgresql >/dev/null
have_postgres
