//! DPoP proofs (RFC 9449) already accepted, shared by every replica.

use async_trait::async_trait;

use crate::StoreResult;

/// The `jti`s of accepted DPoP proofs, by hash, until the proof's window has passed (the sweep
/// deletes them then: `SweepCounts::dpop_proofs`).
#[async_trait]
pub trait DpopProofRepository: Send + Sync {
    /// Records the proof `proof_hash` until `expires_at`; `false` if it was already recorded
    /// (a replay). Decided by the database, so concurrent uses on several replicas get one
    /// `true`.
    async fn use_dpop_proof(&self, proof_hash: &[u8], expires_at: i64) -> StoreResult<bool>;
}
