//! Validated server settings. The binary turns flags, environment and the config file into
//! these; everything here is already checked.

use std::{net::SocketAddr, path::PathBuf};

/// Certificate and key (PEM files) for serving https.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Login throttling limits, per fixed window.
#[derive(Clone, Copy, Debug)]
pub struct ThrottleLimits {
    pub window_seconds: i64,
    /// Failed logins per account per window before the account is refused for the window.
    pub per_account: u64,
    /// Failed logins per client IP per window.
    pub per_ip: u64,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        ThrottleLimits {
            window_seconds: 900,
            per_account: 10,
            per_ip: 100,
        }
    }
}

/// Credentials of the bootstrap client (the first machine-to-machine client, granted the whole
/// Management API), from `PORTCULLIS_BOOTSTRAP_CLIENT_ID` and
/// `PORTCULLIS_BOOTSTRAP_CLIENT_SECRET`. Without them a secret is generated and printed once.
#[derive(Clone)]
pub struct BootstrapCredentials {
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for BootstrapCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

impl BootstrapCredentials {
    /// Reads `PORTCULLIS_BOOTSTRAP_CLIENT_ID` and `PORTCULLIS_BOOTSTRAP_CLIENT_SECRET`: both or
    /// neither must be set.
    pub fn from_env() -> Result<Option<Self>, String> {
        let read = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        match (
            read("PORTCULLIS_BOOTSTRAP_CLIENT_ID"),
            read("PORTCULLIS_BOOTSTRAP_CLIENT_SECRET"),
        ) {
            (Some(client_id), Some(client_secret)) => Ok(Some(BootstrapCredentials {
                client_id,
                client_secret,
            })),
            (None, None) => Ok(None),
            _ => Err("set both PORTCULLIS_BOOTSTRAP_CLIENT_ID and PORTCULLIS_BOOTSTRAP_CLIENT_SECRET, or neither".into()),
        }
    }
}

/// Everything the server needs to run.
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    /// The issuer, always with a trailing slash (`https://DOMAIN/`), identical in every token
    /// and in discovery.
    pub issuer: String,
    pub data_dir: PathBuf,
    /// Where the store is: `postgres://...` or `sqlite://PATH`; `None` means SQLite in the
    /// data directory. Secret (it may carry a password): never logged.
    pub database_url: Option<String>,
    pub tls: Option<TlsFiles>,
    /// The master key: keys the client-secret hashes and seals the private signing keys.
    pub master_key: Vec<u8>,
    /// Authorization codes live this long (RFC 9700: short).
    pub code_lifetime: i64,
    /// Login sessions last this long.
    pub session_lifetime: i64,
    pub throttle: ThrottleLimits,
    /// How often a replica reloads signing keys and CORS origins from the store and drops its
    /// copy of applications, APIs and grants: the bound on how long a change made elsewhere
    /// (the CLI, another replica) takes to apply here.
    pub cache_refresh_seconds: u64,
    /// Given credentials of the bootstrap client; `None` generates them.
    pub bootstrap_client: Option<BootstrapCredentials>,
}

impl Settings {
    /// Defaults for a data directory: listen on 127.0.0.1:4000, issuer http://localhost:4000/.
    pub fn new(data_dir: PathBuf, master_key: Vec<u8>) -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 4000)),
            issuer: "http://localhost:4000/".into(),
            data_dir,
            database_url: None,
            tls: None,
            master_key,
            code_lifetime: 60,
            session_lifetime: 3 * 86_400,
            throttle: ThrottleLimits::default(),
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

    /// Whether the store is PostgreSQL (shared by replicas).
    pub fn uses_postgres(&self) -> bool {
        is_postgres_url(self.database_url.as_deref())
    }

    /// Whether cookies must be `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    /// The audience of the `/userinfo` endpoint inside access tokens.
    pub fn userinfo_audience(&self) -> String {
        self.endpoint("userinfo")
    }
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: Option<&str>) -> bool {
    url.is_some_and(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"))
}
