//! `sample-mcp-server`: the MCP sample's server.
//!
//! | Variable | Default | Meaning |
//! |---|---|---|
//! | `DOMAIN` | `http://localhost:4000` | the Portcullis server's base URL |
//! | `ISSUER` | `DOMAIN/` | the exact `iss` to accept, when it is not `DOMAIN/` |
//! | `PORT` | `3006` | port to listen on |
//! | `HOST` | `127.0.0.1` | address to listen on |
//! | `PUBLIC_URL` | `http://localhost:PORT` | the server's base URL as clients reach it; the MCP endpoint (and the Portcullis API's identifier) is `PUBLIC_URL/mcp` |
//! | `RUST_LOG` | `info` | log filter |

use std::net::IpAddr;

use anyhow::Context as _;
use sample_mcp_server::{app, Config};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let host: IpAddr = var("HOST")
        .unwrap_or_else(|| "127.0.0.1".into())
        .parse()
        .context("HOST must be an IP address")?;
    let port: u16 = var("PORT")
        .unwrap_or_else(|| "3006".into())
        .parse()
        .context("PORT must be a port number")?;
    let public_url = var("PUBLIC_URL").unwrap_or_else(|| format!("http://localhost:{port}"));
    let mut config = Config::new(
        &var("DOMAIN").unwrap_or_else(|| "http://localhost:4000".into()),
        &public_url,
    );
    if let Some(issuer) = var("ISSUER") {
        config.issuer = issuer;
    }
    let guard = config.guard().context("configuring the token guard")?;
    // Fetch keys now so a wrong domain shows up at start; the server still starts without them.
    if let Err(error) = guard.refresh_keys().await {
        tracing::warn!(%error, jwks_url = %guard.jwks_url(), "signing keys not loaded yet");
    }
    let public_host = url_host(&public_url).context("PUBLIC_URL must be an http(s) URL")?;
    let allowed_hosts = ["localhost", "127.0.0.1", "::1", public_host]
        .map(str::to_owned)
        .to_vec();
    let listener = tokio::net::TcpListener::bind((host, port))
        .await
        .with_context(|| format!("binding {host}:{port}"))?;
    tracing::info!(
        address = %listener.local_addr()?,
        issuer = guard.issuer(),
        resource = %config.resource(),
        "MCP sample server listening"
    );
    axum::serve(listener, app(guard, allowed_hosts))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

/// The host of an `http(s)://host[:port]/...` URL.
fn url_host(url: &str) -> Option<&str> {
    let authority = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?
        .split(['/', '?', '#'])
        .next()?;
    match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next(),
        None => authority.split(':').next(),
    }
    .filter(|host| !host.is_empty())
}
