//! Auth0 Actions at the triggers, over real HTTP: deployed and bound Actions' claims in the
//! verified tokens, in the bound order, with their secrets; deny, throw and an infinite loop
//! ending the login with `access_denied`; restricted claims left out; metadata persisted; the
//! credentials-exchange trigger at client_credentials.

use std::time::{Duration, Instant};

use portcullis_core::admin::{
    actions::{self, ActionRef, BindingInput, NewAction, SecretInput},
    Actor,
};
use portcullis_store::{LogFilter, Page};
use portcullis_types::ActionTrigger;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

/// Creates and deploys an Action; returns its id.
pub(crate) async fn deploy(
    app: &TestApp,
    name: &str,
    trigger: ActionTrigger,
    code: &str,
    secrets: &[(&str, &str)],
) -> String {
    let view = actions::create(
        &app.cx,
        &Actor::System,
        NewAction {
            name: name.into(),
            trigger,
            code: code.into(),
            runtime: None,
            secrets: secrets
                .iter()
                .map(|(name, value)| SecretInput {
                    name: (*name).into(),
                    value: Some((*value).into()),
                })
                .collect(),
        },
    )
    .await
    .expect("create");
    actions::deploy(&app.cx, &Actor::System, &view.action.id)
        .await
        .expect("deploy");
    // Written straight through core, not the Management API: the server's copy of the bound
    // versions is dropped here, as the API drops it after a write.
    app.tenant_changed();
    view.action.id
}

pub(crate) async fn bind(app: &TestApp, trigger: ActionTrigger, ids: &[&str]) {
    let inputs = ids
        .iter()
        .map(|id| BindingInput {
            action: ActionRef::Id((*id).into()),
            display_name: None,
        })
        .collect();
    actions::set_bindings(&app.cx, &Actor::System, trigger, inputs)
        .await
        .expect("bind");
    app.tenant_changed();
}

async fn signed_in_setup(app: &TestApp) -> Spa {
    app.create_api(true).await;
    let spa = app.create_spa(false).await;
    app.create_user("ada@example.com").await;
    spa
}

/// Logs in and exchanges the code: the token response.
async fn login_tokens(app: &TestApp, spa: &Spa) -> Value {
    let browser = browser();
    let scope = "openid profile email read:messages offline_access";
    let (params, verifier) = app
        .login_for_code(
            &browser,
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
    response.json().await.unwrap()
}

/// Logs in and returns the callback's parameters (an error, when an Action denied).
async fn login_callback(app: &TestApp, spa: &Spa) -> std::collections::HashMap<String, String> {
    let browser = browser();
    app.login_for_code(&browser, spa, "ada@example.com", &[("audience", API)])
        .await
        .0
}

async fn log_descriptions(app: &TestApp) -> Vec<String> {
    let (events, _) = app
        .store
        .list_logs(&LogFilter::default(), Page::ALL)
        .await
        .unwrap();
    events.into_iter().map(|e| e.description).collect()
}

#[tokio::test]
async fn claims_of_bound_actions_reach_the_verified_tokens_in_order() {
    let app = spawn_app().await;
    let spa = signed_in_setup(&app).await;
    let roles = deploy(
        &app,
        "Roles",
        ActionTrigger::PostLogin,
        r#"exports.onExecutePostLogin = async (event, api) => {
             const namespace = 'https://my-app.example.com';
             api.idToken.setCustomClaim(`${namespace}/email`, event.user.email);
             api.accessToken.setCustomClaim(`${namespace}/order`, 'first');
             api.accessToken.setCustomClaim(`${namespace}/key`, event.secrets.API_KEY);
             api.accessToken.setCustomClaim('sub', 'forged');
             api.idToken.setCustomClaim('email', 'forged@example.com');
             api.accessToken.setCustomClaim(`${namespace}/protocol`, event.transaction.protocol);
           };"#,
        &[("API_KEY", "k-123")],
    )
    .await;
    let second = deploy(
        &app,
        "Second",
        ActionTrigger::PostLogin,
        "exports.onExecutePostLogin = async (event, api) => { \
           api.accessToken.setCustomClaim('https://my-app.example.com/order', 'second'); };",
        &[],
    )
    .await;
    bind(&app, ActionTrigger::PostLogin, &[&roles, &second]).await;

    let tokens = login_tokens(&app, &spa).await;
    let access = app
        .verify(tokens["access_token"].as_str().unwrap(), API)
        .await;
    assert_eq!(
        access["https://my-app.example.com/order"], "second",
        "bound order"
    );
    assert_eq!(
        access["https://my-app.example.com/key"], "k-123",
        "secrets readable"
    );
    assert_eq!(
        access["https://my-app.example.com/protocol"],
        "oidc-basic-profile"
    );
    assert!(
        access["sub"].as_str().unwrap().starts_with("auth0|"),
        "a restricted claim is left out"
    );
    let id = app
        .verify(tokens["id_token"].as_str().unwrap(), &spa.client_id)
        .await;
    assert_eq!(id["https://my-app.example.com/email"], "ada@example.com");
    assert_eq!(id["email"], "ada@example.com");

    // The other order: the first Action's value is the last word.
    bind(&app, ActionTrigger::PostLogin, &[&second, &roles]).await;
    let tokens = login_tokens(&app, &spa).await;
    let access = app
        .verify(tokens["access_token"].as_str().unwrap(), API)
        .await;
    assert_eq!(access["https://my-app.example.com/order"], "first");

    // A refresh runs the Actions again, as a refresh.
    let refreshed: Value = app
        .browser
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", &spa.client_id),
            (
                "refresh_token",
                tokens["refresh_token"]
                    .as_str()
                    .expect("offline_access granted"),
            ),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = app
        .verify(refreshed["access_token"].as_str().unwrap(), API)
        .await;
    assert_eq!(
        access["https://my-app.example.com/protocol"],
        "oauth2-refresh-token"
    );
}

