//! No module cycles inside a crate: among a crate's top-level modules, and among the
//! children of each directory module (`src/dashboard/{roles,users,...}.rs`). A cycle means
//! neither module can be understood, tested or moved without the other.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    rust_source::{inline_modules, line_of, paths_starting_with, scan},
    Repo,
};

/// Elementary cycles listed per graph before the rest are only counted: enough to act on,
/// without a dense graph flooding the report.
const MAX_CYCLES: usize = 50;

/// One module naming another: who names what, and where.
#[derive(Debug, PartialEq)]
pub struct Reference {
    /// The module the path is written in, inline modules (`mod tests { }`) included.
    pub from: Vec<String>,
    /// The path resolved from the crate root, e.g. `["dashboard", "view", "Section"]`.
    pub to: Vec<String>,
    pub line: usize,
}

pub fn module_cycles(repo: &Repo) -> Vec<String> {
    let mut crates: BTreeSet<String> = BTreeSet::new();
    for file in &repo.files {
        let parts: Vec<&str> = file.split('/').collect();
        if let [top @ ("crates" | "libs"), name, "src", ..] = parts[..] {
            crates.insert(format!("{top}/{name}"));
        }
    }
    let mut problems = Vec::new();
    for krate in crates {
        let src = format!("{krate}/src");
        let files: Vec<(String, String)> = repo
            .files_under(&src)
            .filter(|f| f.ends_with(".rs"))
            .filter_map(|f| Some((f[src.len() + 1..].to_string(), repo.read(f)?)))
            .collect();
        problems.extend(crate_cycles(&krate, &files));
    }
    problems
}

/// The module a file under `src/` defines: `a.rs` and `a/mod.rs` are `a`, `a/b.rs` is
/// `a::b`, `lib.rs` and `main.rs` are the root. `None` for `bin/`, which holds other crates.
pub fn file_module(relative: &str) -> Option<Vec<String>> {
    let mut parts: Vec<String> = relative.split('/').map(str::to_string).collect();
    if parts.len() > 1 && parts[0] == "bin" {
        return None;
    }
    let last = parts.pop()?;
    let stem = last.strip_suffix(".rs")?;
    let root_file = parts.is_empty() && (stem == "lib" || stem == "main");
    if !(root_file || stem == "mod") {
        parts.push(stem.to_string());
    }
    Some(parts)
}

/// A path as written in `module`, resolved from the crate root; `None` when it does not
/// start with `crate`, `self` or `super`, or climbs above the root.
pub fn resolve(module: &[String], path: &[String]) -> Option<Vec<String>> {
    let (first, rest) = path.split_first()?;
    let mut resolved = match first.as_str() {
        "crate" => Vec::new(),
        "self" => module.to_vec(),
        "super" => {
            let mut parent = module.to_vec();
            parent.pop()?;
            parent
        }
        _ => return None,
    };
    let mut rest = rest;
    while let Some(("super", tail)) = rest.split_first().map(|(s, t)| (s.as_str(), t)) {
        resolved.pop()?;
        rest = tail;
    }
    resolved.extend(rest.iter().cloned());
    Some(resolved)
}

/// Every `crate::`, `self::` and `super::` path in one file's code, resolved. Comments and
/// string literals (so doc links too) are not code and name nothing.
pub fn references(module: &[String], source: &str) -> Vec<Reference> {
    let code = scan(source).code;
    let inline = inline_modules(&code);
    let mut out = Vec::new();
    for first in ["crate", "self", "super"] {
        for path in paths_starting_with(&code, first) {
            let mut from = module.to_vec();
            from.extend(
                inline
                    .iter()
                    .filter(|(_, body)| body.contains(&path.offset))
                    .map(|(name, _)| name.clone()),
            );
            if let Some(to) = resolve(&from, &path.segments) {
                out.push(Reference {
                    from,
                    to,
                    line: line_of(&code, path.offset),
                });
            }
        }
    }
    out
}

