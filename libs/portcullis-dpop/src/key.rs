//! The client's side: a DPoP key and the proofs it signs, for Rust clients of a DPoP-protected
//! API (and the tests of the server and the guard).

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{jwk::Jwk, Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::{access_token_hash, thumbprint, ProofError};

/// An ES256 key pair that signs DPoP proofs.
pub struct ProofKey {
    encoding: EncodingKey,
    jwk: Jwk,
}

impl std::fmt::Debug for ProofKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProofKey")
            .field("jkt", &self.jkt())
            .finish_non_exhaustive()
    }
}

/// What a proof says; `iat` and `jti` are chosen by [`ProofKey::proof`] unless given.
#[derive(Clone, Debug, Default)]
pub struct ProofRequest<'a> {
    pub method: &'a str,
    pub url: &'a str,
    /// Seconds since the epoch; `None` for now.
    pub iat: Option<i64>,
    /// `None` for a random one.
    pub jti: Option<&'a str>,
    pub nonce: Option<&'a str>,
    /// The access token the proof accompanies (its hash becomes `ath`).
    pub access_token: Option<&'a str>,
}

#[derive(Serialize)]
struct Claims<'a> {
    jti: String,
    htm: &'a str,
    htu: &'a str,
    iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ath: Option<String>,
}

impl ProofKey {
    /// A new random P-256 key.
    pub fn generate() -> Result<Self, ProofError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| ProofError::Key)?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .map_err(|_| ProofError::Key)?;
        // The uncompressed point: 0x04, then x and y of 32 bytes each.
        let point = pair.public_key().as_ref();
        if point.len() != 65 {
            return Err(ProofError::Key);
        }
        let jwk = serde_json::from_value(serde_json::json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        }))
        .map_err(|_| ProofError::Key)?;
        Ok(Self {
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk,
        })
    }

    /// The public key, as a proof's header carries it.
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The key's RFC 7638 thumbprint: the `cnf.jkt` of the tokens bound to it.
    pub fn jkt(&self) -> String {
        thumbprint(&self.jwk).unwrap_or_default()
    }

    /// Signs a proof for `request`.
    pub fn proof(&self, request: &ProofRequest<'_>) -> Result<String, ProofError> {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".to_owned());
        header.jwk = Some(self.jwk.clone());
        let iat = request.iat.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        });
        let jti = match request.jti {
            Some(jti) => jti.to_owned(),
            None => {
                let mut bytes = [0u8; 16];
                aws_lc_rs::rand::fill(&mut bytes).map_err(|_| ProofError::Key)?;
                URL_SAFE_NO_PAD.encode(bytes)
            }
        };
        let claims = Claims {
            jti,
            htm: request.method,
            htu: request.url,
            iat,
            nonce: request.nonce,
            ath: request.access_token.map(access_token_hash),
        };
        jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(|_| ProofError::Key)
    }
}
