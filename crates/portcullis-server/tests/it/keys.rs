use std::time::Duration;

use portcullis_core::clock::SystemClock;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn rotation_publishes_before_signing_and_keeps_the_previous_key() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let (client_id, secret) = app.create_m2m(&["read:messages"]).await;
    let mint = || async {
        let body: Value = app
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
        body["access_token"].as_str().unwrap().to_owned()
    };
    // Every algorithm's keys are published from the start (each before it signs); RS256's
    // are the ones this rotation is about.
    let rs256 = |jwks: &jsonwebtoken::jwk::JwkSet| -> Vec<serde_json::Value> {
        jwks.keys
            .iter()
            .map(|key| serde_json::to_value(key).unwrap())
            .filter(|key| key["alg"] == "RS256")
            .collect()
    };
    let before = app.jwks().await;
    let published = rs256(&before);
    assert_eq!(
        published.len(),
        2,
        "current and next are published from the start"
    );
    for value in &published {
        assert_eq!(value["kty"], "RSA");
        assert_eq!(value["use"], "sig");
        assert!(value["n"].is_string() && value["e"].is_string());
    }
    let old_token = mint().await;
    let old_kid = jsonwebtoken::decode_header(&old_token)
        .unwrap()
        .kid
        .unwrap();
    let next_kid = published
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .find(|k| *k != old_kid)
        .unwrap()
        .to_owned();

    // The CLI rotates on the same store; the server sees it within its refresh interval.
    let cipher = portcullis_core::keys::KeyCipher::new(&app.master_key).unwrap();
    portcullis_core::keys::rotate(app.store.as_ref(), &SystemClock, &cipher, 86_400)
        .await
        .unwrap();
    let mut new_kid = old_kid.clone();
    for _ in 0..40 {
        new_kid = jsonwebtoken::decode_header(&mint().await)
            .unwrap()
            .kid
            .unwrap();
        if new_kid != old_kid {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(new_kid, next_kid, "the key published in advance signs now");
    let after = app.jwks().await;
    assert_eq!(rs256(&after).len(), 3, "previous, current and a new next");
    app.verify(&old_token, API).await;
}
