//! Password hashes brought from another system (Auth0's bulk import: `password_hash` and
//! `custom_password_hash`), kept as they came until the user's first successful sign-in, when
//! [`super::needs_rehash`] tells the caller to replace them with argon2id.
//!
//! Every algorithm is the crate's that owns it (`bcrypt`, `argon2`, `pbkdf2`, `sha2`, `md-5`),
//! and every comparison of digests is constant-time (`subtle`). What is stored:
//! - bcrypt: its modular crypt string (`$2a$`, `$2b$`, `$2y$`), as Auth0 exports it;
//! - argon2 and PBKDF2: their PHC strings, as Auth0 imports them;
//! - a salted SHA-256, SHA-512 or MD5 digest: [`DIGEST_PREFIX`] and a JSON [`SaltedDigest`]
//!   with the digest and salt decoded to bytes (hex), so checking never decodes user input.

use md5::Md5;
use password_hash::{PasswordHash, PasswordVerifier};
use pbkdf2::Pbkdf2;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

use argon2::password_hash;

/// The start of a stored salted digest.
pub const DIGEST_PREFIX: &str = "$portcullis-digest$";

/// A salted digest as stored: which algorithm, the digest, the salt and where it goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaltedDigest {
    pub algorithm: DigestAlgorithm,
    /// The digest's bytes, in hex.
    pub hash: String,
    /// The salt's bytes, in hex (empty without a salt).
    pub salt: String,
    pub position: SaltPosition,
}

/// The plain digests Auth0 imports that a well-kept crate computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DigestAlgorithm {
    Sha256,
    Sha512,
    Md5,
}

impl DigestAlgorithm {
    fn digest(self, input: &[u8]) -> Vec<u8> {
        match self {
            DigestAlgorithm::Sha256 => Sha256::digest(input).to_vec(),
            DigestAlgorithm::Sha512 => Sha512::digest(input).to_vec(),
            DigestAlgorithm::Md5 => Md5::digest(input).to_vec(),
        }
    }

    /// The digest's length in bytes: an imported value of another length can never match.
    pub fn output_len(self) -> usize {
        match self {
            DigestAlgorithm::Sha256 => 32,
            DigestAlgorithm::Sha512 => 64,
            DigestAlgorithm::Md5 => 16,
        }
    }
}

/// Where the salt goes around the password before digesting (Auth0's `salt.position`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SaltPosition {
    Prefix,
    Suffix,
}

impl SaltedDigest {
    /// The stored form.
    pub fn to_stored(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        format!("{DIGEST_PREFIX}{json}")
    }

    fn verify(&self, password: &str) -> bool {
        let (Ok(expected), Ok(salt)) = (hex::decode(&self.hash), hex::decode(&self.salt)) else {
            return false;
        };
        let mut input = Vec::with_capacity(salt.len() + password.len());
        match self.position {
            SaltPosition::Prefix => {
                input.extend_from_slice(&salt);
                input.extend_from_slice(password.as_bytes());
            }
            SaltPosition::Suffix => {
                input.extend_from_slice(password.as_bytes());
                input.extend_from_slice(&salt);
            }
        }
        let actual = self.algorithm.digest(&input);
        actual.ct_eq(&expected).into()
    }
}

/// Whether `stored` is a bcrypt string (Auth0's export format).
pub fn is_bcrypt(stored: &str) -> bool {
    ["$2a$", "$2b$", "$2y$", "$2x$"]
        .iter()
        .any(|prefix| stored.starts_with(prefix))
}

/// Whether `stored` is a PBKDF2 PHC string the `pbkdf2` crate checks.
pub fn is_pbkdf2(stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| hash.algorithm.as_str().starts_with("pbkdf2"))
}

/// Checks `password` against an imported hash; anything unrecognised never matches.
/// Argon2 PHC strings are checked by the caller ([`super::verify_password`]).
pub fn verify(password: &str, stored: &str) -> bool {
    if is_bcrypt(stored) {
        // The crate compares in constant time; a malformed string is an error, so no match.
        return bcrypt::verify(password, stored).unwrap_or(false);
    }
    if let Some(json) = stored.strip_prefix(DIGEST_PREFIX) {
        return serde_json::from_str::<SaltedDigest>(json)
            .map(|digest| digest.verify(password))
            .unwrap_or(false);
    }
    if is_pbkdf2(stored) {
        return PasswordHash::new(stored)
            .map(|hash| Pbkdf2.verify_password(password.as_bytes(), &hash).is_ok())
            .unwrap_or(false);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcrypt_from_the_crate_and_from_elsewhere() {
        let ours = bcrypt::hash("hunter2", 4).expect("hash");
        assert!(verify("hunter2", &ours));
        assert!(!verify("hunter3", &ours));
        // Made by OpenBSD's reference implementation (a `$2a$` string of its test vectors).
        let reference = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
        assert!(verify("U*U", reference));
        assert!(!verify("U*V", reference));
    }

    #[test]
    fn salted_digests_in_both_positions() {
        // sha256("keyboardcat" + "hello"), Auth0's documented example.
        let digest = SaltedDigest {
            algorithm: DigestAlgorithm::Sha256,
            hash: "7054f76f832d2d4e244f73b3f3f4c3702cb60a573ed12441c90f159df560fcb5".into(),
            salt: hex::encode("keyboardcat"),
            position: SaltPosition::Prefix,
        };
        let stored = digest.to_stored();
        assert!(verify("hello", &stored));
        assert!(!verify("hellO", &stored));
        let suffix = SaltedDigest {
            position: SaltPosition::Suffix,
            ..digest
        };
        assert!(!verify("hello", &suffix.to_stored()));
    }

    #[test]
    fn pbkdf2_phc_strings() {
        use password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::encode_b64(b"0123456789abcdef").expect("salt");
        let phc = Pbkdf2
            .hash_password_customized(
                b"secret",
                Some(pbkdf2::Algorithm::Pbkdf2Sha512.ident()),
                None,
                pbkdf2::Params {
                    rounds: 1000,
                    output_length: 64,
                },
                &salt,
            )
            .expect("hash")
            .to_string();
        assert!(phc.starts_with("$pbkdf2-sha512$"));
        assert!(verify("secret", &phc));
        assert!(!verify("Secret", &phc));
        assert!(!verify("secret", "garbage"));
    }
}
