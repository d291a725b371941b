// Shared by both backends: `crates/portcullis-store-sqlite/src/common.rs` and
// `crates/portcullis-store-postgres/src/common.rs` include this file, and each backend's
// `lib.rs` re-exports its items at the crate root, where the other shared files find them. It
// needs no alias and no hook: nothing here depends on the database.
//
// Error mapping, page bounds and LIKE patterns.

use portcullis_store::StoreError;

/// Maps a backend failure to `StoreError`, turning unique-constraint violations into conflicts
/// and every sign that the database cannot be reached or written right now into
/// `StoreError::Unavailable` (noted for the request, see `portcullis_store::outage`). This is
/// the one place where an outage is told apart from a fault.
pub(crate) fn backend(error: impl Into<BackendError>) -> StoreError {
    let error = classify(error.into());
    if error.is_unavailable() {
        portcullis_store::outage::note();
    }
    error
}

fn classify(error: BackendError) -> StoreError {
    match error {
        BackendError::Sqlx(error) if unreachable(&error) => StoreError::Unavailable(error.to_string()),
        BackendError::Migrate(sqlx::migrate::MigrateError::Execute(error)) if unreachable(&error) => {
            StoreError::Unavailable(error.to_string())
        }
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

/// Whether `error` says the database is out of reach or cannot take writes, rather than that
/// the statement or the data is wrong: no connection within the pool's acquire timeout, a
/// closed pool, a broken socket, and the database errors that mean the same.
fn unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => {
            let postgres = db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some();
            db.code()
                .is_some_and(|code| unreachable_code(&code, postgres))
        }
        _ => false,
    }
}

/// Database error codes of an outage. SQLite's are numbers (extended result codes, whose low
/// byte is the primary code): BUSY (5) past the busy timeout, NOMEM (7), IOERR (10), FULL (13),
/// CANTOPEN (14). PostgreSQL's are SQLSTATEs: class 08 (connection exception), class 53
/// (insufficient resources: disk full, out of memory, too many connections), 57P01-57P03 (the
/// server shutting down or starting up) and class 58 (system error, such as an I/O error).
fn unreachable_code(code: &str, postgres: bool) -> bool {
    if postgres {
        return code.starts_with("08")
            || code.starts_with("53")
            || code.starts_with("58")
            || matches!(code, "57P01" | "57P02" | "57P03");
    }
    code.parse::<i64>()
        .is_ok_and(|sqlite| matches!(sqlite & 0xff, 5 | 7 | 10 | 13 | 14))
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
