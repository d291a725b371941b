/// What a storage operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist.
    #[error("not found")]
    NotFound,
    /// A unique constraint would be violated (for example an API identifier already in use).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The store cannot be reached or cannot take the write right now (no connection within
    /// the pool's acquire timeout, a broken connection, the database shutting down, a full
    /// disk). It says nothing about the request: the same request may succeed later, so it is
    /// answered 503 with `Retry-After`. The message is for the log, never for a client.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The backend failed; the message is for the log, never for a client.
    #[error("storage backend: {0}")]
    Backend(String),
}

impl StoreError {
    /// Whether this is an outage of the store rather than a fault of the request or the data.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// Result of a storage operation.
pub type StoreResult<T> = Result<T, StoreError>;
