// Shared by both backends: `crates/portcullis-store-sqlite/src/common.rs` and
// `crates/portcullis-store-postgres/src/common.rs` include this file, and each backend's
// `lib.rs` re-exports its items at the crate root, where the other shared files find them. It
// needs no alias and no hook: nothing here depends on the database.
//
// Error mapping, page bounds and LIKE patterns.

use portcullis_store::StoreError;

/// Maps a backend failure to `StoreError`, turning unique-constraint violations into conflicts.
pub(crate) fn backend(error: impl Into<BackendError>) -> StoreError {
    match error.into() {
        BackendError::Sqlx(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        // Only ever raised by an assignment naming a role, user or API that does not exist.
        BackendError::Sqlx(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
            StoreError::NotFound
        }
        BackendError::Sqlx(other) => StoreError::Backend(other.to_string()),
        BackendError::Migrate(other) => StoreError::Backend(other.to_string()),
        BackendError::Json(other) => StoreError::Backend(format!("stored JSON: {other}")),
    }
}

pub(crate) enum BackendError {
    Sqlx(sqlx::Error),
    Migrate(sqlx::migrate::MigrateError),
    Json(serde_json::Error),
}

impl From<sqlx::Error> for BackendError {
    fn from(e: sqlx::Error) -> Self {
        BackendError::Sqlx(e)
    }
}
impl From<sqlx::migrate::MigrateError> for BackendError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        BackendError::Migrate(e)
    }
}
impl From<serde_json::Error> for BackendError {
    fn from(e: serde_json::Error) -> Self {
        BackendError::Json(e)
    }
}

/// Page bounds as SQL parameters.
pub(crate) fn limits(page: portcullis_store::Page) -> (i64, i64) {
    (i64::from(page.per_page), page.offset())
}

/// A case-insensitive LIKE pattern matching text that contains `needle`; LIKE wildcards in the
/// needle match literally (use with `ESCAPE '\\'` on a lower-cased column).
pub(crate) fn like_pattern(needle: &str) -> String {
    let mut escaped = String::new();
    for c in needle.to_lowercase().chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    format!("%{escaped}%")
}
