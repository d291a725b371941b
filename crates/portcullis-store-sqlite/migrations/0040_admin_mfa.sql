-- Whether every dashboard administrator must pass a second factor (one row at most; no row
-- means no). The server's configuration can override it.
CREATE TABLE admin_mfa_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    required INTEGER NOT NULL
);
