//! Checking an email and password under brute-force protection: the one implementation behind
//! the hosted login page and the dashboard's sign-in, and the throttling of sign-ups.
//!
//! As Auth0 does it: failures are counted per (account, client address) pair, and past the
//! limit that pair is blocked, not the account for everyone; failures from one address across
//! accounts have a limit of their own ("suspicious IP throttling"). An IPv6 address counts as
//! its /64 network, which one subscriber usually holds whole. Counters live in the store (so
//! every replica sees them), in fixed windows, and are incremented *before* the password is
//! checked, with the store returning the new count atomically: parallel guesses each take a
//! number and cannot slip past the limit together. A success clears the pair. A blocked pair
//! stays blocked for the rest of its window, or until an administrator unblocks it
//! ([`login_blocks`], [`clear_login_blocks`]) or the user opens the link of the
//! blocked-account email ([`clear_login_block`]).

mod user;

use std::net::IpAddr;

use portcullis_store::{Store, StoreError};
use portcullis_types::Secret;

use crate::{
    password::{PasswordError, Passwords},
    secrets::{b64url, lookup_hash},
};

/// Brute-force and sign-up limits, per fixed window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleLimits {
    pub window_seconds: i64,
    /// Failed sign-ins per (account, client address) pair per window; past it the pair is
    /// refused for the rest of the window (Auth0's brute-force protection: 10).
    pub per_pair: u64,
    /// Failed sign-ins per client address per window, whatever the accounts (Auth0's
    /// suspicious IP throttling: 100).
    pub per_ip: u64,
    /// Sign-up attempts per client address per window, successful or not (Auth0: 50).
    pub signups_per_ip: u64,
    /// Sign-up attempts per email address per window, whatever the client address: one
    /// address tried from many networks (to probe the password policy or whether it is taken)
    /// is refused too.
    pub signups_per_email: u64,
    /// Password-reset requests per client address per window (each may send an email).
    pub resets_per_ip: u64,
    /// Password-reset requests per email address per window: nobody can flood one inbox.
    pub resets_per_email: u64,
    /// Dynamic client registrations (RFC 7591) per client address per window, successful or
    /// not: nobody can fill the tenant with applications.
    pub registrations_per_ip: u64,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        ThrottleLimits {
            window_seconds: 900,
            per_pair: 10,
            per_ip: 100,
            signups_per_ip: 50,
            signups_per_email: 10,
            resets_per_ip: 50,
            resets_per_email: 5,
            registrations_per_ip: 20,
        }
    }
}

impl ThrottleLimits {
    /// The start of the window `now` falls in.
    fn window_start(&self, now: i64) -> i64 {
        now - now.rem_euclid(self.window_seconds.max(1))
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

/// What throttling counts of a client's address: an IPv4 address as it is, an IPv6 address as
/// its /64 network (`2001:db8:1:2::/64`). An IPv4 address mapped into IPv6 counts as itself.
pub fn address_group(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", std::net::Ipv6Addr::from(network))
            }
        },
    }
}

/// The counter keys of one account. The identifier is hashed: keys stay short whatever was
/// typed, never hold an email address, and the address after the prefix is unambiguous.
/// The counter of `identifier`'s failures from the address group `group`.
fn pair_key(realm: Realm, identifier: &str, group: &str) -> String {
    format!("{}{group}", pair_prefix(realm, identifier))
}

fn pair_prefix(realm: Realm, identifier: &str) -> String {
    let normalized = identifier.trim().to_lowercase();
    format!(
        "{}:pair:{}:",
        realm.prefix(),
        b64url(&lookup_hash(&normalized))
    )
}

fn ip_key(realm: Realm, group: &str) -> String {
    format!("{}:ip:{group}", realm.prefix())
}

fn signup_key(group: &str) -> String {
    format!("signup:ip:{group}")
}

/// A counter key for an email address under `prefix`, hashed like the pair keys.
fn email_key(prefix: &str, email: &str) -> String {
    let normalized = email.trim().to_lowercase();
    format!("{prefix}:email:{}", b64url(&lookup_hash(&normalized)))
}

/// Why a sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Wrong email or password (the two are never told apart). `blocked`: this failure was
    /// the account's last allowed from this address in its window, so the pair is blocked from
    /// now on (true for exactly one failure per block: the one to tell the user of).
    #[error("wrong email or password")]
    WrongCredentials { blocked: bool },
    /// Too many failures for this account from this address, or from this address overall,
    /// in this window. `first` is true for the refusal that crossed the limit and false for
    /// the ones after it in the same window: only the first is worth an audit entry, so a
    /// client hammering a closed door cannot grow the log one row per request.
    #[error("too many failed sign-ins")]
    Throttled { first: bool },
    /// Every password-hashing slot is taken: refused at once, nothing counted or computed.
    #[error("too many sign-ins under way")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Password(PasswordError),
}

