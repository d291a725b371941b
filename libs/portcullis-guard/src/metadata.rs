//! RFC 9728 protected-resource metadata: the document an OAuth client (an MCP client, say)
//! reads to learn which authorization server issues tokens for this API and which scopes it
//! knows, and the URL every `WWW-Authenticate` challenge names as `resource_metadata`.

use std::sync::Arc;

use axum::{
    http::header,
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde_json::{json, Value};
use url::Url;

use crate::guard::{Guard, ServedMetadata};

/// The path RFC 9728 §3 registers for the metadata document.
pub const WELL_KNOWN_PATH: &str = "/.well-known/oauth-protected-resource";

/// What the API says about itself in its RFC 9728 metadata. Give it to
/// [`GuardBuilder::resource_metadata`](crate::GuardBuilder::resource_metadata), then mount
/// [`Guard::resource_metadata_router`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ResourceMetadata {
    resource: String,
    served_at: Option<String>,
    scopes: Vec<String>,
    resource_name: Option<String>,
    documentation: Option<String>,
}

impl ResourceMetadata {
    /// Metadata for the resource identified by `resource`: an https URL (http for loopback),
    /// the `resource` clients ask tokens for (RFC 8707). By default the document is served
    /// where RFC 9728 §3.1 puts it: the well-known path inserted before the resource's path.
    pub fn new(resource: impl Into<String>) -> Self {
        Self {
            resource: resource.into(),
            served_at: None,
            scopes: Vec::new(),
            resource_name: None,
            documentation: None,
        }
    }

    /// Where the document is served (an absolute URL), when the API is not reachable at its
    /// identifier (an Auth0 API identifier such as `https://quickstarts/api` often is not).
    pub fn served_at(mut self, url: impl Into<String>) -> Self {
        self.served_at = Some(url.into());
        self
    }

    /// The scopes the API knows (`scopes_supported`).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// A name for people (`resource_name`).
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// A page for developers (`resource_documentation`).
    pub fn documentation(mut self, url: impl Into<String>) -> Self {
        self.documentation = Some(url.into());
        self
    }

    /// The metadata URL: the one given, or the RFC 9728 §3.1 one.
    fn metadata_url(&self) -> Result<Url, String> {
        let invalid = |error: url::ParseError| error.to_string();
        if let Some(url) = &self.served_at {
            return Url::parse(url).map_err(invalid);
        }
        let resource = Url::parse(&self.resource).map_err(invalid)?;
        let mut url = resource.clone();
        let path = resource.path().trim_end_matches('/');
        url.set_path(&format!("{WELL_KNOWN_PATH}{path}"));
        url.set_query(None);
        url.set_fragment(None);
        Ok(url)
    }

    /// Checks the settings and renders the document once. `issuer` is the authorization
    /// server; `query` says whether the token may come in a query parameter.
    /// Why it is refused, as text for the builder's error.
    pub(crate) fn build(&self, issuer: &str, query: bool) -> Result<ServedMetadata, String> {
        let resource = Url::parse(&self.resource).map_err(|error| error.to_string())?;
        // RFC 9728 §2: an https URL without a fragment.
        if resource.fragment().is_some() || !matches!(resource.scheme(), "https" | "http") {
            return Err("the resource must be an http(s) URL without a fragment".to_owned());
        }
        let url = self.metadata_url()?;
        let mut bearer_methods = vec!["header"];
        if query {
            bearer_methods.push("query");
        }
        let mut document = json!({
            "resource": self.resource,
            "authorization_servers": [issuer],
            "bearer_methods_supported": bearer_methods,
        });
        if !self.scopes.is_empty() {
            document["scopes_supported"] = json!(self.scopes);
        }
        if let Some(name) = &self.resource_name {
            document["resource_name"] = json!(name);
        }
        if let Some(page) = &self.documentation {
            document["resource_documentation"] = json!(page);
        }
        Ok(ServedMetadata {
            path: url.path().to_owned(),
            url: url.to_string(),
            document: Arc::new(document),
        })
    }
}

// Defined here rather than in `guard` so that `guard` does not depend on this module's router.
impl Guard {
    /// A router serving the RFC 9728 metadata document configured with
    /// [`GuardBuilder::resource_metadata`](crate::GuardBuilder::resource_metadata) (at
    /// `/.well-known/oauth-protected-resource`, or below it for a resource with a path);
    /// merge it into the app. Without that setting it serves nothing.
    pub fn resource_metadata_router<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let Some(metadata) = self.metadata() else {
            return Router::new();
        };
        let document = metadata.document.clone();
        Router::new().route(
            &metadata.path,
            get(move || {
                let document = document.clone();
                async move { serve(&document) }
            }),
        )
    }
}

fn serve(document: &Value) -> Response {
    (
        [
            (header::CACHE_CONTROL, "public, max-age=3600"),
            // Browser-based clients read it cross-origin (RFC 9728 §3).
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        Json(document.clone()),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metadata_url_follows_rfc_9728() {
        let at = |resource: &str| {
            ResourceMetadata::new(resource)
                .build("https://issuer/", false)
                .map(|built| built.url)
        };
        assert_eq!(
            at("https://api.example.com").unwrap(),
            "https://api.example.com/.well-known/oauth-protected-resource"
        );
        assert_eq!(
            at("https://api.example.com/mcp").unwrap(),
            "https://api.example.com/.well-known/oauth-protected-resource/mcp"
        );
        assert!(at("not a url").is_err());
        assert!(at("https://api.example.com/#frag").is_err());
        let moved = ResourceMetadata::new("https://quickstarts/api")
            .served_at("http://localhost:3010/.well-known/oauth-protected-resource")
            .build("https://issuer/", true)
            .unwrap();
        assert_eq!(moved.path, WELL_KNOWN_PATH);
        assert_eq!(moved.document["resource"], "https://quickstarts/api");
        assert_eq!(
            moved.document["bearer_methods_supported"],
            json!(["header", "query"])
        );
    }
}
