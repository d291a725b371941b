//! Checks on the workspace's `Cargo.toml` files, read with the `toml` crate so that every
//! way of writing a dependency (inline table, `[dependencies.x]`, `workspace = true`,
//! target-specific tables, renamed packages) is seen the same way.

use std::path::Path;

use anyhow::Context;
use toml::{Table, Value};

use super::Repo;

/// The members that may depend on sqlx: the two store backends, and the test kit, which only
/// tests depend on and which creates throwaway PostgreSQL databases.
pub const SQLX_CRATES: &[&str] = &[
    "crates/portcullis-store-sqlite",
    "crates/portcullis-store-postgres",
    "crates/portcullis-testkit",
];

pub struct Workspace {
    pub root: Table,
    pub members: Vec<Member>,
}

/// One workspace member: its folder relative to the root, its manifest text and its parse.
pub struct Member {
    pub dir: String,
    pub text: String,
    pub manifest: Table,
}

impl Member {
    pub fn name(&self) -> &str {
        self.manifest
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .unwrap_or(&self.dir)
    }

    fn manifest_path(&self) -> String {
        format!("{}/Cargo.toml", self.dir)
    }
}

/// One entry of a dependency table.
pub struct Dependency<'a> {
    /// The table as a header would name it: `dependencies`, `target.cfg(unix).dev-dependencies`.
    pub table: String,
    /// `dependencies`, `dev-dependencies` or `build-dependencies`.
    pub kind: &'static str,
    pub key: &'a str,
    pub spec: &'a Value,
}

impl Dependency<'_> {
    /// The package depended on, which differs from the key when the dependency is renamed.
    pub fn package<'b>(&'b self, workspace_entry: Option<&'b Value>) -> &'b str {
        [Some(self.spec), workspace_entry]
            .into_iter()
            .flatten()
            .find_map(|spec| spec.get("package").and_then(Value::as_str))
            .unwrap_or(self.key)
    }

    fn inherited(&self) -> bool {
        self.spec.get("workspace").and_then(Value::as_bool) == Some(true)
    }
}

impl Workspace {
    pub fn load(repo: &Repo) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(repo.root.join("Cargo.toml"))
            .context("reading the root Cargo.toml")?;
        let root: Table = text.parse().context("parsing the root Cargo.toml")?;
        let mut members = Vec::new();
        for dir in member_dirs(&repo.root, &root) {
            let path = repo.root.join(&dir).join("Cargo.toml");
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {dir}/Cargo.toml"))?;
            let manifest = text
                .parse()
                .with_context(|| format!("parsing {dir}/Cargo.toml"))?;
            members.push(Member {
                dir,
                text,
                manifest,
            });
        }
        Ok(Self { root, members })
    }

    /// `[workspace.dependencies]` of the root manifest.
    fn workspace_dependency(&self, key: &str) -> Option<&Value> {
        self.root.get("workspace")?.get("dependencies")?.get(key)
    }

    /// Only the store crates and the test kit have sqlx among their non-dev dependencies.
    pub fn sqlx_dependencies(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for member in self
            .members
            .iter()
            .filter(|m| !SQLX_CRATES.contains(&&*m.dir))
        {
            for dep in dependencies(&member.manifest) {
                let entry = dep
                    .inherited()
                    .then(|| self.workspace_dependency(dep.key))
                    .flatten();
                // Dev-dependencies stay in tests; anything else ends up in the crate itself.
                if dep.kind != "dev-dependencies" && dep.package(entry) == "sqlx" {
                    problems.push(format!(
                        "{}:{}: sqlx in [{}]; only {} may depend on sqlx",
                        member.manifest_path(),
                        dependency_line(&member.text, &dep.table, dep.key),
                        dep.table,
                        SQLX_CRATES.join(", ")
                    ));
                }
            }
        }
        problems
    }

    /// No package under `libs/` depends on a package under `crates/`, in any table, whether by
    /// a path into `crates/` or by the name of a member there.
    pub fn libs_depending_on_crates(&self) -> Vec<String> {
        let crate_names: Vec<&str> = self
            .members
            .iter()
            .filter(|m| m.dir.starts_with("crates/"))
            .map(Member::name)
            .collect();
        let mut problems = Vec::new();
        for member in self.members.iter().filter(|m| m.dir.starts_with("libs/")) {
            for dep in dependencies(&member.manifest) {
                let (entry, base) = if dep.inherited() {
                    (self.workspace_dependency(dep.key), "")
                } else {
                    (Some(dep.spec), member.dir.as_str())
                };
                let package = dep.package(entry);
                let path = entry
                    .and_then(|e| e.get("path"))
                    .and_then(Value::as_str)
                    .map(|p| normalize(base, p));
                let into_crates = path
                    .as_deref()
                    .is_some_and(|p| p == "crates" || p.starts_with("crates/"));
                if into_crates || crate_names.contains(&package) {
                    let shown = path.map(|p| format!(" ({p})")).unwrap_or_default();
                    problems.push(format!(
                        "{}:{}: [{}] {package}{shown} is in crates/; libs/ never depends on crates/",
                        member.manifest_path(),
                        dependency_line(&member.text, &dep.table, dep.key),
                        dep.table,
                    ));
                }
            }
        }
        problems
    }
}

