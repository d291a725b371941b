//! The audit log (Auth0's "Logs"): who did what, when, from where. Entries carry ids, names,
//! the peer address and the user agent, never a secret, code or token. Writing an entry never
//! fails the request that caused it: a store failure is logged and the request goes on.

use std::{
    net::IpAddr,
    sync::atomic::{AtomicU64, Ordering},
};

use axum::http::{header, HeaderMap};
use portcullis_core::{secrets::random_hex, Clock};
use portcullis_store::{Client, LogEvent, Store, User};

use crate::state::AppState;

/// Auth0's log type codes for the events we record.
pub mod codes {
    pub const LOGIN: &str = "s";
    pub const FAILED_LOGIN: &str = "f";
    pub const FAILED_LOGIN_BLOCKED: &str = "fu";
    pub const LOGIN_THROTTLED: &str = "limit_wc";
    pub const SIGNUP: &str = "ss";
    pub const FAILED_SIGNUP: &str = "fs";
    pub const LOGOUT: &str = "slo";
    pub const CODE_EXCHANGE: &str = "seacft";
    pub const FAILED_CODE_EXCHANGE: &str = "feacft";
    pub const CLIENT_CREDENTIALS: &str = "seccft";
    pub const FAILED_CLIENT_CREDENTIALS: &str = "feccft";
    pub const REFRESH: &str = "sertft";
    pub const FAILED_REFRESH: &str = "fertft";
    pub const REFRESH_REUSE: &str = "ferrt";
    pub const MANAGEMENT_OPERATION: &str = "sapi";
    pub const FAILED_MANAGEMENT_OPERATION: &str = "fapi";
}

/// Orders entries written by this process within one second.
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// An entry being described; [`AppState::audit`] writes it.
pub struct Entry(LogEvent);

/// Starts an entry of `event_type` (one of [`codes`]).
pub fn entry(event_type: &str, description: impl Into<String>) -> Entry {
    Entry(LogEvent {
        log_id: String::new(),
        date: 0,
        event_type: event_type.to_owned(),
        description: description.into(),
        ip: None,
        user_agent: None,
        client_id: None,
        client_name: None,
        user_id: None,
        user_name: None,
        details: serde_json::Value::Object(Default::default()),
    })
}

impl Entry {
    pub fn client(mut self, client: &Client) -> Self {
        self.0.client_id = Some(client.client_id.clone());
        self.0.client_name = Some(client.name.clone());
        self
    }

    pub fn client_id(mut self, client_id: &str) -> Self {
        self.0.client_id = Some(client_id.to_owned());
        self
    }

    pub fn user(mut self, user: &User) -> Self {
        self.0.user_id = Some(user.user_id.clone());
        self.0.user_name = Some(user.email.clone());
        self
    }

    pub fn user_id(mut self, user_id: &str) -> Self {
        self.0.user_id = Some(user_id.to_owned());
        self
    }

    /// The peer address and the `User-Agent` of the request.
    pub fn request(mut self, ip: Option<IpAddr>, headers: &HeaderMap) -> Self {
        self.0.ip = ip.map(|ip| ip.to_string());
        self.0.user_agent = headers
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(|agent| agent.chars().take(256).collect());
        self
    }

    /// Structured context; must not hold secrets.
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.0.details = details;
        self
    }
}

impl Entry {
    /// Appends the entry to the audit log of `store`, stamped with `clock` (the CLI's way;
    /// handlers use [`AppState::audit`]).
    pub async fn write(self, store: &dyn Store, clock: &dyn Clock) {
        let event = self.stamp(clock);
        if let Err(error) = store.append_log(&event).await {
            tracing::error!(%error, event_type = %event.event_type, "could not write the audit log");
        }
    }
}

impl Entry {
    /// The event, stamped with `clock` and given its sortable id.
    fn stamp(self, clock: &dyn Clock) -> LogEvent {
        let mut event = self.0;
        let now = clock.now();
        let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed) % 1_000_000;
        // Sortable by time; the random tail keeps replicas from colliding.
        event.log_id = format!("{now:012}{sequence:06}{}", random_hex(4));
        event.date = now * 1000;
        event
    }
}

/// Events waiting for the batched writer; beyond this, handlers wait (backpressure), never drop.
const QUEUE: usize = 4096;
/// Events written in one statement at most.
const BATCH: usize = 256;
/// How long the writer waits for more events after the first of a batch. Each write is a
/// transaction on the store; under load, one per few milliseconds instead of one per token.
const LINGER: std::time::Duration = std::time::Duration::from_millis(20);

#[expect(
    clippy::large_enum_variant,
    reason = "events are nearly every message; boxing would allocate once per token"
)]
enum Deferred {
    Event(LogEvent),
    /// Answered once every event queued before it is in the store.
    Flush(tokio::sync::oneshot::Sender<()>),
}

impl Deferred {
    fn is_flush(&self) -> bool {
        matches!(self, Deferred::Flush(_))
    }
}

/// Writes the events of one batch in one statement, then answers its flushes.
async fn write_batch(store: &dyn Store, batch: impl Iterator<Item = Deferred>) {
    let mut events = Vec::new();
    let mut flushes = Vec::new();
    for message in batch {
        match message {
            Deferred::Event(event) => events.push(event),
            Deferred::Flush(done) => flushes.push(done),
        }
    }
    if !events.is_empty() {
        if let Err(error) = store.append_logs(&events).await {
            tracing::error!(%error, events = events.len(), "could not write the audit log");
        }
    }
    for done in flushes {
        let _ = done.send(());
    }
}

/// Writes high-volume events (machine token exchanges) in batches off the request path: with
/// SQLite every write takes the database's one write lock, and one insert per token would
/// serialise the token endpoint behind it. Entries reach the store within [`LINGER`] plus one
/// write, and all of them before the server exits ([`DeferredLog::flush`]).
pub struct DeferredLog {
    queue: tokio::sync::mpsc::Sender<Deferred>,
}

impl DeferredLog {
    /// Starts the writer task on the current runtime; it ends when the server's state is gone.
    pub fn spawn(store: std::sync::Arc<dyn Store>) -> Self {
        let (queue, mut pending) = tokio::sync::mpsc::channel::<Deferred>(QUEUE);
        tokio::spawn(async move {
            let mut received = Vec::with_capacity(BATCH);
            while pending.recv_many(&mut received, BATCH).await > 0 {
                if received.len() < BATCH && !received.iter().any(Deferred::is_flush) {
                    tokio::time::sleep(LINGER).await;
                    while received.len() < BATCH {
                        let Ok(message) = pending.try_recv() else {
                            break;
                        };
                        received.push(message);
                    }
                }
                write_batch(store.as_ref(), received.drain(..)).await;
            }
        });
        DeferredLog { queue }
    }

    /// Waits until every event queued so far has been written (or failed to be, logged).
    pub async fn flush(&self) {
        let (done, written) = tokio::sync::oneshot::channel();
        if self.queue.send(Deferred::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

impl AppState {
    /// Appends `entry` to the audit log, stamped with the server's clock, before returning.
    pub async fn audit(&self, entry: Entry) {
        entry.write(self.store.as_ref(), self.clock.as_ref()).await;
    }

    /// Queues `entry` for the batched writer (see [`DeferredLog`]).
    pub async fn audit_deferred(&self, entry: Entry) {
        let event = entry.stamp(self.clock.as_ref());
        if self
            .deferred_log
            .queue
            .send(Deferred::Event(event))
            .await
            .is_err()
        {
            tracing::error!("the audit log writer has stopped");
        }
    }
}
