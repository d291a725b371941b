/// What a storage operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist.
    #[error("not found")]
    NotFound,
    /// A unique constraint would be violated (for example an API identifier already in use).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The backend failed; the message is for the log, never for a client.
    #[error("storage backend: {0}")]
    Backend(String),
}

/// Result of a storage operation.
pub type StoreResult<T> = Result<T, StoreError>;
