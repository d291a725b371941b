//! Every token the guard must refuse, with the reason, status and challenge it must give.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use jsonwebtoken::{Algorithm, EncodingKey};
use portcullis_guard::{AuthError, TokenError};
use serde_json::{json, Value};

use crate::support::*;

/// Replaces one character in the middle of `segment` (the last characters of a base64url
/// segment may carry only padding bits, so the middle is where a change always matters).
fn flip_middle(segment: &str) -> String {
    let mut chars: Vec<char> = segment.chars().collect();
    let middle = chars.len() / 2;
    chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

fn segments(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

#[tokio::test]
async fn every_listed_attack_is_refused_with_invalid_token() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let issuer = server.issuer();
    let guard = server
        .guard()
        .unknown_kid_cooldown(std::time::Duration::ZERO)
        .build()
        .expect("guard");
    let app = app(guard.clone());

    let valid = valid_token(&issuer, &KEY);
    let [h, p, s] = <[String; 3]>::try_from(segments(&valid)).expect("three segments");
    let with_claims = |change: &dyn Fn(&mut Value)| {
        let mut body = claims(&issuer);
        change(&mut body);
        sign(&header_for(&KEY), &body, &KEY)
    };
    let with_header = |change: &dyn Fn(&mut Value)| {
        let mut header = header_for(&KEY);
        change(&mut header);
        sign(&header, &claims(&issuer), &KEY)
    };
    let unsigned = |alg: &str, signature: &str| {
        let header = b64(json!({ "alg": alg, "typ": "JWT", "kid": KEY.kid })
            .to_string()
            .as_bytes());
        format!("{header}.{p}.{signature}")
    };
    let attacker_jwk = ATTACKER.jwk();

    let cases: Vec<(&str, String, TokenError)> = vec![
        (
            "alg none, empty signature",
            unsigned("none", ""),
            TokenError::Malformed,
        ),
        (
            "alg none",
            unsigned("none", &s),
            TokenError::DisallowedAlgorithm,
        ),
        (
            "alg None",
            unsigned("None", &s),
            TokenError::DisallowedAlgorithm,
        ),
        (
            "alg NONE",
            unsigned("NONE", &s),
            TokenError::DisallowedAlgorithm,
        ),
        (
            "alg nOnE",
            unsigned("nOnE", &s),
            TokenError::DisallowedAlgorithm,
        ),
        (
            "alg missing",
            {
                let header = b64(json!({ "typ": "JWT", "kid": KEY.kid })
                    .to_string()
                    .as_bytes());
                format!("{header}.{p}.{s}")
            },
            TokenError::DisallowedAlgorithm,
        ),
        (
            "alg rs256 (wrong case)",
            unsigned("rs256", &s),
            TokenError::DisallowedAlgorithm,
        ),
        (
            "HS256 keyed with the RSA public key",
            sign_bytes(
                &json!({ "alg": "HS256", "typ": "JWT", "kid": KEY.kid }),
                claims(&issuer).to_string().as_bytes(),
                &EncodingKey::from_secret(KEY.public_pem().as_bytes()),
                Algorithm::HS256,
            ),
            TokenError::DisallowedAlgorithm,
        ),
        (
            "stripped signature",
            format!("{h}.{p}."),
            TokenError::Malformed,
        ),
        (
            "signature segment removed",
            format!("{h}.{p}"),
            TokenError::Malformed,
        ),
        (
            "tampered payload",
            format!(
                "{h}.{}.{s}",
                b64(with_claims_text(&issuer, "auth0|admin").as_bytes())
            ),
            TokenError::InvalidSignature,
        ),
        (
            "tampered signature",
            format!("{h}.{p}.{}", flip_middle(&s)),
            TokenError::InvalidSignature,
        ),
        (
            "unknown kid",
            with_header(&|h| h["kid"] = json!("no-such-key")),
            TokenError::UnknownKey,
        ),
        (
            "kid with a path",
            with_header(&|h| h["kid"] = json!("../../../../dev/null")),
            TokenError::InvalidKeyId,
        ),
        (
            "kid with a slash",
            with_header(&|h| h["kid"] = json!("keys/k1")),
            TokenError::InvalidKeyId,
        ),
        (
            "kid with a double quote",
            with_header(&|h| h["kid"] = json!("k1\" OR \"1\"=\"1")),
            TokenError::InvalidKeyId,
        ),
        (
            "kid with a single quote",
            with_header(&|h| h["kid"] = json!("k1' OR '1'='1")),
            TokenError::InvalidKeyId,
        ),
        (
            "kid not a string",
            with_header(&|h| h["kid"] = json!(1)),
            TokenError::InvalidKeyId,
        ),
        (
            "jku pointing at the attacker's JWKS",
            sign(
                &json!({ "alg": "RS256", "kid": ATTACKER.kid, "jku": "https://evil.example/jwks.json" }),
                &claims(&issuer),
                &ATTACKER,
            ),
            TokenError::ForbiddenHeader,
        ),
        (
            "x5u pointing at the attacker's certificate",
            sign(
                &json!({ "alg": "RS256", "kid": ATTACKER.kid, "x5u": "https://evil.example/cert.pem" }),
                &claims(&issuer),
                &ATTACKER,
            ),
            TokenError::ForbiddenHeader,
        ),
        (
            "jwk embedding the attacker's key",
            sign(
                &json!({ "alg": "RS256", "jwk": attacker_jwk }),
                &claims(&issuer),
                &ATTACKER,
            ),
            TokenError::ForbiddenHeader,
        ),
        (
            "x5c embedding the attacker's certificate",
            sign(
                &json!({ "alg": "RS256", "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"] }),
                &claims(&issuer),
                &ATTACKER,
            ),
            TokenError::ForbiddenHeader,
        ),
        (
            "jku next to our own kid and a valid signature",
            with_header(&|h| h["jku"] = json!("https://evil.example/jwks.json")),
            TokenError::ForbiddenHeader,
        ),
        (
            "signed by another key reusing our kid",
            sign(&header_for(&KEY), &claims(&issuer), &ATTACKER),
            TokenError::InvalidSignature,
        ),
        (
            "expired",
            with_claims(&|c| c["exp"] = json!(now() - 120)),
            TokenError::Expired,
        ),
        (
            "nbf ahead",
            with_claims(&|c| c["nbf"] = json!(now() + 120)),
            TokenError::NotYetValid,
        ),
        (
            "nbf not a number",
            with_claims(&|c| c["nbf"] = json!("later")),
            TokenError::MalformedClaims,
        ),
        (
            "iat in the future",
            with_claims(&|c| c["iat"] = json!(now() + 600)),
            TokenError::IssuedInFuture,
        ),
        (
            "wrong iss",
            with_claims(&|c| c["iss"] = json!("https://evil.example/")),
            TokenError::WrongIssuer,
        ),
        (
            "iss without the trailing slash",
            with_claims(&|c| c["iss"] = json!(issuer.trim_end_matches('/'))),
            TokenError::WrongIssuer,
        ),
        (
            "iss with an extra trailing slash",
            with_claims(&|c| c["iss"] = json!(format!("{issuer}/"))),
            TokenError::WrongIssuer,
        ),
        (
            "iss missing",
            with_claims(&without("iss")),
            TokenError::MissingClaim,
        ),
        (
            "wrong aud",
            with_claims(&|c| c["aud"] = json!("https://other-api.example.com")),
            TokenError::WrongAudience,
        ),
        (
            "aud array without ours",
            with_claims(&|c| {
                c["aud"] = json!([
                    "https://other-api.example.com",
                    "https://x.example/userinfo"
                ])
            }),
            TokenError::WrongAudience,
        ),
        (
            "aud empty array",
            with_claims(&|c| c["aud"] = json!([])),
            TokenError::WrongAudience,
        ),
        (
            "aud with a trailing slash added",
            with_claims(&|c| c["aud"] = json!(format!("{AUDIENCE}/"))),
            TokenError::WrongAudience,
        ),
        (
            "aud missing",
            with_claims(&without("aud")),
            TokenError::MissingClaim,
        ),
        (
            "exp missing",
            with_claims(&without("exp")),
            TokenError::MissingClaim,
        ),
        (
            "exp a string",
            with_claims(&|c| c["exp"] = json!("never")),
            TokenError::MissingClaim,
        ),
        (
            "crit with an unknown extension",
            with_header(&|h| h["crit"] = json!(["urn:example:unknown"])),
            TokenError::CriticalHeader,
        ),
        (
            "crit naming a registered claim",
            with_header(&|h| h["crit"] = json!(["exp"])),
            TokenError::CriticalHeader,
        ),
        (
            "typ of another token type",
            with_header(&|h| h["typ"] = json!("dpop+jwt")),
            TokenError::UnexpectedType,
        ),
        (
            "nested JWT (cty)",
            with_header(&|h| h["cty"] = json!("JWT")),
            TokenError::ForbiddenHeader,
        ),
        (
            "non-JSON payload",
            sign_bytes(
                &header_for(&KEY),
                b"this is not JSON",
                &key_encoding(),
                Algorithm::RS256,
            ),
            TokenError::Malformed,
        ),
        (
            "JSON payload that is not an object",
            sign_bytes(
                &header_for(&KEY),
                b"[1,2,3]",
                &key_encoding(),
                Algorithm::RS256,
            ),
            TokenError::Malformed,
        ),
        (
            "standard-base64 signature",
            format!("{h}.{p}.{}", s.replace('-', "+").replace('_', "/")),
            TokenError::Malformed,
        ),
        (
            "padded standard-base64 header",
            format!("{}.{p}.{s}", STANDARD.encode(header_for(&KEY).to_string())),
            TokenError::Malformed,
        ),
        (
            "extra segment",
            format!("{valid}.{s}"),
            TokenError::Malformed,
        ),
        (
            "five segments (JWE shape)",
            format!("{h}.{p}.{s}.{s}.{s}"),
            TokenError::Malformed,
        ),
        (
            "oversized",
            format!("{h}.{}.{s}", "A".repeat(9 * 1024)),
            TokenError::TooLarge,
        ),
        ("garbage", "not-a-token".to_owned(), TokenError::Malformed),
    ];
    assert!(
        s.contains('-') || s.contains('_'),
        "the standard-base64 case needs - or _ in the signature"
    );

    for (name, token, expected) in &cases {
        match guard.verify(token).await {
            Err(AuthError::InvalidToken(reason)) => assert_eq!(reason, *expected, "{name}"),
            other => panic!("{name}: expected {expected:?}, got {other:?}"),
        }
        let answer = call(&app, "/private", Some(token)).await;
        assert_eq!(answer.status, 401, "{name}");
        let challenge = answer.challenge.unwrap_or_default();
        assert!(
            challenge
                .starts_with("Bearer realm=\"api\", error=\"invalid_token\", error_description=\""),
            "{name}: {challenge}"
        );
        assert_eq!(answer.body["error"], "invalid_token", "{name}");
        // Descriptions never echo the token's own values or what we expected.
        let description = answer.body["error_description"]
            .as_str()
            .unwrap_or_default();
        for secret in [issuer.as_str(), AUDIENCE, KEY.kid.as_str(), "evil"] {
            assert!(!description.contains(secret), "{name}: {description}");
        }
    }

    // And the baseline: the unmodified token passes, so each refusal above is due to its change.
    assert_eq!(call(&app, "/private", Some(&valid)).await.status, 200);
}

