//! The builder: every setting has a safe default, and every mistake is reported by `build()`.

use std::{sync::Arc, time::Duration};

use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use serde::Deserialize;
use serde_json::Value;
use url::{Host, Url};

use crate::{
    error::{AuthError, ErrorBodyFn, ResponseStyle},
    guard::{Guard, GuardCore},
    header_policy::HeaderPolicy,
    jwks::{fetch_json_bytes, KeyStore, KeyStoreConfig},
    metadata::ResourceMetadata,
    scope::ScopeClaims,
    sources::TokenSources,
};

/// The largest clock tolerance accepted. RFC 9068 tokens live minutes; more than a minute of
/// skew hides a broken clock rather than absorbing drift.
pub const MAX_CLOCK_TOLERANCE: Duration = Duration::from_secs(60);

/// A setting that `build()` refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The issuer is empty.
    #[error("the issuer must not be empty")]
    EmptyIssuer,
    /// No audience was configured; accepting any audience would accept tokens meant for
    /// other APIs (and ID tokens).
    #[error("at least one audience is required")]
    NoAudience,
    /// An audience is empty.
    #[error("audiences must not be empty")]
    EmptyAudience,
    /// The algorithm list is empty.
    #[error("at least one algorithm must be allowed")]
    NoAlgorithms,
    /// An HMAC algorithm was allowed. A resource server verifying with an issuer's public
    /// keys has no business accepting HMAC: it is the door to RS/HS key confusion.
    #[error("{0:?} is an HMAC algorithm; only asymmetric algorithms can be verified with a JWKS")]
    HmacAlgorithm(Algorithm),
    /// The clock tolerance exceeds [`MAX_CLOCK_TOLERANCE`].
    #[error("the clock tolerance must not exceed {} seconds", MAX_CLOCK_TOLERANCE.as_secs())]
    ClockToleranceTooLarge,
    /// The JWKS URL (given, discovered or derived from the issuer) does not parse.
    #[error("the JWKS URL is not a valid URL: {0}")]
    InvalidJwksUrl(String),
    /// The JWKS URL is plain HTTP to a host that is not loopback, and
    /// [`GuardBuilder::allow_plain_http`] was not set.
    #[error("the JWKS URL must use https (plain http is allowed only for loopback hosts)")]
    InsecureJwksUrl,
    /// A limit was set to zero.
    #[error("{0} must be greater than zero")]
    ZeroLimit(&'static str),
    /// The realm contains characters that cannot appear in a challenge.
    #[error("the realm must be printable ASCII without quotes or backslashes")]
    InvalidRealm,
    /// A token-source name is empty or not a plain token.
    #[error("cookie and query parameter names must be non-empty ASCII without separators")]
    InvalidSourceName,
    /// The HTTP client could not be built.
    #[error("the HTTP client could not be built: {0}")]
    HttpClient(String),
    /// The discovery document could not be fetched or read.
    #[error("the issuer's discovery document could not be used: {0}")]
    Discovery(String),
    /// The discovery document names a different issuer (RFC 8414 §3.3).
    #[error("the discovery document's issuer does not match the configured issuer")]
    DiscoveryIssuerMismatch,
    /// The HS256 secret is shorter than the hash (RFC 7518 §3.2: at least 256 bits).
    #[error("the HS256 secret must be at least {MIN_HMAC_SECRET_BYTES} bytes")]
    WeakHmacSecret,
    /// The RFC 9728 resource or its metadata URL is not usable.
    #[error("the protected-resource metadata is not valid: {0}")]
    InvalidResourceMetadata(String),
}

/// The shortest HS256 secret accepted, in bytes (RFC 7518 §3.2).
pub const MIN_HMAC_SECRET_BYTES: usize = 32;

// Defined here rather than in `guard` so that `guard` does not depend on the builder.
impl Guard {
    /// Starts configuring a guard for tokens from `issuer`, compared byte for byte with `iss`
    /// (Auth0 issuers end with `/`).
    pub fn builder(issuer: impl Into<String>) -> GuardBuilder {
        GuardBuilder::new(issuer.into())
    }
}

