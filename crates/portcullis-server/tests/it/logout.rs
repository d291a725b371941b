use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn v2_logout_ends_the_session_and_returns_only_to_allowed_urls() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    app.create_user("l@example.com").await;
    let browser = browser();
    app.login_for_code(&browser, &spa, "l@example.com", &[])
        .await;

    let refused = browser
        .get(app.url(&format!(
            "/v2/logout?client_id={}&returnTo=https%3A%2F%2Fevil.example",
            spa.client_id
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.headers().get("location").is_none());

    app.login_for_code(&browser, &spa, "l@example.com", &[])
        .await;
    let out = browser
        .get(app.url(&format!(
            "/v2/logout?client_id={}&returnTo=http%3A%2F%2Flocalhost%3A3000&federated",
            spa.client_id
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&out), SPA_ORIGIN);

    // The next silent call fails with login_required.
    let (_, challenge) = pkce();
    let response = browser
        .get(app.authorize_url(
            &spa,
            &[
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("prompt", "none"),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        callback_params(&location(&response))["error"],
        "login_required"
    );
}

#[tokio::test]
async fn oidc_logout_redirects_with_state_to_a_registered_uri() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    let out = app
        .browser
        .get(app.url(&format!("/oidc/logout?client_id={}&post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A3000&state=q", spa.client_id)))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&out), "http://localhost:3000/?state=q");
}