#[tokio::test]
async fn deny_ends_the_login_with_access_denied_at_the_redirect_uri() {
    let app = spawn_app().await;
    let spa = signed_in_setup(&app).await;
    let id = deploy(
        &app,
        "Deny unverified",
        ActionTrigger::PostLogin,
        "exports.onExecutePostLogin = async (event, api) => { \
           if (event.user.email.endsWith('@example.com')) api.access.deny('Not from here.'); };",
        &[],
    )
    .await;
    bind(&app, ActionTrigger::PostLogin, &[&id]).await;
    let params = login_callback(&app, &spa).await;
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("access_denied")
    );
    assert_eq!(
        params.get("error_description").map(String::as_str),
        Some("Not from here.")
    );
    assert!(!params.contains_key("code"));
    assert!(log_descriptions(&app)
        .await
        .iter()
        .any(|d| d.contains("Deny unverified")));
}

#[tokio::test]
async fn a_throw_or_an_infinite_loop_denies_with_an_audit_entry_naming_the_action() {
    let app = spawn_app_with(|settings| {
        settings.actions.limits.time = Duration::from_millis(200);
    })
    .await;
    let spa = signed_in_setup(&app).await;
    let thrower = deploy(
        &app,
        "Thrower",
        ActionTrigger::PostLogin,
        "exports.onExecutePostLogin = async () => { throw new Error('kaput'); };",
        &[],
    )
    .await;
    bind(&app, ActionTrigger::PostLogin, &[&thrower]).await;
    let params = login_callback(&app, &spa).await;
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("access_denied")
    );
    assert!(params["error_description"].contains("Thrower"));
    let logs = log_descriptions(&app).await;
    assert!(
        logs.iter()
            .any(|d| d.contains("Thrower") && d.contains("kaput")),
        "{logs:?}"
    );

    let looping = deploy(
        &app,
        "Looper",
        ActionTrigger::PostLogin,
        "exports.onExecutePostLogin = async () => { while (true) {} };",
        &[],
    )
    .await;
    bind(&app, ActionTrigger::PostLogin, &[&looping]).await;
    let started = Instant::now();
    let params = login_callback(&app, &spa).await;
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("access_denied")
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let logs = log_descriptions(&app).await;
    assert!(
        logs.iter()
            .any(|d| d.contains("Looper") && d.contains("time limit")),
        "{logs:?}"
    );
    // The server still answers.
    let health = app
        .browser
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn metadata_set_by_an_action_is_persisted() {
    let app = spawn_app().await;
    let spa = signed_in_setup(&app).await;
    let id = deploy(
        &app,
        "Metadata",
        ActionTrigger::PostLogin,
        "exports.onExecutePostLogin = async (event, api) => { \
           api.user.setAppMetadata('plan', 'gold'); \
           api.user.setUserMetadata('theme', {dark: true}); };",
        &[],
    )
    .await;
    bind(&app, ActionTrigger::PostLogin, &[&id]).await;
    login_tokens(&app, &spa).await;
    let user = app
        .store
        .user_by_email("ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.app_metadata["plan"], "gold");
    assert_eq!(user.user_metadata["theme"], json!({"dark": true}));
}

#[tokio::test]
async fn credentials_exchange_sets_a_claim_or_denies() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let (client_id, secret) = app.create_m2m(&["read:messages"]).await;
    let id = deploy(
        &app,
        "Machine claim",
        ActionTrigger::CredentialsExchange,
        "exports.onExecuteCredentialsExchange = async (event, api) => { \
           if (event.request.body && event.request.body.deny) api.access.deny('no'); \
           api.accessToken.setCustomClaim('https://example.com/api', event.resource_server.identifier); \
           api.accessToken.setCustomClaim('https://example.com/client', event.client.client_id); \
           api.accessToken.addScope('write:everything'); };",
        &[],
    )
    .await;
    bind(&app, ActionTrigger::CredentialsExchange, &[&id]).await;
    let token = |app: &TestApp| {
        app.browser
            .post(app.url("/oauth/token"))
            .basic_auth(&client_id, Some(&secret))
            .form(&[("grant_type", "client_credentials"), ("audience", API)])
            .send()
    };
    let response = token(&app).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let claims = app
        .verify(body["access_token"].as_str().unwrap(), API)
        .await;
    assert_eq!(claims["https://example.com/api"], API);
    assert_eq!(claims["https://example.com/client"], client_id);
    assert_eq!(
        claims["scope"], "read:messages",
        "the grant's scopes, nothing added"
    );

    let denying = deploy(
        &app,
        "Machine deny",
        ActionTrigger::CredentialsExchange,
        "exports.onExecuteCredentialsExchange = async (event, api) => { api.access.deny('Nope'); };",
        &[],
    )
    .await;
    bind(&app, ActionTrigger::CredentialsExchange, &[&id, &denying]).await;
    let response = token(&app).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "access_denied");
    assert_eq!(body["error_description"], "Nope");
    assert!(body.get("access_token").is_none());
}
