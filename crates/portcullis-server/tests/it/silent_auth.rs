use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

/// The JSON object a web_message page posts, read back out of the page.
fn posted_response(html: &str) -> Value {
    let start = html.find("response: ").expect("response object") + "response: ".len();
    let end = html[start..].find(" }, ").expect("end of message") + start;
    serde_json::from_str(&html[start..end]).expect("json")
}

#[tokio::test]
async fn prompt_none_without_a_session_answers_login_required_by_web_message_and_by_query() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    let (_, challenge) = pkce();
    let common = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("prompt", "none"),
        ("state", "s+1/="),
    ];

    let mut web = common.to_vec();
    web.push(("response_mode", "web_message"));
    let response = app
        .browser
        .get(app.authorize_url(&spa, &web))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains(&format!("frame-ancestors {SPA_ORIGIN}")),
        "{csp}"
    );
    assert!(
        response.headers().get("x-frame-options").is_none(),
        "the page must be frameable by the SPA"
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("type: \"authorization_response\""));
    assert!(
        html.contains(&format!(", \"{SPA_ORIGIN}\")")),
        "posts to the SPA origin only"
    );
    let posted = posted_response(&html);
    assert_eq!(posted["error"], "login_required");
    assert_eq!(posted["state"], "s+1/=");

    let response = app
        .browser
        .get(app.authorize_url(&spa, &common))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let params = callback_params(&location(&response));
    assert_eq!(params["error"], "login_required");
    assert_eq!(params["state"], "s+1/=");
}

#[tokio::test]
async fn prompt_none_with_a_session_returns_a_code_by_web_message_that_redeems() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    app.create_user("s@example.com").await;
    let browser = browser();
    app.login_for_code(&browser, &spa, "s@example.com", &[("audience", API)])
        .await;

    let (verifier, challenge) = pkce();
    let url = app.authorize_url(
        &spa,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("prompt", "none"),
            ("response_mode", "web_message"),
            ("audience", API),
            ("state", "abc"),
        ],
    );
    let html = browser.get(url).send().await.unwrap().text().await.unwrap();
    let posted = posted_response(&html);
    assert_eq!(posted["state"], "abc");
    let code = posted["code"].as_str().expect("code");
    let body: Value = app
        .exchange_code(&spa, code, &verifier)
        .await
        .json()
        .await
        .unwrap();
    app.verify(body["access_token"].as_str().unwrap(), API)
        .await;

    // max_age=0: the session is too old for this request, so silent auth fails.
    let url = app.authorize_url(
        &spa,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("prompt", "none"),
            ("max_age", "0"),
        ],
    );
    app.clock.advance(1);
    let response = browser.get(url).send().await.unwrap();
    assert_eq!(
        callback_params(&location(&response))["error"],
        "login_required"
    );
}

#[tokio::test]
async fn web_message_accepts_a_redirect_uri_whose_origin_is_a_registered_web_origin() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    let (_, challenge) = pkce();
    let mut url = url::Url::parse(&app.url("/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", &spa.client_id)
        .append_pair("redirect_uri", "http://localhost:3000/silent")
        .append_pair("response_type", "code")
        .append_pair("response_mode", "web_message")
        .append_pair("prompt", "none")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let response = app.browser.get(url.as_str()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // The same redirect_uri is not a registered callback for a redirect.
    let query_url = url
        .as_str()
        .replace("response_mode=web_message", "response_mode=query");
    let response = app.browser.get(query_url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("location").is_none());
}
