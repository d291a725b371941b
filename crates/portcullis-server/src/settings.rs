//! Validated server settings. The binary turns flags, environment and the config file into
//! these; everything here is already checked.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

pub use portcullis_admin::BootstrapCredentials;
pub use portcullis_core::{password::HashingLimits, sign_in::ThrottleLimits};
use portcullis_types::Secret;
pub use portcullis_web::{ForwardedHeader, TrustedProxies};

pub use crate::mail::settings::{EmailSettings, SmtpSecurity, SmtpServer, SmtpSettings};
pub use crate::rate_limit::{RateGroup, RateLimits};

/// Audit log events kept at most by default (about 1 GiB of log at most).
pub const DEFAULT_AUDIT_RETENTION_EVENTS: u64 = 1_000_000;

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
    /// A login session ends this long after sign-in however much it is used (seconds;
    /// Auth0's "Require log in after", 30 days).
    pub session_lifetime: i64,
    /// A login session unused for this long ends (seconds; Auth0's "Inactivity timeout",
    /// 3 days).
    pub session_idle_timeout: i64,
    /// How often expired sessions, codes, tokens and counters are swept (seconds).
    pub sweep_interval_seconds: u64,
    /// Audit log events older than this many days are swept; `None` keeps them.
    pub audit_retention_days: Option<u32>,
    /// Past this many audit log events the sweep deletes the oldest; `None` keeps them (the
    /// bound on the log's size however busy the tenant is within its retention days).
    pub audit_retention_events: Option<u64>,
    pub throttle: ThrottleLimits,
    /// Password hashes computed at once and waiting; past them logins and sign-ups are
    /// answered 429 at once.
    pub hashing: HashingLimits,
    /// Auth0 Actions: each execution's memory and time, and how many run at once.
    pub actions: portcullis_core::actions::ActionSettings,
    /// How often a replica reloads signing keys and CORS origins from the store and drops its
    /// copy of applications, APIs and grants: the bound on how long a change made elsewhere
    /// (the CLI, another replica) takes to apply here.
    pub cache_refresh_seconds: u64,
    /// Given credentials of the bootstrap client; `None` generates them.
    pub bootstrap_client: Option<BootstrapCredentials>,
    /// Load balancers and reverse proxies whose forwarding header names the client; nobody by
    /// default (the TCP peer is the client).
    pub trusted_proxies: TrustedProxies,
    /// Requests per second per client address, by endpoint group.
    pub rate_limits: RateLimits,
    /// Limits on how a connection may send its request headers.
    pub connections: ConnectionLimits,
    /// Serve `/metrics` on this address (plain HTTP) instead of the main listener.
    pub metrics_listen: Option<SocketAddr>,
    /// Email delivery: the SMTP server (none: the outbox only), retries, retention.
    pub email: EmailSettings,
    /// Whether a sign-up sends a verification email (on by default, as Auth0 does).
    pub verify_email_on_signup: bool,
    /// Dynamic client registration (RFC 7591): `Some` sets the tenant's flag at start (as
    /// `PATCH /api/v2/tenants/settings` would), `None` leaves it as stored.
    pub dynamic_client_registration: Option<bool>,
    /// SHA-256 of the initial access token every registration must present as a Bearer token;
    /// `None`: registration is open (when the tenant's flag is on).
    pub registration_token_sha256: Option<Vec<u8>>,
    /// Whether dashboard administrators must pass a second factor; `None` leaves it to the
    /// tenant's setting (the dashboard's Security page).
    pub admin_mfa_required: Option<bool>,
}

/// How long and how large a request head may be, so that a slow or bloated client cannot hold
/// a connection (HTTP/1.1; HTTP/2 gets the size limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// A connection that has not sent a whole request head this long after it started one (or
    /// after its previous response, when kept alive) is closed.
    pub header_read_timeout: Duration,
    /// Request line and headers beyond this many bytes are answered 431.
    pub max_header_bytes: usize,
}

impl ConnectionLimits {
    /// hyper reads request heads into a buffer of at least this size.
    pub const MIN_HEADER_BYTES: usize = 8 * 1024;

    /// Checks the limits.
    pub fn validate(&self) -> Result<(), String> {
        if self.header_read_timeout.is_zero() {
            return Err("header_read_timeout must be positive".into());
        }
        if self.max_header_bytes < Self::MIN_HEADER_BYTES {
            return Err(format!(
                "max_header_bytes must be at least {}",
                Self::MIN_HEADER_BYTES
            ));
        }
        Ok(())
    }
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 16 * 1024,
        }
    }
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
            session_lifetime: 30 * 86_400,
            session_idle_timeout: 3 * 86_400,
            sweep_interval_seconds: 600,
            audit_retention_days: Some(30),
            audit_retention_events: Some(DEFAULT_AUDIT_RETENTION_EVENTS),
            throttle: ThrottleLimits::default(),
            hashing: HashingLimits::default(),
            actions: portcullis_core::actions::ActionSettings::default(),
            cache_refresh_seconds: 5,
            bootstrap_client: None,
            trusted_proxies: TrustedProxies::default(),
            rate_limits: RateLimits::default(),
            connections: ConnectionLimits::default(),
            metrics_listen: None,
            email: EmailSettings::default(),
            verify_email_on_signup: true,
            dynamic_client_registration: None,
            registration_token_sha256: None,
            admin_mfa_required: None,
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

    /// How cookies are named and scoped: `__Host-` cookies under https.
    pub fn cookies(&self) -> portcullis_web::Cookies {
        portcullis_web::Cookies::for_issuer(&self.issuer)
    }
}
