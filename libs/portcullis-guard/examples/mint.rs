//! Mints a test issuer for benchmarks: a fresh RSA-2048 key, its JWKS, and access tokens.
//!
//! ```text
//! cargo run --release -p portcullis-guard --example mint -- OUT_DIR ISSUER AUDIENCE COUNT
//! ```
//!
//! Writes `OUT_DIR/jwks.json`, `OUT_DIR/token.txt` (one token) and `OUT_DIR/tokens.txt` (COUNT
//! distinct tokens, one per line). Tokens are Auth0-shaped and valid for 24 hours.

use std::{
    path::PathBuf,
    time::{SystemTime, UNIX_EPOCH},
};

use aws_lc_rs::{
    encoding::AsDer,
    rsa::{KeyPair, KeySize},
    signature::KeyPair as _,
};
use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine as _,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

/// anyhow is not a dependency of the guard crate, so errors are boxed.
type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

const KID: &str = "bench-2026";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [out, issuer, audience, count] =
        <[String; 4]>::try_from(args).map_err(|_| "usage: mint OUT_DIR ISSUER AUDIENCE COUNT")?;
    let out = PathBuf::from(out);
    let count: usize = count.parse()?;
    std::fs::create_dir_all(&out)?;

    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| "RSA key generation failed")?;
    let pkcs8 = pair.as_der().map_err(|_| "PKCS#8 export failed")?;
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(pkcs8.as_ref())
    );
    let encoding = EncodingKey::from_rsa_pem(pem.as_bytes())?;
    let public = pair.public_key();
    let jwks = json!({ "keys": [{
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID,
        "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
        "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
    }]});
    std::fs::write(out.join("jwks.json"), jwks.to_string())?;

    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let mint = |n: usize| -> Result<String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(KID.to_owned());
        let claims = json!({
            "iss": issuer,
            "sub": format!("auth0|bench-user-{n}"),
            "aud": [audience, format!("{issuer}userinfo")],
            "iat": now,
            "exp": now + 86_400,
            "azp": "Xq8d3bQpP9k2mW4vR7tY1uZ0aB5cD6eF",
            "scope": "openid profile email read:messages",
        });
        Ok(jsonwebtoken::encode(&header, &claims, &encoding)?)
    };
    std::fs::write(out.join("token.txt"), mint(0)?)?;

    // Signing re-parses the key each time (~0.7 ms); split the work over the available cores.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = count.div_ceil(threads).max(1);
    let tokens = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..count)
            .step_by(chunk)
            .map(|start| {
                let mint = &mint;
                scope.spawn(move || {
                    (start..(start + chunk).min(count))
                        .map(|n| mint(n + 1))
                        .collect::<Result<Vec<String>>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().map_err(|_| "minting thread panicked")?)
            .collect::<Result<Vec<Vec<String>>>>()
    })?;
    std::fs::write(out.join("tokens.txt"), tokens.concat().join("\n") + "\n")?;
    println!("minted {count} tokens for {issuer} into {}", out.display());
    Ok(())
}
