//! Checking an email and password, under throttling of failures: the one implementation
//! behind the hosted login page and the dashboard's sign-in.
//!
//! Failures are counted in fixed windows, per account and per client address, in the store
//! (so every replica sees them); past either limit the attempt is refused before the password
//! is checked. A success clears the account's counter.

use std::net::IpAddr;

use portcullis_store::{Store, StoreError};
use portcullis_types::Secret;

use crate::password::{PasswordError, Passwords};

/// Sign-in throttling limits, per fixed window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleLimits {
    pub window_seconds: i64,
    /// Failed sign-ins per account per window before the account is refused for the window.
    pub per_account: u64,
    /// Failed sign-ins per client address per window.
    pub per_ip: u64,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        ThrottleLimits {
            window_seconds: 900,
            per_account: 10,
            per_ip: 100,
        }
    }
}

/// Which sign-in form is checked: each has its own counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Realm {
    /// The hosted login page (the tenant's users).
    Login,
    /// The dashboard (administrators).
    Dashboard,
}

impl Realm {
    fn prefix(self) -> &'static str {
        match self {
            Realm::Login => "login",
            Realm::Dashboard => "dashboard",
        }
    }
}

/// Why a sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Wrong email or password (the two are never told apart).
    #[error("wrong email or password")]
    WrongCredentials,
    /// Too many failures for this account or address in this window.
    #[error("too many failed sign-ins")]
    Throttled,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Password(#[from] PasswordError),
}

/// One sign-in attempt: which form, the credentials, and where and when they came from.
#[derive(Clone, Copy, Debug)]
pub struct Attempt<'a> {
    pub realm: Realm,
    pub email: &'a str,
    pub password: &'a Secret,
    pub ip: IpAddr,
    pub now: i64,
}

/// Checks credentials under throttling.
#[derive(Clone, Debug, Default)]
pub struct SignIn {
    pub limits: ThrottleLimits,
    pub passwords: Passwords,
}

impl SignIn {
    pub fn new(limits: ThrottleLimits, passwords: Passwords) -> Self {
        SignIn { limits, passwords }
    }

    /// Checks the password of `attempt`. `lookup` finds the account and its stored hash; it
    /// is called only when the attempt is not throttled. An unknown account costs the same
    /// hashing work as a wrong password.
    pub async fn check<T, F, Fut>(
        &self,
        store: &dyn Store,
        attempt: Attempt<'_>,
        lookup: F,
    ) -> Result<T, SignInError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Option<(T, String)>, StoreError>>,
    {
        let Attempt {
            realm,
            email,
            password,
            ip,
            now,
        } = attempt;
        let limits = self.limits;
        let window = now - now.rem_euclid(limits.window_seconds);
        let account_key = format!("{}:account:{}", realm.prefix(), email.trim().to_lowercase());
        let ip_key = format!("{}:ip:{ip}", realm.prefix());
        let account_hits = store.hits(&account_key, window).await?;
        let ip_hits = store.hits(&ip_key, window).await?;
        if account_hits >= limits.per_account || ip_hits >= limits.per_ip {
            return Err(SignInError::Throttled);
        }
        let found = lookup().await?;
        let (account, hash) = match found {
            Some((account, hash)) => (Some(account), Some(hash)),
            None => (None, None),
        };
        let matches = self.passwords.verify(password, hash).await?;
        match account {
            Some(account) if matches => {
                store.clear(&account_key).await?;
                Ok(account)
            }
            _ => {
                store.hit(&account_key, window).await?;
                store.hit(&ip_key, window).await?;
                tracing::info!(%ip, realm = realm.prefix(), "failed sign-in");
                Err(SignInError::WrongCredentials)
            }
        }
    }
}
