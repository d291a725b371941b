//! Checks on what Rust sources name: sqlx outside the store crates, server internals in the
//! CLI, and `?` placeholders in the SQL both store backends share.

use std::collections::BTreeSet;

use super::{
    manifests::{Workspace, SQLX_CRATES},
    rust_source::{line_of, paths_starting_with, scan},
    Repo,
};

/// What the command line may use of `portcullis_server`: the server as a whole and the
/// settings it is built from (`settings::` holds `Settings`, `TlsFiles`,
/// `BootstrapCredentials` and `ThrottleLimits`). The CLI is wiring only; everything else in
/// the server (`audit`, `shapes`, `state`, `master_key`, `dashboard`, `management`, `routes`,
/// `tokens`, ...) is an internal it must not reach into. An entry ending in `::` allows a
/// whole module.
pub const SERVER_ENTRY_POINTS: &[&str] = &[
    "portcullis_server::Application",
    "portcullis_server::Settings",
    "portcullis_server::settings::",
];

/// Rust files under the `src/` of a folder.
fn sources<'a>(repo: &'a Repo, dir: &str) -> impl Iterator<Item = &'a str> + 'a {
    let src = format!("{dir}/src");
    repo.files
        .iter()
        .map(String::as_str)
        .filter(move |f| f.starts_with(&src) && f[src.len()..].starts_with('/'))
        .filter(|f| f.ends_with(".rs"))
}

/// No member other than the store crates and the test kit names `sqlx::` in its `src/`
/// (comments and strings do not count). The shared store source has no `src/`: it is part
/// of the store crates.
pub fn sqlx_in_sources(repo: &Repo, workspace: &Workspace) -> Vec<String> {
    let mut problems = Vec::new();
    for member in workspace
        .members
        .iter()
        .filter(|m| !SQLX_CRATES.contains(&&*m.dir))
    {
        for file in sources(repo, &member.dir) {
            let Some(text) = repo.read(file) else {
                continue;
            };
            let code = scan(&text).code;
            let lines: BTreeSet<usize> = paths_starting_with(&code, "sqlx")
                .iter()
                .map(|p| line_of(&code, p.offset))
                .collect();
            for line in lines {
                problems.push(format!(
                    "{file}:{line}: names sqlx::; only the store crates and the test kit use sqlx"
                ));
            }
        }
    }
    problems
}

/// Whether a `portcullis_server::...` path is one of the entry points the CLI may use.
pub fn server_path_allowed(path: &str) -> bool {
    SERVER_ENTRY_POINTS
        .iter()
        .any(|entry| match entry.strip_suffix("::") {
            Some(module) => path == module || path.starts_with(entry),
            None => path == *entry || path.starts_with(&format!("{entry}::")),
        })
}

/// The server internals a CLI source names: each offending path with its byte offset.
pub fn server_internals(code: &str) -> Vec<(usize, String)> {
    paths_starting_with(code, "portcullis_server")
        .into_iter()
        .filter(|p| p.segments.len() > 1)
        .map(|p| (p.offset, p.joined()))
        .filter(|(_, path)| !server_path_allowed(path))
        .collect()
}

/// The CLI (`crates/portcullis`) uses only the server's public entry points.
pub fn cli_uses_server_internals(repo: &Repo) -> Vec<String> {
    let mut problems = Vec::new();
    for file in sources(repo, "crates/portcullis") {
        let Some(text) = repo.read(file) else {
            continue;
        };
        let code = scan(&text).code;
        for (offset, path) in server_internals(&code) {
            problems.push(format!(
                "{file}:{}: the CLI uses {path}; it may use only {}",
                line_of(&code, offset),
                SERVER_ENTRY_POINTS.join(", ")
            ));
        }
    }
    problems
}

/// Byte offsets of `?` placeholders in the text of a string literal: `?` before a digit
/// (`?1`), or a `?` standing alone as a value (`= ?`, `(?,`, `?)`). A question mark inside a
/// word or sentence ("why?") is not one.
pub fn question_placeholders(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    (0..bytes.len())
        .filter(|&i| bytes[i] == b'?')
        .filter(|&i| {
            let next = bytes.get(i + 1).copied();
            if next.is_some_and(|c| c.is_ascii_digit()) {
                return true;
            }
            let previous = i.checked_sub(1).map(|p| bytes[p]);
            let opens = previous.is_none_or(|c| c.is_ascii_whitespace() || b"(,=<>!".contains(&c));
            // A backslash is an escape such as `\n` right after the placeholder.
            let closes = next.is_none_or(|c| c.is_ascii_whitespace() || b"),;\\".contains(&c));
            opens && closes
        })
        .collect()
}

/// The repository code both store backends `include!` is one SQL text for SQLite and
/// PostgreSQL, which works only with `$N` placeholders: PostgreSQL does not read `?`.
pub fn shared_store_placeholders(repo: &Repo) -> Vec<String> {
    let dir = "crates/portcullis-store-shared/";
    let mut problems = Vec::new();
    for file in repo.files.iter().filter(|f| {
        f.strip_prefix(dir)
            .is_some_and(|name| !name.contains('/') && name.ends_with(".rs"))
    }) {
        let Some(text) = repo.read(file) else {
            continue;
        };
        for literal in scan(&text).strings {
            for offset in question_placeholders(&literal.text) {
                problems.push(format!(
                    "{file}:{}: `?` placeholder in SQL ({}); the shared store uses $N only",
                    line_of(&text, literal.start + offset),
                    excerpt(&literal.text, offset)
                ));
            }
        }
    }
    problems
}

/// A few characters either side of `offset` on its line, to show which `?` is meant.
fn excerpt(text: &str, offset: usize) -> String {
    let line_start = text[..offset].rfind('\n').map_or(0, |p| p + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |p| offset + p);
    let start = (line_start..=offset)
        .find(|&i| offset - i <= 16 && text.is_char_boundary(i))
        .unwrap_or(offset);
    let end = (offset + 1..=line_end)
        .rev()
        .find(|&i| i - offset <= 16 && text.is_char_boundary(i))
        .unwrap_or(offset + 1);
    format!("\"{}\"", text[start..end].trim())
}
