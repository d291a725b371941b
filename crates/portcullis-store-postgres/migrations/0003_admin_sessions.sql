-- Dashboard sessions of administrators (login_sessions name users of the tenant; an
-- administrator is not one). Stored by the hash of the cookie's token.

CREATE TABLE admin_sessions (
    id_hash BYTEA PRIMARY KEY,
    admin_id TEXT NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);
