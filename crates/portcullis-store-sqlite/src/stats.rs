//! What the database file is made of: rows per table and the file's pages, for the soak's
//! report of the store's size (and for an operator asking why the file is as big as it is).

use portcullis_store::StoreError;

use crate::{backend, SqliteStore};

/// The composition of the database file at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Composition {
    /// Rows of every table (SQLite's and sqlx's own bookkeeping tables left out), by name.
    pub rows: Vec<(String, u64)>,
    /// Pages of the file, and how many of them are free (kept for reuse, not yet returned).
    pub pages: u64,
    pub free_pages: u64,
    pub page_size: u64,
}

impl SqliteStore {
    /// Counts the rows of every table and reads the file's page counts.
    pub async fn composition(&self) -> Result<Composition, StoreError> {
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_schema WHERE type = 'table'
               AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx_%' ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let mut rows = Vec::with_capacity(tables.len());
        for table in tables {
            // The name comes from sqlite_schema, not from a caller; quoted as an identifier.
            let count: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM \"{}\"",
                table.replace('"', "\"\"")
            ))
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
            rows.push((table, u64::try_from(count).unwrap_or(0)));
        }
        let pragma = |name: &'static str| {
            let pool = self.pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>(&format!("PRAGMA {name}"))
                    .fetch_one(&pool)
                    .await
                    .map(|value| u64::try_from(value).unwrap_or(0))
                    .map_err(backend)
            }
        };
        Ok(Composition {
            rows,
            pages: pragma("page_count").await?,
            free_pages: pragma("freelist_count").await?,
            page_size: pragma("page_size").await?,
        })
    }
}
