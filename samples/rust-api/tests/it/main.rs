//! The sample API on a loopback port, against tokens minted here and keys served by a loopback
//! JWKS endpoint standing in for the issuer.

mod cors_dpop;
mod support;

use reqwest::{header, StatusCode};
use serde_json::{json, Value};

use crate::support::{TestEnv, AUDIENCE};

const PRIVATE: &str = "Hello from a private endpoint! You need to be authenticated to see this.";

#[tokio::test]
async fn public_route_needs_no_token_and_carries_the_tutorial_headers() {
    let env = TestEnv::start().await;
    let response = env.get("/api/public", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    for (name, value) in [
        ("x-dns-prefetch-control", "off"),
        ("x-frame-options", "SAMEORIGIN"),
        (
            "strict-transport-security",
            "max-age=15552000; includeSubDomains",
        ),
        ("x-download-options", "noopen"),
        ("x-content-type-options", "nosniff"),
        ("x-xss-protection", "1; mode=block"),
        ("content-security-policy", "default-src 'self'"),
    ] {
        assert_eq!(
            headers.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{name}"
        );
    }
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(
        body,
        json!({ "message": "Hello from a public endpoint! You don't need to be authenticated to see this." })
    );
}

#[tokio::test]
async fn private_route_answers_200_or_401() {
    let env = TestEnv::start().await;
    let response = env.get("/api/private", Some(&env.token("openid"))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.expect("JSON"),
        json!({ "message": PRIVATE })
    );

    let response = env.get("/api/private", None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&response), "Bearer realm=\"api\"");

    let mut claims = env.claims("openid");
    claims["aud"] = json!("https://another-api.example.com");
    let response = env.get("/api/private", Some(&env.sign(&claims))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge(&response).contains("error=\"invalid_token\""));
    assert_eq!(
        response.json::<Value>().await.expect("JSON")["error"],
        "invalid_token"
    );
}

#[tokio::test]
async fn scoped_route_answers_200_or_403() {
    let env = TestEnv::start().await;
    let response = env
        .get(
            "/api/private-scoped",
            Some(&env.token("openid read:messages")),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.expect("JSON")["message"],
        "Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this."
    );

    let response = env
        .get("/api/private-scoped", Some(&env.token("openid profile")))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let challenge = challenge(&response);
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"read:messages\""), "{challenge}");
}

#[tokio::test]
async fn external_route_speaks_the_tutorials_bodies() {
    let env = TestEnv::start().await;
    let response = env.get("/api/external", Some(&env.token("openid"))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.expect("JSON"),
        json!({ "msg": "Your access token was successfully validated!" })
    );

    for token in [None, Some("not-a-token")] {
        let response = env.get("/api/external", token).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(challenge(&response).starts_with("Bearer realm=\"api\""));
        assert_eq!(
            response.json::<Value>().await.expect("JSON"),
            json!({ "msg": "Invalid token" })
        );
    }
}

/// `curl -I localhost:3000/api/external` from the tutorial.
#[tokio::test]
async fn head_external_without_token_is_401_with_security_headers() {
    let env = TestEnv::start().await;
    let response = env
        .client
        .head(env.url("/api/external"))
        .send()
        .await
        .expect("HEAD");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["x-frame-options"], "SAMEORIGIN");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn serves_auth_config_static_files_and_index_for_everything_else() {
    let env = TestEnv::start().await;
    let config: Value = env
        .get("/auth_config.json", None)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(config["audience"], AUDIENCE);
    assert_eq!(config["domain"], env.issuer_base);

    let script = env.get("/js/app.js", None).await;
    assert_eq!(script.status(), StatusCode::OK);
    assert_eq!(script.text().await.expect("text"), support::APP_JS);

    for path in ["/", "/profile", "/some/deep/link", "/api/unknown"] {
        let page = env.get(path, None).await;
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        assert!(
            page.headers().get("content-security-policy").is_none(),
            "{path}"
        );
        assert_eq!(
            page.text().await.expect("text"),
            support::INDEX_HTML,
            "{path}"
        );
    }
}

#[tokio::test]
async fn cors_lets_a_spa_on_another_loopback_port_send_a_token() {
    let env = TestEnv::start().await;
    let preflight = env
        .preflight("/api/private", "http://localhost:3000", "authorization")
        .await;
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        preflight.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://localhost:3000"
    );
    let allowed = preflight.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .expect("ASCII");
    assert!(allowed.contains("authorization"), "{allowed}");

    let response = env
        .client
        .get(env.url("/api/private"))
        .header(header::ORIGIN, "http://127.0.0.1:3000")
        .bearer_auth(env.token("openid"))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://127.0.0.1:3000"
    );

    let foreign = env
        .client
        .get(env.url("/api/public"))
        .header(header::ORIGIN, "https://evil.example")
        .send()
        .await
        .expect("GET");
    assert!(foreign
        .headers()
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());
}

fn challenge(response: &reqwest::Response) -> String {
    support::header_text(response, header::WWW_AUTHENTICATE)
}

#[tokio::test]
async fn ps256_and_es256_tokens_are_accepted_each_with_its_own_key() {
    let env = TestEnv::start().await;
    for alg in [
        jsonwebtoken::Algorithm::PS256,
        jsonwebtoken::Algorithm::ES256,
    ] {
        let token = env.sign_as(alg, &env.claims("read:messages"));
        let response = env.get("/api/private-scoped", Some(&token)).await;
        assert_eq!(response.status(), StatusCode::OK, "{alg:?}");
    }
    // A PS256 header on a token signed by the RS256 key: the key is for RS256 only.
    let claims = env.claims("openid");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::PS256);
    header.kid = jsonwebtoken::decode_header(env.token("openid"))
        .expect("header")
        .kid;
    let forged = env.sign_as(jsonwebtoken::Algorithm::PS256, &claims);
    let parts: Vec<&str> = forged.split('.').collect();
    let relabelled = format!(
        "{}.{}.{}",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            serde_json::to_vec(&header).expect("header JSON")
        ),
        parts[1],
        parts[2]
    );
    let response = env.get("/api/private", Some(&relabelled)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn with_a_public_url_the_api_serves_rfc_9728_metadata_and_names_it_in_401s() {
    let env = TestEnv::start_with(true).await;
    let response = env.get("/.well-known/oauth-protected-resource", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let metadata: Value = response.json().await.expect("JSON");
    assert_eq!(metadata["resource"], AUDIENCE);
    assert_eq!(
        metadata["authorization_servers"],
        json!([format!("{}/", env.issuer_base)])
    );
    assert_eq!(metadata["scopes_supported"], json!(["read:messages"]));
    assert_eq!(metadata["bearer_methods_supported"], json!(["header"]));

    let response = env.get("/api/private", None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge(&response),
        format!(
            "Bearer realm=\"api\", resource_metadata=\"{}\"",
            env.url("/.well-known/oauth-protected-resource")
        )
    );
}