fn with_claims_text(issuer: &str, subject: &str) -> String {
    let mut body = claims(issuer);
    body["sub"] = json!(subject);
    body.to_string()
}

fn key_encoding() -> EncodingKey {
    KEY.encoding_key()
}

fn without(claim: &'static str) -> impl Fn(&mut Value) {
    move |claims| {
        if let Some(object) = claims.as_object_mut() {
            object.remove(claim);
        }
    }
}

#[tokio::test]
async fn issuer_without_trailing_slash_refuses_tokens_with_one() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let slashless = server.issuer().trim_end_matches('/').to_owned();
    let guard = portcullis_guard::Guard::builder(slashless.clone())
        .audience(AUDIENCE)
        .build()
        .expect("guard");
    let app = app(guard);

    let mut with_slash = claims(&server.issuer());
    with_slash["iss"] = json!(format!("{slashless}/"));
    let answer = call(
        &app,
        "/private",
        Some(&sign(&header_for(&KEY), &with_slash, &KEY)),
    )
    .await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.body["error"], "invalid_token");

    let mut exact = claims(&server.issuer());
    exact["iss"] = json!(slashless);
    let answer = call(
        &app,
        "/private",
        Some(&sign(&header_for(&KEY), &exact, &KEY)),
    )
    .await;
    assert_eq!(answer.status, 200);
}

#[tokio::test]
async fn missing_credentials_get_a_challenge_without_error_code() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let app = app(server.guard().build().expect("guard"));
    for path in ["/private", "/layered", "/all-of"] {
        let answer = call(&app, path, None).await;
        assert_eq!(answer.status, 401, "{path}");
        assert_eq!(
            answer.challenge.as_deref(),
            Some("Bearer realm=\"api\""),
            "{path}"
        );
        assert!(
            answer.body.get("error").is_none(),
            "{path}: {}",
            answer.body
        );
    }
    // Another authentication scheme is treated as no bearer credentials (RFC 6750 §3.1).
    let basic = axum::http::Request::get("/private")
        .header("authorization", "Basic dXNlcjpwYXNz")
        .body(axum::body::Body::empty())
        .expect("request");
    let answer = send(&app, basic).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.challenge.as_deref(), Some("Bearer realm=\"api\""));
    assert_eq!(server.fetches(), 0, "no credentials, no key lookup");
}
