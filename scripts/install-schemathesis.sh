#!/usr/bin/env bash
# Installs schemathesis, the OpenAPI property-based tester that `cargo xtask schema` (and its
# short form in `cargo xtask ci`) runs against the Management API, into a virtual environment
# of the user's cache, at the pinned version below. Idempotent: a complete install is reused.
# The only network use is pip's install from PyPI. Prints the path of the `st` command.
set -euo pipefail

version=4.32.5
venv="${XDG_CACHE_HOME:-$HOME/.cache}/portcullis/schemathesis-$version"

if [ ! -x "$venv/bin/st" ] || ! "$venv/bin/st" --version 2>/dev/null | grep -qF "$version"; then
    command -v python3 >/dev/null 2>&1 || {
        echo "install-schemathesis: python3 (3.9 or later, with venv) is needed" >&2
        exit 1
    }
    echo "install-schemathesis: schemathesis $version into $venv" >&2
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version" >&2
fi
echo "$venv/bin/st"
