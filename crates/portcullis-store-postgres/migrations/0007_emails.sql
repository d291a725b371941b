-- Same tables and columns as the SQLite migration of the same name.
-- Email: the templates the tenant customised (Auth0's email templates; kinds without a row use
-- the defaults shipped in the binary), and the outbox, a durable queue of rendered messages.
--
-- A sender claims due messages with one conditional UPDATE that sets a lease (a token and its
-- end) and counts the attempt; a message whose sender died is claimed again after its lease
-- ends. Sent, failed and outbox messages stay for the dashboard until the sweep's retention.

CREATE TABLE email_templates (
    template TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    text_body TEXT NOT NULL,
    from_address TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    result_url TEXT,
    url_lifetime_in_seconds BIGINT,
    include_email_in_redirect BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE emails (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    user_id TEXT REFERENCES users(user_id) ON DELETE CASCADE,
    client_id TEXT,
    sender TEXT,
    subject TEXT NOT NULL,
    html TEXT NOT NULL,
    text_body TEXT NOT NULL,
    link TEXT,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_token TEXT,
    lease_until BIGINT,
    sent_at BIGINT,
    last_error TEXT
);
CREATE INDEX emails_due ON emails (status, next_attempt_at);
CREATE INDEX emails_created ON emails (created_at);
CREATE INDEX emails_user ON emails (user_id);
