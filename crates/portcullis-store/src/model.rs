use std::collections::BTreeMap;

use portcullis_types::{
    ClientAuthMethod, EventType, GrantType, PasswordStrength, RotationType, Scope, SigningAlg,
    TokenDialect,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A scope an API defines, as in Auth0's resource server `scopes` array.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeDefinition {
    pub value: String,
    #[serde(default)]
    pub description: String,
}

/// An API (OAuth resource server). `identifier` is the audience clients ask for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceServer {
    pub id: String,
    pub name: String,
    pub identifier: String,
    pub signing_alg: SigningAlg,
    pub scopes: Vec<ScopeDefinition>,
    /// Lifetime of access tokens from the token endpoint, in seconds.
    pub token_lifetime: i64,
    /// Lifetime of access tokens handed to browsers through the implicit flow, in seconds.
    pub token_lifetime_for_web: i64,
    pub allow_offline_access: bool,
    pub skip_consent_for_verifiable_first_party_clients: bool,
    /// RBAC: when set, users only get the scopes their permissions grant.
    pub enforce_policies: bool,
    /// Auth0's or RFC 9068's claims, with or without `permissions`.
    pub token_dialect: TokenDialect,
    /// Management API's own resource server cannot be deleted or renamed.
    pub is_system: bool,
    pub created_at: i64,
    /// HS256 APIs: the secret their tokens are signed with, sealed under the master key (the
    /// API's id as associated data); `None` for the other algorithms.
    #[serde(default)]
    pub signing_secret: Option<Vec<u8>>,
}

impl ResourceServer {
    /// Whether this API defines `scope`.
    pub fn defines_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s.value == scope)
    }
}

/// The kind of application, as Auth0's `app_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppType {
    Spa,
    RegularWeb,
    NonInteractive,
    Native,
}

impl AppType {
    pub fn as_str(self) -> &'static str {
        match self {
            AppType::Spa => "spa",
            AppType::RegularWeb => "regular_web",
            AppType::NonInteractive => "non_interactive",
            AppType::Native => "native",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "spa" => AppType::Spa,
            "regular_web" => AppType::RegularWeb,
            "non_interactive" | "m2m" => AppType::NonInteractive,
            "native" => AppType::Native,
            _ => return None,
        })
    }

    /// Applications of this type run where a secret cannot be kept, so they are created
    /// without one (`token_endpoint_auth_method: none`). Whether PKCE is required follows the
    /// application's authentication method, not its type.
    pub fn is_public(self) -> bool {
        matches!(self, AppType::Spa | AppType::Native)
    }
}

/// Refresh token behaviour of a client (Auth0's `refresh_token` object).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshTokenPolicy {
    pub rotation_type: RotationType,
    /// Seconds during which a just-rotated token may be presented again without tripping
    /// reuse detection (two tabs refreshing at once). Auth0's default is 0: any reuse of a
    /// rotated token revokes its family, so a stolen token used right after its owner's is
    /// caught.
    pub leeway: i64,
    /// Absolute lifetime of a refresh token family, in seconds.
    pub token_lifetime: i64,
    /// A refresh token unused for this long expires, in seconds.
    pub idle_token_lifetime: i64,
}

impl Default for RefreshTokenPolicy {
    fn default() -> Self {
        RefreshTokenPolicy {
            rotation_type: RotationType::Rotating,
            leeway: 0,
            token_lifetime: 2_592_000,
            idle_token_lifetime: 1_296_000,
        }
    }
}

/// An application (OAuth client).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    pub app_type: AppType,
    /// Keyed hash (HMAC-SHA-256) of the secret; `None` for public clients.
    pub client_secret_hash: Option<Vec<u8>>,
    pub token_endpoint_auth_method: ClientAuthMethod,
    pub callbacks: Vec<String>,
    pub allowed_logout_urls: Vec<String>,
    pub web_origins: Vec<String>,
    pub allowed_origins: Vec<String>,
    pub grant_types: Vec<GrantType>,
    /// Lifetime of ID tokens, in seconds (Auth0 `jwt_configuration.lifetime_in_seconds`).
    pub id_token_lifetime: i64,
    pub refresh_token: RefreshTokenPolicy,
    /// First-party clients skip the consent screen.
    pub is_first_party: bool,
    /// Auth0's `client_metadata`: string keys and values the operator chose, read by Actions
    /// (`event.client.metadata`); absent from documents of older servers.
    #[serde(default)]
    pub client_metadata: BTreeMap<String, String>,
    pub created_at: i64,
}

