//! The login page's connections come from the replica's tenant cache, and a session started
//! at another provider carries the methods (`amr`) that provider reported, or `fed`.

use std::time::Duration;

use portcullis_core::{
    admin::{
        upstream::{self, NewConnection},
        Actor,
    },
    secrets::lookup_hash,
};
use portcullis_types::{AuthMethod, Strategy};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

use crate::{
    connections::{good_claims, hostile_setup, resume, start, Next, Provider},
    helpers::{browser, callback_params, spawn_app, Spa, TestApp},
    management_support::spawn_mgmt_with,
};

/// The hosted login page of `spa`'s authorization request.
pub(crate) async fn login_page(app: &TestApp, spa: &Spa) -> String {
    browser()
        .get(app.url(&format!(
            "/u/login?client_id={}&redirect_uri={}&response_type=code",
            spa.client_id, spa.redirect_uri
        )))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("html")
}

/// Creates a connection behind the server's back, as the CLI or another replica does.
async fn create_elsewhere(app: &TestApp, spa: &Spa) -> String {
    upstream::create(
        &app.cx,
        &Actor::System,
        NewConnection {
            name: "corp".into(),
            display_name: Some("Corp".into()),
            strategy: Strategy::Oidc,
            options: json!({ "issuer": "https://idp.example.com", "client_id": "abc" })
                .as_object()
                .cloned()
                .expect("object"),
            enabled_clients: vec![spa.client_id.clone()],
        },
    )
    .await
    .expect("connection")
    .id
}

#[tokio::test]
async fn the_login_page_reads_the_connections_from_the_tenant_cache() {
    let mgmt = spawn_mgmt_with(|settings| settings.cache_refresh_seconds = 3600).await;
    let spa = mgmt.app.create_spa(false).await;
    assert!(!login_page(&mgmt.app, &spa).await.contains("Continue with"));

    let id = create_elsewhere(&mgmt.app, &spa).await;
    assert!(
        !login_page(&mgmt.app, &spa).await.contains("Continue with"),
        "the page is served from the cache until it is refreshed"
    );
    let (status, _) = mgmt
        .patch(
            &format!("/connections/{id}"),
            json!({ "display_name": "Corporate" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        login_page(&mgmt.app, &spa)
            .await
            .contains("Continue with Corporate"),
        "a change through this replica's Management API applies at once"
    );
}

#[tokio::test]
async fn a_connection_made_elsewhere_reaches_the_login_page_within_the_refresh_bound() {
    // The tests' replicas refresh their caches every second.
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    assert!(!login_page(&app, &spa).await.contains("Continue with"));
    create_elsewhere(&app, &spa).await;
    let mut shown = false;
    for _ in 0..30 {
        if login_page(&app, &spa).await.contains("Continue with Corp") {
            shown = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(shown, "the other replica's connection is shown");
}

/// A sign-in at the test's provider whose ID token lists `amr` (or nothing): the session's
/// methods and the application's ID token.
async fn federated_login(amr: Option<Value>) -> (Vec<AuthMethod>, Value) {
    let (app, spa, provider) = hostile_setup().await;
    federated_login_at(&app, &spa, &provider, &browser(), amr).await
}

/// The same on a given server and browser (which keeps the Portcullis session).
pub(crate) async fn federated_login_at(
    app: &TestApp,
    spa: &Spa,
    provider: &Provider,
    browser: &reqwest::Client,
    amr: Option<Value>,
) -> (Vec<AuthMethod>, Value) {
    let (to_provider, verifier) = start(app, browser, spa, "hostile").await;
    let sent = callback_params(&to_provider);
    let mut claims = good_claims(&provider.base, &sent["nonce"]);
    if let Some(amr) = amr {
        claims["amr"] = amr;
    }
    *provider.next.lock().expect("lock") = Next {
        claims,
        foreign_key: false,
    };
    let back = browser
        .get(app.url(&format!(
            "/login/callback?code=c0de&state={}",
            sent["state"]
        )))
        .send()
        .await
        .expect("callback");
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let session_token = back
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| cookie.strip_prefix("portcullis_session="))
        .and_then(|rest| rest.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs() as i64;
    let session = app
        .store
        .session_by_hash(&lookup_hash(&session_token), now)
        .await
        .expect("read")
        .expect("the session");
    let code = resume(app, browser, &back).await["code"].clone();
    let (_, id_token) = app.tokens_for_code(spa, &code, &verifier).await;
    (session.amr, id_token)
}

#[tokio::test]
async fn a_federated_session_carries_the_providers_methods() {
    let (amr, id_token) = federated_login(Some(json!(["pwd", "mfa", "otp", "x-bank-card"]))).await;
    assert_eq!(amr, [AuthMethod::Pwd, AuthMethod::Mfa, AuthMethod::Otp]);
    assert_eq!(
        id_token["amr"],
        json!(["pwd", "mfa", "otp"]),
        "the provider's multi-factor sign-in is told to the application"
    );
}

#[tokio::test]
async fn a_federated_session_whose_provider_says_nothing_is_fed() {
    let (amr, id_token) = federated_login(None).await;
    assert_eq!(amr, [AuthMethod::Fed]);
    assert!(
        id_token.get("amr").is_none(),
        "a single-factor login's tokens carry no amr, as Auth0's: {id_token}"
    );
}
