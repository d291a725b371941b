//! Accepted tokens, scopes, token sources, response shapes and configuration errors.

use std::time::Duration;

use axum::{body::Body, http::Request, routing::get, Router};
use portcullis_guard::{
    Algorithm, Claims, ConfigError, Guard, ScopeClaims, ScopePolicy, TokenError,
};
use serde::Deserialize;
use serde_json::json;

use crate::support::*;

/// jsonwebtoken ≥ 10 compiles without a crypto backend and panics at the first verification;
/// this proves the aws_lc_rs backend is linked and really checks signatures.
#[tokio::test]
async fn aws_lc_backend_verifies_signatures() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let guard = server.guard().build().expect("guard");
    let issuer = server.issuer();
    let verified = guard
        .verify(&valid_token(&issuer, &KEY))
        .await
        .expect("valid token");
    assert_eq!(verified.subject(), Some("auth0|5f7c8ec7c33c6c004bbafe82"));
    assert!(verified.scopes().contains("read:messages"));
    let forged = sign(&header_for(&KEY), &claims(&issuer), &ATTACKER);
    assert!(guard.verify(&forged).await.is_err());
}

#[tokio::test]
async fn extractor_and_layer_hand_the_claims_to_handlers() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let app = app(server.guard().build().expect("guard"));
    let token = valid_token(&server.issuer(), &KEY);
    for path in ["/private", "/layered"] {
        let answer = call(&app, path, Some(&token)).await;
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(answer.body, "auth0|5f7c8ec7c33c6c004bbafe82", "{path}");
    }
}

#[tokio::test]
async fn custom_claims_through_serde() {
    #[derive(Deserialize)]
    struct TenantClaims {
        sub: String,
        #[serde(rename = "https://example.com/tenant")]
        tenant: String,
    }

    let server = JwksServer::start(jwks(&[&KEY])).await;
    let guard = server.guard().build().expect("guard");
    let app = Router::new()
        .route(
            "/tenant",
            get(|claims: Claims<TenantClaims>| async move {
                format!("{} in {}", claims.sub, claims.tenant)
            }),
        )
        .with_state(guard);
    let mut body = claims(&server.issuer());
    body["https://example.com/tenant"] = json!("acme");
    let answer = call(&app, "/tenant", Some(&sign(&header_for(&KEY), &body, &KEY))).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, "auth0|5f7c8ec7c33c6c004bbafe82 in acme");

    // Valid token, but claims that do not fit the handler's type: invalid_token, not a 500.
    let answer = call(&app, "/tenant", Some(&valid_token(&server.issuer(), &KEY))).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.body["error"], "invalid_token");
}

#[tokio::test]
async fn scope_requirements_all_of_and_any_of() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let app = app(server.guard().build().expect("guard"));
    let issuer = server.issuer();
    let with_scope = |scope: &str| {
        let mut body = claims(&issuer);
        body["scope"] = json!(scope);
        sign(&header_for(&KEY), &body, &KEY)
    };

    let read_only = with_scope("openid read:messages");
    let answer = call(&app, "/all-of", Some(&read_only)).await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(
            "Bearer realm=\"api\", error=\"insufficient_scope\", \
             error_description=\"The access token does not grant the required scope\", \
             scope=\"read:messages write:messages\""
        )
    );
    assert_eq!(answer.body["error"], "insufficient_scope");
    assert_eq!(answer.body["scope"], "read:messages write:messages");
    assert_eq!(call(&app, "/any-of", Some(&read_only)).await.status, 200);

    let both = with_scope("read:messages write:messages");
    assert_eq!(call(&app, "/all-of", Some(&both)).await.status, 200);

    let neither = with_scope("openid profile");
    assert_eq!(call(&app, "/any-of", Some(&neither)).await.status, 403);
    assert_eq!(call(&app, "/all-of", Some(&neither)).await.status, 403);
}

#[tokio::test]
async fn permissions_grant_scopes_unless_configured_otherwise() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let mut body = claims(&server.issuer());
    body["scope"] = json!("openid");
    body["permissions"] = json!(["read:messages", "write:messages"]);
    let token = sign(&header_for(&KEY), &body, &KEY);

    let union = app(server.guard().build().expect("guard"));
    assert_eq!(call(&union, "/all-of", Some(&token)).await.status, 200);

    let scope_only = app(server
        .guard()
        .scope_claims(ScopeClaims::Scope)
        .build()
        .expect("guard"));
    assert_eq!(call(&scope_only, "/all-of", Some(&token)).await.status, 403);
}

#[tokio::test]
async fn body_shape_is_configurable_but_the_challenge_is_not() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let guard = server
        .guard()
        .error_body(|_| json!({ "msg": "Invalid token" }))
        .build()
        .expect("guard");
    let app = app(guard);
    let answer = call(&app, "/private", Some("garbage")).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.body, json!({ "msg": "Invalid token" }));
    assert!(answer
        .challenge
        .unwrap_or_default()
        .contains("error=\"invalid_token\""));

    let answer = call(&app, "/private", None).await;
    assert_eq!(answer.body, json!({ "msg": "Invalid token" }));
    assert_eq!(answer.challenge.as_deref(), Some("Bearer realm=\"api\""));
}

