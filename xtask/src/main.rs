//! Project automation: `cargo xtask <command>`.
//!
//! - `ci`: everything CI checks — formatting, clippy with warnings denied, the tidy checks,
//!   every test of the workspace (the storage conformance suite runs on SQLite and on a
//!   throwaway PostgreSQL), then the server's HTTP suite a second time on PostgreSQL. The
//!   PostgreSQL server binaries are installed first when missing
//!   (`scripts/install-test-deps.sh`).
//!   Last, the browser suite (as `browser`).
//! - `tidy`: repository hygiene checks only.
//! - `demo`: the seed tutorials' apps against a fresh tenant, until Ctrl-C (see `stack`).
//! - `browser`: the browser suite (`samples/browser-tests`) in headless Chromium against the
//!   demo stack on free ports; screenshots go to `artifacts/browser/`.

mod browser;
mod procs;
mod stack;

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{bail, Context};

fn main() -> anyhow::Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    let root = workspace_root();
    std::env::set_current_dir(&root)?;
    match task.as_str() {
        "ci" => ci(&root),
        "tidy" => tidy(&root),
        "demo" => browser::demo(&root),
        "browser" => browser::suite(&root, stack::Build::Binaries),
        _ => {
            eprintln!("usage: cargo xtask <ci|tidy|demo|browser>");
            bail!("unknown task {task:?}")
        }
    }
}

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
    tidy(Path::new("."))?;
    run("bash", &["scripts/install-test-deps.sh"])?;
    run("cargo", &["test", "--workspace", "--all-targets"])?;
    run("cargo", &["test", "--workspace", "--doc"])?;
    run_with(
        "cargo",
        // `--workspace` keeps the feature set of the run above, so nothing is rebuilt.
        &["test", "--workspace", "--test", "it"],
        &[("PORTCULLIS_TEST_BACKEND", "postgres")],
    )?;
    browser::suite(root, stack::Build::AsTests)
}

/// Repository hygiene: committed files name no paths of a developer's machine, and the
/// SQLite and PostgreSQL migration folders (when both exist) list the same migrations.
fn tidy(root: &Path) -> anyhow::Result<()> {
    let output = Command::new("git")
        .args(["ls-files"])
        .current_dir(root)
        .output()
        .context("git ls-files")?;
    let files = String::from_utf8_lossy(&output.stdout).into_owned();
    // Assembled from parts so that this file does not match itself.
    let forbidden = [
        format!("/{}/", "work"),
        format!("/{}/.", "root"),
        format!("/{}/", "home"),
    ];
    let mut problems = Vec::new();
    for file in files
        .lines()
        .filter(|f| !f.ends_with(".lock") && !f.ends_with("package-lock.json"))
    {
        let Ok(text) = std::fs::read_to_string(root.join(file)) else {
            continue;
        };
        for (number, line) in text.lines().enumerate() {
            if forbidden.iter().any(|f| line.contains(f.as_str())) {
                problems.push(format!("{file}:{}: names a machine path", number + 1));
            }
        }
    }
    let sqlite = migration_names(&root.join("crates/portcullis-store-sqlite/migrations"));
    let postgres = migration_names(&root.join("crates/portcullis-store-postgres/migrations"));
    if !postgres.is_empty() && sqlite != postgres {
        problems.push(format!(
            "migrations differ: sqlite {sqlite:?}, postgres {postgres:?}"
        ));
    }
    if problems.is_empty() {
        eprintln!("tidy: ok");
        Ok(())
    } else {
        for problem in &problems {
            eprintln!("tidy: {problem}");
        }
        bail!("{} tidy problem(s)", problems.len())
    }
}

fn migration_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
