//! `cargo xtask demo` and `cargo xtask browser`: the seed tutorials' apps, for a person or for
//! the browser suite.

use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use anyhow::Context;
use tokio::signal::unix::{signal, SignalKind};

use crate::stack::{self, Build, Ports, Stack};

/// The browser suite as a whole; each test also has its own timeout.
const SUITE_TIMEOUT: Duration = Duration::from_secs(8 * 60);

/// What ended a wait.
enum Event {
    /// Ctrl-C or SIGTERM.
    Signal(&'static str),
    /// The awaited process exited.
    Exited(std::process::ExitStatus),
    Timeout,
    /// Another process of the stack died.
    Failed(anyhow::Error),
}

/// Ctrl-C and SIGTERM, listened for from the very start: a signal that arrives while the stack
/// is still starting must not end this process on the spot (its children would outlive it);
/// it is kept, and the next [`Signals::watch`] returns it at once.
struct Signals {
    runtime: tokio::runtime::Runtime,
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn listen() -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (terminate, interrupt) = runtime.block_on(async {
            Ok::<_, anyhow::Error>((
                signal(SignalKind::terminate()).context("listening for SIGTERM")?,
                signal(SignalKind::interrupt()).context("listening for SIGINT")?,
            ))
        })?;
        Ok(Self {
            runtime,
            terminate,
            interrupt,
        })
    }

    /// A signal that has already arrived. Waits a moment: the runtime notices signals only
    /// while it runs.
    fn arrived(&mut self) -> Option<&'static str> {
        let Self {
            runtime,
            terminate,
            interrupt,
        } = self;
        runtime.block_on(async {
            tokio::select! {
                biased;
                _ = interrupt.recv() => Some("SIGINT"),
                _ = terminate.recv() => Some("SIGTERM"),
                () = tokio::time::sleep(Duration::from_millis(50)) => None,
            }
        })
    }

    /// Waits for a signal, the exit of process `pid` (if any), the death of any other
    /// process, or the deadline, whichever comes first.
    fn watch(
        &mut self,
        stack: &mut Stack,
        pid: Option<u32>,
        deadline: Option<Instant>,
    ) -> anyhow::Result<Event> {
        let Self {
            runtime,
            terminate,
            interrupt,
        } = self;
        runtime.block_on(async {
            loop {
                tokio::select! {
                    _ = interrupt.recv() => return Ok(Event::Signal("SIGINT")),
                    _ = terminate.recv() => return Ok(Event::Signal("SIGTERM")),
                    () = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
                if let Some(pid) = pid {
                    if let Some(status) = stack
                        .processes
                        .get_mut(pid)
                        .and_then(|process| process.exited())
                    {
                        return Ok(Event::Exited(status));
                    }
                }
                if let Err(error) = stack.processes.check_alive_except(pid) {
                    return Ok(Event::Failed(error));
                }
                if deadline.is_some_and(|deadline| Instant::now() > deadline) {
                    return Ok(Event::Timeout);
                }
            }
        })
    }
}

/// `cargo xtask demo`: everything on its fixed port until Ctrl-C or SIGTERM.
pub fn demo(root: &Path) -> anyhow::Result<()> {
    let mut signals = Signals::listen()?;
    stack::install_node_deps(false)?;
    let binaries = stack::build(root, Build::Binaries)?;
    if let Some(signal) = signals.arrived() {
        eprintln!("{signal}: stopping before the stack starts");
        return Ok(());
    }
    let mut stack = Stack::start(root, &binaries, Ports::Fixed)?;
    println!("server {}", stack.issuer.trim_end_matches('/'));
    for (name, url) in &stack.apps {
        println!("app {name} {url}");
    }
    println!(
        "mcp {} (MCP server, Streamable HTTP; dynamic client registration is on, so an MCP client such as the MCP Inspector can register and sign in)",
        stack.mcp
    );
    println!("user {} {}", stack.user.email, stack.user.password);
    println!("user {} {}", stack.denied.email, stack.denied.password);
    println!(
        "dashboard {} {} {}",
        stack.dashboard(),
        stack.admin.email,
        stack.admin.password
    );
    eprintln!(
        "{} holds the role that grants read:messages; {} does not (private-scoped: 403)",
        stack.user.email, stack.denied.email
    );
    eprintln!(
        "emails (verification, password reset) are not sent: read them on the dashboard's Emails page, {}/emails",
        stack.dashboard()
    );
    eprintln!(
        "logs in {}; Ctrl-C stops everything",
        stack.logs().display()
    );
    let event = signals.watch(&mut stack, None, None)?;
    eprintln!("stopping");
    stack.processes.stop_all();
    match event {
        Event::Failed(error) => Err(error),
        _ => Ok(()),
    }
}

