//! Mints a test issuer for benchmarks: a fresh key (RSA-2048 for RS256 and PS256, P-256 for
//! ES256), its JWKS, and access tokens signed with it.
//!
//! ```text
//! cargo run --release -p portcullis-guard --example mint -- OUT_DIR ISSUER AUDIENCE COUNT [ALG]
//! ```
//!
//! `ALG` is `RS256` (the default), `PS256` or `ES256`; the key's `kid` is `bench-` and the
//! algorithm in lower case, so that the JWKS of several runs can be merged into one. Writes `OUT_DIR/jwks.json`, `OUT_DIR/token.txt` (one token) and `OUT_DIR/tokens.txt` (COUNT
//! distinct tokens, one per line). Tokens are Auth0-shaped and valid for 24 hours.

use std::{
    path::PathBuf,
    time::{SystemTime, UNIX_EPOCH},
};

use aws_lc_rs::{
    encoding::AsDer,
    rsa::{KeyPair, KeySize},
    signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING},
};
use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine as _,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

/// anyhow is not a dependency of the guard crate, so errors are boxed.
type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: mint OUT_DIR ISSUER AUDIENCE COUNT [RS256|PS256|ES256]";
    let (out, issuer, audience, count, alg) = match args.as_slice() {
        [out, issuer, audience, count] => (out, issuer, audience, count, "RS256"),
        [out, issuer, audience, count, alg] => (out, issuer, audience, count, alg.as_str()),
        _ => return Err(usage.into()),
    };
    let (algorithm, (encoding, mut jwk)) = match alg {
        "RS256" => (Algorithm::RS256, rsa_key()?),
        "PS256" => (Algorithm::PS256, rsa_key()?),
        "ES256" => (Algorithm::ES256, ec_key()?),
        _ => return Err(usage.into()),
    };
    let kid = format!("bench-{}", alg.to_ascii_lowercase());
    jwk["use"] = json!("sig");
    jwk["alg"] = json!(alg);
    jwk["kid"] = json!(kid);
    let out = PathBuf::from(out);
    let count: usize = count.parse()?;
    std::fs::create_dir_all(&out)?;
    let jwks = json!({ "keys": [jwk] });
    std::fs::write(out.join("jwks.json"), jwks.to_string())?;

    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let mint = |n: usize| -> Result<String> {
        let mut header = Header::new(algorithm);
        header.kid = Some(kid.clone());
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

/// An RSA-2048 key (for RS256 or PS256): how to sign, and its public JWK.
fn rsa_key() -> Result<(EncodingKey, Value)> {
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| "RSA key generation failed")?;
    let pkcs8 = pair.as_der().map_err(|_| "PKCS#8 export failed")?;
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(pkcs8.as_ref())
    );
    let public = pair.public_key();
    Ok((
        EncodingKey::from_rsa_pem(pem.as_bytes())?,
        json!({
            "kty": "RSA",
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        }),
    ))
}

/// A P-256 key (for ES256): how to sign, and its public JWK.
fn ec_key() -> Result<(EncodingKey, Value)> {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
        .map_err(|_| "EC key generation failed")?;
    let pkcs8 = pair.to_pkcs8v1().map_err(|_| "PKCS#8 export failed")?;
    // The uncompressed point: 0x04, then x and y, 32 bytes each.
    let point = pair.public_key().as_ref();
    Ok((
        EncodingKey::from_ec_der(pkcs8.as_ref()),
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        }),
    ))
}
