//! Sessions and what the server stores: no fixation, ending what a user holds, idle and
//! absolute ends, `__Host-` cookies, the login form's CSRF value bound to its request, the
//! sweep, and bounded stored fields.

use std::time::Duration;

use portcullis_core::secrets::lookup_hash;
use portcullis_store::{LogFilter, Page};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{helpers::*, management_support::*};

/// The session cookie's value among a response's `Set-Cookie` headers.
fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("portcullis_session="))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
        .filter(|value| !value.is_empty())
}

/// Signs in through the form; returns the new session cookie's value.
async fn sign_in(
    app: &TestApp,
    browser: &reqwest::Client,
    spa: &Spa,
    extra: &[(&str, &str)],
) -> String {
    let url = app.authorize_url(spa, extra);
    let response = browser.get(&url).send().await.unwrap();
    let login = location(&response);
    let html = browser
        .get(app.url(&login))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let submitted = post_hosted_form(
        app,
        browser,
        &html,
        "/u/login",
        &[("email", "jane@example.com"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(submitted.status(), StatusCode::SEE_OTHER);
    session_cookie(&submitted).expect("a session cookie")
}

/// Whether silent authentication with `cookie` as the session gets a code.
async fn session_works(app: &TestApp, spa: &Spa, cookie: &str) -> bool {
    let (_, challenge) = pkce();
    let url = app.authorize_url(
        spa,
        &[
            ("prompt", "none"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(url)
        .header("cookie", format!("portcullis_session={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let params = callback_params(&location(&response));
    match params.get("error").map(String::as_str) {
        None => true,
        Some("login_required") => false,
        Some(other) => panic!("unexpected error {other}"),
    }
}

/// Signs in and gets tokens for the API with `offline_access`; returns the session cookie and
/// the refresh token.
async fn sign_in_with_refresh_token(
    app: &TestApp,
    browser: &reqwest::Client,
    spa: &Spa,
) -> (String, String) {
    let (verifier, challenge) = pkce();
    let mut params = challenge_params(&challenge).to_vec();
    params.push(("scope", "openid offline_access read:messages"));
    params.push(("audience", API));
    let session = sign_in(app, browser, spa, &params).await;
    let response = browser
        .get(app.authorize_url(spa, &params))
        .send()
        .await
        .unwrap();
    let code = callback_params(&location(&response))["code"].clone();
    let tokens: Value = app
        .exchange_code(spa, &code, &verifier)
        .await
        .json()
        .await
        .unwrap();
    let refresh = tokens["refresh_token"].as_str().expect("refresh token");
    (session, refresh.to_owned())
}

fn challenge_params(challenge: &str) -> [(&'static str, &str); 2] {
    [
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
}

#[tokio::test]
async fn a_new_sign_in_replaces_the_browsers_session() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    app.create_user("jane@example.com").await;
    let browser = browser();
    let (_, challenge) = pkce();
    let first = sign_in(&app, &browser, &spa, &challenge_params(&challenge)).await;
    let mut again = challenge_params(&challenge).to_vec();
    again.push(("prompt", "login"));
    let second = sign_in(&app, &browser, &spa, &again).await;
    assert_ne!(first, second);
    assert!(
        !session_works(&app, &spa, &first).await,
        "the old session ended"
    );
    assert!(session_works(&app, &spa, &second).await);
}

#[tokio::test]
async fn a_new_password_a_block_or_a_deletion_ends_sessions_and_tokens() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    app.create_api(true).await;
    let spa = app.create_spa(false).await;
    for change in ["password", "block", "delete"] {
        let user_id = app.create_user("jane@example.com").await;
        let browser = browser();
        let (session, refresh) = sign_in_with_refresh_token(app, &browser, &spa).await;
        // An opaque token for /userinfo: a code without an audience.
        let (verifier, challenge) = pkce();
        let response = browser
            .get(app.authorize_url(&spa, &challenge_params(&challenge)))
            .send()
            .await
            .unwrap();
        let code = callback_params(&location(&response))["code"].clone();
        let opaque: Value = app
            .exchange_code(&spa, &code, &verifier)
            .await
            .json()
            .await
            .unwrap();
        let opaque = opaque["access_token"].as_str().unwrap().to_owned();
        assert!(session_works(app, &spa, &session).await);

        let path = format!("/users/{}", encode(&user_id));
        let (status, _) = match change {
            "password" => {
                mgmt.patch(&path, json!({"password": "another long password"}))
                    .await
            }
            "block" => mgmt.patch(&path, json!({"blocked": true})).await,
            _ => mgmt.delete(&path).await,
        };
        assert!(status.is_success(), "{change}: {status}");

        assert!(
            !session_works(app, &spa, &session).await,
            "{change}: session"
        );
        let stored = app
            .store
            .refresh_token_by_hash(&lookup_hash(&refresh))
            .await
            .unwrap()
            .expect("kept until its family expires");
        assert!(stored.revoked, "{change}: refresh token revoked");
        let refreshed = app
            .browser
            .post(app.url("/oauth/token"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", spa.client_id.as_str()),
                ("refresh_token", refresh.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(refreshed.status(), StatusCode::BAD_REQUEST, "{change}");
        let userinfo = app
            .browser
            .get(app.url("/userinfo"))
            .bearer_auth(&opaque)
            .send()
            .await
            .unwrap();
        assert_eq!(
            userinfo.status(),
            StatusCode::UNAUTHORIZED,
            "{change}: opaque"
        );
        if change != "delete" {
            mgmt.delete(&path).await;
        }
    }
}

#[tokio::test]
async fn sessions_end_when_idle_and_at_their_absolute_end() {
    let app = spawn_app_with(|settings| {
        settings.session_idle_timeout = 100;
        settings.session_lifetime = 1_000;
    })
    .await;
    let spa = app.create_spa(false).await;
    app.create_user("jane@example.com").await;
    let (_, challenge) = pkce();
    let session = sign_in(&app, &browser(), &spa, &challenge_params(&challenge)).await;
    // Used every 60 seconds, it lives on past its first idle end...
    for _ in 0..5 {
        app.clock.advance(60);
        assert!(session_works(&app, &spa, &session).await);
    }
    // ...but not when left alone for longer than the idle timeout...
    app.clock.advance(101);
    assert!(!session_works(&app, &spa, &session).await, "idle end");

    // ...and never past its absolute end, however often it is used.
    let session = sign_in(&app, &browser(), &spa, &challenge_params(&challenge)).await;
    for _ in 0..16 {
        app.clock.advance(60);
        assert!(session_works(&app, &spa, &session).await);
    }
    app.clock.advance(60);
    assert!(!session_works(&app, &spa, &session).await, "absolute end");
}

#[tokio::test]
async fn https_deployments_use_host_cookies() {
    // Behind a TLS-terminating load balancer the issuer is https while the server speaks http.
    let app = spawn_app_with(|settings| {
        settings.issuer = settings.issuer.replace("http://", "https://");
    })
    .await;
    let spa = app.create_spa(false).await;
    let (_, challenge) = pkce();
    let url = app.authorize_url(&spa, &challenge_params(&challenge));
    let response = app.browser.get(url).send().await.unwrap();
    let login = app
        .browser
        .get(app.url(&location(&response)))
        .send()
        .await
        .unwrap();
    let set = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.starts_with("__Host-portcullis_csrf="), "{set}");
    assert!(
        set.contains("Path=/") && set.contains("Secure") && !set.contains("Domain"),
        "{set}"
    );
    let signin = app
        .browser
        .get(app.url("/dashboard/signin"))
        .send()
        .await
        .unwrap();
    let set = signin.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.starts_with("__Host-portcullis_admin_csrf="), "{set}");
    assert!(set.contains("Path=/;") || set.ends_with("Path=/"), "{set}");
}

#[tokio::test]
async fn the_login_forms_csrf_value_is_bound_to_its_authorization_request() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    app.create_user("jane@example.com").await;
    let browser = browser();
    let page = |state: &'static str| {
        let (_, challenge) = pkce();
        let url = app.authorize_url(
            &spa,
            &[
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
                ("state", state),
            ],
        );
        let browser = browser.clone();
        let app = &app;
        async move {
            let response = browser.get(url).send().await.unwrap();
            let html = browser
                .get(app.url(&location(&response)))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            (
                hidden_field(&html, "csrf"),
                hidden_field(&html, "authorize_query"),
            )
        }
    };
    let (csrf_a, _) = page("first").await;
    let (csrf_b, query_b) = page("second").await;
    assert_ne!(csrf_a, csrf_b, "one value per request, from one cookie");
    let submit = |csrf: String| {
        browser
            .post(app.url("/u/login"))
            .form(&[
                ("email", "jane@example.com".to_owned()),
                ("password", PASSWORD.to_owned()),
                ("csrf", csrf),
                ("authorize_query", query_b.clone()),
            ])
            .send()
    };
    assert_eq!(
        submit(csrf_a).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        submit(csrf_b).await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_sweep_deletes_expired_state_and_old_log_events() {
    let app = spawn_app_with(|settings| {
        settings.sweep_interval_seconds = 1;
        settings.audit_retention_days = Some(1);
    })
    .await;
    app.create_api(true).await;
    let spa = app.create_spa(false).await;
    app.create_user("jane@example.com").await;
    let (_, refresh) = sign_in_with_refresh_token(&app, &browser(), &spa).await;
    let refresh = lookup_hash(&refresh);
    let logged = |app: &TestApp| {
        let store = app.store.clone();
        async move {
            store
                .list_logs(&LogFilter::default(), Page::ALL)
                .await
                .unwrap()
                .1
        }
    };
    assert!(logged(&app).await > 0);
    assert!(app
        .store
        .refresh_token_by_hash(&refresh)
        .await
        .unwrap()
        .is_some());

    // Past the refresh family's lifetime (30 days) and the log retention (1 day).
    app.clock.advance(31 * 86_400);
    // One sweep deletes the family before the log events: wait for both.
    let (mut family_left, mut events_left) = (true, u64::MAX);
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        family_left = app
            .store
            .refresh_token_by_hash(&refresh)
            .await
            .unwrap()
            .is_some();
        events_left = logged(&app).await;
        if !family_left && events_left == 0 {
            break;
        }
    }
    assert!(!family_left, "the expired family was swept");
    assert_eq!(events_left, 0, "old log events were swept");
}

#[tokio::test]
async fn stored_request_fields_are_bounded() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    let (_, challenge) = pkce();
    let long_state = "s".repeat(3_000);
    let long_nonce = "n".repeat(600);
    for (name, value) in [
        ("state", long_state.as_str()),
        ("nonce", long_nonce.as_str()),
    ] {
        let url = app.authorize_url(
            &spa,
            &[
                (name, value),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ],
        );
        let response = app.browser.get(url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{name}");
        assert!(
            response.text().await.unwrap().contains("too long"),
            "{name}"
        );
    }

    // What a failed login records of the typed email is bounded.
    let url = app.authorize_url(&spa, &challenge_params(&challenge));
    let browser = browser();
    let response = browser.get(url).send().await.unwrap();
    let html = browser
        .get(app.url(&location(&response)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let email = format!("{}@example.com", "a".repeat(10_000));
    let failed = post_hosted_form(
        &app,
        &browser,
        &html,
        "/u/login",
        &[("email", email.as_str()), ("password", "wrong password")],
    )
    .await;
    assert_eq!(failed.status(), StatusCode::UNAUTHORIZED);
    let (events, _) = app
        .store
        .list_logs(
            &LogFilter {
                event_type: Some("f".into()),
                ..LogFilter::default()
            },
            Page::ALL,
        )
        .await
        .unwrap();
    let recorded = events[0].details["email"].as_str().unwrap();
    assert!(recorded.len() <= 254, "{} characters", recorded.len());
}
