-- The tenant: APIs, applications, grants, users, keys, and the short-lived protocol state.
-- Same tables and columns as the SQLite migration of the same name; JSON arrays are TEXT.
-- Secrets (codes, refresh tokens, session ids) only as hashes; private keys sealed by the
-- server under the master key before they get here.

CREATE TABLE resource_servers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    identifier TEXT NOT NULL UNIQUE,
    signing_alg TEXT NOT NULL,
    scopes TEXT NOT NULL,
    token_lifetime BIGINT NOT NULL,
    token_lifetime_for_web BIGINT NOT NULL,
    allow_offline_access BOOLEAN NOT NULL,
    skip_consent BOOLEAN NOT NULL,
    enforce_policies BOOLEAN NOT NULL,
    token_dialect TEXT NOT NULL,
    is_system BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE clients (
    client_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    app_type TEXT NOT NULL,
    client_secret_hash BYTEA,
    token_endpoint_auth_method TEXT NOT NULL,
    callbacks TEXT NOT NULL,
    allowed_logout_urls TEXT NOT NULL,
    web_origins TEXT NOT NULL,
    allowed_origins TEXT NOT NULL,
    grant_types TEXT NOT NULL,
    id_token_lifetime BIGINT NOT NULL,
    refresh_token TEXT NOT NULL,
    is_first_party BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
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
    email_verified BOOLEAN NOT NULL,
    password_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    nickname TEXT NOT NULL,
    picture TEXT NOT NULL,
    blocked BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_login BIGINT,
    logins_count BIGINT NOT NULL
);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    private_pkcs8 BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    retire_after BIGINT
);
-- At most one key signs and at most one waits to: the database decides races between replicas.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (state) WHERE state = 'current';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (state) WHERE state = 'next';

CREATE TABLE login_sessions (
    id_hash BYTEA PRIMARY KEY,
    sid TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    auth_time BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE authorization_codes (
    code_hash BYTEA PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    audience TEXT,
    nonce TEXT,
    code_challenge TEXT,
    sid TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    consumed_at BIGINT,
    family_id TEXT
);

CREATE TABLE refresh_tokens (
    token_hash BYTEA PRIMARY KEY,
    family_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    audience TEXT,
    scope TEXT NOT NULL,
    sid TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    family_expires_at BIGINT NOT NULL,
    idle_expires_at BIGINT NOT NULL,
    rotated_at BIGINT,
    revoked BOOLEAN NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_client ON refresh_tokens (user_id, client_id);

CREATE TABLE throttle_counters (
    key TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    count BIGINT NOT NULL
);

CREATE TABLE opaque_tokens (
    token_hash BYTEA PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
