#!/bin/sh
# Makes the bulk-import fixture of the user-import tests: users in Auth0's export format whose
# bcrypt hashes come from a reference implementation (Python's `bcrypt` from PyPI, installed
# into a virtual environment of the user's cache), one `$2a$` and one `$2b$`. Run it again to
# make new hashes; the tests read the committed file and know the passwords below.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
venv="${XDG_CACHE_HOME:-$HOME/.cache}/portcullis/bcrypt-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'bcrypt>=4,<6'
fi
"$venv/bin/python" - "$root/crates/portcullis-server/tests/it/fixtures/auth0-users-bcrypt.json" <<'PY'
import json
import sys

import bcrypt


def hashed(password, prefix):
    # Python's bcrypt writes $2b$; its `prefix` argument makes the older $2a$ spelling.
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10, prefix=prefix)).decode()


users = [
    {
        "user_id": "auth0|5f7c8ec7c33c6c004bbafe82",
        "email": "ada@example.com",
        "email_verified": True,
        "given_name": "Ada",
        "family_name": "Lovelace",
        "nickname": "ada",
        "user_metadata": {"theme": "dark"},
        "app_metadata": {"plan": "gold", "roles": ["admin"]},
        "password_hash": hashed("Analytical-Engine-1843", b"2a"),
    },
    {
        "user_id": "5f7c8ec7c33c6c004bbafe83",
        "email": "grace@example.com",
        "email_verified": False,
        "name": "Grace Hopper",
        "password_hash": hashed("Compiler-A0-1952", b"2b"),
    },
]
with open(sys.argv[1], "w") as out:
    json.dump(users, out, indent=2)
    out.write("\n")
PY
