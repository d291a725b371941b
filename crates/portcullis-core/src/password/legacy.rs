//! Password hashes brought from another system (Auth0's bulk import: `password_hash` and
//! `custom_password_hash`), kept as they came until the user's first successful sign-in, when
//! [`super::needs_rehash`] tells the caller to replace them with argon2id.
//!
//! Every algorithm is the crate's that owns it (`bcrypt`, `argon2`, `pbkdf2`, `scrypt`, `hmac`,
//! `sha1`, `sha2`, `md-5`), and every comparison of digests is constant-time (`subtle`). What
//! is stored:
//! - bcrypt: its modular crypt string (`$2a$`, `$2b$`, `$2y$`), as Auth0 exports it;
//! - argon2: its PHC string, as Auth0 imports it;
//! - PBKDF2: its PHC string as Auth0 documents it, `$pbkdf2-<digest>$i=<rounds>,l=<length>$<salt>$<hash>`
//!   (salt and hash in unpadded base64; `$pbkdf2$` is PBKDF2-SHA1 as the `pbkdf2` crate writes it);
//! - a salted MD5, SHA-1, SHA-256 or SHA-512 digest, or an HMAC of the salted password:
//!   [`DIGEST_PREFIX`] and a JSON [`SaltedDigest`] with the bytes in hex;
//! - scrypt: [`SCRYPT_PREFIX`] and a JSON [`ScryptHash`].
//!
//! Checking never decodes what the user typed, only the stored bytes.

use hmac::{
    digest::{core_api::BlockSizeUser, KeyInit},
    Mac, SimpleHmac,
};
use md5::Md5;
use password_hash::PasswordHash;
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};
use subtle::ConstantTimeEq;

use argon2::password_hash;

/// The start of a stored salted digest or HMAC.
pub const DIGEST_PREFIX: &str = "$portcullis-digest$";
/// The start of a stored scrypt hash.
pub const SCRYPT_PREFIX: &str = "$portcullis-scrypt$";

/// The most PBKDF2 rounds an imported hash may ask for: a sign-in never holds a hashing
/// thread for seconds.
pub const MAX_PBKDF2_ROUNDS: u32 = 5_000_000;
/// The most memory an imported scrypt hash may ask for (128 · N · r · p bytes).
pub const MAX_SCRYPT_BYTES: u64 = 256 * 1024 * 1024;

/// A salted digest as stored: which algorithm, the digest, the salt and where it goes; with a
/// `key`, an HMAC under that key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaltedDigest {
    pub algorithm: DigestAlgorithm,
    /// The digest's bytes, in hex.
    pub hash: String,
    /// The salt's bytes, in hex (empty without a salt).
    pub salt: String,
    pub position: SaltPosition,
    /// The HMAC key's bytes, in hex: the digest is `HMAC(key, salted password)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// The digests Auth0 names (plain, as an HMAC's or as PBKDF2's) that a well-kept crate computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DigestAlgorithm {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

/// An HMAC of `input` under `key` with the digest `D`.
fn mac<D: Digest + BlockSizeUser>(key: &[u8], input: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length.
    let mut mac = <SimpleHmac<D> as KeyInit>::new_from_slice(key).expect("any length");
    Mac::update(&mut mac, input);
    mac.finalize().into_bytes().to_vec()
}

