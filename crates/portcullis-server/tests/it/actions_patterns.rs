//! Auth0's documented Action patterns on real logins and verified tokens — a scope added and
//! one removed, roles into a namespaced claim — and hostile or sensitive ones at the server:
//! a memory bomb denies with an audit entry, and secrets reach the store only sealed.

use std::{path::PathBuf, sync::Arc, time::Duration};

use portcullis_core::admin::{
    apis::{self, NewApi},
    roles::{self, NewRole},
    Actor,
};
use portcullis_store::{LogFilter, Page, ScopeDefinition, Store};
use portcullis_store_postgres::{PgStore, PoolLimits};
use portcullis_store_sqlite::SqliteStore;
use portcullis_types::ActionTrigger;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    actions::{bind, deploy},
    helpers::*,
};

async fn access_token(app: &TestApp, spa: &Spa, scope: &str) -> (Value, Value) {
    let (params, verifier) = app
        .login_for_code(
            &browser(),
            spa,
            "ada@example.com",
            &[("audience", API), ("scope", scope)],
        )
        .await;
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("no code: {params:?}"));
    let response = app.exchange_code(spa, code, &verifier).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.expect("json");
    let access = app
        .verify(tokens["access_token"].as_str().expect("access"), API)
        .await;
    let id = app
        .verify(tokens["id_token"].as_str().expect("id"), &spa.client_id)
        .await;
    (access, id)
}

#[tokio::test]
async fn add_scope_and_remove_scope_change_the_access_tokens_scope() {
    let app = spawn_app().await;
    apis::create(
        &app.cx,
        &Actor::System,
        NewApi {
            name: "Messages".into(),
            identifier: API.into(),
            scopes: ["read:messages", "write:messages"]
                .map(|value| ScopeDefinition {
                    value: value.into(),
                    description: value.into(),
                })
                .to_vec(),
            token_lifetime: None,
            allow_offline_access: false,
            enforce_policies: false,
            token_dialect: None,
        },
    )
    .await
    .expect("api");
    let spa = app.create_spa(false).await;
    app.create_user("ada@example.com").await;
    let (access, _) = access_token(&app, &spa, "openid read:messages").await;
    assert_eq!(
        access["scope"], "openid read:messages",
        "without the Action"
    );

    // Auth0's "add a scope for an app" pattern, and a scope taken away.
    let action = deploy(
        &app,
        "Scopes for the SPA",
        ActionTrigger::PostLogin,
        r#"exports.onExecutePostLogin = async (event, api) => {
             if (event.client.name === 'Quickstart SPA') {
               api.accessToken.addScope('write:messages');
               api.accessToken.removeScope('read:messages');
             }
           };"#,
        &[],
    )
    .await;
    bind(&app, ActionTrigger::PostLogin, &[&action]).await;
    let (access, _) = access_token(&app, &spa, "openid read:messages").await;
    assert_eq!(access["scope"], "openid write:messages");
}

#[tokio::test]
async fn roles_go_into_a_namespaced_claim() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    let user_id = app.create_user("ada@example.com").await;
    for name in ["admin", "editor"] {
        let role = roles::create(
            &app.cx,
            &Actor::System,
            NewRole {
                name: name.into(),
                description: String::new(),
            },
        )
        .await
        .expect("role");
        roles::assign_users(
            &app.cx,
            &Actor::System,
            &role.id,
            std::slice::from_ref(&user_id),
        )
        .await
        .expect("assign");
    }
    // Auth0's documentation, unchanged.
    let action = deploy(
        &app,
        "Add roles",
        ActionTrigger::PostLogin,
        r#"exports.onExecutePostLogin = async (event, api) => {
             const namespace = 'https://my-app.example.com';
             if (event.authorization) {
               api.idToken.setCustomClaim(`${namespace}/roles`, event.authorization.roles);
               api.accessToken.setCustomClaim(`${namespace}/roles`, event.authorization.roles);
             }
           };"#,
        &[],
    )
    .await;
    bind(&app, ActionTrigger::PostLogin, &[&action]).await;
    let (access, id) = access_token(&app, &spa, "openid read:messages").await;
    let mut roles: Vec<String> =
        serde_json::from_value(access["https://my-app.example.com/roles"].clone()).expect("roles");
    roles.sort();
    assert_eq!(roles, ["admin", "editor"]);
    assert_eq!(
        id["https://my-app.example.com/roles"],
        access["https://my-app.example.com/roles"]
    );
}

