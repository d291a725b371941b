//! Faults of the process and of the disk, on the real binary.
//!
//! - kill -9 under load: rounds of a bounded mixed load (sign-ups through the hosted form,
//!   users created through the Management API, client_credentials tokens, and a key rotation
//!   by the CLI) on SQLite, the server and the CLI SIGKILLed in the middle; after a restart
//!   every acknowledged write is there, the keys are in exactly the expected states (one
//!   current, at most one next), and `PRAGMA integrity_check` is `ok`. The number of rounds
//!   is `PORTCULLIS_KILL9_ROUNDS` (3 by default; `cargo xtask faults` runs 20 and prints the
//!   table).
//! - Two replicas on one PostgreSQL database, one SIGKILLed under load: the other goes on
//!   serving every request, and every write acknowledged by either is there.
//! - Disk full: the SQLite store on a small tmpfs mounted in the server's own mount namespace
//!   (`unshare`), filled by the test through `/proc/PID/root`: writes answer 503 with
//!   `Retry-After`, reads keep working, writes work again once space is freed. Skipped when
//!   the machine does not allow the namespace.

mod support;

use std::{
    process::{Command, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex, PoisonError,
    },
    time::Duration,
};

use portcullis_store_sqlite::SqliteStore;
use reqwest::StatusCode;
use serde_json::Value;
use support::*;

/// Acknowledged writes of the load, by how to find them again.
#[derive(Default)]
struct Acknowledged {
    signups: Mutex<Vec<String>>,
    users: Mutex<Vec<String>>,
}

