//! Recovery codes: ten random codes shown once at enrolment, each good for one login.
//!
//! They are stored as SHA-256 (`secrets::lookup_hash`), not argon2id like passwords: each code
//! carries 100 random bits, so a stolen table cannot be guessed back whatever the hash's
//! speed, and a fast unkeyed hash lets the store find a code by its hash and use it with one
//! conditional UPDATE (single use, even concurrently) without spending a password-hashing
//! slot.

use rand::{rngs::OsRng, Rng};

use crate::secrets::lookup_hash;

/// How many codes an enrolment gets.
pub const RECOVERY_CODES: usize = 10;

/// The alphabet of codes: 32 letters and digits with the easily confused ones left out, so
/// each character carries 5 bits.
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Characters per code (100 bits), shown in groups of five.
const LENGTH: usize = 20;

/// A new code, grouped for reading: `ABCDE-FGHJK-LMNPQ-RSTUV`.
pub(super) fn new_code() -> String {
    let mut code = String::with_capacity(LENGTH + LENGTH / 5);
    for i in 0..LENGTH {
        if i > 0 && i % 5 == 0 {
            code.push('-');
        }
        code.push(char::from(ALPHABET[OsRng.gen_range(0..ALPHABET.len())]));
    }
    code
}

/// A typed code as it is hashed: without spaces and dashes, in upper case.
pub fn normalize_recovery_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The stored hash of a code, typed or new.
pub(super) fn code_hash(code: &str) -> Vec<u8> {
    lookup_hash(&normalize_recovery_code(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_grouped_and_typed_loosely() {
        let code = new_code();
        assert_eq!(code.len(), 23);
        assert_eq!(code.matches('-').count(), 3);
        assert_eq!(
            code_hash(&code),
            code_hash(&code.to_lowercase().replace('-', " "))
        );
        assert_ne!(new_code(), new_code());
    }
}
