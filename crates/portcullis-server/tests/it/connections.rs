//! Signing in at another identity provider: a second Portcullis as the upstream OpenID
//! provider, driven over HTTP end to end, and a small provider under the test's control (its
//! own discovery document, JWKS and ID tokens signed with `jsonwebtoken`) for the answers a
//! hostile or broken provider gives.

use std::sync::{Arc, Mutex};

use axum::{extract::State, routing::get, routing::post, Json, Router};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use portcullis_core::admin::{
    applications::{self, NewClient},
    upstream::{self, NewConnection},
    Actor,
};
use portcullis_store::{AppType, Page};
use portcullis_types::{GrantType, Strategy};
use reqwest::StatusCode;
use serde_json::{json, Map, Value};

use crate::helpers::{
    browser, callback_params, location, pkce, spawn_app, spawn_app_with, Spa, TestApp, PASSWORD,
};

fn options(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

/// A connection named `name` of `app`, enabled for `spa`.
pub(crate) async fn connect(app: &TestApp, spa: &Spa, name: &str, options_json: Value) {
    upstream::create(
        &app.cx,
        &Actor::System,
        NewConnection {
            name: name.into(),
            display_name: Some(format!("{name} provider")),
            strategy: Strategy::Oidc,
            options: options(options_json),
            enabled_clients: vec![spa.client_id.clone()],
        },
    )
    .await
    .expect("connection");
}

/// The downstream's `/authorize` for `connection`, with PKCE: the redirect to the provider
/// and the verifier.
pub(crate) async fn start(
    app: &TestApp,
    browser: &reqwest::Client,
    spa: &Spa,
    connection: &str,
) -> (String, String) {
    start_with(app, browser, spa, connection, &[]).await
}

/// The same, with `extra` parameters (an `audience`, a `scope`).
pub(crate) async fn start_with(
    app: &TestApp,
    browser: &reqwest::Client,
    spa: &Spa,
    connection: &str,
    extra: &[(&str, &str)],
) -> (String, String) {
    let (verifier, challenge) = pkce();
    let mut params = vec![
        ("connection", connection),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("state", "app-state"),
        ("nonce", "app-nonce"),
    ];
    params.extend_from_slice(extra);
    let url = app.authorize_url(spa, &params);
    let response = browser.get(url).send().await.expect("authorize");
    let status = response.status();
    if status != StatusCode::FOUND {
        panic!("{status}: {}", response.text().await.unwrap_or_default());
    }
    (location(&response), verifier)
}

/// Follows the redirect of the provider's answer (`back`) to `/authorize`, which answers the
/// application: its callback's parameters.
pub(crate) async fn resume(
    app: &TestApp,
    browser: &reqwest::Client,
    back: &reqwest::Response,
) -> std::collections::HashMap<String, String> {
    let resumed = browser
        .get(app.url(&location(back)))
        .send()
        .await
        .expect("authorize again");
    assert_eq!(resumed.status(), StatusCode::FOUND);
    callback_params(&location(&resumed))
}

pub(crate) async fn user_count(app: &TestApp) -> u64 {
    app.store
        .list_users(None, Page::ALL)
        .await
        .expect("users")
        .1
}

/// Another Portcullis as the upstream OpenID provider of `app`'s connection `name`, enabled
/// for `spa`: the upstream server and its issuer. Its issuer is on 127.0.0.1, so that one
/// browser keeps both servers' cookies apart as it would for two sites.
pub(crate) async fn portcullis_upstream(app: &TestApp, spa: &Spa, name: &str) -> (TestApp, String) {
    let provider = spawn_app_with(|settings| {
        settings.issuer = format!("http://127.0.0.1:{}/", settings.listen.port());
    })
    .await;
    let upstream_issuer = format!("{}/", provider.base.replace("localhost", "127.0.0.1"));
    let (client, secret) = applications::create(
        &provider.cx,
        &Actor::System,
        NewClient {
            name: "Downstream".into(),
            app_type: Some(AppType::RegularWeb),
            callbacks: vec![format!("{}login/callback", app.issuer)],
            grant_types: Some(vec![GrantType::AuthorizationCode]),
            ..NewClient::default()
        },
    )
    .await
    .expect("client");
    connect(
        app,
        spa,
        name,
        json!({
            "issuer": upstream_issuer,
            "client_id": client.client_id,
            "client_secret": secret.expect("a secret").expose_str(),
            "scope": "openid profile email",
        }),
    )
    .await;
    (provider, upstream_issuer)
}

#[tokio::test]
async fn a_user_signs_in_through_another_portcullis_and_the_application_gets_its_tokens() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    let (provider, upstream_issuer) = portcullis_upstream(&app, &spa, "upstream").await;
    let upstream_user = provider.create_user("ada@example.com").await;

    // The login page offers the connection.
    let page = browser()
        .get(app.url(&format!(
            "/u/login?client_id={}&redirect_uri={}&response_type=code",
            spa.client_id, spa.redirect_uri
        )))
        .send()
        .await
        .expect("login page");
    assert!(page
        .text()
        .await
        .expect("html")
        .contains("Continue with upstream provider"));

    let browser = browser();
    let (to_provider, verifier) = start(&app, &browser, &spa, "upstream").await;
    assert!(
        to_provider.starts_with(&format!("{upstream_issuer}authorize?")),
        "{to_provider}"
    );
    let sent = callback_params(&to_provider);
    assert_eq!(sent["code_challenge_method"], "S256");
    assert!(!sent["nonce"].is_empty() && !sent["state"].is_empty());

    // The upstream's own login form, then its answer to our callback.
    let answered = provider
        .login_via_form(&browser, &to_provider, "ada@example.com", PASSWORD)
        .await;
    assert_eq!(answered.status(), StatusCode::FOUND);
    let callback = location(&answered);
    assert!(
        callback.starts_with(&format!("{}login/callback?", app.issuer)),
        "{callback}"
    );
    let back = browser.get(&callback).send().await.expect("callback");
    assert_eq!(
        back.status(),
        StatusCode::SEE_OTHER,
        "{}",
        back.text().await.unwrap_or_default()
    );
    let params = resume(&app, &browser, &back).await;
    assert_eq!(params["state"], "app-state");
    let (tokens, id_token) = app.tokens_for_code(&spa, &params["code"], &verifier).await;
    let expected = format!("oidc|upstream|{upstream_user}");
    assert_eq!(id_token["sub"], expected);
    assert_eq!(id_token["email"], "ada@example.com");
    assert_eq!(id_token["nonce"], "app-nonce");
    // The provider's tokens never reach the application.
    assert!(!tokens.to_string().contains(&upstream_issuer));

    let identities = app
        .store
        .federated_identities(&expected)
        .await
        .expect("identities");
    assert_eq!(identities.len(), 1);
    assert_eq!(identities[0].connection, "upstream");
    assert_eq!(identities[0].upstream_id, upstream_user);
    assert_eq!(
        identities[0].sealed_tokens, None,
        "tokens are kept only when asked"
    );
    let user = app
        .store
        .user_by_id(&expected)
        .await
        .expect("read")
        .expect("user");
    assert!(user.email_verified, "as the provider said");

    // Silent authentication works on the Portcullis session.
    let (_, challenge) = pkce();
    let silent = browser
        .get(app.authorize_url(
            &spa,
            &[
                ("prompt", "none"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        ))
        .send()
        .await
        .expect("silent");
    assert!(callback_params(&location(&silent)).contains_key("code"));
}

/// What the test's provider puts in its next ID token.
#[derive(Clone, Default)]
pub(crate) struct Next {
    pub(crate) claims: Value,
    /// Signed with a key the JWKS does not publish.
    pub(crate) foreign_key: bool,
}

pub(crate) struct Provider {
    pub(crate) base: String,
    pub(crate) next: Arc<Mutex<Next>>,
    key: jsonwebtoken::EncodingKey,
    foreign: jsonwebtoken::EncodingKey,
}

/// A P-256 key: its signing key and its JWK.
fn es256_key() -> (jsonwebtoken::EncodingKey, Value) {
    let pair = rcgen::KeyPair::generate().expect("key");
    let point = pair.public_key_raw();
    let key = jsonwebtoken::EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).expect("pem");
    let jwk = json!({
        "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "k1",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
    });
    (key, jwk)
}

async fn token(State(provider): State<Arc<Provider>>) -> Json<Value> {
    let next = provider.next.lock().expect("lock").clone();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some("k1".into());
    let key = if next.foreign_key {
        &provider.foreign
    } else {
        &provider.key
    };
    let id_token = jsonwebtoken::encode(&header, &next.claims, key).expect("sign");
    Json(
        json!({ "access_token": "upstream-access", "token_type": "Bearer", "expires_in": 60, "id_token": id_token }),
    )
}

/// A plain OAuth 2 provider's profile endpoint: the user, for the access token `/token` gave.
async fn profile(headers: axum::http::HeaderMap) -> Result<Json<Value>, StatusCode> {
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some("Bearer upstream-access") => Ok(Json(json!({
            "sub": "p-42", "email": "pat@example.com", "email_verified": true, "name": "Pat",
        }))),
        _ => Err(StatusCode::UNAUTHORIZED),
    }
}

