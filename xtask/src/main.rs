//! Project automation: `cargo xtask <command>`.
//!
//! - `ci`: everything CI checks — formatting, clippy with warnings denied, the tidy checks,
//!   every test of the workspace (the storage conformance suite runs on SQLite and on a
//!   throwaway PostgreSQL), then the server's HTTP suite a second time on PostgreSQL. The
//!   PostgreSQL server binaries are installed first when missing
//!   (`scripts/install-test-deps.sh`).
//!   Then every fuzz target over its seeds for a few seconds (as `fuzz --seconds 35`), and
//!   last the browser suite (as `browser`).
//! - `tidy`: repository hygiene and the checkable architecture invariants (see `tidy`);
//!   `tidy --report` prints the problems without failing.
//! - `demo`: the seed tutorials' apps against a fresh tenant, until Ctrl-C (see `stack`).
//! - `faults [--rounds N]`: kill -9 under load, N rounds (20 by default) of the real binary
//!   on SQLite, printing a table of acknowledged and lost writes (`crates/portcullis/tests/
//!   faults.rs`; `ci` runs 3 rounds with the other tests).
//! - `soak [--seconds N]`: the mixed load for N seconds (600 by default), printing p99 per
//!   kind and RSS, store size and open descriptors at the start and the end
//!   (`crates/portcullis/tests/soak.rs`; `ci` runs 60 s).
//! - `schema [--examples N]`: schemathesis (installed by `scripts/install-schemathesis.sh`)
//!   against the Management API's OpenAPI document on a throwaway tenant, up to N test cases
//!   per operation and phase (100 by default), printing operations, test cases and failures
//!   (`crates/portcullis/tests/schema.rs`; `ci` runs 5).
//! - `fuzz [--minutes N | --seconds N] [--seeds-only] [TARGET...]`: the `cargo fuzz` targets of `fuzz/`, the
//!   time split between them, then a table of executions, corpus sizes and crashes (see
//!   `fuzz`).
//! - `browser [FILE...]`: the browser suite (`samples/browser-tests`) in headless Chromium
//!   against the demo stack on free ports, or only the named test files (`mcp.test.mjs`);
//!   screenshots go to `artifacts/browser/`.

mod browser;
mod fuzz;
mod procs;
mod stack;
mod tidy;

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use anyhow::{bail, Context};
use tidy::Mode;

fn main() -> anyhow::Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    let root = workspace_root();
    std::env::set_current_dir(&root)?;
    match task.as_str() {
        "ci" => ci(&root),
        "tidy" => {
            let report = std::env::args().skip(2).any(|a| a == "--report");
            tidy::run(&root, if report { Mode::Report } else { Mode::Enforce })
        }
        "demo" => browser::demo(&root),
        "browser" => {
            let files: Vec<String> = std::env::args().skip(2).collect();
            browser::suite(&root, stack::Build::Binaries, &files)
        }
        "faults" => faults(option("--rounds").unwrap_or(20)),
        "soak" => soak(option("--seconds").unwrap_or(600)),
        "schema" => schema(option("--examples").unwrap_or(100)),
        "fuzz" => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            let (total, targets, corpus) = fuzz::parse_args(&args)?;
            fuzz::run_all(&root, total, &targets, corpus)
        }
        _ => {
            eprintln!("usage: cargo xtask <ci|tidy [--report]|demo|browser [FILE...]|fuzz [--minutes N] [TARGET...]|faults [--rounds N]|soak [--seconds N]|schema [--examples N]>");
            bail!("unknown task {task:?}")
        }
    }
}

/// The number after `name` on the command line.
fn option(name: &str) -> Option<u64> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1)?.parse().ok()
}

/// kill -9 under load, `rounds` times; the test prints its table.
fn faults(rounds: u64) -> anyhow::Result<()> {
    run_with(
        "cargo",
        &[
            "test",
            "-p",
            "portcullis",
            "--test",
            "faults",
            "kill_9",
            "--",
            "--nocapture",
        ],
        &[("PORTCULLIS_KILL9_ROUNDS", &rounds.to_string())],
    )
}

/// The soak for `seconds`; the test prints its table.
fn soak(seconds: u64) -> anyhow::Result<()> {
    run_ignored_test("soak", &[("PORTCULLIS_SOAK_SECONDS", &seconds.to_string())])
}

/// The ignored tests of `crates/portcullis/tests/<test>.rs`, with their output.
fn run_ignored_test(test: &str, env: &[(&str, &str)]) -> anyhow::Result<()> {
    run_with(
        "cargo",
        &[
            "test",
            "-p",
            "portcullis",
            "--test",
            test,
            "--",
            "--ignored",
            "--nocapture",
        ],
        env,
    )
}
/// The Management API against its OpenAPI document, `examples` test cases per operation and
/// phase at most; the test prints its table.
fn schema(examples: u64) -> anyhow::Result<()> {
    let output = Command::new("bash")
        .arg("scripts/install-schemathesis.sh")
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("running scripts/install-schemathesis.sh")?;
    if !output.status.success() {
        bail!(
            "scripts/install-schemathesis.sh failed with {}",
            output.status
        );
    }
    let st = String::from_utf8(output.stdout)?.trim().to_owned();
    run_ignored_test(
        "schema",
        &[
            ("PORTCULLIS_SCHEMATHESIS", &st),
            ("PORTCULLIS_SCHEMA_EXAMPLES", &examples.to_string()),
        ],
    )
}

/// Test cases per operation and phase in the short form of `schema` that `ci` runs.
const CI_SCHEMA_EXAMPLES: u64 = 5;

/// The fuzzing time of `ci`, split between the targets.
const CI_FUZZ_TIME: Duration = Duration::from_secs(35);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn run(program: &str, args: &[&str]) -> anyhow::Result<()> {
    run_with(program, args, &[])
}

fn run_with(program: &str, args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<()> {
    let shown: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
    eprintln!("$ {}{program} {}", shown.concat(), args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .status()
        .with_context(|| format!("running {program}"))?;
    if !status.success() {
        bail!("{program} {} failed with {status}", args.join(" "));
    }
    Ok(())
}

fn ci(root: &Path) -> anyhow::Result<()> {
    run("cargo", &["fmt", "--all", "--", "--check"])?;
    run(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    tidy::run(Path::new("."), Mode::Enforce)?;
    run("bash", &["scripts/install-test-deps.sh"])?;
    run("cargo", &["test", "--workspace", "--all-targets"])?;
    run("cargo", &["test", "--workspace", "--doc"])?;
    run_with(
        "cargo",
        // `--workspace` keeps the feature set of the run above, so nothing is rebuilt.
        &["test", "--workspace", "--test", "it"],
        &[("PORTCULLIS_TEST_BACKEND", "postgres")],
    )?;
    // The short forms of the long runs (kill -9 runs 3 rounds within the tests above).
    soak(60)?;
    schema(CI_SCHEMA_EXAMPLES)?;
    // The short form: each target replays its seeds and fuzzes for about 5 seconds.
    fuzz::run_all(root, CI_FUZZ_TIME, &[], fuzz::Corpus::SeedsOnly)?;
    browser::suite(root, stack::Build::AsTests, &[])
}
