//! Sealing private signing keys under the master key.

use aws_lc_rs::{
    aead::{self, Aad, LessSafeKey, Nonce, UnboundKey},
    hmac,
    rand::{SecureRandom, SystemRandom},
};

use super::KeyError;

/// Seals private keys for the store and opens them again, under the master key.
///
/// Sealed form: `pck1` ‖ 96-bit random nonce ‖ AES-256-GCM ciphertext and tag, with the kid as
/// associated data (a sealed key copied onto another kid's row does not open). The AES key is
/// HMAC-SHA-256(master key, a fixed label), so the master key itself keys only HMACs.
pub struct KeyCipher {
    key: LessSafeKey,
    rng: SystemRandom,
}

pub(super) const SEALED_PREFIX: &[u8] = b"pck1";
const KEY_LABEL: &[u8] = b"portcullis signing-key encryption v1";

impl std::fmt::Debug for KeyCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyCipher([redacted])")
    }
}

impl KeyCipher {
    /// A cipher keyed by `master_key` (32 bytes in practice; any length is accepted).
    pub fn new(master_key: &[u8]) -> Result<Self, KeyError> {
        let derived = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, master_key), KEY_LABEL);
        let key =
            UnboundKey::new(&aead::AES_256_GCM, derived.as_ref()).map_err(|_| KeyError::Seal)?;
        Ok(KeyCipher {
            key: LessSafeKey::new(key),
            rng: SystemRandom::new(),
        })
    }

    /// Encrypts the PKCS#8 DER of key `kid`.
    pub fn seal(&self, kid: &str, pkcs8: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut nonce = [0u8; aead::NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| KeyError::Seal)?;
        let mut in_out = pkcs8.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut in_out,
            )
            .map_err(|_| KeyError::Seal)?;
        let mut sealed = Vec::with_capacity(SEALED_PREFIX.len() + nonce.len() + in_out.len());
        sealed.extend_from_slice(SEALED_PREFIX);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&in_out);
        Ok(sealed)
    }

    /// Decrypts what [`KeyCipher::seal`] produced for key `kid`.
    pub fn open(&self, kid: &str, sealed: &[u8]) -> Result<Vec<u8>, KeyError> {
        let rest = sealed
            .strip_prefix(SEALED_PREFIX)
            .ok_or_else(|| KeyError::NotSealed(kid.to_owned()))?;
        if rest.len() < aead::NONCE_LEN + aead::AES_256_GCM.tag_len() {
            return Err(KeyError::Decrypt(kid.to_owned()));
        }
        let (nonce, ciphertext) = rest.split_at(aead::NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| KeyError::Decrypt(kid.to_owned()))?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut in_out)
            .map_err(|_| KeyError::Decrypt(kid.to_owned()))?;
        Ok(plain.to_vec())
    }
}
