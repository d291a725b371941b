//! Jobs: the Management API's bulk user imports and exports (Auth0's `/api/v2/jobs`), kept
//! with their outcome so that `GET /api/v2/jobs/{id}` and its errors can be read afterwards.

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::StoreResult;

/// A finished (or failed) job and what it produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// `job_<hex>`.
    pub id: String,
    /// Auth0's `type`: `users_import` or `users_export`.
    pub kind: String,
    /// Auth0's `status`: `completed` or `failed`.
    pub status: String,
    pub connection_id: String,
    pub created_at: i64,
    /// What the job reports besides its status: an import's `summary`, an export's `format`
    /// and `fields`, the options it ran with.
    pub details: Map<String, Value>,
    /// An import's rows that failed, each `{user, errors: [{code, message, path}]}`.
    pub errors: Vec<Value>,
    /// An export's file, until `expires_at`.
    pub output: Option<String>,
    /// When the job and its file are forgotten.
    pub expires_at: i64,
}

/// Jobs, written once when they finish.
#[async_trait]
pub trait JobRepository: Send + Sync {
    async fn insert_job(&self, job: &Job) -> StoreResult<()>;
    /// The job, if it has not expired at `now`.
    async fn job_by_id(&self, id: &str, now: i64) -> StoreResult<Option<Job>>;
    /// Forgets the jobs expired at `now`; returns how many.
    async fn delete_expired_jobs(&self, now: i64) -> StoreResult<u64>;
}
