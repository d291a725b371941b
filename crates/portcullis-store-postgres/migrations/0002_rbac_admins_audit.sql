-- Same tables and columns as the SQLite migration of the same name.
-- RBAC (roles, permissions, assignments), access rules, dashboard administrators, audit log.
-- A permission names its API by identifier (the audience, as Auth0's API does); deleting an
-- API, a role or a user removes what names it.

CREATE TABLE roles (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE role_permissions (
    role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    resource_server_identifier TEXT NOT NULL
        REFERENCES resource_servers(identifier) ON DELETE CASCADE,
    permission_name TEXT NOT NULL,
    PRIMARY KEY (role_id, resource_server_identifier, permission_name)
);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role ON user_roles (role_id);

CREATE TABLE user_permissions (
    user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    resource_server_identifier TEXT NOT NULL
        REFERENCES resource_servers(identifier) ON DELETE CASCADE,
    permission_name TEXT NOT NULL,
    PRIMARY KEY (user_id, resource_server_identifier, permission_name)
);

CREATE TABLE access_rules (
    id TEXT PRIMARY KEY,
    resource_server_id TEXT NOT NULL REFERENCES resource_servers(id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    condition TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX access_rules_api ON access_rules (resource_server_id, created_at);

CREATE TABLE admins (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    email_lower TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE audit_log (
    log_id TEXT PRIMARY KEY,
    date BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    description TEXT NOT NULL,
    ip TEXT,
    user_agent TEXT,
    client_id TEXT,
    client_name TEXT,
    user_id TEXT,
    user_name TEXT,
    details TEXT NOT NULL
);
CREATE INDEX audit_log_user ON audit_log (user_id, log_id);
CREATE INDEX audit_log_client ON audit_log (client_id, log_id);
CREATE INDEX audit_log_type ON audit_log (event_type, log_id);