impl Client {
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// Whether the application holds a secret.
    pub fn is_confidential(&self) -> bool {
        self.token_endpoint_auth_method.is_confidential()
    }

    /// Whether `origin` is one of the application's Allowed Web Origins: the only origins that
    /// may receive a `web_message` response and frame the page that posts it. CORS origins
    /// are not enough: they may call our endpoints, not read authorization responses.
    pub fn is_web_origin(&self, origin: &str) -> bool {
        same_origin_in(&self.web_origins, origin)
    }

    /// Whether `origin` may call our endpoints cross-origin (CORS): a web origin or an allowed
    /// origin of the application.
    pub fn allows_cors_origin(&self, origin: &str) -> bool {
        self.is_web_origin(origin) || same_origin_in(&self.allowed_origins, origin)
    }

    /// Whether `redirect_uri` is one of the application's Allowed Callback URLs, byte for
    /// byte: a prefix, another case, a percent-encoding, userinfo or an explicit port would
    /// each let an attacker's URL pass for a registered one, so nothing is normalised.
    pub fn is_callback(&self, redirect_uri: &str) -> bool {
        self.callbacks
            .iter()
            .any(|callback| callback == redirect_uri)
    }

    /// Whether a `web_message` response may be posted to `redirect_uri`: its origin is one of
    /// the Allowed Web Origins (the response goes to the origin, not to the URL).
    pub fn accepts_web_message_to(&self, redirect_uri: &str) -> bool {
        origin_of(redirect_uri).is_some_and(|origin| self.is_web_origin(&origin))
    }
}

/// The ASCII serialisation of `uri`'s origin (`scheme://host[:port]`, the default port left
/// out), or `None` when it is not an absolute URL.
pub fn origin_of(uri: &str) -> Option<String> {
    url::Url::parse(uri)
        .ok()
        .map(|url| url.origin().ascii_serialization())
}

/// Whether `origin` is in `registered` (compared without a trailing slash).
fn same_origin_in(registered: &[String], origin: &str) -> bool {
    registered.iter().any(|o| o.trim_end_matches('/') == origin)
}

/// Which scopes of which API a machine-to-machine client may obtain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientGrant {
    pub id: String,
    pub client_id: String,
    pub audience: String,
    pub scope: Vec<String>,
}

/// A user's consent to an application (Auth0's user grant): the scopes the user approved for
/// the application at one audience. There is one per user, application and audience; a later
/// approval widens it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consent {
    /// `ugr_<hex>`.
    pub id: String,
    pub user_id: String,
    pub client_id: String,
    /// The API's identifier, or the userinfo endpoint when no API was asked for.
    pub audience: String,
    pub scope: Scope,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Which consents to list or delete: a field left `None` matches every consent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsentFilter {
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub audience: Option<String>,
}

/// A database-connection user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// `auth0|<hex>`, the `sub` of the user's tokens.
    pub user_id: String,
    pub email: String,
    pub email_verified: bool,
    /// PHC string of the argon2id hash.
    #[serde(skip_serializing)]
    pub password_hash: String,
    pub name: String,
    /// Auth0's `given_name` (OIDC's standard claim): absent until set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Auth0's `family_name` (OIDC's standard claim): absent until set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    pub nickname: String,
    pub picture: String,
    pub blocked: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_login: Option<i64>,
    pub logins_count: i64,
    /// What the user may edit about themselves (Auth0's `user_metadata`): a JSON object.
    #[serde(default)]
    pub user_metadata: Map<String, Value>,
    /// What only administrators set (Auth0's `app_metadata`): a JSON object.
    #[serde(default)]
    pub app_metadata: Map<String, Value>,
}

/// The prefix of the database connection's user ids.
pub const DATABASE_USER_PREFIX: &str = "auth0|";

impl User {
    /// Whether the user belongs to the database connection (signs in with a password), as
    /// opposed to a user created by a sign-in at another provider.
    pub fn is_database_user(&self) -> bool {
        self.user_id.starts_with(DATABASE_USER_PREFIX)
    }

    /// The store's unique email key. A database user's is the address in lower case, which is
    /// what a password login, a sign-up and a linking look up; a user of another provider
    /// shares an address with others (Auth0 keeps one user per connection), so theirs also
    /// names the user and is never found by an address alone.
    pub fn email_key(&self) -> String {
        let email = self.email.to_lowercase();
        if self.is_database_user() {
            email
        } else {
            format!("{email} {}", self.user_id)
        }
    }
}

