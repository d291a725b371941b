//! Configuration: flags and `PORTCULLIS_*` variables first, then the optional TOML file, then
//! defaults. Zero configuration works: `./data`, 127.0.0.1:4000, `http://localhost:4000/`.
//! The result is the server's [`Settings`] and where the store is ([`StoreLocation`]).

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context;
use clap::Args;
use portcullis_server::{
    settings::{
        BootstrapCredentials, ForwardedHeader, RateGroup, SmtpSettings, ThrottleLimits,
        TrustedProxies,
    },
    Settings,
};
use portcullis_types::Secret;
use serde::Deserialize;

use crate::{master_key, store::StoreLocation};
use portcullis_store_postgres::DEFAULT_ACQUIRE_TIMEOUT;

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
    /// Audit log events kept at most; 0 keeps them all.
    pub audit_retention_events: Option<u64>,
    pub smtp_url: Option<Secret>,
    pub smtp_from: Option<String>,
    pub smtp_timeout_seconds: Option<u64>,
    pub smtp_ca_file: Option<PathBuf>,
    pub email_max_attempts: Option<u64>,
    /// Days of outbox kept; 0 keeps it all.
    pub email_retention_days: Option<u32>,
    /// Whether a sign-up sends a verification email (default: true).
    pub verify_email_on_signup: Option<bool>,
    /// Sets the tenant's dynamic client registration flag at start (RFC 7591).
    pub dynamic_client_registration: Option<bool>,
    /// The initial access token a registration must present; unset: open registration.
    pub registration_access_token: Option<Secret>,
    /// Whether dashboard administrators must pass a second factor (unset: the tenant's
    /// setting on the dashboard's Security page).
    pub admin_mfa_required: Option<bool>,
    /// How long one Action may run, in milliseconds (default 500).
    pub actions_timeout_ms: Option<u64>,
    /// The heap one Action may use, in MiB (default 64).
    pub actions_memory_mb: Option<u64>,
    pub trusted_proxies: Option<Vec<String>>,
    pub forwarded_header: Option<String>,
    pub rate_limits: Option<BTreeMap<String, u32>>,
    pub header_read_timeout_seconds: Option<u64>,
    pub max_header_bytes: Option<usize>,
    pub metrics_listen: Option<SocketAddr>,
    pub max_failed_logins: Option<u64>,
    pub max_failed_logins_per_ip: Option<u64>,
    pub max_signups_per_ip: Option<u64>,
    pub throttle_window_seconds: Option<i64>,
    pub store_acquire_timeout_ms: Option<u64>,
}

/// How the server meets the network: proxies, rate limits, slow clients, the metrics listener.
/// Flags and `PORTCULLIS_*` variables win over the file's keys of the same names.
#[derive(Args, Clone, Debug, Default)]
pub struct EdgeArgs {
    /// Load balancers or reverse proxies (CIDR blocks or addresses) whose forwarding header
    /// names the client; from any other peer the header is ignored.
    #[arg(
        long,
        env = "PORTCULLIS_TRUSTED_PROXIES",
        value_name = "CIDR,..",
        value_delimiter = ','
    )]
    pub trusted_proxies: Option<Vec<String>>,
    /// The header the trusted proxies write: `x-forwarded-for` (default) or `forwarded`
    /// (RFC 7239).
    #[arg(long, env = "PORTCULLIS_FORWARDED_HEADER")]
    pub forwarded_header: Option<String>,
    /// Requests per second per client address, by group (token, login, signup, userinfo,
    /// management); 0 turns a group's limit off.
    #[arg(
        long,
        env = "PORTCULLIS_RATE_LIMITS",
        value_name = "GROUP=N,..",
        value_delimiter = ','
    )]
    pub rate_limits: Option<Vec<String>>,
    /// Seconds a client has to send a request's headers (default 10).
    #[arg(long, env = "PORTCULLIS_HEADER_READ_TIMEOUT_SECONDS")]
    pub header_read_timeout_seconds: Option<u64>,
    /// Largest request head (request line and headers) in bytes (default 16384, at least
    /// 8192); larger ones are answered 431.
    #[arg(long, env = "PORTCULLIS_MAX_HEADER_BYTES")]
    pub max_header_bytes: Option<usize>,
    /// Serve `/metrics` on this address (plain HTTP) and not on the main listener.
    #[arg(long, env = "PORTCULLIS_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
}

