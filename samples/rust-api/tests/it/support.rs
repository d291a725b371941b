//! A test key, a loopback issuer serving its JWKS, and the sample API on 127.0.0.1:0.

use std::{
    path::Path,
    sync::LazyLock,
    time::{SystemTime, UNIX_EPOCH},
};

use aws_lc_rs::{
    encoding::AsDer,
    rsa::{KeyPair, KeySize},
    signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING},
};
use axum::{routing::get, Json, Router};
use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine as _,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sample_api::{app, AuthConfig, Site};
use serde_json::{json, Value};
use tempfile::TempDir;

pub const AUDIENCE: &str = "https://quickstarts/api";
pub const INDEX_HTML: &str = "<!doctype html><title>SPA</title>";
pub const APP_JS: &str = "const callApi = async () => {};\n";
const KID: &str = "sample-key";

struct SigningKey {
    encoding: EncodingKey,
    jwk: Value,
}

static KEY: LazyLock<SigningKey> = LazyLock::new(|| {
    let pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
    let pkcs8 = STANDARD.encode(pair.as_der().expect("PKCS#8").as_ref());
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{pkcs8}\n-----END PRIVATE KEY-----\n");
    let public = pair.public_key();
    SigningKey {
        encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).expect("PEM"),
        jwk: json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID,
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        }),
    }
});

/// The keys of APIs signing with PS256 and ES256, published next to the RS256 key.
static PS256_KEY: LazyLock<SigningKey> = LazyLock::new(|| {
    let pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
    let pkcs8 = STANDARD.encode(pair.as_der().expect("PKCS#8").as_ref());
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{pkcs8}\n-----END PRIVATE KEY-----\n");
    let public = pair.public_key();
    SigningKey {
        encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).expect("PEM"),
        jwk: json!({
            "kty": "RSA", "use": "sig", "alg": "PS256", "kid": "sample-ps256",
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        }),
    }
});

static ES256_KEY: LazyLock<SigningKey> = LazyLock::new(|| {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("EC key");
    let point = pair.public_key().as_ref().to_vec();
    SigningKey {
        encoding: EncodingKey::from_ec_der(pair.to_pkcs8v1().expect("PKCS#8").as_ref()),
        jwk: json!({
            "kty": "EC", "use": "sig", "alg": "ES256", "kid": "sample-es256", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        }),
    }
});

/// A response header as text, empty when absent or unreadable.
pub fn header_text(response: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub struct TestEnv {
    pub client: reqwest::Client,
    /// `http://127.0.0.1:PORT` of the stand-in issuer, used as `domain` in auth_config.json.
    pub issuer_base: String,
    api_base: String,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _site: TempDir,
}

impl TestEnv {
    pub async fn start() -> Self {
        Self::start_with(false).await
    }

    /// With `metadata`, the API publishes RFC 9728 metadata at its own base URL.
    pub async fn start_with(metadata: bool) -> Self {
        let jwks =
            json!({ "keys": [KEY.jwk.clone(), PS256_KEY.jwk.clone(), ES256_KEY.jwk.clone()] });
        let issuer_router = Router::new().route(
            "/.well-known/jwks.json",
            get(move || {
                let jwks = jwks.clone();
                async move { Json(jwks) }
            }),
        );
        let (issuer_base, issuer_task) = serve(issuer_router).await;

        let site_dir = tempfile::tempdir().expect("temp dir");
        let root = site_dir.path();
        std::fs::create_dir_all(root.join("public/js")).expect("public/js");
        std::fs::write(root.join("public/js/app.js"), APP_JS).expect("app.js");
        std::fs::write(root.join("index.html"), INDEX_HTML).expect("index.html");
        let config =
            json!({ "domain": issuer_base, "clientId": "spa-client", "audience": AUDIENCE });
        std::fs::write(root.join("auth_config.json"), config.to_string()).expect("config");

        let auth_config = AuthConfig::from_file(&root.join("auth_config.json")).expect("config");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let api_base = format!("http://{}", listener.local_addr().expect("address"));
        let guard = if metadata {
            auth_config.guard_served_at(Some(&api_base))
        } else {
            auth_config.guard()
        }
        .expect("guard");
        let router = app(guard, &site(root));
        let api_task = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("server");
        });
        Self {
            client: reqwest::Client::new(),
            issuer_base,
            api_base,
            tasks: vec![issuer_task, api_task],
            _site: site_dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api_base)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    /// A CORS preflight for `GET path` from `origin`, announcing `request_headers`.
    pub async fn preflight(
        &self,
        path: &str,
        origin: &str,
        request_headers: &str,
    ) -> reqwest::Response {
        use reqwest::header;
        self.client
            .request(reqwest::Method::OPTIONS, self.url(path))
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, request_headers)
            .send()
            .await
            .expect("preflight")
    }

    /// Claims as the issuer of `auth_config.json` would issue them.
    pub fn claims(&self, scope: &str) -> Value {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        json!({
            "iss": format!("{}/", self.issuer_base),
            "sub": "auth0|user",
            "aud": [AUDIENCE, format!("{}/userinfo", self.issuer_base)],
            "iat": now,
            "exp": now + 600,
            "azp": "spa-client",
            "scope": scope,
        })
    }

    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(KID.to_owned());
        jsonwebtoken::encode(&header, claims, &KEY.encoding).expect("signing")
    }

    pub fn token(&self, scope: &str) -> String {
        self.sign(&self.claims(scope))
    }

    /// Signs `claims` as an API signing with PS256 or ES256 would have them signed.
    pub fn sign_as(&self, alg: Algorithm, claims: &Value) -> String {
        let key = match alg {
            Algorithm::PS256 => &*PS256_KEY,
            Algorithm::ES256 => &*ES256_KEY,
            _ => &*KEY,
        };
        let mut header = Header::new(alg);
        header.kid = key.jwk["kid"].as_str().map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &key.encoding).expect("signing")
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn site(root: &Path) -> Site {
    Site {
        auth_config_file: root.join("auth_config.json"),
        static_dir: root.join("public"),
        index_file: root.join("index.html"),
        allowed_origins: Vec::new(),
    }
}

async fn serve(router: Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.expect("server");
    });
    (base, task)
}
