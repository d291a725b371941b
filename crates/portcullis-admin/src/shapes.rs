//! The JSON shapes of tenant objects, as Auth0's Management API v2 writes them: one struct per
//! object, shared by the Management API (and its OpenAPI document) and the CLI's `--json`
//! output. The functions returning `Value` are the CLI's entry points.

use std::collections::BTreeMap;

use portcullis_core::{
    claims::rfc3339,
    federation::{identities, Identity},
};
use portcullis_store::{
    AccessRule, Client, ClientGrant, Consent, DatabaseConnection, FederatedIdentity, LogEvent,
    Permission, ResourceServer, Role, ScopeDefinition, User,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The database connection's name.
pub use portcullis_core::federation::DATABASE_CONNECTION;

/// A scope an API defines.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = ResourceServerScope)]
pub struct ScopeShape {
    /// The scope value, such as `read:messages`.
    pub value: String,
    pub description: String,
}

impl From<&ScopeDefinition> for ScopeShape {
    fn from(scope: &ScopeDefinition) -> Self {
        ScopeShape {
            value: scope.value.clone(),
            description: scope.description.clone(),
        }
    }
}

/// An API (resource server).
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = ResourceServer)]
pub struct ResourceServerShape {
    pub id: String,
    pub name: String,
    /// The audience clients ask tokens for.
    pub identifier: String,
    /// `RS256` (default), `PS256`, `ES256` or `HS256`.
    pub signing_alg: String,
    /// HS256 only: the secret the API's tokens are signed with, which the API verifies them
    /// with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
    pub scopes: Vec<ScopeShape>,
    /// Lifetime of access tokens from the token endpoint, in seconds.
    pub token_lifetime: i64,
    /// Lifetime of access tokens issued to browsers (implicit flow), in seconds.
    pub token_lifetime_for_web: i64,
    pub allow_offline_access: bool,
    pub skip_consent_for_verifiable_first_party_clients: bool,
    /// RBAC: users only get the scopes their permissions grant.
    pub enforce_policies: bool,
    /// `access_token`, `access_token_authz` (adds `permissions`), `rfc9068_profile` or
    /// `rfc9068_profile_authz`.
    pub token_dialect: String,
    /// The Management API itself: cannot be changed or deleted.
    pub is_system: bool,
}

impl ResourceServerShape {
    /// The shape with the API's opened signing secret, as Auth0 shows it.
    pub fn with_secret(mut self, secret: Option<portcullis_types::Secret>) -> Self {
        self.signing_secret = secret.map(portcullis_types::Secret::into_inner);
        self
    }
}

impl From<&ResourceServer> for ResourceServerShape {
    fn from(api: &ResourceServer) -> Self {
        ResourceServerShape {
            id: api.id.clone(),
            name: api.name.clone(),
            identifier: api.identifier.clone(),
            signing_alg: api.signing_alg.as_str().to_owned(),
            signing_secret: None,
            scopes: api.scopes.iter().map(ScopeShape::from).collect(),
            token_lifetime: api.token_lifetime,
            token_lifetime_for_web: api.token_lifetime_for_web,
            allow_offline_access: api.allow_offline_access,
            skip_consent_for_verifiable_first_party_clients: api
                .skip_consent_for_verifiable_first_party_clients,
            enforce_policies: api.enforce_policies,
            token_dialect: api.token_dialect.as_str().to_owned(),
            is_system: api.is_system,
        }
    }
}

/// ID token settings of a client.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = ClientJwtConfiguration)]
pub struct JwtConfigurationShape {
    /// Always `RS256`.
    pub alg: String,
    /// Lifetime of ID tokens, in seconds.
    pub lifetime_in_seconds: i64,
}

/// Refresh token behaviour of a client.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = ClientRefreshTokenConfiguration)]
pub struct RefreshTokenShape {
    /// `rotating` or `non-rotating`.
    pub rotation_type: String,
    /// Always `expiring`.
    pub expiration_type: String,
    /// Seconds a rotated token may be presented again without tripping reuse detection.
    pub leeway: i64,
    pub token_lifetime: i64,
    pub idle_token_lifetime: i64,
}

