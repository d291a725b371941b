#!/usr/bin/env bash
# Installs what the test suites need beyond the Rust toolchain: the PostgreSQL server binaries
# (initdb, pg_ctl), from Debian's packages, for the throwaway clusters the tests start; and
# Node.js with npm, plus `npm ci` for the Management API SDK test
# (crates/portcullis-server/tests/management-sdk) when its install is missing or stale.
# Idempotent: does nothing when they are already there. The packaged "main" cluster is not
# created (tests never use a system-wide server).
set -euo pipefail
cd "$(dirname "$0")/.."

have_postgres() {
    command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
    for bin in /usr/lib/postgresql/*/bin; do
        [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] && return 0
    done
    return 1
}

need=()
have_postgres || need+=(postgresql)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)

if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        sudo=()
    elif command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "install-test-deps: ${need[*]} missing and this user cannot install them;" >&2
        echo "install-test-deps: install Debian's packages: ${need[*]} (or set PORTCULLIS_PG_BIN)." >&2
        exit 1
    fi
    echo "install-test-deps: installing ${need[*]}" >&2
    if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
        "${sudo[@]}" mkdir -p /etc/postgresql-common
        echo "create_main_cluster = false" | "${sudo[@]}" tee /etc/postgresql-common/createcluster.conf >/dev/null
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    have_postgres
fi

# The official `auth0` package the Management API test drives, pinned by its lockfile.
sdk=crates/portcullis-server/tests/management-sdk
if [ ! -e "$sdk/node_modules/.package-lock.json" ] || [ "$sdk/package-lock.json" -nt "$sdk/node_modules/.package-lock.json" ]; then
    echo "install-test-deps: npm ci in $sdk" >&2
    (cd "$sdk" && npm ci --no-audit --no-fund --loglevel=error)
fi

# Debian's chromium and the samples' npm packages for the browser suite (cargo xtask browser).
bash scripts/install-browser-deps.sh

# schemathesis in a virtual environment of the user's cache, for `cargo xtask schema`.
bash scripts/install-schemathesis.sh >/dev/null
