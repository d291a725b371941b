-- Users' metadata (Auth0's user_metadata and app_metadata): JSON objects.
ALTER TABLE users ADD COLUMN user_metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN app_metadata TEXT NOT NULL DEFAULT '{}';

-- The database connection's settings: exactly one row, with an id chosen here once per tenant.
-- The defaults keep the policy every earlier version applied: at least 8 characters.
CREATE TABLE database_connections (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    disable_signup INTEGER NOT NULL,
    password_policy TEXT NOT NULL,
    min_length INTEGER,
    dictionary_enable INTEGER NOT NULL,
    dictionary_entries TEXT NOT NULL,
    no_personal_info INTEGER NOT NULL,
    history_enable INTEGER NOT NULL,
    history_size INTEGER NOT NULL
);
INSERT INTO database_connections (id, name, disable_signup, password_policy, min_length,
    dictionary_enable, dictionary_entries, no_personal_info, history_enable, history_size)
VALUES ('con_' || lower(hex(randomblob(8))), 'Username-Password-Authentication', 0, 'low', 8,
    0, '[]', 0, 0, 5);

-- Users' previous password hashes (argon2id), for the connection's password history.
CREATE TABLE password_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL
);
CREATE INDEX password_history_user ON password_history (user_id, seq);
