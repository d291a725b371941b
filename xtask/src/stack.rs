//! The demo stack: the authorization server with a fresh tenant, the Rust sample API, the
//! Express API, the three SPAs and the MCP sample server, each on its own `localhost` port. `cargo xtask demo` runs it
//! on fixed ports; `cargo xtask browser` runs it on free ports and points the browser suite at
//! it.
//!
//! | app | served by | calls |
//! |---|---|---|
//! | `spa-js-express` | the Express API (`samples/express-api`), as in seed 003 | its own `/api/external` |
//! | `spa-js-rust` | the Rust sample API (`samples/rust-api`) | its own `/api/external` |
//! | `auth0js-rust`, `angularjs-rust` | a static `sample-api` | the Rust sample API |
//! | `auth0js-express`, `angularjs-express` | a static `sample-api` | the Express API |
//!
//! The tenant: the API `https://quickstarts/api` with scope `read:messages` under RBAC (only the
//! role `reader` grants it), the API of the MCP sample (`samples/mcp-server`), whose identifier
//! is its endpoint's URL (`http://localhost:PORT/mcp`), with the same scope and role, one SPA application per app origin, the user `demo@example.com`
//! holding the role and `denied@example.com` holding none, and the dashboard's administrator
//! `admin@example.com`. The demo has no SMTP server (the zero-configuration path: the emails
//! the server writes are read on the dashboard's Emails page); the browser suite runs a real
//! one (`samples/browser-tests/smtp-sink.mjs`) that the server delivers to over SMTP and that
//! writes each message it receives to a folder the tests read as the recipient's mailbox.
//!
//! Every page gets its settings from `/auth_config.json` (`domain`, `clientId`, `audience`,
//! `apiUrl`), written here per app; every app is an SPA application of its own.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::procs::{ensure_free, free_port, Supervisor};

pub const AUDIENCE: &str = "https://quickstarts/api";
pub const SCOPE: &str = "read:messages";

/// How long a process may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Which ports to use.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Ports {
    /// The demo's: the server on 4000, the apps on 3000-3005 (seed 003's app on 3000, the
    /// seeds' API on 3001).
    Fixed,
    /// Ports the OS says are free (the browser suite).
    Free,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Api {
    Rust,
    Express,
}

impl Api {
    fn name(self) -> &'static str {
        match self {
            Api::Rust => "rust",
            Api::Express => "express",
        }
    }
}

/// One SPA origin.
struct App {
    sample: &'static str,
    api: Api,
    port: u16,
}

impl App {
    fn name(&self) -> String {
        format!("{}-{}", self.sample, self.api.name())
    }

    fn origin(&self) -> String {
        origin(self.port)
    }

    /// Where the SDK sends the browser back after login.
    fn callback(&self) -> String {
        match self.sample {
            // angular-auth0's sample routes /callback with ui-router.
            "angularjs" => format!("{}/callback", self.origin()),
            _ => self.origin(),
        }
    }

    /// auth0.js (directly or through angular-auth0) uses the implicit grant.
    fn implicit(&self) -> bool {
        self.sample != "spa-js"
    }
}

fn origin(port: u16) -> String {
    format!("http://localhost:{port}")
}

/// The binaries the stack runs.
pub struct Binaries {
    pub portcullis: PathBuf,
    pub sample_api: PathBuf,
    pub mcp_server: PathBuf,
}

/// How to build the binaries.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// Only the server and the Rust sample API.
    Binaries,
    /// Every target of the workspace, as `cargo test --workspace --all-targets` builds them
    /// (same features, so nothing is rebuilt after it).
    AsTests,
}

