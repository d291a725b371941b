use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn pkce_code_flow_gives_a_jwt_for_the_api_that_verifies_against_the_jwks() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    let user_id = app.create_user("jane@example.com").await;
    let browser = browser();
    let (params, verifier) = app
        .login_for_code(&browser, &spa, "jane@example.com", &[("audience", API)])
        .await;
    // state round-trips byte for byte, and RFC 9207 iss is present.
    assert_eq!(params["state"], "st+/=te");
    assert_eq!(params["iss"], app.issuer);
    let response = app.exchange_code(&spa, &params["code"], &verifier).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].is_number());
    assert_eq!(body["scope"], "openid profile email read:messages");
    assert!(
        body.get("refresh_token").is_none(),
        "no offline_access was asked"
    );

    let access = app
        .verify(body["access_token"].as_str().unwrap(), API)
        .await;
    assert_eq!(access["iss"], app.issuer);
    assert_eq!(access["sub"], user_id);
    assert_eq!(
        access["aud"],
        serde_json::json!([API, format!("{}userinfo", app.issuer)])
    );
    assert_eq!(access["azp"], spa.client_id);
    assert_eq!(access["scope"], "openid profile email read:messages");
    assert!(access["exp"].as_i64().unwrap() > access["iat"].as_i64().unwrap());

    let id_token = app
        .verify(body["id_token"].as_str().unwrap(), &spa.client_id)
        .await;
    assert_eq!(id_token["nonce"], "n0+nce/=");
    assert_eq!(id_token["email"], "jane@example.com");
    assert_eq!(id_token["email_verified"], true);
    assert!(id_token["auth_time"].is_number());
    assert!(id_token["sid"].is_string());

    // The same access token is good at /userinfo (its audience names it).
    let info: Value = app
        .browser
        .get(app.url("/userinfo"))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], user_id);
    assert_eq!(info["email"], "jane@example.com");
    assert_eq!(info["name"], "jane@example.com");
}

#[tokio::test]
async fn scopes_the_api_does_not_define_are_dropped_and_resource_is_an_alias_of_audience() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    app.create_user("a@example.com").await;
    let (params, verifier) = app
        .login_for_code(
            &browser(),
            &spa,
            "a@example.com",
            &[
                ("resource", API),
                ("scope", "openid write:messages read:messages"),
            ],
        )
        .await;
    let body: Value = app
        .exchange_code(&spa, &params["code"], &verifier)
        .await
        .json()
        .await
        .unwrap();
    let access = app
        .verify(body["access_token"].as_str().unwrap(), API)
        .await;
    assert_eq!(access["scope"], "openid read:messages");
}