/// The database connection (Auth0's `Username-Password-Authentication`): the one connection
/// users belong to, with how they sign up and which passwords they may choose. The store
/// always holds exactly one, created with the schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseConnection {
    /// `con_<hex>`, chosen once per tenant.
    pub id: String,
    pub name: String,
    /// Users cannot sign themselves up; only administrators create them.
    pub disable_signup: bool,
    pub password_policy: PasswordStrength,
    /// Replaces the level's minimum length (in characters) when set.
    pub min_length: Option<u32>,
    /// Common passwords (and the listed words) are refused.
    pub dictionary: PasswordDictionary,
    /// Passwords containing the user's name or email's local part are refused.
    pub no_personal_info: bool,
    /// A user's recent passwords are refused.
    pub history: PasswordHistory,
}

/// The dictionary check of a password policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordDictionary {
    pub enable: bool,
    /// Words refused besides the common passwords, compared case-insensitively.
    pub entries: Vec<String>,
}

/// The history check of a password policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordHistory {
    pub enable: bool,
    /// How many of the latest passwords (the current one included) are refused.
    pub size: u32,
}

/// Where a signing key is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Published in the JWKS, not yet signing: verifiers learn it before they meet it.
    Next,
    /// Signs every new token.
    Current,
    /// Published until the tokens it signed have expired.
    Previous,
    /// No longer published.
    Retired,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Current => "current",
            KeyState::Previous => "previous",
            KeyState::Retired => "retired",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "next" => KeyState::Next,
            "current" => KeyState::Current,
            "previous" => KeyState::Previous,
            "retired" => KeyState::Retired,
            _ => return None,
        })
    }
}

/// A signing key (RSA or P-256). The private half is PKCS#8 DER, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub kid: String,
    /// The one algorithm this key signs with (RS256, PS256 or ES256): each algorithm has its
    /// own keys, rotated on their own.
    pub alg: SigningAlg,
    pub state: KeyState,
    pub private_pkcs8: Vec<u8>,
    pub created_at: i64,
    /// For `Previous` keys: when the last token it signed expires.
    pub retire_after: Option<i64>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("state", &self.state)
            .field("private_pkcs8", &"[redacted]")
            .finish()
    }
}

/// A signed-in browser. The cookie holds a random token; the store keys it by its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginSession {
    pub id_hash: Vec<u8>,
    /// A public identifier, the `sid` claim of ID tokens.
    pub sid: String,
    pub user_id: String,
    pub auth_time: i64,
    /// The absolute end: the session ends then however much it is used.
    pub expires_at: i64,
    /// The idle end: moved forward when the session is used, never past `expires_at`.
    pub idle_expires_at: i64,
    /// The methods its login used (`pwd`, and after a second factor `mfa` and that factor's).
    pub amr: Vec<portcullis_types::AuthMethod>,
    /// When it last passed a second factor, if ever.
    pub mfa_time: Option<i64>,
}

/// What a sweep deleted, per kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SweepCounts {
    pub sessions: u64,
    pub admin_sessions: u64,
    pub codes: u64,
    pub refresh_tokens: u64,
    pub opaque_tokens: u64,
    pub throttle_counters: u64,
    pub log_events: u64,
    pub emails: u64,
    pub tickets: u64,
    pub dpop_proofs: u64,
    pub mfa_tokens: u64,
}

/// What a sweep deletes: everything expired by `now`, and more precisely bounded rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SweepBefore {
    pub now: i64,
    /// Authorization codes are kept this long after their expiry, so that a late replay is
    /// still recognised (and revokes what the code produced).
    pub codes_before: i64,
    /// Throttling counters of windows that started before this are over.
    pub throttle_windows_before: i64,
    /// Audit log events older than this (Unix milliseconds) go; `None` keeps them all.
    pub log_events_before_ms: Option<i64>,
    /// Past this many audit log events, the oldest go; `None` keeps them all.
    pub log_events_kept: Option<u64>,
    /// Outbox messages written before this go, whatever their status; `None` keeps them all.
    pub emails_before: Option<i64>,
}

/// A pending authorization code. Stored by hash; redeemed at most once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationCode {
    pub code_hash: Vec<u8>,
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub audience: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub sid: String,
    pub auth_time: i64,
    pub expires_at: i64,
    /// The session's methods when the code was issued: the tokens' `amr`.
    pub amr: Vec<portcullis_types::AuthMethod>,
    /// The `acr` the request asked for and the login met, for the ID token.
    pub acr: Option<String>,
    /// The thumbprint of the DPoP key the request named (`dpop_jkt`): only a proof by that key
    /// redeems the code.
    pub dpop_jkt: Option<String>,
    /// What the login's post-login Actions set for the tokens (JSON), if anything.
    pub actions: Option<Value>,
}

