//! The password grants at `/oauth/token`: `password` and Auth0's `password-realm`, sent as
//! auth0.js's `client.login({ realm, username, password })` sends it; off unless the
//! application lists the grant; on the login page's brute-force counters; `mfa_required`
//! when the user must pass a second factor.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{helpers::*, management_support::*};

const REALM_GRANT: &str = "http://auth0.com/oauth/grant-type/password-realm";
const EMAIL: &str = "legacy@example.com";

/// What auth0.js's `client.login` posts (`src/authentication/index.js`, `oauthToken`): its
/// base options in snake case, the grant, JSON, and its `Auth0-Client` header.
async fn auth0js_login(app: &TestApp, client_id: &str, password: &str) -> (StatusCode, Value) {
    let response = app
        .browser
        .post(app.url("/oauth/token"))
        .header(
            "Auth0-Client",
            "eyJuYW1lIjoiYXV0aDAuanMiLCJ2ZXJzaW9uIjoiOS4yOC4wIn0=",
        )
        .header("Origin", SPA_ORIGIN)
        .json(&json!({
            "client_id": client_id,
            "scope": "openid profile email",
            "audience": API,
            "username": EMAIL,
            "password": password,
            "realm": "Username-Password-Authentication",
            "grant_type": REALM_GRANT,
        }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A form post to the token endpoint; its status and JSON body.
pub(crate) async fn token_form(app: &TestApp, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = app
        .browser
        .post(app.url("/oauth/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn allow_grants(mgmt: &Mgmt, client_id: &str, grants: &[&str]) {
    let (status, body) = mgmt
        .patch(
            &format!("/clients/{client_id}"),
            json!({ "grant_types": grants }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    mgmt.app.tenant_changed();
}

#[tokio::test]
async fn auth0js_login_with_realm_gets_tokens_once_the_grant_is_enabled() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    app.create_user(EMAIL).await;

    // Off by default.
    let (status, body) = auth0js_login(app, &spa.client_id, PASSWORD).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "unauthorized_client");

    allow_grants(&mgmt, &spa.client_id, &["authorization_code", REALM_GRANT]).await;
    let (status, tokens) = auth0js_login(app, &spa.client_id, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = app
        .verify(tokens["access_token"].as_str().unwrap(), API)
        .await;
    let user_id = app
        .store
        .user_by_email(EMAIL)
        .await
        .unwrap()
        .unwrap()
        .user_id;
    assert_eq!(access["sub"], user_id.as_str());
    assert!(tokens["id_token"].is_string());
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens.get("refresh_token").is_none());

    // A wrong password, and a wrong realm.
    let (status, body) = auth0js_login(app, &spa.client_id, "wrong password").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    let (status, _) = token_form(
        app,
        &[
            ("grant_type", REALM_GRANT),
            ("client_id", &spa.client_id),
            ("username", EMAIL),
            ("password", PASSWORD),
            ("realm", "elsewhere"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Plain `password` is its own grant: still refused for this application.
    let (status, body) = token_form(
        app,
        &[
            ("grant_type", "password"),
            ("client_id", &spa.client_id),
            ("username", EMAIL),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unauthorized_client");
    // Missing parameters.
    let (status, body) = token_form(
        app,
        &[
            ("grant_type", REALM_GRANT),
            ("client_id", &spa.client_id),
            ("username", EMAIL),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn the_password_grant_counts_on_the_login_pages_brute_force_counters() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    app.create_user(EMAIL).await;
    allow_grants(&mgmt, &spa.client_id, &["authorization_code", REALM_GRANT]).await;
    for _ in 0..10 {
        let (status, _) = auth0js_login(app, &spa.client_id, "wrong password").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    // The pair is blocked now: even the right password is refused, here and on the form.
    let (status, body) = auth0js_login(app, &spa.client_id, PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let (_, challenge) = pkce();
    let url = app.authorize_url(
        &spa,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let refused = app.login_via_form(&browser(), &url, EMAIL, PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_user_who_needs_a_second_factor_gets_mfa_required() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    app.create_user(EMAIL).await;
    allow_grants(&mgmt, &spa.client_id, &[REALM_GRANT, "password"]).await;
    let (status, body) = mgmt
        .call(
            Method::PUT,
            "/guardian/factors/otp",
            Some(&json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = mgmt
        .call(
            Method::PUT,
            "/guardian/policies",
            Some(&json!(["all-applications"])),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = auth0js_login(app, &spa.client_id, PASSWORD).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "mfa_required");
    assert!(body["mfa_token"].as_str().is_some_and(|t| t.len() > 20));
    assert!(body.get("access_token").is_none());
}

/// A legacy application that sends a DPoP proof with the password grant gets tokens bound to
/// its key, as with every other grant: a proof is never silently ignored.
#[tokio::test]
async fn a_dpop_proof_binds_the_password_grants_tokens() {
    use portcullis_dpop::ProofKey;

    use crate::dpop::{proof_for, server_nonce, token};

    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    app.create_user(EMAIL).await;
    allow_grants(&mgmt, &spa.client_id, &["authorization_code", "password"]).await;
    let form = [
        ("grant_type", "password"),
        ("client_id", spa.client_id.as_str()),
        ("username", EMAIL),
        ("password", PASSWORD),
        ("audience", API),
        ("scope", "openid offline_access"),
    ];
    let key = ProofKey::generate().unwrap();
    let nonce = server_nonce(app, &form, &key).await;
    let response = token(app, &form, Some(&proof_for(app, &key, Some(&nonce)))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP", "{body}");
    let claims = app
        .verify(body["access_token"].as_str().unwrap(), API)
        .await;
    assert_eq!(claims["cnf"]["jkt"], key.jkt());
}
