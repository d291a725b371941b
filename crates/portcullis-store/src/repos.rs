use async_trait::async_trait;

use portcullis_types::EmailKind;

use crate::{
    error::StoreResult, AccessRule, Admin, AdminSession, AuthorizationCode, Client, ClientGrant,
    Consent, ConsentFilter, DatabaseConnection, Email, EmailFilter, EmailLease, EmailOutcome,
    EmailTemplate, LogEvent, LogFilter, LoginSession, OpaqueToken, Permission, RefreshToken,
    ResourceServer, Role, RotationOutcome, SigningKey, SweepBefore, SweepCounts, User,
};

/// A page of a listing: `page` counts from zero, as in Auth0's Management API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub page: u32,
    pub per_page: u32,
}

impl Page {
    pub const ALL: Page = Page {
        page: 0,
        per_page: 10_000,
    };

    pub fn offset(self) -> i64 {
        i64::from(self.page) * i64::from(self.per_page)
    }
}

/// APIs (resource servers).
#[async_trait]
pub trait ResourceServerRepository: Send + Sync {
    async fn create_resource_server(&self, api: &ResourceServer) -> StoreResult<()>;
    async fn resource_server_by_id(&self, id: &str) -> StoreResult<Option<ResourceServer>>;
    async fn resource_server_by_identifier(
        &self,
        identifier: &str,
    ) -> StoreResult<Option<ResourceServer>>;
    async fn list_resource_servers(&self, page: Page) -> StoreResult<(Vec<ResourceServer>, u64)>;
    async fn update_resource_server(&self, api: &ResourceServer) -> StoreResult<()>;
    async fn delete_resource_server(&self, id: &str) -> StoreResult<()>;
}

/// Applications.
#[async_trait]
pub trait ClientRepository: Send + Sync {
    async fn create_client(&self, client: &Client) -> StoreResult<()>;
    async fn client_by_id(&self, client_id: &str) -> StoreResult<Option<Client>>;
    async fn list_clients(&self, page: Page) -> StoreResult<(Vec<Client>, u64)>;
    async fn update_client(&self, client: &Client) -> StoreResult<()>;
    async fn delete_client(&self, client_id: &str) -> StoreResult<()>;
    /// Every origin any client registered (web origins and allowed origins), for CORS
    /// preflights, which do not say which client is asking.
    async fn all_client_origins(&self) -> StoreResult<Vec<String>>;
}

/// Client grants: which scopes of which API a machine-to-machine client may get.
#[async_trait]
pub trait ClientGrantRepository: Send + Sync {
    async fn create_client_grant(&self, grant: &ClientGrant) -> StoreResult<()>;
    async fn client_grant_for(
        &self,
        client_id: &str,
        audience: &str,
    ) -> StoreResult<Option<ClientGrant>>;
    async fn list_client_grants(&self, page: Page) -> StoreResult<(Vec<ClientGrant>, u64)>;
    async fn update_client_grant(&self, grant: &ClientGrant) -> StoreResult<()>;
    async fn delete_client_grant(&self, id: &str) -> StoreResult<()>;
}

/// Users' consents to applications (Auth0's user grants). Deleting a user or an application
/// deletes their consents.
#[async_trait]
pub trait ConsentRepository: Send + Sync {
    /// Stores `consent`, or, when its user already has one for its application and audience,
    /// replaces that one's scope and `updated_at` (keeping its id and `created_at`). Returns
    /// the consent as stored. `NotFound` when the user or the application does not exist.
    async fn upsert_consent(&self, consent: &Consent) -> StoreResult<Consent>;
    async fn consent_for(
        &self,
        user_id: &str,
        client_id: &str,
        audience: &str,
    ) -> StoreResult<Option<Consent>>;
    async fn consent_by_id(&self, id: &str) -> StoreResult<Option<Consent>>;
    /// The consents matching `filter`, oldest first, and how many match.
    async fn list_consents(
        &self,
        filter: &ConsentFilter,
        page: Page,
    ) -> StoreResult<(Vec<Consent>, u64)>;
    /// `NotFound` when there is no such consent.
    async fn delete_consent(&self, id: &str) -> StoreResult<()>;
    /// Deletes every consent matching `filter`; returns how many were deleted.
    async fn delete_consents(&self, filter: &ConsentFilter) -> StoreResult<u64>;
}

