//! `sample-api`: the tutorial's API server.
//!
//! Reads `auth_config.json` from the working directory and listens on 127.0.0.1:`PORT`.
//!
//! | Variable | Default | Meaning |
//! |---|---|---|
//! | `PORT` | `3000` | port to listen on |
//! | `HOST` | `127.0.0.1` | address to listen on |
//! | `AUTH_CONFIG` | `auth_config.json` | the SPA/API configuration file |
//! | `STATIC_DIR` (or `--static-dir DIR`) | `public` | static files |
//! | `INDEX_FILE` | `index.html`, else `STATIC_DIR/index.html` | served for unknown paths |
//! | `ALLOWED_ORIGINS` | none | comma-separated extra CORS origins (loopback is always allowed) |
//! | `PUBLIC_URL` | none | the API's public base URL; when set, RFC 9728 metadata is served and named in every 401 |
//! | `SAMPLE_API_WORKERS` | one per core | tokio worker threads; `1` runs a single-threaded runtime |
//! | `RUST_LOG` | `info` | log filter |

use std::{net::IpAddr, path::PathBuf};

use anyhow::Context as _;
use axum::http::HeaderValue;
use sample_api::{app, AuthConfig, Site};
use tracing_subscriber::EnvFilter;

struct Settings {
    public_url: Option<String>,
    host: IpAddr,
    port: u16,
    workers: Option<usize>,
    site: Site,
}

impl Settings {
    fn from_env() -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let mut static_dir = PathBuf::from(var("STATIC_DIR").unwrap_or_else(|| "public".into()));
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--static-dir" => {
                    static_dir = args.next().context("--static-dir needs a value")?.into();
                }
                other => anyhow::bail!("unknown argument {other:?} (see the module docs)"),
            }
        }
        let index_file = match var("INDEX_FILE") {
            Some(path) => PathBuf::from(path),
            // The tutorial keeps index.html next to server.js, outside public/.
            None if PathBuf::from("index.html").is_file() => PathBuf::from("index.html"),
            None => static_dir.join("index.html"),
        };
        let allowed_origins = var("ALLOWED_ORIGINS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(|origin| {
                HeaderValue::from_str(origin).with_context(|| format!("origin {origin:?}"))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            public_url: var("PUBLIC_URL"),
            host: var("HOST")
                .unwrap_or_else(|| "127.0.0.1".into())
                .parse()
                .context("HOST must be an IP address")?,
            port: var("PORT")
                .unwrap_or_else(|| "3000".into())
                .parse()
                .context("PORT must be a port number")?,
            workers: var("SAMPLE_API_WORKERS")
                .map(|workers| workers.parse())
                .transpose()
                .context("SAMPLE_API_WORKERS must be a number")?,
            site: Site {
                auth_config_file: PathBuf::from(
                    var("AUTH_CONFIG").unwrap_or_else(|| "auth_config.json".into()),
                ),
                static_dir,
                index_file,
                allowed_origins,
            },
        })
    }
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let settings = Settings::from_env()?;
    let runtime = match settings.workers {
        // One core, one thread: what the benchmark pins.
        Some(1) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        Some(workers) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers.max(1))
            .enable_all()
            .build()?,
        None => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?,
    };
    runtime.block_on(serve(settings))
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let config = AuthConfig::from_file(&settings.site.auth_config_file)?;
    let guard = config
        .guard_served_at(settings.public_url.as_deref())
        .context("configuring the token guard")?;
    // Fetch keys now so a wrong domain shows up at start; the API still starts without them.
    if let Err(error) = guard.refresh_keys().await {
        tracing::warn!(%error, jwks_url = %guard.jwks_url(), "signing keys not loaded yet");
    }
    let listener = tokio::net::TcpListener::bind((settings.host, settings.port))
        .await
        .with_context(|| format!("binding {}:{}", settings.host, settings.port))?;
    tracing::info!(
        address = %listener.local_addr()?,
        issuer = guard.issuer(),
        audience = %config.audience,
        "sample API listening"
    );
    axum::serve(listener, app(guard, &settings.site))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => return interrupt.await.unwrap_or_default(),
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    interrupt.await.unwrap_or_default();
}
