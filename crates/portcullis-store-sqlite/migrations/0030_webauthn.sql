-- WebAuthn security keys and passkeys. A WebAuthn authenticator's credential id is unique
-- (one key is enrolled once) and indexed, so that a passkey sign-in, which names only the
-- credential, finds its owner. A ceremony's challenge is stored until it is taken once or
-- expires, so that any replica can finish a ceremony another started.

ALTER TABLE authenticators ADD COLUMN credential_id TEXT;
CREATE UNIQUE INDEX authenticators_credential ON authenticators (credential_id);

CREATE TABLE webauthn_challenges (
    id_hash BLOB PRIMARY KEY,
    session_hash BLOB,
    state TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges (expires_at);
