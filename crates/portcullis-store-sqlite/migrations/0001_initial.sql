-- The tenant: APIs, applications, grants, users, keys, and the short-lived protocol state.
-- JSON arrays are stored as TEXT. Secrets (codes, refresh tokens, session ids) only as hashes.

CREATE TABLE resource_servers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    identifier TEXT NOT NULL UNIQUE,
    signing_alg TEXT NOT NULL,
    scopes TEXT NOT NULL,
    token_lifetime INTEGER NOT NULL,
    token_lifetime_for_web INTEGER NOT NULL,
    allow_offline_access INTEGER NOT NULL,
    skip_consent INTEGER NOT NULL,
    enforce_policies INTEGER NOT NULL,
    token_dialect TEXT NOT NULL,
    is_system INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE clients (
    client_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    app_type TEXT NOT NULL,
    client_secret_hash BLOB,
    token_endpoint_auth_method TEXT NOT NULL,
    callbacks TEXT NOT NULL,
    allowed_logout_urls TEXT NOT NULL,
    web_origins TEXT NOT NULL,
    allowed_origins TEXT NOT NULL,
    grant_types TEXT NOT NULL,
    id_token_lifetime INTEGER NOT NULL,
    refresh_token TEXT NOT NULL,
    is_first_party INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE client_grants (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    audience TEXT NOT NULL,
    scope TEXT NOT NULL,
    UNIQUE (client_id, audience)
);

CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    email_lower TEXT NOT NULL UNIQUE,
    email_verified INTEGER NOT NULL,
    password_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    nickname TEXT NOT NULL,
    picture TEXT NOT NULL,
    blocked INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_login INTEGER,
    logins_count INTEGER NOT NULL
);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    private_pkcs8 BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    retire_after INTEGER
);
-- At most one key signs and at most one waits to: the database decides races between replicas.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (state) WHERE state = 'current';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (state) WHERE state = 'next';

CREATE TABLE login_sessions (
    id_hash BLOB PRIMARY KEY,
    sid TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    auth_time INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE authorization_codes (
    code_hash BLOB PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    audience TEXT,
    nonce TEXT,
    code_challenge TEXT,
    sid TEXT NOT NULL,
    auth_time INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    consumed_at INTEGER,
    family_id TEXT
);

CREATE TABLE refresh_tokens (
    token_hash BLOB PRIMARY KEY,
    family_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    audience TEXT,
    scope TEXT NOT NULL,
    sid TEXT NOT NULL,
    auth_time INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    family_expires_at INTEGER NOT NULL,
    idle_expires_at INTEGER NOT NULL,
    rotated_at INTEGER,
    revoked INTEGER NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_client ON refresh_tokens (user_id, client_id);

CREATE TABLE throttle_counters (
    key TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL
);

CREATE TABLE opaque_tokens (
    token_hash BLOB PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
