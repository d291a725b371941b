//! Tests of the pure parts of tidy: the scanner, path and group expansion, placeholder
//! detection, module resolution and cycle finding, and the manifest readers.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    length_limited, lines_before_tests,
    manifests::{dependencies, dependency_line, normalize, Member, Workspace},
    modules::{crate_cycles, file_module, find_cycles, references, resolve},
    rust_source::{inline_modules, line_of, paths_starting_with, scan},
    sources::{question_placeholders, server_internals, server_path_allowed},
};

fn joined(code: &str, first: &str) -> Vec<String> {
    paths_starting_with(&scan(code).code, first)
        .iter()
        .map(|p| p.joined())
        .collect()
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn comments_are_blanked_and_lines_kept() {
    let source = "a // crate::x\n/* one /* nested */ crate::y */ b\n/// [crate::z]\n//! doc\nc";
    let code = scan(source).code;
    assert_eq!(code.len(), source.len());
    assert_eq!(code.lines().count(), source.lines().count());
    assert!(!code.contains("crate"));
    assert_eq!(code.lines().nth(1).map(str::trim), Some("b"));
    assert_eq!(code.lines().last(), Some("c"));
}

#[test]
fn string_literals_are_collected_and_blanked() {
    let source =
        r####"let a = "x \" // y"; let b = r#"raw "quoted" crate::q"#; let c = b"bytes";"####;
    let scanned = scan(source);
    let texts: Vec<&str> = scanned.strings.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(texts, [r#"x \" // y"#, r#"raw "quoted" crate::q"#, "bytes"]);
    assert!(!scanned.code.contains("crate"));
    assert!(scanned.code.contains("let c = b\""));
    let first = &scanned.strings[0];
    assert_eq!(&source[first.start..first.start + 3], "x \\");
}

#[test]
fn character_literals_and_lifetimes() {
    let source = "let q = '\"'; let e = '\\''; fn f<'a>(x: &'a str) -> char { 'é' } let s = \"s\";";
    let scanned = scan(source);
    // The quote in a character literal opens no string; the only string is "s".
    assert_eq!(scanned.strings.len(), 1);
    assert_eq!(scanned.strings[0].text, "s");
    assert!(scanned.code.contains("fn f<'a>(x: &'a str)"));
}

#[test]
fn raw_identifiers_are_not_raw_strings() {
    let scanned = scan("let r#type = 1; let s = \"t\";");
    assert_eq!(scanned.strings.len(), 1);
    assert_eq!(scanned.strings[0].text, "t");
}

#[test]
fn use_groups_are_split() {
    let code =
        "use portcullis_server::{\n    audit::{self, codes},\n    shapes, Settings as S,\n};";
    assert_eq!(
        joined(code, "portcullis_server"),
        strings(&[
            "portcullis_server::audit",
            "portcullis_server::audit::codes",
            "portcullis_server::shapes",
            "portcullis_server::Settings",
        ])
    );
    let paths = paths_starting_with(code, "portcullis_server");
    let lines: Vec<usize> = paths.iter().map(|p| line_of(code, p.offset)).collect();
    assert_eq!(lines, [2, 2, 3, 3]);
}

#[test]
fn paths_in_expressions_and_odd_places() {
    assert_eq!(
        joined(
            "let x = crate::a::b::<T>(); crates::c::d; $crate::e;",
            "crate"
        ),
        strings(&["crate::a::b", "crate::e"])
    );
    assert_eq!(
        joined("use super::super::x; use super::*;", "super"),
        strings(&["super::super::x", "super::*"])
    );
    assert_eq!(
        joined("crate::Thing { field: 1 }", "crate"),
        strings(&["crate::Thing"])
    );
    assert!(joined("// use crate::hidden;\nlet s = \"crate::s\";", "crate").is_empty());
}

#[test]
fn the_cli_may_use_only_entry_points() {
    for allowed in [
        "portcullis_server::Application",
        "portcullis_server::Settings",
        "portcullis_server::settings",
        "portcullis_server::settings::TlsFiles",
        "portcullis_server::settings::BootstrapCredentials::from_env",
    ] {
        assert!(server_path_allowed(allowed), "{allowed}");
    }
    for forbidden in [
        "portcullis_server::SettingsExtra",
        "portcullis_server::shapes",
        "portcullis_server::master_key::decode",
        "portcullis_server::state::AppState",
        "portcullis_server::*",
    ] {
        assert!(!server_path_allowed(forbidden), "{forbidden}");
    }
    let code = "use portcullis_server::{master_key, settings::is_postgres_url, Settings};\n\
                // portcullis_server::dashboard in a comment is fine\n\
                let x = portcullis_server::tokens::mint();";
    let found: Vec<String> = server_internals(&scan(code).code)
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    assert_eq!(
        found,
        strings(&[
            "portcullis_server::master_key",
            "portcullis_server::tokens::mint"
        ])
    );
}

#[test]
fn question_mark_placeholders() {
    assert_eq!(question_placeholders("SELECT a FROM t WHERE id = ?"), [27]);
    assert_eq!(
        question_placeholders("INSERT INTO t VALUES (?, ?)").len(),
        2
    );
    assert_eq!(question_placeholders("VALUES (?1, ?2)").len(), 2);
    assert_eq!(
        question_placeholders("WHERE a = ?\\n AND b IN (?,?)").len(),
        3
    );
    assert!(question_placeholders("SELECT a FROM t WHERE id = $1 AND b = $2").is_empty());
    assert!(question_placeholders("why? no ?| here").is_empty());
}

#[test]
fn modules_of_files() {
    assert_eq!(file_module("lib.rs"), Some(vec![]));
    assert_eq!(file_module("main.rs"), Some(vec![]));
    assert_eq!(file_module("audit.rs"), Some(strings(&["audit"])));
    assert_eq!(
        file_module("dashboard/mod.rs"),
        Some(strings(&["dashboard"]))
    );
    assert_eq!(
        file_module("dashboard/roles.rs"),
        Some(strings(&["dashboard", "roles"]))
    );
    assert_eq!(file_module("bin/tool.rs"), None);
}

#[test]
fn paths_resolve_from_the_crate_root() {
    let roles = strings(&["dashboard", "roles"]);
    let r = |p: &str| resolve(&roles, &strings(&p.split("::").collect::<Vec<_>>()));
    assert_eq!(
        r("super::users::x"),
        Some(strings(&["dashboard", "users", "x"]))
    );
    assert_eq!(r("super::super::state"), Some(strings(&["state"])));
    assert_eq!(r("crate::tokens"), Some(strings(&["tokens"])));
    assert_eq!(
        r("self::inner"),
        Some(strings(&["dashboard", "roles", "inner"]))
    );
    assert_eq!(r("super::super::super::x"), None);
    assert_eq!(r("std::fmt"), None);
}

#[test]
fn inline_modules_change_what_super_means() {
    let source = "use super::view;\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use super::super::users;\n}\n";
    assert_eq!(inline_modules(&scan(source).code).len(), 1);
    let found = references(&strings(&["dashboard", "roles"]), source);
    let to: Vec<String> = found.iter().map(|r| r.to.join("::")).collect();
    assert_eq!(
        to,
        strings(&["dashboard::view", "dashboard::roles::*", "dashboard::users"])
    );
    assert_eq!(found[2].from, strings(&["dashboard", "roles", "tests"]));
    assert_eq!(found[2].line, 5);
}

fn graph(edges: &[(&str, &str)]) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, to) in edges {
        graph
            .entry(from.to_string())
            .or_default()
            .insert(to.to_string());
    }
    graph
}

#[test]
fn cycles_are_found_once_each() {
    assert!(find_cycles(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])).is_empty());
    let cycles = find_cycles(&graph(&[
        ("a", "b"),
        ("b", "a"),
        ("b", "c"),
        ("c", "a"),
        ("d", "a"),
    ]));
    assert_eq!(
        cycles,
        vec![strings(&["a", "b", "a"]), strings(&["a", "b", "c", "a"])]
    );
    let ring = find_cycles(&graph(&[("c", "a"), ("a", "b"), ("b", "c")]));
    assert_eq!(ring, vec![strings(&["a", "b", "c", "a"])]);
}

