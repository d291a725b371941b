//! The HTTP floors for the guard benchmark: a bare axum server on one thread that answers like
//! `/api/external`, with no guard and no middleware, in one of two modes.
//!
//! ```text
//! cargo run --release -p sample-api --example floor_server -- PORT busy MICROSECONDS
//! cargo run --release -p sample-api --example floor_server -- PORT decode JWKS_FILE ISSUER AUDIENCE
//! ```
//!
//! - `busy`: the handler spins for the given time (0 for none). Loaded like the sample API, it
//!   shows what any server spending that long per request can reach on this machine and this
//!   loopback, with nothing else running between requests.
//! - `decode`: the handler verifies the request's bearer token with jsonwebtoken's own
//!   `decode` (signature, `exp`, `iss`, `aud`) against the one key of `JWKS_FILE`, parsed once
//!   at start, and answers 401 when it fails. This is the least any server checking the token
//!   with jsonwebtoken does per request: no key lookup by `kid`, no header policy, no cache.
//!   Unlike a spinning handler, it runs the signature's own code and tables between requests,
//!   as a real verifier does.
//!
//! Listens on 127.0.0.1 only.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use axum::{
    http::{header, HeaderMap, StatusCode},
    routing::get,
    Router,
};
use jsonwebtoken::{jwk::JwkSet, DecodingKey, Validation};
use serde_json::Value;

const BODY: &str = r#"{"msg":"Your access token was successfully validated!"}"#;
const USAGE: &str = "usage: floor_server PORT busy MICROSECONDS | \
                     floor_server PORT decode JWKS_FILE ISSUER AUDIENCE";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (port, app) = match args.as_slice() {
        [port, mode, busy] if mode == "busy" => (port, busy_app(busy.parse()?)),
        [port, mode, jwks, issuer, audience] if mode == "decode" => {
            (port, decode_app(jwks, issuer, audience)?)
        }
        _ => anyhow::bail!(USAGE),
    };
    let port: u16 = port.parse().context(USAGE)?;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
            axum::serve(listener, app).await?;
            Ok(())
        })
}

fn busy_app(micros: f64) -> Router {
    let busy = Duration::from_nanos((micros * 1000.0) as u64);
    Router::new().route(
        "/api/external",
        get(move || async move {
            let start = Instant::now();
            while start.elapsed() < busy {
                std::hint::spin_loop();
            }
            ([(header::CONTENT_TYPE, "application/json")], BODY)
        }),
    )
}

fn decode_app(jwks: &str, issuer: &str, audience: &str) -> anyhow::Result<Router> {
    let set: JwkSet = serde_json::from_str(
        &std::fs::read_to_string(jwks).with_context(|| format!("reading {jwks}"))?,
    )?;
    let [jwk] = set.keys.as_slice() else {
        anyhow::bail!("{jwks} must hold exactly one key");
    };
    let alg = jwk
        .common
        .key_algorithm
        .context("the key names no alg")?
        .to_string()
        .parse()?;
    let key = DecodingKey::from_jwk(jwk)?;
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    let checker = Arc::new((key, validation));
    Ok(Router::new().route(
        "/api/external",
        get(move |headers: HeaderMap| async move {
            let (key, validation) = &*checker;
            let valid = headers
                .get(header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("Bearer "))
                .is_some_and(|token| jsonwebtoken::decode::<Value>(token, key, validation).is_ok());
            if valid {
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    BODY,
                )
            } else {
                (
                    StatusCode::UNAUTHORIZED,
                    [(header::CONTENT_TYPE, "application/json")],
                    "{}",
                )
            }
        }),
    ))
}
