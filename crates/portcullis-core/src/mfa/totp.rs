//! Time-based one-time passwords (RFC 6238) with `totp-rs`: SHA-1, six digits, 30-second
//! steps, what every authenticator app reads from an `otpauth://` URI. A code is accepted for
//! the current step and one step either side (clock drift), and only for a step later than
//! the last one its authenticator accepted: the caller stores that step with one conditional
//! UPDATE, so a code is accepted once.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use qrcode::{render::svg, QrCode};
use rand::{rngs::OsRng, RngCore};
use totp_rs::{Algorithm, TOTP};

use super::MfaError;
use crate::{keys::KeyCipher, secrets::constant_time_eq};

/// Seconds per step.
pub const STEP: i64 = 30;
/// Digits per code.
const DIGITS: usize = 6;
/// Steps accepted either side of the current one.
const SKEW: i64 = 1;
/// Bytes of a new shared key: 160 bits, RFC 4226's recommendation.
const SECRET_BYTES: usize = 20;

/// A new random shared key.
pub(super) fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    OsRng.fill_bytes(&mut secret);
    secret
}

/// What a TOTP authenticator's key is sealed with: the authenticator's id is the associated
/// data, so a sealed key copied onto another row does not open.
fn associated(authenticator_id: &str) -> String {
    format!("mfa-totp:{authenticator_id}")
}

pub(super) fn seal(
    cipher: &KeyCipher,
    authenticator_id: &str,
    secret: &[u8],
) -> Result<Vec<u8>, MfaError> {
    Ok(cipher.seal(&associated(authenticator_id), secret)?)
}

pub(super) fn open(
    cipher: &KeyCipher,
    authenticator_id: &str,
    sealed: &[u8],
) -> Result<Vec<u8>, MfaError> {
    Ok(cipher.open(&associated(authenticator_id), sealed)?)
}

/// The generator of `secret`, labelled for an authenticator app: `issuer` and `account` may
/// not hold a colon in an otpauth label, so one is replaced.
fn generator(secret: &[u8], issuer: &str, account: &str) -> Result<TOTP, MfaError> {
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        0,
        STEP as u64,
        secret.to_vec(),
        Some(issuer.replace(':', " ")),
        account.replace(':', " "),
    )
    .map_err(|error| MfaError::Totp(error.to_string()))
}

/// What the enrolment page shows of a new key.
#[derive(Clone, Debug)]
pub struct Provisioning {
    /// The key in base32, for typing into an app.
    pub secret_base32: String,
    /// The `otpauth://totp/...` URI.
    pub uri: String,
    /// The URI as a QR code: an SVG image as a `data:` URI, for an `<img>`.
    pub qr_data_uri: String,
}

pub(super) fn provisioning(
    secret: &[u8],
    issuer: &str,
    account: &str,
) -> Result<Provisioning, MfaError> {
    let totp = generator(secret, issuer, account)?;
    let uri = totp.get_url();
    let svg = QrCode::new(uri.as_bytes())
        .map_err(|error| MfaError::Totp(error.to_string()))?
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok(Provisioning {
        secret_base32: totp.get_secret_base32(),
        uri,
        qr_data_uri: format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg)),
    })
}

/// The time step `code` is right for at `now`, within the accepted drift; `None` for a wrong
/// code. Every candidate step is compared, in constant time, whatever matched first.
pub(super) fn matching_step(secret: &[u8], code: &str, now: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = generator(secret, "", "").ok()?;
    let current = now.div_euclid(STEP);
    let mut found = None;
    for step in (current - SKEW)..=(current + SKEW) {
        let at = u64::try_from(step * STEP).ok()?;
        if constant_time_eq(totp.generate(at).as_bytes(), code.as_bytes()) {
            found = Some(step);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_their_step_and_its_neighbours_only() {
        let secret = new_secret();
        let totp = generator(&secret, "", "").unwrap();
        let now = 1_700_000_000;
        let code = totp.generate(now as u64);
        assert_eq!(matching_step(&secret, &code, now), Some(now / STEP));
        assert_eq!(matching_step(&secret, &code, now + STEP), Some(now / STEP));
        assert_eq!(matching_step(&secret, &code, now + 3 * STEP), None);
        assert_eq!(matching_step(&secret, "12345", now), None);
    }

    #[test]
    fn provisioning_carries_the_key_and_labels() {
        let secret = new_secret();
        let shown = provisioning(&secret, "login.example.com:8443", "jane@example.com").unwrap();
        assert!(shown.uri.starts_with("otpauth://totp/"));
        assert!(shown.uri.contains(&shown.secret_base32));
        assert!(shown.qr_data_uri.starts_with("data:image/svg+xml;base64,"));
    }
}
