//! The JSON shapes of tenant objects, as Auth0's Management API v2 writes them. The CLI's
//! `--json` output and the Management API share them.

use portcullis_core::claims::rfc3339;
use portcullis_store::{Client, ClientGrant, ResourceServer, User};
use serde_json::{json, Value};

pub fn resource_server(api: &ResourceServer) -> Value {
    json!({
        "id": api.id,
        "name": api.name,
        "identifier": api.identifier,
        "signing_alg": api.signing_alg,
        "scopes": api.scopes,
        "token_lifetime": api.token_lifetime,
        "token_lifetime_for_web": api.token_lifetime_for_web,
        "allow_offline_access": api.allow_offline_access,
        "skip_consent_for_verifiable_first_party_clients": api.skip_consent_for_verifiable_first_party_clients,
        "enforce_policies": api.enforce_policies,
        "token_dialect": api.token_dialect,
        "is_system": api.is_system,
    })
}

/// A client; `secret` only right after creation or rotation (it is not stored in clear).
pub fn client(client: &Client, secret: Option<&str>) -> Value {
    let mut value = json!({
        "client_id": client.client_id,
        "name": client.name,
        "app_type": client.app_type.as_str(),
        "is_first_party": client.is_first_party,
        "oidc_conformant": true,
        "callbacks": client.callbacks,
        "allowed_logout_urls": client.allowed_logout_urls,
        "web_origins": client.web_origins,
        "allowed_origins": client.allowed_origins,
        "grant_types": client.grant_types,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "jwt_configuration": {"alg": "RS256", "lifetime_in_seconds": client.id_token_lifetime},
        "refresh_token": {
            "rotation_type": client.refresh_token.rotation_type,
            "expiration_type": "expiring",
            "leeway": client.refresh_token.leeway,
            "token_lifetime": client.refresh_token.token_lifetime,
            "idle_token_lifetime": client.refresh_token.idle_token_lifetime,
        },
    });
    if let (Some(secret), Some(object)) = (secret, value.as_object_mut()) {
        object.insert("client_secret".into(), Value::String(secret.to_owned()));
    }
    value
}

pub fn client_grant(grant: &ClientGrant) -> Value {
    json!({"id": grant.id, "client_id": grant.client_id, "audience": grant.audience, "scope": grant.scope})
}

pub fn user(user: &User) -> Value {
    let id = user.user_id.strip_prefix("auth0|").unwrap_or(&user.user_id);
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
        "identities": [{"connection": "Username-Password-Authentication", "user_id": id, "provider": "auth0", "isSocial": false}],
    })
}
