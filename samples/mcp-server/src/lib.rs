//! An MCP server whose tools need an access token from Portcullis: the Model Context
//! Protocol's Streamable HTTP transport (the official `rmcp` crate) behind `portcullis-guard`.
//!
//! An MCP client that calls `/mcp` without a token gets `401` with `WWW-Authenticate: Bearer
//! resource_metadata="..."`; the RFC 9728 document there names the authorization server and the
//! scopes, and the client takes it from there (RFC 8414 discovery, RFC 7591 registration, the
//! code flow with PKCE and `resource`, RFC 8707). The resource identifier is the MCP endpoint's
//! own URL, as the MCP specification asks, so it is also the audience of the Portcullis API that
//! stands for this server.
//!
//! Tools:
//! - `whoami`: any valid token; answers the token's `sub` and scopes;
//! - `read_messages`: a token granting `read:messages`; answers the messages with the caller's
//!   `sub` and scopes. Without the scope the call is refused with an MCP error whose data
//!   carries `"error": "insufficient_scope"`.
//!
//! Routes: `/mcp` (POST, GET and DELETE of the Streamable HTTP transport, each request checked by
//! the guard) and `/.well-known/oauth-protected-resource/mcp` (the RFC 9728 metadata).

use std::sync::Arc;

use axum::{http::request::Parts, Router};
use portcullis_guard::{Algorithm, ConfigError, Guard, ResourceMetadata, VerifiedToken};
use rmcp::{
    handler::server::tool::Extension,
    model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig},
    tool, tool_handler, tool_router,
    transport::streamable_http_server::{
        session::local::LocalSessionManager, StreamableHttpServerConfig, StreamableHttpService,
    },
    ErrorData, ServerHandler,
};
use serde_json::{json, Value};

/// The path of the MCP endpoint.
pub const MCP_PATH: &str = "/mcp";
/// The scope `read_messages` needs.
pub const READ_MESSAGES: &str = "read:messages";

/// Where the server is and whom it trusts.
#[derive(Debug, Clone)]
pub struct Config {
    /// The authorization server's base URL (`http://localhost:4000`), without a trailing `/`.
    pub domain: String,
    /// The exact issuer of its tokens; Portcullis issues `DOMAIN/`.
    pub issuer: String,
    /// The server's public base URL (`http://localhost:3006`); the resource is `PUBLIC_URL/mcp`.
    pub public_url: String,
}

impl Config {
    /// A configuration for the authorization server at `domain`, serving at `public_url`.
    pub fn new(domain: &str, public_url: &str) -> Self {
        let domain = domain.trim_end_matches('/').to_owned();
        Self {
            issuer: format!("{domain}/"),
            domain,
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The resource identifier: the MCP endpoint's URL, which tokens must carry in `aud`.
    pub fn resource(&self) -> String {
        format!("{}{MCP_PATH}", self.public_url)
    }

    /// The guard: keys from the issuer's JWKS, the resource as the audience, and RFC 9728
    /// metadata served at the path RFC 9728 §3.1 derives from the resource (the one MCP
    /// clients try first).
    pub fn guard(&self) -> Result<Guard, ConfigError> {
        Guard::builder(self.issuer.clone())
            .audience(self.resource())
            .algorithms([Algorithm::RS256, Algorithm::PS256, Algorithm::ES256])
            .jwks_url(format!("{}/.well-known/jwks.json", self.domain))
            .jwks_requests_per_minute(5)
            .resource_metadata(
                ResourceMetadata::new(self.resource())
                    .scopes([READ_MESSAGES])
                    .resource_name("Portcullis MCP sample"),
            )
            .build()
    }
}

/// The MCP server's tools. One value per MCP session; the caller's identity comes with each
/// request, from the token the guard verified, never from the session.
#[derive(Debug, Clone, Default)]
pub struct Messages;

#[tool_router]
impl Messages {
    /// Who the access token says the caller is.
    #[tool(description = "Tells who the caller is: the access token's subject and scopes.")]
    async fn whoami(
        &self,
        Extension(parts): Extension<Parts>,
    ) -> Result<CallToolResult, ErrorData> {
        let token = verified(&parts)?;
        Ok(answer(json!({
            "sub": token.subject(),
            "scopes": scopes(token),
        })))
    }

    /// The messages, for a token granting `read:messages`.
    #[tool(description = "Reads the caller's messages. Needs the read:messages scope.")]
    async fn read_messages(
        &self,
        Extension(parts): Extension<Parts>,
    ) -> Result<CallToolResult, ErrorData> {
        let token = verified(&parts)?;
        if !token.scopes().contains(READ_MESSAGES) {
            return Err(ErrorData::invalid_request(
                format!("insufficient_scope: read_messages needs the {READ_MESSAGES} scope"),
                Some(json!({ "error": "insufficient_scope", "scope": READ_MESSAGES })),
            ));
        }
        let sub = token.subject().unwrap_or_default();
        Ok(answer(json!({
            "sub": sub,
            "scopes": scopes(token),
            "messages": [
                format!("Hello {sub}, this message came through an MCP tool."),
                "Your access token was checked by portcullis-guard.",
            ],
        })))
    }
}

#[tool_handler]
impl ServerHandler for Messages {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "portcullis-mcp-sample",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(
                "Tools behind Portcullis: whoami answers who you are, read_messages needs \
                 the read:messages scope.",
            )
    }
}

/// The token the guard verified for this request. The guard layer runs before every request
/// reaches the transport, so its absence is our own misconfiguration, not the caller's.
fn verified(parts: &Parts) -> Result<&VerifiedToken, ErrorData> {
    parts
        .extensions
        .get::<VerifiedToken>()
        .ok_or_else(|| ErrorData::internal_error("the request was not authenticated", None))
}

fn scopes(token: &VerifiedToken) -> Vec<&str> {
    token.scopes().iter().collect()
}

/// A tool answer as structured content, with its JSON text for clients that read text only.
fn answer(value: Value) -> CallToolResult {
    let mut result = CallToolResult::success(vec![ContentBlock::text(value.to_string())]);
    result.structured_content = Some(value);
    result
}

/// The app: the MCP endpoint behind the guard, and the RFC 9728 document in the open.
/// `allowed_hosts` are the `Host` values the transport accepts (DNS-rebinding protection):
/// loopback names, plus the public URL's host.
pub fn app(guard: Guard, allowed_hosts: Vec<String>) -> Router {
    let config = StreamableHttpServerConfig::default().with_allowed_hosts(allowed_hosts);
    let mcp = StreamableHttpService::new(
        || Ok(Messages),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    Router::new()
        .route_service(MCP_PATH, mcp)
        .route_layer(guard.layer())
        .merge(guard.resource_metadata_router())
}
