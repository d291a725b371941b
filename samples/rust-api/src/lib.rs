//! The tutorial's API server (seed 003's `server.js`, plus the routes of Auth0's Express API
//! sample), built on `portcullis-guard`.
//!
//! Routes:
//! - `GET /api/public`: no token needed;
//! - `GET /api/private`: any valid token;
//! - `GET /api/private-scoped`: a valid token granting `read:messages`;
//! - `GET /api/external`: a valid token; refusals carry the tutorial's `{"msg":"Invalid token"}`;
//! - `GET /auth_config.json`: the SPA's configuration file;
//! - `GET /.well-known/oauth-protected-resource`: RFC 9728 metadata, when `PUBLIC_URL` is set;
//! - anything else: a file from the static folder, or `index.html`.

use std::{
    net::IpAddr,
    path::{Path, PathBuf},
};

use anyhow::Context as _;
use axum::{
    http::{header, HeaderName, HeaderValue, Method},
    middleware::map_response,
    response::Response,
    routing::get,
    Json, Router,
};
use portcullis_guard::{
    Algorithm, ConfigError, Guard, ResourceMetadata, ScopePolicy, WELL_KNOWN_PATH,
};
use serde::Deserialize;
use serde_json::{json, Value};
use tower::ServiceBuilder;
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    services::{ServeDir, ServeFile},
    set_header::SetResponseHeaderLayer,
};

/// `auth_config.json`, as the tutorial's SPA and API share it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthConfig {
    /// The issuer's host (`tenant.example.com`), or a base URL with a scheme
    /// (`http://localhost:4000`). Without a scheme, https is assumed, as in the tutorial.
    pub domain: String,
    /// The SPA's client id; the API does not use it.
    #[serde(default)]
    pub client_id: String,
    /// The API identifier tokens must carry in `aud`.
    pub audience: String,
    /// The exact `iss` to accept, for issuers that do not follow Auth0's `https://DOMAIN/`.
    #[serde(default)]
    pub issuer: Option<String>,
}

impl AuthConfig {
    /// Reads and parses the file.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// `https://DOMAIN` (or the domain as given when it has a scheme), without a trailing `/`.
    pub fn base_url(&self) -> String {
        let domain = self.domain.trim_end_matches('/');
        if domain.starts_with("http://") || domain.starts_with("https://") {
            domain.to_owned()
        } else {
            format!("https://{domain}")
        }
    }

    /// The issuer to accept: the `issuer` override, else `BASE_URL/` as Auth0 issues it.
    pub fn issuer(&self) -> String {
        self.issuer
            .clone()
            .unwrap_or_else(|| format!("{}/", self.base_url()))
    }

    /// The guard the tutorial configures: keys from `BASE_URL/.well-known/jwks.json`, at most
    /// 5 JWKS requests a minute; RS256 as in the tutorial, and PS256 and ES256 for APIs that
    /// sign with those (each key is used only with the algorithm its JWK names).
    pub fn guard(&self) -> Result<Guard, ConfigError> {
        self.guard_served_at(None)
    }

    /// [`Self::guard`], publishing RFC 9728 metadata when the API's public base URL is known
    /// (`http://localhost:3001`): the document at `PUBLIC_URL/.well-known/oauth-protected-resource`
    /// names the audience as the resource and the issuer as its authorization server, and
    /// every 401 points to it.
    pub fn guard_served_at(&self, public_url: Option<&str>) -> Result<Guard, ConfigError> {
        let mut builder = Guard::builder(self.issuer())
            .audience(self.audience.clone())
            .algorithms([Algorithm::RS256, Algorithm::PS256, Algorithm::ES256])
            .jwks_url(format!("{}/.well-known/jwks.json", self.base_url()))
            .jwks_requests_per_minute(5);
        if let Some(public_url) = public_url {
            builder = builder.resource_metadata(
                ResourceMetadata::new(self.audience.clone())
                    .served_at(format!(
                        "{}{WELL_KNOWN_PATH}",
                        public_url.trim_end_matches('/')
                    ))
                    .scopes(["read:messages"]),
            );
        }
        builder.build()
    }
}

/// Files and origins the app serves.
#[derive(Debug, Clone)]
pub struct Site {
    /// Served at `/auth_config.json`.
    pub auth_config_file: PathBuf,
    /// Static files (the tutorial's `public/`).
    pub static_dir: PathBuf,
    /// Served for every path that is neither a route nor a static file.
    pub index_file: PathBuf,
    /// Browser origins, besides any loopback origin, allowed to call the API cross-origin.
    pub allowed_origins: Vec<HeaderValue>,
}

const PUBLIC_MESSAGE: &str =
    "Hello from a public endpoint! You don't need to be authenticated to see this.";
const PRIVATE_MESSAGE: &str =
    "Hello from a private endpoint! You need to be authenticated to see this.";
const SCOPED_MESSAGE: &str = "Hello from a private endpoint! You need to be authenticated and \
                              have a scope of read:messages to see this.";
