//! The resource-server guard as an API uses it: built with its public builder, fetching keys
//! over HTTP from a loopback JWKS endpoint of this process. One endpoint serves a fixed key
//! set (our RSA key); the other serves whatever document the current fuzz input is.

use std::{
    net::SocketAddr,
    sync::{Arc, LazyLock, Mutex, PoisonError},
    time::{SystemTime, UNIX_EPOCH},
};

use aws_lc_rs::{
    encoding::AsDer,
    rsa::{KeyPair, KeySize},
    signature::KeyPair as _,
};
use axum::{extract::State, http::header, response::IntoResponse, routing::get, Router};
use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine as _,
};
use jsonwebtoken::{Algorithm, EncodingKey};
use portcullis_guard::{Guard, VerifiedToken};
use serde_json::{json, Value};

pub const ISSUER: &str = "https://issuer.fuzz.example/";
pub const AUDIENCE: &str = "https://api.fuzz.example";
pub const KID: &str = "fuzz-key";

/// The loopback JWKS endpoints and the key that signs the targets' tokens.
pub struct GuardFixture {
    runtime: tokio::runtime::Runtime,
    address: SocketAddr,
    encoding: EncodingKey,
    /// The public key's modulus, base64url, as the JWK carries it.
    pub modulus: String,
    jwk: Value,
    /// What `/fuzz.json` answers.
    document: Arc<Mutex<Vec<u8>>>,
    /// A guard on the fixed key set, shared by every input (as an API shares its guard).
    pub guard: Guard,
}

pub static GUARD: LazyLock<GuardFixture> = LazyLock::new(GuardFixture::build);

impl GuardFixture {
    fn build() -> GuardFixture {
        let runtime = crate::runtime();
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA key");
        let pkcs8 = pair.as_der().expect("PKCS#8");
        // jsonwebtoken reads PKCS#8 only as PEM (its DER form is PKCS#1).
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(pkcs8.as_ref())
        );
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("PKCS#8 PEM");
        let public = pair.public_key();
        let modulus = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
        let exponent = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
        let jwk = json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID, "n": modulus, "e": exponent,
        });
        let fixed = serde_json::to_vec(&json!({ "keys": [jwk] })).expect("JSON");
        let document = Arc::new(Mutex::new(Vec::new()));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let app = Router::new()
            .route(
                "/keys.json",
                get(move || async move { json_body(fixed.clone()) }),
            )
            .route("/fuzz.json", get(fuzzed))
            .with_state(document.clone());
        runtime.spawn(async move { axum::serve(listener, app).await });
        let guard = runtime.block_on(async {
            let guard = builder(address, "/keys.json").build().expect("guard");
            guard.refresh_keys().await.expect("fixed key set");
            guard
        });
        GuardFixture {
            runtime,
            address,
            encoding,
            modulus,
            jwk,
            document,
            guard,
        }
    }

    /// The fixed key set's JWK.
    pub fn jwk(&self) -> &Value {
        &self.jwk
    }

    /// Signs `header.claims` (each base64url-encoded as given) with our RSA key under RS256,
    /// whatever the header says.
    pub fn sign(&self, header: &[u8], claims: &[u8]) -> String {
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &self.encoding, Algorithm::RS256)
                .expect("signing");
        format!("{message}.{signature}")
    }

    /// A valid token for the guard.
    pub fn valid_token(&self) -> String {
        let header = json!({ "alg": "RS256", "typ": "JWT", "kid": KID });
        let claims = json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": "fuzz", "iat": now(), "exp": now() + 3600,
            "scope": "read:messages",
        });
        self.sign(
            &serde_json::to_vec(&header).expect("JSON"),
            &serde_json::to_vec(&claims).expect("JSON"),
        )
    }

    /// Verifies `token` with the shared guard.
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, portcullis_guard::AuthError> {
        self.runtime.block_on(self.guard.verify(token))
    }

    /// A new guard whose key set is `document`, fetched over HTTP; then `token` verified by it.
    pub fn with_document(
        &self,
        document: &[u8],
        token: &str,
    ) -> (
        Result<(), portcullis_guard::KeySetError>,
        Result<VerifiedToken, portcullis_guard::AuthError>,
    ) {
        *self.document.lock().unwrap_or_else(PoisonError::into_inner) = document.to_vec();
        self.runtime.block_on(async {
            let guard = builder(self.address, "/fuzz.json")
                .max_jwks_bytes(64 * 1024)
                .build()
                .expect("guard");
            let loaded = guard.refresh_keys().await;
            (loaded, guard.verify(token).await)
        })
    }
}

fn builder(address: SocketAddr, path: &str) -> portcullis_guard::GuardBuilder {
    Guard::builder(ISSUER)
        .audience(AUDIENCE)
        .jwks_url(format!("http://{address}{path}"))
        .allow_plain_http(true)
}

async fn fuzzed(State(document): State<Arc<Mutex<Vec<u8>>>>) -> impl IntoResponse {
    let body = document
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    json_body(body)
}

fn json_body(body: Vec<u8>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], body)
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
