//! The Management API against its own OpenAPI document: schemathesis (from PyPI, installed by
//! `scripts/install-schemathesis.sh`) generates requests for every operation of
//! `/api/v2/openapi.json`, valid and invalid, sends them with a valid Management API token to
//! the real binary on 127.0.0.1, and checks every answer: never a 5xx, a status the document
//! lists for the operation, a content type it lists, and a body matching the documented schema.
//!
//! The server runs on a throwaway SQLite tenant of its own, so that whatever the generated
//! requests delete or change touches nothing else. The operations that can take the run's own
//! access away (deleting its client, its grant or an API, changing its grant) run last, each
//! against a fresh server of its own, so that no other operation is left testing only 401s.
//! `PORTCULLIS_SCHEMATHESIS` names the `st` command (the test is skipped without it; `cargo
//! xtask schema` and `cargo xtask ci` set it), `PORTCULLIS_SCHEMA_EXAMPLES` the test cases per
//! operation and phase (5 by default). The table gives operations, test cases and failures.

mod support;

use std::process::Command;

use serde_json::Value;
use support::*;

/// What schemathesis checks on every answer.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance";

/// Operations that can revoke the token of the run (by `operationId`): each gets a server
/// of its own.
const REVOKING: &[&str] = &[
    "delete_clients_by_id",
    "delete_client_grants_by_id",
    "patch_client_grants_by_id",
    "delete_resource_servers_by_id",
];

/// What the runs found, summed.
#[derive(Default)]
struct Totals {
    operations: u64,
    cases: u64,
    failures: u64,
    unique: u64,
    errors: u64,
    seconds: f64,
    failed_runs: u64,
}

/// Runs schemathesis on a fresh server, restricted by `filter` (schemathesis options);
/// returns its JSON report and what it printed.
async fn run(st: &str, examples: u64, filter: &[&str]) -> (Value, String, bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(&Backend::Sqlite(dir.path().to_owned()));
    let token = management_token(&http(false), &server.base).await;
    // The token is read from the environment by schemathesis's configuration file, so that it
    // is on no command line.
    let work = dir.path().join("schemathesis");
    std::fs::create_dir_all(&work).expect("schemathesis directory");
    let config = work.join("schemathesis.toml");
    std::fs::write(
        &config,
        "headers = { Authorization = \"Bearer ${PORTCULLIS_MANAGEMENT_TOKEN}\" }\n",
    )
    .expect("schemathesis.toml");
    let report = work.join("report.json");
    let output = Command::new(st)
        .arg("--config-file")
        .arg(&config)
        .args(["--no-color", "run", &server.url("/api/v2/openapi.json")])
        .args(["--checks", CHECKS])
        .args(["--max-examples", &examples.to_string(), "--seed", "15"])
        .args(["--workers", "2", "--request-timeout", "10"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--generation-database", "none"])
        .args(filter)
        .args(["--report", "json"])
        .arg("--report-json-path")
        .arg(&report)
        .current_dir(&work)
        .env("PORTCULLIS_MANAGEMENT_TOKEN", &token)
        .output()
        .expect("running schemathesis");
    let log = String::from_utf8_lossy(&output.stdout).into_owned();
    let summary: Value = std::fs::read(&report)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_else(|| panic!("schemathesis wrote no report:\n{log}"));
    (summary, log, output.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs schemathesis: run by `cargo xtask schema` and `cargo xtask ci`"]
async fn management_api_matches_its_schema() {
    let Ok(st) = std::env::var("PORTCULLIS_SCHEMATHESIS") else {
        eprintln!("PORTCULLIS_SCHEMATHESIS is not set: run `cargo xtask schema`");
        return;
    };
    let examples: u64 = std::env::var("PORTCULLIS_SCHEMA_EXAMPLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let mut first: Vec<&str> = Vec::new();
    for id in REVOKING {
        first.extend(["--exclude-operation-id", id]);
    }
    let mut passes: Vec<Vec<&str>> = vec![first];
    for id in REVOKING {
        passes.push(vec!["--include-operation-id", id]);
    }
    let mut totals = Totals::default();
    let mut version = String::new();
    for filter in &passes {
        let (summary, log, success) = run(&st, examples, filter).await;
        version = summary["schemathesis_version"]
            .as_str()
            .unwrap_or("?")
            .to_owned();
        let operations = &summary["operations"];
        let cases = &summary["test_cases"];
        let failures = cases["with_failures"].as_u64().unwrap_or(u64::MAX);
        let errors: u64 = summary["errors"]
            .as_array()
            .map(|errors| errors.iter().filter_map(|e| e["count"].as_u64()).sum())
            .unwrap_or(0);
        assert_eq!(
            operations["tested"], operations["selected"],
            "every selected operation is tested"
        );
        totals.operations += operations["tested"].as_u64().unwrap_or(0);
        totals.cases += cases["generated"].as_u64().unwrap_or(0);
        totals.failures += failures;
        totals.unique += cases["unique_failures"].as_u64().unwrap_or(0);
        totals.errors += errors;
        totals.seconds += summary["running_time"].as_f64().unwrap_or(0.0);
        if failures > 0 || errors > 0 || !success {
            totals.failed_runs += 1;
            println!("{log}");
        }
    }
    println!(
        "\nschemathesis {version}: up to {examples} test cases per operation and phase \
         (examples, coverage, fuzzing), checks {CHECKS}; SQLite"
    );
    println!("| operations | test cases | with failures | distinct failures | errors | seconds |");
    println!("|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {} | {} | {} | {} | {:.0} |",
        totals.operations,
        totals.cases,
        totals.failures,
        totals.unique,
        totals.errors,
        totals.seconds
    );
    assert_eq!(totals.failures, 0, "schemathesis found failures (above)");
    assert_eq!(totals.errors, 0, "schemathesis met errors (above)");
    assert_eq!(totals.failed_runs, 0, "a schemathesis run failed (above)");
}