#[tokio::test]
async fn a_memory_bomb_denies_the_login_with_an_audit_entry() {
    let app = spawn_app_with(|settings| {
        settings.actions.limits.memory_bytes = 16 * 1024 * 1024;
        settings.actions.limits.time = Duration::from_secs(20);
    })
    .await;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    app.create_user("ada@example.com").await;
    let action = deploy(
        &app,
        "Hog",
        ActionTrigger::PostLogin,
        "exports.onExecutePostLogin = async () => { \
           const hog = []; while (true) hog.push(new Array(100000).fill(hog.length)); };",
        &[],
    )
    .await;
    bind(&app, ActionTrigger::PostLogin, &[&action]).await;
    let (params, _) = app
        .login_for_code(&browser(), &spa, "ada@example.com", &[("audience", API)])
        .await;
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("access_denied"),
        "{params:?}"
    );
    assert!(!params.contains_key("code"));
    assert!(params["error_description"].contains("Hog"), "{params:?}");
    let (events, _) = app
        .store
        .list_logs(&LogFilter::default(), Page::ALL)
        .await
        .expect("logs");
    assert!(
        events
            .iter()
            .any(|e| e.description.contains("Hog") && e.description.contains("out of memory")),
        "{:?}",
        events.iter().map(|e| &e.description).collect::<Vec<_>>()
    );
    // The server still answers.
    let jwks = app
        .browser
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .expect("jwks");
    assert_eq!(jwks.status(), StatusCode::OK);
}

/// Everything the store holds, read past the store: SQLite's file and its write-ahead log, or
/// PostgreSQL's `pg_dump`.
enum Raw {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Raw {
    fn read(&self) -> String {
        match self {
            Raw::Sqlite(file) => {
                let mut bytes = std::fs::read(file).expect("database file");
                let wal = PathBuf::from(format!("{}-wal", file.display()));
                bytes.extend(std::fs::read(wal).unwrap_or_default());
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Raw::Postgres(url) => portcullis_testkit::postgres::dump(url).expect("pg_dump"),
        }
    }
}

#[tokio::test]
async fn action_secrets_are_stored_sealed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, raw): (Arc<dyn Store>, Raw) =
        if std::env::var("PORTCULLIS_TEST_BACKEND").as_deref() == Ok("postgres") {
            let url = portcullis_testkit::postgres::fresh_database().await;
            let limits = PoolLimits {
                max_connections: 8,
                min_connections: 0,
            };
            let store = PgStore::connect_with(&url, limits).await.expect("store");
            (Arc::new(store), Raw::Postgres(url))
        } else {
            let file = dir.path().join("raw.db");
            let store = SqliteStore::open(&file).await.expect("store");
            (Arc::new(store), Raw::Sqlite(file))
        };
    let app = spawn_app_on(dir, store, |_| {}).await;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    app.create_user("ada@example.com").await;
    const SECRET: &str = "pl41n-s3cret-value-never-stored";
    let action = deploy(
        &app,
        "Sealed secrets",
        ActionTrigger::PostLogin,
        "exports.onExecutePostLogin = async (event, api) => { \
           api.accessToken.setCustomClaim('https://example.com/len', event.secrets.API_TOKEN.length); };",
        &[("API_TOKEN", SECRET)],
    )
    .await;
    bind(&app, ActionTrigger::PostLogin, &[&action]).await;
    let (access, _) = access_token(&app, &spa, "openid").await;
    assert_eq!(
        access["https://example.com/len"],
        json!(SECRET.len()),
        "the Action opened its secret"
    );

    let contents = raw.read();
    assert!(
        contents.contains("Sealed secrets"),
        "the raw read sees the Action's row"
    );
    assert!(
        !contents.contains(SECRET),
        "the secret's plaintext is in the database"
    );
}
