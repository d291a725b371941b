-- Multi-factor authentication. The tenant's factors and policy (Auth0's Guardian settings);
-- the authenticators users and dashboard administrators enrolled, one row each whatever the
-- kind, with a counter that only moves forward (a TOTP code's time step, a WebAuthn sign
-- count) so that a used code or a cloned key is refused by one conditional UPDATE; recovery
-- codes by their SHA-256, each used once; and what a login session and its codes did.

CREATE TABLE mfa_factors (
    name TEXT PRIMARY KEY,
    enabled INTEGER NOT NULL
);

CREATE TABLE mfa_policies (
    policy TEXT PRIMARY KEY
);

CREATE TABLE authenticators (
    id TEXT PRIMARY KEY,
    user_id TEXT REFERENCES users(user_id) ON DELETE CASCADE,
    admin_id TEXT REFERENCES admins(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT,
    confirmed INTEGER NOT NULL,
    secret BLOB,
    counter INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    CHECK ((user_id IS NULL) <> (admin_id IS NULL))
);
CREATE INDEX authenticators_user ON authenticators (user_id);
CREATE INDEX authenticators_admin ON authenticators (admin_id);

CREATE TABLE recovery_codes (
    code_hash BLOB PRIMARY KEY,
    authenticator_id TEXT NOT NULL REFERENCES authenticators(id) ON DELETE CASCADE,
    used_at INTEGER
);
CREATE INDEX recovery_codes_authenticator ON recovery_codes (authenticator_id);

-- The methods a session's login used (RFC 8176 values, space-separated) and when it last
-- passed a second factor; a code carries them to the tokens it is exchanged for.
ALTER TABLE login_sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
ALTER TABLE login_sessions ADD COLUMN mfa_time INTEGER;
ALTER TABLE authorization_codes ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
ALTER TABLE authorization_codes ADD COLUMN acr TEXT;

-- A dashboard session whose administrator has given the password but not yet the code.
ALTER TABLE admin_sessions ADD COLUMN mfa_pending INTEGER NOT NULL DEFAULT 0;