pub(crate) async fn spawn_provider() -> Arc<Provider> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!(
        "http://127.0.0.1:{}",
        listener.local_addr().expect("addr").port()
    );
    let (key, jwk) = es256_key();
    let (foreign, _) = es256_key();
    let provider = Arc::new(Provider {
        base: base.clone(),
        next: Arc::default(),
        key,
        foreign,
    });
    let discovery = json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
    });
    let jwks = json!({ "keys": [jwk] });
    let router = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || async move { Json(discovery) }),
        )
        .route("/jwks", get(move || async move { Json(jwks) }))
        .route("/token", post(token))
        .route("/profile", get(profile))
        .with_state(provider.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    provider
}

/// The downstream with the test's provider as connection `hostile`.
pub(crate) async fn hostile_setup() -> (TestApp, Spa, Arc<Provider>) {
    let provider = spawn_provider().await;
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    connect(
        &app,
        &spa,
        "hostile",
        json!({ "issuer": provider.base, "client_id": "downstream", "client_secret": "s3cret" }),
    )
    .await;
    (app, spa, provider)
}

/// Starts a sign-in; `claims` makes the provider's ID token from the request's nonce; then
/// the callback's answer.
pub(crate) async fn answer_with(
    app: &TestApp,
    spa: &Spa,
    provider: &Provider,
    foreign_key: bool,
    claims: impl FnOnce(&str, &str) -> Value,
) -> (reqwest::Response, String) {
    let browser = browser();
    let (to_provider, _) = start(app, &browser, spa, "hostile").await;
    let sent = callback_params(&to_provider);
    *provider.next.lock().expect("lock") = Next {
        claims: claims(&provider.base, &sent["nonce"]),
        foreign_key,
    };
    let callback = app.url(&format!(
        "/login/callback?code=c0de&state={}",
        sent["state"]
    ));
    let response = browser.get(&callback).send().await.expect("callback");
    (response, callback)
}

