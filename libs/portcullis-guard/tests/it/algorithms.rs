//! PS256 and ES256 from the JWKS, HS256 only with the application's own secret, and every
//! way of confusing one algorithm or key for another refused.

use std::sync::LazyLock;

use aws_lc_rs::{
    encoding::AsDer,
    rsa::{KeyPair, KeySize},
    signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING},
};
use axum::http::StatusCode;
use jsonwebtoken::{Algorithm, EncodingKey};
use portcullis_guard::{ConfigError, TokenError};
use serde_json::{json, Value};

use crate::support::*;

/// A key of one algorithm: its JWK and its signing key.
struct AlgKey {
    jwk: Value,
    encoding: EncodingKey,
    alg: Algorithm,
}

impl AlgKey {
    fn sign(&self, issuer: &str) -> String {
        let header =
            json!({ "alg": format!("{:?}", self.alg), "typ": "JWT", "kid": self.jwk["kid"] });
        let payload = serde_json::to_vec(&claims(issuer)).unwrap();
        sign_bytes(&header, &payload, &self.encoding, self.alg)
    }
}

static PS256_KEY: LazyLock<AlgKey> = LazyLock::new(|| {
    let pair = KeyPair::generate(KeySize::Rsa2048).unwrap();
    let public = pair.public_key();
    AlgKey {
        jwk: json!({
            "kty": "RSA", "use": "sig", "alg": "PS256", "kid": "ps-1",
            "n": b64(public.modulus().big_endian_without_leading_zero()),
            "e": b64(public.exponent().big_endian_without_leading_zero()),
        }),
        encoding: rsa_encoding(&pair),
        alg: Algorithm::PS256,
    }
});

static ES256_KEY: LazyLock<AlgKey> = LazyLock::new(|| {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let point = pair.public_key().as_ref().to_vec();
    AlgKey {
        jwk: json!({
            "kty": "EC", "use": "sig", "alg": "ES256", "kid": "es-1", "crv": "P-256",
            "x": b64(&point[1..33]), "y": b64(&point[33..]),
        }),
        encoding: EncodingKey::from_ec_der(pair.to_pkcs8v1().unwrap().as_ref()),
        alg: Algorithm::ES256,
    }
});

/// jsonwebtoken's signing key for an aws-lc-rs RSA key pair (through its PKCS#8 PEM).
fn rsa_encoding(pair: &KeyPair) -> EncodingKey {
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            pair.as_der().unwrap().as_ref()
        )
    );
    EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap()
}

const SECRET: &str = "an HS256 secret of at least thirty-two bytes";

fn every_jwk() -> Value {
    json!({ "keys": [KEY.jwk(), PS256_KEY.jwk.clone(), ES256_KEY.jwk.clone()] })
}

#[tokio::test]
async fn ps256_and_es256_tokens_verify_against_the_jwks() {
    let server = JwksServer::start(every_jwk()).await;
    let guard = server
        .guard()
        .algorithms([Algorithm::RS256, Algorithm::PS256, Algorithm::ES256])
        .build()
        .unwrap();
    let app = app(guard);
    for token in [
        valid_token(&server.issuer(), &KEY),
        PS256_KEY.sign(&server.issuer()),
        ES256_KEY.sign(&server.issuer()),
    ] {
        let answer = call(&app, "/private", Some(&token)).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    }
}

#[tokio::test]
async fn algorithms_outside_the_allow_list_are_refused() {
    let server = JwksServer::start(every_jwk()).await;
    // The default: RS256 only.
    let guard = server.guard().build().unwrap();
    for token in [
        PS256_KEY.sign(&server.issuer()),
        ES256_KEY.sign(&server.issuer()),
    ] {
        let error = guard.verify(&token).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            TokenError::DisallowedAlgorithm.to_string()
        );
    }
}

