use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn unknown_clients_and_unregistered_redirect_uris_get_a_page_never_a_redirect() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    for url in [
        app.url("/authorize?client_id=nobody&redirect_uri=https%3A%2F%2Fevil.example&response_type=code"),
        app.url(&format!("/authorize?client_id={}&redirect_uri=https%3A%2F%2Fevil.example&response_type=code", spa.client_id)),
        app.url(&format!("/authorize?client_id={}&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2F&response_type=code", spa.client_id)),
        app.url("/authorize"),
        app.url("/authorize?client_id=a&client_id=b"),
    ] {
        let response = app.browser.get(&url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{url}");
        assert!(response.headers().get("location").is_none(), "{url}");
        assert_eq!(response.headers()["x-frame-options"], "DENY");
    }
}

#[tokio::test]
async fn request_errors_go_back_to_the_registered_redirect_uri_with_state() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    let (_, challenge) = pkce();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "invalid_request"), // a public client without PKCE
        (
            vec![
                ("code_challenge", &challenge),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("code_challenge", "short"),
                ("code_challenge_method", "S256"),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("audience", "https://unknown"),
            ],
            "access_denied",
        ),
        (
            vec![
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("prompt", "none login"),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("max_age", "soon"),
            ],
            "invalid_request",
        ),
    ];
    for (extra, expected) in cases {
        let mut params = extra.clone();
        params.push(("state", "xyz"));
        let response = app
            .browser
            .get(app.authorize_url(&spa, &params))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FOUND, "{extra:?}");
        let callback = callback_params(&location(&response));
        assert_eq!(callback["error"], expected, "{extra:?}");
        assert_eq!(callback["state"], "xyz");
        assert!(callback.contains_key("error_description"));
    }
    let odd_type = app
        .authorize_url(&spa, &[("state", "s")])
        .replace("response_type=code", "response_type=code+token");
    let callback = callback_params(&location(&app.browser.get(odd_type).send().await.unwrap()));
    assert_eq!(callback["error"], "unsupported_response_type");
}