pub(crate) fn good_claims(issuer: &str, nonce: &str) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    json!({ "iss": issuer, "aud": "downstream", "sub": "u-1", "nonce": nonce, "iat": now, "exp": now + 300,
            "email": "eve@example.com", "email_verified": true })
}

async fn assert_refused(app: &TestApp, response: reqwest::Response, expected: &str) {
    let status = response.status();
    let html = response.text().await.expect("html");
    assert!(status.is_client_error(), "{status}: {html}");
    assert!(html.contains(expected), "{expected:?} not in {html}");
    assert_eq!(user_count(app).await, 0, "nobody is created");
}

#[tokio::test]
async fn the_test_provider_signs_a_user_in_when_its_answer_is_right() {
    let (app, spa, provider) = hostile_setup().await;
    let (response, _) = answer_with(&app, &spa, &provider, false, good_claims).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let user = app
        .store
        .user_by_id("oidc|hostile|u-1")
        .await
        .expect("read")
        .expect("created");
    assert_eq!(user.email, "eve@example.com");
}

#[tokio::test]
async fn a_wrong_nonce_is_refused() {
    let (app, spa, provider) = hostile_setup().await;
    let (response, _) = answer_with(&app, &spa, &provider, false, |issuer, _| {
        good_claims(issuer, "other")
    })
    .await;
    assert_refused(&app, response, "ID token was refused").await;
}

#[tokio::test]
async fn a_wrong_issuer_is_refused() {
    let (app, spa, provider) = hostile_setup().await;
    let (response, _) = answer_with(&app, &spa, &provider, false, |_, nonce| {
        good_claims("https://evil.example", nonce)
    })
    .await;
    assert_refused(&app, response, "ID token was refused").await;
}

