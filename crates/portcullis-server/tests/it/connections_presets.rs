//! The presets signing in through the test's provider, their endpoints moved to it:
//! Microsoft's multi-tenant issuer rule (`windowslive`), `google-oauth2` and `github` (its
//! verified address from `/user/emails`), with Auth0's user ids and identities; and a
//! provider whose discovery document names another issuer.

use std::sync::Arc;

use portcullis_types::Strategy;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    connections::{
        answer_with, assert_refused, connect_as, good_claims, hostile_setup, spawn_provider, start,
        Provider,
    },
    helpers::{browser, callback_params, pkce, spawn_app, Spa, TestApp},
    management_support::spawn_mgmt,
};

/// A tenant of Microsoft's (its consumer accounts' tenant id).
const TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

fn discovery(provider: &Provider) -> String {
    format!("{}/.well-known/openid-configuration", provider.base)
}

/// The downstream with a `windowslive` connection whose discovery document is shaped like
/// Microsoft's `common` one: its issuer the `{tenantid}` template.
async fn microsoft_setup(app: &TestApp) -> (Spa, Arc<Provider>) {
    let provider = spawn_provider().await;
    *provider.issuer.lock().expect("lock") = format!("{}/{{tenantid}}/v2.0", provider.base);
    let spa = app.create_spa(false).await;
    connect_as(
        app,
        &spa,
        "windowslive",
        Strategy::Windowslive,
        json!({ "client_id": "downstream", "client_secret": "s3cret", "discovery_url": discovery(&provider) }),
    )
    .await;
    (spa, provider)
}

/// What makes an ID token's claims from the provider's base and the request's nonce.
type Claims = fn(&str, &str) -> Value;

/// An ID token of Microsoft's tenant `TENANT`, issued as that tenant.
fn tenant_claims(base: &str, nonce: &str) -> Value {
    let mut claims = good_claims(&format!("{base}/{TENANT}/v2.0"), nonce);
    claims["tid"] = json!(TENANT);
    claims
}

#[tokio::test]
async fn a_microsoft_id_token_is_accepted_when_its_issuer_names_its_own_tenant() {
    let mgmt = spawn_mgmt().await;
    let (spa, provider) = microsoft_setup(&mgmt.app).await;
    let (response, _) = answer_with(
        &mgmt.app,
        &spa,
        &provider,
        "windowslive",
        false,
        tenant_claims,
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let (status, user) = mgmt.get("/users/windowslive%7Cu-1").await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["email"], "eve@example.com");
    assert_eq!(
        user["identities"],
        json!([{ "connection": "windowslive", "user_id": "u-1", "provider": "windowslive", "isSocial": true }])
    );
}

#[tokio::test]
async fn a_microsoft_id_token_of_another_tenant_without_one_or_badly_signed_is_refused() {
    let app = spawn_app().await;
    let (spa, provider) = microsoft_setup(&app).await;
    let cases: [(&str, Claims, bool, &str); 6] = [
        (
            "another tenant's issuer",
            |base, nonce| {
                let mut claims = tenant_claims(base, nonce);
                claims["tid"] = json!("72f988bf-86f1-41af-91ab-2d7cd011db47");
                claims
            },
            false,
            "is not its tenant",
        ),
        (
            "no tid",
            |base, nonce| {
                let mut claims = tenant_claims(base, nonce);
                claims.as_object_mut().expect("object").remove("tid");
                claims
            },
            false,
            "names no tenant",
        ),
        (
            "the template itself",
            |base, nonce| {
                let mut claims = good_claims(&format!("{base}/{{tenantid}}/v2.0"), nonce);
                claims["tid"] = json!("{tenantid}");
                claims
            },
            false,
            "names no tenant",
        ),
        (
            "another site's issuer",
            |_, nonce| {
                let mut claims = tenant_claims("https://evil.example", nonce);
                claims["tid"] = json!(TENANT);
                claims
            },
            false,
            "is not its tenant",
        ),
        (
            "a bad signature",
            tenant_claims,
            true,
            "ID token was refused",
        ),
        (
            "a wrong nonce",
            |base, _| tenant_claims(base, "other"),
            false,
            "ID token was refused",
        ),
    ];
    for (case, claims, foreign_key, expected) in cases {
        let (response, _) =
            answer_with(&app, &spa, &provider, "windowslive", foreign_key, claims).await;
        eprintln!("case: {case}");
        assert_refused(&app, response, expected).await;
    }
}

