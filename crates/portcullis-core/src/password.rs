//! Password hashing with argon2id (the `argon2` crate's defaults, OWASP's recommendation).
//!
//! Hashing is CPU- and memory-heavy (19 MiB a hash), so it never runs on the async threads:
//! [`Passwords`] is the one way the rest of the code hashes and checks passwords, on tokio's
//! blocking pool. The free functions below are its primitives.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use portcullis_types::Secret;

/// Hashes `password` into a PHC string.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Checks `password` against a PHC string; a malformed stored hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Spends the same time as a real check, for unknown accounts: the response time must not
/// tell which emails have an account.
pub fn burn_verification(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("dummy password").unwrap_or_default());
    let _ = verify_password(password, dummy);
}

/// Why a password could not be hashed or checked: our failure, never the user's.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Internal(String),
}

/// Hashes and checks passwords off the async threads.
#[derive(Clone, Debug, Default)]
pub struct Passwords;

impl Passwords {
    pub fn new() -> Self {
        Passwords
    }

    /// Hashes `password` into a PHC string.
    pub async fn hash(&self, password: &Secret) -> Result<String, PasswordError> {
        let password = password.clone();
        tokio::task::spawn_blocking(move || hash_password(password.expose_str()))
            .await
            .map_err(|e| PasswordError::Internal(e.to_string()))?
            .map_err(|e| PasswordError::Internal(e.to_string()))
    }

    /// Checks `password` against `stored`. Without a stored hash (an unknown account) the same
    /// work is spent and the answer is `false`, so timing does not tell which it was.
    pub async fn verify(
        &self,
        password: &Secret,
        stored: Option<String>,
    ) -> Result<bool, PasswordError> {
        let password = password.clone();
        tokio::task::spawn_blocking(move || match stored {
            Some(hash) => verify_password(password.expose_str(), &hash),
            None => {
                burn_verification(password.expose_str());
                false
            }
        })
        .await
        .map_err(|e| PasswordError::Internal(e.to_string()))
    }

    /// Whether `password` matches any of the `stored` hashes (a user's recent passwords). Each
    /// hash costs one full check, so callers keep the list short.
    pub async fn matches_any(
        &self,
        password: &Secret,
        stored: Vec<String>,
    ) -> Result<bool, PasswordError> {
        let password = password.clone();
        tokio::task::spawn_blocking(move || {
            stored
                .iter()
                .any(|hash| verify_password(password.expose_str(), hash))
        })
        .await
        .map_err(|e| PasswordError::Internal(e.to_string()))
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

    #[test]
    fn argon2id_round_trip() {
        let phc = hash_password("correct horse").expect("hash");
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("correct hors", &phc));
        assert!(!verify_password("x", "not a phc string"));
    }
}
