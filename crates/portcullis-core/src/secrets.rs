//! Random secrets and what is stored in their place.
//!
//! Codes, refresh tokens and session ids are high-entropy, so the store keeps a plain SHA-256
//! of them: a leaked database yields nothing presentable. Client secrets are also high-entropy
//! and are kept as HMAC-SHA-256 under the master key, verified in constant time — a password
//! KDF would make the token endpoint hashing-bound for no gain.

use aws_lc_rs::{
    constant_time, digest, hmac,
    rand::{SecureRandom, SystemRandom},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

/// A new random secret of `bytes` bytes, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    // The system RNG failing is not recoverable; aws-lc aborts rather than return weak bytes.
    SystemRandom::new().fill(&mut buffer).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(buffer)
}

/// A new random identifier of `bytes` bytes, lowercase hex (for ids shown to people).
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    SystemRandom::new().fill(&mut buffer).unwrap_or_default();
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random identifier of `length` letters and digits (client ids: nothing a command
/// line or a URL would read specially, like a leading `-`).
pub fn random_alphanumeric(length: usize) -> String {
    use rand::{distributions::Alphanumeric, rngs::OsRng, Rng};
    OsRng
        .sample_iter(&Alphanumeric)
        .take(length)
        .map(char::from)
        .collect()
}

/// SHA-256 of a presented secret: the form in which it is stored and looked up.
pub fn lookup_hash(secret: &str) -> Vec<u8> {
    digest::digest(&digest::SHA256, secret.as_bytes())
        .as_ref()
        .to_vec()
}

/// Compares two byte strings in constant time.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// Keyed hashing of client secrets under the tenant's master key.
#[derive(Clone)]
pub struct SecretHasher {
    key: hmac::Key,
}

impl std::fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHasher([redacted])")
    }
}

impl SecretHasher {
    pub fn new(master_key: &[u8]) -> Self {
        // A derived key, so the master key itself is never used for two purposes.
        let derived = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, master_key),
            b"client-secret",
        );
        SecretHasher {
            key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    pub fn hash(&self, secret: &str) -> Vec<u8> {
        hmac::sign(&self.key, secret.as_bytes()).as_ref().to_vec()
    }

    pub fn verify(&self, secret: &str, stored: &[u8]) -> bool {
        hmac::verify(&self.key, secret.as_bytes(), stored).is_ok()
    }
}

/// Tags messages with HMAC-SHA-256 under a key derived from the master key for one purpose
/// (`label`): values the server hands out and must recognise later, such as a login form's
/// CSRF value bound to its authorization request.
#[derive(Clone)]
pub struct Mac {
    key: hmac::Key,
}

impl std::fmt::Debug for Mac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Mac([redacted])")
    }
}

impl Mac {
    pub fn new(master_key: &[u8], label: &[u8]) -> Self {
        let derived = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, master_key), label);
        Mac {
            key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    /// The tag of `parts` (each length-prefixed, so that parts cannot be shifted between each
    /// other), base64url.
    pub fn tag(&self, parts: &[&[u8]]) -> String {
        let mut context = hmac::Context::with_key(&self.key);
        for part in parts {
            context.update(&(part.len() as u64).to_be_bytes());
            context.update(part);
        }
        b64url(context.sign().as_ref())
    }

    /// Whether `tag` is the tag of `parts`, compared in constant time.
    pub fn verify(&self, parts: &[&[u8]], tag: &str) -> bool {
        constant_time_eq(self.tag(parts).as_bytes(), tag.as_bytes())
    }
}

/// base64url without padding of arbitrary bytes.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `value` is a SHA-256 digest in base64url without padding, as a PKCE challenge and a
/// JWK thumbprint are: 43 characters that decode to 32 bytes.
pub fn is_b64url_sha256(value: &str) -> bool {
    value.len() == 43
        && URL_SAFE_NO_PAD
            .decode(value)
            .is_ok_and(|digest| digest.len() == 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_secret_hash_verifies_only_the_right_secret() {
        let hasher = SecretHasher::new(&[7u8; 32]);
        let stored = hasher.hash("s3cret");
        assert!(hasher.verify("s3cret", &stored));
        assert!(!hasher.verify("s3cres", &stored));
        assert!(!SecretHasher::new(&[8u8; 32]).verify("s3cret", &stored));
    }

    #[test]
    fn macs_bind_every_part_and_their_purpose() {
        let mac = Mac::new(&[7u8; 32], b"csrf");
        let tag = mac.tag(&[b"cookie", b"query"]);
        assert!(mac.verify(&[b"cookie", b"query"], &tag));
        assert!(!mac.verify(&[b"cookie", b"other"], &tag));
        assert!(!mac.verify(&[b"cookiequery", b""], &tag));
        assert!(!Mac::new(&[7u8; 32], b"other").verify(&[b"cookie", b"query"], &tag));
    }

    #[test]
    fn random_tokens_differ_and_have_the_asked_entropy() {
        let a = random_token(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token(32));
        assert_eq!(random_hex(12).len(), 24);
        let id = random_alphanumeric(32);
        assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
}
