//! Auth0's `custom_password_hash` (the bulk import's per-user object) read into the form
//! [`crate::password::legacy`] stores and checks, or the reason it cannot be.
//!
//! The object follows Auth0's schema: `algorithm`, `hash` (`value`, `encoding`: `utf8` by
//! default, `hex` in either case or `base64` standard or URL-safe; for `hmac` also `digest`
//! and `key` with its `value` and `encoding`), `salt` (`value`, `encoding` `utf8` by default,
//! `position` `prefix` or `suffix`), `password.encoding` (`utf8` by default), and for `scrypt`
//! `keylen`, `cost` (16384), `blockSize` (8) and `parallelization` (1). What each algorithm
//! takes:
//! - `argon2`, `bcrypt`, `pbkdf2`: a string that carries its salt and parameters (argon2's and
//!   PBKDF2's PHC strings, bcrypt's modular crypt form), `hash.encoding` `utf8`, no `salt`;
//! - `md5`, `sha1`, `sha256`, `sha512`: the digest in `hex` or `base64`, an optional `salt`;
//! - `hmac`: the same, with `hash.digest` and `hash.key`;
//! - `scrypt`: the derived key in `hex` or `base64`, `salt` and `keylen` required.
//!
//! `md4`, `ldap`, the HMAC digests `md4`, `ripemd160` and `whirlpool`, and passwords in
//! encodings other than UTF-8 are refused with the row's error: no well-kept crate of the
//! workspace computes them.

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::password::legacy::{self, DigestAlgorithm, SaltPosition, SaltedDigest, ScryptHash};

/// The properties Auth0's schema defines, per object.
const PROPERTIES: &[&str] = &[
    "algorithm",
    "hash",
    "salt",
    "password",
    "keylen",
    "cost",
    "blockSize",
    "parallelization",
];
const HASH_PROPERTIES: &[&str] = &["value", "encoding", "digest", "key"];
const SALT_PROPERTIES: &[&str] = &["value", "encoding", "position"];
const KEY_PROPERTIES: &[&str] = &["value", "encoding"];
const PASSWORD_PROPERTIES: &[&str] = &["encoding"];

/// The largest argon2 memory cost (KiB) an imported hash may ask for: every sign-in with it
/// allocates that much.
const MAX_ARGON2_MEMORY_KIB: u32 = 256 * 1024;
const MAX_ARGON2_TIME: u32 = 32;