#[test]
fn crate_cycles_at_the_top_and_one_level_down() {
    let files = [
        ("lib.rs", "mod a; mod b; mod dash; use crate::a::X;"),
        (
            "a.rs",
            "use crate::{b::Y, dash};\n// crate::c is only a comment",
        ),
        (
            "b.rs",
            "/// See [crate::a].\npub struct Y;\nfn f() { crate::a::g() }",
        ),
        ("dash/mod.rs", "mod roles; mod users; use self::roles::R;"),
        ("dash/roles.rs", "use super::{users::{self, U}, view};"),
        ("dash/users.rs", "fn f() { crate::dash::roles::R::new(); }"),
        (
            "dash/view.rs",
            "use super::roles;\n#[cfg(test)]\nmod tests { use super::roles; }",
        ),
    ];
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(f, s)| (f.to_string(), s.to_string()))
        .collect();
    let problems = crate_cycles("crates/demo", &files);
    assert_eq!(
        problems,
        strings(&[
            "crates/demo/src/a.rs:1: demo: module cycle a -> b -> a (b -> a: crates/demo/src/b.rs:3)",
            "crates/demo/src/dash/roles.rs:1: demo: module cycle dash::roles -> dash::users -> dash::roles (users -> roles: crates/demo/src/dash/users.rs:1)",
            "crates/demo/src/dash/roles.rs:1: demo: module cycle dash::roles -> dash::view -> dash::roles (view -> roles: crates/demo/src/dash/view.rs:1)",
        ])
    );
}