impl DigestAlgorithm {
    /// The digest Auth0 spells `name` (`md5`, `sha1`, `sha224`, `sha256`, `sha384`, `sha512`).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "md5" => DigestAlgorithm::Md5,
            "sha1" => DigestAlgorithm::Sha1,
            "sha224" => DigestAlgorithm::Sha224,
            "sha256" => DigestAlgorithm::Sha256,
            "sha384" => DigestAlgorithm::Sha384,
            "sha512" => DigestAlgorithm::Sha512,
            _ => return None,
        })
    }

    fn digest(self, input: &[u8]) -> Vec<u8> {
        match self {
            DigestAlgorithm::Md5 => Md5::digest(input).to_vec(),
            DigestAlgorithm::Sha1 => Sha1::digest(input).to_vec(),
            DigestAlgorithm::Sha224 => Sha224::digest(input).to_vec(),
            DigestAlgorithm::Sha256 => Sha256::digest(input).to_vec(),
            DigestAlgorithm::Sha384 => Sha384::digest(input).to_vec(),
            DigestAlgorithm::Sha512 => Sha512::digest(input).to_vec(),
        }
    }

    fn hmac(self, key: &[u8], input: &[u8]) -> Vec<u8> {
        match self {
            DigestAlgorithm::Md5 => mac::<Md5>(key, input),
            DigestAlgorithm::Sha1 => mac::<Sha1>(key, input),
            DigestAlgorithm::Sha224 => mac::<Sha224>(key, input),
            DigestAlgorithm::Sha256 => mac::<Sha256>(key, input),
            DigestAlgorithm::Sha384 => mac::<Sha384>(key, input),
            DigestAlgorithm::Sha512 => mac::<Sha512>(key, input),
        }
    }

    fn pbkdf2(self, password: &[u8], salt: &[u8], rounds: u32, output: &mut [u8]) {
        use pbkdf2::pbkdf2_hmac;
        match self {
            DigestAlgorithm::Md5 => pbkdf2_hmac::<Md5>(password, salt, rounds, output),
            DigestAlgorithm::Sha1 => pbkdf2_hmac::<Sha1>(password, salt, rounds, output),
            DigestAlgorithm::Sha224 => pbkdf2_hmac::<Sha224>(password, salt, rounds, output),
            DigestAlgorithm::Sha256 => pbkdf2_hmac::<Sha256>(password, salt, rounds, output),
            DigestAlgorithm::Sha384 => pbkdf2_hmac::<Sha384>(password, salt, rounds, output),
            DigestAlgorithm::Sha512 => pbkdf2_hmac::<Sha512>(password, salt, rounds, output),
        }
    }

    /// The digest's length in bytes: an imported value of another length can never match.
    pub fn output_len(self) -> usize {
        match self {
            DigestAlgorithm::Md5 => 16,
            DigestAlgorithm::Sha1 => 20,
            DigestAlgorithm::Sha224 => 28,
            DigestAlgorithm::Sha256 => 32,
            DigestAlgorithm::Sha384 => 48,
            DigestAlgorithm::Sha512 => 64,
        }
    }
}

/// Where the salt goes around the password before digesting (Auth0's `salt.position`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SaltPosition {
    Prefix,
    Suffix,
}

impl SaltedDigest {
    /// The stored form.
    pub fn to_stored(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        format!("{DIGEST_PREFIX}{json}")
    }

    fn verify(&self, password: &str) -> bool {
        let (Ok(expected), Ok(salt)) = (hex::decode(&self.hash), hex::decode(&self.salt)) else {
            return false;
        };
        let mut input = Vec::with_capacity(salt.len() + password.len());
        match self.position {
            SaltPosition::Prefix => {
                input.extend_from_slice(&salt);
                input.extend_from_slice(password.as_bytes());
            }
            SaltPosition::Suffix => {
                input.extend_from_slice(password.as_bytes());
                input.extend_from_slice(&salt);
            }
        }
        let actual = match &self.key {
            None => self.algorithm.digest(&input),
            Some(key) => match hex::decode(key) {
                Ok(key) => self.algorithm.hmac(&key, &input),
                Err(_) => return false,
            },
        };
        actual.ct_eq(&expected).into()
    }
}

/// An scrypt hash as stored: its parameters, salt and derived key (bytes in hex); the key's
/// length is Auth0's `keylen`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScryptHash {
    /// log2 of the cost N (Auth0's `cost`).
    pub log_n: u8,
    /// Auth0's `blockSize`.
    pub r: u32,
    /// Auth0's `parallelization`.
    pub p: u32,
    pub salt: String,
    pub hash: String,
}

impl ScryptHash {
    /// The hash with Auth0's parameters, if scrypt takes them within [`MAX_SCRYPT_BYTES`]:
    /// `cost` a power of two greater than one, `block_size` and `parallelization` positive.
    pub fn new(
        cost: u64,
        block_size: u32,
        parallelization: u32,
        salt: &[u8],
        hash: &[u8],
    ) -> Option<Self> {
        if cost < 2 || !cost.is_power_of_two() || block_size == 0 || parallelization == 0 {
            return None;
        }
        let bytes = 128u64
            .checked_mul(cost)?
            .checked_mul(u64::from(block_size))?
            .checked_add(128u64 * u64::from(block_size) * u64::from(parallelization))?;
        if bytes > MAX_SCRYPT_BYTES || hash.is_empty() {
            return None;
        }
        let log_n = u8::try_from(cost.trailing_zeros()).ok()?;
        scrypt::Params::new(log_n, block_size, parallelization).ok()?;
        Some(ScryptHash {
            log_n,
            r: block_size,
            p: parallelization,
            salt: hex::encode(salt),
            hash: hex::encode(hash),
        })
    }

