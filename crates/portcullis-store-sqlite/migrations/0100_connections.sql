-- Connections to other identity providers (strategies oidc, oauth2 and their presets): the
-- options as a JSON object, the client secret sealed under the master key apart from them.
CREATE TABLE upstream_connections (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    display_name TEXT,
    strategy TEXT NOT NULL,
    options TEXT NOT NULL,
    client_secret BLOB,
    enabled_clients TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Sign-ins at a provider under way, under the SHA-256 of their state: taken once by the
-- callback, or deleted once expired.
CREATE TABLE upstream_transactions (
    state_hash BLOB PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES upstream_connections (id) ON DELETE CASCADE,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    authorize_query TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX upstream_transactions_expiry ON upstream_transactions (expires_at);

-- Users' identities at other providers: one user per identity, found by the connection and
-- the provider's id; a linked identity belongs to a user of the database connection.
CREATE TABLE user_identities (
    connection TEXT NOT NULL,
    upstream_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    profile TEXT NOT NULL,
    tokens BLOB,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (connection, upstream_id)
);
CREATE INDEX user_identities_user ON user_identities (user_id);
