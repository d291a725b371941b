//! Multi-factor authentication: the tenant's factors and policy, and the authenticators users
//! and dashboard administrators enrol.
//!
//! One table holds every kind of authenticator (TOTP, recovery codes, WebAuthn keys), so that
//! listing, deleting and resetting a person's factors is one thing whatever the kind. Each has
//! a `counter` that only moves forward through [`MfaRepository::advance_authenticator`], one
//! conditional UPDATE: for TOTP the last time step used (a code is accepted once), for
//! WebAuthn the authenticator's sign count (a cloned key is refused).

use std::collections::BTreeSet;

use async_trait::async_trait;
use portcullis_types::{AuthMethod, MfaFactor, MfaPolicy};

use crate::StoreResult;

/// The tenant's MFA settings (Auth0's Guardian factors and policies).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MfaSettings {
    /// The enabled factors; every other one is disabled (all are, on a new tenant).
    pub enabled: BTreeSet<MfaFactor>,
    /// `[]`: MFA for users with a factor, or when the application asks for it;
    /// `[all-applications]`: always.
    pub policies: Vec<MfaPolicy>,
}

impl MfaSettings {
    pub fn is_enabled(&self, factor: MfaFactor) -> bool {
        self.enabled.contains(&factor)
    }

    /// Whether every login asks for a second factor.
    pub fn always(&self) -> bool {
        self.policies.contains(&MfaPolicy::AllApplications)
    }
}

/// Whose authenticator it is: a user of the tenant, or a dashboard administrator.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MfaOwner {
    User(String),
    Admin(String),
}

impl MfaOwner {
    pub fn id(&self) -> &str {
        match self {
            MfaOwner::User(id) | MfaOwner::Admin(id) => id,
        }
    }
}

/// One enrolled (or being enrolled) authenticator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticator {
    /// `<kind>|dev_<random>`, Auth0's shape of an authentication method's id.
    pub id: String,
    pub owner: MfaOwner,
    pub kind: MfaFactor,
    /// What the person called it, if anything.
    pub name: Option<String>,
    /// False between the start of an enrolment and its first correct code.
    pub confirmed: bool,
    /// The kind's secret material, sealed by the caller under the master key (TOTP: the
    /// shared key; WebAuthn: the credential). `None` for recovery codes, whose codes are rows
    /// of their own.
    pub secret: Option<Vec<u8>>,
    /// Moves only forward (see the module's documentation).
    pub counter: i64,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// The tenant's MFA settings, the authenticators, and the MFA state of login sessions.
#[async_trait]
pub trait MfaRepository: Send + Sync {
    async fn mfa_settings(&self) -> StoreResult<MfaSettings>;
    async fn set_mfa_factor(&self, factor: MfaFactor, enabled: bool) -> StoreResult<()>;
    /// Replaces the tenant's policies.
    async fn set_mfa_policies(&self, policies: &[MfaPolicy]) -> StoreResult<()>;

    async fn insert_authenticator(&self, authenticator: &Authenticator) -> StoreResult<()>;
    /// The owner's authenticators, confirmed or not, oldest first.
    async fn authenticators(&self, owner: &MfaOwner) -> StoreResult<Vec<Authenticator>>;
    /// Marks the owner's authenticator confirmed; false when there is none.
    async fn confirm_authenticator(&self, owner: &MfaOwner, id: &str) -> StoreResult<bool>;
    /// Sets the authenticator's counter to `counter` and its last use to `now` if, and only
    /// if, `counter` is greater than the stored one: false otherwise (a code used already,
    /// concurrently or before).
    async fn advance_authenticator(&self, id: &str, counter: i64, now: i64) -> StoreResult<bool>;
    /// Deletes one of the owner's authenticators (with its recovery codes); false when there
    /// is none.
    async fn delete_authenticator(&self, owner: &MfaOwner, id: &str) -> StoreResult<bool>;
    /// Deletes the owner's authenticators (resets MFA); returns how many there were.
    async fn delete_authenticators(&self, owner: &MfaOwner) -> StoreResult<u64>;
    /// Deletes the owner's unconfirmed authenticators (an enrolment started again).
    async fn delete_unconfirmed_authenticators(&self, owner: &MfaOwner) -> StoreResult<()>;

    /// Stores the SHA-256 hashes of a recovery-code authenticator's codes.
    async fn insert_recovery_codes(
        &self,
        authenticator_id: &str,
        code_hashes: &[Vec<u8>],
    ) -> StoreResult<()>;
    /// Uses the owner's unused, confirmed recovery code of this hash, in one conditional
    /// UPDATE: true once, false ever after (and for a code that is not theirs).
    async fn use_recovery_code(
        &self,
        owner: &MfaOwner,
        code_hash: &[u8],
        now: i64,
    ) -> StoreResult<bool>;
    /// How many of the authenticator's recovery codes are unused.
    async fn unused_recovery_codes(&self, authenticator_id: &str) -> StoreResult<u64>;

    /// Records that the session passed a second factor at `mfa_time`, its methods now `amr`.
    async fn record_session_mfa(
        &self,
        id_hash: &[u8],
        amr: &[AuthMethod],
        mfa_time: i64,
    ) -> StoreResult<()>;
    /// Marks an administrator's dashboard session as past its second factor.
    async fn complete_admin_session_mfa(&self, id_hash: &[u8]) -> StoreResult<()>;

    /// Whether every dashboard administrator must pass a second factor (false until set).
    async fn admin_mfa_required(&self) -> StoreResult<bool>;
    async fn set_admin_mfa_required(&self, required: bool) -> StoreResult<()>;
}