/// Users of the database connection.
#[async_trait]
pub trait UserRepository: Send + Sync {
    async fn create_user(&self, user: &User) -> StoreResult<()>;
    async fn user_by_id(&self, user_id: &str) -> StoreResult<Option<User>>;
    /// Emails compare case-insensitively.
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    async fn list_users(
        &self,
        email_contains: Option<&str>,
        page: Page,
    ) -> StoreResult<(Vec<User>, u64)>;
    async fn update_user(&self, user: &User) -> StoreResult<()>;
    async fn record_login(&self, user_id: &str, at: i64) -> StoreResult<()>;
    async fn delete_user(&self, user_id: &str) -> StoreResult<()>;
    /// The user's previous password hashes, newest first, at most `limit`.
    async fn password_history(&self, user_id: &str, limit: u32) -> StoreResult<Vec<String>>;
    /// Remembers `password_hash` as the user's latest previous password and forgets all but
    /// the `keep` newest. `NotFound` when the user does not exist.
    async fn add_password_history(
        &self,
        user_id: &str,
        password_hash: &str,
        keep: u32,
    ) -> StoreResult<()>;
    /// Replaces the user's password hash with `new` only if it is still `expected` (an
    /// imported hash upgraded at sign-in must not undo a password changed meanwhile); whether
    /// it was replaced.
    async fn replace_password_hash(
        &self,
        user_id: &str,
        expected: &str,
        new: &str,
    ) -> StoreResult<bool>;
}

/// The database connection's settings: one row, created with the schema.
#[async_trait]
pub trait ConnectionRepository: Send + Sync {
    async fn database_connection(&self) -> StoreResult<DatabaseConnection>;
    /// Replaces the settings (the id too: an import keeps the exported tenant's).
    async fn update_database_connection(&self, connection: &DatabaseConnection) -> StoreResult<()>;
}

/// Signing keys.
#[async_trait]
pub trait KeyRepository: Send + Sync {
    /// Every key that is not retired.
    async fn live_keys(&self) -> StoreResult<Vec<SigningKey>>;
    /// Stores the first keys of an empty store: `current` and `next`. Returns false, storing
    /// nothing, when keys already exist (another process won the race).
    async fn initialize_keys(&self, current: &SigningKey, next: &SigningKey) -> StoreResult<bool>;
    /// Rotation in one transaction: `previous` keys past their time are retired, `current`
    /// becomes `previous` (kept until `previous_retire_after`), `next` becomes `current`, and
    /// `new_next` is published.
    async fn rotate_keys(
        &self,
        new_next: &SigningKey,
        previous_retire_after: i64,
        now: i64,
    ) -> StoreResult<()>;
    /// Stores one key exactly as given, state and times included (`portcullis import`). The
    /// store still refuses a second `current` or `next` key.
    async fn insert_key(&self, key: &SigningKey) -> StoreResult<()>;
}

/// Browser login sessions.
#[async_trait]
pub trait SessionRepository: Send + Sync {
    async fn create_session(&self, session: &LoginSession) -> StoreResult<()>;
    async fn session_by_hash(&self, id_hash: &[u8], now: i64) -> StoreResult<Option<LoginSession>>;
    async fn delete_session(&self, id_hash: &[u8]) -> StoreResult<()>;
    /// Moves the session's idle end to `idle_expires_at` (the caller keeps it within the
    /// absolute end).
    async fn touch_session(&self, id_hash: &[u8], idle_expires_at: i64) -> StoreResult<()>;
}

/// Housekeeping: ending everything a user holds, and deleting what has expired.
#[async_trait]
pub trait MaintenanceRepository: Send + Sync {
    /// Ends the user's login sessions, revokes their refresh-token families and deletes their
    /// opaque tokens (a new password, a block, a deletion).
    async fn end_user_sessions(&self, user_id: &str) -> StoreResult<()>;
    /// Deletes expired sessions, codes, refresh-token families, opaque tokens, throttling
    /// counters, old audit log events and old outbox messages, in small batches; safe when
    /// several processes sweep at once.
    async fn sweep(&self, before: SweepBefore) -> StoreResult<SweepCounts>;
    /// Asks the database for nothing (`SELECT 1`): whether it answers at all, for readiness.
    async fn ping(&self) -> StoreResult<()>;
}

