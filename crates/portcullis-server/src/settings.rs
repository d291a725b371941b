//! Validated server settings. The binary turns flags, environment and the config file into
//! these; everything here is already checked.

use std::{net::SocketAddr, path::PathBuf};

pub use portcullis_admin::BootstrapCredentials;
pub use portcullis_core::{password::HashingLimits, sign_in::ThrottleLimits};
use portcullis_types::Secret;

/// Certificate and key (PEM files) for serving https.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Everything the server needs to run (the store is opened by the caller).
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    /// The issuer, always with a trailing slash (`https://DOMAIN/`), identical in every token
    /// and in discovery.
    pub issuer: String,
    pub tls: Option<TlsFiles>,
    /// The master key: keys the client-secret hashes and seals the private signing keys.
    pub master_key: Secret<Vec<u8>>,
    /// Authorization codes live this long (RFC 9700: short).
    pub code_lifetime: i64,
    /// Login sessions last this long.
    pub session_lifetime: i64,
    pub throttle: ThrottleLimits,
    /// Password hashes computed at once and waiting; past them logins and sign-ups are
    /// answered 429 at once.
    pub hashing: HashingLimits,
    /// How often a replica reloads signing keys and CORS origins from the store and drops its
    /// copy of applications, APIs and grants: the bound on how long a change made elsewhere
    /// (the CLI, another replica) takes to apply here.
    pub cache_refresh_seconds: u64,
    /// Given credentials of the bootstrap client; `None` generates them.
    pub bootstrap_client: Option<BootstrapCredentials>,
}

impl Settings {
    /// Defaults: listen on 127.0.0.1:4000, issuer http://localhost:4000/.
    pub fn new(master_key: impl Into<Vec<u8>>) -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 4000)),
            issuer: "http://localhost:4000/".into(),
            tls: None,
            master_key: Secret::new(master_key.into()),
            code_lifetime: 60,
            session_lifetime: 3 * 86_400,
            throttle: ThrottleLimits::default(),
            hashing: HashingLimits::default(),
            cache_refresh_seconds: 5,
            bootstrap_client: None,
        }
    }

    /// Normalises an issuer URL: absolute http(s), no query or fragment, trailing slash.
    pub fn normalize_issuer(issuer: &str) -> Result<String, String> {
        let url = url::Url::parse(issuer).map_err(|e| format!("issuer {issuer:?}: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(format!("issuer {issuer:?} must be an http(s) URL"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "issuer {issuer:?} must not have a query or fragment"
            ));
        }
        let mut text = url.to_string();
        if !text.ends_with('/') {
            text.push('/');
        }
        Ok(text)
    }

    /// An absolute URL under the issuer: `endpoint("oauth/token")`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path.trim_start_matches('/'))
    }

    /// Whether cookies must be `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.issuer.starts_with("https://")
    }
}