/// An application (client).
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = Client)]
pub struct ClientShape {
    pub client_id: String,
    pub name: String,
    /// `spa`, `regular_web`, `non_interactive` or `native`.
    pub app_type: String,
    pub is_first_party: bool,
    pub oidc_conformant: bool,
    pub callbacks: Vec<String>,
    pub allowed_logout_urls: Vec<String>,
    pub web_origins: Vec<String>,
    pub allowed_origins: Vec<String>,
    pub grant_types: Vec<String>,
    /// `none`, `client_secret_post` or `client_secret_basic`.
    pub token_endpoint_auth_method: String,
    pub jwt_configuration: JwtConfigurationShape,
    pub refresh_token: RefreshTokenShape,
    /// Auth0's application metadata: string properties the operator set.
    pub client_metadata: BTreeMap<String, String>,
    /// Only in the answer to creating the client or rotating its secret: it is not stored in
    /// clear and cannot be read again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl ClientShape {
    pub fn new(client: &Client, secret: Option<&str>) -> Self {
        ClientShape {
            client_id: client.client_id.clone(),
            name: client.name.clone(),
            app_type: client.app_type.as_str().to_owned(),
            is_first_party: client.is_first_party,
            oidc_conformant: true,
            callbacks: client.callbacks.clone(),
            allowed_logout_urls: client.allowed_logout_urls.clone(),
            web_origins: client.web_origins.clone(),
            allowed_origins: client.allowed_origins.clone(),
            grant_types: client
                .grant_types
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            token_endpoint_auth_method: client.token_endpoint_auth_method.as_str().to_owned(),
            jwt_configuration: JwtConfigurationShape {
                alg: "RS256".into(),
                lifetime_in_seconds: client.id_token_lifetime,
            },
            refresh_token: RefreshTokenShape {
                rotation_type: client.refresh_token.rotation_type.as_str().to_owned(),
                expiration_type: "expiring".into(),
                leeway: client.refresh_token.leeway,
                token_lifetime: client.refresh_token.token_lifetime,
                idle_token_lifetime: client.refresh_token.idle_token_lifetime,
            },
            client_metadata: client.client_metadata.clone(),
            client_secret: secret.map(str::to_owned),
        }
    }
}

/// Which scopes of which API a machine-to-machine client may get.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = ClientGrant)]
pub struct ClientGrantShape {
    pub id: String,
    pub client_id: String,
    /// The API's identifier.
    pub audience: String,
    pub scope: Vec<String>,
}

impl From<&ClientGrant> for ClientGrantShape {
    fn from(grant: &ClientGrant) -> Self {
        ClientGrantShape {
            id: grant.id.clone(),
            client_id: grant.client_id.clone(),
            audience: grant.audience.clone(),
            scope: grant.scope.clone(),
        }
    }
}

/// A user's consent to an application (Auth0's user grant), spelled as Auth0 spells it.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = UserGrant)]
pub struct UserGrantShape {
    pub id: String,
    /// The application's client id.
    #[serde(rename = "clientID")]
    pub client_id: String,
    pub user_id: String,
    /// The API's identifier, or the userinfo endpoint for OpenID Connect scopes alone.
    pub audience: String,
    /// The scopes the user approved.
    pub scope: Vec<String>,
}

impl From<&Consent> for UserGrantShape {
    fn from(consent: &Consent) -> Self {
        UserGrantShape {
            id: consent.id.clone(),
            client_id: consent.client_id.clone(),
            user_id: consent.user_id.clone(),
            audience: consent.audience.clone(),
            scope: consent.scope.iter().map(str::to_owned).collect(),
        }
    }
}

/// One identity of a user: always the database connection.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = UserIdentity)]
pub struct IdentityShape {
    pub connection: String,
    /// The user id without the `auth0|` prefix.
    pub user_id: String,
    pub provider: String,
    #[serde(rename = "isSocial")]
    pub is_social: bool,
}

/// A user.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserShape {
    /// `auth0|<hex>`: the `sub` of the user's tokens.
    pub user_id: String,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
    /// Absent until set, as in Auth0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Absent until set, as in Auth0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    pub nickname: String,
    pub picture: String,
    pub blocked: bool,
    pub created_at: String,
    pub updated_at: String,
    pub last_login: Option<String>,
    pub logins_count: i64,
    pub identities: Vec<IdentityShape>,
    /// What the user may edit about themselves: a JSON object.
    #[schema(value_type = Object)]
    pub user_metadata: Value,
    /// What only administrators set: a JSON object.
    #[schema(value_type = Object)]
    pub app_metadata: Value,
}

impl From<Identity> for IdentityShape {
    fn from(identity: Identity) -> Self {
        IdentityShape {
            connection: identity.connection,
            user_id: identity.user_id,
            provider: identity.provider,
            is_social: identity.is_social,
        }
    }
}

impl UserShape {
    /// The user with the identities linked to it from other users.
    pub fn with_linked(mut self, linked: &[FederatedIdentity]) -> Self {
        self.identities = identities(&self.user_id, linked)
            .into_iter()
            .map(IdentityShape::from)
            .collect();
        self
    }
}