/// The browser suite's files, run one at a time in this order: the database-connection tests
/// change the tenant's connection, which the seeds' sign-up must not see; the administrators'
/// passkeys come last, since they give the stack's administrator a factor for a while.
const SUITE_FILES: [&str; 12] = [
    "seeds.test.mjs",
    "dbconnections.test.mjs",
    "password_grant.test.mjs",
    "account.test.mjs",
    "algorithms.test.mjs",
    "dpop.test.mjs",
    "mfa.test.mjs",
    "passkeys.test.mjs",
    "connections.test.mjs",
    "mcp.test.mjs",
    "dashboard_actions.test.mjs",
    "admin_passkeys.test.mjs",
];

/// `cargo xtask browser`: the browser suite against a fresh stack on free ports, or only
/// `files` when some are named. `how`: see `stack::Build` (`ci` builds as its tests did).
pub fn suite(root: &Path, how: Build, files: &[String]) -> anyhow::Result<()> {
    if let Some(unknown) = files
        .iter()
        .find(|file| !SUITE_FILES.contains(&file.as_str()))
    {
        anyhow::bail!("{unknown} is not a file of the browser suite: {SUITE_FILES:?}");
    }
    let files: Vec<&str> = if files.is_empty() {
        SUITE_FILES.to_vec()
    } else {
        files.iter().map(String::as_str).collect()
    };
    let mut signals = Signals::listen()?;
    stack::install_node_deps(true)?;
    let binaries = stack::build(root, how)?;
    let artifacts = root.join("artifacts").join("browser");
    if artifacts.exists() {
        std::fs::remove_dir_all(&artifacts)
            .with_context(|| format!("clearing {}", artifacts.display()))?;
    }
    std::fs::create_dir_all(&artifacts)?;
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());

    let started = Instant::now();
    let mut stack = Stack::start(root, &binaries, Ports::Free)?;
    eprintln!(
        "$ node --test (samples/browser-tests), stack up in {:?}",
        started.elapsed()
    );
    let node = stack.processes.spawn_attached(
        "browser suite",
        Command::new("node")
            .args(["--test", "--test-reporter=spec", "--test-concurrency=1"])
            .args(&files)
            .current_dir(root.join("samples").join("browser-tests"))
            .env("PORTCULLIS_STACK", &stack.manifest)
            .env("ARTIFACTS_DIR", &artifacts)
            .env("CHROMIUM", &chromium),
    )?;
    let event = signals.watch(&mut stack, Some(node), Some(Instant::now() + SUITE_TIMEOUT))?;
    stack.processes.stop_all();
    // Keep the logs of the run next to the screenshots.
    let logs = artifacts.join("logs");
    std::fs::create_dir_all(&logs)?;
    for entry in std::fs::read_dir(stack.logs())?.flatten() {
        let _ = std::fs::copy(entry.path(), logs.join(entry.file_name()));
    }
    let result = match event {
        Event::Exited(status) if status.success() => Ok(()),
        Event::Exited(status) => Err(anyhow::anyhow!("the browser suite failed ({status})")),
        Event::Timeout => Err(anyhow::anyhow!(
            "the browser suite did not finish within {SUITE_TIMEOUT:?}"
        )),
        Event::Signal(name) => Err(anyhow::anyhow!("interrupted by {name}")),
        Event::Failed(error) => Err(error),
    };
    eprintln!(
        "browser suite: {} in {:.0?}; screenshots and logs in {}",
        if result.is_ok() { "passed" } else { "FAILED" },
        started.elapsed(),
        artifacts.display()
    );
    if result.is_err() {
        print_log_tails(&logs);
    }
    result
}

/// The end of every log of the stack, for a failed run.
fn print_log_tails(dir: &Path) {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        eprintln!("--- the end of {}", file.display());
        for line in &lines[lines.len().saturating_sub(15)..] {
            eprintln!("{line}");
        }
    }
}