/// A refresh token. Tokens of one login form a family; rotation links each to its successor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshToken {
    pub token_hash: Vec<u8>,
    pub family_id: String,
    pub client_id: String,
    pub user_id: String,
    pub audience: Option<String>,
    pub scope: String,
    pub sid: String,
    pub auth_time: i64,
    pub created_at: i64,
    /// Absolute end of the family.
    pub family_expires_at: i64,
    /// End of this token if unused.
    pub idle_expires_at: i64,
    /// When this token was exchanged for its successor.
    pub rotated_at: Option<i64>,
    pub revoked: bool,
    /// The RFC 7638 thumbprint of the DPoP key the family is bound to (a public client's
    /// tokens requested with a proof): a refresh needs a proof by the same key.
    pub dpop_jkt: Option<String>,
}

/// The outcome of presenting a refresh token for rotation, decided atomically by the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RotationOutcome {
    /// The token was live and is now rotated; the caller issues the successor.
    Rotated(RefreshToken),
    /// The token had been rotated within the reuse interval: treat as a benign retry and issue
    /// another token of the same family.
    ReusedWithinLeeway(RefreshToken),
    /// The token had been rotated before the reuse interval: its family is now revoked.
    ReuseDetected(RefreshToken),
    /// A non-rotating token was live and stays so, its idle expiry moved forward: no successor
    /// is issued (Auth0's `rotation_type: non-rotating`).
    Kept(RefreshToken),
    /// Unknown, revoked or expired.
    Invalid,
}

/// An opaque access token: issued when no API was asked for, good only at `/userinfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpaqueToken {
    pub token_hash: Vec<u8>,
    pub client_id: String,
    pub user_id: String,
    pub scope: String,
    pub expires_at: i64,
}

/// A named set of permissions users can be given (RBAC).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// `rol_<hex>`.
    pub id: String,
    pub name: String,
    pub description: String,
    pub created_at: i64,
}

/// One scope of one API, held by a role or directly by a user.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Permission {
    /// The API's identifier (its audience).
    pub resource_server_identifier: String,
    /// The scope value, such as `read:messages`.
    pub permission_name: String,
}

/// What must hold for an access rule's scope to be granted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RuleCondition {
    /// The user's email address is verified.
    EmailVerified,
    /// The user holds the role (directly assigned).
    HasRole { role_id: String },
    /// The token is requested by one of these applications.
    ClientIn { client_ids: Vec<String> },
    /// The user's email address is verified and in one of these domains.
    EmailDomainIn { domains: Vec<String> },
}

/// A declarative access policy on one API: `scope` (or every scope, when `*`) is granted to a
/// user only when `condition` holds. Evaluated at token issuance; a denied scope is left out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRule {
    /// `rul_<hex>`.
    pub id: String,
    /// The API's id (not its identifier): rules go with the API when it is deleted.
    pub resource_server_id: String,
    pub scope: String,
    pub condition: RuleCondition,
    pub created_at: i64,
}

/// An administrator of the tenant: signs in to the dashboard. Not a user of the tenant's apps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Admin {
    /// `adm_<hex>`.
    pub id: String,
    pub email: String,
    /// PHC string of the argon2id hash.
    #[serde(skip_serializing)]
    pub password_hash: String,
    pub created_at: i64,
}

/// A signed-in dashboard administrator's browser. Like [`LoginSession`], the cookie holds a
/// random token and the store keys it by its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminSession {
    pub id_hash: Vec<u8>,
    pub admin_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// The administrator has given the password but not yet the second factor: the session
    /// opens nothing but the second-factor page.
    pub mfa_pending: bool,
}

/// One entry of the audit log (Auth0's "Logs"). Never holds a secret or a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEvent {
    /// Sortable: later events have greater ids.
    pub log_id: String,
    /// Unix milliseconds.
    pub date: i64,
    /// Auth0's type code.
    pub event_type: EventType,
    pub description: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    /// Structured context (for admin changes: who, which object, what).
    pub details: serde_json::Value,
}

/// Which log events to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogFilter {
    pub event_type: Option<EventType>,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
}

#[cfg(test)]
mod redirect_uri_properties {
    //! Redirect URI matching: only a registered callback, byte for byte, receives codes and
    //! tokens; the tricks that make another URL look like it never pass.

    use portcullis_types::{ClientAuthMethod, GrantType};
    use proptest::prelude::*;

    use super::*;

