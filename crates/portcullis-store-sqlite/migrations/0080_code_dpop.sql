-- RFC 9449 §10: an authorization request may name the DPoP key (its RFC 7638 thumbprint) that
-- must redeem its code.
ALTER TABLE authorization_codes ADD COLUMN dpop_jkt TEXT;