#[tokio::test]
async fn google_signs_in_as_google_oauth2_with_auth0s_identity() {
    let mgmt = spawn_mgmt().await;
    let provider = spawn_provider().await;
    let spa = mgmt.app.create_spa(false).await;
    connect_as(
        &mgmt.app,
        &spa,
        "google-oauth2",
        Strategy::GoogleOauth2,
        json!({ "client_id": "downstream", "client_secret": "s3cret", "discovery_url": discovery(&provider) }),
    )
    .await;
    let (to_provider, _) = start(&mgmt.app, &browser(), &spa, "google-oauth2").await;
    assert!(
        to_provider.starts_with(&format!("{}/authorize?", provider.base)),
        "{to_provider}"
    );
    assert_eq!(
        callback_params(&to_provider)["scope"],
        "openid profile email"
    );

    let (response, _) = answer_with(
        &mgmt.app,
        &spa,
        &provider,
        "google-oauth2",
        false,
        |issuer, nonce| {
            let mut claims = good_claims(issuer, nonce);
            claims["sub"] = json!("110169484474386276334");
            claims["name"] = json!("Eve Example");
            claims
        },
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (status, user) = mgmt
        .get("/users/google-oauth2%7C110169484474386276334")
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["email_verified"], true);
    assert_eq!(user["name"], "Eve Example");
    assert_eq!(
        user["identities"],
        json!([{ "connection": "google-oauth2", "user_id": "110169484474386276334", "provider": "google-oauth2", "isSocial": true }])
    );
}

#[tokio::test]
async fn github_signs_in_as_github_with_its_primary_verified_address() {
    let mgmt = spawn_mgmt().await;
    let provider = spawn_provider().await;
    let spa = mgmt.app.create_spa(false).await;
    let base = provider.base.clone();
    connect_as(
        &mgmt.app,
        &spa,
        "github",
        Strategy::Github,
        json!({
            "client_id": "downstream", "client_secret": "s3cret",
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/token"),
            "userinfo_endpoint": format!("{base}/user"),
        }),
    )
    .await;
    let (to_provider, _) = start(&mgmt.app, &browser(), &spa, "github").await;
    assert!(
        to_provider.starts_with(&format!("{base}/authorize?")),
        "{to_provider}"
    );
    assert_eq!(
        callback_params(&to_provider)["scope"],
        "read:user user:email"
    );

    // GitHub's profile: no address, no verification; its list of addresses has both.
    *provider.github.lock().expect("lock") = (
        json!({ "id": 583231, "login": "octocat", "name": "The Octocat", "email": null,
                "avatar_url": "https://avatars.example/u/583231" }),
        Some(json!([
            { "email": "old@example.com", "primary": false, "verified": true, "visibility": null },
            { "email": "octocat@example.com", "primary": true, "verified": true, "visibility": "private" },
        ])),
    );
    let (response, _) = answer_with(&mgmt.app, &spa, &provider, "github", false, |_, _| {
        Value::Null
    })
    .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let (status, user) = mgmt.get("/users/github%7C583231").await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["email"], "octocat@example.com");
    assert_eq!(user["email_verified"], true);
    assert_eq!(user["nickname"], "octocat");
    assert_eq!(user["picture"], "https://avatars.example/u/583231");
    assert_eq!(
        user["identities"],
        json!([{ "connection": "github", "user_id": "583231", "provider": "github", "isSocial": true }])
    );

    // Without `user:email` the list is refused: the public address stays, unverified.
    *provider.github.lock().expect("lock") = (
        json!({ "id": 9, "login": "hubot", "email": "hubot@example.com", "email_verified": true }),
        None,
    );
    let (response, _) = answer_with(&mgmt.app, &spa, &provider, "github", false, |_, _| {
        Value::Null
    })
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, user) = mgmt.get("/users/github%7C9").await;
    assert_eq!(user["email"], "hubot@example.com");
    assert_eq!(user["email_verified"], false, "{user}");
}

#[tokio::test]
async fn a_discovery_document_naming_another_issuer_is_refused() {
    let (app, spa, provider) = hostile_setup().await;
    *provider.issuer.lock().expect("lock") = "https://evil.example".into();
    let (_, challenge) = pkce();
    let response = browser()
        .get(app.authorize_url(
            &spa,
            &[
                ("connection", "hostile"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        ))
        .send()
        .await
        .expect("authorize");
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let html = response.text().await.expect("html");
    assert!(
        html.contains("discovery document names issuer https:&#x2f;&#x2f;evil.example, not"),
        "{html}"
    );

    // The document changed between the redirect and the answer: the answer is refused too.
    *provider.issuer.lock().expect("lock") = provider.base.clone();
    let browser = browser();
    let (to_provider, _) = start(&app, &browser, &spa, "hostile").await;
    let sent = callback_params(&to_provider);
    *provider.next.lock().expect("lock") = crate::connections::Next {
        claims: good_claims("https://evil.example", &sent["nonce"]),
        foreign_key: false,
    };
    *provider.issuer.lock().expect("lock") = "https://evil.example".into();
    let response = browser
        .get(app.url(&format!(
            "/login/callback?code=c0de&state={}",
            sent["state"]
        )))
        .send()
        .await
        .expect("callback");
    assert_refused(
        &app,
        response,
        "discovery document names issuer https:&#x2f;&#x2f;evil.example, not",
    )
    .await;
}
