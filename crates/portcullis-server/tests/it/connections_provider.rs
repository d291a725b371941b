//! A small provider under the test's control, for the answers a hostile, broken or unusual
//! provider gives: its own discovery document (whose issuer a test may change, or make
//! Microsoft's `{tenantid}` template), JWKS and ID tokens signed with `jsonwebtoken` (a P-256
//! key from `rcgen`), a plain OAuth 2 profile, and GitHub's `/user` and `/user/emails`.

use std::sync::{Arc, Mutex};

use axum::{extract::State, routing::get, routing::post, Json, Router};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    connections::{connect, start, user_count},
    helpers::{browser, callback_params, spawn_app, Spa, TestApp},
};

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
    /// The issuer its discovery document names: its base, unless a test changes it.
    pub(crate) issuer: Mutex<String>,
    /// GitHub's `/user` and `/user/emails` (`None`: refused, as without `user:email`).
    pub(crate) github: Mutex<(Value, Option<Value>)>,
    key: jsonwebtoken::EncodingKey,
    foreign: jsonwebtoken::EncodingKey,
}

/// The access token the provider's `/token` gives and its profile endpoints want.
const ACCESS_TOKEN: &str = "upstream-access";

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

/// The token endpoint: an access token, and an ID token of the next claims when there are.
async fn token(State(provider): State<Arc<Provider>>) -> Json<Value> {
    let next = provider.next.lock().expect("lock").clone();
    let mut answer =
        json!({ "access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 60 });
    if next.claims.is_object() {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some("k1".into());
        let key = if next.foreign_key {
            &provider.foreign
        } else {
            &provider.key
        };
        answer["id_token"] = json!(jsonwebtoken::encode(&header, &next.claims, key).expect("sign"));
    }
    Json(answer)
}

fn authorized(headers: &axum::http::HeaderMap) -> Result<(), StatusCode> {
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(value) if value == format!("Bearer {ACCESS_TOKEN}") => Ok(()),
        _ => Err(StatusCode::UNAUTHORIZED),
    }
}

/// A plain OAuth 2 provider's profile endpoint: the user, for the access token `/token` gave.
async fn profile(headers: axum::http::HeaderMap) -> Result<Json<Value>, StatusCode> {
    authorized(&headers)?;
    Ok(Json(json!({
        "sub": "p-42", "email": "pat@example.com", "email_verified": true, "name": "Pat",
    })))
}

async fn github_user(
    State(provider): State<Arc<Provider>>,
    headers: axum::http::HeaderMap,
) -> Result<Json<Value>, StatusCode> {
    authorized(&headers)?;
    Ok(Json(provider.github.lock().expect("lock").0.clone()))
}

async fn github_emails(
    State(provider): State<Arc<Provider>>,
    headers: axum::http::HeaderMap,
) -> Result<Json<Value>, StatusCode> {
    authorized(&headers)?;
    let emails = provider.github.lock().expect("lock").1.clone();
    emails.map(Json).ok_or(StatusCode::FORBIDDEN)
}

async fn discovery(State(provider): State<Arc<Provider>>) -> Json<Value> {
    let base = &provider.base;
    Json(json!({
        "issuer": provider.issuer.lock().expect("lock").clone(),
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
    }))
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
        issuer: Mutex::new(base),
        github: Mutex::new((Value::Null, None)),
        key,
        foreign,
    });
    let jwks = json!({ "keys": [jwk] });
    let router = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(move || async move { Json(jwks) }))
        .route("/token", post(token))
        .route("/profile", get(profile))
        .route("/user", get(github_user))
        .route("/user/emails", get(github_emails))
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

/// Starts a sign-in at `connection`; `claims` makes the provider's ID token from the
/// request's nonce; then the callback's answer.
pub(crate) async fn answer_with(
    app: &TestApp,
    spa: &Spa,
    provider: &Provider,
    connection: &str,
    foreign_key: bool,
    claims: impl FnOnce(&str, &str) -> Value,
) -> (reqwest::Response, String) {
    let browser = browser();
    let (to_provider, _) = start(app, &browser, spa, connection).await;
    let sent = callback_params(&to_provider);
    let nonce = sent.get("nonce").cloned().unwrap_or_default();
    *provider.next.lock().expect("lock") = Next {
        claims: claims(&provider.base, &nonce),
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

/// The callback's answer is the refusal page naming `expected`, and nobody was created.
pub(crate) async fn assert_refused(app: &TestApp, response: reqwest::Response, expected: &str) {
    let status = response.status();
    let html = response.text().await.expect("html");
    assert!(status.is_client_error(), "{status}: {html}");
    assert!(html.contains(expected), "{expected:?} not in {html}");
    assert_eq!(user_count(app).await, 0, "nobody is created");
}
