// Shared by both backends: `crates/portcullis-store-sqlite/src/dpop.rs` and
// `crates/portcullis-store-postgres/src/dpop.rs` include this file with the alias `Backend`
// (the backend's store) in scope. Placeholders are `$N`, which PostgreSQL and SQLite both read.
//
// DPoP proofs seen: one INSERT that does nothing on a known hash decides, so two replicas
// shown the same proof at once cannot both accept it; no lock hook is needed.

use async_trait::async_trait;
use portcullis_store::{DpopProofRepository, StoreError};

use crate::backend;

#[async_trait]
impl DpopProofRepository for Backend {
    async fn use_dpop_proof(&self, proof_hash: &[u8], expires_at: i64) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO dpop_proofs (proof_hash, expires_at) VALUES ($1, $2)
             ON CONFLICT (proof_hash) DO NOTHING",
        )
        .bind(proof_hash)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?
        .rows_affected();
        Ok(inserted == 1)
    }
}