impl SignInError {
    /// Whether this failure is the one that just blocked the account from its address (once
    /// per block).
    pub fn blocked_account(&self) -> bool {
        matches!(self, SignInError::WrongCredentials { blocked: true })
    }
}

impl From<PasswordError> for SignInError {
    fn from(error: PasswordError) -> Self {
        match error {
            PasswordError::Busy => SignInError::Busy,
            other => SignInError::Password(other),
        }
    }
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

/// A second-factor attempt: whose account, from where and when.
#[derive(Clone, Copy, Debug)]
pub struct CodeAttempt<'a> {
    pub realm: Realm,
    /// The account's email, as its password's attempts count it.
    pub identifier: &'a str,
    pub ip: IpAddr,
    pub now: i64,
}

/// An attempt counted against its pair and address, not yet known to be right.
struct Counted {
    group: String,
    pair_key: String,
    ip_key: String,
    window: i64,
    /// This attempt is the pair's last allowed in its window: if it fails, the pair is blocked.
    last: bool,
}

impl Counted {
    /// The failure of this attempt.
    fn failed(&self) -> SignInError {
        SignInError::WrongCredentials { blocked: self.last }
    }

    /// Only failures count: a success clears the pair and gives the address its hit back.
    async fn succeeded(self, store: &dyn Store) -> Result<(), StoreError> {
        store.clear(&self.pair_key).await?;
        store.take_back(&self.ip_key, self.window).await
    }
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
    /// is called only when the attempt is not refused. An unknown account costs the same
    /// hashing work as a wrong password, and is counted the same way.
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
        // A hashing slot first: under a flood the attempt is refused before it counts
        // against anyone's limits.
        let slot = self.passwords.reserve()?;
        let counted = self.count(store, realm, email, ip, now).await?;
        let found = lookup().await?;
        let (account, hash) = match found {
            Some((account, hash)) => (Some(account), Some(hash)),
            None => (None, None),
        };
        let matches = slot.verify(password, hash).await?;
        match account {
            Some(account) if matches => {
                counted.succeeded(store).await?;
                Ok(account)
            }
            _ => {
                tracing::info!(address = %counted.group, realm = realm.prefix(), "failed sign-in");
                Err(counted.failed())
            }
        }
    }

    /// Checks a second factor of the account `identifier` (its email) under the same counters
    /// as its password: a wrong code is a failed sign-in of that account from that address,
    /// so guessing codes is throttled exactly like guessing passwords. `verify` is called
    /// only when the attempt is not refused; `Some` is a correct code.
    pub async fn check_code<T, F, Fut>(
        &self,
        store: &dyn Store,
        attempt: CodeAttempt<'_>,
        verify: F,
    ) -> Result<T, SignInError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>, StoreError>>,
    {
        let CodeAttempt {
            realm,
            identifier,
            ip,
            now,
        } = attempt;
        let counted = self.count(store, realm, identifier, ip, now).await?;
        match verify().await? {
            Some(value) => {
                counted.succeeded(store).await?;
                Ok(value)
            }
            None => {
                tracing::info!(address = %counted.group, realm = realm.prefix(), "failed second factor");
                Err(counted.failed())
            }
        }
    }

    /// Counts one attempt against the pair and the address, before it is checked; refuses it
    /// past either limit.
    async fn count(
        &self,
        store: &dyn Store,
        realm: Realm,
        identifier: &str,
        ip: IpAddr,
        now: i64,
    ) -> Result<Counted, SignInError> {
        let limits = self.limits;
        let window = limits.window_start(now);
        let group = address_group(ip);
        let pair_key = pair_key(realm, identifier, &group);
        let ip_key = ip_key(realm, &group);
        let pair_hits = store.hit(&pair_key, window).await?;
        if pair_hits > limits.per_pair {
            return Err(SignInError::Throttled {
                first: pair_hits == limits.per_pair + 1,
            });
        }
        let ip_hits = store.hit(&ip_key, window).await?;
        if ip_hits > limits.per_ip {
            // Refused for the address, not for this account: the pair's hit is given back.
            store.take_back(&pair_key, window).await?;
            return Err(SignInError::Throttled {
                first: ip_hits == limits.per_ip + 1,
            });
        }
        Ok(Counted {
            group,
            pair_key,
            ip_key,
            window,
            last: pair_hits == limits.per_pair,
        })
    }

    /// Counts a sign-up attempt for `email` from `ip`, successful or not; `Throttled` past
    /// the limit of the address or of the email.
    pub async fn admit_signup(
        &self,
        store: &dyn Store,
        ip: IpAddr,
        email: &str,
        now: i64,
    ) -> Result<(), SignInError> {
        let limits = self.limits;
        let counters = [
            (signup_key(&address_group(ip)), limits.signups_per_ip),
            (email_key("signup", email), limits.signups_per_email),
        ];
        self.admit(store, &counters, now).await
    }

    /// Counts a password-reset request for `email` from `ip`, whether the account exists or
    /// not; `Throttled` past the limit of the address or of the email.
    pub async fn admit_password_reset(
        &self,
        store: &dyn Store,
        ip: IpAddr,
        email: &str,
        now: i64,
    ) -> Result<(), SignInError> {
        let limits = self.limits;
        let counters = [
            (
                format!("reset:ip:{}", address_group(ip)),
                limits.resets_per_ip,
            ),
            (email_key("reset", email), limits.resets_per_email),
        ];
        self.admit(store, &counters, now).await
    }

    /// Counts a dynamic client registration from `ip`, successful or not; `Throttled` past
    /// the address's limit.
    pub async fn admit_registration(
        &self,
        store: &dyn Store,
        ip: IpAddr,
        now: i64,
    ) -> Result<(), SignInError> {
        let counters = [(
            format!("register:ip:{}", address_group(ip)),
            self.limits.registrations_per_ip,
        )];
        self.admit(store, &counters, now).await
    }

    /// Counts one attempt on each `(key, limit)` in turn; the first counter past its limit
    /// refuses the attempt (the later ones are not counted).
    async fn admit(
        &self,
        store: &dyn Store,
        counters: &[(String, u64)],
        now: i64,
    ) -> Result<(), SignInError> {
        let window = self.limits.window_start(now);
        for (key, limit) in counters {
            let attempts = store.hit(key, window).await?;
            if attempts > *limit {
                return Err(SignInError::Throttled {
                    first: attempts == limit + 1,
                });
            }
        }
        Ok(())
    }
}

