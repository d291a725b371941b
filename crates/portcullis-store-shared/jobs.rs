// Shared by both backends: `crates/portcullis-store-sqlite/src/jobs.rs` and
// `crates/portcullis-store-postgres/src/jobs.rs` include this file with the aliases `Row` (the
// backend's row type) and `Backend` (its store) in scope. Placeholders are `$N`.
//
// Bulk user import and export jobs.

use async_trait::async_trait;
use portcullis_store::{Job, JobRepository, StoreError};
use sqlx::Row as _;

use crate::{
    backend,
    rows::{from_json, to_json},
};

fn job_from_row(row: &Row) -> Result<Job, StoreError> {
    Ok(Job {
        id: row.try_get("id").map_err(backend)?,
        kind: row.try_get("kind").map_err(backend)?,
        status: row.try_get("status").map_err(backend)?,
        connection_id: row.try_get("connection_id").map_err(backend)?,
        created_at: row.try_get("created_at").map_err(backend)?,
        details: from_json(row.try_get::<&str, _>("details").map_err(backend)?)?,
        errors: from_json(row.try_get::<&str, _>("errors").map_err(backend)?)?,
        output: row.try_get("output").map_err(backend)?,
        expires_at: row.try_get("expires_at").map_err(backend)?,
    })
}

#[async_trait]
impl JobRepository for Backend {
    async fn insert_job(&self, job: &Job) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO jobs (id, kind, status, connection_id, created_at, details, errors,
               output, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&job.id)
        .bind(&job.kind)
        .bind(&job.status)
        .bind(&job.connection_id)
        .bind(job.created_at)
        .bind(to_json(&job.details)?)
        .bind(to_json(&job.errors)?)
        .bind(&job.output)
        .bind(job.expires_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn job_by_id(&self, id: &str, now: i64) -> Result<Option<Job>, StoreError> {
        sqlx::query("SELECT * FROM jobs WHERE id = $1 AND expires_at > $2")
            .bind(id)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(job_from_row)
            .transpose()
    }

    async fn delete_expired_jobs(&self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM jobs WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }
}