/// Runs the mixed load on `base` with `workers` workers until `stop`; numbers are unique
/// across calls through `sequence`.
async fn mixed_load(
    base: String,
    tenant: Tenant,
    workers: usize,
    stop: Arc<AtomicBool>,
    sequence: Arc<AtomicUsize>,
    acknowledged: Arc<Acknowledged>,
    record: Arc<Record>,
) {
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (base, tenant, stop, sequence, acknowledged, record) = (
                base.clone(),
                tenant.clone(),
                stop.clone(),
                sequence.clone(),
                acknowledged.clone(),
                record.clone(),
            );
            tokio::spawn(async move {
                let http = http(false);
                while !stop.load(Ordering::SeqCst) {
                    let n = sequence.fetch_add(1, Ordering::SeqCst);
                    // A request the server never answered: it was killed, and this worker's
                    // part of the round is over.
                    let answered = match n % 3 {
                        0 => {
                            let email = format!("signup{n}@example.com");
                            let answer = record
                                .time("sign-up", sign_up(&base, &tenant.spa, &email))
                                .await;
                            if answer.is_some_and(|(s, _)| s == StatusCode::SEE_OTHER) {
                                push(&acknowledged.signups, email);
                            }
                            answer.is_some()
                        }
                        1 => {
                            let email = format!("user{n}@example.com");
                            let answer = record
                                .time(
                                    "management write",
                                    create_user(&http, &base, &tenant.mgmt_token, &email),
                                )
                                .await;
                            if answer
                                .as_ref()
                                .is_some_and(|(s, _)| *s == StatusCode::CREATED)
                            {
                                push(&acknowledged.users, email);
                            }
                            answer.is_some()
                        }
                        _ => {
                            let m2m = (tenant.m2m.0.as_str(), tenant.m2m.1.as_str());
                            record
                                .time("client_credentials", async {
                                    match client_credentials(&http, &base, m2m, API).await {
                                        Ok(_) => Some((StatusCode::OK, ())),
                                        Err(StatusCode::REQUEST_TIMEOUT) => None,
                                        Err(status) => Some((status, ())),
                                    }
                                })
                                .await
                                .is_some()
                        }
                    };
                    if !answered {
                        break;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
}

fn push(list: &Mutex<Vec<String>>, value: String) {
    list.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(value);
}

fn taken(list: &Mutex<Vec<String>>) -> Vec<String> {
    list.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// The signing keys through the CLI: (current, next, previous) counts.
fn key_states(dir: &std::path::Path) -> (usize, usize, usize) {
    let output = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["keys", "list", "--json"])
        .env_remove("PORTCULLIS_DATABASE_URL")
        .env("PORTCULLIS_DATA_DIR", dir)
        .env("PORTCULLIS_MASTER_KEY", MASTER_KEY)
        .stdin(Stdio::null())
        .output()
        .expect("keys list");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let keys: Value = serde_json::from_slice(&output.stdout).expect("keys JSON");
    let keys = keys.as_array().expect("array");
    let count = |alg: &str, state: &str| {
        keys.iter()
            .filter(|k| k["alg"] == alg && k["state"] == state)
            .count()
    };
    // Every algorithm has its keys; the CLI rotates RS256's, whose states the table shows.
    for alg in ["PS256", "ES256"] {
        assert_eq!(count(alg, "current"), 1, "one current {alg} key");
        assert!(count(alg, "next") <= 1, "at most one next {alg} key");
    }
    (
        count("RS256", "current"),
        count("RS256", "next"),
        count("RS256", "previous"),
    )
}

/// One row of the kill -9 table.
struct Round {
    acknowledged: usize,
    lost: usize,
    keys: (usize, usize, usize),
    integrity: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_no_acknowledged_write() {
    let rounds: usize = std::env::var("PORTCULLIS_KILL9_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir().expect("temp dir");
    let backend = Backend::Sqlite(dir.path().to_owned());
    let server = Server::start(&backend);
    let tenant = make_tenant(&server.base).await;
    let mut server = Some(server);
    let acknowledged = Arc::new(Acknowledged::default());
    let sequence = Arc::new(AtomicUsize::new(0));
    let record = Arc::new(Record::default());
    let mut table = Vec::new();
    for round in 0..rounds {
        let running = server.take().unwrap_or_else(|| Server::start(&backend));
        let stop = Arc::new(AtomicBool::new(false));
        let load = tokio::spawn(mixed_load(
            running.base.clone(),
            tenant.clone(),
            3,
            stop.clone(),
            sequence.clone(),
            acknowledged.clone(),
            record.clone(),
        ));
        // A key rotation by the CLI, under way when the server is killed on some rounds.
        tokio::time::sleep(Duration::from_millis(400 + (round as u64 * 137) % 600)).await;
        let mut rotation = Command::new(env!("CARGO_BIN_EXE_portcullis"))
            .args(["keys", "rotate", "--json"])
            .env_remove("PORTCULLIS_DATABASE_URL")
            .env("PORTCULLIS_DATA_DIR", dir.path())
            .env("PORTCULLIS_MASTER_KEY", MASTER_KEY)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("keys rotate");
        tokio::time::sleep(Duration::from_millis(300 + (round as u64 * 71) % 400)).await;
        running.kill9();
        let _ = rotation.kill();
        let _ = rotation.wait();
        stop.store(true, Ordering::SeqCst);
        let _ = load.await;

        let restarted = Server::start(&backend);
        let http = http(false);
        let signups = taken(&acknowledged.signups);
        let users = taken(&acknowledged.users);
        let mut lost = 0;
        for email in signups.iter().chain(&users) {
            if !user_exists(&http, &restarted.base, &tenant.mgmt_token, email).await {
                eprintln!("round {round}: acknowledged {email} is missing");
                lost += 1;
            }
        }
        let integrity = SqliteStore::open(&dir.path().join("portcullis.db"))
            .await
            .expect("open")
            .integrity_check()
            .await
            .expect("integrity_check");
        table.push(Round {
            acknowledged: signups.len() + users.len(),
            lost,
            keys: key_states(dir.path()),
            integrity,
        });
        server = Some(restarted);
    }
    drop(server);

    println!("\nkill -9 under load (SQLite), {rounds} rounds");
    println!("| round | acknowledged writes (total) | lost | keys current/next/previous | integrity_check |");
    println!("|---:|---:|---:|---|---|");
    for (i, row) in table.iter().enumerate() {
        println!(
            "| {} | {} | {} | {}/{}/{} | {} |",
            i + 1,
            row.acknowledged,
            row.lost,
            row.keys.0,
            row.keys.1,
            row.keys.2,
            row.integrity
        );
    }
    let total = table.last().map_or(0, |r| r.acknowledged);
    let lost: usize = table.iter().map(|r| r.lost).sum();
    println!("| all | {total} | {lost} | | |");
    // Requests in flight when the server was killed count as unanswered here.
    print_summary(&record);
    assert!(total > 0, "the load acknowledged nothing");
    for (i, row) in table.iter().enumerate() {
        assert_eq!(row.lost, 0, "round {}: lost writes", i + 1);
        assert_eq!(row.keys.0, 1, "round {}: one current key", i + 1);
        assert!(row.keys.1 <= 1, "round {}: at most one next key", i + 1);
        assert_eq!(row.integrity, "ok", "round {}", i + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_of_two_postgres_replicas_killed_the_other_goes_on_serving() {
    let url = portcullis_testkit::postgres::fresh_database().await;
    let backend = Backend::Postgres(url);
    let first = Server::start(&backend);
    let second = Server::start(&backend);
    let tenant = make_tenant(&first.base).await;
    // The tenant made through the first replica reaches the second within its refresh.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let sequence = Arc::new(AtomicUsize::new(0));
    let acknowledged = Arc::new(Acknowledged::default());
    let (stop_first, stop_second) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let (record_first, record_second) = (Arc::new(Record::default()), Arc::new(Record::default()));
    let on_first = tokio::spawn(mixed_load(
        first.base.clone(),
        tenant.clone(),
        2,
        stop_first.clone(),
        sequence.clone(),
        acknowledged.clone(),
        record_first,
    ));
    let on_second = tokio::spawn(mixed_load(
        second.base.clone(),
        tenant.clone(),
        2,
        stop_second.clone(),
        sequence.clone(),
        acknowledged.clone(),
        record_second.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(2)).await;
    first.kill9();
    stop_first.store(true, Ordering::SeqCst);
    let _ = on_first.await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop_second.store(true, Ordering::SeqCst);
    let _ = on_second.await;

    for s in record_second.summary() {
        assert!(
            s.requests > 0,
            "{}: nothing was sent to the surviving replica",
            s.kind
        );
        assert_eq!(
            s.failed, 0,
            "{}: the surviving replica failed requests",
            s.kind
        );
        assert_eq!(
            s.refused, 0,
            "{}: the surviving replica refused requests",
            s.kind
        );
    }
    let http = http(false);
    let written: Vec<String> = taken(&acknowledged.signups)
        .into_iter()
        .chain(taken(&acknowledged.users))
        .collect();
    assert!(!written.is_empty());
    for email in &written {
        assert!(
            user_exists(&http, &second.base, &tenant.mgmt_token, email).await,
            "acknowledged {email} is missing"
        );
    }
}

/// Whether this machine lets an unprivileged namespace mount a tmpfs.
fn namespaces_allowed() -> bool {
    Command::new("unshare")
        .args(["-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_fails_writes_with_503_keeps_reads_and_recovers() {
    if !namespaces_allowed() {
        eprintln!("skipped: this machine does not allow a tmpfs in a user namespace (unshare -rm)");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().to_str().expect("UTF-8 path").to_owned();
    // The server's own mount namespace, with an 8 MiB tmpfs over its data directory; `sh`
    // execs the server, so the PID is the server's.
    let mount = format!("mount -t tmpfs -o size=8m tmpfs '{data}' && exec \"$0\" \"$@\"");
    let server = Server::start_wrapped(
        &Backend::Sqlite(dir.path().to_owned()),
        &["unshare", "-rm", "sh", "-c", &mount],
    );
    let tenant = make_tenant(&server.base).await;
    let http = http(false);
    let (status, _) = create_user(
        &http,
        &server.base,
        &tenant.mgmt_token,
        "before@example.com",
    )
    .await
    .expect("answer");
    assert_eq!(status, StatusCode::CREATED);

    // Fill the tmpfs, as the server sees it.
    let filler = format!("/proc/{}/root{data}/filler", server.pid());
    let fill = Command::new("dd")
        .args(["if=/dev/zero", &format!("of={filler}"), "bs=64k"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("dd");
    assert!(!fill.success(), "dd should stop at a full disk");

    // Writes: a clear 503 with Retry-After (a few may still fit in pages SQLite holds).
    let mut refused = None;
    for n in 0..100 {
        let response = http
            .post(server.url("/api/v2/users"))
            .bearer_auth(&tenant.mgmt_token)
            .json(
                &serde_json::json!({"connection": "Username-Password-Authentication",
                "email": format!("full{n}@example.com"), "password": PASSWORD,
                "user_metadata": {"padding": "x".repeat(4000)}}),
            )
            .send()
            .await
            .expect("answer");
        let status = response.status();
        assert!(
            status == StatusCode::CREATED || status == StatusCode::SERVICE_UNAVAILABLE,
            "{status}: {:?}",
            response.text().await
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert!(response.headers().contains_key("retry-after"));
            refused = Some(response.json::<Value>().await.expect("Auth0 shape"));
            break;
        }
    }
    let refused = refused.expect("no write was refused on a full disk");
    assert_eq!(refused["statusCode"], 503);
    assert_eq!(refused["errorCode"], "temporarily_unavailable");

    // Reads keep working.
    assert!(
        user_exists(
            &http,
            &server.base,
            &tenant.mgmt_token,
            "before@example.com"
        )
        .await
    );
    let m2m = (tenant.m2m.0.as_str(), tenant.m2m.1.as_str());
    client_credentials(&http, &server.base, m2m, API)
        .await
        .expect("a token on a full disk");

    // Space returns: writes work again, without a restart.
    std::fs::remove_file(&filler).expect("free the space");
    let (status, _) = create_user(&http, &server.base, &tenant.mgmt_token, "after@example.com")
        .await
        .expect("answer");
    assert_eq!(status, StatusCode::CREATED);
    assert!(user_exists(&http, &server.base, &tenant.mgmt_token, "after@example.com").await);
}
