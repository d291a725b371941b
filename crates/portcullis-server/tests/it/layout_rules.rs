//! Rules that hold on every surface because they live in the administrative service, and
//! protocol values that are refused rather than dropped.

use portcullis_core::admin::{apis, test_application, Actor};
use portcullis_store::LogFilter;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{helpers::*, management_support::*};

/// The test application is granted every scope of its API, whether the scopes change through
/// the dashboard, the Management API or the CLI (the service): here the Management API.
#[tokio::test]
async fn the_test_application_follows_scope_changes_made_through_the_management_api() {
    let mgmt = spawn_mgmt().await;
    let api = mgmt.create_api("https://tested", &["read"]).await;
    let api_id = api["id"].as_str().unwrap().to_owned();
    let stored = apis::find(&mgmt.app.cx, &api_id).await.unwrap();
    test_application::create(&mgmt.app.cx, &Actor::System, &stored)
        .await
        .unwrap();

    let (status, _) = mgmt
        .patch(
            &format!("/resource-servers/{api_id}"),
            json!({"scopes": [{"value": "read"}, {"value": "write"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let updated = apis::find(&mgmt.app.cx, &api_id).await.unwrap();
    let (_, grant) = test_application::find(&mgmt.app.cx, &updated)
        .await
        .unwrap()
        .expect("test application");
    assert_eq!(grant.scope, ["read", "write"]);

    // The grant's change is in the audit log too, made by the same caller.
    let (events, _) = mgmt
        .app
        .store
        .list_logs(
            &LogFilter {
                event_type: Some("sapi".into()),
                ..LogFilter::default()
            },
            portcullis_store::Page::ALL,
        )
        .await
        .unwrap();
    let grant_update = events
        .iter()
        .find(|e| e.description == "Update a client grant")
        .expect("grant update logged");
    assert_eq!(grant_update.client_id.as_deref(), Some(BOOTSTRAP_ID));
    assert_eq!(grant_update.details["api"], "management");
    assert_eq!(grant_update.details["target"]["type"], "client_grant");
}

/// One change, one shape: the same operation from the Management API and from the
/// dashboard's side (the service with another actor) logs the same action and target.
#[tokio::test]
async fn a_change_is_logged_in_one_shape_whoever_makes_it() {
    let mgmt = spawn_mgmt().await;
    let user = mgmt.create_user("jane@example.com").await;
    let user_id = user["user_id"].as_str().unwrap();
    let (_, logs) = mgmt.get("/logs?q=type%3Asapi").await;
    let created = &logs.as_array().unwrap()[0];
    assert_eq!(created["details"]["action"], "create");
    assert_eq!(created["details"]["target"]["type"], "user");
    assert_eq!(created["details"]["target"]["id"], user_id);
    assert_eq!(created["details"]["target"]["user_id"], user_id);
    let text = serde_json::to_string(&logs).unwrap();
    assert!(!text.contains(PASSWORD), "no password in the log");
}

/// A scope token outside RFC 6749's grammar is an `invalid_scope` error, not silently dropped.
#[tokio::test]
async fn an_invalid_scope_token_is_refused_not_dropped() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let (client_id, secret) = app.create_m2m(&["read:messages"]).await;
    let response = app
        .browser
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id.as_str()),
            ("client_secret", secret.as_str()),
            ("audience", API),
            ("scope", "read:messages \"quoted"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_scope");

    // At /authorize the error goes back to the client.
    let spa = app.create_spa(false).await;
    let (_, challenge) = pkce();
    let url = app.authorize_url(
        &spa,
        &[
            ("scope", "openid bad\\scope"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let response = app.browser.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let params = callback_params(&location(&response));
    assert_eq!(params["error"], "invalid_scope");
}

/// Settings and credentials never print their secrets.
#[test]
fn settings_redact_their_secrets() {
    let mut settings = portcullis_server::Settings::new(vec![0xAB; 32]);
    settings.bootstrap_client = Some(portcullis_server::settings::BootstrapCredentials {
        client_id: "bootstrap".into(),
        client_secret: "a-secret-that-must-never-be-printed".into(),
    });
    let printed = format!("{settings:?}");
    assert!(
        !printed.contains("171"),
        "master key bytes printed: {printed}"
    );
    assert!(!printed.contains("a-secret-that-must-never-be-printed"));
    assert!(printed.contains("bootstrap"));
}
