//! How emails are delivered: the SMTP server (`PORTCULLIS_SMTP_URL`), the default sender, the
//! timeouts, and the retry and retention policy of the outbox.
//!
//! The URL says how to reach the server:
//!
//! | URL | connection |
//! |---|---|
//! | `smtp://user:pass@host:587` | STARTTLS, required (port 587 by default) |
//! | `smtps://user:pass@host:465` | TLS from the first byte (port 465 by default) |
//! | `smtp://host:1025?tls=none` | plain text, for a local sink (MailHog, Mailpit); refused with credentials |
//!
//! TLS trusts Mozilla's roots, and the certificates of `PORTCULLIS_SMTP_CA_FILE` when set (a
//! private relay). The user name and password are percent-decoded. The URL holds a password: it is read into a
//! `Secret`, and no error message repeats it.

use std::{path::PathBuf, time::Duration};

use lettre::message::Mailbox;
use portcullis_types::Secret;

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain text upgraded with STARTTLS, which the server must offer (`smtp://`).
    StartTls,
    /// TLS from the first byte (`smtps://`).
    Tls,
    /// No encryption (`smtp://...?tls=none`): a sink on this machine or a trusted network.
    None,
}

/// A parsed `PORTCULLIS_SMTP_URL`.
#[derive(Clone, Debug)]
pub struct SmtpServer {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

impl SmtpServer {
    /// Parses the URL; errors name what is wrong, never the URL.
    pub fn parse(url: &Secret) -> Result<Self, String> {
        let parsed = url::Url::parse(url.expose_str())
            .map_err(|error| format!("PORTCULLIS_SMTP_URL is not a URL ({error})"))?;
        let mut tls = None;
        for (key, value) in parsed.query_pairs() {
            match key.as_ref() {
                "tls" if tls.is_none() => tls = Some(value.into_owned()),
                other => {
                    return Err(format!(
                        "PORTCULLIS_SMTP_URL: unknown or repeated query parameter {other:?} (only tls=none is known)"
                    ))
                }
            }
        }
        let (security, default_port) = match (parsed.scheme(), tls.as_deref()) {
            ("smtp", None | Some("starttls")) => (SmtpSecurity::StartTls, 587),
            ("smtp", Some("none")) => (SmtpSecurity::None, 25),
            ("smtps", None | Some("tls")) => (SmtpSecurity::Tls, 465),
            ("smtp" | "smtps", Some(_)) => {
                return Err(
                    "PORTCULLIS_SMTP_URL: tls must be none (smtp:// only) or left out".into(),
                )
            }
            (scheme, _) => {
                return Err(format!(
                    "PORTCULLIS_SMTP_URL must start with smtp:// or smtps://, not {scheme}://"
                ))
            }
        };
        let host = parsed
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or("PORTCULLIS_SMTP_URL names no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if !matches!(parsed.path(), "" | "/") || parsed.fragment().is_some() {
            return Err("PORTCULLIS_SMTP_URL must not have a path or a fragment".into());
        }
        let decode = |text: &str| {
            percent_encoding::percent_decode_str(text)
                .decode_utf8()
                .map(|text| text.into_owned())
                .map_err(|_| "PORTCULLIS_SMTP_URL: the user name or password is not UTF-8")
        };
        let username = Some(decode(parsed.username())?).filter(|name| !name.is_empty());
        let password = parsed.password().map(decode).transpose()?.map(Secret::new);
        if security == SmtpSecurity::None && (username.is_some() || password.is_some()) {
            return Err(
                "PORTCULLIS_SMTP_URL: tls=none would send the password in the clear; use smtp:// (STARTTLS) or smtps://"
                    .into(),
            );
        }
        if password.is_some() && username.is_none() {
            return Err("PORTCULLIS_SMTP_URL has a password but no user name".into());
        }
        Ok(SmtpServer {
            host,
            port: parsed.port().unwrap_or(default_port),
            security,
            username,
            password,
        })
    }
}

/// An SMTP server to send through.
#[derive(Clone, Debug)]
pub struct SmtpSettings {
    pub server: SmtpServer,
    /// The sender of messages whose template names none (`PORTCULLIS_SMTP_FROM`).
    pub from: Mailbox,
    /// How long one message's delivery may take, connecting included; past it the attempt
    /// fails and the message waits for its next one.
    pub timeout: Duration,
    /// PEM certificates trusted besides Mozilla's roots: the CA of a private relay
    /// (`PORTCULLIS_SMTP_CA_FILE`).
    pub ca_file: Option<PathBuf>,
}

impl SmtpSettings {
    /// Reads the URL and the sender; `from` defaults to `no-reply@` the issuer's host.
    pub fn new(url: &Secret, from: Option<&str>, issuer: &str) -> Result<Self, String> {
        let server = SmtpServer::parse(url)?;
        let from =
            match from.map(str::trim).filter(|from| !from.is_empty()) {
                Some(from) => from.parse::<Mailbox>().map_err(|error| {
                    format!("PORTCULLIS_SMTP_FROM {from:?} is not an email address ({error})")
                })?,
                None => {
                    let host = url::Url::parse(issuer)
                        .ok()
                        .and_then(|url| url.host_str().map(str::to_owned))
                        .unwrap_or_else(|| "localhost".into());
                    format!("no-reply@{host}").parse::<Mailbox>().map_err(|error| {
                    format!("set PORTCULLIS_SMTP_FROM: no-reply@{host} is not an address ({error})")
                })?
                }
            };
        Ok(SmtpSettings {
            server,
            from,
            timeout: Duration::from_secs(30),
            ca_file: None,
        })
    }
}

/// How the outbox is delivered and kept.
#[derive(Clone, Debug)]
pub struct EmailSettings {
    /// `None`: messages stay in the outbox, for the dashboard, and are never sent.
    pub smtp: Option<SmtpSettings>,
    /// A message is given up after this many attempts.
    pub max_attempts: u32,
    /// The wait after the first failed attempt, doubled after each further one.
    pub retry_base_seconds: i64,
    /// The longest wait between two attempts.
    pub retry_max_seconds: i64,
    /// How often the sender looks for due messages (it is also woken when this replica
    /// writes one).
    pub poll_interval: Duration,
    /// How long a sender holds the messages it claimed: past it, a sender that died has its
    /// messages claimed by another. Longer than a delivery can take.
    pub lease_seconds: i64,
    /// Messages older than this many days are swept, whatever their status; `None` keeps them.
    pub retention_days: Option<u32>,
}

impl Default for EmailSettings {
    fn default() -> Self {
        EmailSettings {
            smtp: None,
            max_attempts: 10,
            retry_base_seconds: 30,
            retry_max_seconds: 3_600,
            poll_interval: Duration::from_secs(5),
            lease_seconds: 300,
            retention_days: Some(7),
        }
    }
}

impl EmailSettings {
    /// The wait before the attempt after `attempts` failed ones: exponential, capped.
    pub fn backoff(&self, attempts: i64) -> i64 {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        self.retry_base_seconds
            .saturating_mul(1_i64 << doublings)
            .min(self.retry_max_seconds)
            .max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<SmtpServer, String> {
        SmtpServer::parse(&Secret::from(url))
    }

    #[test]
    fn urls_choose_the_protection() {
        let starttls = parse("smtp://ann%40corp:p%40ss@mail.example").unwrap();
        assert_eq!(
            (starttls.security, starttls.port),
            (SmtpSecurity::StartTls, 587)
        );
        assert_eq!(starttls.username.as_deref(), Some("ann@corp"));
        assert_eq!(starttls.password.unwrap().expose_str(), "p@ss");
        let tls = parse("smtps://u:p@mail.example").unwrap();
        assert_eq!((tls.security, tls.port), (SmtpSecurity::Tls, 465));
        let sink = parse("smtp://127.0.0.1:1025?tls=none").unwrap();
        assert_eq!((sink.security, sink.port), (SmtpSecurity::None, 1025));
        assert_eq!(sink.host, "127.0.0.1");
    }

    #[test]
    fn errors_never_repeat_the_password() {
        for url in [
            "smtp://u:hunter2@host?tls=none",
            "http://u:hunter2@host",
            "smtp://u:hunter2@host?tls=opportunistic",
            "smtp://u:hunter2@host?tsl=none",
            "smtp://u:hunter2@host/path",
            "smtps://u:hunter2@host?tls=none",
        ] {
            let error = parse(url).unwrap_err();
            assert!(!error.contains("hunter2"), "{error}");
        }
    }

    #[test]
    fn senders_and_backoff() {
        let url = Secret::from("smtp://mail.example");
        let settings = SmtpSettings::new(&url, None, "https://auth.example.com/").unwrap();
        assert_eq!(settings.from.email.to_string(), "no-reply@auth.example.com");
        let named = SmtpSettings::new(&url, Some("Acme <hi@acme.example>"), "x").unwrap();
        assert_eq!(named.from.name.as_deref(), Some("Acme"));
        assert!(SmtpSettings::new(&url, Some("not an address"), "x").is_err());
        let email = EmailSettings::default();
        let waits: Vec<i64> = (1..=9).map(|n| email.backoff(n)).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(email.backoff(1_000), 3_600);
    }
}
