//! The batched audit-log writer for the server's high-volume events (machine token
//! exchanges). Entries themselves are described with `portcullis_core::audit`.

use portcullis_store::{LogEvent, Store};

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

    /// Queues a stamped event; waits while the queue is full (backpressure), never drops.
    pub async fn queue(&self, event: LogEvent) {
        if self.queue.send(Deferred::Event(event)).await.is_err() {
            tracing::error!("the audit log writer has stopped");
        }
    }

    /// Waits until every event queued so far has been written (or failed to be, logged).
    pub async fn flush(&self) {
        let (done, written) = tokio::sync::oneshot::channel();
        if self.queue.send(Deferred::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}
