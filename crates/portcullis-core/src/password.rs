//! Password hashing with argon2id (the `argon2` crate's defaults, OWASP's recommendation).
//!
//! Hashing is CPU- and memory-heavy (19 MiB a hash), so it never runs on the async threads:
//! [`Passwords`] is the one way the rest of the code hashes and checks passwords, on tokio's
//! blocking pool, a bounded number at a time with a short queue ([`HashingLimits`]); past the
//! queue a request is refused at once ([`PasswordError::Busy`]), so a flood of logins can
//! neither fill memory nor starve the rest of the server. The free functions below are its
//! primitives.

pub mod legacy;

use std::sync::Arc;

use argon2::{
    password_hash::{
        self, rand_core::OsRng, Decimal, Ident, Output, ParamsString, PasswordHash, PasswordHasher,
        PasswordVerifier, Salt, SaltString,
    },
    Algorithm, Argon2, Block, Params, Version,
};
use portcullis_types::Secret;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Hashes `password` into a PHC string.
pub fn hash_password(password: &str) -> Result<String, password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2id
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Checks `password` against a stored hash: an argon2 PHC string, or a hash imported with its
/// own algorithm ([`legacy`]); a malformed stored hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    if !phc.starts_with("$argon2") {
        return legacy::verify(password, phc);
    }
    PasswordHash::new(phc)
        .map(|hash| Argon2id.verify_password(password.as_bytes(), &hash).is_ok())
        .unwrap_or(false)
}

/// Whether a stored hash that has just matched should be replaced by a new argon2id hash of
/// the same password: every hash not made as argon2id (an imported bcrypt, PBKDF2 or digest,
/// or argon2i/argon2d). The one rule behind upgrading imported hashes at sign-in.
pub fn needs_rehash(stored: &str) -> bool {
    !stored.starts_with("$argon2id$")
}

/// Argon2 as the `argon2` crate computes it (argon2id and its default parameters for new
/// hashes, whatever a stored hash names for checks), in memory the allocator gives back to
/// the operating system as soon as the hash is done.
///
/// A hash needs 19 MiB. The crate allocates them as a plain `Vec`; glibc's malloc, once the
/// first such block is freed, raises its mmap threshold to that size and serves the next ones
/// from its per-thread arenas, which keep them: a server that had checked a few dozen
/// passwords on its blocking threads stayed hundreds of MB resident. A block larger than
/// 32 MiB, glibc's highest mmap threshold, is always a mapping of its own, unmapped when
/// freed, and only the pages written become resident: reserving [`RESERVED_BLOCKS`] and
/// using 19 MiB of them costs 19 MiB while the hash runs and nothing afterwards. Other
/// allocators hand such a block straight to the system as well.
struct Argon2id;

/// Memory blocks (1 KiB each) reserved for one hash: more than 32 MiB.
const RESERVED_BLOCKS: usize = 33 * 1024;

/// Zeroed memory for a hash with `params`.
fn memory_blocks(params: &Params) -> Vec<Block> {
    let count = params.block_count();
    let mut blocks = Vec::with_capacity(count.max(RESERVED_BLOCKS));
    blocks.resize(count, Block::default());
    blocks
}

impl PasswordHasher for Argon2id {
    type Params = Params;

    /// What `Argon2::hash_password_customized` does, with [`memory_blocks`]; checking a hash
    /// goes through here too (`PasswordVerifier`'s constant-time comparison).
    fn hash_password_customized<'a>(
        &self,
        password: &[u8],
        algorithm: Option<Ident<'a>>,
        version: Option<Decimal>,
        params: Params,
        salt: impl Into<Salt<'a>>,
    ) -> password_hash::Result<PasswordHash<'a>> {
        let algorithm = algorithm
            .map(Algorithm::try_from)
            .transpose()?
            .unwrap_or_default();
        let version = version
            .map(Version::try_from)
            .transpose()?
            .unwrap_or_default();
        let salt = salt.into();
        let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
        let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
        let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let output = Output::init_with(output_len, |out| {
            Ok(argon2.hash_password_into_with_memory(
                password,
                salt_bytes,
                out,
                memory_blocks(&params),
            )?)
        })?;
        Ok(PasswordHash {
            algorithm: algorithm.ident(),
            version: Some(version.into()),
            params: ParamsString::try_from(&params)?,
            salt: Some(salt),
            hash: Some(output),
        })
    }
}

/// Spends the same time as a real check, for unknown accounts: the response time must not
/// tell which emails have an account.
pub fn burn_verification(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("dummy password").unwrap_or_default());
    let _ = verify_password(password, dummy);
}

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Every hashing slot and every place in the queue is taken: nothing was computed, and
    /// the caller should answer at once and ask the client to retry shortly.
    #[error("too many password hashes under way")]
    Busy,
    /// Our failure, never the user's.
    #[error("password hashing failed: {0}")]
    Internal(String),
}

/// Seconds a request refused with [`PasswordError::Busy`] is asked to wait before retrying
/// (`Retry-After`): a hash takes a few tens of milliseconds, so slots free up quickly.
pub const BUSY_RETRY_AFTER_SECONDS: u64 = 1;

/// How many hashes may run at once and how many requests may wait for one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashingLimits {
    /// Hashes computed at once (each holds 19 MiB and a core while it runs).
    pub concurrent: usize,
    /// Requests waiting for a slot; past these a request is refused with
    /// [`PasswordError::Busy`].
    pub queued: usize,
}

impl Default for HashingLimits {
    /// One hash per core, and a queue twice as long: a flood gets answers at once instead of
    /// filling memory and the blocking pool.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        HashingLimits {
            concurrent: cores,
            queued: 2 * cores,
        }
    }
}

