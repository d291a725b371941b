//! The `event` an Action receives, in Auth0's shapes, built from what the flow knows.

use portcullis_store::{Client, ResourceServer, Store, StoreError, User};
use portcullis_types::Scope;
use serde_json::{json, Map, Value};

use crate::{
    claims::rfc3339,
    federation::{primary_identity, Identity},
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

fn user_json(user: &User) -> Value {
    let Identity {
        provider,
        user_id,
        connection,
        is_social,
    } = primary_identity(&user.user_id);
    json!({
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
        "identities": [{
            "provider": provider,
            "user_id": user_id,
            "connection": connection,
            "isSocial": is_social,
        }],
    })
}

fn client_json(client: &Client) -> Value {
    json!({"client_id": client.client_id, "name": client.name, "metadata": {}})
}

impl PostLogin<'_> {
    pub fn to_json(&self) -> Value {
        let scopes: Vec<&str> = self.scope.iter().collect();
        let mut event = json!({
            "user": user_json(self.user),
            "client": client_json(self.client),
            "request": self.request.to_json(),
            "authorization": {"roles": self.roles},
            "transaction": {
                "protocol": self.protocol,
                "requested_scopes": scopes,
                "redirect_uri": self.redirect_uri,
                "locale": "en",
            },
            "connection": self.connection.to_json(),
            "stats": {"logins_count": self.user.logins_count},
            "tenant": {"id": self.tenant},
            "authentication": {"methods": [{"name": "pwd"}]},
        });
        if let (Some(api), Some(object)) = (self.api, event.as_object_mut()) {
            object.insert(
                "resource_server".into(),
                json!({"identifier": api.identifier}),
            );
        }
        event
    }
}

/// A credentials-exchange event: the client, the API and the request.
pub fn credentials_exchange(
    client: &Client,
    api: &ResourceServer,
    scope: &Scope,
    request: &RequestInfo,
    tenant: &str,
) -> Value {
    let scopes: Vec<&str> = scope.iter().collect();
    json!({
        "client": client_json(client),
        "resource_server": {"identifier": api.identifier},
        "request": request.to_json(),
        "transaction": {"requested_scopes": scopes, "protocol": protocol::CLIENT_CREDENTIALS},
        "tenant": {"id": tenant},
        "accessToken": {"scope": scopes},
    })
}
