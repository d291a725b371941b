//! `PORTCULLIS_SMTP_TIMEOUT_SECONDS`: an SMTP server that takes the connection and never says
//! a word. The attempt gives up after the timeout, the request that wrote the message is not
//! held by it, the message stays queued, and it is delivered once a real server answers.

use std::time::{Duration, Instant};

use portcullis_store::{Email, EmailFilter, Page};
use portcullis_types::EmailStatus;
use reqwest::StatusCode;
use serde_json::json;
use tokio::net::TcpListener;

use super::{email_settings, free_port, sink::Sink};
use crate::{
    connection::DB,
    helpers::*,
    tickets::{link_in, RESET_PATH},
};

const TIMEOUT: Duration = Duration::from_secs(1);

/// The one message of the outbox.
async fn the_email(app: &TestApp) -> Option<Email> {
    let (emails, _) = app
        .store
        .list_emails(&EmailFilter::default(), Page::ALL)
        .await
        .unwrap();
    emails.into_iter().next()
}

#[tokio::test]
async fn a_silent_smtp_server_times_out_and_the_email_waits_for_a_real_one() {
    let port = free_port();
    // Accepts every connection and keeps it open without a greeting.
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((connection, _)) = listener.accept().await {
            held.push(connection);
        }
    });
    let app = spawn_app_with(|settings| {
        settings.email = email_settings(
            &format!("smtp://127.0.0.1:{port}?tls=none"),
            &settings.issuer,
        );
        settings.email.smtp.as_mut().unwrap().timeout = TIMEOUT;
    })
    .await;
    let spa = app.create_spa(false).await;
    app.create_user("waiting@example.com").await;

    // The request that writes the message does not wait for the SMTP server.
    let asked = Instant::now();
    let answer = app
        .browser
        .post(app.url("/dbconnections/change_password"))
        .json(
            &json!({"client_id": spa.client_id, "connection": DB, "email": "waiting@example.com"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(
        asked.elapsed() < TIMEOUT,
        "answered in {:?}",
        asked.elapsed()
    );

    // The attempt gives up after the timeout, not much later, and the message stays queued.
    let mut attempted = None;
    while asked.elapsed() < Duration::from_secs(10) {
        match the_email(&app).await {
            Some(email) if email.attempts >= 1 && email.lease_until.is_none() => {
                attempted = Some((email, asked.elapsed()));
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let (email, after) = attempted.expect("the attempt ended within 10 s");
    assert!(
        after >= TIMEOUT && after < TIMEOUT * 5,
        "the attempt ended after {after:?}"
    );
    assert_eq!(email.status, EmailStatus::Queued);
    assert_eq!(email.attempts, 1);
    assert!(email.last_error.is_some());

    // A real SMTP server on that port: the next attempt delivers it.
    silent.abort();
    let _ = silent.await;
    let sink = Sink::on_port(port);
    app.clock.advance(2);
    let received = sink.wait_for(1).await;
    assert_eq!(received[0].to, ["waiting@example.com"]);
    link_in(&app, &received[0], RESET_PATH);
    let sent = app.wait_for_status(&email.id, EmailStatus::Sent).await;
    assert_eq!(sent.attempts, 2);
}
