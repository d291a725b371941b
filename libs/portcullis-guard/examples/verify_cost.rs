//! What one verification costs, without HTTP: `Guard::verify` for a fresh token (a cache miss
//! and a full RS256 check) and for a reused one (a cache hit), next to jsonwebtoken's own
//! `decode` of the same tokens, the floor the guard builds on.
//!
//! ```text
//! cargo run --release -p portcullis-guard --example verify_cost [-- TOKENS]
//! ```
//!
//! Single thread; pin it (`taskset -c 1`) for stable figures. The JWKS is served once from
//! 127.0.0.1 and then cached, as in a running API.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::{
    encoding::AsDer,
    rsa::{KeyPair, KeySize},
    signature::KeyPair as _,
};
use axum::{routing::get, Json, Router};
use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine as _,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use portcullis_guard::Guard;
use serde_json::{json, Value};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

const KID: &str = "cost-2026";
const AUDIENCE: &str = "https://api.example.com";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let count: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 20_000,
    };
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| "RSA key generation failed")?;
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(pair.as_der().map_err(|_| "PKCS#8 export")?.as_ref())
    );
    let encoding = EncodingKey::from_rsa_pem(pem.as_bytes())?;
    let public = pair.public_key();
    let (n, e) = (
        URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
        URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
    );
    let jwks =
        json!({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID, "n": n, "e": e}]});

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let issuer = format!("http://{}/", listener.local_addr()?);
    let app = Router::new().route(
        "/.well-known/jwks.json",
        get(move || {
            let jwks = jwks.clone();
            async move { Json(jwks) }
        }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KID.to_owned());
    let tokens = (0..count)
        .map(|i| {
            let claims = json!({
                "iss": issuer, "sub": format!("auth0|user-{i}"),
                "aud": [AUDIENCE, format!("{issuer}userinfo")],
                "iat": now, "exp": now + 3600, "azp": "spa-client",
                "scope": "openid profile email read:messages",
            });
            jsonwebtoken::encode(&header, &claims, &encoding)
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;

    let guard = Guard::builder(issuer.clone())
        .audience(AUDIENCE)
        .allow_plain_http(true)
        .verified_token_cache(2 * count)
        .build()?;
    guard.refresh_keys().await?;

    let key = DecodingKey::from_rsa_components(&n, &e)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[AUDIENCE]);
    validation.set_issuer(&[&issuer]);
    let floor = time(&tokens, |token| {
        jsonwebtoken::decode::<Value>(token, &key, &validation).is_ok()
    });
    let mut fresh = Duration::ZERO;
    for token in &tokens {
        let start = Instant::now();
        let ok = guard.verify(token).await.is_ok();
        fresh += start.elapsed();
        assert!(ok, "a valid token was refused");
    }
    // The first pass saw each token once (all misses) and cached every one of them (the cache
    // holds twice as many, so no shard is short of room).
    let cached = &tokens[..];
    let mut reused = Duration::ZERO;
    for token in cached {
        let start = Instant::now();
        let ok = guard.verify(token).await.is_ok();
        reused += start.elapsed();
        assert!(ok, "a valid token was refused");
    }
    server.abort();

    let per = |total: Duration, n: usize| total.as_secs_f64() * 1e6 / n as f64;
    println!("| operation ({count} distinct RS256-2048 tokens) | µs per token |");
    println!("|---|---:|");
    println!(
        "| jsonwebtoken::decode (the floor) | {:.2} |",
        per(floor, count)
    );
    println!(
        "| Guard::verify, fresh token (cache miss) | {:.2} |",
        per(fresh, count)
    );
    println!(
        "| Guard::verify, reused token (cache hit) | {:.2} |",
        per(reused, cached.len())
    );
    Ok(())
}

fn time(tokens: &[String], mut verify: impl FnMut(&str) -> bool) -> Duration {
    let start = Instant::now();
    for token in tokens {
        assert!(verify(token), "a valid token was refused");
    }
    start.elapsed()
}
