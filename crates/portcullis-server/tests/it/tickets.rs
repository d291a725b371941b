//! Tickets: the verification email of a sign-up and its single-use link, "Forgot password?"
//! and its reset link (the password policy, sessions and refresh tokens ended), the
//! Management API's tickets and verification-email job. The links are read from the mail a
//! real SMTP server receives.

use std::time::Duration;

use portcullis_store::{EmailFilter, Page};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    connection::DB,
    email::{
        free_port, parse,
        sink::{Received, Sink},
        spawn_with_smtp,
    },
    helpers::*,
    management_support::*,
};

const VERIFY_PATH: &str = "u/email-verification?ticket=";
pub(crate) const RESET_PATH: &str = "u/reset-password?ticket=";
pub(crate) const NEW_PASSWORD: &str = "a brand new passphrase";

/// The link to `path` (under the issuer) in a received message's text part.
pub(crate) fn link_in(app: &TestApp, received: &Received, path: &str) -> String {
    let message = parse(received);
    let text = message.body_text(0).expect("a text part").into_owned();
    let prefix = format!("{}{path}", app.issuer);
    let start = text
        .find(&prefix)
        .unwrap_or_else(|| panic!("no link to {path} in {text}"));
    let end = text[start..]
        .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
        .map_or(text.len(), |end| start + end);
    text[start..end].to_owned()
}

