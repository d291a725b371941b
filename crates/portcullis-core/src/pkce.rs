//! PKCE (RFC 7636), S256 only: `plain` exposes the verifier and is refused.

use aws_lc_rs::digest;
use portcullis_store::Client;

use crate::secrets::{b64url, constant_time_eq};

/// Whether `client` must send an S256 challenge with every authorization code request: any
/// client without a secret (`token_endpoint_auth_method: none`), whatever its `app_type`,
/// because nothing else binds its code to it (RFC 9700 §2.1.1).
pub fn is_required(client: &Client) -> bool {
    !client.is_confidential()
}

/// Whether a `code_challenge` is well formed: base64url of a SHA-256, 43 characters.
pub fn is_valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether a `code_verifier` is well formed (RFC 7636 §4.1: 43–128 unreserved characters).
pub fn is_valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Checks a verifier against the S256 challenge stored with the code.
pub fn verify_s256(verifier: &str, challenge: &str) -> bool {
    if !is_valid_verifier(verifier) {
        return false;
    }
    let computed = b64url(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref());
    constant_time_eq(computed.as_bytes(), challenge.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(is_valid_challenge(challenge));
        assert!(verify_s256(verifier, challenge));
        assert!(!verify_s256(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK",
            challenge
        ));
        assert!(!verify_s256("short", challenge));
    }
}