/// A pair refused until its window passes: the identifier typed and the address group it was
/// typed from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LoginBlock {
    pub identifier: String,
    pub ip: String,
}

/// The addresses `identifier` is blocked for on the hosted login page now.
pub async fn login_blocks(
    store: &dyn Store,
    limits: &ThrottleLimits,
    identifier: &str,
    now: i64,
) -> Result<Vec<LoginBlock>, StoreError> {
    let prefix = pair_prefix(Realm::Login, identifier);
    let counters = store
        .counters_with_prefix(&prefix, limits.window_start(now), limits.per_pair)
        .await?;
    Ok(counters
        .into_iter()
        .map(|(key, _)| LoginBlock {
            identifier: identifier.trim().to_owned(),
            ip: key[prefix.len()..].to_owned(),
        })
        .collect())
}

/// Forgets the failures of `identifier` from every address on the hosted login page, which
/// unblocks it; returns how many addresses had counted failures.
pub async fn clear_login_blocks(store: &dyn Store, identifier: &str) -> Result<u64, StoreError> {
    store
        .clear_prefix(&pair_prefix(Realm::Login, identifier))
        .await
}

/// Forgets the failures of `identifier` from the address group `group` (as
/// [`address_group`] names it) on the hosted login page, which lifts that one block.
pub async fn clear_login_block(
    store: &dyn Store,
    identifier: &str,
    group: &str,
) -> Result<(), StoreError> {
    store
        .clear(&pair_key(Realm::Login, identifier, group))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_counts_by_its_64_network() {
        let group = |text: &str| address_group(text.parse().expect("address"));
        assert_eq!(group("203.0.113.7"), "203.0.113.7");
        assert_eq!(group("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            group("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            group("2001:db8:1:2::")
        );
        assert_ne!(group("2001:db8:1:2::1"), group("2001:db8:1:3::1"));
        assert_eq!(group("::ffff:203.0.113.7"), "203.0.113.7");
    }

    #[test]
    fn pair_keys_ignore_case_and_spaces() {
        assert_eq!(
            pair_prefix(Realm::Login, " Jane@Example.com "),
            pair_prefix(Realm::Login, "jane@example.com")
        );
        assert_ne!(
            pair_prefix(Realm::Login, "jane@example.com"),
            pair_prefix(Realm::Dashboard, "jane@example.com")
        );
        assert!(!pair_prefix(Realm::Login, "jane@example.com").contains("jane"));
    }
}