#[tokio::test]
async fn a_wrong_audience_is_refused() {
    let (app, spa, provider) = hostile_setup().await;
    let (response, _) = answer_with(&app, &spa, &provider, false, |issuer, nonce| {
        let mut claims = good_claims(issuer, nonce);
        claims["aud"] = json!("someone-else");
        claims
    })
    .await;
    assert_refused(&app, response, "ID token was refused").await;
}

#[tokio::test]
async fn a_bad_signature_is_refused() {
    let (app, spa, provider) = hostile_setup().await;
    let (response, _) = answer_with(&app, &spa, &provider, true, good_claims).await;
    assert_refused(&app, response, "ID token was refused").await;
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    let (app, spa, provider) = hostile_setup().await;
    let (response, _) = answer_with(&app, &spa, &provider, false, |issuer, nonce| {
        let mut claims = good_claims(issuer, nonce);
        claims["iat"] = json!(1_000_000);
        claims["exp"] = json!(1_000_300);
        claims
    })
    .await;
    assert_refused(&app, response, "ID token was refused").await;
}

#[tokio::test]
async fn a_wrong_or_replayed_state_is_refused() {
    let (app, spa, provider) = hostile_setup().await;
    let browser = browser();
    let (to_provider, _) = start(&app, &browser, &spa, "hostile").await;
    let sent = callback_params(&to_provider);
    *provider.next.lock().expect("lock") = Next {
        claims: good_claims(&provider.base, &sent["nonce"]),
        foreign_key: false,
    };
    // Another browser (no state cookie), and a forged state.
    let wrong = crate::helpers::browser()
        .get(app.url(&format!(
            "/login/callback?code=c0de&state={}",
            sent["state"]
        )))
        .send()
        .await
        .expect("callback");
    assert_refused(&app, wrong, "not started in this browser").await;

    // A state that is this browser's but was used already: the cookie put back, as an
    // attacker replaying a captured answer would.
    let callback = app.url(&format!(
        "/login/callback?code=c0de&state={}",
        sent["state"]
    ));
    let first = browser.get(&callback).send().await.expect("callback");
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let replay = reqwest::Client::new()
        .get(&callback)
        .header(
            "cookie",
            format!("portcullis_upstream_state={}", sent["state"]),
        )
        .send()
        .await
        .expect("replay");
    let status = replay.status();
    let html = replay.text().await.expect("html");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("expired or was already used"), "{html}");
}

#[tokio::test]
async fn an_error_answer_from_the_provider_is_a_clear_page() {
    let (app, spa, _provider) = hostile_setup().await;
    let browser = browser();
    let (to_provider, _) = start(&app, &browser, &spa, "hostile").await;
    let state = callback_params(&to_provider)["state"].clone();
    let response = browser
        .get(app.url(&format!(
            "/login/callback?error=access_denied&error_description=User+said+no&state={state}"
        )))
        .send()
        .await
        .expect("callback");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let html = response.text().await.expect("html");
    assert!(
        html.contains("access_denied") && html.contains("User said no"),
        "{html}"
    );
    assert_eq!(user_count(&app).await, 0);
}

#[tokio::test]
async fn a_connection_not_enabled_for_the_application_is_refused_to_it() {
    let (app, _spa, _provider) = hostile_setup().await;
    let other = app.create_spa(false).await;
    let response = browser()
        .get(app.authorize_url(&other, &[("connection", "hostile")]))
        .send()
        .await
        .expect("authorize");
    assert_eq!(response.status(), StatusCode::FOUND);
    let params = callback_params(&location(&response));
    assert_eq!(params["error"], "invalid_request");
}

