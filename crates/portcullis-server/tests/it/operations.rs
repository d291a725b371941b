use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn discovery_health_readiness_and_metrics() {
    let app = spawn_app().await;
    let discovery: Value = app
        .browser
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], app.issuer);
    assert_eq!(
        discovery["jwks_uri"],
        format!("{}.well-known/jwks.json", app.issuer)
    );
    assert_eq!(
        discovery["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        discovery["authorization_response_iss_parameter_supported"],
        true
    );

    assert_eq!(
        app.browser
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.browser
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    app.create_api(false).await;
    let (client_id, secret) = app.create_m2m(&[]).await;
    app.browser
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
            ("audience", API),
        ])
        .send()
        .await
        .unwrap();
    let metrics = app
        .browser
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("portcullis_tokens_issued_total{grant_type=\"client_credentials\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "portcullis_http_requests_total{route=\"/oauth/token\",method=\"POST\",status=\"200\"}"
        ),
        "{metrics}"
    );

    let missing = app
        .browser
        .get(app.url("/no/such/path"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
