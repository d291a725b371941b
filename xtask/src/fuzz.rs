//! `cargo xtask fuzz`: every `cargo fuzz` target of `fuzz/` for a while, and a table of what
//! happened (executions, corpus size, crashes).
//!
//! Each target starts from its committed seeds (`fuzz/corpus/<target>/`, never written) and
//! a working corpus (`fuzz/corpus-work/<target>/`, kept between runs, ignored by git) where
//! libFuzzer adds what it finds; crashes go to `fuzz/artifacts/<target>/`. The short form of
//! `ci` replays the seeds only, with a throwaway working corpus, so that its time does not grow
//! with what earlier long runs found. The targets are
//! built once, without a sanitizer (the code is safe Rust) but with debug assertions, so an
//! arithmetic overflow is a crash. `cargo-fuzz` and the nightly toolchain it needs are
//! installed when missing.

use std::{path::Path, process::Command, time::Duration};

use anyhow::{bail, Context};

use crate::run;

/// The `cargo fuzz` options of every build and run: release with debug assertions, no
/// sanitizer.
const BUILD_FLAGS: &[&str] = &["-O", "--debug-assertions", "--sanitizer", "none"];
/// A single input running longer than this is a finding (a sign-up hashes a password, so
/// inputs are not all microseconds).
const INPUT_TIMEOUT_SECONDS: u32 = 20;

/// What one target's run did.
struct Outcome {
    target: String,
    seconds: u64,
    executions: u64,
    corpus: usize,
    crashes: usize,
}

/// Which working corpus a run adds to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Corpus {
    /// `fuzz/corpus-work/`, kept between runs.
    Kept,
    /// A temporary directory: the run starts from the seeds alone.
    SeedsOnly,
}

/// Runs every target (or those named) for `total` split evenly between them.
pub fn run_all(
    root: &Path,
    total: Duration,
    only: &[String],
    corpus: Corpus,
) -> anyhow::Result<()> {
    ensure_tools()?;
    let fuzz_dir = root.join("fuzz");
    let mut targets = list_targets(&fuzz_dir)?;
    if !only.is_empty() {
        targets.retain(|target| only.contains(target));
        if targets.is_empty() {
            bail!("no fuzz target named {only:?}");
        }
    }
    let mut build = vec!["+nightly", "fuzz", "build"];
    build.extend_from_slice(BUILD_FLAGS);
    eprintln!("$ (in fuzz/) cargo {}", build.join(" "));
    let status = Command::new("cargo")
        .args(&build)
        .current_dir(&fuzz_dir)
        .status()
        .context("building the fuzz targets")?;
    if !status.success() {
        bail!("building the fuzz targets failed with {status}");
    }
    let each = (total.as_secs() / targets.len() as u64).max(1);
    let scratch = tempfile::tempdir()?;
    let work_root = match corpus {
        Corpus::Kept => fuzz_dir.join("corpus-work"),
        Corpus::SeedsOnly => scratch.path().to_path_buf(),
    };
    let mut outcomes = Vec::new();
    for target in &targets {
        outcomes.push(run_target(&fuzz_dir, &work_root, target, each)?);
    }
    print_table(&outcomes);
    let crashed: Vec<&str> = outcomes
        .iter()
        .filter(|outcome| outcome.crashes > 0)
        .map(|outcome| outcome.target.as_str())
        .collect();
    if !crashed.is_empty() {
        bail!("fuzz targets crashed: {crashed:?} (inputs under fuzz/artifacts/)");
    }
    Ok(())
}

/// `cargo-fuzz` (from crates.io, locked) and the nightly toolchain, when missing.
fn ensure_tools() -> anyhow::Result<()> {
    let has_nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !has_nightly {
        run(
            "rustup",
            &["toolchain", "install", "nightly", "--profile", "minimal"],
        )?;
    }
    let has_cargo_fuzz = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !has_cargo_fuzz {
        run("cargo", &["install", "cargo-fuzz", "--locked"])?;
    }
    Ok(())
}

