#!/usr/bin/env bash
# Installs what the samples and the browser suite need beyond the Rust toolchain:
# - Node.js and npm (Debian's packages) when missing; the suite's playwright-core needs Node >= 20;
# - Debian's chromium when /usr/bin/chromium is missing (Playwright drives it and never downloads
#   a browser of its own); skipped with --no-browser, which `cargo xtask demo` passes;
# - `npm ci` in every sample with a package-lock.json (and in samples/browser-tests unless
#   --no-browser) whose node_modules is missing or older than its lockfile.
# Idempotent: does nothing that is already done. Called by install-test-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

browser=1
for arg in "$@"; do
    case "$arg" in
        --no-browser) browser=0 ;;
        *) echo "usage: $0 [--no-browser]" >&2; exit 2 ;;
    esac
done

need=()
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ "$browser" -eq 1 ] && [ ! -x /usr/bin/chromium ]; then
    need+=(chromium fonts-liberation)
fi

if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        sudo=()
    elif command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "install-browser-deps: missing ${need[*]} and this user cannot install them;" >&2
        echo "install-browser-deps: install Debian's packages: ${need[*]}." >&2
        exit 1
    fi
    echo "install-browser-deps: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

for lock in samples/*/package-lock.json; do
    dir=$(dirname "$lock")
    if [ "$browser" -eq 0 ] && [ "$dir" = samples/browser-tests ]; then
        continue
    fi
    # npm writes node_modules/.package-lock.json at the end of every install.
    stamp="$dir/node_modules/.package-lock.json"
    if [ ! -e "$stamp" ] || [ "$lock" -nt "$stamp" ]; then
        echo "install-browser-deps: npm ci in $dir" >&2
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
done