/// Hashes and checks passwords off the async threads, a bounded number at a time. Clones share
/// the bound.
#[derive(Clone, Debug)]
pub struct Passwords {
    /// Admission: one permit per running or waiting request.
    admitted: Arc<Semaphore>,
    /// One permit per running hash.
    running: Arc<Semaphore>,
}

impl Default for Passwords {
    fn default() -> Self {
        Passwords::with_limits(HashingLimits::default())
    }
}

impl Passwords {
    pub fn new() -> Self {
        Passwords::default()
    }

    pub fn with_limits(limits: HashingLimits) -> Self {
        let concurrent = limits.concurrent.max(1);
        Passwords {
            admitted: Arc::new(Semaphore::new(concurrent + limits.queued)),
            running: Arc::new(Semaphore::new(concurrent)),
        }
    }

    /// A place in the queue for one hash or check, or [`PasswordError::Busy`] at once when
    /// there is none. Taking it first lets a caller refuse before doing any other work.
    pub fn reserve(&self) -> Result<HashSlot, PasswordError> {
        let admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| PasswordError::Busy)?;
        Ok(HashSlot {
            admitted,
            running: self.running.clone(),
        })
    }

    /// Hashes `password` into a PHC string.
    pub async fn hash(&self, password: &Secret) -> Result<String, PasswordError> {
        self.reserve()?.hash(password).await
    }

    /// Checks `password` against `stored`; see [`HashSlot::verify`].
    pub async fn verify(
        &self,
        password: &Secret,
        stored: Option<String>,
    ) -> Result<bool, PasswordError> {
        self.reserve()?.verify(password, stored).await
    }

    /// Whether `password` matches any of the `stored` hashes (a user's recent passwords). Each
    /// hash costs one full check under one slot, so callers keep the list short.
    pub async fn matches_any(
        &self,
        password: &Secret,
        stored: Vec<String>,
    ) -> Result<bool, PasswordError> {
        let password = password.clone();
        self.reserve()?
            .run(move || {
                stored
                    .iter()
                    .any(|hash| verify_password(password.expose_str(), hash))
            })
            .await
    }
}

/// A reserved place for one hash or check ([`Passwords::reserve`]).
#[derive(Debug)]
pub struct HashSlot {
    admitted: OwnedSemaphorePermit,
    running: Arc<Semaphore>,
}

impl HashSlot {
    /// Waits for a free slot, then runs `work` on the blocking pool. Both permits move into
    /// the blocking task: a request dropped meanwhile (the client went away) frees its place
    /// only when the hash it started has finished, so the bound holds.
    async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let running = self
            .running
            .acquire_owned()
            .await
            .map_err(|e| PasswordError::Internal(e.to_string()))?;
        let admitted = self.admitted;
        tokio::task::spawn_blocking(move || {
            let result = work();
            drop((running, admitted));
            result
        })
        .await
        .map_err(|e| PasswordError::Internal(e.to_string()))
    }

    /// Hashes `password` into a PHC string.
    pub async fn hash(self, password: &Secret) -> Result<String, PasswordError> {
        let password = password.clone();
        self.run(move || hash_password(password.expose_str()))
            .await?
            .map_err(|e| PasswordError::Internal(e.to_string()))
    }

    /// Checks `password` against `stored`. Without a stored hash (an unknown account) the same
    /// work is spent and the answer is `false`, so timing does not tell which it was.
    pub async fn verify(
        self,
        password: &Secret,
        stored: Option<String>,
    ) -> Result<bool, PasswordError> {
        let password = password.clone();
        self.run(move || match stored {
            Some(hash) => verify_password(password.expose_str(), &hash),
            None => {
                burn_verification(password.expose_str());
                false
            }
        })
        .await
    }
}

/// The password policy of dashboard administrators: at least 8 characters. It is fixed, not
/// the tenant's: a database connection set to a weaker policy for its users must not weaken
/// the administrators' passwords. Users' passwords follow the connection's policy
/// ([`crate::password_policy`]).
pub fn check_admin_password(password: &str) -> Result<(), &'static str> {
    if password.chars().count() < 8 {
        return Err("Password is too short: use at least 8 characters.");
    }
    if password.len() > 1024 {
        return Err("Password is too long.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once() {
        let passwords = Passwords::with_limits(HashingLimits {
            concurrent: 1,
            queued: 1,
        });
        let first = passwords.reserve().expect("a slot");
        let second = passwords.reserve().expect("a place in the queue");
        assert!(matches!(passwords.reserve(), Err(PasswordError::Busy)));
        drop(first);
        let third = passwords.reserve().expect("a place again");
        drop((second, third));
        let phc = passwords.hash(&Secret::from("pw")).await.expect("hash");
        assert!(passwords
            .verify(&Secret::from("pw"), Some(phc))
            .await
            .expect("verify"));
    }

    #[test]
    fn hashes_are_the_argon2_crates() {
        let ours = hash_password("correct horse").expect("hash");
        let theirs = Argon2::default()
            .hash_password(b"correct horse", &SaltString::generate(&mut OsRng))
            .expect("hash")
            .to_string();
        assert!(verify_password("correct horse", &theirs));
        let parsed = PasswordHash::new(&ours).expect("phc");
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        assert_eq!(
            ours.split('$').take(4).collect::<Vec<_>>(),
            theirs.split('$').take(4).collect::<Vec<_>>(),
            "same algorithm, version and parameters"
        );
    }

    #[test]
    fn argon2id_round_trip() {
        let phc = hash_password("correct horse").expect("hash");
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("correct hors", &phc));
        assert!(!verify_password("x", "not a phc string"));
    }
}
