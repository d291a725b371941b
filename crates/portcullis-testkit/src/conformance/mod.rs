//! The storage conformance suite: what every `Store` implementation must do, one function per
//! behaviour. Each takes an empty store; `tests/it` runs each against SQLite and PostgreSQL.
//! Concurrency is real: the racing calls are polled together and each holds its own
//! connection of the store's pool.

use futures::future::join_all;
use portcullis_store::{
    AccessRule, Admin, AdminSession, AppType, AuthorizationCode, Client, ClientGrant, KeyState,
    LogEvent, LogFilter, LoginSession, OpaqueToken, Page, Permission, Redeemed, RefreshToken,
    RefreshTokenPolicy, ResourceServer, Role, RotationOutcome, RuleCondition, ScopeDefinition,
    SigningKey, Store, StoreError, SweepBefore, SweepCounts, User,
};
use portcullis_types::{ClientAuthMethod, GrantType, RotationType, SigningAlg, TokenDialect};

mod actions;
mod admin;
mod connection;
mod consents;
mod dpop;
mod emails;
mod keys;
mod maintenance;
mod mfa;
mod mfa_tokens;
mod protocol;
mod rbac;
mod tenant;
mod tickets;
mod webauthn;

pub use self::{
    actions::*, admin::*, connection::*, consents::*, dpop::*, emails::*, keys::*, maintenance::*,
    mfa::*, mfa_tokens::*, protocol::*, rbac::*, tenant::*, tickets::*, webauthn::*,
};

const NOW: i64 = 1_800_000_000;

fn api(n: u32) -> ResourceServer {
    ResourceServer {
        id: format!("api{n:03}"),
        name: format!("API {n}"),
        identifier: format!("https://api{n}.example"),
        signing_alg: SigningAlg::RS256,
        scopes: vec![ScopeDefinition {
            value: "read:messages".into(),
            description: "Read".into(),
        }],
        token_lifetime: 86_400,
        token_lifetime_for_web: 7_200,
        allow_offline_access: false,
        skip_consent_for_verifiable_first_party_clients: true,
        enforce_policies: false,
        token_dialect: TokenDialect::AccessToken,
        is_system: false,
        created_at: NOW + i64::from(n),
        signing_secret: None,
    }
}

fn client(n: u32) -> Client {
    Client {
        client_id: format!("client{n:03}"),
        name: format!("Client {n}"),
        app_type: AppType::RegularWeb,
        client_secret_hash: Some(vec![n as u8; 32]),
        token_endpoint_auth_method: ClientAuthMethod::ClientSecretPost,
        callbacks: vec![format!("https://app{n}.example/callback")],
        allowed_logout_urls: vec![],
        web_origins: vec![format!("https://app{n}.example")],
        allowed_origins: vec![format!("https://other{n}.example")],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        id_token_lifetime: 36_000,
        refresh_token: RefreshTokenPolicy {
            leeway: 10,
            ..RefreshTokenPolicy::default()
        },
        is_first_party: true,
        client_metadata: [("tier".to_owned(), format!("gold {n}"))].into(),
        created_at: NOW + i64::from(n),
    }
}

fn user(n: u32, email: &str) -> User {
    User {
        user_id: format!("auth0|{n:024}"),
        email: email.into(),
        email_verified: false,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        name: email.into(),
        given_name: None,
        family_name: None,
        nickname: email.split('@').next().unwrap_or_default().into(),
        picture: String::new(),
        blocked: false,
        created_at: NOW + i64::from(n),
        updated_at: NOW + i64::from(n),
        last_login: None,
        logins_count: 0,
        user_metadata: Default::default(),
        app_metadata: Default::default(),
    }
}

fn code(hash: u8, expires_at: i64) -> AuthorizationCode {
    AuthorizationCode {
        code_hash: vec![hash; 32],
        client_id: "client001".into(),
        user_id: "auth0|1".into(),
        redirect_uri: "https://app1.example/callback".into(),
        scope: "openid offline_access".into(),
        audience: Some("https://api1.example".into()),
        nonce: Some("n".into()),
        code_challenge: Some("c".into()),
        sid: "sid".into(),
        auth_time: NOW,
        expires_at,
        amr: vec![portcullis_types::AuthMethod::Pwd],
        acr: None,
        dpop_jkt: Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".into()),
        // What a login's Actions set travels with its code and comes back unchanged.
        actions: Some(serde_json::json!({"access_claims": {"https://example.com/a": [1]}})),
    }
}

fn refresh(hash: u8, family: &str) -> RefreshToken {
    RefreshToken {
        token_hash: vec![hash; 32],
        family_id: family.into(),
        client_id: "client001".into(),
        user_id: "auth0|1".into(),
        audience: Some("https://api1.example".into()),
        scope: "openid offline_access".into(),
        sid: "sid".into(),
        auth_time: NOW,
        created_at: NOW,
        family_expires_at: NOW + 1_000,
        idle_expires_at: NOW + 500,
        rotated_at: None,
        revoked: false,
        dpop_jkt: None,
    }
}

fn key(kid: &str, state: KeyState) -> SigningKey {
    SigningKey {
        kid: kid.into(),
        alg: SigningAlg::RS256,
        state,
        private_pkcs8: kid.as_bytes().repeat(8),
        created_at: NOW,
        retire_after: None,
    }
}

fn is_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Conflict(_)))
}

fn is_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::NotFound))
}

fn role(n: u32, name: &str) -> Role {
    Role {
        id: format!("rol_{n:016}"),
        name: name.into(),
        description: format!("{name} role"),
        created_at: NOW + i64::from(n),
    }
}

fn permission(api: &ResourceServer, name: &str) -> Permission {
    Permission {
        resource_server_identifier: api.identifier.clone(),
        permission_name: name.into(),
    }
}
