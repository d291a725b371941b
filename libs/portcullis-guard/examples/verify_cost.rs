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
//! Single thread; pin it (`taskset -c 1`) for stable figures. The JWKS is served once from
//! 127.0.0.1 and then cached, as in a running API.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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

/// Per algorithm: µs per token for the raw check, jsonwebtoken, the guard fresh and cached.
struct Figures {
    raw: f64,
    decode: f64,
    fresh: f64,
    reused: f64,
    /// The median over the rounds of fresh / raw.
    ratio: f64,
}

/// Tokens per round of the side-by-side timing.
const ROUND: usize = 500;

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
        .verified_token_cache(2 * count * subjects.len())
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
        // Side by side in rounds: each round times the same slice of tokens with each method
        // in turn, so that a burst of load from elsewhere on a shared machine falls on all of
        // them; the figures are medians over the rounds, the ratio the median of the rounds'
        // ratios.
        let mut rounds = Vec::new();
        for (tokens, prepared) in tokens.chunks(ROUND).zip(prepared.chunks(ROUND)) {
            let start = Instant::now();
            for (input, signature) in prepared {
                assert!(subject
                    .parsed
                    .verify_sig(input.as_bytes(), signature)
                    .is_ok());
            }
            let raw = start.elapsed();
            let decode = time(tokens, |token| {
                jsonwebtoken::decode::<Value>(token, &subject.decoding, &validation).is_ok()
            });
            let start = Instant::now();
            for token in tokens {
                assert!(
                    guard.verify(token).await.is_ok(),
                    "a valid token was refused"
                );
            }
            let fresh = start.elapsed();
            // The pass above saw each token once (all misses) and cached every one of them.
            let start = Instant::now();
            for token in tokens {
                assert!(
                    guard.verify(token).await.is_ok(),
                    "a valid token was refused"
                );
            }
            let reused = start.elapsed();
            let per = |total: Duration| total.as_secs_f64() * 1e6 / tokens.len() as f64;
            rounds.push([per(raw), per(decode), per(fresh), per(reused)]);
        }
        let median = |column: &dyn Fn(&[f64; 4]) -> f64| {
            let mut values: Vec<f64> = rounds.iter().map(column).collect();
            values.sort_by(f64::total_cmp);
            values[values.len() / 2]
        };
        figures.push(Figures {
            raw: median(&|r| r[0]),
            decode: median(&|r| r[1]),
            fresh: median(&|r| r[2]),
            reused: median(&|r| r[3]),
            ratio: median(&|r| r[2] / r[0]),
        });
    }
    server.abort();

    let row = |name: &str, value: &dyn Fn(&Figures) -> String| {
        let cells: Vec<String> = figures.iter().map(value).collect();
        println!("| {name} | {} |", cells.join(" | "));
    };
    println!(
        "| µs per token, median of rounds of {ROUND} ({count} tokens each) | RS256-2048 | PS256-2048 | ES256 |"
    );
    println!("|---|---:|---:|---:|");
    row("jsonwebtoken::decode", &|f| format!("{:.2}", f.decode));
    row("aws-lc-rs verify, parsed key (the floor)", &|f| {
        format!("{:.2}", f.raw)
    });
    row("Guard::verify, fresh token (cache miss)", &|f| {
        format!("{:.2}", f.fresh)
    });
    row("fresh / floor (median of the rounds' ratios)", &|f| {
        format!("{:.2}x", f.ratio)
    });
    row("Guard::verify, reused token (cache hit)", &|f| {
        format!("{:.2}", f.reused)
    });
    Ok(())
}

fn time(tokens: &[String], mut verify: impl FnMut(&str) -> bool) -> Duration {
    let start = Instant::now();
    for token in tokens {
        assert!(verify(token), "a valid token was refused");
    }
    start.elapsed()
}