/// The member folders named by `workspace.members` (a trailing `/*` is every folder there
/// with a `Cargo.toml`), minus `workspace.exclude`, sorted.
fn member_dirs(root: &Path, manifest: &Table) -> Vec<String> {
    let strings = |key: &str| -> Vec<String> {
        manifest
            .get("workspace")
            .and_then(|w| w.get(key))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(|s| s.trim_end_matches('/').to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let excluded = strings("exclude");
    let mut dirs = Vec::new();
    for pattern in strings("members") {
        if let Some(parent) = pattern.strip_suffix("/*") {
            let Ok(entries) = std::fs::read_dir(root.join(parent)) else {
                continue;
            };
            for entry in entries.filter_map(Result::ok) {
                if entry.path().join("Cargo.toml").is_file() {
                    dirs.push(format!("{parent}/{}", entry.file_name().to_string_lossy()));
                }
            }
        } else {
            dirs.push(pattern);
        }
    }
    dirs.retain(|d| !excluded.contains(d));
    dirs.sort();
    dirs.dedup();
    dirs
}

/// Every dependency of a manifest: the three kinds of table, also under `[target.*]`.
pub fn dependencies(manifest: &Table) -> Vec<Dependency<'_>> {
    const KINDS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];
    let mut out = Vec::new();
    let mut tables: Vec<(String, &'static str, &Table)> = Vec::new();
    for kind in KINDS {
        if let Some(t) = manifest.get(kind).and_then(Value::as_table) {
            tables.push((kind.to_string(), kind, t));
        }
    }
    if let Some(targets) = manifest.get("target").and_then(Value::as_table) {
        for (cfg, target) in targets {
            for kind in KINDS {
                if let Some(t) = target.get(kind).and_then(Value::as_table) {
                    tables.push((format!("target.{cfg}.{kind}"), kind, t));
                }
            }
        }
    }
    for (table, kind, entries) in tables {
        for (key, spec) in entries {
            out.push(Dependency {
                table: table.clone(),
                kind,
                key,
                spec,
            });
        }
    }
    out
}

/// A relative `path` resolved against the folder `base` (both relative to the workspace
/// root), without touching the file system.
pub fn normalize(base: &str, path: &str) -> String {
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// The line where `key` is declared in `table` of a manifest's text: a `key = ...` line under
/// the table's header, or a `[table.key]` header. The toml crate does not keep positions, and
/// a line to point at is worth this much guessing; it falls back to the first line that
/// starts with the key, then to line 1.
pub fn dependency_line(text: &str, table: &str, key: &str) -> usize {
    let table = header_form(table);
    let own_header = format!("{table}.{key}");
    let mut header = String::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('[') {
            header = header_form(line.trim_start_matches('[').trim_end_matches(']'));
            if header == own_header {
                return number + 1;
            }
        } else if header == table && declares(line, key) {
            return number + 1;
        }
    }
    text.lines()
        .position(|line| declares(line.trim(), key))
        .map_or(1, |p| p + 1)
}

/// A table name without quotes and spaces, so `target.'cfg(unix)'.dependencies` in a header
/// compares equal to the `target.cfg(unix).dependencies` the parsed manifest gives.
fn header_form(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '\'' | '"' | ' ' | '\t'))
        .collect()
}

fn declares(line: &str, key: &str) -> bool {
    let quoted = format!("\"{key}\"");
    [key, quoted.as_str()].iter().any(|k| {
        line.strip_prefix(k)
            .is_some_and(|rest| rest.starts_with([' ', '\t', '=', '.']))
    })
}
