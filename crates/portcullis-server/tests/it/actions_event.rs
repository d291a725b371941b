//! The `event` a post-login Action reads, field by field, after a real login: every field
//! Auth0 documents copied into custom claims and found in the verified tokens — the user with
//! its metadata and linked identities, the application with its `client_metadata`, the
//! request, the API, the user's RBAC roles, the transaction, the Action's secrets and the
//! login count.

use portcullis_core::admin::{
    applications::{self, ClientChanges},
    identities,
    roles::{self, NewRole},
    users::{self, UserChanges},
    Actor, MetadataChange,
};
use portcullis_types::ActionTrigger;
use reqwest::{redirect::Policy, StatusCode};
use serde_json::{json, Map, Value};

use crate::{
    actions::{bind, deploy},
    connections::connect,
    connections_provider::{answer_with, good_claims, spawn_provider},
    helpers::*,
};

/// Copies every field of the event into an access-token claim under one namespace.
const COPY_EVERYTHING: &str = r#"
exports.onExecutePostLogin = async (event, api) => {
  const ns = 'https://event.example/';
  const copy = {
    user_id: event.user.user_id,
    email: event.user.email,
    email_verified: event.user.email_verified,
    name: event.user.name,
    app_metadata: event.user.app_metadata,
    user_metadata: event.user.user_metadata,
    identities: event.user.identities,
    client_id: event.client.client_id,
    client_name: event.client.name,
    client_metadata: event.client.metadata,
    ip: event.request.ip,
    user_agent: event.request.user_agent,
    query: event.request.query,
    resource_server: event.resource_server.identifier,
    roles: event.authorization.roles,
    transaction: event.transaction,
    secret: event.secrets.SIGNING_HINT,
    logins_count: event.stats.logins_count,
  };
  for (const [name, value] of Object.entries(copy)) {
    api.accessToken.setCustomClaim(ns + name, value);
  }
  api.idToken.setCustomClaim(ns + 'email', event.user.email);
};
"#;

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

#[tokio::test]
async fn every_event_field_an_action_reads_reaches_the_tokens() {
    let app = spawn_app().await;
    app.create_api(true).await;
    let spa = app.create_spa(false).await;
    let user_id = app.create_user("ada@example.com").await;
    users::update(
        &app.cx,
        &Actor::System,
        &user_id,
        UserChanges {
            name: Some("Ada Lovelace".into()),
            email_verified: Some(true),
            user_metadata: Some(MetadataChange::Merge(object(json!({"theme": "dark"})))),
            app_metadata: Some(MetadataChange::Merge(object(json!({"plan": "gold"})))),
            ..UserChanges::default()
        },
    )
    .await
    .expect("user");
    applications::update(
        &app.cx,
        &Actor::System,
        &spa.client_id,
        ClientChanges {
            client_metadata: Some(object(json!({"SKIP_VERIFICATION": "yes"}))),
            ..ClientChanges::default()
        },
    )
    .await
    .expect("client_metadata");
    let role = roles::create(
        &app.cx,
        &Actor::System,
        NewRole {
            name: "Editor".into(),
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
    // A linked identity: a real sign-in at another provider, then linked to Ada.
    let provider = spawn_provider().await;
    connect(
        &app,
        &spa,
        "hostile",
        json!({ "issuer": provider.base, "client_id": "downstream" }),
    )
    .await;
    let (response, _) = answer_with(&app, &spa, &provider, "hostile", false, good_claims).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    identities::link(&app.cx, &Actor::System, &user_id, "oidc", "hostile|u-1")
        .await
        .expect("link");

    let action = deploy(
        &app,
        "Copy the event",
        ActionTrigger::PostLogin,
        COPY_EVERYTHING,
        &[("SIGNING_HINT", "s3cret-hint")],
    )
    .await;
    bind(&app, ActionTrigger::PostLogin, &[&action]).await;

    let agent = reqwest::Client::builder()
        .redirect(Policy::none())
        .cookie_store(true)
        .user_agent("EventTest/1.0 (X11)")
        .build()
        .expect("client");
    let scope = "openid profile email read:messages";
    let (params, verifier) = app
        .login_for_code(
            &agent,
            &spa,
            "ada@example.com",
            &[("audience", API), ("scope", scope), ("ui_locales", "fr")],
        )
        .await;
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("no code: {params:?}"));
    let response = app.exchange_code(&spa, code, &verifier).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.expect("json");
    let access = app
        .verify(tokens["access_token"].as_str().expect("access"), API)
        .await;
    let claim = |name: &str| access[format!("https://event.example/{name}")].clone();

    assert_eq!(claim("user_id"), user_id);
    assert_eq!(claim("email"), "ada@example.com");
    assert_eq!(claim("email_verified"), true);
    assert_eq!(claim("name"), "Ada Lovelace");
    assert_eq!(claim("app_metadata"), json!({"plan": "gold"}));
    assert_eq!(claim("user_metadata"), json!({"theme": "dark"}));
    let primary = user_id.strip_prefix("auth0|").expect("a database user");
    assert_eq!(
        claim("identities"),
        json!([
            {"provider": "auth0", "user_id": primary, "connection": "Username-Password-Authentication", "isSocial": false},
            {"provider": "oidc", "user_id": "hostile|u-1", "connection": "hostile", "isSocial": false},
        ])
    );
    assert_eq!(claim("client_id"), spa.client_id);
    assert_eq!(claim("client_name"), "Quickstart SPA");
    assert_eq!(
        claim("client_metadata"),
        json!({"SKIP_VERIFICATION": "yes"})
    );
    assert_eq!(claim("ip"), "127.0.0.1");
    assert_eq!(claim("user_agent"), "EventTest/1.0 (X11)");
    let query = claim("query");
    assert_eq!(query["ui_locales"], "fr", "{query}");
    assert_eq!(query["audience"], API, "{query}");
    assert_eq!(query["client_id"], spa.client_id, "{query}");
    assert_eq!(claim("resource_server"), API);
    assert_eq!(claim("roles"), json!(["Editor"]));
    let transaction = claim("transaction");
    assert_eq!(transaction["protocol"], "oidc-basic-profile");
    assert_eq!(
        transaction["requested_scopes"],
        json!(["openid", "profile", "email", "read:messages"])
    );
    assert_eq!(transaction["redirect_uri"], SPA_ORIGIN);
    assert_eq!(claim("secret"), "s3cret-hint");
    assert_eq!(claim("logins_count"), 1, "this login counted");
    let id = app
        .verify(tokens["id_token"].as_str().expect("id"), &spa.client_id)
        .await;
    assert_eq!(id["https://event.example/email"], "ada@example.com");

    // The next login counts one more; the unlinked identity is gone from the event.
    identities::unlink(&app.cx, &Actor::System, &user_id, "oidc", "hostile|u-1")
        .await
        .expect("unlink");
    let (params, verifier) = app
        .login_for_code(&browser(), &spa, "ada@example.com", &[("audience", API)])
        .await;
    let response = app.exchange_code(&spa, &params["code"], &verifier).await;
    let tokens: Value = response.json().await.expect("json");
    let access = app
        .verify(tokens["access_token"].as_str().expect("access"), API)
        .await;
    assert_eq!(access["https://event.example/logins_count"], 2);
    assert_eq!(
        access["https://event.example/identities"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}