/// Authorization codes.
#[async_trait]
pub trait AuthorizationCodeRepository: Send + Sync {
    async fn insert_code(&self, code: &AuthorizationCode) -> StoreResult<()>;
    /// Marks the code used and returns it, exactly once even under concurrent redemption.
    async fn redeem_code(&self, code_hash: &[u8], now: i64) -> StoreResult<Redeemed>;
    /// Remembers which refresh-token family a code produced, so that a replayed code can
    /// revoke it.
    async fn link_code_family(&self, code_hash: &[u8], family_id: &str) -> StoreResult<()>;
}

/// The result of redeeming an authorization code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Redeemed {
    /// First redemption of a live code.
    Fresh(Box<AuthorizationCode>),
    /// The code was already used; carries the refresh-token family it produced, if any.
    Replayed { family_id: Option<String> },
    /// Unknown or expired.
    Invalid,
}

/// Refresh tokens.
#[async_trait]
pub trait RefreshTokenRepository: Send + Sync {
    /// Stores a token. A token joining a family that has been revoked is stored revoked, even
    /// when the revocation races with the insertion: reuse detection never leaves a live
    /// successor behind.
    async fn insert_refresh_token(&self, token: &RefreshToken) -> StoreResult<()>;
    /// Decides, atomically, what presenting `token_hash` at `now` means (see
    /// [`RotationOutcome`]); `leeway` is the client's reuse interval in seconds: a token
    /// rotated at `t` is tolerated again while `now < t + leeway` (so 0 tolerates no reuse).
    /// Of concurrent presentations of a live token exactly one gets `Rotated`.
    async fn rotate_refresh_token(
        &self,
        token_hash: &[u8],
        now: i64,
        leeway: i64,
    ) -> StoreResult<RotationOutcome>;
    /// Presents a non-rotating token, atomically: while it is live (neither rotated nor
    /// revoked, within its idle and absolute expiry) it stays valid and its idle expiry moves
    /// to `idle_expires_at`, never past the family's end (`Kept`). A token that is not live is
    /// judged as by [`rotate_refresh_token`](Self::rotate_refresh_token) with `leeway`: one
    /// rotated while its client still rotated is reuse all the same.
    async fn keep_refresh_token(
        &self,
        token_hash: &[u8],
        now: i64,
        idle_expires_at: i64,
        leeway: i64,
    ) -> StoreResult<RotationOutcome>;
    async fn refresh_token_by_hash(&self, token_hash: &[u8]) -> StoreResult<Option<RefreshToken>>;
    async fn revoke_family(&self, family_id: &str) -> StoreResult<()>;
    /// Revokes every family of a user at a client (logout, `/oauth/revoke`).
    async fn revoke_user_client_families(&self, user_id: &str, client_id: &str) -> StoreResult<()>;
}

/// Opaque access tokens for `/userinfo`.
#[async_trait]
pub trait OpaqueTokenRepository: Send + Sync {
    async fn insert_opaque_token(&self, token: &OpaqueToken) -> StoreResult<()>;
    async fn opaque_token_by_hash(
        &self,
        token_hash: &[u8],
        now: i64,
    ) -> StoreResult<Option<OpaqueToken>>;
    /// Forgets one token (`/oauth/revoke`); an unknown hash is not an error.
    async fn delete_opaque_token(&self, token_hash: &[u8]) -> StoreResult<()>;
}

/// Counters for login throttling, in fixed windows.
#[async_trait]
pub trait ThrottleRepository: Send + Sync {
    /// Adds one hit to `key` in the window starting at `window_start` and returns the count.
    async fn hit(&self, key: &str, window_start: i64) -> StoreResult<u64>;
    /// The current count without adding a hit.
    async fn hits(&self, key: &str, window_start: i64) -> StoreResult<u64>;
    /// Forgets `key` (after a successful login).
    async fn clear(&self, key: &str) -> StoreResult<()>;
    /// Takes back one hit of `key` in the window starting at `window_start` (a hit counted
    /// before an attempt that then succeeded or was not made); never below zero.
    async fn take_back(&self, key: &str, window_start: i64) -> StoreResult<()>;
    /// The keys starting with `prefix` that counted at least `min_count` hits in the window
    /// starting at `window_start`, with their counts, by key.
    async fn counters_with_prefix(
        &self,
        prefix: &str,
        window_start: i64,
        min_count: u64,
    ) -> StoreResult<Vec<(String, u64)>>;
    /// Forgets every key starting with `prefix`; returns how many there were.
    async fn clear_prefix(&self, prefix: &str) -> StoreResult<u64>;
}