impl From<&User> for UserShape {
    fn from(user: &User) -> Self {
        UserShape {
            user_id: user.user_id.clone(),
            email: user.email.clone(),
            email_verified: user.email_verified,
            name: user.name.clone(),
            given_name: user.given_name.clone(),
            family_name: user.family_name.clone(),
            nickname: user.nickname.clone(),
            picture: user.picture.clone(),
            blocked: user.blocked,
            created_at: rfc3339(user.created_at),
            updated_at: rfc3339(user.updated_at),
            last_login: user.last_login.map(rfc3339),
            logins_count: user.logins_count,
            identities: identities(&user.user_id, &[])
                .into_iter()
                .map(IdentityShape::from)
                .collect(),
            user_metadata: Value::Object(user.user_metadata.clone()),
            app_metadata: Value::Object(user.app_metadata.clone()),
        }
    }
}

/// `password_complexity_options` of a database connection.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = ConnectionPasswordComplexityOptions)]
pub struct PasswordComplexityShape {
    /// Replaces the level's minimum length, in characters (absent: the level's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
}

/// `password_dictionary` of a database connection.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = ConnectionPasswordDictionaryOptions)]
pub struct PasswordDictionaryShape {
    /// Refuse common passwords and the listed words.
    pub enable: bool,
    /// Words refused besides the common passwords (case-insensitive).
    pub dictionary: Vec<String>,
}

/// An option that is on or off.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = ConnectionEnableOption)]
pub struct EnableShape {
    pub enable: bool,
}

/// `password_history` of a database connection.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = ConnectionPasswordHistoryOptions)]
pub struct PasswordHistoryShape {
    pub enable: bool,
    /// How many of the latest passwords (the current one included) are refused: 1 to 24.
    pub size: u32,
}

/// The options of the database connection.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = ConnectionOptions)]
pub struct ConnectionOptionsShape {
    /// Users cannot sign themselves up.
    pub disable_signup: bool,
    /// Always false: users sign in with their email address.
    pub requires_username: bool,
    /// `none`, `low`, `fair`, `good` or `excellent`.
    #[serde(rename = "passwordPolicy")]
    pub password_policy: String,
    pub password_complexity_options: PasswordComplexityShape,
    pub password_dictionary: PasswordDictionaryShape,
    pub password_no_personal_info: EnableShape,
    pub password_history: PasswordHistoryShape,
    /// Always true: failed logins are throttled per account and per address.
    pub brute_force_protection: bool,
}

/// The database connection (strategy `auth0`).
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = Connection)]
pub struct ConnectionShape {
    /// `con_<hex>`.
    pub id: String,
    /// Always `Username-Password-Authentication`.
    pub name: String,
    pub display_name: String,
    /// Always `auth0`: users and passwords kept by this server.
    pub strategy: String,
    pub options: ConnectionOptionsShape,
    /// Every application: they all sign users in with this connection.
    pub enabled_clients: Vec<String>,
    pub is_domain_connection: bool,
    pub realms: Vec<String>,
}

impl ConnectionShape {
    /// The connection, used by the applications `client_ids`.
    pub fn new(connection: &DatabaseConnection, client_ids: Vec<String>) -> Self {
        ConnectionShape {
            id: connection.id.clone(),
            name: connection.name.clone(),
            display_name: connection.name.clone(),
            strategy: "auth0".into(),
            options: ConnectionOptionsShape {
                disable_signup: connection.disable_signup,
                requires_username: false,
                password_policy: connection.password_policy.as_str().to_owned(),
                password_complexity_options: PasswordComplexityShape {
                    min_length: connection.min_length,
                },
                password_dictionary: PasswordDictionaryShape {
                    enable: connection.dictionary.enable,
                    dictionary: connection.dictionary.entries.clone(),
                },
                password_no_personal_info: EnableShape {
                    enable: connection.no_personal_info,
                },
                password_history: PasswordHistoryShape {
                    enable: connection.history.enable,
                    size: connection.history.size,
                },
                brute_force_protection: true,
            },
            enabled_clients: client_ids,
            is_domain_connection: false,
            realms: vec![connection.name.clone()],
        }
    }
}

/// A role (RBAC).
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = Role)]
pub struct RoleShape {
    /// `rol_<hex>`.
    pub id: String,
    pub name: String,
    pub description: String,
}

impl From<&Role> for RoleShape {
    fn from(role: &Role) -> Self {
        RoleShape {
            id: role.id.clone(),
            name: role.name.clone(),
            description: role.description.clone(),
        }
    }
}

