-- Auth0's MFA API: a password-grant login waiting for its second factor, under the SHA-256 of
-- its `mfa_token`, taken once; the sweep deletes expired ones.
CREATE TABLE mfa_tokens (
    token_hash BYTEA PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    audience TEXT,
    scope TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX mfa_tokens_expires_at ON mfa_tokens (expires_at);