/// Roles, their permissions, and who holds which (RBAC). Deleting a role, a user or an API
/// removes the assignments and permissions that name it.
#[async_trait]
pub trait RoleRepository: Send + Sync {
    async fn create_role(&self, role: &Role) -> StoreResult<()>;
    async fn role_by_id(&self, id: &str) -> StoreResult<Option<Role>>;
    /// Roles whose name contains `name_filter` (case-insensitive), by name.
    async fn list_roles(
        &self,
        name_filter: Option<&str>,
        page: Page,
    ) -> StoreResult<(Vec<Role>, u64)>;
    async fn update_role(&self, role: &Role) -> StoreResult<()>;
    async fn delete_role(&self, id: &str) -> StoreResult<()>;

    async fn role_permissions(&self, role_id: &str) -> StoreResult<Vec<Permission>>;
    /// Adds permissions (already held ones are kept once). Fails with `NotFound` when the role
    /// or an API does not exist.
    async fn add_role_permissions(
        &self,
        role_id: &str,
        permissions: &[Permission],
    ) -> StoreResult<()>;
    async fn remove_role_permissions(
        &self,
        role_id: &str,
        permissions: &[Permission],
    ) -> StoreResult<()>;

    /// Ids of the users holding the role, by user id.
    async fn role_users(&self, role_id: &str, page: Page) -> StoreResult<(Vec<String>, u64)>;
    async fn user_roles(&self, user_id: &str) -> StoreResult<Vec<Role>>;
    /// Assigns roles (already held ones are kept once). `NotFound` when the user or a role
    /// does not exist.
    async fn assign_user_roles(&self, user_id: &str, role_ids: &[String]) -> StoreResult<()>;
    async fn remove_user_roles(&self, user_id: &str, role_ids: &[String]) -> StoreResult<()>;

    /// Permissions given to the user directly (not through roles).
    async fn user_permissions(&self, user_id: &str) -> StoreResult<Vec<Permission>>;
    async fn add_user_permissions(
        &self,
        user_id: &str,
        permissions: &[Permission],
    ) -> StoreResult<()>;
    async fn remove_user_permissions(
        &self,
        user_id: &str,
        permissions: &[Permission],
    ) -> StoreResult<()>;
    /// Every permission name the user holds for the API `identifier`, directly or through a
    /// role, sorted and without duplicates: what RBAC grants at token issuance.
    async fn effective_permissions(
        &self,
        user_id: &str,
        identifier: &str,
    ) -> StoreResult<Vec<String>>;
}

/// Declarative access rules per API.
#[async_trait]
pub trait AccessRuleRepository: Send + Sync {
    /// `NotFound` when the API does not exist.
    async fn create_access_rule(&self, rule: &AccessRule) -> StoreResult<()>;
    /// The rules of one API, oldest first.
    async fn access_rules(&self, resource_server_id: &str) -> StoreResult<Vec<AccessRule>>;
    async fn delete_access_rule(&self, id: &str) -> StoreResult<()>;
}

/// Dashboard administrators.
#[async_trait]
pub trait AdminRepository: Send + Sync {
    /// `Conflict` when the email (case-insensitive) is taken.
    async fn create_admin(&self, admin: &Admin) -> StoreResult<()>;
    async fn admin_by_id(&self, id: &str) -> StoreResult<Option<Admin>>;
    async fn admin_by_email(&self, email: &str) -> StoreResult<Option<Admin>>;
    async fn list_admins(&self) -> StoreResult<Vec<Admin>>;
    async fn update_admin_password(&self, id: &str, password_hash: &str) -> StoreResult<()>;
}

/// Dashboard sessions of administrators. Deleting an administrator ends their sessions.
#[async_trait]
pub trait AdminSessionRepository: Send + Sync {
    /// `NotFound` when the administrator does not exist.
    async fn create_admin_session(&self, session: &AdminSession) -> StoreResult<()>;
    /// The session with this hash, unless it expired by `now`.
    async fn admin_session_by_hash(
        &self,
        id_hash: &[u8],
        now: i64,
    ) -> StoreResult<Option<AdminSession>>;
    async fn delete_admin_session(&self, id_hash: &[u8]) -> StoreResult<()>;
}

