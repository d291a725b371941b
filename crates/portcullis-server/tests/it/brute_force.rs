//! Brute-force protection as Auth0 does it (failures per account and client address, per
//! address across accounts, counted before the password is checked, unblocked through the
//! Management API and the dashboard), sign-up throttling, and password hashing under a flood
//! (a bounded queue answered 429 at once while tokens keep flowing). Clients take addresses of
//! the loopback range (127.0.0.2, ...) to be different addresses.

use std::{net::IpAddr, time::Duration};

use futures::future::join_all;
use portcullis_core::admin::{administrators, Actor};
use portcullis_server::settings::HashingLimits;
use portcullis_store::{LogFilter, Page};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{
    dashboard::user_path,
    helpers::*,
    management_support::{spawn_mgmt, spawn_mgmt_with, Mgmt},
};

pub(crate) const EMAIL: &str = "target@example.com";
pub(crate) const WRONG: &str = "wrong password";

/// A browser whose connections come from `ip` (an address of the loopback range).
pub(crate) fn browser_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .local_address(ip.parse::<IpAddr>().expect("ip"))
        .build()
        .expect("client")
}

/// A login form ready to post from one browser: its CSRF value and authorization request.
pub(crate) struct LoginForm {
    csrf: String,
    authorize_query: String,
}

impl LoginForm {
    pub(crate) async fn open(
        app: &TestApp,
        browser: &reqwest::Client,
        spa: &Spa,
        path: &str,
    ) -> Self {
        let url = app.authorize_url(spa, &[]);
        let query = url::Url::parse(&url)
            .expect("url")
            .query()
            .expect("query")
            .to_owned();
        let page = browser
            .get(app.url(&format!("{path}?{query}")))
            .send()
            .await
            .expect("page");
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("html");
        LoginForm {
            csrf: hidden_field(&html, "csrf"),
            authorize_query: hidden_field(&html, "authorize_query"),
        }
    }

    pub(crate) async fn post(
        &self,
        app: &TestApp,
        browser: &reqwest::Client,
        path: &str,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        browser
            .post(app.url(path))
            .form(&[
                ("email", email),
                ("password", password),
                ("csrf", &self.csrf),
                ("authorize_query", &self.authorize_query),
            ])
            .send()
            .await
            .expect("post")
    }
}

/// Logs in through the form from `browser`; returns the status of the form's answer (303 is
/// a success).
pub(crate) async fn login(
    app: &TestApp,
    browser: &reqwest::Client,
    spa: &Spa,
    password: &str,
) -> StatusCode {
    let form = LoginForm::open(app, browser, spa, "/u/login").await;
    form.post(app, browser, "/u/login", EMAIL, password)
        .await
        .status()
}

