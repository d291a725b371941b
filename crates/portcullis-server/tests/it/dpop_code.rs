//! RFC 9449 §10: an authorization request that names a DPoP key (`dpop_jkt`) gets a code that
//! only a proof by that key redeems, so a code stolen on its way back to the client is useless
//! without the client's private key.

use portcullis_dpop::ProofKey;
use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    dpop::{proof_for, server_nonce, token},
    helpers::*,
};

const EMAIL: &str = "bound-code@example.com";

/// Signs in (once per browser) and returns a code bound to `jkt`, its verifier, and the form
/// that redeems it.
async fn bound_code(
    app: &TestApp,
    browser: &reqwest::Client,
    spa: &Spa,
    jkt: &str,
) -> Vec<(String, String)> {
    let (params, verifier) = app
        .login_for_code(browser, spa, EMAIL, &[("audience", API), ("dpop_jkt", jkt)])
        .await;
    [
        ("grant_type", "authorization_code"),
        ("client_id", spa.client_id.as_str()),
        ("code", params["code"].as_str()),
        ("code_verifier", verifier.as_str()),
        ("redirect_uri", spa.redirect_uri.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn pairs(form: &[(String, String)]) -> Vec<(&str, &str)> {
    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

async fn error_of(response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    body["error"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_code_bound_with_dpop_jkt_is_redeemed_only_with_that_keys_proof() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    app.create_user(EMAIL).await;
    app.tenant_changed();
    let browser = browser();
    let key = ProofKey::generate().unwrap();
    let thief = ProofKey::generate().unwrap();

    // Without a proof, the bound code is refused, and spent: the key's proof comes too late.
    let form = bound_code(&app, &browser, &spa, &key.jkt()).await;
    // Asking for the server's nonce leaves the code unused.
    let nonce = server_nonce(&app, &pairs(&form), &key).await;
    let response = token(&app, &pairs(&form), None).await;
    assert_eq!(error_of(response).await, "invalid_grant");
    let late = token(
        &app,
        &pairs(&form),
        Some(&proof_for(&app, &key, Some(&nonce))),
    )
    .await;
    assert_eq!(error_of(late).await, "invalid_grant");

    // With a valid proof by another key, refused too.
    let form = bound_code(&app, &browser, &spa, &key.jkt()).await;
    let stolen = token(
        &app,
        &pairs(&form),
        Some(&proof_for(&app, &thief, Some(&nonce))),
    )
    .await;
    assert_eq!(error_of(stolen).await, "invalid_grant");

    // By the key the request named: a DPoP-bound token.
    let form = bound_code(&app, &browser, &spa, &key.jkt()).await;
    let response = token(
        &app,
        &pairs(&form),
        Some(&proof_for(&app, &key, Some(&nonce))),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    let claims = app
        .verify(body["access_token"].as_str().unwrap(), API)
        .await;
    assert_eq!(claims["cnf"]["jkt"], key.jkt());

    // A code requested without dpop_jkt still takes a proof by any key, or none.
    let (params, verifier) = app
        .login_for_code(&browser, &spa, EMAIL, &[("audience", API)])
        .await;
    let response = app.exchange_code(&spa, &params["code"], &verifier).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_malformed_dpop_jkt_is_an_invalid_request() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    app.tenant_changed();
    let (_, challenge) = pkce();
    for jkt in [
        "not-a-thumbprint",
        "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4",
        "0ZcOCORZNYy+DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
    ] {
        let url = app.authorize_url(
            &spa,
            &[
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("state", "s"),
                ("dpop_jkt", jkt),
            ],
        );
        let response = browser().get(url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FOUND, "{jkt}");
        let params = callback_params(&location(&response));
        assert_eq!(params["error"], "invalid_request", "{jkt}");
        assert!(params["error_description"].contains("dpop_jkt"), "{jkt}");
        assert_eq!(params["state"], "s");
    }
}
