-- Each algorithm (RS256, PS256, ES256) has its own signing keys, rotated on their own: the
-- keys made before are RSA keys that sign RS256.
ALTER TABLE signing_keys ADD COLUMN alg TEXT NOT NULL DEFAULT 'RS256';
DROP INDEX signing_keys_one_current;
DROP INDEX signing_keys_one_next;
-- At most one key per algorithm signs and at most one waits to.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (alg, state) WHERE state = 'current';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (alg, state) WHERE state = 'next';

-- HS256 APIs: the secret their tokens are signed with, sealed under the master key.
ALTER TABLE resource_servers ADD COLUMN signing_secret BLOB;
