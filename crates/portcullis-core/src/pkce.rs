//! PKCE (RFC 7636), S256 only: `plain` exposes the verifier and is refused.

use aws_lc_rs::digest;
use portcullis_store::Client;

use crate::secrets::{b64url, constant_time_eq, is_b64url_sha256};

/// Whether `client` must send an S256 challenge with every authorization code request: any
/// client without a secret (`token_endpoint_auth_method: none`), whatever its `app_type`,
/// because nothing else binds its code to it (RFC 9700 §2.1.1).
pub fn is_required(client: &Client) -> bool {
    !client.is_confidential()
}

/// Whether a `code_challenge` is well formed: base64url of a SHA-256, 43 characters.
pub fn is_valid_challenge(challenge: &str) -> bool {
    is_b64url_sha256(challenge)
}

/// The PKCE parameters of an authorization code request, checked: S256 only, and required of
/// a client without a secret. The error is the reason to refuse the request with
/// `invalid_request`.
pub fn check_request(
    client: &Client,
    challenge: Option<&str>,
    method: Option<&str>,
) -> Result<(), &'static str> {
    match (challenge, method) {
        (Some(challenge), Some("S256")) if is_valid_challenge(challenge) => Ok(()),
        (Some(_), Some("S256")) => Err("code_challenge must be a base64url SHA-256 (43 characters)"),
        (Some(_), _) => Err("code_challenge_method must be S256"),
        (None, Some(_)) => Err("Missing required parameter: code_challenge"),
        (None, None) if is_required(client) => Err(
            "PKCE is required for public clients: send code_challenge with code_challenge_method=S256",
        ),
        (None, None) => Ok(()),
    }
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

#[cfg(test)]
mod properties {
    use aws_lc_rs::digest;
    use proptest::prelude::*;

    use super::*;
    use crate::secrets::b64url;

    fn s256(verifier: &str) -> String {
        b64url(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref())
    }

    proptest! {
        #[test]
        fn the_s256_of_a_verifier_matches_it(verifier in "[A-Za-z0-9._~-]{43,128}") {
            let challenge = s256(&verifier);
            prop_assert!(is_valid_verifier(&verifier));
            prop_assert!(is_valid_challenge(&challenge));
            prop_assert!(verify_s256(&verifier, &challenge));
        }

        #[test]
        fn any_other_verifier_fails(
            verifier in "[A-Za-z0-9._~-]{43,128}",
            other in "[A-Za-z0-9._~-]{43,128}",
        ) {
            prop_assume!(verifier != other);
            prop_assert!(!verify_s256(&other, &s256(&verifier)));
        }

        #[test]
        fn the_challenge_itself_or_a_near_miss_fails(
            verifier in "[A-Za-z0-9._~-]{43,128}",
            at in any::<prop::sample::Index>(),
        ) {
            let challenge = s256(&verifier);
            // `plain`: sending the challenge as the verifier.
            prop_assert!(!verify_s256(&challenge, &challenge));
            // One character changed.
            let mut bytes = verifier.clone().into_bytes();
            let i = at.index(bytes.len());
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            let near = String::from_utf8(bytes).unwrap();
            prop_assert!(!verify_s256(&near, &challenge));
            // A different case.
            let upper = verifier.to_ascii_uppercase();
            if upper != verifier {
                prop_assert!(!verify_s256(&upper, &challenge));
            }
        }

        #[test]
        fn a_verifier_of_the_wrong_length_fails_even_with_its_own_challenge(
            verifier in prop_oneof!["[A-Za-z0-9._~-]{0,42}", "[A-Za-z0-9._~-]{129,200}"],
        ) {
            prop_assert!(!is_valid_verifier(&verifier));
            prop_assert!(!verify_s256(&verifier, &s256(&verifier)));
        }

        #[test]
        fn a_verifier_outside_the_unreserved_set_fails_even_with_its_own_challenge(
            head in "[A-Za-z0-9._~-]{21,60}",
            bad in "[^A-Za-z0-9._~-]",
            tail in "[A-Za-z0-9._~-]{21,60}",
        ) {
            let verifier = format!("{head}{bad}{tail}");
            prop_assert!(!is_valid_verifier(&verifier));
            prop_assert!(!verify_s256(&verifier, &s256(&verifier)));
        }

        #[test]
        fn a_challenge_is_43_base64url_characters(challenge in "\\PC{0,50}") {
            let expected = challenge.len() == 43
                && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            prop_assert_eq!(is_valid_challenge(&challenge), expected);
        }
    }
}
