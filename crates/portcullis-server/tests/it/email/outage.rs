//! An SMTP server that was delivering goes down: a password reset asked meanwhile waits in
//! the outbox and arrives once the server is back, and its link works. The server talks to
//! the sink through a relay the test stops and starts on the same port, so the outage is a
//! real one (connections refused, the pooled connection cut) in the middle of a working day.

use std::time::Duration;

use portcullis_store::{EmailFilter, Page};
use portcullis_types::{EmailKind, EmailStatus};
use reqwest::StatusCode;
use serde_json::json;
use tokio::{
    net::{TcpListener, TcpStream},
    task::{JoinHandle, JoinSet},
};

use super::{free_port, sink::Sink, spawn_with_smtp};
use crate::{
    connection::DB,
    helpers::*,
    tickets::{authorize, link_in, reset, NEW_PASSWORD, RESET_PATH},
};

/// The SMTP port the server is given: while running, every connection is relayed to the sink;
/// stopped, nothing listens there and the relayed connections are closed.
struct Relay {
    port: u16,
    task: JoinHandle<()>,
}

impl Relay {
    async fn start(port: u16, sink: u16) -> Relay {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the relay's port");
        let task = tokio::spawn(async move {
            // Owned by this task: aborting it closes every relayed connection.
            let mut connections = JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", sink)).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Relay { port, task }
    }

    /// Stops listening and cuts the open connections; returns once the port is closed.
    async fn stop(self) -> u16 {
        self.task.abort();
        let _ = self.task.await;
        self.port
    }
}

#[tokio::test]
async fn a_reset_asked_while_the_smtp_server_is_down_arrives_when_it_is_back() {
    let sink = Sink::start();
    let relay = Relay::start(free_port(), sink.port).await;
    let app = spawn_with_smtp(relay.port).await;
    let spa = app.create_spa(false).await;
    app.create_user("outage@example.com").await;
    let change_password = || async {
        app.browser
            .post(app.url("/dbconnections/change_password"))
            .json(&json!({"client_id": spa.client_id, "connection": DB, "email": "outage@example.com"}))
            .send()
            .await
            .unwrap()
            .status()
    };

    // Delivering: the first reset email arrives.
    assert_eq!(change_password().await, StatusCode::OK);
    sink.wait_for(1).await;

    // The SMTP server goes down; a reset is asked for.
    let port = relay.stop().await;
    assert!(
        TcpStream::connect(("127.0.0.1", port)).await.is_err(),
        "nothing listens during the outage"
    );
    assert_eq!(change_password().await, StatusCode::OK);
    let waiting = loop_until(&app, |emails| {
        emails.iter().find(|email| {
            email.status == EmailStatus::Queued
                && email.attempts >= 1
                && email.lease_until.is_none()
        })
    })
    .await;
    assert_eq!(waiting.kind, EmailKind::ResetEmail);
    assert!(
        waiting.last_error.is_some(),
        "the failed attempt is recorded"
    );
    assert_eq!(
        sink.messages().len(),
        1,
        "nothing arrived during the outage"
    );

    // Back on the same port; the next attempt is due after the backoff.
    let _relay = Relay::start(port, sink.port).await;
    app.clock.advance(2);
    let received = sink.wait_for(2).await;
    assert_eq!(received[1].to, ["outage@example.com"]);
    let sent = loop_until(&app, |emails| {
        emails
            .iter()
            .find(|email| email.id == waiting.id && email.status == EmailStatus::Sent)
    })
    .await;
    assert!(sent.attempts >= 2 && sent.last_error.is_none());

    // The link of the email that waited resets the password.
    let link = link_in(&app, &received[1], RESET_PATH);
    let done = reset(&app, &browser(), &link, NEW_PASSWORD).await;
    assert_eq!(done.status(), StatusCode::OK);
    let login = app
        .login_via_form(
            &browser(),
            &authorize(&app, &spa),
            "outage@example.com",
            NEW_PASSWORD,
        )
        .await;
    assert_eq!(login.status(), StatusCode::FOUND);
}

/// Polls the outbox until `found` finds a message in it.
async fn loop_until(
    app: &TestApp,
    found: impl Fn(&[portcullis_store::Email]) -> Option<&portcullis_store::Email>,
) -> portcullis_store::Email {
    for _ in 0..200 {
        let (emails, _) = app
            .store
            .list_emails(&EmailFilter::default(), Page::ALL)
            .await
            .unwrap();
        if let Some(email) = found(&emails) {
            return email.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the outbox never got there");
}