#[test]
fn length_counts_only_code_before_tests() {
    assert_eq!(lines_before_tests("a\nb\n#[cfg(test)]\nmod tests {}\n"), 2);
    assert_eq!(lines_before_tests("a\nb\n"), 2);
    assert!(length_limited(
        "crates/portcullis-server/src/dashboard/apis.rs"
    ));
    assert!(length_limited("xtask/src/tidy/mod.rs"));
    assert!(length_limited("samples/rust-api/src/main.rs"));
    assert!(!length_limited(
        "crates/portcullis-server/tests/it/dashboard.rs"
    ));
    assert!(!length_limited("crates/portcullis-server/src/tests/big.rs"));
    assert!(!length_limited("bench/guard/src/main.rs"));
}

const GUARD_MANIFEST: &str = r#"[package]
name = "portcullis-guard"

[dependencies]
serde.workspace = true
portcullis-core = { workspace = true }

[dev-dependencies.helper]
path = "../../crates/portcullis-testkit"

[target.'cfg(unix)'.build-dependencies]
"sqlx" = "0.8"
"#;

fn member(dir: &str, text: &str) -> Member {
    Member {
        dir: dir.to_string(),
        text: text.to_string(),
        manifest: text.parse().expect("test manifest parses"),
    }
}

#[test]
fn dependency_tables_and_their_lines() {
    let manifest = GUARD_MANIFEST.parse().expect("parses");
    let mut found: Vec<(String, &str, usize)> = dependencies(&manifest)
        .iter()
        .map(|d| {
            let line = dependency_line(GUARD_MANIFEST, &d.table, d.key);
            (d.table.clone(), d.key, line)
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("dependencies".to_string(), "portcullis-core", 6),
            ("dependencies".to_string(), "serde", 5),
            ("dev-dependencies".to_string(), "helper", 8),
            (
                "target.cfg(unix).build-dependencies".to_string(),
                "sqlx",
                12
            ),
        ]
    );
    assert_eq!(
        normalize("libs/portcullis-guard", "../../crates/x/"),
        "crates/x"
    );
}

#[test]
fn manifest_checks() {
    let root = r#"[workspace.dependencies]
serde = "1"
portcullis-core = { path = "crates/portcullis-core" }
"#;
    let workspace = Workspace {
        root: root.parse().expect("parses"),
        members: vec![
            member(
                "crates/portcullis-core",
                "[package]\nname = \"portcullis-core\"\n",
            ),
            member(
                "crates/portcullis-testkit",
                "[dependencies]\nsqlx = \"0.8\"\n",
            ),
            member("libs/portcullis-guard", GUARD_MANIFEST),
        ],
    };
    assert_eq!(
        workspace.libs_depending_on_crates(),
        strings(&[
            "libs/portcullis-guard/Cargo.toml:6: [dependencies] portcullis-core (crates/portcullis-core) is in crates/; libs/ never depends on crates/",
            "libs/portcullis-guard/Cargo.toml:8: [dev-dependencies] helper (crates/portcullis-testkit) is in crates/; libs/ never depends on crates/",
        ])
    );
    let sqlx = workspace.sqlx_dependencies();
    assert_eq!(sqlx.len(), 1);
    assert!(sqlx[0].starts_with(
        "libs/portcullis-guard/Cargo.toml:12: sqlx in [target.cfg(unix).build-dependencies]"
    ));
}
