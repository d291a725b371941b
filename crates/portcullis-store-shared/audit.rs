// Shared by both backends: `crates/portcullis-store-sqlite/src/audit.rs` and
// `crates/portcullis-store-postgres/src/audit.rs` include this file with the aliases `Row` (the
// backend's row type), `Database` (its sqlx database) and `Backend` (its store) in scope.
// Placeholders are `$N`, which PostgreSQL and SQLite both read, so one text of SQL serves both.
//
// Dashboard administrators and the audit log.
//
// It calls none of the backends' lock hooks; only signing keys and refresh-token families
// need them.

use async_trait::async_trait;
use portcullis_store::{
    Admin, AdminRepository, AuditLogRepository, LogEvent, LogFilter, Page, StoreError,
};
use sqlx::Row as _;

use crate::{
    backend,
    clients::found,
    limits,
    rows::{from_json, to_json},
};

fn admin_from_row(row: &Row) -> Result<Admin, StoreError> {
    Ok(Admin {
        id: row.try_get("id").map_err(backend)?,
        email: row.try_get("email").map_err(backend)?,
        password_hash: row.try_get("password_hash").map_err(backend)?,
        created_at: row.try_get("created_at").map_err(backend)?,
    })
}

fn log_from_row(row: &Row) -> Result<LogEvent, StoreError> {
    let details: String = row.try_get("details").map_err(backend)?;
    Ok(LogEvent {
        log_id: row.try_get("log_id").map_err(backend)?,
        date: row.try_get("date").map_err(backend)?,
        event_type: portcullis_types::EventType::from_code(row.try_get("event_type").map_err(backend)?),
        description: row.try_get("description").map_err(backend)?,
        ip: row.try_get("ip").map_err(backend)?,
        user_agent: row.try_get("user_agent").map_err(backend)?,
        client_id: row.try_get("client_id").map_err(backend)?,
        client_name: row.try_get("client_name").map_err(backend)?,
        user_id: row.try_get("user_id").map_err(backend)?,
        user_name: row.try_get("user_name").map_err(backend)?,
        details: from_json(&details)?,
    })
}

#[async_trait]
impl AdminRepository for Backend {
    async fn create_admin(&self, admin: &Admin) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO admins (id, email, email_lower, password_hash, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&admin.id)
        .bind(&admin.email)
        .bind(admin.email.to_lowercase())
        .bind(&admin.password_hash)
        .bind(admin.created_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn admin_by_id(&self, id: &str) -> Result<Option<Admin>, StoreError> {
        sqlx::query("SELECT * FROM admins WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(admin_from_row)
            .transpose()
    }

    async fn admin_by_email(&self, email: &str) -> Result<Option<Admin>, StoreError> {
        sqlx::query("SELECT * FROM admins WHERE email_lower = $1")
            .bind(email.to_lowercase())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(admin_from_row)
            .transpose()
    }

    async fn list_admins(&self) -> Result<Vec<Admin>, StoreError> {
        sqlx::query("SELECT * FROM admins ORDER BY email_lower")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?
            .iter()
            .map(admin_from_row)
            .collect()
    }

    async fn update_admin_password(&self, id: &str, password_hash: &str) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE admins SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        found(done.rows_affected())
    }
}

/// The WHERE clause of a log listing: every filter is bound, absent ones as NULL.
const LOG_FILTER: &str = "($1 IS NULL OR event_type = $1)
    AND ($2 IS NULL OR user_id = $2)
    AND ($3 IS NULL OR client_id = $3)";

/// Rows in one INSERT: 11 parameters each stays far below both backends' limits (SQLite's
/// 32,766, PostgreSQL's 65,535).
const LOG_ROWS_PER_INSERT: usize = 256;

/// One statement for many events: each statement is a round trip to the database (and, with
/// SQLite, a hop to its connection thread and back).
async fn insert_logs<'e, E>(executor: E, events: &[LogEvent]) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = Database>,
{
    let details = events
        .iter()
        .map(|event| to_json(&event.details))
        .collect::<Result<Vec<_>, _>>()?;
    let mut insert = sqlx::QueryBuilder::<Database>::new(
        "INSERT INTO audit_log (log_id, date, event_type, description, ip, user_agent,
           client_id, client_name, user_id, user_name, details) ",
    );
    insert.push_values(events.iter().zip(details), |mut row, (event, details)| {
        row.push_bind(&event.log_id)
            .push_bind(event.date)
            .push_bind(event.event_type.as_str())
            .push_bind(&event.description)
            .push_bind(&event.ip)
            .push_bind(&event.user_agent)
            .push_bind(&event.client_id)
            .push_bind(&event.client_name)
            .push_bind(&event.user_id)
            .push_bind(&event.user_name)
            .push_bind(details);
    });
    insert.build().execute(executor).await.map_err(backend)?;
    Ok(())
}

#[async_trait]
impl AuditLogRepository for Backend {
    async fn append_log(&self, event: &LogEvent) -> Result<(), StoreError> {
        insert_logs(&self.pool, std::slice::from_ref(event)).await
    }

    async fn append_logs(&self, events: &[LogEvent]) -> Result<(), StoreError> {
        match events.len() {
            0 => Ok(()),
            n if n <= LOG_ROWS_PER_INSERT => insert_logs(&self.pool, events).await,
            _ => {
                let mut tx = self.pool.begin().await.map_err(backend)?;
                for chunk in events.chunks(LOG_ROWS_PER_INSERT) {
                    insert_logs(&mut *tx, chunk).await?;
                }
                tx.commit().await.map_err(backend)
            }
        }
    }

    async fn log_by_id(&self, log_id: &str) -> Result<Option<LogEvent>, StoreError> {
        sqlx::query("SELECT * FROM audit_log WHERE log_id = $1")
            .bind(log_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(log_from_row)
            .transpose()
    }

    async fn list_logs(
        &self,
        filter: &LogFilter,
        page: Page,
    ) -> Result<(Vec<LogEvent>, u64), StoreError> {
        let (limit, offset) = limits(page);
        let rows = sqlx::query(&format!(
            "SELECT * FROM audit_log WHERE {LOG_FILTER} ORDER BY log_id DESC LIMIT $4 OFFSET $5"
        ))
        .bind(filter.event_type.as_ref().map(|t| t.as_str()))
        .bind(&filter.user_id)
        .bind(&filter.client_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let total: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE {LOG_FILTER}"
        ))
        .bind(filter.event_type.as_ref().map(|t| t.as_str()))
        .bind(&filter.user_id)
        .bind(&filter.client_id)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        let items = rows.iter().map(log_from_row).collect::<Result<_, _>>()?;
        Ok((items, total.unsigned_abs()))
    }
}