/// Every elementary cycle of a graph, each once, starting at its smallest node, e.g.
/// `[a, b, a]`; shorter cycles first.
pub fn find_cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    fn extend(
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        cycles: &mut Vec<Vec<String>>,
    ) {
        let start = path[0].clone();
        let last = path[path.len() - 1].clone();
        for next in graph.get(&last).into_iter().flatten() {
            if cycles.len() > MAX_CYCLES {
                return;
            }
            if *next == start {
                let mut cycle = path.clone();
                cycle.push(start.clone());
                cycles.push(cycle);
            } else if *next > start && !path.contains(next) {
                path.push(next.clone());
                extend(graph, path, cycles);
                path.pop();
            }
        }
    }
    let mut cycles = Vec::new();
    for start in graph.keys() {
        extend(graph, &mut vec![start.clone()], &mut cycles);
    }
    cycles.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    cycles
}

/// The module cycles of one crate, given its files relative to `src/` with their text.
pub fn crate_cycles(krate: &str, files: &[(String, String)]) -> Vec<String> {
    let name = krate.rsplit('/').next().unwrap_or(krate);
    let mut modules = Vec::new();
    let mut references_by_file = Vec::new();
    for (relative, source) in files {
        let Some(module) = file_module(relative) else {
            continue;
        };
        references_by_file.push((relative, references(&module, source)));
        modules.push(module);
    }
    // The graphs: the crate root's children, then every directory module's.
    let mut parents: BTreeSet<Vec<String>> = BTreeSet::new();
    for module in &modules {
        for depth in 0..module.len() {
            parents.insert(module[..depth].to_vec());
        }
    }
    let mut problems = Vec::new();
    for parent in parents {
        let depth = parent.len();
        let children: BTreeSet<&String> = modules
            .iter()
            .filter(|m| m.len() > depth && m.starts_with(&parent))
            .map(|m| &m[depth])
            .collect();
        // The first place each edge is seen, to point the report at.
        let mut edges: BTreeMap<(String, String), String> = BTreeMap::new();
        for (relative, references) in &references_by_file {
            for r in references {
                let inside = |p: &Vec<String>| p.len() > depth && p.starts_with(&parent);
                if !(inside(&r.from) && inside(&r.to)) {
                    continue;
                }
                let (from, to) = (&r.from[depth], &r.to[depth]);
                if from != to && children.contains(from) && children.contains(to) {
                    edges
                        .entry((from.clone(), to.clone()))
                        .or_insert_with(|| format!("{krate}/src/{relative}:{}", r.line));
                }
            }
        }
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in edges.keys() {
            graph.entry(from.clone()).or_default().insert(to.clone());
        }
        let cycles = find_cycles(&graph);
        let qualify = |m: &str| {
            let mut path = parent.clone();
            path.push(m.to_string());
            path.join("::")
        };
        for cycle in cycles.iter().take(MAX_CYCLES) {
            let shown: Vec<String> = cycle.iter().map(|m| qualify(m)).collect();
            let sites: Vec<&String> = cycle
                .windows(2)
                .map(|pair| &edges[&(pair[0].clone(), pair[1].clone())])
                .collect();
            let rest: Vec<String> = cycle
                .windows(2)
                .zip(&sites)
                .skip(1)
                .map(|(pair, site)| format!("{} -> {}: {site}", pair[0], pair[1]))
                .collect();
            problems.push(format!(
                "{}: {name}: module cycle {} ({})",
                sites[0],
                shown.join(" -> "),
                rest.join("; ")
            ));
        }
        if cycles.len() > MAX_CYCLES {
            let scope = if parent.is_empty() {
                "top-level modules".to_string()
            } else {
                format!("children of {}", parent.join("::"))
            };
            problems.push(format!(
                "{krate}/src: {name}: more than {MAX_CYCLES} module cycles among the {scope}"
            ));
        }
    }
    problems
}
