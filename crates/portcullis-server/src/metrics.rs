//! Prometheus metrics: requests by route and status, latency, tokens by grant, logins by
//! outcome, rate-limit refusals by group, cache reloads by scope. Every label takes values
//! from a closed set, never from what a client sends.

use std::sync::Mutex;

use axum::http::Method;
use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{counter::Counter, family::Family, histogram::Histogram},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub method: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GrantLabels {
    pub grant_type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GroupLabels {
    pub group: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ScopeLabels {
    pub scope: &'static str,
}

/// What a cache reload read from the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReloadScope {
    /// Keys, CORS origins and the tenant cache (every `cache_refresh_seconds`, after a write).
    All,
    /// The CORS origins alone (a preflight from an origin not seen before).
    Origins,
}

/// The `method` label: a standard method's name, or `other` (a client must not be able to
/// create label values at will).
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::CONNECT => "CONNECT",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

pub struct Metrics {
    registry: Mutex<Registry>,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RouteLabels, Histogram>,
    pub tokens_issued: Family<GrantLabels, Counter>,
    pub logins: Family<OutcomeLabels, Counter>,
    pub rate_limited: Family<GroupLabels, Counter>,
    pub cache_reloads: Family<ScopeLabels, Counter>,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("portcullis");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ])
        });
        let tokens_issued = Family::<GrantLabels, Counter>::default();
        let logins = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register(
            "tokens_issued",
            "Tokens issued by grant type",
            tokens_issued.clone(),
        );
        registry.register("logins", "Hosted login attempts by outcome", logins.clone());
        let rate_limited = Family::<GroupLabels, Counter>::default();
        registry.register(
            "rate_limited",
            "Requests refused by a rate limit, by endpoint group",
            rate_limited.clone(),
        );
        let cache_reloads = Family::<ScopeLabels, Counter>::default();
        registry.register(
            "cache_reloads",
            "Cache reloads from the store: all (keys, CORS origins, tenant) or origins alone",
            cache_reloads.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            requests,
            latency,
            tokens_issued,
            logins,
            rate_limited,
            cache_reloads,
        }
    }

    pub fn rate_limited(&self, group: crate::rate_limit::RateGroup) {
        self.rate_limited
            .get_or_create(&GroupLabels {
                group: group.as_str(),
            })
            .inc();
    }

    pub fn cache_reloaded(&self, scope: ReloadScope) {
        let scope = match scope {
            ReloadScope::All => "all",
            ReloadScope::Origins => "origins",
        };
        self.cache_reloads
            .get_or_create(&ScopeLabels { scope })
            .inc();
    }

    pub fn token_issued(&self, grant_type: &str) {
        self.tokens_issued
            .get_or_create(&GrantLabels {
                grant_type: grant_type.into(),
            })
            .inc();
    }

    pub fn login(&self, outcome: &str) {
        self.logins
            .get_or_create(&OutcomeLabels {
                outcome: outcome.into(),
            })
            .inc();
    }

    pub fn render(&self) -> String {
        let mut text = String::new();
        let registry = match self.registry.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if encode(&mut text, &registry).is_err() {
            text.clear();
        }
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
