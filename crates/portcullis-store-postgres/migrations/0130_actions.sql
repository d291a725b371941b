-- Auth0 Actions: the edited code (actions), its deployed immutable copies (action_versions,
-- the highest number is the deployed one) and the triggers' flows (action_bindings, run in
-- position order). Secrets are sealed under the master key before they get here.
CREATE TABLE actions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    trigger_id TEXT NOT NULL,
    code TEXT NOT NULL,
    runtime TEXT NOT NULL,
    secrets BYTEA,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE action_versions (
    id TEXT PRIMARY KEY,
    action_id TEXT NOT NULL REFERENCES actions (id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    code TEXT NOT NULL,
    runtime TEXT NOT NULL,
    secrets BYTEA,
    created_at BIGINT NOT NULL,
    UNIQUE (action_id, number)
);
CREATE TABLE action_bindings (
    id TEXT PRIMARY KEY,
    trigger_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    action_id TEXT NOT NULL REFERENCES actions (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (trigger_id, position)
);
CREATE INDEX action_bindings_action ON action_bindings (action_id);