#[tokio::test]
async fn a_key_verifies_only_the_algorithm_its_jwk_names() {
    let server = JwksServer::start(every_jwk()).await;
    let guard = server
        .guard()
        .algorithms([Algorithm::RS256, Algorithm::PS256, Algorithm::ES256])
        .build()
        .unwrap();
    // PS256 with the RS256 key (same RSA material, other algorithm): its JWK says RS256.
    let header = json!({ "alg": "PS256", "typ": "JWT", "kid": KEY.kid });
    let payload = serde_json::to_vec(&claims(&server.issuer())).unwrap();
    let token = sign_bytes(&header, &payload, &KEY.encoding_key(), Algorithm::PS256);
    assert_eq!(
        guard.verify(&token).await.unwrap_err().to_string(),
        TokenError::UnknownKey.to_string()
    );
    // RS256 with the PS256 key.
    let header = json!({ "alg": "RS256", "typ": "JWT", "kid": "ps-1" });
    let token = sign_bytes(&header, &payload, &PS256_KEY.encoding, Algorithm::RS256);
    assert!(guard.verify(&token).await.is_err());
    // An ES256 header naming an RSA key.
    let header = json!({ "alg": "ES256", "typ": "JWT", "kid": KEY.kid });
    let token = sign_bytes(&header, &payload, &ES256_KEY.encoding, Algorithm::ES256);
    assert!(guard.verify(&token).await.is_err());
}

#[tokio::test]
async fn hs256_needs_the_applications_own_secret() {
    let server = JwksServer::start(every_jwk()).await;
    let payload = serde_json::to_vec(&claims(&server.issuer())).unwrap();
    let hs256 = |kid: Option<&str>, secret: &[u8]| {
        let mut header = json!({ "alg": "HS256", "typ": "JWT" });
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        sign_bytes(
            &header,
            &payload,
            &EncodingKey::from_secret(secret),
            Algorithm::HS256,
        )
    };
    let good = hs256(None, SECRET.as_bytes());

    // Without a secret, HS256 is not accepted at all, and cannot be enabled by the allow-list.
    let plain = server.guard().build().unwrap();
    assert_eq!(
        plain.verify(&good).await.unwrap_err().to_string(),
        TokenError::DisallowedAlgorithm.to_string()
    );
    assert!(matches!(
        server.guard().algorithms([Algorithm::HS256]).build(),
        Err(ConfigError::HmacAlgorithm(Algorithm::HS256))
    ));
    assert!(matches!(
        server.guard().hs256_secret("short").build(),
        Err(ConfigError::WeakHmacSecret)
    ));

    let guard = server.guard().hs256_secret(SECRET).build().unwrap();
    let app = app(guard.clone());
    assert_eq!(
        call(&app, "/private", Some(&good)).await.status,
        StatusCode::OK
    );
    // RS256 from the JWKS still works next to it.
    let rs256 = valid_token(&server.issuer(), &KEY);
    assert_eq!(
        call(&app, "/private", Some(&rs256)).await.status,
        StatusCode::OK
    );

    // Alg confusion: HMAC keyed with the RSA public key (PEM, or the JWK's bytes), naming the
    // RSA key's kid or not; another secret; `none`.
    let jwk_bytes = serde_json::to_vec(&KEY.jwk()).unwrap();
    for forged in [
        hs256(Some(&KEY.kid), KEY.public_pem().as_bytes()),
        hs256(None, KEY.public_pem().as_bytes()),
        hs256(Some(&KEY.kid), &jwk_bytes),
        hs256(None, b"another secret of at least thirty-two bytes!"),
    ] {
        let error = guard.verify(&forged).await.unwrap_err();
        assert_eq!(error.to_string(), TokenError::InvalidSignature.to_string());
    }
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(&payload)
    );
    assert!(guard.verify(&none).await.is_err());
    let none_signed = format!("{none}{}", b64(b"sig"));
    assert_eq!(
        guard.verify(&none_signed).await.unwrap_err().to_string(),
        TokenError::DisallowedAlgorithm.to_string()
    );
}

#[tokio::test]
async fn an_hmac_key_in_the_jwks_is_never_used() {
    let secret_jwk =
        json!({ "kty": "oct", "alg": "HS256", "kid": "oct-1", "k": b64(SECRET.as_bytes()) });
    let server = JwksServer::start(json!({ "keys": [KEY.jwk(), secret_jwk] })).await;
    let guard = server.guard().build().unwrap();
    let header = json!({ "alg": "HS256", "typ": "JWT", "kid": "oct-1" });
    let payload = serde_json::to_vec(&claims(&server.issuer())).unwrap();
    let token = sign_bytes(
        &header,
        &payload,
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS256,
    );
    assert!(guard.verify(&token).await.is_err());
}