#[tokio::test]
async fn without_an_audience_the_access_token_is_opaque_and_only_good_for_userinfo() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    app.create_user("o@example.com").await;
    let (params, verifier) = app
        .login_for_code(&browser(), &spa, "o@example.com", &[])
        .await;
    let body: Value = app
        .exchange_code(&spa, &params["code"], &verifier)
        .await
        .json()
        .await
        .unwrap();
    let token = body["access_token"].as_str().unwrap();
    assert!(!token.contains('.'), "opaque, not a JWT");
    let info = app
        .browser
        .get(app.url("/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), StatusCode::OK);
    let info: Value = info.json().await.unwrap();
    assert_eq!(info["email"], "o@example.com");
    // A made-up token is refused per RFC 6750.
    let bad = app
        .browser
        .get(app.url("/userinfo"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert!(bad.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("error=\"invalid_token\""));
    let none = app.browser.get(app.url("/userinfo")).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        none.headers()["www-authenticate"],
        "Bearer realm=\"portcullis\""
    );
}

#[tokio::test]
async fn a_code_is_single_use_short_lived_and_bound_to_verifier_and_redirect_uri() {
    let app = spawn_app().await;
    app.create_api(true).await;
    let spa = app.create_spa(false).await;
    app.create_user("c@example.com").await;
    let browser = browser();

    // Wrong verifier, missing verifier, wrong redirect_uri: refused.
    let (params, verifier) = app
        .login_for_code(&browser, &spa, "c@example.com", &[("audience", API)])
        .await;
    let wrong = app.exchange_code(&spa, &params["code"], &pkce().0).await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        wrong.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    // The failed attempt consumed the code: even the right verifier fails now.
    let after = app.exchange_code(&spa, &params["code"], &verifier).await;
    assert_eq!(
        after.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );

    let (params, _) = app
        .login_for_code(&browser, &spa, "c@example.com", &[])
        .await;
    let missing = app
        .browser
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", &spa.client_id),
            ("code", &params["code"]),
            ("redirect_uri", &spa.redirect_uri),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        missing.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );

    let (params, verifier) = app
        .login_for_code(&browser, &spa, "c@example.com", &[])
        .await;
    let other_uri = app
        .browser
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", &spa.client_id),
            ("code", &params["code"]),
            ("code_verifier", &verifier),
            ("redirect_uri", "http://localhost:3000/callback"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        other_uri.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );

    // Expired after 60 s.
    let (params, verifier) = app
        .login_for_code(&browser, &spa, "c@example.com", &[])
        .await;
    app.clock.advance(61);
    let expired = app.exchange_code(&spa, &params["code"], &verifier).await;
    assert_eq!(
        expired.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );

    // Replay revokes what the code issued.
    let (params, verifier) = app
        .login_for_code(
            &browser,
            &spa,
            "c@example.com",
            &[("audience", API), ("scope", "openid offline_access")],
        )
        .await;
    let first: Value = app
        .exchange_code(&spa, &params["code"], &verifier)
        .await
        .json()
        .await
        .unwrap();
    let refresh = first["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_owned();
    let replay = app.exchange_code(&spa, &params["code"], &verifier).await;
    assert_eq!(
        replay.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    let refreshed = app
        .browser
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", &spa.client_id),
            ("refresh_token", &refresh),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        refreshed.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
}

#[tokio::test]
async fn concurrent_redemptions_of_one_code_have_exactly_one_winner() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    app.create_user("r@example.com").await;
    let (params, verifier) = app
        .login_for_code(&browser(), &spa, "r@example.com", &[])
        .await;
    let attempts = (0..8).map(|_| app.exchange_code(&spa, &params["code"], &verifier));
    let statuses: Vec<StatusCode> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.status())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn token_requests_are_accepted_as_json_like_auth0_spa_js_v1_sends_them() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    app.create_user("j@example.com").await;
    let (params, verifier) = app
        .login_for_code(&browser(), &spa, "j@example.com", &[])
        .await;
    let response = app
        .browser
        .post(app.url("/oauth/token"))
        .header("Auth0-Client", "eyJuYW1lIjoiYXV0aDAtc3BhLWpzIn0=")
        .json(&serde_json::json!({
            "grant_type": "authorization_code", "client_id": spa.client_id, "code": params["code"],
            "code_verifier": verifier, "redirect_uri": spa.redirect_uri, "unknown_param": "ignored"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn wrong_passwords_are_refused_then_throttled_and_sign_up_logs_in() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    app.create_user("t@example.com").await;
    let browser = browser();
    let (_, challenge) = pkce();
    let url = app.authorize_url(
        &spa,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let refused = app
        .login_via_form(&browser, &url, "t@example.com", "wrong password")
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Wrong email or password."));
    for _ in 0..9 {
        app.login_via_form(&browser, &url, "t@example.com", "wrong password")
            .await;
    }
    // The eleventh attempt is throttled, even with the right password.
    let throttled = app
        .login_via_form(&browser, &url, "t@example.com", PASSWORD)
        .await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    // The window passes.
    app.clock.advance(901);
    let ok = app
        .login_via_form(&browser, &url, "t@example.com", PASSWORD)
        .await;
    assert_eq!(ok.status(), StatusCode::FOUND);

    // Sign-up: a new account, then straight back to the application with a code.
    let fresh = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let page = fresh
        .get(app.url(&format!(
            "/u/signup?{}",
            url::Url::parse(&url).unwrap().query().unwrap()
        )))
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    let submitted = fresh
        .post(app.url("/u/signup"))
        .form(&[
            ("email", "new@example.com"),
            ("password", "a long enough password"),
            ("csrf", &hidden_field(&html, "csrf")),
            ("authorize_query", &hidden_field(&html, "authorize_query")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), StatusCode::SEE_OTHER);
    let back = fresh
        .get(app.url(&location(&submitted)))
        .send()
        .await
        .unwrap();
    assert!(callback_params(&location(&back)).contains_key("code"));
    assert!(app
        .store
        .user_by_email("NEW@example.com")
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn the_login_form_refuses_a_post_without_the_csrf_cookie() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    app.create_user("x@example.com").await;
    let query = format!(
        "client_id={}&redirect_uri={}&response_type=code",
        spa.client_id, spa.redirect_uri
    );
    let response = browser()
        .post(app.url("/u/login"))
        .form(&[
            ("email", "x@example.com"),
            ("password", PASSWORD),
            ("csrf", "forged-forged-forged-forged-forged"),
            ("authorize_query", &query),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}
