-- DPoP (RFC 9449): each proof's jti is accepted once, by every replica; a row lives as long as
-- the proof could pass, then the sweep deletes it.
CREATE TABLE dpop_proofs (
    proof_hash BYTEA PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX dpop_proofs_expires_at ON dpop_proofs (expires_at);

-- A public client's refresh tokens are bound to the DPoP key of the exchange that began their
-- family (its RFC 7638 thumbprint).
ALTER TABLE refresh_tokens ADD COLUMN dpop_jkt TEXT;
