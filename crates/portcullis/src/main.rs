//! The `portcullis` command: serve the authorization server, and administer the tenant from
//! the shell. Every command acts on the same store as a running server, which sees the change.

mod access;
mod admin;
mod config;
mod tenant;
mod token;

use std::{io::IsTerminal, net::SocketAddr, path::PathBuf, sync::Arc};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use portcullis_core::{Clock, SystemClock};
use portcullis_server::Application;

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
    pub database_url: Option<String>,
    /// Optional TOML configuration file.
    #[arg(long, env = "PORTCULLIS_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Print results as JSON (the Management API's shapes).
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Create or update the database schema, then exit.
    Migrate(#[command(flatten)] StoreArgs),
    /// APIs (resource servers).
    Apis(admin::ApisCommand),
    /// Applications (clients).
    Clients(admin::ClientsCommand),
    /// Users.
    Users(admin::UsersCommand),
    /// Signing keys.
    Keys(admin::KeysCommand),
    /// Roles and their permissions (RBAC).
    Roles(access::RolesCommand),
    /// Client grants: scopes of an API a machine-to-machine application may get.
    Grants(access::GrantsCommand),
    /// The audit log, newest first.
    Logs(access::LogsCommand),
    /// Dashboard administrators.
    Admins(access::AdminsCommand),
    /// Get a test access token for an API (client_credentials) with a ready curl line.
    Token(token::TokenArgs),
    /// Print the whole tenant (APIs, applications, grants, users, keys) as one JSON document.
    Export(tenant::ExportArgs),
    /// Load a document from `export` into an empty store (same master key).
    Import(tenant::ImportArgs),
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
        Command::Serve(args) => serve(args).await,
        Command::Migrate(store) => {
            init_logging("text");
            let settings = config::settings(&store, None, None)?;
            portcullis_server::open_store(&settings).await?;
            if settings.uses_postgres() {
                println!("migrations applied to the PostgreSQL database");
            } else {
                println!("migrations applied to {}", settings.data_dir.display());
            }
            Ok(())
        }
        Command::Apis(command) => admin::apis(command).await,
        Command::Clients(command) => admin::clients(command).await,
        Command::Users(command) => admin::users(command).await,
        Command::Keys(command) => admin::keys(command).await,
        Command::Roles(command) => access::roles(command).await,
        Command::Grants(command) => access::grants(command).await,
        Command::Logs(command) => access::logs(command).await,
        Command::Admins(command) => access::admins(command).await,
        Command::Token(args) => token::token(args).await,
        Command::Export(args) => tenant::export(args).await,
        Command::Import(args) => tenant::import(args).await,
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

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let file = config::load_file(args.store.config.as_deref())?;
    let log_format = args
        .log_format
        .clone()
        .or(file.log_format.clone())
        .unwrap_or_else(|| "text".into());
    init_logging(&log_format);
    let mut settings = config::settings(&args.store, args.listen, args.issuer.as_deref())?;
    let tls_cert = args.tls_cert.or(file.tls_cert);
    let tls_key = args.tls_key.or(file.tls_key);
    if let (Some(cert), Some(key)) = (tls_cert, tls_key) {
        settings.tls = Some(portcullis_server::settings::TlsFiles { cert, key });
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = portcullis_server::open_store(&settings).await?;
    let application = Application::build(settings.clone(), store, clock).await?;
    let scheme = if settings.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let store_name = if settings.uses_postgres() {
        "postgresql".to_owned()
    } else {
        settings.data_dir.display().to_string()
    };
    tracing::info!(
        listen = %format!("{scheme}://{}", application.local_addr()),
        issuer = %settings.issuer,
        store = %store_name,
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
