//! The signing secret of an HS256 API: made when not given, sealed under the master key for
//! the store (the API's id as associated data), opened to sign and to verify its tokens.

use portcullis_types::Secret;

use super::{KeyCipher, KeyError};
use crate::secrets::random_token;

/// Random bytes of a generated secret (its text is their base64url, 43 characters).
const GENERATED_SECRET_BYTES: usize = 32;

/// A new random signing secret.
pub fn generate_api_secret() -> Secret {
    Secret::new(random_token(GENERATED_SECRET_BYTES))
}

/// What the cipher binds a sealed secret to: never a key id (those are base64url, without
/// a colon), so a sealed secret cannot be passed off as a sealed key or the other way round.
fn associated_data(api_id: &str) -> String {
    format!("api-signing-secret:{api_id}")
}

/// Seals `secret` of API `api_id` for the store.
pub fn seal_api_secret(
    cipher: &KeyCipher,
    api_id: &str,
    secret: &Secret,
) -> Result<Vec<u8>, KeyError> {
    cipher.seal(&associated_data(api_id), secret.expose_str().as_bytes())
}

/// Opens the sealed secret of API `api_id`.
pub fn open_api_secret(
    cipher: &KeyCipher,
    api_id: &str,
    sealed: &[u8],
) -> Result<Secret, KeyError> {
    let plain = cipher
        .open(&associated_data(api_id), sealed)
        .map_err(|_| KeyError::ApiSecret)?;
    String::from_utf8(plain)
        .map(Secret::new)
        .map_err(|_| KeyError::ApiSecret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_for_its_api() {
        let cipher = KeyCipher::new(&[5; 32]).expect("cipher");
        let secret = generate_api_secret();
        assert_eq!(secret.expose_str().len(), 43);
        let sealed = seal_api_secret(&cipher, "api1", &secret).expect("seal");
        assert_eq!(
            open_api_secret(&cipher, "api1", &sealed)
                .expect("open")
                .expose_str(),
            secret.expose_str()
        );
        assert!(open_api_secret(&cipher, "api2", &sealed).is_err());
        assert!(
            open_api_secret(&KeyCipher::new(&[6; 32]).expect("cipher"), "api1", &sealed).is_err()
        );
    }
}
