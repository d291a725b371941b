//! No log line holds a message's link or its ticket: the sender's lines (sent, retried, given
//! up) name a message by its id only, and neither the outbox nor the dashboard's pages log a
//! message's parts.

use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock},
};

use portcullis_types::{EmailKind, EmailStatus};
use reqwest::StatusCode;

use super::{free_port, spawn_with_smtp, Sink};
use crate::helpers::*;

/// Every line the process logs, from the first call on. The tests share one process, so the
/// capture holds other tests' lines too; each ticket here is unique to this test.
fn captured() -> Arc<Mutex<Vec<u8>>> {
    static LINES: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LINES
        .get_or_init(|| {
            let lines = Arc::new(Mutex::new(Vec::new()));
            let writer = lines.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_env_filter(
                    "info,portcullis_server=debug,portcullis_core=debug,portcullis_admin=debug,tower_http=debug,lettre=debug",
                )
                .with_ansi(false)
                .with_writer(move || Capture(writer.clone()))
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other test installs a logger");
            lines
        })
        .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_log_line_holds_a_link_or_its_ticket() {
    let lines = captured();
    let ticket = "Tk7-never-logged-4f1c";
    let link = format!("https://auth.example.test/u/reset-password?ticket={ticket}");

    // Sent through SMTP.
    let sink = Sink::start();
    let app = spawn_with_smtp(sink.port).await;
    let (user, client) = app.user_and_spa("logs@example.com").await;
    let sent = app
        .written(EmailKind::ResetEmail, &user, Some(&client), Some(&link))
        .await;
    sink.wait_for(1).await;
    app.wait_for_status(&sent.id, EmailStatus::Sent).await;

    // Tried while the SMTP server is down.
    let down = spawn_with_smtp(free_port()).await;
    let (user, _) = down.user_and_spa("logs-down@example.com").await;
    let retried = down
        .written(EmailKind::ResetEmail, &user, None, Some(&link))
        .await;
    for _ in 0..200 {
        if down.email(&retried.id).await.attempts > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // Kept in the outbox and read on the dashboard.
    let outbox = spawn_app().await;
    let (user, _) = outbox.user_and_spa("logs-outbox@example.com").await;
    let kept = outbox
        .written(EmailKind::ResetEmail, &user, None, Some(&link))
        .await;
    let admin = outbox.dashboard_admin().await;
    let (status, page) = admin
        .get(&outbox, &format!("/dashboard/emails/{}", kept.id))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(ticket), "the dashboard shows the link");

    let text = String::from_utf8_lossy(&lines.lock().unwrap()).into_owned();
    assert!(
        text.contains(&sent.id) && text.contains(&retried.id),
        "the sender's lines were captured"
    );
    for line in text.lines() {
        assert!(
            !line.contains(ticket),
            "a log line holds the ticket: {line}"
        );
        // The request log names the reset page's path (other tests in this process open
        // it), never its query, which is where the ticket travels.
        assert!(
            !line.contains("reset-password?") && !line.contains("ticket="),
            "a log line holds the link: {line}"
        );
    }
}