/// `custom` as stored, or a message naming what is wrong (the path is the row's
/// `custom_password_hash`).
pub(super) fn stored_form(custom: &Value) -> Result<String, String> {
    let custom = object(custom, "custom_password_hash", PROPERTIES)?;
    let algorithm = custom
        .get("algorithm")
        .and_then(Value::as_str)
        .ok_or("algorithm is required")?;
    let hash = object(
        custom.get("hash").ok_or("hash is required")?,
        "hash",
        HASH_PROPERTIES,
    )?;
    let value = hash
        .get("value")
        .and_then(Value::as_str)
        .ok_or("hash.value is required")?;
    let encoding = text(hash, "encoding", "hash.encoding")?.unwrap_or("utf8");
    let salt = custom
        .get("salt")
        .map(|salt| object(salt, "salt", SALT_PROPERTIES))
        .transpose()?;
    if let Some(password) = custom.get("password") {
        let password = object(password, "password", PASSWORD_PROPERTIES)?;
        match text(password, "encoding", "password.encoding")? {
            None | Some("utf8") => {}
            Some(other) => {
                return Err(format!(
                    "password.encoding {other} is not supported: passwords are checked as utf8"
                ))
            }
        }
    }
    if algorithm != "hmac" && (hash.contains_key("digest") || hash.contains_key("key")) {
        return Err("hash.digest and hash.key are only for the hmac algorithm".into());
    }
    match algorithm {
        "argon2" | "bcrypt" | "pbkdf2" => {
            if encoding != "utf8" {
                return Err(format!("hash.encoding must be utf8 for {algorithm}"));
            }
            if salt.is_some() {
                return Err(format!(
                    "salt is not allowed for {algorithm}: the hash carries its salt"
                ));
            }
            let valid = match algorithm {
                "bcrypt" => {
                    legacy::is_bcrypt(value) && value.parse::<bcrypt::HashParts>().is_ok()
                }
                "argon2" => argon2_within_bounds(value),
                _ => legacy::is_pbkdf2(value),
            };
            if valid {
                Ok(value.to_owned())
            } else {
                Err(match algorithm {
                    "bcrypt" => "hash.value is not a bcrypt hash ($2a$, $2b$ or $2y$)".into(),
                    "argon2" => format!(
                        "hash.value is not an argon2 PHC string ($argon2id$, $argon2i$ or $argon2d$; at most m={MAX_ARGON2_MEMORY_KIB}, t={MAX_ARGON2_TIME})"
                    ),
                    _ => format!(
                        "hash.value is not a PBKDF2 PHC string $pbkdf2-<digest>$i=<rounds>,l=<length>$<salt>$<hash> (digest md5, sha1, sha224, sha256, sha384 or sha512; salt and hash in base64 without padding; at most {} rounds)",
                        legacy::MAX_PBKDF2_ROUNDS
                    ),
                })
            }
        }
        "md5" | "sha1" | "sha256" | "sha512" | "hmac" => {
            let digest = match algorithm {
                "hmac" => hmac_digest(hash)?,
                name => DigestAlgorithm::from_name(name).ok_or("unknown digest")?,
            };
            let bytes = binary(value, encoding, "hash")?;
            if bytes.len() != digest.output_len() {
                return Err(format!(
                    "hash.value has {} bytes; a {algorithm} hash has {}",
                    bytes.len(),
                    digest.output_len()
                ));
            }
            let key = match algorithm {
                "hmac" => Some(hex::encode(hmac_key(hash)?)),
                _ => None,
            };
            let (salt, position) = match salt {
                None => (Vec::new(), SaltPosition::Prefix),
                Some(salt) => (salt_bytes(salt)?, salt_position(salt)?),
            };
            Ok(SaltedDigest {
                algorithm: digest,
                hash: hex::encode(bytes),
                salt: hex::encode(salt),
                position,
                key,
            }
            .to_stored())
        }
        "scrypt" => {
            let bytes = binary(value, encoding, "hash")?;
            let salt = salt.ok_or("salt is required for scrypt")?;
            if salt.contains_key("position") {
                salt_position(salt)?;
            }
            let salt = salt_bytes(salt)?;
            let keylen = integer(custom, "keylen")?.ok_or("keylen is required for scrypt")?;
            if keylen == 0 || usize::try_from(keylen).ok() != Some(bytes.len()) {
                return Err(format!(
                    "keylen must be the length of hash.value in bytes ({})",
                    bytes.len()
                ));
            }
            let cost = integer(custom, "cost")?.unwrap_or(16_384);
            let block_size = small(integer(custom, "blockSize")?.unwrap_or(8), "blockSize")?;
            let parallelization = small(
                integer(custom, "parallelization")?.unwrap_or(1),
                "parallelization",
            )?;
            ScryptHash::new(cost, block_size, parallelization, &salt, &bytes)
                .map(|hash| hash.to_stored())
                .ok_or_else(|| {
                    format!(
                        "cost must be a power of two greater than one, blockSize and parallelization positive, and the hash at most {} MiB of memory",
                        legacy::MAX_SCRYPT_BYTES / (1024 * 1024)
                    )
                })
        }
        "md4" | "ldap" => Err(format!(
            "the algorithm {algorithm} is not supported (no well-kept implementation here)"
        )),
        other => Err(format!(
            "the algorithm {other} is not one of argon2, bcrypt, hmac, ldap, md4, md5, sha1, sha256, sha512, pbkdf2, scrypt"
        )),
    }
}

/// `value` as an object with only `allowed` properties.
fn object<'a>(
    value: &'a Value,
    name: &str,
    allowed: &[&str],
) -> Result<&'a Map<String, Value>, String> {
    let object = value
        .as_object()
        .ok_or_else(|| format!("{name} must be an object"))?;
    match object.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(key) => Err(format!("{name}: additional property not allowed: {key}")),
        None => Ok(object),
    }
}

/// The string property `field`, if there.
fn text<'a>(
    object: &'a Map<String, Value>,
    field: &str,
    path: &str,
) -> Result<Option<&'a str>, String> {
    match object.get(field) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(format!("{path} must be a string")),
    }
}

/// The non-negative integer property `field`, if there.
fn integer(object: &Map<String, Value>, field: &str) -> Result<Option<u64>, String> {
    match object.get(field) {
        None => Ok(None),
        Some(value) => value
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("{field} must be a positive integer")),
    }
}

fn small(value: u64, field: &str) -> Result<u32, String> {
    u32::try_from(value).map_err(|_| format!("{field} is too large"))
}

/// `value` decoded from `encoding`, one of `hex` (either case) or `base64` (standard or
/// URL-safe, with or without padding); `part` names it in the message.
fn binary(value: &str, encoding: &str, part: &str) -> Result<Vec<u8>, String> {
    match encoding {
        "hex" | "base64" => {
            decode(value, encoding).ok_or_else(|| format!("{part}.value is not valid {encoding}"))
        }
        _ => Err(format!("{part}.encoding must be hex or base64")),
    }
}

/// `value` decoded from `encoding` (`utf8`, `hex` or `base64`).
fn decode(value: &str, encoding: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    match encoding {
        "utf8" => Some(value.as_bytes().to_vec()),
        "hex" => hex::decode(value).ok(),
        "base64" => [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(value).ok()),
        _ => None,
    }
}