/// Configures a [`Guard`]. Start with [`Guard::builder`].
#[must_use]
pub struct GuardBuilder {
    issuer: String,
    audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    jwks_url: Option<String>,
    allow_plain_http: bool,
    clock_tolerance: Duration,
    key_cache_lifetime: Duration,
    jwks_requests_per_minute: u32,
    unknown_kid_cooldown: Duration,
    unknown_kid_memory: Duration,
    jwks_fetch_timeout: Duration,
    max_jwks_bytes: usize,
    max_jwks_keys: usize,
    max_token_bytes: usize,
    verified_token_cache: usize,
    token_cookie: Option<String>,
    token_query_parameter: Option<String>,
    scope_claims: ScopeClaims,
    realm: String,
    error_body: Option<Arc<ErrorBodyFn>>,
    http_client: Option<reqwest::Client>,
    hs256_secret: Option<Vec<u8>>,
    resource_metadata: Option<ResourceMetadata>,
    dpop_origin: Option<String>,
}

impl GuardBuilder {
    fn new(issuer: String) -> Self {
        Self {
            issuer,
            audiences: Vec::new(),
            algorithms: vec![Algorithm::RS256],
            jwks_url: None,
            allow_plain_http: false,
            clock_tolerance: Duration::from_secs(30),
            key_cache_lifetime: Duration::from_secs(600),
            jwks_requests_per_minute: 10,
            unknown_kid_cooldown: Duration::from_secs(30),
            unknown_kid_memory: Duration::from_secs(60),
            jwks_fetch_timeout: Duration::from_secs(5),
            max_jwks_bytes: 64 * 1024,
            max_jwks_keys: 32,
            max_token_bytes: 8 * 1024,
            verified_token_cache: 10_000,
            token_cookie: None,
            token_query_parameter: None,
            scope_claims: ScopeClaims::default(),
            realm: "api".to_owned(),
            error_body: None,
            http_client: None,
            hs256_secret: None,
            resource_metadata: None,
            dpop_origin: None,
        }
    }

    /// Where clients reach this API (`https://api.example.com`), for the `htu` of DPoP proofs;
    /// without it the request's `Host` header is used, with `http` unless the request line
    /// names a scheme (set it behind a TLS-terminating proxy).
    pub fn dpop_origin(mut self, origin: impl Into<String>) -> Self {
        self.dpop_origin = Some(origin.into());
        self
    }