const EXTERNAL_MESSAGE: &str = "Your access token was successfully validated!";

/// Builds the app. Protected routes share one guard (and so one key cache).
pub fn app(guard: Guard, site: &Site) -> Router {
    // The tutorial's error handler answers every UnauthorizedError with this body.
    let tutorial_guard = guard.with_error_body(|_| json!({ "msg": "Invalid token" }));

    let api = Router::new()
        .route("/api/public", get(|| message(PUBLIC_MESSAGE)))
        .route(
            "/api/private",
            get(|| message(PRIVATE_MESSAGE)).route_layer(guard.layer()),
        )
        .route(
            "/api/private-scoped",
            get(|| message(SCOPED_MESSAGE))
                .route_layer(guard.require(ScopePolicy::all_of(["read:messages"]))),
        )
        .route(
            "/api/external",
            get(|| async { Json(json!({ "msg": EXTERNAL_MESSAGE })) })
                .route_layer(tutorial_guard.layer()),
        )
        .route_service("/auth_config.json", ServeFile::new(&site.auth_config_file))
        // Only on API answers: the SPA's page loads its SDK from a CDN and calls the issuer,
        // which `default-src 'self'` would block.
        .layer(set_header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'",
        ));

    let static_files = ServeDir::new(&site.static_dir).fallback(ServeFile::new(&site.index_file));

    // RFC 9728 metadata, when the guard was configured with it (nothing otherwise).
    api.merge(guard.resource_metadata_router())
        .fallback_service(static_files)
        .layer(
            ServiceBuilder::new()
                .layer(cors(site.allowed_origins.clone()))
                .layer(map_response(security_headers)),
        )
}

async fn message(text: &'static str) -> Json<Value> {
    Json(json!({ "message": text }))
}

fn set_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// The headers helmet 3 set in the tutorial's `curl -I` output (except the CSP, see `app`).
const SECURITY_HEADERS: [(HeaderName, HeaderValue); 6] = [
    (
        HeaderName::from_static("x-dns-prefetch-control"),
        HeaderValue::from_static("off"),
    ),
    (
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    ),
    (
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=15552000; includeSubDomains"),
    ),
    (
        HeaderName::from_static("x-download-options"),
        HeaderValue::from_static("noopen"),
    ),
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (
        header::X_XSS_PROTECTION,
        HeaderValue::from_static("1; mode=block"),
    ),
];

/// Adds [`SECURITY_HEADERS`] to every response that does not set them itself. One layer for
/// all six: every layer on a router wraps (and boxes) each of its routes again.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.entry(name).or_insert(value);
    }
    response
}

/// The SPA samples call the API from another localhost port (3000 → 3001) with an
/// `Authorization` header, which needs a CORS preflight. Any loopback origin is allowed, plus
/// the configured ones; no cookies are involved, so credentials stay off.
///
/// A DPoP client (auth0-spa-js 2 with `useDpop`) also sends its proof in a `DPoP` header, and
/// reads `WWW-Authenticate` (to see `use_dpop_nonce`) and `DPoP-Nonce` on the answer: a
/// browser hides both from the page unless they are exposed.
fn cors(allowed_origins: Vec<HeaderValue>) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            is_loopback_origin(origin) || allowed_origins.contains(origin)
        }))
        .allow_methods([Method::GET, Method::HEAD])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, DPOP])
        .expose_headers([header::WWW_AUTHENTICATE, DPOP_NONCE])
        .max_age(std::time::Duration::from_secs(600))
}

/// RFC 9449's request header (the proof) and response header (a server nonce).
const DPOP: HeaderName = HeaderName::from_static("dpop");
const DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

fn is_loopback_origin(origin: &HeaderValue) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let Some(authority) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_origins() {
        for origin in [
            "http://localhost:3000",
            "http://127.0.0.1:3001",
            "http://[::1]:8080",
            "https://localhost",
        ] {
            assert!(
                is_loopback_origin(&HeaderValue::from_static(origin)),
                "{origin}"
            );
        }
        for origin in [
            "http://localhost.evil.example",
            "http://127.0.0.1.evil.example:3000",
            "null",
            "http://example.com",
        ] {
            assert!(
                !is_loopback_origin(&HeaderValue::from_static(origin)),
                "{origin}"
            );
        }
    }

    #[test]
    fn issuer_and_urls_from_domain() {
        let config = |domain: &str, issuer: Option<&str>| AuthConfig {
            domain: domain.into(),
            client_id: String::new(),
            audience: "https://api".into(),
            issuer: issuer.map(Into::into),
        };
        assert_eq!(
            config("tenant.example.com", None).issuer(),
            "https://tenant.example.com/"
        );
        assert_eq!(
            config("http://localhost:4000", None).issuer(),
            "http://localhost:4000/"
        );
        assert_eq!(
            config("http://localhost:4000/", None).base_url(),
            "http://localhost:4000"
        );
        assert_eq!(
            config("http://localhost:4000", Some("http://localhost:4000")).issuer(),
            "http://localhost:4000"
        );
    }
}