fn salt_bytes(salt: &Map<String, Value>) -> Result<Vec<u8>, String> {
    let value = text(salt, "value", "salt.value")?.ok_or("salt.value is required")?;
    let encoding = text(salt, "encoding", "salt.encoding")?.unwrap_or("utf8");
    if !matches!(encoding, "utf8" | "hex" | "base64") {
        return Err("salt.encoding must be utf8, hex or base64".into());
    }
    decode(value, encoding).ok_or_else(|| format!("salt.value is not valid {encoding}"))
}

fn salt_position(salt: &Map<String, Value>) -> Result<SaltPosition, String> {
    match text(salt, "position", "salt.position")? {
        Some("prefix") => Ok(SaltPosition::Prefix),
        Some("suffix") => Ok(SaltPosition::Suffix),
        _ => Err("salt.position must be prefix or suffix".into()),
    }
}

/// An HMAC's `hash.digest`.
fn hmac_digest(hash: &Map<String, Value>) -> Result<DigestAlgorithm, String> {
    let name = text(hash, "digest", "hash.digest")?.ok_or("hash.digest is required for hmac")?;
    DigestAlgorithm::from_name(name).ok_or_else(|| match name {
        "md4" | "ripemd160" | "whirlpool" => format!(
            "hash.digest {name} is not supported (no well-kept implementation here); md5, sha1, sha224, sha256, sha384 and sha512 are"
        ),
        other => format!("hash.digest {other} is not one of md4, md5, ripemd160, sha1, sha224, sha256, sha384, sha512, whirlpool"),
    })
}

/// An HMAC's `hash.key`, decoded.
fn hmac_key(hash: &Map<String, Value>) -> Result<Vec<u8>, String> {
    let key = object(
        hash.get("key").ok_or("hash.key is required for hmac")?,
        "hash.key",
        KEY_PROPERTIES,
    )?;
    let value = text(key, "value", "hash.key.value")?.ok_or("hash.key.value is required")?;
    let encoding = text(key, "encoding", "hash.key.encoding")?.unwrap_or("utf8");
    if !matches!(encoding, "utf8" | "hex" | "base64") {
        return Err("hash.key.encoding must be utf8, hex or base64".into());
    }
    decode(value, encoding).ok_or_else(|| format!("hash.key.value is not valid {encoding}"))
}

/// Whether `value` is an argon2 PHC string the `argon2` crate reads, within the bounds a
/// sign-in may cost.
fn argon2_within_bounds(value: &str) -> bool {
    let Ok(phc) = argon2::password_hash::PasswordHash::new(value) else {
        return false;
    };
    let Ok(params) = argon2::Params::try_from(&phc) else {
        return false;
    };
    value.starts_with("$argon2")
        && argon2::Algorithm::try_from(phc.algorithm).is_ok()
        && phc.hash.is_some()
        && params.m_cost() <= MAX_ARGON2_MEMORY_KIB
        && params.t_cost() <= MAX_ARGON2_TIME
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn refusals_name_what_is_wrong() {
        let refused = |custom: Value| stored_form(&custom).unwrap_err();
        assert!(
            refused(json!({"algorithm": "sha256", "hash": {"value": "00"}}))
                .contains("hash.encoding must be hex or base64")
        );
        assert!(
            refused(json!({"algorithm": "md4", "hash": {"value": "00", "encoding": "hex"}}))
                .contains("md4 is not supported")
        );
        assert!(
            refused(json!({"algorithm": "sha256", "hash": {"value": "00"}, "extra": 1}))
                .contains("additional property not allowed: extra")
        );
        assert!(refused(json!({
            "algorithm": "hmac",
            "hash": {"value": "00", "encoding": "hex", "digest": "whirlpool", "key": {"value": "k"}}
        }))
        .contains("whirlpool is not supported"));
        assert!(refused(json!({
            "algorithm": "sha1",
            "hash": {"value": "00", "encoding": "hex"},
            "password": {"encoding": "utf16le"}
        }))
        .contains("password.encoding utf16le"));
        assert!(refused(json!({
            "algorithm": "argon2",
            "hash": {"value": "$argon2id$v=19$m=4194304,t=3,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"}
        }))
        .contains("at most m="));
        assert!(refused(json!({
            "algorithm": "scrypt",
            "hash": {"value": "AAAA", "encoding": "base64"},
            "salt": {"value": "s"},
            "keylen": 3,
            "cost": 3
        }))
        .contains("power of two"));
    }

    #[test]
    fn documented_forms_are_read() {
        // A password given as utf8 explicitly or left to its default.
        for password in [json!({}), json!({"encoding": "utf8"})] {
            let stored = stored_form(&json!({
                "algorithm": "sha256",
                "hash": {"value": "7054F76F832D2D4E244F73B3F3F4C3702CB60A573ED12441C90F159DF560FCB5", "encoding": "hex"},
                "salt": {"value": "keyboardcat", "position": "prefix"},
                "password": password
            }))
            .unwrap();
            assert!(legacy::verify("hello", &stored));
        }
    }
}
