//! RFC 9728: the metadata router, and `resource_metadata` in every challenge.

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
};
use portcullis_guard::{ConfigError, ResourceMetadata};
use serde_json::json;

use crate::support::*;

const RESOURCE: &str = "https://api.example.com/mcp";
const METADATA_URL: &str = "https://api.example.com/.well-known/oauth-protected-resource/mcp";

#[tokio::test]
async fn the_router_serves_the_metadata_and_every_401_names_it() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let guard = server
        .guard()
        .resource_metadata(
            ResourceMetadata::new(RESOURCE)
                .scopes(["read:messages", "write:messages"])
                .resource_name("Messages"),
        )
        .build()
        .unwrap();
    let router = app(guard.clone()).merge(guard.resource_metadata_router());

    let answer = call(&router, "/.well-known/oauth-protected-resource/mcp", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.body,
        json!({
            "resource": RESOURCE,
            "authorization_servers": [server.issuer()],
            "scopes_supported": ["read:messages", "write:messages"],
            "bearer_methods_supported": ["header"],
            "resource_name": "Messages",
        })
    );

    let missing = call(&router, "/private", None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        missing.challenge.as_deref(),
        Some(format!("Bearer realm=\"api\", resource_metadata=\"{METADATA_URL}\"").as_str())
    );
    let invalid = call(&router, "/private", Some("not-a-token")).await;
    assert_eq!(invalid.status, StatusCode::UNAUTHORIZED);
    let challenge = invalid.challenge.unwrap();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(challenge.contains("error_description=\""), "{challenge}");
    assert!(
        challenge.ends_with(&format!("resource_metadata=\"{METADATA_URL}\"")),
        "{challenge}"
    );
    let scoped = call(
        &router,
        "/all-of",
        Some(&valid_token(&server.issuer(), &KEY)),
    )
    .await;
    assert_eq!(scoped.status, StatusCode::FORBIDDEN);
    assert!(scoped.challenge.unwrap().contains("resource_metadata="));
    // Even with a custom body.
    let custom = guard.with_error_body(|_| json!({"msg": "Invalid token"}));
    let response = axum::response::IntoResponse::into_response(
        custom.reject(portcullis_guard::AuthError::MissingToken),
    );
    assert!(response.headers()[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .contains(METADATA_URL));
}

#[tokio::test]
async fn without_metadata_nothing_is_served_or_named() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let guard = server.guard().build().unwrap();
    let router = app(guard.clone()).merge(guard.resource_metadata_router());
    let request = Request::get("/.well-known/oauth-protected-resource")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&router, request).await.status, StatusCode::NOT_FOUND);
    let missing = call(&router, "/private", None).await;
    assert_eq!(missing.challenge.as_deref(), Some("Bearer realm=\"api\""));
}

#[tokio::test]
async fn a_resource_that_is_not_a_url_is_refused_at_build() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    for resource in [
        "not a url",
        "https://api.example.com/#fragment",
        "ftp://api.example.com",
    ] {
        assert!(matches!(
            server
                .guard()
                .resource_metadata(ResourceMetadata::new(resource))
                .build(),
            Err(ConfigError::InvalidResourceMetadata(_))
        ));
    }
}
