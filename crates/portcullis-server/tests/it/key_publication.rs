//! Every algorithm's keys are published before they sign: a resource server that fetched the
//! JWKS once, before an API moved to a new algorithm, already knows the key of that API's
//! first token (a guard refetches for an unknown kid only after its cooldown).

use portcullis_types::SigningAlg;

use crate::{
    helpers::*,
    signing_algorithms::{api_with, m2m_for},
};

const API: &str = "https://es256-first.example.com";

#[tokio::test]
async fn the_first_es256_token_names_a_key_fetched_before_the_api_existed() {
    let app = spawn_app().await;
    let fetched_before = app.jwks().await;

    api_with(&app, API, SigningAlg::ES256).await;
    let (client_id, secret) = m2m_for(&app, API).await;
    let body: serde_json::Value = app
        .browser
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
            ("audience", API),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = body["access_token"].as_str().expect("token");
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    let kid = header.kid.expect("kid");
    assert!(
        fetched_before.find(&kid).is_some(),
        "the ES256 key that signs was in the JWKS fetched before: {kid}"
    );
}
