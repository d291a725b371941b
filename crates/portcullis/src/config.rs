//! Configuration: flags and `PORTCULLIS_*` variables first, then the optional TOML file, then
//! defaults. Zero configuration works: `./data`, 127.0.0.1:4000, `http://localhost:4000/`.
//! The result is the server's [`Settings`] and where the store is ([`StoreLocation`]).

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use anyhow::Context;
use clap::Args;
use portcullis_server::{settings::BootstrapCredentials, Settings};
use portcullis_types::Secret;
use serde::Deserialize;

use crate::{master_key, store::StoreLocation};

/// Where the tenant lives; shared by every command.
#[derive(Args, Clone, Debug)]
pub struct StoreArgs {
    /// Data directory (SQLite database, master key).
    #[arg(long, env = "PORTCULLIS_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// The store: postgres://USER:PASSWORD@HOST:PORT/DATABASE (replicas share it; requires
    /// PORTCULLIS_MASTER_KEY) or sqlite://PATH. Default: SQLite in the data directory.
    #[arg(
        long,
        env = "PORTCULLIS_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<Secret>,
    /// Optional TOML configuration file.
    #[arg(long, env = "PORTCULLIS_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Print results as JSON (the Management API's shapes).
    #[arg(long, global = true)]
    pub json: bool,
}

/// The optional configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub issuer: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<Secret>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub log_format: Option<String>,
    pub cache_refresh_seconds: Option<u64>,
}

pub fn load_file(path: Option<&Path>) -> anyhow::Result<FileConfig> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// What a command runs on: the server's settings and the store's location.
pub struct Config {
    pub settings: Settings,
    pub store: StoreLocation,
}

/// Validated configuration from the arguments, the environment and the file.
pub fn load(
    args: &StoreArgs,
    listen: Option<SocketAddr>,
    issuer: Option<&str>,
) -> anyhow::Result<Config> {
    let file = load_file(args.config.as_deref())?;
    let store = StoreLocation {
        data_dir: args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("data")),
        database_url: args
            .database_url
            .clone()
            .or(file.database_url)
            .filter(|u| !u.is_empty()),
    };
    let mut settings = Settings::new(master_key::load(&store)?);
    settings.bootstrap_client = BootstrapCredentials::from_env().map_err(anyhow::Error::msg)?;
    if let Some(listen) = listen.or(file.listen) {
        settings.listen = listen;
    }
    if let Some(issuer) = issuer.map(str::to_owned).or(file.issuer) {
        settings.issuer = Settings::normalize_issuer(&issuer).map_err(anyhow::Error::msg)?;
    }
    let refresh = match std::env::var("PORTCULLIS_CACHE_REFRESH_SECONDS") {
        Ok(text) if !text.is_empty() => {
            Some(text.parse::<u64>().ok().filter(|s| *s >= 1).context(
                "PORTCULLIS_CACHE_REFRESH_SECONDS must be a whole number of seconds, at least 1",
            )?)
        }
        _ => file.cache_refresh_seconds,
    };
    if let Some(seconds) = refresh {
        anyhow::ensure!(seconds >= 1, "cache_refresh_seconds must be at least 1");
        settings.cache_refresh_seconds = seconds;
    }
    Ok(Config { settings, store })
}
