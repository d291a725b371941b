//! `cargo xtask tidy`: repository hygiene and the architecture invariants of
//! `ARCHITECTURE.md` that a machine can check. Each check is a function that returns its
//! problems as `file:line: what`; `run` prints them all, so one run shows everything that is
//! wrong instead of only the first thing.

mod manifests;
mod modules;
mod rust_source;
mod sources;
#[cfg(test)]
mod tests;

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{bail, Context};

/// The longest a Rust source file may be, not counting its tests.
const MAX_LINES: usize = 700;

/// Whether problems fail the run (`tidy`, `ci`) or are only printed (`tidy --report`), which
/// is for looking at the state of a tree that is known not to pass yet.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Enforce,
    Report,
}

/// The repository as the checks see it: its root and the files git knows about (committed or
/// new, not ignored), so build output and scratch files are never checked.
pub struct Repo {
    root: PathBuf,
    files: Vec<String>,
}

impl Repo {
    fn open(root: &Path) -> anyhow::Result<Self> {
        let output = Command::new("git")
            .args(["ls-files", "--cached", "--others", "--exclude-standard"])
            .current_dir(root)
            .output()
            .context("git ls-files")?;
        if !output.status.success() {
            bail!("git ls-files failed with {}", output.status);
        }
        let mut files: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        files.sort();
        files.dedup();
        Ok(Self {
            root: root.to_path_buf(),
            files,
        })
    }

    /// The text of a file, or `None` when it is not text or no longer there (deleted in
    /// the work tree but still in the index).
    fn read(&self, file: &str) -> Option<String> {
        std::fs::read_to_string(self.root.join(file)).ok()
    }

    /// The files whose path starts with `dir/`.
    fn files_under<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.files
            .iter()
            .map(String::as_str)
            .filter(move |f| f.strip_prefix(dir).is_some_and(|r| r.starts_with('/')))
    }
}

pub fn run(root: &Path, mode: Mode) -> anyhow::Result<()> {
    let repo = Repo::open(root)?;
    let mut problems = Vec::new();
    problems.extend(machine_paths(&repo));
    problems.extend(migrations(&repo));
    let workspace = manifests::Workspace::load(&repo)?;
    problems.extend(workspace.sqlx_dependencies());
    problems.extend(sources::sqlx_in_sources(&repo, &workspace));
    problems.extend(workspace.libs_depending_on_crates());
    problems.extend(sources::cli_uses_server_internals(&repo));
    problems.extend(sources::shared_store_placeholders(&repo));
    problems.extend(modules::module_cycles(&repo));
    problems.extend(long_files(&repo));
    if problems.is_empty() {
        eprintln!("tidy: ok");
        return Ok(());
    }
    for problem in &problems {
        eprintln!("tidy: {problem}");
    }
    match mode {
        Mode::Enforce => bail!("{} tidy problem(s)", problems.len()),
        Mode::Report => {
            eprintln!("tidy: {} problem(s), reported only", problems.len());
            Ok(())
        }
    }
}

/// Committed files name no paths of a developer's machine.
fn machine_paths(repo: &Repo) -> Vec<String> {
    // Assembled from parts so that this file does not match itself.
    let forbidden = [
        format!("/{}/", "work"),
        format!("/{}/.", "root"),
        format!("/{}/", "home"),
    ];
    let mut problems = Vec::new();
    for file in repo
        .files
        .iter()
        .filter(|f| !f.ends_with(".lock") && !f.ends_with("package-lock.json"))
    {
        let Some(text) = repo.read(file) else {
            continue;
        };
        for (number, line) in text.lines().enumerate() {
            if forbidden.iter().any(|f| line.contains(f.as_str())) {
                problems.push(format!("{file}:{}: names a machine path", number + 1));
            }
        }
    }
    problems
}

/// The SQLite and PostgreSQL migration folders (when both exist) list the same migrations.
fn migrations(repo: &Repo) -> Vec<String> {
    let sqlite = migration_names(&repo.root.join("crates/portcullis-store-sqlite/migrations"));
    let postgres = migration_names(
        &repo
            .root
            .join("crates/portcullis-store-postgres/migrations"),
    );
    if !postgres.is_empty() && sqlite != postgres {
        vec![format!(
            "migrations differ: sqlite {sqlite:?}, postgres {postgres:?}"
        )]
    } else {
        Vec::new()
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

/// Whether a file is one of the Rust sources whose length is limited: `src/` of the crates,
/// the libraries, xtask and the Rust sample, but nothing under a `tests/` directory.
fn length_limited(file: &str) -> bool {
    let parts: Vec<&str> = file.split('/').collect();
    let in_src = matches!(
        parts.as_slice(),
        ["crates" | "libs", _, "src", ..]
            | ["xtask", "src", ..]
            | ["samples", "rust-api", "src", ..]
    );
    in_src && file.ends_with(".rs") && !parts.contains(&"tests")
}

/// The number of lines before the first `#[cfg(test)]`: tests may make a file long, the code
/// under test may not.
pub fn lines_before_tests(text: &str) -> usize {
    text.lines()
        .position(|line| line.trim_start().starts_with("#[cfg(test)]"))
        .unwrap_or_else(|| text.lines().count())
}

/// No source file is longer than `MAX_LINES` outside its tests.
fn long_files(repo: &Repo) -> Vec<String> {
    let mut problems = Vec::new();
    for file in repo.files.iter().filter(|f| length_limited(f)) {
        let Some(text) = repo.read(file) else {
            continue;
        };
        let lines = lines_before_tests(&text);
        if lines > MAX_LINES {
            problems.push(format!(
                "{file}:{}: {lines} lines before any tests (at most {MAX_LINES})",
                MAX_LINES + 1
            ));
        }
    }
    problems
}
