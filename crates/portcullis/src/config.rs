//! Configuration: flags and `PORTCULLIS_*` variables first, then the optional TOML file, then
//! defaults. Zero configuration works: `./data`, 127.0.0.1:4000, `http://localhost:4000/`.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use anyhow::Context;
use portcullis_server::{master_key, settings::is_postgres_url, Settings};
use serde::Deserialize;

use crate::StoreArgs;

/// The optional configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub issuer: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
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

/// Validated settings from the arguments, the environment and the file.
pub fn settings(
    store: &StoreArgs,
    listen: Option<SocketAddr>,
    issuer: Option<&str>,
) -> anyhow::Result<Settings> {
    let file = load_file(store.config.as_deref())?;
    let data_dir = store
        .data_dir
        .clone()
        .or(file.data_dir)
        .unwrap_or_else(|| PathBuf::from("data"));
    let database_url = store
        .database_url
        .clone()
        .or(file.database_url)
        .filter(|u| !u.is_empty());
    let master_key = match std::env::var("PORTCULLIS_MASTER_KEY") {
        Ok(text) if !text.is_empty() => master_key::decode(&text)?,
        // Replicas share the database, so they must share the key too: a key generated into
        // one machine's data directory would not open what another replica sealed.
        _ if is_postgres_url(database_url.as_deref()) => anyhow::bail!(
            "PORTCULLIS_MASTER_KEY is required with a PostgreSQL database: set it to the same \
             32 random bytes (base64) on every replica and for the CLI \
             (for example: openssl rand -base64 32)"
        ),
        _ => master_key::load_or_create(&data_dir)?,
    };
    let mut settings = Settings::new(data_dir, master_key);
    settings.database_url = database_url;
    settings.bootstrap_client = portcullis_server::settings::BootstrapCredentials::from_env()
        .map_err(anyhow::Error::msg)?;
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
    Ok(settings)
}