/// The audit log: append-only.
#[async_trait]
pub trait AuditLogRepository: Send + Sync {
    async fn append_log(&self, event: &LogEvent) -> StoreResult<()>;
    /// Appends several events in one transaction (the server's batched writer).
    async fn append_logs(&self, events: &[LogEvent]) -> StoreResult<()>;
    async fn log_by_id(&self, log_id: &str) -> StoreResult<Option<LogEvent>>;
    /// Matching events, newest first.
    async fn list_logs(&self, filter: &LogFilter, page: Page) -> StoreResult<(Vec<LogEvent>, u64)>;
}

/// Email: the templates the tenant customised, and the outbox every replica's sender claims
/// messages from.
#[async_trait]
pub trait EmailRepository: Send + Sync {
    /// The kind's customised template, if it has one.
    async fn email_template(&self, kind: EmailKind) -> StoreResult<Option<EmailTemplate>>;
    /// Stores `template`, replacing the kind's customisation if it has one.
    async fn put_email_template(&self, template: &EmailTemplate) -> StoreResult<()>;
    /// Stores `template`; `Conflict` when the kind is customised already.
    async fn create_email_template(&self, template: &EmailTemplate) -> StoreResult<()>;
    /// Forgets the kind's customisation; `NotFound` when it has none.
    async fn delete_email_template(&self, kind: EmailKind) -> StoreResult<()>;

    async fn enqueue_email(&self, email: &Email) -> StoreResult<()>;
    async fn email_by_id(&self, id: &str) -> StoreResult<Option<Email>>;
    /// The messages matching `filter`, newest first, and how many match.
    async fn list_emails(&self, filter: &EmailFilter, page: Page)
        -> StoreResult<(Vec<Email>, u64)>;
    /// Claims up to `limit` queued messages due at `now` that no live lease holds, oldest
    /// due first: each gets `lease` and one more attempt, in one conditional UPDATE, so that
    /// of senders claiming at once (several replicas) each message goes to one. A message
    /// whose sender died is claimed again once its lease has ended.
    async fn claim_emails(
        &self,
        lease: &EmailLease,
        now: i64,
        limit: u32,
    ) -> StoreResult<Vec<Email>>;
    /// Records what became of a message claimed with `lease_token` and releases it; false,
    /// recording nothing, when that lease no longer holds it.
    async fn finish_email(
        &self,
        id: &str,
        lease_token: &str,
        outcome: &EmailOutcome,
    ) -> StoreResult<bool>;
}

/// Everything the server stores, as one object handlers can hold.
pub trait Store:
    ResourceServerRepository
    + ClientRepository
    + ClientGrantRepository
    + ConsentRepository
    + UserRepository
    + ConnectionRepository
    + KeyRepository
    + SessionRepository
    + AuthorizationCodeRepository
    + RefreshTokenRepository
    + OpaqueTokenRepository
    + ThrottleRepository
    + RoleRepository
    + AccessRuleRepository
    + AdminRepository
    + AdminSessionRepository
    + AuditLogRepository
    + MaintenanceRepository
    + EmailRepository
    + crate::TicketRepository
    + crate::MfaRepository
    + crate::MfaTokenRepository
    + crate::DpopProofRepository
    + crate::TenantRepository
    + crate::WebauthnRepository
    + crate::JobRepository
    + crate::FederationRepository
    + crate::ActionRepository
    + Send
    + Sync
{
}

impl<T> Store for T where
    T: ResourceServerRepository
        + ClientRepository
        + ClientGrantRepository
        + ConsentRepository
        + UserRepository
        + ConnectionRepository
        + KeyRepository
        + SessionRepository
        + AuthorizationCodeRepository
        + RefreshTokenRepository
        + OpaqueTokenRepository
        + ThrottleRepository
        + RoleRepository
        + AccessRuleRepository
        + AdminRepository
        + AdminSessionRepository
        + AuditLogRepository
        + MaintenanceRepository
        + EmailRepository
        + crate::TicketRepository
        + crate::MfaRepository
        + crate::MfaTokenRepository
        + crate::DpopProofRepository
        + crate::TenantRepository
        + crate::WebauthnRepository
        + crate::JobRepository
        + crate::FederationRepository
        + crate::ActionRepository
        + Send
        + Sync
{
}
