//! Test keys, token minting, a loopback JWKS server that counts its fetches, and a guarded app.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, LazyLock, Mutex, PoisonError,
    },
    time::{SystemTime, UNIX_EPOCH},
};

use aws_lc_rs::{
    encoding::AsDer,
    rsa::{KeyPair, KeySize},
    signature::KeyPair as _,
};
use axum::{
    body::Body,
    extract::State,
    http::{header, Request, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Extension, Json, Router,
};
use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine as _,
};
use jsonwebtoken::{Algorithm, EncodingKey};
use portcullis_guard::{Claims, Guard, GuardBuilder, ScopePolicy, VerifiedToken};
use serde_json::{json, Value};
use tower::ServiceExt as _;

pub const AUDIENCE: &str = "https://api.example.com";

/// An RSA-2048 key generated for the test run.
pub struct TestKey {
    pub kid: String,
    encoding: EncodingKey,
    modulus: Vec<u8>,
    exponent: Vec<u8>,
    public_der: Vec<u8>,
}

impl TestKey {
    fn generate(kid: &str) -> Self {
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
        let pkcs8 = pair.as_der().expect("PKCS#8 export");
        let pem = pem_wrap("PRIVATE KEY", pkcs8.as_ref());
        let public = pair.public_key();
        Self {
            kid: kid.to_owned(),
            encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).expect("PEM accepted"),
            modulus: public.modulus().big_endian_without_leading_zero().to_vec(),
            exponent: public.exponent().big_endian_without_leading_zero().to_vec(),
            public_der: public.as_der().expect("SPKI export").as_ref().to_vec(),
        }
    }

    /// The public JWK, as an Auth0 tenant publishes it.
    pub fn jwk(&self) -> Value {
        json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(&self.modulus),
            "e": URL_SAFE_NO_PAD.encode(&self.exponent),
        })
    }

    /// The private key, for signing with arbitrary headers and payloads.
    pub fn encoding_key(&self) -> EncodingKey {
        self.encoding.clone()
    }

    /// The public key as PEM text: what an attacker would use as an HMAC secret.
    pub fn public_pem(&self) -> String {
        pem_wrap("PUBLIC KEY", &self.public_der)
    }
}

