use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

async fn assert_oauth_error(response: reqwest::Response, status: StatusCode, error: &str) {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string());
}

#[tokio::test]
async fn malformed_token_requests_get_clear_4xx_errors() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    let token = app.url("/oauth/token");
    let client = &app.browser;

    let broken_json = client
        .post(&token)
        .header("content-type", "application/json")
        .body("{\"grant_type\": ")
        .send()
        .await
        .unwrap();
    assert_oauth_error(broken_json, StatusCode::BAD_REQUEST, "invalid_request").await;
    let array_json = client
        .post(&token)
        .json(&serde_json::json!(["x"]))
        .send()
        .await
        .unwrap();
    assert_oauth_error(array_json, StatusCode::BAD_REQUEST, "invalid_request").await;
    let nested = client
        .post(&token)
        .json(&serde_json::json!({"grant_type": {"a": 1}}))
        .send()
        .await
        .unwrap();
    assert_oauth_error(nested, StatusCode::BAD_REQUEST, "invalid_request").await;
    let no_grant = client
        .post(&token)
        .form(&[("client_id", spa.client_id.as_str())])
        .send()
        .await
        .unwrap();
    assert_oauth_error(no_grant, StatusCode::BAD_REQUEST, "invalid_request").await;
    let repeated = client
        .post(&token)
        .body("grant_type=a&grant_type=b")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_oauth_error(repeated, StatusCode::BAD_REQUEST, "invalid_request").await;
    let password = client
        .post(&token)
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", &spa.client_id),
        ])
        .send()
        .await
        .unwrap();
    assert_oauth_error(password, StatusCode::BAD_REQUEST, "unsupported_grant_type").await;
    let unknown_client = client
        .post(&token)
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "nobody"),
        ])
        .send()
        .await
        .unwrap();
    assert_oauth_error(unknown_client, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let bad_code = client
        .post(&token)
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", &spa.client_id),
            ("code", "made-up"),
            ("redirect_uri", SPA_ORIGIN),
            ("code_verifier", &pkce().0),
        ])
        .send()
        .await
        .unwrap();
    assert_oauth_error(bad_code, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let bad_basic = client
        .post(&token)
        .header("authorization", "Basic %%%")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_oauth_error(bad_basic, StatusCode::BAD_REQUEST, "invalid_request").await;

    let huge = client
        .post(&token)
        .form(&[("grant_type", "x".repeat(100_000))])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn cors_on_the_token_endpoint_is_for_registered_web_origins_only() {
    let app = spawn_app().await;
    app.create_spa(false).await;
    // For an origin it does not know, the server re-reads the registered origins at most once
    // a second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let preflight = |origin: &'static str| {
        app.browser
            .request(reqwest::Method::OPTIONS, app.url("/oauth/token"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,auth0-client",
            )
            .send()
    };
    let allowed = preflight(SPA_ORIGIN).await.unwrap();
    assert!(allowed.status().is_success());
    assert_eq!(allowed.headers()["access-control-allow-origin"], SPA_ORIGIN);
    let headers = allowed.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        headers.contains("auth0-client") && headers.contains("content-type"),
        "{headers}"
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    // The JWKS is public.
    let jwks = app
        .browser
        .get(app.url("/.well-known/jwks.json"))
        .header("origin", "https://any.example")
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.headers()["access-control-allow-origin"], "*");
    // The authorization endpoint never has CORS (RFC 9700 §2.6).
    let authorize = app
        .browser
        .get(app.url("/authorize"))
        .header("origin", SPA_ORIGIN)
        .send()
        .await
        .unwrap();
    assert!(authorize
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}