/// A permission: one scope of one API, held by a role or a user.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = Permission)]
pub struct PermissionShape {
    pub resource_server_identifier: String,
    pub permission_name: String,
    /// The API's name, when the API still exists.
    pub resource_server_name: String,
    /// The scope's description in the API.
    pub description: String,
}

impl PermissionShape {
    /// `api` is the API the permission names, when it exists.
    pub fn new(permission: &Permission, api: Option<&ResourceServer>) -> Self {
        let scope = api.and_then(|api| {
            api.scopes
                .iter()
                .find(|s| s.value == permission.permission_name)
        });
        PermissionShape {
            resource_server_identifier: permission.resource_server_identifier.clone(),
            permission_name: permission.permission_name.clone(),
            resource_server_name: api.map(|a| a.name.clone()).unwrap_or_default(),
            description: scope.map(|s| s.description.clone()).unwrap_or_default(),
        }
    }
}

/// A user holding a role.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = RoleUser)]
pub struct RoleUserShape {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub picture: String,
}

impl From<&User> for RoleUserShape {
    fn from(user: &User) -> Self {
        RoleUserShape {
            user_id: user.user_id.clone(),
            email: user.email.clone(),
            name: user.name.clone(),
            picture: user.picture.clone(),
        }
    }
}

/// One audit log event.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = Log)]
pub struct LogShape {
    pub log_id: String,
    /// RFC 3339 with milliseconds.
    pub date: String,
    /// Auth0's event type code (`s`, `f`, `seccft`, `sapi`, ...).
    #[serde(rename = "type")]
    pub event_type: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// Structured context, such as who changed what.
    #[schema(value_type = Object)]
    pub details: Value,
}

impl From<&LogEvent> for LogShape {
    fn from(event: &LogEvent) -> Self {
        let seconds = event.date.div_euclid(1000);
        let millis = event.date.rem_euclid(1000);
        let date = rfc3339(seconds).replace(".000Z", &format!(".{millis:03}Z"));
        LogShape {
            log_id: event.log_id.clone(),
            date,
            event_type: event.event_type.as_str().to_owned(),
            description: event.description.clone(),
            ip: event.ip.clone(),
            user_agent: event.user_agent.clone(),
            client_id: event.client_id.clone(),
            client_name: event.client_name.clone(),
            user_id: event.user_id.clone(),
            user_name: event.user_name.clone(),
            details: event.details.clone(),
        }
    }
}

/// An access rule of an API (a Portcullis extension): `scope` (or `*`) is granted to a user
/// only when `condition` holds.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = AccessRule)]
pub struct AccessRuleShape {
    /// `rul_<hex>`.
    pub id: String,
    pub resource_server_id: String,
    /// A scope the API defines, or `*` for all of them.
    pub scope: String,
    /// `{"kind": "email_verified"}`, `{"kind": "has_role", "role_id": ...}`,
    /// `{"kind": "client_in", "client_ids": [...]}` or
    /// `{"kind": "email_domain_in", "domains": [...]}`.
    #[schema(value_type = Object)]
    pub condition: Value,
    pub created_at: String,
}

impl From<&AccessRule> for AccessRuleShape {
    fn from(rule: &AccessRule) -> Self {
        AccessRuleShape {
            id: rule.id.clone(),
            resource_server_id: rule.resource_server_id.clone(),
            scope: rule.scope.clone(),
            condition: to_value(&rule.condition),
            created_at: rfc3339(rule.created_at),
        }
    }
}

fn to_value(shape: impl Serialize) -> Value {
    // Serialising these plain structs cannot fail.
    serde_json::to_value(shape).unwrap_or(Value::Null)
}

pub fn resource_server(api: &ResourceServer) -> Value {
    to_value(ResourceServerShape::from(api))
}

/// A client; `secret` only right after creation or rotation (it is not stored in clear).
pub fn client(client: &Client, secret: Option<&str>) -> Value {
    to_value(ClientShape::new(client, secret))
}

pub fn client_grant(grant: &ClientGrant) -> Value {
    to_value(ClientGrantShape::from(grant))
}

pub fn user(user: &User) -> Value {
    to_value(UserShape::from(user))
}

pub fn connection(connection: &DatabaseConnection, client_ids: Vec<String>) -> Value {
    to_value(ConnectionShape::new(connection, client_ids))
}

pub fn role(role: &Role) -> Value {
    to_value(RoleShape::from(role))
}

pub fn access_rule(rule: &AccessRule) -> Value {
    to_value(AccessRuleShape::from(rule))
}

pub fn log_event(event: &LogEvent) -> Value {
    to_value(LogShape::from(event))
}