#[tokio::test]
async fn cookie_and_query_tokens_only_when_opted_in() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let token = valid_token(&server.issuer(), &KEY);
    let by_cookie = || {
        Request::get("/private")
            .header("cookie", format!("theme=dark; access_token={token}"))
            .body(Body::empty())
            .expect("request")
    };
    let by_query = || {
        Request::get(format!("/private?access_token={token}"))
            .body(Body::empty())
            .expect("request")
    };

    let header_only = app(server.guard().build().expect("guard"));
    assert_eq!(send(&header_only, by_cookie()).await.status, 401);
    assert_eq!(send(&header_only, by_query()).await.status, 401);

    let opted_in = app(server
        .guard()
        .token_cookie("access_token")
        .token_query_parameter("access_token")
        .build()
        .expect("guard"));
    assert_eq!(send(&opted_in, by_cookie()).await.status, 200);
    assert_eq!(send(&opted_in, by_query()).await.status, 200);
}

#[tokio::test]
async fn reused_token_is_answered_from_the_verified_cache() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let guard = server
        .guard()
        .key_cache_lifetime(Duration::from_millis(1))
        .build()
        .expect("guard");
    let token = valid_token(&server.issuer(), &KEY);
    assert!(guard.verify(&token).await.is_ok());
    // Even with the key set gone and the endpoint failing, the verified token stays verified
    // until its exp: no key lookup happens for it.
    server.set_failing(true);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let fetches = server.fetches();
    assert!(guard.verify(&token).await.is_ok());
    assert_eq!(server.fetches(), fetches);

    let uncached = server
        .guard()
        .verified_token_cache(0)
        .build()
        .expect("guard");
    server.set_failing(false);
    assert!(uncached.verify(&token).await.is_ok());
    assert!(uncached.verify(&token).await.is_ok());
}

#[tokio::test]
async fn other_allowed_tolerance_still_refuses_old_tokens() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let guard = server
        .guard()
        .clock_tolerance(Duration::from_secs(60))
        .build()
        .expect("guard");
    let mut body = claims(&server.issuer());
    body["exp"] = json!(now() - 30);
    assert!(guard
        .verify(&sign(&header_for(&KEY), &body, &KEY))
        .await
        .is_ok());
    body["exp"] = json!(now() - 90);
    assert!(matches!(
        guard.verify(&sign(&header_for(&KEY), &body, &KEY)).await,
        Err(portcullis_guard::AuthError::InvalidToken(
            TokenError::Expired
        ))
    ));
}

#[tokio::test]
async fn discovery_finds_the_jwks_uri_and_checks_the_issuer() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let guard = server
        .guard()
        .build_with_discovery()
        .await
        .expect("discovery");
    assert_eq!(guard.jwks_url().as_str(), format!("{}/keys", server.base));
    assert!(guard
        .verify(&valid_token(&server.issuer(), &KEY))
        .await
        .is_ok());

    let mismatch = Guard::builder(server.base.clone()) // no trailing slash: not the same issuer
        .audience(AUDIENCE)
        .build_with_discovery()
        .await;
    assert!(matches!(
        mismatch,
        Err(ConfigError::DiscoveryIssuerMismatch)
    ));
}

#[test]
fn misconfiguration_fails_at_build() {
    let base = || Guard::builder("https://tenant.example.com/").audience(AUDIENCE);
    let cases: Vec<(&str, Result<Guard, ConfigError>, ConfigError)> = vec![
        (
            "no audience",
            Guard::builder("https://tenant.example.com/").build(),
            ConfigError::NoAudience,
        ),
        (
            "empty issuer",
            Guard::builder("").audience(AUDIENCE).build(),
            ConfigError::EmptyIssuer,
        ),
        (
            "HS256",
            base()
                .algorithms([Algorithm::RS256, Algorithm::HS256])
                .build(),
            ConfigError::HmacAlgorithm(Algorithm::HS256),
        ),
        (
            "no algorithms",
            base().algorithms([]).build(),
            ConfigError::NoAlgorithms,
        ),
        (
            "61 s tolerance",
            base().clock_tolerance(Duration::from_secs(61)).build(),
            ConfigError::ClockToleranceTooLarge,
        ),
        (
            "plain http JWKS",
            base().jwks_url("http://tenant.example.com/jwks").build(),
            ConfigError::InsecureJwksUrl,
        ),
        (
            "zero rate",
            base().jwks_requests_per_minute(0).build(),
            ConfigError::ZeroLimit("jwks_requests_per_minute"),
        ),
        (
            "quote in realm",
            base().realm("a\"b").build(),
            ConfigError::InvalidRealm,
        ),
        (
            "cookie name with separator",
            base().token_cookie("a;b").build(),
            ConfigError::InvalidSourceName,
        ),
    ];
    for (name, result, expected) in cases {
        match result {
            Err(error) => assert_eq!(error, expected, "{name}"),
            Ok(_) => panic!("{name}: built"),
        }
    }
    assert!(base()
        .jwks_url("http://127.0.0.1:4000/jwks")
        .build()
        .is_ok());
    assert!(base()
        .jwks_url("http://localhost:4000/jwks")
        .build()
        .is_ok());
    assert!(base()
        .jwks_url("http://idp.internal/jwks")
        .allow_plain_http(true)
        .build()
        .is_ok());
    let guard = base().build().expect("defaults build");
    assert_eq!(
        guard.jwks_url().as_str(),
        "https://tenant.example.com/.well-known/jwks.json"
    );
    assert_eq!(guard.issuer(), "https://tenant.example.com/");
}

#[tokio::test]
async fn any_of_policy_layer_reuses_the_verification_of_an_outer_layer() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let guard = server.guard().build().expect("guard");
    let app = Router::new()
        .route(
            "/inner",
            get(|| async { "ok" })
                .route_layer(guard.require(ScopePolicy::any_of(["read:messages"]))),
        )
        .layer(guard.layer());
    let answer = call(&app, "/inner", Some(&valid_token(&server.issuer(), &KEY))).await;
    assert_eq!(answer.status, 200);
    assert_eq!(call(&app, "/inner", None).await.status, 401);
}
