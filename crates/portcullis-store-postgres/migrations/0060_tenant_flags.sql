-- Same tables and columns as the SQLite migration of the same name.
-- Tenant-wide switches (Auth0's tenant settings `flags`), one row per flag that was ever set;
-- a flag without a row has its default (off). The first is
-- `enable_dynamic_client_registration` (RFC 7591 registration at /oidc/register).
CREATE TABLE tenant_flags (
    name TEXT PRIMARY KEY,
    enabled BOOLEAN NOT NULL
);
