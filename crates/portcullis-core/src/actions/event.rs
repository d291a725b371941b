//! The `event` an Action receives, in Auth0's shapes, built from what the flow knows.

use portcullis_store::{Client, FederatedIdentity, ResourceServer, Store, StoreError, User};
use portcullis_types::{ActionTrigger, Scope};
use serde_json::{json, Map, Value};

use crate::{
    claims::rfc3339,
    federation::{identities, primary_identity, DATABASE_CONNECTION},
};

/// The HTTP request that started the flow, as an Action sees it (`event.request`).
#[derive(Clone, Debug, Default)]
pub struct RequestInfo {
    pub ip: String,
    pub user_agent: String,
    pub method: String,
    pub hostname: String,
    /// The request's query (`/authorize`) or its body's non-secret parameters.
    pub query: Map<String, Value>,
}

impl RequestInfo {
    fn to_json(&self) -> Value {
        json!({
            "ip": self.ip,
            "user_agent": self.user_agent,
            "method": self.method,
            "hostname": self.hostname,
            "query": self.query,
            "geoip": {},
            "language": "",
        })
    }
}

/// How the login's tokens are being asked for (`event.transaction.protocol`).
pub mod protocol {
    pub const AUTHORIZE: &str = "oidc-basic-profile";
    pub const IMPLICIT: &str = "oidc-implicit-profile";
    pub const REFRESH: &str = "oauth2-refresh-token";
    pub const PASSWORD: &str = "oauth2-password";
    pub const CLIENT_CREDENTIALS: &str = "oauth2-client-credentials";

    /// The protocol of an `/authorize` login: the code flow's, or the implicit flow's.
    pub const fn authorize(code_flow: bool) -> &'static str {
        if code_flow {
            AUTHORIZE
        } else {
            IMPLICIT
        }
    }
}

/// The connection a login's user came through (`event.connection`): the one of the identity
/// the user id names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginConnection {
    /// `con_<hex>`; empty when the connection is gone.
    pub id: String,
    pub name: String,
    /// `auth0` for the database connection, else the connection's strategy.
    pub strategy: String,
}

impl LoginConnection {
    /// The connection of `user`'s primary identity, read from the store: the database
    /// connection for an `auth0|...` user, else the connection the identity names.
    pub async fn of(store: &dyn Store, user: &User) -> Result<Self, StoreError> {
        let identity = primary_identity(&user.user_id);
        let id = if user.is_database_user() {
            store.database_connection().await?.id
        } else {
            store
                .upstream_connection_by_name(&identity.connection)
                .await?
                .map(|connection| connection.id)
                .unwrap_or_default()
        };
        Ok(LoginConnection {
            id,
            name: identity.connection,
            strategy: identity.provider,
        })
    }

    fn to_json(&self) -> Value {
        json!({"id": self.id, "name": self.name, "strategy": self.strategy})
    }
}

/// What a post-login event is made of.
pub struct PostLogin<'a> {
    pub user: &'a User,
    /// The identities linked to the user from other users (`federation::linked_identities`).
    pub linked: &'a [FederatedIdentity],
    pub connection: &'a LoginConnection,
    pub client: &'a Client,
    pub api: Option<&'a ResourceServer>,
    /// The names of the user's roles.
    pub roles: Vec<String>,
    pub request: &'a RequestInfo,
    pub protocol: &'a str,
    pub scope: &'a Scope,
    pub redirect_uri: Option<&'a str>,
    pub tenant: &'a str,
}

/// `event.user` in Auth0's shape; `given_name` and `family_name` only when set, as Auth0 has
/// them.
fn user_json(user: &User, linked: &[FederatedIdentity]) -> Value {
    let mut json = json!({
        "user_id": user.user_id,
        "email": user.email,
        "email_verified": user.email_verified,
        "name": user.name,
        "nickname": user.nickname,
        "picture": user.picture,
        "blocked": user.blocked,
        "created_at": rfc3339(user.created_at),
        "updated_at": rfc3339(user.updated_at),
        "last_login": user.last_login.map(rfc3339),
        "logins_count": user.logins_count,
        "app_metadata": user.app_metadata,
        "user_metadata": user.user_metadata,
        "identities": identities(&user.user_id, linked),
    });
    for (field, value) in [
        ("given_name", &user.given_name),
        ("family_name", &user.family_name),
    ] {
        if let Some(value) = value {
            json[field] = json!(value);
        }
    }
    json
}

fn client_json(client: &Client) -> Value {
    json!({
        "client_id": client.client_id,
        "name": client.name,
        "metadata": client.client_metadata,
    })
}

impl PostLogin<'_> {
    pub fn to_json(&self) -> Value {
        post_login_json(PostLoginParts {
            user: user_json(self.user, self.linked),
            client: client_json(self.client),
            connection: self.connection.to_json(),
            api: self.api.map(|api| api.identifier.as_str()),
            roles: &self.roles,
            request: self.request,
            protocol: self.protocol,
            scopes: self.scope.iter().collect(),
            redirect_uri: self.redirect_uri,
            tenant: self.tenant,
            logins_count: self.user.logins_count,
        })
    }
}

