//! Auth0's `mfa_token`: a password-grant login that passed the password and waits for its
//! second factor through the MFA API, stored under the token's hash and taken once.

use async_trait::async_trait;

use crate::StoreResult;

/// A login waiting for its second factor: whose, for which application, and what the tokens
/// will be for once it is passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingMfaLogin {
    /// SHA-256 of the `mfa_token`.
    pub token_hash: Vec<u8>,
    pub user_id: String,
    pub client_id: String,
    /// The API the password grant asked for (`None`: the userinfo audience alone).
    pub audience: Option<String>,
    /// The scope the tokens will carry, decided by the password grant.
    pub scope: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// The pending logins of the MFA API. Expired ones are swept (`SweepCounts::mfa_tokens`).
#[async_trait]
pub trait MfaTokenRepository: Send + Sync {
    async fn insert_mfa_token(&self, login: &PendingMfaLogin) -> StoreResult<()>;
    /// The login of this hash, unless it has expired by `now` or been taken.
    async fn mfa_token(&self, token_hash: &[u8], now: i64) -> StoreResult<Option<PendingMfaLogin>>;
    /// Takes the login (one conditional DELETE): true once, while it has not expired by
    /// `now`; false ever after, also for a concurrent second taker.
    async fn take_mfa_token(&self, token_hash: &[u8], now: i64) -> StoreResult<bool>;
}
