//! Checks run on a token before any key lookup or signature work.
//!
//! jsonwebtoken verifies signatures and registered claims well, but it accepts `crit`, `jku`
//! and friends, base64-decodes segments of any size, and would happily look up a kid of any
//! shape. This module refuses all of that cheaply, so that hostile input never reaches the
//! JWKS cache or an RSA operation (see `validation.md` §5).

use std::str::FromStr;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::Algorithm;
use serde::{de::IgnoredAny, Deserialize, Deserializer};
use serde_json::Value;

use crate::error::TokenError;

/// The longest `kid` we accept. Real issuers use thumbprints or short names (Auth0: 43–64
/// characters); anything longer is noise an attacker controls.
const MAX_KID_LEN: usize = 128;

/// The header parameters the policy looks at, read in one pass. A member present with any
/// value (`null` included) counts as present; a member given twice makes the header malformed.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RawHeader {
    #[serde(deserialize_with = "present")]
    alg: Option<Value>,
    #[serde(deserialize_with = "present")]
    typ: Option<Value>,
    #[serde(deserialize_with = "present")]
    kid: Option<Value>,
    #[serde(deserialize_with = "present")]
    cty: Option<Value>,
    /// Parameters that name keys by reference or by value (`jku`, `x5u`, `jwk`, `x5c`). We
    /// take keys only from the configured JWKS, so a token that carries one of these is either
    /// confused or hostile.
    #[serde(
        rename = "jku",
        alias = "x5u",
        alias = "jwk",
        alias = "x5c",
        deserialize_with = "seen"
    )]
    names_a_key: bool,
    /// Parameters of formats we do not accept: JWE (`enc`, `zip`) and unencoded payloads
    /// (`b64`, RFC 7797).
    #[serde(
        rename = "enc",
        alias = "zip",
        alias = "b64",
        deserialize_with = "seen"
    )]
    foreign_format: bool,
    #[serde(deserialize_with = "seen")]
    crit: bool,
}

/// A member that is there, whatever its value.
fn present<'de, D: Deserializer<'de>>(member: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(member).map(Some)
}

/// That a member is there; its value is skipped.
fn seen<'de, D: Deserializer<'de>>(member: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(member).map(|_| true)
}

/// What the policy learned from a header it let through.
#[derive(Debug)]
pub(crate) struct CheckedHeader {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
}

/// The configured limits.
#[derive(Debug, Clone)]
pub(crate) struct HeaderPolicy {
    pub(crate) max_token_bytes: usize,
    pub(crate) allowed_algorithms: Vec<Algorithm>,
}

impl HeaderPolicy {
    /// Checks the header of a token already split by [`CompactJws::split`] (which checked its
    /// size and shape).
    pub(crate) fn check(&self, jws: &CompactJws<'_>) -> Result<CheckedHeader, TokenError> {
        let header_json = URL_SAFE_NO_PAD
            .decode(jws.header)
            .map_err(|_| TokenError::Malformed)?;
        if !header_json.trim_ascii_start().starts_with(b"{") {
            return Err(TokenError::Malformed);
        }
        let header: RawHeader =
            serde_json::from_slice(&header_json).map_err(|_| TokenError::Malformed)?;

        if header.names_a_key || header.foreign_format {
            return Err(TokenError::ForbiddenHeader);
        }
        if header.crit {
            return Err(TokenError::CriticalHeader);
        }
        if let Some(content_type) = &header.cty {
            // `cty: JWT` means a nested token (RFC 7519 §5.2); access tokens are never nested.
            if content_type
                .as_str()
                .is_none_or(|cty| cty.eq_ignore_ascii_case("jwt"))
            {
                return Err(TokenError::ForbiddenHeader);
            }
        }

        let alg = match &header.alg {
            Some(Value::String(name)) => Algorithm::from_str(name)
                .ok()
                .filter(|alg| self.allowed_algorithms.contains(alg))
                .ok_or(TokenError::DisallowedAlgorithm)?,
            _ => return Err(TokenError::DisallowedAlgorithm),
        };

        match &header.typ {
            None => {}
            Some(Value::String(typ)) if is_accepted_type(typ) => {}
            Some(_) => return Err(TokenError::UnexpectedType),
        }

        let kid = match header.kid {
            None => None,
            Some(Value::String(kid)) if is_acceptable_kid(&kid) => Some(kid),
            Some(_) => return Err(TokenError::InvalidKeyId),
        };

        Ok(CheckedHeader { alg, kid })
    }
}

/// A compact JWS (RFC 7515 §7.1) split into its segments once, so that no later step searches
/// the token for dots again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CompactJws<'a> {
    pub(crate) header: &'a str,
    pub(crate) payload: &'a str,
    /// `header.payload`, the bytes the signature covers.
    pub(crate) signing_input: &'a str,
    pub(crate) signature: &'a str,
}

