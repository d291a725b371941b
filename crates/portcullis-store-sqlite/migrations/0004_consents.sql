-- Users' consents to third-party applications (Auth0's user grants): the scopes a user
-- approved for an application at one audience (an API's identifier, or the userinfo endpoint
-- when no API was asked for), space-separated. One per user, application and audience;
-- deleting the user or the application deletes them.

CREATE TABLE consents (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    audience TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (user_id, client_id, audience)
);
CREATE INDEX consents_client ON consents (client_id);
CREATE INDEX consents_audience ON consents (audience);