/// Applies the edge settings of the flags, else of the file, to `settings`.
pub fn apply_edge(
    settings: &mut Settings,
    args: &EdgeArgs,
    file: &FileConfig,
) -> anyhow::Result<()> {
    let networks = args
        .trusted_proxies
        .clone()
        .or(file.trusted_proxies.clone())
        .unwrap_or_default();
    let networks =
        TrustedProxies::parse_networks(&networks.join(",")).map_err(anyhow::Error::msg)?;
    let header = match args
        .forwarded_header
        .as_deref()
        .or(file.forwarded_header.as_deref())
    {
        Some(name) => name
            .parse::<ForwardedHeader>()
            .map_err(anyhow::Error::msg)?,
        None => ForwardedHeader::default(),
    };
    settings.trusted_proxies = TrustedProxies::new(networks, header);
    for (group, per_second) in file.rate_limits.iter().flatten() {
        let group = group.parse::<RateGroup>().map_err(anyhow::Error::msg)?;
        settings.rate_limits.set(group, *per_second);
    }
    for entry in args.rate_limits.iter().flatten() {
        settings
            .rate_limits
            .apply(entry)
            .map_err(anyhow::Error::msg)?;
    }
    let connections = &mut settings.connections;
    if let Some(seconds) = args
        .header_read_timeout_seconds
        .or(file.header_read_timeout_seconds)
    {
        connections.header_read_timeout = Duration::from_secs(seconds);
    }
    if let Some(bytes) = args.max_header_bytes.or(file.max_header_bytes) {
        connections.max_header_bytes = bytes;
    }
    connections.validate().map_err(anyhow::Error::msg)?;
    settings.metrics_listen = args.metrics_listen.or(file.metrics_listen);
    Ok(())
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
    pub store_acquire_timeout_ms: Option<u64>,
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
        acquire_timeout: Duration::from_millis(
            number(
                "STORE_ACQUIRE_TIMEOUT_MS",
                file.store_acquire_timeout_ms,
                100,
            )?
            .unwrap_or(DEFAULT_ACQUIRE_TIMEOUT.as_millis() as u64),
        ),
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
    let kept = number("AUDIT_RETENTION_EVENTS", file.audit_retention_events, 0)?;
    if let Some(events) = kept {
        settings.audit_retention_events = (events > 0).then_some(events);
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
    if let Some(verify) = flag("VERIFY_EMAIL_ON_SIGNUP", file.verify_email_on_signup)? {
        settings.verify_email_on_signup = verify;
    }
    Ok(())
}

/// Dynamic client registration: `PORTCULLIS_DYNAMIC_CLIENT_REGISTRATION` (true or false) and
/// `PORTCULLIS_REGISTRATION_ACCESS_TOKEN`, else the file's keys of the same names in lower case.
/// Only the token's SHA-256 is kept.
pub fn registration(settings: &mut Settings, file: &FileConfig) -> anyhow::Result<()> {
    settings.dynamic_client_registration = flag(
        "DYNAMIC_CLIENT_REGISTRATION",
        file.dynamic_client_registration,
    )?;
    let token = match std::env::var("PORTCULLIS_REGISTRATION_ACCESS_TOKEN") {
        Ok(text) if !text.is_empty() => Some(Secret::new(text)),
        _ => file.registration_access_token.clone(),
    };
    if let Some(token) = token {
        if token.expose_str().len() < 32 {
            anyhow::bail!("the registration access token must have at least 32 characters");
        }
        settings.registration_token_sha256 =
            Some(portcullis_core::secrets::lookup_hash(token.expose_str()));
    }
    Ok(())
}

/// Whether administrators must pass a second factor: `PORTCULLIS_ADMIN_MFA_REQUIRED`, else
/// the file's `admin_mfa_required`; unset leaves it to the dashboard's Security page.
pub fn admin_mfa(settings: &mut Settings, file: &FileConfig) -> anyhow::Result<()> {
    settings.admin_mfa_required = flag("ADMIN_MFA_REQUIRED", file.admin_mfa_required)?;
    Ok(())
}

/// The bounds of one Action's execution: `PORTCULLIS_ACTIONS_TIMEOUT_MS` (at least 10) and
/// `PORTCULLIS_ACTIONS_MEMORY_MB` (at least 8, what QuickJS needs to start with room), else the
/// file's keys of the same names in lower case.
pub fn actions(settings: &mut Settings, file: &FileConfig) -> anyhow::Result<()> {
    if let Some(ms) = number("ACTIONS_TIMEOUT_MS", file.actions_timeout_ms, 10)? {
        settings.actions.limits.time = std::time::Duration::from_millis(ms);
    }
    if let Some(mb) = number("ACTIONS_MEMORY_MB", file.actions_memory_mb, 8)? {
        let bytes = mb.saturating_mul(1024 * 1024);
        settings.actions.limits.memory_bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
    }
    Ok(())
}

/// `true` or `false` from `PORTCULLIS_<name>`, else the file's value.
fn flag(name: &str, file: Option<bool>) -> anyhow::Result<Option<bool>> {
    let variable = format!("PORTCULLIS_{name}");
    match std::env::var(&variable) {
        Ok(text) if !text.is_empty() => {
            Ok(Some(text.parse::<bool>().with_context(|| {
                format!("{variable} must be true or false")
            })?))
        }
        _ => Ok(file),
    }
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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        edge: EdgeArgs,
    }

    fn settings(flags: &[&str], file: &str) -> anyhow::Result<Settings> {
        let flags = Flags::try_parse_from(std::iter::once("serve").chain(flags.iter().copied()))?;
        let file: FileConfig = toml::from_str(file)?;
        let mut settings = Settings::new(vec![0; 32]);
        apply_edge(&mut settings, &flags.edge, &file)?;
        Ok(settings)
    }

    #[test]
    fn registration_comes_from_the_file_and_keeps_only_the_tokens_hash() {
        let token = "an-initial-access-token-of-32-chars";
        let file: FileConfig = toml::from_str(&format!(
            "dynamic_client_registration = true\nregistration_access_token = \"{token}\"\n"
        ))
        .unwrap();
        let mut settings = Settings::new(vec![0; 32]);
        registration(&mut settings, &file).unwrap();
        assert_eq!(settings.dynamic_client_registration, Some(true));
        assert_eq!(
            settings.registration_token_sha256,
            Some(portcullis_core::secrets::lookup_hash(token))
        );
        let short: FileConfig = toml::from_str("registration_access_token = \"short\"").unwrap();
        let error = registration(&mut settings, &short).unwrap_err().to_string();
        assert!(error.contains("at least 32 characters"), "{error}");
    }

    #[test]
    fn edge_settings_come_from_flags_then_the_file() {
        let file = r#"
            trusted_proxies = ["10.0.0.0/8", "192.0.2.7"]
            forwarded_header = "forwarded"
            header_read_timeout_seconds = 3
            metrics_listen = "127.0.0.1:9100"
            [rate_limits]
            login = 5
            token = 0
        "#;
        let from_file = settings(&[], file).unwrap();
        assert_eq!(from_file.trusted_proxies.networks().len(), 2);
        assert_eq!(
            from_file.trusted_proxies.header(),
            ForwardedHeader::Forwarded
        );
        assert_eq!(
            (from_file.rate_limits.login, from_file.rate_limits.token),
            (5, 0)
        );
        assert_eq!(
            from_file.connections.header_read_timeout,
            Duration::from_secs(3)
        );
        assert_eq!(
            from_file.metrics_listen,
            Some("127.0.0.1:9100".parse().unwrap())
        );

        let flags = [
            "--trusted-proxies",
            "172.16.0.0/12,fd00::/8",
            "--rate-limits",
            "login=7,signup=1",
            "--max-header-bytes",
            "32768",
        ];
        let from_flags = settings(&flags, file).unwrap();
        assert_eq!(
            from_flags
                .trusted_proxies
                .networks()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["172.16.0.0/12", "fd00::/8"]
        );
        // Flags win per group; the file's other groups stay.
        assert_eq!(
            (
                from_flags.rate_limits.login,
                from_flags.rate_limits.signup,
                from_flags.rate_limits.token
            ),
            (7, 1, 0)
        );
        assert_eq!(from_flags.connections.max_header_bytes, 32768);

        let defaults = settings(&[], "").unwrap();
        assert!(defaults.trusted_proxies.networks().is_empty());
        assert_eq!(defaults.metrics_listen, None);
    }

    #[test]
    fn bad_edge_settings_are_refused_with_the_value() {
        for (flags, file, needle) in [
            (&["--trusted-proxies", "lb.example"][..], "", "lb.example"),
            (&["--rate-limits", "tokens=5"][..], "", "tokens"),
            (&[][..], "[rate_limits]\nlogn = 1", "logn"),
            (&["--forwarded-header", "x-real-ip"][..], "", "x-real-ip"),
            (&["--max-header-bytes", "1024"][..], "", "8192"),
            (&["--header-read-timeout-seconds", "0"][..], "", "positive"),
        ] {
            let error = settings(flags, file).unwrap_err().to_string();
            assert!(error.contains(needle), "{flags:?} {file:?}: {error}");
        }
    }

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
