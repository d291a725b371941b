use portcullis_core::admin::{
    applications::{self, ClientChanges},
    Actor,
};
use portcullis_store::RefreshTokenPolicy;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

pub(crate) async fn refresh(app: &TestApp, client_id: &str, token: &str) -> reqwest::Response {
    app.browser
        .post(app.url("/oauth/token"))
        // What auth0-spa-js sends: no audience, no scope, plus its redirect_uri.
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("refresh_token", token),
            ("redirect_uri", SPA_ORIGIN),
        ])
        .send()
        .await
        .unwrap()
}

async fn first_tokens(app: &TestApp, spa: &Spa) -> Value {
    app.create_user("r@example.com").await;
    let (params, verifier) = app
        .login_for_code(
            &browser(),
            spa,
            "r@example.com",
            &[
                ("audience", API),
                ("scope", "openid profile read:messages offline_access"),
            ],
        )
        .await;
    app.exchange_code(spa, &params["code"], &verifier)
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn refresh_rotates_keeps_audience_and_scope_and_returns_an_id_token() {
    let app = spawn_app().await;
    app.create_api(true).await;
    let spa = app.create_spa(false).await;
    let first = first_tokens(&app, &spa).await;
    let old = first["refresh_token"].as_str().expect("refresh token");
    let response = refresh(&app, &spa.client_id, old).await;
    assert_eq!(response.status(), StatusCode::OK);
    let second: Value = response.json().await.unwrap();
    let new = second["refresh_token"].as_str().expect("rotated");
    assert_ne!(new, old);
    let access = app
        .verify(second["access_token"].as_str().unwrap(), API)
        .await;
    assert_eq!(
        access["scope"],
        "openid profile read:messages offline_access"
    );
    let id = app
        .verify(second["id_token"].as_str().unwrap(), &spa.client_id)
        .await;
    assert_eq!(id["sub"], access["sub"]);
    // The successor works in turn.
    assert_eq!(
        refresh(&app, &spa.client_id, new).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn reuse_after_the_interval_revokes_the_family_and_within_it_is_tolerated() {
    let app = spawn_app().await;
    app.create_api(true).await;
    let spa = app.create_spa(false).await;
    // The default interval is 0 (any reuse is caught); this test is about a tolerant one.
    applications::update(
        &app.cx,
        &Actor::System,
        &spa.client_id,
        ClientChanges {
            refresh_token: Some(RefreshTokenPolicy {
                leeway: 10,
                ..RefreshTokenPolicy::default()
            }),
            ..ClientChanges::default()
        },
    )
    .await
    .expect("leeway");
    app.tenant_changed();
    let first = first_tokens(&app, &spa).await;
    let t1 = first["refresh_token"].as_str().unwrap().to_owned();

    // Two tabs at once: both succeed (reuse interval 10 s).
    let a: Value = refresh(&app, &spa.client_id, &t1)
        .await
        .json()
        .await
        .unwrap();
    let b = refresh(&app, &spa.client_id, &t1).await;
    assert_eq!(b.status(), StatusCode::OK);
    let t2 = a["refresh_token"].as_str().unwrap().to_owned();

    // Later, t1 again: reuse detected; the whole family dies, t2 included.
    app.clock.advance(11);
    let reused = refresh(&app, &spa.client_id, &t1).await;
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);
    let error: Value = reused.json().await.unwrap();
    assert_eq!(error["error"], "invalid_grant");
    assert_eq!(
        error["error_description"],
        "Unknown or invalid refresh token."
    );
    let after = refresh(&app, &spa.client_id, &t2).await;
    assert_eq!(
        after.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
}

#[tokio::test]
async fn no_refresh_token_when_the_api_does_not_allow_offline_access() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    let first = first_tokens(&app, &spa).await;
    assert!(first.get("refresh_token").is_none());
    assert_eq!(first["scope"], "openid profile read:messages");
}

#[tokio::test]
async fn a_refresh_token_is_bound_to_its_client() {
    let app = spawn_app().await;
    app.create_api(true).await;
    let spa = app.create_spa(false).await;
    let other = app.create_spa(false).await;
    let first = first_tokens(&app, &spa).await;
    let token = first["refresh_token"].as_str().unwrap();
    let stolen = refresh(&app, &other.client_id, token).await;
    assert_eq!(
        stolen.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    // And the family is revoked for the rightful client too.
    assert_eq!(
        refresh(&app, &spa.client_id, token).await.status(),
        StatusCode::BAD_REQUEST
    );
}
