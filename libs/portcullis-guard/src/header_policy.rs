//! Checks run on a token before any key lookup or signature work.
//!
//! jsonwebtoken verifies signatures and registered claims well, but it accepts `crit`, `jku`
//! and friends, base64-decodes segments of any size, and would happily look up a kid of any
//! shape. This module refuses all of that cheaply, so that hostile input never reaches the
//! JWKS cache or an RSA operation (see `validation.md` §5).

use std::str::FromStr;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use crate::error::TokenError;

/// The longest `kid` we accept. Real issuers use thumbprints or short names (Auth0: 43–64
/// characters); anything longer is noise an attacker controls.
const MAX_KID_LEN: usize = 128;

/// Header parameters that name keys by reference or by value. We take keys only from the
/// configured JWKS, so a token that carries one of these is either confused or hostile.
const KEY_REFERENCE_PARAMS: [&str; 4] = ["jku", "x5u", "jwk", "x5c"];

/// Header parameters of formats we do not accept: JWE (`enc`, `zip`) and unencoded payloads
/// (`b64`, RFC 7797).
const FOREIGN_FORMAT_PARAMS: [&str; 3] = ["enc", "zip", "b64"];

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
    pub(crate) fn check(&self, token: &str) -> Result<CheckedHeader, TokenError> {
        if token.len() > self.max_token_bytes {
            return Err(TokenError::TooLarge);
        }
        let header_segment = compact_jws_header(token)?;
        let header_json = URL_SAFE_NO_PAD
            .decode(header_segment)
            .map_err(|_| TokenError::Malformed)?;
        let header: Map<String, Value> =
            serde_json::from_slice(&header_json).map_err(|_| TokenError::Malformed)?;

        if KEY_REFERENCE_PARAMS
            .iter()
            .chain(FOREIGN_FORMAT_PARAMS.iter())
            .any(|name| header.contains_key(*name))
        {
            return Err(TokenError::ForbiddenHeader);
        }
        if header.contains_key("crit") {
            return Err(TokenError::CriticalHeader);
        }
        if let Some(content_type) = header.get("cty") {
            // `cty: JWT` means a nested token (RFC 7519 §5.2); access tokens are never nested.
            if content_type
                .as_str()
                .is_none_or(|cty| cty.eq_ignore_ascii_case("jwt"))
            {
                return Err(TokenError::ForbiddenHeader);
            }
        }

        let alg = match header.get("alg") {
            Some(Value::String(name)) => Algorithm::from_str(name)
                .ok()
                .filter(|alg| self.allowed_algorithms.contains(alg))
                .ok_or(TokenError::DisallowedAlgorithm)?,
            _ => return Err(TokenError::DisallowedAlgorithm),
        };

        match header.get("typ") {
            None => {}
            Some(Value::String(typ)) if is_accepted_type(typ) => {}
            Some(_) => return Err(TokenError::UnexpectedType),
        }

        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) if is_acceptable_kid(kid) => Some(kid.clone()),
            Some(_) => return Err(TokenError::InvalidKeyId),
        };

        Ok(CheckedHeader { alg, kid })
    }
}

/// Checks the compact serialisation's shape and returns the header segment: exactly three
/// non-empty segments, base64url characters only. Standard-base64 characters (`+`, `/`, `=`)
/// are refused here rather than left to a decoder's leniency.
fn compact_jws_header(token: &str) -> Result<&str, TokenError> {
    let mut dots = 0usize;
    for byte in token.bytes() {
        match byte {
            b'.' => dots += 1,
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => {}
            _ => return Err(TokenError::Malformed),
        }
    }
    if dots != 2 {
        return Err(TokenError::Malformed);
    }
    let mut segments = token.split('.');
    let header = segments.next().unwrap_or_default();
    if header.is_empty() || segments.any(str::is_empty) {
        return Err(TokenError::Malformed);
    }
    Ok(header)
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