    /// The stored form.
    pub fn to_stored(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        format!("{SCRYPT_PREFIX}{json}")
    }

    fn verify(&self, password: &str) -> bool {
        let (Ok(expected), Ok(salt)) = (hex::decode(&self.hash), hex::decode(&self.salt)) else {
            return false;
        };
        let Ok(params) = scrypt::Params::new(self.log_n, self.r, self.p) else {
            return false;
        };
        let mut actual = vec![0u8; expected.len()];
        if expected.is_empty()
            || scrypt::scrypt(password.as_bytes(), &salt, &params, &mut actual).is_err()
        {
            return false;
        }
        actual.ct_eq(&expected).into()
    }
}

/// Whether `stored` is a bcrypt string (Auth0's export format).
pub fn is_bcrypt(stored: &str) -> bool {
    ["$2a$", "$2b$", "$2y$", "$2x$"]
        .iter()
        .any(|prefix| stored.starts_with(prefix))
}

/// A PBKDF2 PHC string read: its digest, rounds, salt and derived key.
struct Pbkdf2Phc {
    digest: DigestAlgorithm,
    rounds: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

/// `stored` read as a PBKDF2 PHC string: `$pbkdf2-<digest>$i=<rounds>[,l=<length>]$<salt>$<hash>`
/// with a digest of [`DigestAlgorithm`] (`$pbkdf2$` is SHA-1), rounds up to
/// [`MAX_PBKDF2_ROUNDS`], and `l`, when given, the hash's length.
fn pbkdf2_phc(stored: &str) -> Option<Pbkdf2Phc> {
    let phc = PasswordHash::new(stored).ok()?;
    let digest = match phc.algorithm.as_str() {
        "pbkdf2" => DigestAlgorithm::Sha1,
        other => DigestAlgorithm::from_name(other.strip_prefix("pbkdf2-")?)?,
    };
    let rounds = phc.params.get_decimal("i")?;
    let hash = phc.hash?.as_bytes().to_vec();
    if let Some(length) = phc.params.get_decimal("l") {
        if usize::try_from(length).ok()? != hash.len() {
            return None;
        }
    }
    let known = |name: &str| matches!(name, "i" | "l");
    if phc.params.iter().any(|(name, _)| !known(name.as_str())) {
        return None;
    }
    let mut buffer = [0u8; 64];
    let salt = phc.salt?.decode_b64(&mut buffer).ok()?.to_vec();
    (1..=MAX_PBKDF2_ROUNDS)
        .contains(&rounds)
        .then_some(Pbkdf2Phc {
            digest,
            rounds,
            salt,
            hash,
        })
}

/// Whether `stored` is a PBKDF2 PHC string this module checks.
pub fn is_pbkdf2(stored: &str) -> bool {
    pbkdf2_phc(stored).is_some()
}

/// Checks `password` against an imported hash; anything unrecognised never matches.
/// Argon2 PHC strings are checked by the caller ([`super::verify_password`]).
pub fn verify(password: &str, stored: &str) -> bool {
    if is_bcrypt(stored) {
        // The crate compares in constant time; a malformed string is an error, so no match.
        return bcrypt::verify(password, stored).unwrap_or(false);
    }
    if let Some(json) = stored.strip_prefix(DIGEST_PREFIX) {
        return serde_json::from_str::<SaltedDigest>(json)
            .map(|digest| digest.verify(password))
            .unwrap_or(false);
    }
    if let Some(json) = stored.strip_prefix(SCRYPT_PREFIX) {
        return serde_json::from_str::<ScryptHash>(json)
            .map(|hash| hash.verify(password))
            .unwrap_or(false);
    }
    if let Some(phc) = pbkdf2_phc(stored) {
        let mut actual = vec![0u8; phc.hash.len()];
        phc.digest
            .pbkdf2(password.as_bytes(), &phc.salt, phc.rounds, &mut actual);
        return actual.ct_eq(&phc.hash).into();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcrypt_from_the_crate_and_from_elsewhere() {
        let ours = bcrypt::hash("hunter2", 4).expect("hash");
        assert!(verify("hunter2", &ours));
        assert!(!verify("hunter3", &ours));
        // Made by OpenBSD's reference implementation (a `$2a$` string of its test vectors).
        let reference = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
        assert!(verify("U*U", reference));
        assert!(!verify("U*V", reference));
    }

    #[test]
    fn salted_digests_in_both_positions() {
        // sha256("keyboardcat" + "hello"), Auth0's documented example.
        let digest = SaltedDigest {
            algorithm: DigestAlgorithm::Sha256,
            hash: "7054f76f832d2d4e244f73b3f3f4c3702cb60a573ed12441c90f159df560fcb5".into(),
            salt: hex::encode("keyboardcat"),
            position: SaltPosition::Prefix,
            key: None,
        };
        let stored = digest.to_stored();
        assert!(verify("hello", &stored));
        assert!(!verify("hellO", &stored));
        let suffix = SaltedDigest {
            position: SaltPosition::Suffix,
            ..digest
        };
        assert!(!verify("hello", &suffix.to_stored()));
    }

    #[test]
    fn pbkdf2_phc_strings() {
        use password_hash::{PasswordHasher, SaltString};
        use pbkdf2::Pbkdf2;
        let salt = SaltString::encode_b64(b"0123456789abcdef").expect("salt");
        let phc = Pbkdf2
            .hash_password_customized(
                b"secret",
                Some(pbkdf2::Algorithm::Pbkdf2Sha512.ident()),
                None,
                pbkdf2::Params {
                    rounds: 1000,
                    output_length: 64,
                },
                &salt,
            )
            .expect("hash")
            .to_string();
        assert!(phc.starts_with("$pbkdf2-sha512$"));
        assert!(verify("secret", &phc));
        assert!(!verify("Secret", &phc));
        assert!(!verify("secret", "garbage"));
    }

    /// Vectors made with Python's `hashlib` and `hmac` (see the import tests' fixture).
    #[test]
    fn pbkdf2_in_auth0s_phc_form_scrypt_and_hmacs() {
        for phc in [
            "$pbkdf2-sha256$i=10000,l=32$cGJrZGYyLXNhbHQtMDEyMw$iwC3KT07r80f3q44dDdeZKJSM+/goBvVxoA/XNK/O6I",
            "$pbkdf2-sha1$i=10000,l=20$cGJrZGYyLXNhbHQtMDEyMw$L3K1pRz1n778ozfWT9nGUevIa+Y",
        ] {
            assert!(is_pbkdf2(phc), "{phc}");
            assert!(verify("Pbkdf2-Secret!", phc), "{phc}");
            assert!(!verify("Pbkdf2-Secret?", phc), "{phc}");
        }
        // A length that is not the hash's, or rounds past the bound, is not read.
        assert!(!is_pbkdf2(
            "$pbkdf2-sha1$i=10000,l=21$cGJrZGYyLXNhbHQtMDEyMw$L3K1pRz1n778ozfWT9nGUevIa+Y"
        ));
        assert!(!is_pbkdf2(
            "$pbkdf2-sha1$i=99999999,l=20$cGJrZGYyLXNhbHQtMDEyMw$L3K1pRz1n778ozfWT9nGUevIa+Y"
        ));

        let scrypt = ScryptHash::new(
            16_384,
            8,
            1,
            b"scrypt-salt",
            &hex::decode("325b47ad7c6213c7dd3ee7b7b5d3c8de82855a3f9d13695c831a1fc0ec788fc6a0b1677bc1182d1e95e439bf82a07d8183c5cc923ec0eb293bc801afc4bd37f3").unwrap(),
        )
        .expect("within bounds")
        .to_stored();
        assert!(verify("Scrypt-Secret!", &scrypt));
        assert!(!verify("Scrypt-Secret?", &scrypt));
        assert!(
            ScryptHash::new(1 << 22, 8, 1, b"s", b"h").is_none(),
            "1 GiB"
        );

        let hmac = SaltedDigest {
            algorithm: DigestAlgorithm::Sha256,
            hash: "3042e1766096aad6b30ab5ab35076a50d2240461c211fe10ec6ec78c6c1c5646".into(),
            salt: hex::encode("NaCl"),
            position: SaltPosition::Prefix,
            key: Some(hex::encode("hmac-key")),
        }
        .to_stored();
        assert!(verify("Hmac-Secret!", &hmac));
        assert!(!verify("Hmac-Secret?", &hmac));
    }

    /// The reference implementation's vectors (password `password`, salt `somesalt`).
    #[test]
    fn argon2i_and_argon2id_reference_vectors() {
        for phc in [
            "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA",
            "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
        ] {
            assert!(super::super::verify_password("password", phc), "{phc}");
            assert!(!super::super::verify_password("passwore", phc), "{phc}");
        }
    }
}