/// An authorization request of the SPA's code flow, with PKCE.
pub(crate) fn authorize(app: &TestApp, spa: &Spa) -> String {
    let (_, challenge) = pkce();
    app.authorize_url(
        spa,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
}

async fn signup(app: &TestApp, spa: &Spa, email: &str) {
    let response = app
        .browser
        .post(app.url("/dbconnections/signup"))
        .json(&json!({"client_id": spa.client_id, "connection": DB, "email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("signup");
    assert_eq!(response.status(), StatusCode::OK);
}

async fn id_token_claims(app: &TestApp, spa: &Spa, email: &str) -> Value {
    let (params, verifier) = app.login_for_code(&browser(), spa, email, &[]).await;
    let tokens: Value = app
        .exchange_code(spa, &params["code"], &verifier)
        .await
        .json()
        .await
        .expect("tokens");
    app.verify(
        tokens["id_token"].as_str().expect("id_token"),
        &spa.client_id,
    )
    .await
}

#[tokio::test]
async fn a_signup_gets_a_verification_link_that_verifies_the_email_once() {
    let sink = Sink::start();
    let app = spawn_with_smtp(sink.port).await;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    signup(&app, &spa, "fresh@example.com").await;
    assert_eq!(
        id_token_claims(&app, &spa, "fresh@example.com").await["email_verified"],
        false
    );

    let received = sink.wait_for(1).await;
    assert_eq!(received[0].to, ["fresh@example.com"]);
    let link = link_in(&app, &received[0], VERIFY_PATH);
    let response = app.browser.get(&link).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("Email verified"));
    let user = app
        .store
        .user_by_email("fresh@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(user.email_verified);
    // The next login's ID token says so.
    assert_eq!(
        id_token_claims(&app, &spa, "fresh@example.com").await["email_verified"],
        true
    );

    // Used once: the link is refused after.
    let again = app.browser.get(&link).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(again.text().await.unwrap().contains("invalid_ticket"));
    // A made-up ticket too.
    let forged = app
        .browser
        .get(app.url("/u/email-verification?ticket=forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_hosted_signup_sends_the_verification_email_unless_turned_off() {
    for verify in [true, false] {
        let app = spawn_app_with(|settings| settings.verify_email_on_signup = verify).await;
        app.create_api(false).await;
        let spa = app.create_spa(false).await;
        let browser = browser();
        let authorize = authorize(&app, &spa);
        let login = browser.get(&authorize).send().await.unwrap();
        let query = location(&login);
        let query = query.trim_start_matches("/u/login?");
        let page = browser
            .get(app.url(&format!("/u/signup?{query}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let submitted = post_hosted_form(
            &app,
            &browser,
            &page,
            "/u/signup",
            &[("email", "hosted@example.com"), ("password", PASSWORD)],
        )
        .await;
        assert_eq!(submitted.status(), StatusCode::SEE_OTHER);
        let (emails, _) = app
            .store
            .list_emails(&EmailFilter::default(), Page::ALL)
            .await
            .unwrap();
        let links: Vec<_> = emails
            .iter()
            .filter_map(|email| email.link.as_deref())
            .filter(|link| link.contains(VERIFY_PATH))
            .collect();
        assert_eq!(
            links.len(),
            usize::from(verify),
            "verify_email_on_signup = {verify}"
        );
    }
}

#[tokio::test]
async fn management_api_tickets_redirect_to_their_result_url_and_expire() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let user_id = app.create_user("ticketed@example.com").await;
    let (status, _) = mgmt
        .patch(
            &format!("/users/{user_id}"),
            json!({"email_verified": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = mgmt
        .post(
            "/tickets/email-verification",
            json!({"user_id": user_id, "result_url": "https://app.example.com/done", "ttl_sec": 60, "includeEmailInRedirect": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ticket = body["ticket"].as_str().unwrap().to_owned();
    assert!(
        ticket.starts_with(&format!("{}{VERIFY_PATH}", app.issuer)),
        "{ticket}"
    );
    assert_eq!(body.as_object().unwrap().len(), 1);
    let response = app.browser.get(&ticket).send().await.unwrap();
    assert!(response.status().is_redirection());
    let to = url::Url::parse(&location(&response)).unwrap();
    assert_eq!(to.path(), "/done");
    let query: std::collections::HashMap<_, _> = to.query_pairs().into_owned().collect();
    assert_eq!(query["success"], "true");
    assert_eq!(query["email"], "ticketed@example.com");
    assert!(query["message"].contains("verified"));
    assert!(
        app.store
            .user_by_id(&user_id)
            .await
            .unwrap()
            .unwrap()
            .email_verified
    );

    // Expired after its ttl_sec.
    let (_, body) = mgmt
        .post(
            "/tickets/email-verification",
            json!({"user_id": user_id, "ttl_sec": 60}),
        )
        .await;
    app.clock.advance(61);
    let expired = app
        .browser
        .get(body["ticket"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), StatusCode::BAD_REQUEST);

    // Auth0's refusals.
    let unknown = mgmt
        .post(
            "/tickets/email-verification",
            json!({"user_id": "auth0|nobody"}),
        )
        .await;
    assert_eq!(unknown.0, StatusCode::NOT_FOUND, "{}", unknown.1);
    let extra = mgmt
        .post(
            "/tickets/email-verification",
            json!({"user_id": user_id, "colour": "red"}),
        )
        .await;
    assert_error(&extra, StatusCode::BAD_REQUEST, "invalid_body");
    let neither = mgmt
        .post(
            "/tickets/password-change",
            json!({"result_url": "https://app.example.com"}),
        )
        .await;
    assert_error(&neither, StatusCode::BAD_REQUEST, "invalid_body");
    let (_, connections) = mgmt.get("/connections").await;
    let connection_id = connections[0]["id"].as_str().unwrap();
    let (status, body) = mgmt
        .post(
            "/tickets/password-change",
            json!({"email": "ticketed@example.com", "connection_id": connection_id, "result_url": "https://app.example.com/reset"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ticket = body["ticket"].as_str().unwrap();
    assert!(ticket.starts_with(&format!("{}{RESET_PATH}", app.issuer)));
    let form = browser().get(ticket).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);

    // The scopes: create:user_tickets for tickets, update:users for the job.
    let read_only = mgmt.token_with_scopes(&["read:users"]).await;
    let refused = mgmt
        .call_with(
            Some(&read_only),
            reqwest::Method::POST,
            "/tickets/password-change",
            Some(&json!({"user_id": user_id})),
        )
        .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "insufficient_scope");
    let tickets_only = mgmt.token_with_scopes(&["create:user_tickets"]).await;
    let refused = mgmt
        .call_with(
            Some(&tickets_only),
            reqwest::Method::POST,
            "/jobs/verification-email",
            Some(&json!({"user_id": user_id})),
        )
        .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "insufficient_scope");
}

#[tokio::test]
async fn the_verification_email_job_sends_the_email() {
    let sink = Sink::start();
    let mgmt = spawn_mgmt_with(|settings| {
        settings.email = crate::email::email_settings(
            &format!("smtp://127.0.0.1:{}?tls=none", sink.port),
            &settings.issuer,
        );
    })
    .await;
    let user_id = mgmt.app.create_user("job@example.com").await;
    let (status, job) = mgmt
        .post("/jobs/verification-email", json!({"user_id": user_id}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    assert_eq!(job["type"], "verification_email");
    assert_eq!(job["status"], "completed");
    assert!(job["id"].as_str().unwrap().starts_with("job_"));
    assert!(job["created_at"].as_str().unwrap().ends_with('Z'));
    let received = sink.wait_for(1).await;
    assert_eq!(received[0].to, ["job@example.com"]);
    link_in(&mgmt.app, &received[0], VERIFY_PATH);
}

/// Goes from the login page of `spa` to "Forgot password?" and submits `email`; returns the
/// answer's status and page.
async fn forgot(app: &TestApp, spa: &Spa, email: &str) -> (StatusCode, String) {
    let browser = browser();
    let login = browser.get(authorize(app, spa)).send().await.unwrap();
    let login_path = location(&login);
    assert!(login_path.starts_with("/u/login?"), "{login_path}");
    let login_page = browser
        .get(app.url(&login_path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "id=\"forgot-link\" href=\"";
    let start = login_page.find(marker).expect("a Forgot password? link") + marker.len();
    let end = login_page[start..].find('"').unwrap() + start;
    let href = login_page[start..end].replace("&amp;", "&");
    let page = browser.get(app.url(&href)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    let answer = post_hosted_form(
        app,
        &browser,
        &page,
        "/u/forgot-password",
        &[("email", email)],
    )
    .await;
    (answer.status(), answer.text().await.unwrap())
}

/// Opens a reset link and submits `password`; returns the answer.
pub(crate) async fn reset(
    app: &TestApp,
    browser: &reqwest::Client,
    link: &str,
    password: &str,
) -> reqwest::Response {
    let page = browser.get(link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    browser
        .post(app.url("/u/reset-password"))
        .form(&[
            ("password", password),
            ("ticket", &hidden_field(&page, "ticket")),
            ("csrf", &hidden_field(&page, "csrf")),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn forgot_password_resets_it_ends_sessions_and_the_link_works_once() {
    let sink = Sink::start();
    let app = spawn_with_smtp(sink.port).await;
    app.create_api(true).await;
    let spa = app.create_spa(false).await;
    app.create_user("forgetful@example.com").await;
    // A refresh token from before the reset.
    let (params, verifier) = app
        .login_for_code(
            &browser(),
            &spa,
            "forgetful@example.com",
            &[
                ("scope", "openid offline_access read:messages"),
                ("audience", API),
            ],
        )
        .await;
    let tokens: Value = app
        .exchange_code(&spa, &params["code"], &verifier)
        .await
        .json()
        .await
        .unwrap();
    let refresh_token = tokens["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned();

    // An unknown address gets the same answer and no email.
    let unknown = forgot(&app, &spa, "nobody@example.com").await;
    let known = forgot(&app, &spa, "forgetful@example.com").await;
    assert_eq!(unknown.0, StatusCode::OK);
    // The same page but for its fresh CSP nonce.
    let content = |page: &str| page.split("<main>").nth(1).map(str::to_owned);
    assert_eq!(content(&unknown.1), content(&known.1));
    assert_eq!(unknown.0, known.0);
    assert!(known.1.contains("Check your email"));
    let received = sink.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 1, "nothing for the unknown address");
    assert_eq!(received[0].to, ["forgetful@example.com"]);
    let link = link_in(&app, &received[0], RESET_PATH);

    // Opening the page does not use the ticket (mail scanners open links).
    let browser = browser();
    let page = browser.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("password-rules"));
    // The policy applies; a refused password leaves the ticket usable.
    let weak = reset(&app, &browser, &link, "abc").await;
    assert_eq!(weak.status(), StatusCode::BAD_REQUEST);
    let done = reset(&app, &browser, &link, NEW_PASSWORD).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done.text().await.unwrap().contains("Password changed"));

    // The new password logs in, the old one fails.
    let old = app
        .login_via_form(
            &crate::helpers::browser(),
            &authorize(&app, &spa),
            "forgetful@example.com",
            PASSWORD,
        )
        .await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = app
        .login_via_form(
            &crate::helpers::browser(),
            &authorize(&app, &spa),
            "forgetful@example.com",
            NEW_PASSWORD,
        )
        .await;
    assert_eq!(new.status(), StatusCode::FOUND);
    // The refresh token of before is revoked.
    let refreshed = app
        .browser
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", &spa.client_id),
            ("refresh_token", &refresh_token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), StatusCode::BAD_REQUEST);
    // Used once.
    let page = browser.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    let user = app
        .store
        .user_by_email("forgetful@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(user.email_verified);
}

#[tokio::test]
async fn a_reset_email_asked_during_an_smtp_outage_arrives_once_the_server_is_back() {
    let port = free_port();
    let app = spawn_with_smtp(port).await;
    let spa = app.create_spa(false).await;
    app.create_user("patient@example.com").await;
    let answer = app
        .browser
        .post(app.url("/dbconnections/change_password"))
        .json(
            &json!({"client_id": spa.client_id, "connection": DB, "email": "patient@example.com"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    // Nothing listens: the first attempt fails, the message waits.
    let mut attempted = false;
    for _ in 0..200 {
        let (emails, _) = app
            .store
            .list_emails(&EmailFilter::default(), Page::ALL)
            .await
            .unwrap();
        if emails
            .iter()
            .any(|email| email.attempts >= 1 && email.lease_until.is_none())
        {
            attempted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(attempted, "the first attempt failed");
    let sink = Sink::on_port(port);
    app.clock.advance(2);
    let received = sink.wait_for(1).await;
    let link = link_in(&app, &received[0], RESET_PATH);
    let done = reset(&app, &browser(), &link, NEW_PASSWORD).await;
    assert_eq!(done.status(), StatusCode::OK);
}

/// What `/userinfo` answers for `access_token`.
async fn userinfo(app: &TestApp, access_token: &str) -> Value {
    let response = app
        .browser
        .get(app.url("/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn after_the_verification_link_userinfo_and_a_refreshed_id_token_say_verified() {
    let sink = Sink::start();
    let app = spawn_with_smtp(sink.port).await;
    app.create_api(true).await;
    let spa = app.create_spa(false).await;
    signup(&app, &spa, "later@example.com").await;
    let (params, verifier) = app
        .login_for_code(
            &browser(),
            &spa,
            "later@example.com",
            &[
                ("scope", "openid profile email offline_access read:messages"),
                ("audience", API),
            ],
        )
        .await;
    let tokens: Value = app
        .exchange_code(&spa, &params["code"], &verifier)
        .await
        .json()
        .await
        .unwrap();
    let access_token = tokens["access_token"].as_str().expect("access_token");
    let refresh_token = tokens["refresh_token"].as_str().expect("refresh_token");
    assert_eq!(userinfo(&app, access_token).await["email_verified"], false);

    let received = sink.wait_for(1).await;
    let link = link_in(&app, &received[0], VERIFY_PATH);
    assert_eq!(
        app.browser.get(&link).send().await.unwrap().status(),
        StatusCode::OK
    );

    // /userinfo reads the user as they are now, even with the token of before.
    assert_eq!(userinfo(&app, access_token).await["email_verified"], true);
    // A refresh's ID token says so, and so does /userinfo with its access token.
    let refreshed = crate::refresh::refresh(&app, &spa.client_id, refresh_token).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: Value = refreshed.json().await.unwrap();
    let id_token = app
        .verify(
            refreshed["id_token"].as_str().expect("id_token"),
            &spa.client_id,
        )
        .await;
    assert_eq!(id_token["email"], "later@example.com");
    assert_eq!(id_token["email_verified"], true);
    let access_token = refreshed["access_token"].as_str().expect("access_token");
    assert_eq!(userinfo(&app, access_token).await["email_verified"], true);
}

#[tokio::test]
async fn a_password_change_ticket_expires_after_its_ttl_and_redirects_to_its_result_url() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let user_id = app.create_user("changing@example.com").await;

    // Live until its ttl_sec, refused after.
    let (status, body) = mgmt
        .post(
            "/tickets/password-change",
            json!({"user_id": user_id, "ttl_sec": 60}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let expiring = body["ticket"].as_str().unwrap().to_owned();
    app.clock.advance(59);
    assert_eq!(
        browser().get(&expiring).send().await.unwrap().status(),
        StatusCode::OK
    );
    app.clock.advance(2);
    let expired = browser().get(&expiring).send().await.unwrap();
    assert_eq!(expired.status(), StatusCode::BAD_REQUEST);
    assert!(expired.text().await.unwrap().contains("invalid_ticket"));
    let form = browser()
        .post(app.url("/u/reset-password"))
        .form(&[
            ("password", NEW_PASSWORD),
            ("ticket", &expiring),
            ("csrf", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert!(form.status().is_client_error(), "{}", form.status());

    // A reset through a ticket with result_url ends at it, with Auth0's query.
    let (status, body) = mgmt
        .post(
            "/tickets/password-change",
            json!({"user_id": user_id, "result_url": "https://app.example.com/after-reset", "includeEmailInRedirect": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ticket = body["ticket"].as_str().unwrap();
    let done = reset(app, &browser(), ticket, NEW_PASSWORD).await;
    assert!(done.status().is_redirection(), "{}", done.status());
    let to = url::Url::parse(&location(&done)).unwrap();
    assert_eq!(
        (to.host_str(), to.path()),
        (Some("app.example.com"), "/after-reset")
    );
    let query: std::collections::HashMap<_, _> = to.query_pairs().into_owned().collect();
    assert_eq!(query["success"], "true");
    assert_eq!(query["email"], "changing@example.com");
    assert!(query["message"].contains("new password"), "{query:?}");
    // The new password is the one now.
    let spa = app.create_spa(false).await;
    let login = app
        .login_via_form(
            &browser(),
            &authorize(app, &spa),
            "changing@example.com",
            NEW_PASSWORD,
        )
        .await;
    assert_eq!(login.status(), StatusCode::FOUND);
}
