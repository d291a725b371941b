-- What the login's post-login Actions set for its tokens (custom claims, scope changes), as
-- JSON: it travels with the code, so the code's tokens carry exactly what the login decided.
ALTER TABLE authorization_codes ADD COLUMN actions TEXT;
