-- Bulk user import and export jobs (the Management API's /api/v2/jobs): written once when
-- they finish, read back by id, swept once expired. An export keeps its file in `output`.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    details TEXT NOT NULL,
    errors TEXT NOT NULL,
    output TEXT,
    expires_at BIGINT NOT NULL
);
CREATE INDEX jobs_expiry ON jobs (expires_at);