/// What the post-login event's shape is filled with, from a real login or a sample.
struct PostLoginParts<'a> {
    user: Value,
    client: Value,
    connection: Value,
    api: Option<&'a str>,
    roles: &'a [String],
    request: &'a RequestInfo,
    protocol: &'a str,
    scopes: Vec<&'a str>,
    redirect_uri: Option<&'a str>,
    tenant: &'a str,
    logins_count: i64,
}

fn post_login_json(parts: PostLoginParts<'_>) -> Value {
    let mut event = json!({
        "user": parts.user,
        "client": parts.client,
        "request": parts.request.to_json(),
        "authorization": {"roles": parts.roles},
        "transaction": {
            "protocol": parts.protocol,
            "requested_scopes": parts.scopes,
            "redirect_uri": parts.redirect_uri,
            "locale": "en",
        },
        "connection": parts.connection,
        "stats": {"logins_count": parts.logins_count},
        "tenant": {"id": parts.tenant},
        "authentication": {"methods": [{"name": "pwd"}]},
    });
    if let (Some(identifier), Some(object)) = (parts.api, event.as_object_mut()) {
        object.insert("resource_server".into(), json!({"identifier": identifier}));
    }
    event
}

/// A credentials-exchange event: the client, the API and the request.
pub fn credentials_exchange(
    client: &Client,
    api: &ResourceServer,
    scope: &Scope,
    request: &RequestInfo,
    tenant: &str,
) -> Value {
    credentials_exchange_json(
        client_json(client),
        &api.identifier,
        scope.iter().collect(),
        request,
        tenant,
    )
}

fn credentials_exchange_json(
    client: Value,
    identifier: &str,
    scopes: Vec<&str>,
    request: &RequestInfo,
    tenant: &str,
) -> Value {
    json!({
        "client": client,
        "resource_server": {"identifier": identifier},
        "request": request.to_json(),
        "transaction": {"requested_scopes": scopes, "protocol": protocol::CLIENT_CREDENTIALS},
        "tenant": {"id": tenant},
        "accessToken": {"scope": scopes},
    })
}

/// The event a test run starts from (the dashboard's Test panel): the shape the trigger's
/// flow gives its Actions, filled with made-up values — a database user signing in to an
/// application with the code flow, or an application asking for a token for an API.
pub fn sample(trigger: ActionTrigger, tenant: &str) -> Value {
    const CREATED: i64 = 1_735_689_600; // 2025-01-01T00:00:00Z
    let request = RequestInfo {
        ip: "203.0.113.7".into(),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0".into(),
        method: "GET".into(),
        hostname: tenant.to_owned(),
        query: Map::new(),
    };
    let client = json!({"client_id": "sample-client-id", "name": "My App", "metadata": {}});
    match trigger {
        ActionTrigger::PostLogin => {
            let user = User {
                user_id: "auth0|5f7c8ec7c33c6c004bbafe82".into(),
                email: "j+smith@example.com".into(),
                email_verified: true,
                password_hash: String::new(),
                name: "Jane Smith".into(),
                given_name: Some("Jane".into()),
                family_name: Some("Smith".into()),
                nickname: "j+smith".into(),
                picture: "https://www.gravatar.com/avatar/0?d=identicon".into(),
                blocked: false,
                created_at: CREATED,
                updated_at: CREATED,
                last_login: Some(CREATED),
                logins_count: 4,
                user_metadata: Map::new(),
                app_metadata: Map::new(),
            };
            post_login_json(PostLoginParts {
                user: user_json(&user, &[]),
                client,
                connection: LoginConnection {
                    id: "con_0000000000000000".into(),
                    name: DATABASE_CONNECTION.into(),
                    strategy: "auth0".into(),
                }
                .to_json(),
                api: Some("https://api.example.com"),
                roles: &["editor".to_owned()],
                request: &request,
                protocol: protocol::AUTHORIZE,
                scopes: vec!["openid", "profile", "email"],
                redirect_uri: Some("https://app.example.com/callback"),
                tenant,
                logins_count: user.logins_count,
            })
        }
        ActionTrigger::CredentialsExchange => credentials_exchange_json(
            client,
            "https://api.example.com",
            vec!["read:messages"],
            &RequestInfo {
                method: "POST".into(),
                ..request
            },
            tenant,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_have_each_triggers_shape() {
        let login = sample(ActionTrigger::PostLogin, "tenant.example.com");
        assert_eq!(login["user"]["email"], "j+smith@example.com");
        assert_eq!(login["transaction"]["protocol"], protocol::AUTHORIZE);
        assert_eq!(login["tenant"]["id"], "tenant.example.com");
        assert!(login.get("accessToken").is_none());
        let exchange = sample(ActionTrigger::CredentialsExchange, "t");
        assert_eq!(exchange["accessToken"]["scope"][0], "read:messages");
        assert!(exchange.get("user").is_none());
    }
}