fn list_targets(fuzz_dir: &Path) -> anyhow::Result<Vec<String>> {
    let output = Command::new("cargo")
        .args(["+nightly", "fuzz", "list"])
        .current_dir(fuzz_dir)
        .output()
        .context("cargo fuzz list")?;
    if !output.status.success() {
        bail!("cargo fuzz list failed with {}", output.status);
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect())
}

fn run_target(
    fuzz_dir: &Path,
    work_root: &Path,
    target: &str,
    seconds: u64,
) -> anyhow::Result<Outcome> {
    let work = work_root.join(target);
    let seeds = fuzz_dir.join("corpus").join(target);
    let artifacts = fuzz_dir.join("artifacts").join(target);
    for dir in [&work, &seeds, &artifacts] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let before = count_files(&artifacts);
    let mut args: Vec<String> = ["+nightly", "fuzz", "run", target]
        .iter()
        .chain(BUILD_FLAGS)
        .map(|arg| (*arg).to_owned())
        .collect();
    args.extend([path_arg(&work), path_arg(&seeds), "--".to_owned()]);
    args.extend([
        format!("-max_total_time={seconds}"),
        format!("-timeout={INPUT_TIMEOUT_SECONDS}"),
        format!("-artifact_prefix={}/", path_arg(&artifacts)),
        "-print_final_stats=1".to_owned(),
        "-rss_limit_mb=4096".to_owned(),
    ]);
    eprintln!("$ (in fuzz/) cargo {}", args.join(" "));
    let output = Command::new("cargo")
        .args(&args)
        .current_dir(fuzz_dir)
        .output()
        .with_context(|| format!("running fuzz target {target}"))?;
    let log = String::from_utf8_lossy(&output.stderr);
    let crashes = count_files(&artifacts).saturating_sub(before);
    if !output.status.success() {
        // The end of libFuzzer's report: the panic and the input's file.
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        for line in tail.iter().rev() {
            eprintln!("  {line}");
        }
    }
    Ok(Outcome {
        target: target.to_owned(),
        seconds,
        executions: stat(&log, "stat::number_of_executed_units"),
        corpus: count_files(&work) + count_files(&seeds),
        crashes: if output.status.success() {
            crashes
        } else {
            crashes.max(1)
        },
    })
}

fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
            .count()
    })
}

/// A `-print_final_stats` value: `stat::name: value`.
fn stat(log: &str, name: &str) -> u64 {
    log.lines()
        .filter_map(|line| line.trim().strip_prefix(name))
        .filter_map(|rest| rest.trim_start_matches(':').trim().parse().ok())
        .next_back()
        .unwrap_or(0)
}

fn print_table(outcomes: &[Outcome]) {
    println!(
        "| {:<16} | {:>7} | {:>11} | {:>6} | {:>7} |",
        "target", "seconds", "executions", "corpus", "crashes"
    );
    println!("|{:-<18}|{:->9}|{:->13}|{:->8}|{:->9}|", "", "", "", "", "");
    for outcome in outcomes {
        println!(
            "| {:<16} | {:>7} | {:>11} | {:>6} | {:>7} |",
            outcome.target, outcome.seconds, outcome.executions, outcome.corpus, outcome.crashes
        );
    }
}

/// `cargo xtask fuzz` arguments: `--minutes N` (default 10) or `--seconds N`, `--seeds-only`
/// (the short form of `ci`), then target names.
pub fn parse_args(args: &[String]) -> anyhow::Result<(Duration, Vec<String>, Corpus)> {
    let mut total = Duration::from_secs(600);
    let mut targets = Vec::new();
    let mut corpus = Corpus::Kept;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--minutes" | "--seconds" => {
                let value: u64 = args
                    .next()
                    .and_then(|value| value.parse().ok())
                    .with_context(|| format!("{arg} takes a whole number"))?;
                total = if arg == "--minutes" {
                    Duration::from_secs(value * 60)
                } else {
                    Duration::from_secs(value)
                };
            }
            "--seeds-only" => corpus = Corpus::SeedsOnly,
            target => targets.push(target.to_owned()),
        }
    }
    Ok((total, targets, corpus))
}