fn pem_wrap(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|chunk| std::str::from_utf8(chunk).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// Our issuer's key.
pub static KEY: LazyLock<TestKey> = LazyLock::new(|| TestKey::generate("k1-2026"));
/// The key the issuer rotates to.
pub static NEXT_KEY: LazyLock<TestKey> = LazyLock::new(|| TestKey::generate("k2-2026"));
/// An attacker's key.
pub static ATTACKER: LazyLock<TestKey> = LazyLock::new(|| TestKey::generate("attacker"));

pub fn jwks(keys: &[&TestKey]) -> Value {
    json!({ "keys": keys.iter().map(|key| key.jwk()).collect::<Vec<_>>() })
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Signs `header.payload` with `key` under `alg`, whatever the header says.
pub fn sign_bytes(header: &Value, payload: &[u8], key: &EncodingKey, alg: Algorithm) -> String {
    let message = format!(
        "{}.{}",
        b64(&serde_json::to_vec(header).expect("header JSON")),
        b64(payload)
    );
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).expect("signing");
    format!("{message}.{signature}")
}

/// Signs arbitrary header and claims with an RSA test key (RS256).
pub fn sign(header: &Value, claims: &Value, key: &TestKey) -> String {
    let payload = serde_json::to_vec(claims).expect("claims JSON");
    sign_bytes(header, &payload, &key.encoding, Algorithm::RS256)
}

pub fn header_for(key: &TestKey) -> Value {
    json!({ "alg": "RS256", "typ": "JWT", "kid": key.kid })
}

/// Auth0-shaped claims for `issuer`, unique per call (distinct `jti`) so that every token is
/// new to the verified-token cache.
pub fn claims(issuer: &str) -> Value {
    static SEQUENCE: AtomicUsize = AtomicUsize::new(0);
    let now = now();
    json!({
        "iss": issuer,
        "sub": "auth0|5f7c8ec7c33c6c004bbafe82",
        "aud": [AUDIENCE, format!("{issuer}userinfo")],
        "iat": now,
        "exp": now + 3600,
        "azp": "Xq8d3bQpP9k2mW4vR7tY1uZ0aB5cD6eF",
        "scope": "openid profile read:messages",
        "jti": format!("jti-{}", SEQUENCE.fetch_add(1, Ordering::Relaxed)),
    })
}

/// A valid token for `issuer`, signed with `key`.
pub fn valid_token(issuer: &str, key: &TestKey) -> String {
    sign(&header_for(key), &claims(issuer), key)
}

#[derive(Default)]
struct JwksState {
    document: Mutex<Value>,
    failing: AtomicBool,
    fetches: AtomicUsize,
}

/// A JWKS (and discovery) endpoint on 127.0.0.1:0.
pub struct JwksServer {
    pub base: String,
    state: Arc<JwksState>,
    task: tokio::task::JoinHandle<()>,
}

impl JwksServer {
    pub async fn start(document: Value) -> Self {
        let state = Arc::new(JwksState {
            document: Mutex::new(document),
            ..JwksState::default()
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("local address"));
        let discovery = json!({
            "issuer": format!("{base}/"),
            "jwks_uri": format!("{base}/keys"),
        });
        let app = Router::new()
            .route("/.well-known/jwks.json", get(serve_jwks))
            .route("/keys", get(serve_jwks))
            .route(
                "/.well-known/openid-configuration",
                get(move || async move { Json(discovery) }),
            )
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("JWKS server");
        });
        Self { base, state, task }
    }

    /// The issuer whose default JWKS URL is this server: `http://127.0.0.1:PORT/`.
    pub fn issuer(&self) -> String {
        format!("{}/", self.base)
    }

    pub fn fetches(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }

    pub fn set_failing(&self, failing: bool) {
        self.state.failing.store(failing, Ordering::SeqCst);
    }

    pub fn set_document(&self, document: Value) {
        *self
            .state
            .document
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = document;
    }

    /// A guard builder for this issuer, with our audience.
    pub fn guard(&self) -> GuardBuilder {
        Guard::builder(self.issuer()).audience(AUDIENCE)
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_jwks(State(state): State<Arc<JwksState>>) -> Response {
    state.fetches.fetch_add(1, Ordering::SeqCst);
    if state.failing.load(Ordering::SeqCst) {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let document = state
        .document
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    Json(document).into_response()
}

/// The app under test: one route per way of using the guard.
pub fn app(guard: Guard) -> Router {
    Router::new()
        .route(
            "/private",
            get(|claims: Claims| async move { claims.sub.clone() }),
        )
        .route(
            "/all-of",
            get(ok).route_layer(
                guard.require(ScopePolicy::all_of(["read:messages", "write:messages"])),
            ),
        )
        .route(
            "/any-of",
            get(ok).route_layer(
                guard.require(ScopePolicy::any_of(["write:messages", "read:messages"])),
            ),
        )
        .route(
            "/layered",
            get(|Extension(token): Extension<VerifiedToken>| async move {
                token.subject().unwrap_or_default().to_owned()
            })
            .route_layer(guard.layer()),
        )
        .with_state(guard)
}

async fn ok() -> &'static str {
    "ok"
}

/// What a test looks at in a response.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub challenge: Option<String>,
    pub body: Value,
}

pub async fn call(app: &Router, path: &str, token: Option<&str>) -> Answer {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    send(app, request.body(Body::empty()).expect("request")).await
}

pub async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|value| value.to_str().expect("ASCII challenge").to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Answer {
        status,
        challenge,
        body,
    }
}
