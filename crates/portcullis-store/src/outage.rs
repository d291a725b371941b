//! Whether the store was found unreachable while a request was being served.
//!
//! Errors are converted many times on their way to a response (into the administrative
//! service's, the protocol's, the Management API's and the pages' errors, some of them only as
//! text for the log), and each conversion would otherwise have to keep the outage apart. The
//! backends instead note the outage here when they classify an error as
//! [`StoreError::Unavailable`](crate::StoreError::Unavailable), in a flag scoped to the request
//! by the server's outermost layer, which then answers the failed request 503 with
//! `Retry-After` in the shape of its surface. Outside such a scope noting does nothing.

use std::{cell::Cell, future::Future};

tokio::task_local! {
    static NOTICED: Cell<bool>;
}

/// Runs `work` with a fresh flag; returns its output and whether the store was found
/// unreachable meanwhile.
pub async fn watch<F: Future>(work: F) -> (F::Output, bool) {
    NOTICED
        .scope(Cell::new(false), async move {
            let output = work.await;
            (output, noticed())
        })
        .await
}

/// Records that the store was found unreachable by the current request, if it is watched.
pub fn note() {
    let _ = NOTICED.try_with(|flag| flag.set(true));
}

/// Whether the current request has found the store unreachable so far.
pub fn noticed() -> bool {
    NOTICED.try_with(Cell::get).unwrap_or(false)
}