    /// Accepts tokens whose `aud` contains `audience` (Auth0's API identifier). Call again to
    /// accept several.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Replaces the allowed signing algorithms (default: RS256 only; add `PS256` and `ES256`
    /// for APIs signing with those). HMAC algorithms are refused by `build()`: HS256 is
    /// enabled only by [`hs256_secret`](Self::hs256_secret); `none` cannot be expressed at all.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// Also accepts HS256 tokens, verified with this secret (an HS256 API's signing secret,
    /// at least 32 bytes) and nothing else: HMAC keys are never taken from the JWKS, and an
    /// RSA or EC key can never stand in for this secret.
    pub fn hs256_secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.hs256_secret = Some(secret.into());
        self
    }

    /// Publishes RFC 9728 metadata for this API (mount
    /// [`Guard::resource_metadata_router`]) and names it in every challenge
    /// (`resource_metadata="..."`).
    pub fn resource_metadata(mut self, metadata: ResourceMetadata) -> Self {
        self.resource_metadata = Some(metadata);
        self
    }

    /// Sets the JWKS URL. Default: `ISSUER/.well-known/jwks.json`, or the discovery document's
    /// `jwks_uri` with [`build_with_discovery`](Self::build_with_discovery).
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.jwks_url = Some(url.into());
        self
    }

    /// Allows a plain-http JWKS URL to a non-loopback host (a private network, say). Loopback
    /// hosts are always allowed.
    pub fn allow_plain_http(mut self, allow: bool) -> Self {
        self.allow_plain_http = allow;
        self
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat` (default 30 s, at most 60 s).
    pub fn clock_tolerance(mut self, tolerance: Duration) -> Self {
        self.clock_tolerance = tolerance;
        self
    }

    /// How long a fetched key set is used before it is refreshed (default 10 minutes, as
    /// jwks-rsa's `cacheMaxAge`).
    pub fn key_cache_lifetime(mut self, lifetime: Duration) -> Self {
        self.key_cache_lifetime = lifetime;
        self
    }

    /// At most this many JWKS requests per minute, whatever the traffic (default 10, as
    /// jwks-rsa's `jwksRequestsPerMinute`).
    pub fn jwks_requests_per_minute(mut self, requests: u32) -> Self {
        self.jwks_requests_per_minute = requests;
        self
    }

    /// Minimum time between the last fetch and a refetch caused by an unknown kid, and the
    /// back-off after a failed fetch (default 30 s, as `jose`).
    pub fn unknown_kid_cooldown(mut self, cooldown: Duration) -> Self {
        self.unknown_kid_cooldown = cooldown;
        self
    }

    /// How long a kid that a fetch proved unknown is answered from memory without another
    /// fetch (default 60 s).
    pub fn unknown_kid_memory(mut self, memory: Duration) -> Self {
        self.unknown_kid_memory = memory;
        self
    }

    /// Timeout for one JWKS or discovery request (default 5 s).
    pub fn jwks_fetch_timeout(mut self, timeout: Duration) -> Self {
        self.jwks_fetch_timeout = timeout;
        self
    }

    /// Largest JWKS document accepted (default 64 KiB).
    pub fn max_jwks_bytes(mut self, bytes: usize) -> Self {
        self.max_jwks_bytes = bytes;
        self
    }

    /// Most keys a JWKS document may list (default 32).
    pub fn max_jwks_keys(mut self, keys: usize) -> Self {
        self.max_jwks_keys = keys;
        self
    }

    /// Longest token accepted, checked before any decoding (default 8 KiB).
    pub fn max_token_bytes(mut self, bytes: usize) -> Self {
        self.max_token_bytes = bytes;
        self
    }

    /// How many verified tokens to remember (default 10,000; 0 turns the cache off).
    pub fn verified_token_cache(mut self, entries: usize) -> Self {
        self.verified_token_cache = entries;
        self
    }

    /// Also reads the token from this cookie when there is no `Authorization` header.
    pub fn token_cookie(mut self, name: impl Into<String>) -> Self {
        self.token_cookie = Some(name.into());
        self
    }

    /// Also reads the token from this query parameter when there is no `Authorization`
    /// header. RFC 6750 §2.3 discourages it: URLs end up in logs and `Referer` headers.
    pub fn token_query_parameter(mut self, name: impl Into<String>) -> Self {
        self.token_query_parameter = Some(name.into());
        self
    }

    /// Which claims grant scopes (default: `scope` and `permissions`).
    pub fn scope_claims(mut self, claims: ScopeClaims) -> Self {
        self.scope_claims = claims;
        self
    }

    /// The `realm` of the `WWW-Authenticate` challenge (default `api`).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// Replaces the JSON body of refusals; status and `WWW-Authenticate` stay as RFC 6750
    /// says. For the tutorial's body: `.error_body(|_| json!({"msg": "Invalid token"}))`.
    pub fn error_body(
        mut self,
        body: impl Fn(&AuthError) -> Value + Send + Sync + 'static,
    ) -> Self {
        self.error_body = Some(Arc::new(body));
        self
    }

    /// Uses this HTTP client for JWKS and discovery requests instead of a default one (to add
    /// a proxy or extra root certificates). Redirects should stay disabled.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Reads `ISSUER/.well-known/openid-configuration`, checks that its `issuer` is exactly
    /// the configured one, takes its `jwks_uri`, then builds. Keys are fetched later, on first
    /// use or by [`Guard::refresh_keys`].
    pub async fn build_with_discovery(mut self) -> Result<Guard, ConfigError> {
        #[derive(Deserialize)]
        struct DiscoveryDocument {
            issuer: String,
            jwks_uri: String,
        }

        let client = self.client()?;
        let url = self.checked_url(&format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        ))?;
        let body = fetch_json_bytes(&client, &url, self.max_jwks_bytes)
            .await
            .map_err(|error| ConfigError::Discovery(error.to_string()))?;
        let document: DiscoveryDocument = serde_json::from_slice(&body)
            .map_err(|error| ConfigError::Discovery(error.to_string()))?;
        if document.issuer != self.issuer {
            return Err(ConfigError::DiscoveryIssuerMismatch);
        }
        self.jwks_url = Some(document.jwks_uri);
        self.http_client = Some(client);
        self.build()
    }

    /// Validates the settings and builds the guard. No network request is made.
    pub fn build(self) -> Result<Guard, ConfigError> {
        if self.issuer.is_empty() {
            return Err(ConfigError::EmptyIssuer);
        }
        if self.audiences.is_empty() {
            return Err(ConfigError::NoAudience);
        }
        if self.audiences.iter().any(String::is_empty) {
            return Err(ConfigError::EmptyAudience);
        }
        if self.algorithms.is_empty() {
            return Err(ConfigError::NoAlgorithms);
        }
        if let Some(hmac) = self
            .algorithms
            .iter()
            .find(|alg| alg.family() == AlgorithmFamily::Hmac)
        {
            return Err(ConfigError::HmacAlgorithm(*hmac));
        }
        if self.clock_tolerance > MAX_CLOCK_TOLERANCE {
            return Err(ConfigError::ClockToleranceTooLarge);
        }
        for (value, name) in [
            (self.max_jwks_bytes, "max_jwks_bytes"),
            (self.max_jwks_keys, "max_jwks_keys"),
            (self.max_token_bytes, "max_token_bytes"),
            (
                self.jwks_requests_per_minute as usize,
                "jwks_requests_per_minute",
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::ZeroLimit(name));
            }
        }
        if self.jwks_fetch_timeout.is_zero() {
            return Err(ConfigError::ZeroLimit("jwks_fetch_timeout"));
        }
        if self.realm.is_empty()
            || !self
                .realm
                .bytes()
                .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
        {
            return Err(ConfigError::InvalidRealm);
        }
        for name in [&self.token_cookie, &self.token_query_parameter]
            .into_iter()
            .flatten()
        {
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            {
                return Err(ConfigError::InvalidSourceName);
            }
        }

        let jwks_url = match &self.jwks_url {
            Some(url) => self.checked_url(url)?,
            None => self.checked_url(&format!(
                "{}/.well-known/jwks.json",
                self.issuer.trim_end_matches('/')
            ))?,
        };
        let hmac_key = match &self.hs256_secret {
            Some(secret) if secret.len() < MIN_HMAC_SECRET_BYTES => {
                return Err(ConfigError::WeakHmacSecret)
            }
            Some(secret) => Some(DecodingKey::from_secret(secret)),
            None => None,
        };
        let metadata = self
            .resource_metadata
            .as_ref()
            .map(|metadata| metadata.build(&self.issuer, self.token_query_parameter.is_some()))
            .transpose()
            .map_err(ConfigError::InvalidResourceMetadata)?;
        // The header policy and the claim checks know HS256 when a secret was given; the key
        // store never does.
        let mut header_algorithms = self.algorithms.clone();
        if hmac_key.is_some() {
            header_algorithms.push(Algorithm::HS256);
        }
        let client = self.client()?;
        let keys = KeyStore::new(
            KeyStoreConfig {
                url: jwks_url,
                lifetime: self.key_cache_lifetime,
                cooldown: self.unknown_kid_cooldown,
                negative_ttl: self.unknown_kid_memory,
                requests_per_minute: self.jwks_requests_per_minute,
                max_document_bytes: self.max_jwks_bytes,
                max_keys: self.max_jwks_keys,
                allowed_algorithms: self.algorithms.clone(),
            },
            client,
        );
        let mut core = GuardCore::new(
            self.issuer,
            &self.audiences,
            HeaderPolicy {
                max_token_bytes: self.max_token_bytes,
                allowed_algorithms: header_algorithms,
            },
            self.clock_tolerance.as_secs(),
            keys,
            self.verified_token_cache,
            TokenSources {
                cookie: self.token_cookie,
                query_parameter: self.token_query_parameter,
            },
            self.scope_claims,
            hmac_key,
            metadata.clone(),
        );
        core.dpop.origin = self.dpop_origin;
        core.dpop.leeway = i64::try_from(self.clock_tolerance.as_secs()).unwrap_or(i64::MAX);
        Ok(Guard::from_parts(
            core,
            ResponseStyle {
                realm: self.realm,
                body: self.error_body,
                resource_metadata: metadata.map(|metadata| metadata.url),
            },
        ))
    }

    fn client(&self) -> Result<reqwest::Client, ConfigError> {
        if let Some(client) = &self.http_client {
            return Ok(client.clone());
        }
        reqwest::Client::builder()
            .timeout(self.jwks_fetch_timeout)
            .connect_timeout(self.jwks_fetch_timeout)
            // A redirect could take us to a host the configuration never named.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| ConfigError::HttpClient(error.to_string()))
    }

    fn checked_url(&self, url: &str) -> Result<Url, ConfigError> {
        let url =
            Url::parse(url).map_err(|error| ConfigError::InvalidJwksUrl(error.to_string()))?;
        match url.scheme() {
            "https" => Ok(url),
            "http" if self.allow_plain_http || is_loopback(&url) => Ok(url),
            "http" => Err(ConfigError::InsecureJwksUrl),
            other => Err(ConfigError::InvalidJwksUrl(format!(
                "unsupported scheme {other:?}"
            ))),
        }
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(address)) => address.is_loopback(),
        Some(Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    }
}