/// Ten wrong passwords for [`EMAIL`] from `browser`: its pair is blocked after them.
pub(crate) async fn block_pair(app: &TestApp, browser: &reqwest::Client, spa: &Spa) {
    let form = LoginForm::open(app, browser, spa, "/u/login").await;
    for _ in 0..10 {
        let refused = form.post(app, browser, "/u/login", EMAIL, WRONG).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn a_blocked_pair_leaves_the_account_open_from_other_addresses() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    app.create_user(EMAIL).await;
    let attacker = browser_from("127.0.0.2");
    block_pair(&app, &attacker, &spa).await;
    // The eleventh attempt from that address is refused, even with the right password.
    assert_eq!(
        login(&app, &attacker, &spa, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The owner, elsewhere, is not locked out.
    let owner = browser_from("127.0.0.3");
    assert_eq!(
        login(&app, &owner, &spa, PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    // Their success clears their own pair, not the attacker's.
    assert_eq!(
        login(&app, &attacker, &spa, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The block lasts for the window.
    app.clock.advance(901);
    assert_eq!(
        login(&app, &attacker, &spa, PASSWORD).await,
        StatusCode::SEE_OTHER
    );
}

/// Hammering a blocked pair costs one `limit_wc` entry per window, not one per request; a new
/// window that fills up again records one more.
#[tokio::test]
async fn repeated_refusals_are_recorded_once_per_window() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    app.create_user(EMAIL).await;
    let attacker = browser_from("127.0.0.2");
    let throttled_entries = || async {
        let (events, _) = app
            .store
            .list_logs(&LogFilter::default(), Page::ALL)
            .await
            .unwrap();
        let count = |code: &str| {
            events
                .iter()
                .filter(|e| e.event_type.as_str() == code)
                .count()
        };
        (count("limit_wc"), count("f"))
    };
    for window in 1..=2 {
        block_pair(&app, &attacker, &spa).await;
        for _ in 0..25 {
            assert_eq!(
                login(&app, &attacker, &spa, WRONG).await,
                StatusCode::TOO_MANY_REQUESTS
            );
        }
        assert_eq!(throttled_entries().await, (window, 10 * window));
        app.clock.advance(901);
    }
}

#[tokio::test]
async fn parallel_guesses_cannot_slip_past_the_limit() {
    // A queue long enough for every guess: this is about counting, not the hashing bound.
    let app = spawn_app_with(|settings| {
        settings.hashing = HashingLimits {
            concurrent: 2,
            queued: 64,
        };
    })
    .await;
    let spa = app.create_spa(false).await;
    app.create_user(EMAIL).await;
    let attacker = browser_from("127.0.0.2");
    let form = LoginForm::open(&app, &attacker, &spa, "/u/login").await;
    let answers = join_all(
        (0..30).map(|_| async { form.post(&app, &attacker, "/u/login", EMAIL, WRONG).await }),
    )
    .await;
    let checked = answers
        .iter()
        .filter(|r| r.status() == StatusCode::UNAUTHORIZED)
        .count();
    let refused = answers
        .iter()
        .filter(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(
        (checked, refused),
        (10, 20),
        "ten guesses checked, the others refused unchecked"
    );
    assert_eq!(
        login(&app, &attacker, &spa, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn failures_from_one_address_across_accounts_are_throttled() {
    let app = spawn_app_with(|settings| settings.throttle.per_ip = 5).await;
    let spa = app.create_spa(false).await;
    app.create_user(EMAIL).await;
    let spray = browser_from("127.0.0.4");
    let form = LoginForm::open(&app, &spray, &spa, "/u/login").await;
    // Successes do not count against the address.
    for _ in 0..3 {
        assert_eq!(
            login(&app, &browser_from("127.0.0.4"), &spa, PASSWORD).await,
            StatusCode::SEE_OTHER
        );
    }
    for n in 0..5 {
        let email = format!("user{n}@example.com");
        let refused = form.post(&app, &spray, "/u/login", &email, WRONG).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    }
    let throttled = form.post(&app, &spray, "/u/login", EMAIL, PASSWORD).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        login(&app, &browser_from("127.0.0.5"), &spa, PASSWORD).await,
        StatusCode::SEE_OTHER,
        "another address is not throttled"
    );
}

/// `GET`/`DELETE` `/api/v2/user-blocks?identifier=` and `/api/v2/user-blocks/{id}`.
#[tokio::test]
async fn user_blocks_are_listed_and_cleared_through_the_management_api() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let spa = app.create_spa(false).await;
    let user_id = app.create_user(EMAIL).await;
    let attacker = browser_from("127.0.0.2");
    let by_identifier = "/user-blocks?identifier=Target%40Example.com";
    let by_id = format!("/user-blocks/{}", user_id.replace('|', "%7C"));

    let (status, body) = mgmt.get(by_identifier).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "blocked_for": [] }));

    block_pair(app, &attacker, &spa).await;
    let expected = json!({ "blocked_for": [{
        "identifier": "Target@Example.com", "ip": "127.0.0.2",
        "connection": "Username-Password-Authentication",
    }] });
    assert_eq!(mgmt.get(by_identifier).await, (StatusCode::OK, expected));
    let (status, body) = mgmt.get(&by_id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["blocked_for"][0]["ip"], "127.0.0.2");
    assert_eq!(body["blocked_for"][0]["identifier"], EMAIL);

    // Reading needs read:users, unblocking update:users.
    let reader = mgmt.token_with_scopes(&["read:users"]).await;
    let (status, _) = mgmt
        .call_with(Some(&reader), Method::DELETE, &by_id, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = mgmt
        .call_with(Some(&reader), Method::GET, &by_id, None)
        .await;
    assert_eq!(status, StatusCode::OK);

    assert_eq!(mgmt.delete(by_identifier).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        mgmt.get(&by_id).await,
        (StatusCode::OK, json!({ "blocked_for": [] }))
    );
    assert_eq!(
        login(app, &attacker, &spa, PASSWORD).await,
        StatusCode::SEE_OTHER
    );

    block_pair(app, &attacker, &spa).await;
    assert_eq!(mgmt.delete(&by_id).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        mgmt.get(by_identifier).await,
        (StatusCode::OK, json!({ "blocked_for": [] }))
    );

    // Malformed requests.
    let (status, body) = mgmt.get("/user-blocks").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorCode"], "invalid_query_string");
    assert_eq!(
        mgmt.delete("/user-blocks?identifier=").await.0,
        StatusCode::BAD_REQUEST
    );
    let (status, body) = mgmt.get("/user-blocks/auth0%7Cnobody").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["errorCode"], "inexistent_user");
    assert_eq!(
        mgmt.delete("/user-blocks/auth0%7Cnobody").await.0,
        StatusCode::NOT_FOUND
    );

    // Each unblocking is in the audit log, without the failed passwords.
    let (events, _) = app
        .store
        .list_logs(&LogFilter::default(), Page::ALL)
        .await
        .unwrap();
    let removals: Vec<&Value> = events
        .iter()
        .map(|event| &event.details)
        .filter(|details| details["action"] == "remove_login_blocks")
        .collect();
    assert_eq!(removals.len(), 2);
    assert!(removals
        .iter()
        .all(|details| details["target"]["id"] == user_id.as_str()));
    assert!(!serde_json::to_string(&events).unwrap().contains(WRONG));
}

#[tokio::test]
async fn the_dashboard_shows_and_clears_a_users_login_blocks() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    let user_id = app.create_user(EMAIL).await;
    let admin = app.dashboard_admin().await;
    let details = user_path(&user_id, "details");
    let (_, html) = admin.get(&app, &details).await;
    assert!(!html.contains("unblock-logins"), "nothing to unblock yet");

    let attacker = browser_from("127.0.0.2");
    block_pair(&app, &attacker, &spa).await;
    let (status, html) = admin.get(&app, &details).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Blocked for 1 address"), "{html}");
    assert!(html.contains("127.0.0.2"));

    let back = admin
        .post_ok(&app, &details, &user_path(&user_id, "login-blocks"), &[])
        .await;
    assert_eq!(back, details);
    let (_, html) = admin.get(&app, &details).await;
    assert!(!html.contains("unblock-logins"));
    assert_eq!(
        login(&app, &attacker, &spa, PASSWORD).await,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn sign_ups_are_throttled_per_address() {
    // The per-second edge limit is off: this is the per-window count behind it.
    let app = spawn_app_with(|settings| settings.rate_limits.signup = 0).await;
    let spa = app.create_spa(false).await;
    let browser = browser_from("127.0.0.6");
    let form = LoginForm::open(&app, &browser, &spa, "/u/signup").await;
    // Every attempt counts, refused ones too (Auth0's default: 50 per address).
    for n in 0..50 {
        let email = format!("new{n}@example.com");
        let refused = form
            .post(&app, &browser, "/u/signup", &email, "short")
            .await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    }
    let throttled = form
        .post(&app, &browser, "/u/signup", "late@example.com", PASSWORD)
        .await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(app
        .store
        .user_by_email("late@example.com")
        .await
        .unwrap()
        .is_none());

    let elsewhere = browser_from("127.0.0.7");
    let form = LoginForm::open(&app, &elsewhere, &spa, "/u/signup").await;
    let created = form
        .post(&app, &elsewhere, "/u/signup", "late@example.com", PASSWORD)
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
}

/// The status of each of `count` concurrent wrong-password logins (distinct unknown accounts,
/// so no pair is blocked) and whether it said when to retry, and the client_credentials
/// answers collected meanwhile.
async fn flood(
    app: &TestApp,
    spa: &Spa,
    count: usize,
    m2m: &(String, String),
) -> (Vec<(StatusCode, bool)>, Vec<StatusCode>) {
    let browser = browser();
    let form = LoginForm::open(app, &browser, spa, "/u/login").await;
    let logins = join_all((0..count).map(|n| {
        let (form, browser) = (&form, &browser);
        async move {
            let email = format!("flood{n}@example.com");
            let answer = form.post(app, browser, "/u/login", &email, WRONG).await;
            (
                answer.status(),
                answer.headers().contains_key("retry-after"),
            )
        }
    }));
    let tokens = async {
        let mut statuses = Vec::new();
        for _ in 0..10 {
            let response = app
                .browser
                .post(app.url("/oauth/token"))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", &m2m.0),
                    ("client_secret", &m2m.1),
                    ("audience", API),
                ])
                .send()
                .await
                .expect("token");
            statuses.push(response.status());
        }
        statuses
    };
    futures::join!(logins, tokens)
}

#[tokio::test]
async fn a_login_flood_is_answered_429_at_once_while_tokens_keep_flowing() {
    let app = spawn_app_with(|settings| {
        settings.hashing = HashingLimits {
            concurrent: 2,
            queued: 2,
        };
    })
    .await;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    let m2m = app.create_m2m(&["read:messages"]).await;
    let (logins, tokens) = flood(&app, &spa, 60, &m2m).await;

    assert!(
        tokens.iter().all(|status| *status == StatusCode::OK),
        "tokens during the flood: {tokens:?}"
    );
    let busy: Vec<&(StatusCode, bool)> = logins
        .iter()
        .filter(|(status, _)| *status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    let checked = logins
        .iter()
        .filter(|(status, _)| *status == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(busy.len() + checked, 60, "{logins:?}");
    assert!(
        checked >= 4,
        "the slots and the queue were used: {logins:?}"
    );
    assert!(
        busy.len() >= 30,
        "most of the flood was refused: {logins:?}"
    );
    assert!(busy.iter().all(|(_, retry_after)| *retry_after));

    // Once the flood is over, logins are checked again.
    let (after, _) = flood(&app, &spa, 1, &m2m).await;
    assert_eq!(after[0].0, StatusCode::UNAUTHORIZED);
}

/// With every hashing slot taken, each surface that hashes answers 429 with `Retry-After` at
/// once, in its own shape, and computes nothing.
#[tokio::test]
async fn a_full_hashing_queue_is_answered_429_everywhere() {
    let Mgmt { app, token, .. } = spawn_mgmt_with(|settings| {
        settings.hashing = HashingLimits {
            concurrent: 1,
            queued: 0,
        };
    })
    .await;
    let spa = app.create_spa(false).await;
    app.create_user(EMAIL).await;
    let browser = browser();
    let form = LoginForm::open(&app, &browser, &spa, "/u/login").await;
    administrators::create(&app.cx, &Actor::System, "ops@example.com", &PASSWORD.into())
        .await
        .expect("admin");
    let held = app.cx.passwords.reserve().expect("the only slot");

    // Answered while the slot is still held: nothing waits for it.
    let login = tokio::time::timeout(
        Duration::from_secs(10),
        form.post(&app, &browser, "/u/login", EMAIL, PASSWORD),
    )
    .await
    .expect("answered at once");
    assert_eq!(login.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(login.headers()["retry-after"], "1");
    assert!(login.text().await.unwrap().contains("The server is busy"));

    let signup = form
        .post(&app, &browser, "/u/signup", "new@example.com", PASSWORD)
        .await;
    assert_eq!(signup.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(signup.headers()["retry-after"], "1");

    let created = app
        .browser
        .post(app.url("/api/v2/users"))
        .bearer_auth(&token)
        .json(&json!({
            "connection": "Username-Password-Authentication",
            "email": "api@example.com", "password": PASSWORD,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(created.headers()["retry-after"], "1");
    let body: Value = created.json().await.unwrap();
    assert_eq!(body["statusCode"], 429);
    assert_eq!(body["errorCode"], "too_many_requests");

    let dashboard = app
        .sign_in(&browser, "ops@example.com", PASSWORD, "/dashboard")
        .await;
    assert_eq!(dashboard.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(dashboard.headers()["retry-after"], "1");

    // Nothing was counted against the account: once the slot is free, the login works.
    drop(held);
    let login = form.post(&app, &browser, "/u/login", EMAIL, PASSWORD).await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    assert!(app
        .store
        .user_by_email("api@example.com")
        .await
        .unwrap()
        .is_none());
}