#[tokio::test]
async fn connections_are_created_listed_and_deleted_through_the_management_api() {
    let mgmt = crate::management_support::spawn_mgmt().await;
    let spa = mgmt.app.create_spa(false).await;
    let body = json!({
        "name": "corp-idp", "strategy": "oidc", "display_name": "Corp",
        "options": { "issuer": "https://idp.example.com", "client_id": "abc", "client_secret": "very-secret", "scope": "openid email", "type": "back_channel" },
        "enabled_clients": [spa.client_id],
    });
    let (status, created) = mgmt.post("/connections", body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["strategy"], "oidc");
    assert_eq!(created["options"]["client_id"], "abc");
    assert!(
        created["options"].get("client_secret").is_none(),
        "the secret is never shown"
    );
    let id = created["id"].as_str().expect("id").to_owned();

    let (_, listed) = mgmt.get("/connections?strategy=oidc").await;
    assert_eq!(listed.as_array().expect("array").len(), 1);
    assert_eq!(listed[0]["name"], "corp-idp");
    let (status, one) = mgmt.get(&format!("/connections/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["enabled_clients"][0], spa.client_id);

    // Auth0's validation shapes.
    let taken = mgmt.post("/connections", body).await;
    crate::management_support::assert_error(&taken, StatusCode::CONFLICT, "conflict");
    let bad = mgmt
        .post(
            "/connections",
            json!({ "name": "x", "strategy": "saml", "options": {} }),
        )
        .await;
    assert_eq!(bad.0, StatusCode::BAD_REQUEST, "{}", bad.1);
    let insecure = mgmt
        .post("/connections", json!({ "name": "y", "strategy": "oidc", "options": { "issuer": "http://idp.example.com", "client_id": "a" } }))
        .await;
    assert_eq!(insecure.0, StatusCode::BAD_REQUEST, "{}", insecure.1);

    let (status, _) = mgmt.delete(&format!("/connections/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = mgmt.get(&format!("/connections/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_verified_email_signs_in_as_the_database_user_only_when_the_connection_links() {
    let provider = spawn_provider().await;
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    let database_user = app.create_user("eve@example.com").await;
    connect(
        &app,
        &spa,
        "hostile",
        json!({ "issuer": provider.base, "client_id": "downstream", "link_verified_email": true }),
    )
    .await;
    let (response, _) = answer_with(&app, &spa, &provider, false, good_claims).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(app
        .store
        .user_by_id("oidc|hostile|u-1")
        .await
        .expect("read")
        .is_none());
    let identity = app
        .store
        .federated_identity("hostile", "u-1")
        .await
        .expect("read")
        .expect("linked");
    assert_eq!(identity.user_id, database_user);

    // An address the provider did not verify is never linked.
    let (response, _) = answer_with(&app, &spa, &provider, false, |issuer, nonce| {
        let mut claims = good_claims(issuer, nonce);
        claims["sub"] = json!("u-2");
        claims["email_verified"] = json!(false);
        claims
    })
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let other = app
        .store
        .user_by_id("oidc|hostile|u-2")
        .await
        .expect("read")
        .expect("a user of its own");
    assert!(!other.email_verified);
}

#[tokio::test]
async fn identities_have_auth0s_shape_and_are_linked_and_unlinked() {
    let mgmt = crate::management_support::spawn_mgmt().await;
    let app = &mgmt.app;
    let provider = spawn_provider().await;
    let spa = app.create_spa(false).await;
    connect(
        app,
        &spa,
        "hostile",
        json!({ "issuer": provider.base, "client_id": "downstream" }),
    )
    .await;
    let (response, _) = answer_with(app, &spa, &provider, false, good_claims).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (status, user) = mgmt.get("/users/oidc%7Chostile%7Cu-1").await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(
        user["identities"],
        json!([{ "connection": "hostile", "user_id": "hostile|u-1", "provider": "oidc", "isSocial": false }])
    );

    let primary = app.create_user("primary@example.com").await;
    let (status, identities) = mgmt
        .post(
            &format!("/users/{primary}/identities"),
            json!({ "provider": "oidc", "user_id": "hostile|u-1" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{identities}");
    assert_eq!(identities.as_array().expect("array").len(), 2);
    assert_eq!(identities[1]["user_id"], "hostile|u-1");
    assert_eq!(
        mgmt.get("/users/oidc%7Chostile%7Cu-1").await.0,
        StatusCode::NOT_FOUND
    );

    let (status, identities) = mgmt
        .delete(&format!("/users/{primary}/identities/oidc/hostile%7Cu-1"))
        .await;
    assert_eq!(status, StatusCode::OK, "{identities}");
    assert_eq!(identities.as_array().expect("array").len(), 1);
    assert_eq!(
        mgmt.get("/users/oidc%7Chostile%7Cu-1").await.0,
        StatusCode::OK
    );
}