/// Builds the server and the Rust sample API (debug profile, as the tests use) and finds them.
pub fn build(root: &Path, how: Build) -> anyhow::Result<Binaries> {
    match how {
        Build::Binaries => crate::run(
            "cargo",
            &[
                "build",
                "-p",
                "portcullis",
                "-p",
                "sample-api",
                "-p",
                "sample-mcp-server",
            ],
        )?,
        Build::AsTests => crate::run("cargo", &["build", "--workspace", "--all-targets"])?,
    }
    let output = Command::new("cargo")
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .output()
        .context("cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: Value = serde_json::from_slice(&output.stdout).context("cargo metadata JSON")?;
    let target = metadata["target_directory"]
        .as_str()
        .context("cargo metadata has no target_directory")?;
    let debug = Path::new(target).join("debug");
    let binaries = Binaries {
        portcullis: debug.join("portcullis"),
        sample_api: debug.join("sample-api"),
        mcp_server: debug.join("sample-mcp-server"),
    };
    for path in [
        &binaries.portcullis,
        &binaries.sample_api,
        &binaries.mcp_server,
    ] {
        if !path.is_file() {
            bail!("{} is missing after the build", path.display());
        }
    }
    Ok(binaries)
}

/// Runs `npm ci` where a sample's install is missing or stale, and, when `browser`, installs
/// Debian's chromium if it is missing (`scripts/install-browser-deps.sh`).
pub fn install_node_deps(browser: bool) -> anyhow::Result<()> {
    let mut args = vec!["scripts/install-browser-deps.sh"];
    if !browser {
        args.push("--no-browser");
    }
    crate::run("bash", &args)
}

/// A user of the tenant.
#[derive(Clone)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

/// The running stack. Dropping it stops every process and deletes the tenant.
pub struct Stack {
    // Declared first: processes stop before their files go.
    pub processes: Supervisor,
    pub dir: tempfile::TempDir,
    pub issuer: String,
    /// Holds the `reader` role (read:messages).
    pub user: Credentials,
    /// Holds no role: `/api/private-scoped` answers 403.
    pub denied: Credentials,
    /// The dashboard's first administrator.
    pub admin: Credentials,
    /// `(name, url)` of every app, in start order.
    pub apps: Vec<(String, String)>,
    /// The MCP sample's endpoint (`http://localhost:PORT/mcp`), also its API's identifier.
    pub mcp: String,
    /// The manifest the browser suite reads (`PORTCULLIS_STACK`).
    pub manifest: PathBuf,
}

impl Stack {
    pub fn start(root: &Path, binaries: &Binaries, ports: Ports) -> anyhow::Result<Stack> {
        let samples = root.join("samples");
        let dir = tempfile::Builder::new()
            .prefix("portcullis-demo-")
            .tempdir()
            .context("creating the demo directory")?;
        let data = dir.path().join("data");
        let logs = dir.path().join("logs");
        let configs = dir.path().join("config");
        for folder in [&data, &logs, &configs] {
            std::fs::create_dir_all(folder)?;
        }

        let mut taken = Vec::new();
        let mut port = |fixed: u16| -> anyhow::Result<u16> {
            let port = match ports {
                Ports::Fixed => ensure_free(fixed).map(|()| fixed)?,
                // The OS may hand out a port again once its listener is gone.
                Ports::Free => loop {
                    let port = free_port()?;
                    if !taken.contains(&port) {
                        break port;
                    }
                },
            };
            taken.push(port);
            Ok(port)
        };
        let server_port = port(4000)?;
        let express_port = port(3000)?;
        let rust_port = port(3001)?;
        let mcp_port = port(3006)?;
        let mcp = format!("{}/mcp", origin(mcp_port));
        let apps = vec![
            App {
                sample: "spa-js",
                api: Api::Express,
                port: express_port,
            },
            App {
                sample: "spa-js",
                api: Api::Rust,
                port: rust_port,
            },
            App {
                sample: "auth0js",
                api: Api::Rust,
                port: port(3002)?,
            },
            App {
                sample: "auth0js",
                api: Api::Express,
                port: port(3003)?,
            },
            App {
                sample: "angularjs",
                api: Api::Rust,
                port: port(3004)?,
            },
            App {
                sample: "angularjs",
                api: Api::Express,
                port: port(3005)?,
            },
        ];
        let domain = origin(server_port);
        let issuer = format!("{domain}/");
        let api_url = |api: Api| match api {
            Api::Rust => format!("{}/api", origin(rust_port)),
            Api::Express => format!("{}/api", origin(express_port)),
        };

        // The tenant, as the README's quickstart sets it up, before the server starts.
        let cli = Cli {
            binary: &binaries.portcullis,
            data: &data,
        };
        cli.run(&[
            "apis",
            "create",
            "--name",
            "Quickstart API",
            "--identifier",
            AUDIENCE,
            "--scopes",
            SCOPE,
        ])?;
        let mut manifest_apps = Vec::new();
        for app in &apps {
            let mut args = vec![
                "clients".to_owned(),
                "create".to_owned(),
                "--name".to_owned(),
                app.name(),
                "--type".to_owned(),
                "spa".to_owned(),
                "--callbacks".to_owned(),
                app.callback(),
                "--logout-urls".to_owned(),
                app.origin(),
                "--web-origins".to_owned(),
                app.origin(),
            ];
            if app.implicit() {
                args.push("--implicit".to_owned());
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let client = cli.run(&args)?;
            let client_id = client["client_id"]
                .as_str()
                .context("clients create printed no client_id")?
                .to_owned();
            let config = json!({
                "domain": domain,
                "clientId": client_id,
                "audience": AUDIENCE,
                "apiUrl": api_url(app.api),
            });
            std::fs::write(
                configs.join(format!("{}.json", app.name())),
                serde_json::to_vec_pretty(&config)?,
            )?;
            manifest_apps.push(json!({
                "name": app.name(),
                "sample": app.sample,
                "api": app.api.name(),
                "url": app.origin(),
                "apiUrl": api_url(app.api),
                "clientId": client_id,
            }));
        }
        let user = Credentials {
            email: "demo@example.com".into(),
            password: "portcullis-demo".into(),
        };
        let denied = Credentials {
            email: "denied@example.com".into(),
            password: "portcullis-demo".into(),
        };
        for credentials in [&user, &denied] {
            cli.run(&[
                "users",
                "create",
                "--email",
                &credentials.email,
                "--password",
                &credentials.password,
            ])?;
        }
        // RBAC: the API grants read:messages only through a role, which the demo user holds
        // and the other one (and anyone who signs up) does not.
        cli.run(&[
            "apis",
            "update",
            AUDIENCE,
            "--enforce-policies",
            "true",
            "--token-dialect",
            "access_token_authz",
        ])?;
        let role = cli.run(&[
            "roles",
            "create",
            "--name",
            "reader",
            "--description",
            "Reads messages",
        ])?;
        let role = role["id"].as_str().context("roles create printed no id")?;
        let permission = format!("{AUDIENCE}={SCOPE}");
        cli.run_text(&["roles", "permissions", "add", role, &permission])?;
        create_mcp_api(&cli, &mcp, role)?;
        cli.run_text(&["roles", "assign", role, &user.email])?;

        let admin = Credentials {
            email: "admin@example.com".into(),
            password: "portcullis-demo-admin".into(),
        };
        // A Management API client for the browser suite (it changes the database connection),
        // with a secret made for this run.
        let management_id = "browser-suite-management";
        let management_secret = random_hex(32)?;

        let mut processes = Supervisor::default();
        // The browser suite's mailbox: a real SMTP server the emails are delivered to.
        let mail = match ports {
            Ports::Fixed => None,
            Ports::Free => Some(start_smtp_sink(
                &mut processes,
                &samples,
                port(2525)?,
                dir.path(),
                &logs,
            )?),
        };
        let mut server = Command::new(&binaries.portcullis);
        if let Some(sink) = &mail {
            server
                .env("PORTCULLIS_SMTP_URL", &sink.url)
                .env("PORTCULLIS_SMTP_FROM", "Portcullis <no-reply@example.com>");
        }
        let listen = format!("127.0.0.1:{server_port}");
        processes.spawn(
            "portcullis",
            server
                .args(["serve", "--listen", &listen, "--issuer", &issuer])
                .arg("--data-dir")
                .arg(&data)
                .env("PORTCULLIS_ADMIN_EMAIL", &admin.email)
                .env("PORTCULLIS_ADMIN_PASSWORD", &admin.password)
                .env("RUST_LOG", "info")
                .env("NO_COLOR", "1")
                .env("PORTCULLIS_BOOTSTRAP_CLIENT_ID", management_id)
                .env("PORTCULLIS_BOOTSTRAP_CLIENT_SECRET", &management_secret)
                // The demo lets MCP clients (the MCP Inspector, say) register themselves; the
                // browser suite turns registration on only for the test that needs it.
                .env(
                    "PORTCULLIS_DYNAMIC_CLIENT_REGISTRATION",
                    (ports == Ports::Fixed).to_string(),
                ),
            &logs.join("portcullis.log"),
        )?;
        processes.wait_for_port("portcullis", server_port, START_TIMEOUT)?;

        for app in &apps {
            let name = app.name();
            let static_dir = samples.join(app.sample);
            let config = configs.join(format!("{name}.json"));
            let log = logs.join(format!("{name}.log"));
            let mut command = match (app.sample, app.api) {
                ("spa-js", Api::Express) => {
                    let mut command = Command::new("node");
                    command
                        .arg("index.js")
                        .current_dir(samples.join("express-api"));
                    command
                }
                // The Rust sample API serves spa-js and the API; the other apps are static
                // files from a sample-api of their own.
                _ => {
                    let mut command = Command::new(&binaries.sample_api);
                    command.current_dir(&static_dir).env("RUST_LOG", "info");
                    command
                }
            };
            command
                .env("NO_COLOR", "1")
                .env("PORT", app.port.to_string())
                .env("HOST", "127.0.0.1")
                .env("AUTH_CONFIG", &config)
                .env("STATIC_DIR", &static_dir)
                .env("INDEX_FILE", static_dir.join("index.html"));
            processes.spawn(&name, &mut command, &log)?;
        }
        processes.spawn(
            "mcp-server",
            Command::new(&binaries.mcp_server)
                .env("NO_COLOR", "1")
                .env("RUST_LOG", "info")
                .env("DOMAIN", &domain)
                .env("HOST", "127.0.0.1")
                .env("PORT", mcp_port.to_string())
                .env("PUBLIC_URL", origin(mcp_port)),
            &logs.join("mcp-server.log"),
        )?;
        for app in &apps {
            processes.wait_for_port(&app.name(), app.port, START_TIMEOUT)?;
        }
        processes.wait_for_port("mcp-server", mcp_port, START_TIMEOUT)?;

        let manifest = dir.path().join("stack.json");
        std::fs::write(
            &manifest,
            serde_json::to_vec_pretty(&json!({
                "issuer": issuer,
                "domain": domain,
                "audience": AUDIENCE,
                "scope": SCOPE,
                "user": { "email": user.email, "password": user.password },
                "deniedUser": { "email": denied.email, "password": denied.password },
                "admin": { "email": admin.email, "password": admin.password },
                "apps": manifest_apps,
                "apis": {
                    "rust": api_url(Api::Rust),
                    "express": api_url(Api::Express),
                },
                "mcp": { "url": mcp },
                // The SMTP sink's folder: one JSON file per message received (null in the demo).
                "mail": mail.as_ref().map(|sink| json!({ "dir": sink.dir })),
                // The server's binary, for tests that start another Portcullis of their own.
                "binary": binaries.portcullis,
                "management": {
                    "clientId": management_id,
                    "clientSecret": management_secret,
                    "audience": format!("{issuer}api/v2/"),
                },
            }))?,
        )?;
        Ok(Stack {
            processes,
            issuer,
            user,
            denied,
            admin,
            apps: apps.iter().map(|a| (a.name(), a.origin())).collect(),
            mcp,
            manifest,
            dir,
        })
    }

    pub fn logs(&self) -> PathBuf {
        self.dir.path().join("logs")
    }

    /// The dashboard's address.
    pub fn dashboard(&self) -> String {
        format!("{}dashboard", self.issuer)
    }
}

/// The SMTP sink the browser suite's server delivers to.
struct SmtpSink {
    /// `PORTCULLIS_SMTP_URL` for it.
    url: String,
    /// Where it writes each message it receives.
    dir: PathBuf,
}

/// Starts `samples/browser-tests/smtp-sink.mjs` on 127.0.0.1:`port` and waits until it listens.
fn start_smtp_sink(
    processes: &mut Supervisor,
    samples: &Path,
    port: u16,
    stack_dir: &Path,
    logs: &Path,
) -> anyhow::Result<SmtpSink> {
    let dir = stack_dir.join("mail");
    std::fs::create_dir_all(&dir)?;
    processes.spawn(
        "smtp-sink",
        Command::new("node")
            .arg("smtp-sink.mjs")
            .current_dir(samples.join("browser-tests"))
            .env("SMTP_PORT", port.to_string())
            .env("MAIL_DIR", &dir),
        &logs.join("smtp-sink.log"),
    )?;
    processes.wait_for_port("smtp-sink", port, START_TIMEOUT)?;
    Ok(SmtpSink {
        // Plain text to a sink on this machine, no credentials (the server refuses tls=none
        // with a password).
        url: format!("smtp://127.0.0.1:{port}?tls=none"),
        dir,
    })
}

/// The MCP sample's API: its identifier is the endpoint's URL (the `resource` MCP clients ask
/// tokens for), `read:messages` under RBAC, granted by the `reader` role as the quickstart's.
fn create_mcp_api(cli: &Cli, identifier: &str, role: &str) -> anyhow::Result<()> {
    cli.run(&[
        "apis",
        "create",
        "--name",
        "MCP sample",
        "--identifier",
        identifier,
        "--scopes",
        SCOPE,
    ])?;
    cli.run(&[
        "apis",
        "update",
        identifier,
        "--enforce-policies",
        "true",
        "--token-dialect",
        "access_token_authz",
    ])?;
    let permission = format!("{identifier}={SCOPE}");
    cli.run_text(&["roles", "permissions", "add", role, &permission])?;
    Ok(())
}

/// `bytes` random bytes from the kernel, in hex.
fn random_hex(bytes: usize) -> anyhow::Result<String> {
    use std::io::Read;
    let mut buffer = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut buffer))
        .context("reading /dev/urandom")?;
    Ok(buffer.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// The `portcullis` administrative commands on the demo's data directory.
struct Cli<'a> {
    binary: &'a Path,
    data: &'a Path,
}

impl Cli<'_> {
    /// Runs a command whose `--json` output is a JSON document.
    fn run(&self, args: &[&str]) -> anyhow::Result<Value> {
        let stdout = self.run_text(args)?;
        serde_json::from_str(&stdout)
            .with_context(|| format!("portcullis {}: output is not JSON", args.join(" ")))
    }

    /// Runs a command; returns what it printed.
    fn run_text(&self, args: &[&str]) -> anyhow::Result<String> {
        let output = Command::new(self.binary)
            .args(args)
            .arg("--data-dir")
            .arg(self.data)
            .arg("--json")
            .output()
            .with_context(|| format!("running portcullis {}", args.join(" ")))?;
        if !output.status.success() {
            bail!(
                "portcullis {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}
