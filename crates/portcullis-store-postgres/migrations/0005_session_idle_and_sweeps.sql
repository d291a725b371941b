-- Sessions end when idle (idle_expires_at) or at their absolute end (expires_at), whichever
-- comes first; existing sessions keep their absolute end as their idle end.
ALTER TABLE login_sessions ADD COLUMN idle_expires_at BIGINT NOT NULL DEFAULT 0;
UPDATE login_sessions SET idle_expires_at = expires_at;
CREATE INDEX login_sessions_user ON login_sessions (user_id);

-- The sweep deletes by expiry; these keep it from reading whole tables.
CREATE INDEX login_sessions_expiry ON login_sessions (expires_at);
CREATE INDEX authorization_codes_expiry ON authorization_codes (expires_at);
CREATE INDEX refresh_tokens_family_expiry ON refresh_tokens (family_expires_at);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX opaque_tokens_expiry ON opaque_tokens (expires_at);
CREATE INDEX opaque_tokens_user ON opaque_tokens (user_id);
CREATE INDEX throttle_counters_window ON throttle_counters (window_start);
CREATE INDEX admin_sessions_expiry ON admin_sessions (expires_at);
CREATE INDEX audit_log_date ON audit_log (date);
