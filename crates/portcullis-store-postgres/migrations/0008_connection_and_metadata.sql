-- Users' metadata (Auth0's user_metadata and app_metadata): JSON objects.
ALTER TABLE users ADD COLUMN user_metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN app_metadata TEXT NOT NULL DEFAULT '{}';

-- The database connection's settings: exactly one row, with an id chosen here once per tenant.
-- The defaults keep the policy every earlier version applied: at least 8 characters.
CREATE TABLE database_connections (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    disable_signup BOOLEAN NOT NULL,
    password_policy TEXT NOT NULL,
    min_length BIGINT,
    dictionary_enable BOOLEAN NOT NULL,
    dictionary_entries TEXT NOT NULL,
    no_personal_info BOOLEAN NOT NULL,
    history_enable BOOLEAN NOT NULL,
    history_size BIGINT NOT NULL
);
INSERT INTO database_connections (id, name, disable_signup, password_policy, min_length,
    dictionary_enable, dictionary_entries, no_personal_info, history_enable, history_size)
VALUES ('con_' || substr(md5(random()::text || clock_timestamp()::text), 1, 16),
    'Username-Password-Authentication', FALSE, 'low', 8, FALSE, '[]', FALSE, FALSE, 5);

-- Users' previous password hashes (argon2id), for the connection's password history.
CREATE TABLE password_history (
    seq BIGSERIAL PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL
);
CREATE INDEX password_history_user ON password_history (user_id, seq);