impl<'a> CompactJws<'a> {
    /// Checks the compact serialisation's shape: at most `max_bytes`, exactly three non-empty
    /// segments, base64url characters only. Standard-base64 characters (`+`, `/`, `=`) are
    /// refused here rather than left to a decoder's leniency.
    pub(crate) fn split(token: &'a str, max_bytes: usize) -> Result<Self, TokenError> {
        if token.len() > max_bytes {
            return Err(TokenError::TooLarge);
        }
        let (signing_input, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let (header, payload) = signing_input.split_once('.').ok_or(TokenError::Malformed)?;
        if [header, payload, signature]
            .iter()
            .any(|segment| segment.is_empty() || !is_base64url(segment.as_bytes()))
        {
            return Err(TokenError::Malformed);
        }
        Ok(Self {
            header,
            payload,
            signing_input,
            signature,
        })
    }
}

/// Whether every byte is of the base64url alphabet (RFC 4648 §5). The fold has no early exit,
/// so that it compiles to vector compares: a token is checked in tens of nanoseconds.
fn is_base64url(segment: &[u8]) -> bool {
    segment.iter().fold(true, |all, &byte| {
        let digit = byte.wrapping_sub(b'0') < 10;
        let letter = (byte | 0x20).wrapping_sub(b'a') < 26;
        all & (digit | letter | (byte == b'-') | (byte == b'_'))
    })
}

/// `typ` is compared case-insensitively, with or without the `application/` prefix
/// (RFC 7515 §4.1.9, RFC 9068 §2.1).
fn is_accepted_type(typ: &str) -> bool {
    let media_type = match (typ.get(..12), typ.get(12..)) {
        (Some(prefix), Some(rest)) if prefix.eq_ignore_ascii_case("application/") => rest,
        _ => typ,
    };
    media_type.eq_ignore_ascii_case("jwt") || media_type.eq_ignore_ascii_case("at+jwt")
}

/// A kid is only ever a key into an in-memory map, but we still refuse shapes that are only
/// useful for injection elsewhere (paths, quotes, whitespace): a log line or a downstream
/// system should never see them. `+` and `=` stay allowed because some issuers (AWS Cognito)
/// use standard-base64 kids.
fn is_acceptable_kid(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= MAX_KID_LEN
        && !kid.contains("..")
        && kid.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'+' | b'=' | b'~')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kid_shapes() {
        assert!(is_acceptable_kid(
            "NjVBRjY5MDlCMUIwNzU4RTA2QzZFMDQ4QzQ2MDAyQjVDNjk1RTM2Qg"
        ));
        assert!(is_acceptable_kid("k1-2026.11"));
        assert!(is_acceptable_kid("abcdEXAMPLE+="));
        for bad in [
            "",
            "../../dev/null",
            "a/b",
            "a\\b",
            "k'1",
            "k\"1",
            "a b",
            "a\0b",
            "..",
        ] {
            assert!(!is_acceptable_kid(bad), "{bad:?} should be refused");
        }
        assert!(!is_acceptable_kid(&"k".repeat(MAX_KID_LEN + 1)));
    }

    #[test]
    fn base64url_alphabet() {
        let alphabet: Vec<u8> = (b'A'..=b'Z')
            .chain(b'a'..=b'z')
            .chain(b'0'..=b'9')
            .chain([b'-', b'_'])
            .collect();
        assert!(is_base64url(&alphabet));
        for byte in 0..=u8::MAX {
            assert_eq!(
                is_base64url(&[byte]),
                alphabet.contains(&byte),
                "byte {byte:#04x}"
            );
        }
    }

    #[test]
    fn compact_shape() {
        let jws = CompactJws::split("aGVhZA.cGF5bG9hZA.c2ln", 100).expect("three segments");
        assert_eq!(
            (jws.header, jws.payload, jws.signing_input, jws.signature),
            ("aGVhZA", "cGF5bG9hZA", "aGVhZA.cGF5bG9hZA", "c2ln")
        );
        for bad in [
            "a.b", "a.b.c.d", ".b.c", "a..c", "a.b.", "a+.b.c", "a.b/.c", "a.b.c=", "a.b.c ", "",
        ] {
            assert!(
                matches!(CompactJws::split(bad, 100), Err(TokenError::Malformed)),
                "{bad:?}"
            );
        }
        assert!(matches!(
            CompactJws::split("aGVhZA.cGF5bG9hZA.c2ln", 10),
            Err(TokenError::TooLarge)
        ));
    }

    #[test]
    fn types() {
        for good in [
            "JWT",
            "jwt",
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/JWT",
        ] {
            assert!(is_accepted_type(good), "{good}");
        }
        for bad in [
            "",
            "JWS",
            "dpop+jwt",
            "application/",
            "application/json",
            "at+jwt ",
        ] {
            assert!(!is_accepted_type(bad), "{bad}");
        }
    }
}
