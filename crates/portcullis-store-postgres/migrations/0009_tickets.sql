-- Same tables and columns as the SQLite migration of the same name.
-- Tickets: the single-use, expiring links sent by email to verify an address or choose a new
-- password. Stored by the SHA-256 of their value; used with one conditional UPDATE; swept once
-- expired.

CREATE TABLE tickets (
    ticket_hash BYTEA PRIMARY KEY,
    kind TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    client_id TEXT,
    result_url TEXT,
    include_email_in_redirect BOOLEAN NOT NULL,
    mark_email_verified BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX tickets_expires ON tickets (expires_at);
CREATE INDEX tickets_user ON tickets (user_id);
