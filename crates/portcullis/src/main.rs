//! The `portcullis` command: serve the authorization server, and administer the tenant from
//! the shell. Every command acts on the same store as a running server, which sees the change.
//!
//! The binary is wiring: [`config`] reads the configuration, [`store`] opens the backend it
//! names, the server runs on it, and each administrative command in [`cli`] calls
//! `portcullis_core::admin`, which checks and audits the change.

mod cli;
mod config;
mod master_key;
mod private_file;
mod store;

use std::{io::IsTerminal, net::SocketAddr, path::PathBuf, sync::Arc};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use portcullis_core::{Clock, SystemClock};
use portcullis_server::{settings::TlsFiles, Application};

use crate::config::{EdgeArgs, StoreArgs};

#[derive(Parser)]
#[command(
    name = "portcullis",
    version,
    about = "A self-hosted, Auth0-compatible authorization server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(Box<ServeArgs>),
    /// Create or update the database schema, then exit.
    Migrate(#[command(flatten)] StoreArgs),
    /// APIs (resource servers).
    Apis(cli::apis::ApisCommand),
    /// Applications (clients).
    Clients(cli::clients::ClientsCommand),
    /// Users.
    Users(cli::users::UsersCommand),
    /// The database connection: sign-ups and the password policy.
    Connection(cli::connection::ConnectionCommand),
    /// Connections to other identity providers (OpenID Connect, OAuth 2, social presets).
    Connections(cli::connections::ConnectionsCommand),
    /// Auth0 Actions: deploy a file's code, bind Actions to a trigger, test one on an event.
    Actions(cli::actions::ActionsCommand),
    /// Signing keys.
    Keys(cli::keys::KeysCommand),
    /// Roles and their permissions (RBAC).
    Roles(cli::roles::RolesCommand),
    /// Client grants: scopes of an API a machine-to-machine application may get.
    Grants(cli::grants::GrantsCommand),
    /// The audit log, newest first.
    Logs(cli::logs::LogsCommand),
    /// Dashboard administrators.
    Admins(cli::admins::AdminsCommand),
    /// Get a test access token for an API (client_credentials) with a ready curl line.
    Token(cli::token::TokenArgs),
    /// Print the whole tenant (APIs, applications, grants, users, keys) as one JSON document.
    Export(cli::tenant::ExportArgs),
    /// Load a document from `export` into an empty store (same master key).
    Import(cli::tenant::ImportArgs),
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Address to listen on.
    #[arg(long, env = "PORTCULLIS_LISTEN")]
    listen: Option<SocketAddr>,
    /// Issuer URL (what `iss` says); a trailing slash is added.
    #[arg(long, env = "PORTCULLIS_ISSUER")]
    issuer: Option<String>,
    /// PEM certificate chain: serve https.
    #[arg(long, env = "PORTCULLIS_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for `--tls-cert`.
    #[arg(long, env = "PORTCULLIS_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Log format: `text` or `json`.
    #[arg(long, env = "PORTCULLIS_LOG_FORMAT")]
    log_format: Option<String>,
    #[command(flatten)]
    edge: EdgeArgs,
    #[command(flatten)]
    throttle: config::ThrottleArgs,
    #[command(flatten)]
    email: config::EmailArgs,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(*args).await,
        Command::Migrate(args) => migrate(args).await,
        Command::Apis(command) => cli::apis::run(command).await,
        Command::Clients(command) => cli::clients::run(command).await,
        Command::Users(command) => cli::users::run(command).await,
        Command::Connection(command) => cli::connection::run(command).await,
        Command::Connections(command) => cli::connections::run(command).await,
        Command::Actions(command) => cli::actions::run(command).await,
        Command::Keys(command) => cli::keys::run(command).await,
        Command::Roles(command) => cli::roles::run(command).await,
        Command::Grants(command) => cli::grants::run(command).await,
        Command::Logs(command) => cli::logs::run(command).await,
        Command::Admins(command) => cli::admins::run(command).await,
        Command::Token(args) => cli::token::run(args).await,
        Command::Export(args) => cli::tenant::export(args).await,
        Command::Import(args) => cli::tenant::import(args).await,
    }
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PORTCULLIS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    // Colours only for a terminal: a log file or a pipe gets plain `key=value` fields.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Opening the store migrates it; nothing else is needed.
async fn migrate(args: StoreArgs) -> anyhow::Result<()> {
    init_logging("text");
    let config = config::load(&args, None, None)?;
    store::open_store(&config.store).await?;
    if config.store.uses_postgres() {
        println!("migrations applied to the PostgreSQL database");
    } else {
        println!("migrations applied to {}", config.store.data_dir.display());
    }
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let file = config::load_file(args.store.config.as_deref())?;
    let log_format = args
        .log_format
        .clone()
        .or(file.log_format.clone())
        .unwrap_or_else(|| "text".into());
    init_logging(&log_format);
    let config::Config {
        mut settings,
        store: location,
    } = config::load(&args.store, args.listen, args.issuer.as_deref())?;
    settings.throttle = config::throttle(&args.throttle, &file)?;
    config::email(&mut settings, &args.email, &file)?;
    config::registration(&mut settings, &file)?;
    config::admin_mfa(&mut settings, &file)?;
    config::actions(&mut settings, &file)?;
    let tls_cert = args.tls_cert.or(file.tls_cert.clone());
    let tls_key = args.tls_key.or(file.tls_key.clone());
    if let (Some(cert), Some(key)) = (tls_cert, tls_key) {
        settings.tls = Some(TlsFiles { cert, key });
    }
    config::apply_edge(&mut settings, &args.edge, &file)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = store::open_store(&location).await?;
    let application = Application::build(settings.clone(), store, clock).await?;
    let scheme = if settings.tls.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!(
        listen = %format!("{scheme}://{}", application.local_addr()),
        metrics = %application.metrics_addr().map_or_else(|| "on the main listener".to_owned(), |a| format!("http://{a}/metrics")),
        issuer = %settings.issuer,
        store = %location.describe(),
        email = if settings.email.smtp.is_some() { "smtp" } else { "outbox (dashboard)" },
        "portcullis ready"
    );
    application
        .run_until(shutdown_signal())
        .await
        .context("serving")
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
