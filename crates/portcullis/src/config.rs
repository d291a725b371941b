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
    settings::{BootstrapCredentials, SmtpSettings},
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
    pub session_lifetime_seconds: Option<u64>,
    pub session_idle_timeout_seconds: Option<u64>,
    pub sweep_interval_seconds: Option<u64>,
    /// Days of audit log kept; 0 keeps it all.
    pub audit_retention_days: Option<u32>,
    pub smtp_url: Option<Secret>,
    pub smtp_from: Option<String>,
    pub smtp_timeout_seconds: Option<u64>,
    pub smtp_ca_file: Option<PathBuf>,
    pub email_max_attempts: Option<u64>,
    /// Days of outbox kept; 0 keeps it all.
    pub email_retention_days: Option<u32>,
}

/// How `serve` delivers emails.
#[derive(Args, Clone, Debug, Default)]
pub struct EmailArgs {
    /// The SMTP server: smtp://USER:PASSWORD@HOST:587 (STARTTLS), smtps://USER:PASSWORD@HOST
    /// (TLS, port 465), or smtp://HOST:PORT?tls=none (a local sink, no credentials). Unset:
    /// emails stay in the outbox, on the dashboard's Emails page.
    #[arg(long, env = "PORTCULLIS_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<Secret>,
    /// The sender of emails whose template names none (default: no-reply@ the issuer's host).
    #[arg(long, env = "PORTCULLIS_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// PEM certificates to trust besides Mozilla's roots (a private relay's CA).
    #[arg(long, env = "PORTCULLIS_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,
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
    if let Some(seconds) = number("CACHE_REFRESH_SECONDS", file.cache_refresh_seconds, 1)? {
        settings.cache_refresh_seconds = seconds;
    }
    if let Some(seconds) = number(
        "SESSION_LIFETIME_SECONDS",
        file.session_lifetime_seconds,
        60,
    )? {
        settings.session_lifetime = i64::try_from(seconds).context("session lifetime")?;
    }
    let idle = number(
        "SESSION_IDLE_TIMEOUT_SECONDS",
        file.session_idle_timeout_seconds,
        60,
    )?;
    if let Some(seconds) = idle {
        settings.session_idle_timeout = i64::try_from(seconds).context("session idle timeout")?;
    }
    if let Some(seconds) = number("SWEEP_INTERVAL_SECONDS", file.sweep_interval_seconds, 1)? {
        settings.sweep_interval_seconds = seconds;
    }
    let retention = number(
        "AUDIT_RETENTION_DAYS",
        file.audit_retention_days.map(u64::from),
        0,
    )?;
    if let Some(days) = retention {
        settings.audit_retention_days = (days > 0).then(|| u32::try_from(days).unwrap_or(u32::MAX));
    }
    Ok(Config { settings, store })
}

/// Email delivery: the SMTP server and sender from the flags (or their variables), else the
/// file; the timeout, attempts and retention from `PORTCULLIS_*` or the file.
pub fn email(settings: &mut Settings, args: &EmailArgs, file: &FileConfig) -> anyhow::Result<()> {
    let url = args
        .smtp_url
        .clone()
        .or_else(|| file.smtp_url.clone())
        .filter(|url| !url.is_empty());
    let from = args.smtp_from.clone().or_else(|| file.smtp_from.clone());
    let email = &mut settings.email;
    if let Some(url) = url {
        let mut smtp = SmtpSettings::new(&url, from.as_deref(), &settings.issuer)
            .map_err(anyhow::Error::msg)?;
        if let Some(seconds) = number("SMTP_TIMEOUT_SECONDS", file.smtp_timeout_seconds, 1)? {
            smtp.timeout = std::time::Duration::from_secs(seconds);
        }
        smtp.ca_file = args
            .smtp_ca_file
            .clone()
            .or_else(|| file.smtp_ca_file.clone());
        email.smtp = Some(smtp);
    } else if from.is_some() {
        anyhow::bail!("PORTCULLIS_SMTP_FROM is set but PORTCULLIS_SMTP_URL is not");
    }
    if let Some(attempts) = number("EMAIL_MAX_ATTEMPTS", file.email_max_attempts, 1)? {
        email.max_attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
    }
    let retention = number(
        "EMAIL_RETENTION_DAYS",
        file.email_retention_days.map(u64::from),
        0,
    )?;
    if let Some(days) = retention {
        email.retention_days = (days > 0).then(|| u32::try_from(days).unwrap_or(u32::MAX));
    }
    Ok(())
}

/// A whole number from `PORTCULLIS_<name>`, else from the file's key of the same name in lower
/// case; at least `min`.
fn number(name: &str, file: Option<u64>, min: u64) -> anyhow::Result<Option<u64>> {
    let variable = format!("PORTCULLIS_{name}");
    let value = match std::env::var(&variable) {
        Ok(text) if !text.is_empty() => Some(
            text.parse::<u64>()
                .with_context(|| format!("{variable} must be a whole number"))?,
        ),
        _ => file,
    };
    if let Some(value) = value {
        anyhow::ensure!(
            value >= min,
            "{} must be at least {min}",
            name.to_lowercase()
        );
    }
    Ok(value)
}