    fn client(callbacks: Vec<String>, web_origins: Vec<String>) -> Client {
        Client {
            client_id: "client".into(),
            name: "App".into(),
            app_type: AppType::Spa,
            client_secret_hash: None,
            token_endpoint_auth_method: ClientAuthMethod::None,
            callbacks,
            allowed_logout_urls: Vec::new(),
            web_origins,
            allowed_origins: Vec::new(),
            grant_types: vec![GrantType::AuthorizationCode],
            id_token_lifetime: 36_000,
            refresh_token: RefreshTokenPolicy::default(),
            is_first_party: true,
            client_metadata: BTreeMap::new(),
            created_at: 0,
        }
    }

    /// A registered callback: `scheme://host[:port]/path`, lower case as people register them.
    fn callback() -> impl Strategy<Value = String> {
        (
            prop_oneof![Just("https"), Just("http")],
            "[a-z]{1,8}(\\.[a-z]{2,4}){0,2}",
            prop::option::of(1024u16..65535),
            "(/[a-z0-9_-]{1,6}){0,3}",
        )
            .prop_map(|(scheme, host, port, path)| match port {
                Some(port) => format!("{scheme}://{host}:{port}{path}"),
                None => format!("{scheme}://{host}{path}"),
            })
    }

    /// Ways of writing another URL that a lax comparison would take for `registered`.
    fn tricks(registered: &str) -> Vec<String> {
        let (scheme, rest) = registered.split_once("://").expect("absolute");
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let default_port = if scheme == "https" { 443 } else { 80 };
        let mut tricks = vec![
            format!("{registered}.evil.example"),
            format!("{registered}/"),
            format!("{registered}/../evil"),
            format!("{registered}?next=https://evil.example"),
            format!("{registered}#x"),
            format!("{registered}%2F"),
            format!("{registered}@evil.example"),
            format!("{scheme}://evil@{authority}{path}"),
            format!("{scheme}://{authority}@evil.example{path}"),
            format!("{scheme}://{authority}:{default_port}{path}"),
            format!("{}://{rest}", scheme.to_ascii_uppercase()),
            format!("{scheme}://{}{path}", authority.to_ascii_uppercase()),
            format!(" {registered}"),
            format!("{registered} "),
            format!("{registered}\n"),
        ];
        if let Some(trimmed) = registered.strip_suffix(|c: char| c != '/') {
            tricks.push(trimmed.to_owned());
        }
        if let Some(at) = path.find(|c: char| c.is_ascii_alphanumeric()) {
            let byte = path.as_bytes()[at];
            let encoded = format!("{}%{byte:02X}{}", &path[..at], &path[at + 1..]);
            tricks.push(format!("{scheme}://{authority}{encoded}"));
            let upper = format!("{}{}", &path[..at], &path[at..].to_ascii_uppercase());
            tricks.push(format!("{scheme}://{authority}{upper}"));
        }
        if scheme == "https" {
            tricks.push(format!("http://{rest}"));
        }
        tricks.retain(|trick| trick != registered);
        tricks
    }

    proptest! {
        #[test]
        fn a_registered_callback_matches_itself(callbacks in prop::collection::vec(callback(), 1..4)) {
            let app = client(callbacks.clone(), Vec::new());
            for registered in &callbacks {
                prop_assert!(app.is_callback(registered));
            }
        }

        #[test]
        fn no_trick_passes_for_a_registered_callback(registered in callback()) {
            let app = client(vec![registered.clone()], Vec::new());
            for trick in tricks(&registered) {
                prop_assert!(!app.is_callback(&trick), "{trick:?} passed for {registered:?}");
            }
        }

        #[test]
        fn any_other_string_fails(registered in callback(), other in "\\PC{0,40}") {
            let app = client(vec![registered.clone()], Vec::new());
            prop_assert_eq!(app.is_callback(&other), other == registered);
        }

        #[test]
        fn a_web_message_goes_only_to_a_registered_origin(
            registered in callback(),
            other in callback(),
        ) {
            let origin = origin_of(&registered).expect("absolute");
            let app = client(Vec::new(), vec![origin.clone()]);
            prop_assert!(app.accepts_web_message_to(&registered));
            prop_assert_eq!(
                app.accepts_web_message_to(&other),
                origin_of(&other) == Some(origin.clone())
            );
            for trick in [
                format!("{origin}.evil.example/"),
                format!("{origin}@evil.example/"),
                origin.replacen("://", "://evil.example#", 1),
            ] {
                prop_assert!(!app.accepts_web_message_to(&trick), "{trick:?} passed for {origin:?}");
            }
        }
    }
}
