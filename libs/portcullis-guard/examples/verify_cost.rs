//! What one verification costs, without HTTP, for RS256, PS256 and ES256 side by side:
//! `Guard::verify` for a fresh token (a cache miss: header policy, key lookup, signature,
//! claims) and for a reused one (a cache hit), next to a raw aws-lc-rs signature check with an
//! already parsed public key (the floor: nothing but the signature) and jsonwebtoken's own
//! `decode` of the same tokens (which parses the public key on every call).
//!
//! ```text
//! cargo run --release -p portcullis-guard --example verify_cost [-- TOKENS]
//! ```
//!
//! Single thread; pin it (`taskset -c 1`). Every call is timed on its own and each figure is
//! the median over the tokens, so that a shared, noisy machine still gives steady figures.
//! The guard's verified-token cache is kept small, so that a fresh token also pays for the
//! eviction of an old one. The JWKS is served once from 127.0.0.1 and then cached, as in a
//! running API.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::{
    encoding::AsDer,
    rsa::{KeyPair, KeySize, PublicKeyComponents},
    signature::{self, EcdsaKeyPair, KeyPair as _, ParsedPublicKey, VerificationAlgorithm},
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

const AUDIENCE: &str = "https://api.example.com";

/// One algorithm's key: how to sign, its JWK, its parsed public key and jsonwebtoken's key.
struct Subject {
    alg: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
    parsed: ParsedPublicKey,
    decoding: DecodingKey,
}

fn rsa(
    alg: Algorithm,
    kid: &str,
    verification: &'static dyn VerificationAlgorithm,
) -> Result<Subject> {
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| "RSA key generation failed")?;
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(pair.as_der().map_err(|_| "PKCS#8 export")?.as_ref())
    );
    let public = pair.public_key();
    let (n, e) = (
        public.modulus().big_endian_without_leading_zero().to_vec(),
        public.exponent().big_endian_without_leading_zero().to_vec(),
    );
    let spki = PublicKeyComponents {
        n: &n[..],
        e: &e[..],
    }
    .as_der()
    .map_err(|_| "SPKI export")?;
    let (n, e) = (URL_SAFE_NO_PAD.encode(&n), URL_SAFE_NO_PAD.encode(&e));
    Ok(Subject {
        alg,
        encoding: EncodingKey::from_rsa_pem(pem.as_bytes())?,
        jwk: json!({"kty": "RSA", "use": "sig", "alg": format!("{alg:?}"), "kid": kid, "n": n, "e": e}),
        parsed: ParsedPublicKey::new(verification, spki.as_ref()).map_err(|_| "parse")?,
        decoding: DecodingKey::from_rsa_components(&n, &e)?,
    })
}

fn es256(kid: &str) -> Result<Subject> {
    let pair = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
        .map_err(|_| "EC key generation failed")?;
    let point = pair.public_key().as_ref().to_vec();
    let (x, y) = (
        URL_SAFE_NO_PAD.encode(&point[1..33]),
        URL_SAFE_NO_PAD.encode(&point[33..]),
    );
    Ok(Subject {
        alg: Algorithm::ES256,
        encoding: EncodingKey::from_ec_der(pair.to_pkcs8v1().map_err(|_| "PKCS#8")?.as_ref()),
        jwk: json!({"kty": "EC", "use": "sig", "alg": "ES256", "kid": kid, "crv": "P-256", "x": x, "y": y}),
        parsed: ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &point)
            .map_err(|_| "parse")?,
        decoding: DecodingKey::from_ec_components(&x, &y)?,
    })
}

/// Per algorithm: the median µs per call of the raw check, jsonwebtoken, the guard fresh and
/// cached.
struct Figures {
    raw: f64,
    decode: f64,
    fresh: f64,
    reused: f64,
}

