use aws_lc_rs::digest;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use reqwest::StatusCode;

use crate::helpers::*;

fn implicit_url(app: &TestApp, client_id: &str, extra: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&app.url("/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", "http://localhost:3000/callback")
        .append_pair("response_type", "token id_token")
        .append_pair("scope", "openid profile read:messages")
        .append_pair("audience", API);
    for (k, v) in extra {
        url.query_pairs_mut().append_pair(k, v);
    }
    url.to_string()
}

#[tokio::test]
async fn implicit_returns_tokens_in_the_fragment_with_an_exact_at_hash() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let spa = app.create_spa(true).await;
    app.create_user("i@example.com").await;
    // auth0.js sends no response_mode: fragment is the default for token responses.
    let url = implicit_url(
        &app,
        &spa.client_id,
        &[("state", "Ab-._~9"), ("nonce", "N-._~1")],
    );
    let response = app
        .login_via_form(&browser(), &url, "i@example.com", PASSWORD)
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let target = location(&response);
    assert!(
        target.starts_with("http://localhost:3000/callback#"),
        "{target}"
    );
    let fragment = fragment_params(&target);
    assert_eq!(fragment["state"], "Ab-._~9");
    assert_eq!(fragment["token_type"], "Bearer");
    assert!(fragment["expires_in"].parse::<i64>().unwrap() > 0);
    let access = app.verify(&fragment["access_token"], API).await;
    assert_eq!(access["scope"], "openid profile read:messages");
    let id = app.verify(&fragment["id_token"], &spa.client_id).await;
    assert_eq!(id["nonce"], "N-._~1");
    let hash = digest::digest(&digest::SHA256, fragment["access_token"].as_bytes());
    assert_eq!(id["at_hash"], URL_SAFE_NO_PAD.encode(&hash.as_ref()[..16]));
}

#[tokio::test]
async fn implicit_is_refused_for_clients_that_did_not_enable_it_and_needs_a_nonce() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    let response = app
        .browser
        .get(implicit_url(
            &app,
            &spa.client_id,
            &[("nonce", "n"), ("state", "s")],
        ))
        .send()
        .await
        .unwrap();
    let fragment = fragment_params(&location(&response));
    assert_eq!(fragment["error"], "unauthorized_client");
    assert_eq!(fragment["state"], "s");

    let enabled = app.create_spa(true).await;
    let response = app
        .browser
        .get(implicit_url(&app, &enabled.client_id, &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        fragment_params(&location(&response))["error"],
        "invalid_request"
    );
}
