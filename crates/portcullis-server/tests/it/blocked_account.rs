//! The blocked-account email: brute-force protection blocking an account from an address (on
//! the login page or through the password grant) sends the user, once per block, an email
//! with a single-use link that lifts that block. The links are read from the mail a real SMTP
//! server receives.

use std::time::Duration;

use portcullis_store::{LogFilter, Page};
use portcullis_types::EventType;
use reqwest::StatusCode;

use crate::{
    brute_force::{block_pair, browser_from, login, LoginForm, EMAIL, WRONG},
    email::{parse, sink::Sink, spawn_with_smtp},
    helpers::*,
    management_support::spawn_mgmt_with,
    password_grant::{allow_grants, token_form},
    tickets::link_in,
};

const UNBLOCK_PATH: &str = "u/unblock?ticket=";

#[tokio::test]
async fn a_blocked_account_is_emailed_a_link_that_lifts_its_block_once() {
    let sink = Sink::start();
    let app = spawn_with_smtp(sink.port).await;
    let spa = app.create_spa(false).await;
    app.create_user(EMAIL).await;
    let attacker = browser_from("127.0.0.2");
    let elsewhere = browser_from("127.0.0.3");

    // Nine failures block nothing and send nothing.
    let form = LoginForm::open(&app, &attacker, &spa, "/u/login").await;
    for _ in 0..9 {
        let refused = form.post(&app, &attacker, "/u/login", EMAIL, WRONG).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(sink.messages().is_empty(), "not blocked yet");
    // The tenth blocks the pair: one email, to the user.
    let refused = form.post(&app, &attacker, "/u/login", EMAIL, WRONG).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let received = sink.wait_for(1).await;
    assert_eq!(received[0].to, [EMAIL]);
    assert_eq!(
        parse(&received[0]).subject(),
        Some("Your account has been blocked")
    );
    let link = link_in(&app, &received[0], UNBLOCK_PATH);
    // Refusals of the blocked pair send nothing more: once per block.
    for _ in 0..3 {
        assert_eq!(
            login(&app, &attacker, &spa, PASSWORD).await,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    // The same account blocked from another address is another block, with its own link.
    block_pair(&app, &elsewhere, &spa).await;
    let received = sink.wait_for(2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 2, "one email per block");
    let other_link = link_in(&app, &received[1], UNBLOCK_PATH);
    assert_ne!(link, other_link);

    // The link lifts its block (opened from any browser), and only that one.
    let opened = browser().get(&link).send().await.unwrap();
    assert_eq!(opened.status(), StatusCode::OK);
    assert!(opened.text().await.unwrap().contains("Account unblocked"));
    assert_eq!(
        login(&app, &attacker, &spa, PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        login(&app, &elsewhere, &spa, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    let filter = LogFilter {
        event_type: Some(EventType::LoginBlockReleased),
        ..LogFilter::default()
    };
    let (released, _) = app.store.list_logs(&filter, Page::ALL).await.unwrap();
    assert_eq!(released.len(), 1);
    assert_eq!(released[0].details["address"], "127.0.0.2");

    // Single use: the link is refused after, and so is a made-up one.
    let again = browser().get(&link).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(again.text().await.unwrap().contains("invalid_ticket"));
    let forged = browser()
        .get(app.url("/u/unblock?ticket=forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    // The second link still lifts the second block.
    let opened = browser().get(&other_link).send().await.unwrap();
    assert_eq!(opened.status(), StatusCode::OK);
    assert_eq!(
        login(&app, &elsewhere, &spa, PASSWORD).await,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_password_grant_blocking_an_account_sends_the_email_and_an_unknown_one_sends_none() {
    let sink = Sink::start();
    let mgmt = spawn_mgmt_with(|settings| {
        settings.email = crate::email::email_settings(
            &format!("smtp://127.0.0.1:{}?tls=none", sink.port),
            &settings.issuer,
        );
    })
    .await;
    let app = &mgmt.app;
    let spa = app.create_spa(false).await;
    app.create_user(EMAIL).await;
    allow_grants(&mgmt, &spa.client_id, &["authorization_code", "password"]).await;
    let grant = |username: &'static str, password: &'static str| {
        let client_id = spa.client_id.clone();
        async move {
            token_form(
                app,
                &[
                    ("grant_type", "password"),
                    ("client_id", &client_id),
                    ("username", username),
                    ("password", password),
                    ("scope", "openid"),
                ],
            )
            .await
            .0
        }
    };
    // No account, no email, however blocked the address is for it.
    for _ in 0..11 {
        grant("nobody@example.com", WRONG).await;
    }
    for _ in 0..10 {
        assert_eq!(grant(EMAIL, WRONG).await, StatusCode::BAD_REQUEST);
    }
    assert_eq!(grant(EMAIL, PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
    let received = sink.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 1, "nothing for the unknown address");
    assert_eq!(received[0].to, [EMAIL]);
    let link = link_in(app, &received[0], UNBLOCK_PATH);
    let opened = browser().get(&link).send().await.unwrap();
    assert_eq!(opened.status(), StatusCode::OK);
    assert_eq!(grant(EMAIL, PASSWORD).await, StatusCode::OK);
}
