//! Key material per algorithm: generating a key pair, opening a stored one, its public JWK and
//! its signatures. RS256 and PS256 keys are RSA-2048, ES256 keys P-256; each key signs with
//! exactly one algorithm (RFC 8725 §3.1), so the same bytes never serve two algorithms.

use aws_lc_rs::{
    digest,
    encoding::AsDer,
    rand::SystemRandom,
    rsa::{self, KeySize, PublicKeyComponents},
    signature::{self, EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING},
};
use portcullis_types::SigningAlg;
use serde::Serialize;

use super::KeyError;
use crate::secrets::b64url;

/// A public key as published in the JWKS, with the one algorithm it verifies.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Jwk {
    pub kty: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub alg: &'static str,
    pub kid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

/// RFC 7638 thumbprint input of an RSA key: the required members in lexicographic order.
#[derive(Serialize)]
struct RsaThumbprint<'a> {
    e: &'a str,
    kty: &'a str,
    n: &'a str,
}

/// RFC 7638 thumbprint input of an EC key: the required members in lexicographic order.
#[derive(Serialize)]
struct EcThumbprint<'a> {
    crv: &'a str,
    kty: &'a str,
    x: &'a str,
    y: &'a str,
}

/// An opened private key of one algorithm.
pub(crate) enum KeyPair {
    Rsa(SigningAlg, rsa::KeyPair),
    Ec(EcdsaKeyPair),
}

/// Bytes of an uncompressed P-256 point: the 0x04 tag, then x and y.
const P256_POINT_BYTES: usize = 65;

impl KeyPair {
    /// Generates a new key for `alg`; HS256 has no key pair.
    pub(crate) fn generate(alg: SigningAlg) -> Result<Self, KeyError> {
        match alg {
            SigningAlg::RS256 | SigningAlg::PS256 => Ok(KeyPair::Rsa(
                alg,
                rsa::KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?,
            )),
            SigningAlg::ES256 => Ok(KeyPair::Ec(
                EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                    .map_err(|_| KeyError::Generate)?,
            )),
            SigningAlg::HS256 => Err(KeyError::Generate),
        }
    }

    /// Opens the PKCS#8 DER of key `kid` for `alg`.
    pub(crate) fn from_pkcs8(alg: SigningAlg, kid: &str, der: &[u8]) -> Result<Self, KeyError> {
        let parse = |_| KeyError::Parse(kid.to_owned());
        match alg {
            SigningAlg::RS256 | SigningAlg::PS256 => Ok(KeyPair::Rsa(
                alg,
                rsa::KeyPair::from_pkcs8(der).map_err(parse)?,
            )),
            SigningAlg::ES256 => Ok(KeyPair::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).map_err(parse)?,
            )),
            SigningAlg::HS256 => Err(KeyError::Parse(kid.to_owned())),
        }
    }

    /// The PKCS#8 DER of the private key.
    pub(crate) fn to_pkcs8(&self) -> Result<Vec<u8>, KeyError> {
        match self {
            KeyPair::Rsa(_, pair) => Ok(pair
                .as_der()
                .map_err(|_| KeyError::Generate)?
                .as_ref()
                .to_vec()),
            KeyPair::Ec(pair) => Ok(pair
                .to_pkcs8v1()
                .map_err(|_| KeyError::Generate)?
                .as_ref()
                .to_vec()),
        }
    }

    pub(crate) fn alg(&self) -> SigningAlg {
        match self {
            KeyPair::Rsa(alg, _) => *alg,
            KeyPair::Ec(_) => SigningAlg::ES256,
        }
    }

    /// The public JWK; without `kid`, the key's RFC 7638 thumbprint names it.
    pub(crate) fn public_jwk(&self, kid: Option<&str>) -> Result<Jwk, KeyError> {
        let (mut jwk, thumbprint_input) = match self {
            KeyPair::Rsa(alg, pair) => {
                let components: PublicKeyComponents<Vec<u8>> = pair.public_key().into();
                let (n, e) = (b64url(&components.n), b64url(&components.e));
                let input = serde_json::to_vec(&RsaThumbprint {
                    e: &e,
                    kty: "RSA",
                    n: &n,
                })?;
                let jwk = Jwk {
                    kty: "RSA",
                    use_: "sig",
                    alg: alg.as_str(),
                    kid: String::new(),
                    n: Some(n),
                    e: Some(e),
                    crv: None,
                    x: None,
                    y: None,
                };
                (jwk, input)
            }
            KeyPair::Ec(pair) => {
                let point = pair.public_key().as_ref();
                if point.len() != P256_POINT_BYTES {
                    return Err(KeyError::Generate);
                }
                let (x, y) = (b64url(&point[1..33]), b64url(&point[33..]));
                let input = serde_json::to_vec(&EcThumbprint {
                    crv: "P-256",
                    kty: "EC",
                    x: &x,
                    y: &y,
                })?;
                let jwk = Jwk {
                    kty: "EC",
                    use_: "sig",
                    alg: SigningAlg::ES256.as_str(),
                    kid: String::new(),
                    n: None,
                    e: None,
                    crv: Some("P-256"),
                    x: Some(x),
                    y: Some(y),
                };
                (jwk, input)
            }
        };
        jwk.kid = match kid {
            Some(kid) => kid.to_owned(),
            None => b64url(digest::digest(&digest::SHA256, &thumbprint_input).as_ref()),
        };
        Ok(jwk)
    }

    /// Signs `message` (the JWS signing input) with this key's algorithm; the signature is in
    /// the JWS form (for ES256, the fixed-width `r ‖ s`).
    pub(crate) fn sign(&self, rng: &SystemRandom, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match self {
            KeyPair::Rsa(alg, pair) => {
                let encoding = match alg {
                    SigningAlg::PS256 => &signature::RSA_PSS_SHA256,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut out = vec![0u8; pair.public_modulus_len()];
                pair.sign(encoding, rng, message, &mut out)
                    .map_err(|_| KeyError::Sign)?;
                Ok(out)
            }
            KeyPair::Ec(pair) => Ok(pair
                .sign(rng, message)
                .map_err(|_| KeyError::Sign)?
                .as_ref()
                .to_vec()),
        }
    }
}