/// The verified-token cache of the guard under test: far smaller than the token count, so that
/// past the first tokens every fresh verification also evicts an entry, as in an API that sees
/// more distinct tokens than it remembers.
const CACHE_ENTRIES: usize = 1_000;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let count: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 20_000,
    };
    let subjects = [
        rsa(
            Algorithm::RS256,
            "cost-rs256",
            &signature::RSA_PKCS1_2048_8192_SHA256,
        )?,
        rsa(
            Algorithm::PS256,
            "cost-ps256",
            &signature::RSA_PSS_2048_8192_SHA256,
        )?,
        es256("cost-es256")?,
    ];
    let jwks = json!({"keys": subjects.iter().map(|s| s.jwk.clone()).collect::<Vec<_>>()});

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

    let guard = Guard::builder(issuer.clone())
        .audience(AUDIENCE)
        .algorithms([Algorithm::RS256, Algorithm::PS256, Algorithm::ES256])
        .allow_plain_http(true)
        .verified_token_cache(CACHE_ENTRIES)
        .build()?;
    guard.refresh_keys().await?;

    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let mut figures = Vec::new();
    for subject in &subjects {
        let mut header = Header::new(subject.alg);
        header.kid = subject.jwk["kid"].as_str().map(str::to_owned);
        let tokens = (0..count)
            .map(|i| {
                let claims = json!({
                    "iss": issuer, "sub": format!("auth0|user-{i}"),
                    "aud": [AUDIENCE, format!("{issuer}userinfo")],
                    "iat": now, "exp": now + 3600, "azp": "spa-client",
                    "scope": "openid profile email read:messages",
                });
                jsonwebtoken::encode(&header, &claims, &subject.encoding)
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        // The raw check gets its inputs ready-made: the signing input and the decoded
        // signature, so that it times the signature alone.
        let prepared = tokens
            .iter()
            .map(|token| {
                let (input, signature) = token.rsplit_once('.').ok_or("three segments")?;
                Ok((input.to_owned(), URL_SAFE_NO_PAD.decode(signature)?))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut validation = Validation::new(subject.alg);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[&issuer]);
        // Side by side, call by call: each token goes through every method in turn, and each
        // call is timed on its own. The medians of those times stand for each method, so a burst
        // of load from elsewhere on a shared machine (which lands on a few calls) moves none of
        // them, and no method runs in a tighter loop (with warmer caches) than another.
        let mut calls: [Vec<f64>; 4] = Default::default();
        for (index, (token, (input, signature))) in tokens.iter().zip(&prepared).enumerate() {
            // The order turns from token to token, so that no method always runs first (after
            // the others warmed or cooled the caches).
            for step in 0..3 {
                match (index + step) % 3 {
                    0 => {
                        let start = Instant::now();
                        let verified = subject.parsed.verify_sig(input.as_bytes(), signature);
                        calls[0].push(micros(start));
                        assert!(verified.is_ok(), "a valid token was refused");
                    }
                    1 => {
                        let start = Instant::now();
                        let decoded =
                            jsonwebtoken::decode::<Value>(token, &subject.decoding, &validation);
                        calls[1].push(micros(start));
                        assert!(decoded.is_ok(), "a valid token was refused");
                    }
                    _ => {
                        let start = Instant::now();
                        let fresh = guard.verify(token).await;
                        calls[2].push(micros(start));
                        // The call above saw the token for the first time (a miss) and cached
                        // it.
                        let start = Instant::now();
                        let reused = guard.verify(token).await;
                        calls[3].push(micros(start));
                        assert!(fresh.is_ok() && reused.is_ok(), "a valid token was refused");
                    }
                }
            }
        }
        let [raw, decode, fresh, reused] = calls.map(|mut column| {
            column.sort_by(f64::total_cmp);
            column[column.len() / 2]
        });
        figures.push(Figures {
            raw,
            decode,
            fresh,
            reused,
        });
    }
    server.abort();

    let row = |name: &str, value: &dyn Fn(&Figures) -> String| {
        let cells: Vec<String> = figures.iter().map(value).collect();
        println!("| {name} | {} |", cells.join(" | "));
    };
    println!(
        "| µs per call, median of {count} tokens each (cache of {CACHE_ENTRIES}) | RS256-2048 | PS256-2048 | ES256 |"
    );
    println!("|---|---:|---:|---:|");
    row("jsonwebtoken::decode", &|f| format!("{:.2}", f.decode));
    row("aws-lc-rs verify, parsed key (the floor)", &|f| {
        format!("{:.2}", f.raw)
    });
    row("Guard::verify, fresh token (cache miss)", &|f| {
        format!("{:.2}", f.fresh)
    });
    row("fresh / floor", &|f| format!("{:.2}x", f.fresh / f.raw));
    row("Guard::verify, reused token (cache hit)", &|f| {
        format!("{:.2}", f.reused)
    });
    Ok(())
}

/// Microseconds since `start`.
fn micros(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e6
}
