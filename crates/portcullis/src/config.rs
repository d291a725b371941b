//! Configuration: flags and `PORTCULLIS_*` variables first, then the optional TOML file, then
//! defaults. Zero configuration works: `./data`, 127.0.0.1:4000, `http://localhost:4000/`.
//! The result is the server's [`Settings`] and where the store is ([`StoreLocation`]).

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use anyhow::Context;
use clap::Args;
use portcullis_server::{
    settings::{BootstrapCredentials, ThrottleLimits},
    Settings,
};
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
    pub max_failed_logins: Option<u64>,
    pub max_failed_logins_per_ip: Option<u64>,
    pub max_signups_per_ip: Option<u64>,
    pub throttle_window_seconds: Option<i64>,
}

/// Brute-force protection and sign-up throttling (`portcullis serve`); each falls back to the
/// configuration file, then to Auth0's defaults.
#[derive(Args, Clone, Debug, Default)]
pub struct ThrottleArgs {
    /// Failed logins per account and client address (an IPv6 address counts as its /64)
    /// before that pair is refused for the rest of the window. Default 10.
    #[arg(long, env = "PORTCULLIS_MAX_FAILED_LOGINS")]
    pub max_failed_logins: Option<u64>,
    /// Failed logins per client address, whatever the accounts, before the address is
    /// refused for the rest of the window. Default 100.
    #[arg(long, env = "PORTCULLIS_MAX_FAILED_LOGINS_PER_IP")]
    pub max_failed_logins_per_ip: Option<u64>,
    /// Sign-up attempts per client address per window, successful or not. Default 50.
    #[arg(long, env = "PORTCULLIS_MAX_SIGNUPS_PER_IP")]
    pub max_signups_per_ip: Option<u64>,
    /// The window those limits count in, in seconds. Default 900.
    #[arg(long, env = "PORTCULLIS_THROTTLE_WINDOW_SECONDS")]
    pub throttle_window_seconds: Option<i64>,
}

/// The throttling limits from the arguments (flags and environment), then the file.
pub fn throttle(args: &ThrottleArgs, file: &FileConfig) -> anyhow::Result<ThrottleLimits> {
    let mut limits = ThrottleLimits::default();
    let counts = [
        (
            &mut limits.per_pair,
            args.max_failed_logins.or(file.max_failed_logins),
            "max_failed_logins",
        ),
        (
            &mut limits.per_ip,
            args.max_failed_logins_per_ip
                .or(file.max_failed_logins_per_ip),
            "max_failed_logins_per_ip",
        ),
        (
            &mut limits.signups_per_ip,
            args.max_signups_per_ip.or(file.max_signups_per_ip),
            "max_signups_per_ip",
        ),
    ];
    for (limit, given, name) in counts {
        if let Some(count) = given {
            anyhow::ensure!(count >= 1, "{name} must be at least 1");
            *limit = count;
        }
    }
    if let Some(seconds) = args
        .throttle_window_seconds
        .or(file.throttle_window_seconds)
    {
        anyhow::ensure!(seconds >= 1, "throttle_window_seconds must be at least 1");
        limits.window_seconds = seconds;
    }
    Ok(limits)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_limits_come_from_flags_then_the_file() {
        let file: FileConfig =
            toml::from_str("max_failed_logins = 5\nmax_signups_per_ip = 7").expect("toml");
        let args = ThrottleArgs {
            max_failed_logins: Some(3),
            ..ThrottleArgs::default()
        };
        let limits = throttle(&args, &file).expect("limits");
        assert_eq!(limits.per_pair, 3, "the flag wins");
        assert_eq!(limits.signups_per_ip, 7, "then the file");
        assert_eq!(limits.per_ip, ThrottleLimits::default().per_ip);
        let zero = ThrottleArgs {
            max_failed_logins_per_ip: Some(0),
            ..ThrottleArgs::default()
        };
        assert!(throttle(&zero, &FileConfig::default()).is_err());
    }
}
