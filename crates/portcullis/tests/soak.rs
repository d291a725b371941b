//! Soak: a bounded mixed load on loopback for a while (`PORTCULLIS_SOAK_SECONDS`, 60 by
//! default; `cargo xtask soak` runs 600 and `cargo xtask ci` 60): logins through the hosted
//! form and code exchanges, refreshes, client_credentials, Management API reads and writes,
//! and calls to an API guarded by `portcullis-guard` with the tokens minted. Zero 5xx; the
//! table gives p99 per kind, and the server's RSS, store size and open file descriptors at
//! the start and the end, with the store's rows per table. The store is bounded by the sweep:
//! sessions and refresh-token families live a minute, the audit log keeps a bounded count,
//! and after the load the expired state is gone and the file within a bound of the run's
//! count of cycles (codes are kept an hour). Ignored by a plain `cargo test`: it takes a minute at least.

mod support;

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use axum::{routing::get, Router};
use portcullis_guard::{Claims, Guard};
use portcullis_store_sqlite::{Composition, SqliteStore};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::*;

/// Workers of the load; each runs one cycle after another with a short pause.
const WORKERS: usize = 4;
/// Users who log in (each login is one argon2 check).
const USERS: usize = 8;
/// How often the server sweeps, and how long the load's sessions and refresh-token families
/// live (seconds): short, so that a soak of minutes shows the sweep keeping the store bounded.
const SWEEP_SECONDS: u64 = 10;
const SESSION_SECONDS: u64 = 60;
const FAMILY_SECONDS: i64 = 60;
/// Audit log events the server keeps at most during the soak.
const LOG_EVENTS_KEPT: u64 = 5_000;

/// The store's file and its rows per table, read through a second connection.
async fn store_now(dir: &std::path::Path) -> (u64, Composition) {
    let store = SqliteStore::open(&dir.join("portcullis.db"))
        .await
        .expect("open the store");
    let composition = store.composition().await.expect("composition");
    store.close().await;
    (sqlite_bytes(dir), composition)
}

/// Rows of `table` in `composition`.
fn rows(composition: &Composition, table: &str) -> u64 {
    composition
        .rows
        .iter()
        .find(|(name, _)| name == table)
        .map_or(0, |(_, rows)| *rows)
}

/// Starts an API on 127.0.0.1 guarded by `portcullis-guard`, trusting `server`'s keys.
async fn guarded_api(server: &Server) -> (String, tokio::task::JoinHandle<()>) {
    let guard = Guard::builder(ISSUER)
        .audience(API)
        .jwks_url(server.url("/.well-known/jwks.json"))
        .allow_plain_http(true)
        .build()
        .expect("guard");
    let app = Router::new()
        .route(
            "/api/private",
            get(|claims: Claims| async move { claims.sub.clone() }),
        )
        .with_state(guard);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, task)
}

/// A login through the form and the code's exchange: the token response, timed by step.
async fn login(record: &Record, base: &str, spa: &str, email: &str) -> Option<Value> {
    let browser = http(true);
    let (url, verifier) = authorize_url(base, spa);
    let redirect = browser.get(&url).send().await.ok()?;
    let page = browser
        .get(format!("{base}{}", location(&redirect)))
        .send()
        .await
        .ok()?;
    let html = page.text().await.ok()?;
    let form = [
        ("email", email.to_owned()),
        ("password", PASSWORD.to_owned()),
        ("csrf", hidden_field(&html, "csrf")),
        ("authorize_query", hidden_field(&html, "authorize_query")),
    ];
    let (_, back) = record
        .time("login (form)", async {
            let r = browser
                .post(format!("{base}/u/login"))
                .form(&form)
                .send()
                .await
                .ok()?;
            Some((r.status(), location(&r)))
        })
        .await?;
    let callback = browser.get(format!("{base}{back}")).send().await.ok()?;
    let code = url::Url::parse(&location(&callback))
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == "code")?
        .1
        .into_owned();
    let (status, tokens) = record
        .time("code exchange", async {
            let r = browser
                .post(format!("{base}/oauth/token"))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("client_id", spa),
                    ("code", &code),
                    ("code_verifier", &verifier),
                    ("redirect_uri", SPA),
                ])
                .send()
                .await
                .ok()?;
            Some((r.status(), r.json::<Value>().await.unwrap_or(Value::Null)))
        })
        .await?;
    (status == StatusCode::OK).then_some(tokens)
}

async fn json_call(
    record: &Record,
    kind: &'static str,
    request: reqwest::RequestBuilder,
) -> Option<Value> {
    let (status, body) = record
        .time(kind, async {
            let r = request.send().await.ok()?;
            Some((r.status(), r.json::<Value>().await.unwrap_or(Value::Null)))
        })
        .await?;
    status.is_success().then_some(body)
}

/// One cycle of a worker: a login, refreshes, client_credentials, Management API reads and a
/// write, guarded API calls.
async fn cycle(record: &Record, base: &str, api: &str, tenant: &Tenant, n: usize) {
    let http = http(false);
    let email = format!("soak{}@example.com", n % USERS);
    let Some(mut tokens) = login(record, base, &tenant.spa, &email).await else {
        return;
    };
    for _ in 0..3 {
        let refresh = tokens["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let request = http.post(format!("{base}/oauth/token")).form(&[
            ("grant_type", "refresh_token"),
            ("client_id", tenant.spa.as_str()),
            ("refresh_token", &refresh),
        ]);
        match json_call(record, "refresh", request).await {
            Some(next) => tokens = next,
            None => break,
        }
    }
    let m2m = [
        ("grant_type", "client_credentials"),
        ("client_id", tenant.m2m.0.as_str()),
        ("client_secret", tenant.m2m.1.as_str()),
        ("audience", API),
    ];
    let mut machine = Value::Null;
    for _ in 0..3 {
        let request = http.post(format!("{base}/oauth/token")).form(&m2m);
        machine = json_call(record, "client_credentials", request)
            .await
            .unwrap_or(Value::Null);
    }
    let mgmt = |r: reqwest::RequestBuilder| r.bearer_auth(&tenant.mgmt_token);
    let found = json_call(
        record,
        "management read",
        mgmt(
            http.get(format!("{base}/api/v2/users-by-email"))
                .query(&[("email", &email)]),
        ),
    )
    .await;
    json_call(
        record,
        "management read",
        mgmt(http.get(format!("{base}/api/v2/clients?per_page=5"))),
    )
    .await;
    if let Some(id) = found.as_ref().and_then(|f| f[0]["user_id"].as_str()) {
        json_call(
            record,
            "management write",
            mgmt(http.patch(format!("{base}/api/v2/users/{id}")))
                .json(&json!({"user_metadata": {"cycle": n}})),
        )
        .await;
    }
    for token in [&tokens["access_token"], &machine["access_token"]] {
        let token = token.as_str().unwrap_or_default();
        record
            .time("guarded API call", async {
                let r = http
                    .get(format!("{api}/api/private"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .ok()?;
                Some((r.status(), ()))
            })
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a minute or more: run by `cargo xtask ci` and `cargo xtask soak`"]
async fn soak_mixed_load() {
    let seconds: u64 = std::env::var("PORTCULLIS_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let dir = tempfile::tempdir().expect("temp dir");
    std::env::set_var(
        "PORTCULLIS_SWEEP_INTERVAL_SECONDS",
        SWEEP_SECONDS.to_string(),
    );
    std::env::set_var(
        "PORTCULLIS_SESSION_LIFETIME_SECONDS",
        SESSION_SECONDS.to_string(),
    );
    std::env::set_var(
        "PORTCULLIS_SESSION_IDLE_TIMEOUT_SECONDS",
        SESSION_SECONDS.to_string(),
    );
    std::env::set_var(
        "PORTCULLIS_AUDIT_RETENTION_EVENTS",
        LOG_EVENTS_KEPT.to_string(),
    );
    let server = Server::start(&Backend::Sqlite(dir.path().to_owned()));
    let tenant = make_tenant(&server.base).await;
    let http = http(false);
    let policy = http
        .patch(server.url(&format!("/api/v2/clients/{}", tenant.spa)))
        .bearer_auth(&tenant.mgmt_token)
        .json(&json!({"refresh_token": {"token_lifetime": FAMILY_SECONDS,
                                         "idle_token_lifetime": FAMILY_SECONDS}}))
        .send()
        .await
        .expect("refresh-token policy");
    assert_eq!(policy.status(), StatusCode::OK);
    for n in 0..USERS {
        let (status, _) = create_user(
            &http,
            &server.base,
            &tenant.mgmt_token,
            &format!("soak{n}@example.com"),
        )
        .await
        .expect("user");
        assert_eq!(status, StatusCode::CREATED);
    }
    let (api, api_task) = guarded_api(&server).await;
    let start = (
        server.rss_kib(),
        store_now(dir.path()).await,
        server.open_fds(),
    );

    let record = Arc::new(Record::default());
    let stop = Arc::new(AtomicBool::new(false));
    let cycles = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (record, stop, cycles, base, api, tenant) = (
                record.clone(),
                stop.clone(),
                cycles.clone(),
                server.base.clone(),
                api.clone(),
                tenant.clone(),
            );
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let n = cycles.fetch_add(1, Ordering::SeqCst);
                    cycle(&record, &base, &api, &tenant, n).await;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();
    // RSS at each tenth of the run: whether it flattens after the warm-up (the pool's
    // connections filling their page caches, the allocator's arenas) or keeps climbing.
    let mut rss_by_tenth = Vec::with_capacity(10);
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(seconds * 100)).await;
        rss_by_tenth.push(server.rss_kib());
    }
    stop.store(true, Ordering::SeqCst);
    for worker in workers {
        worker.await.expect("worker");
    }
    let elapsed = started.elapsed();
    let end_rss = server.rss_kib();
    // The store once what the load left has expired and the sweep has run: sessions and
    // families live a minute, so a minute and two sweeps later only the bounded rest is left.
    tokio::time::sleep(Duration::from_secs(SESSION_SECONDS + 2 * SWEEP_SECONDS)).await;
    let end = (end_rss, store_now(dir.path()).await, server.open_fds());
    api_task.abort();

    println!(
        "\nsoak: {:.0} s, {WORKERS} workers, {} cycles (SQLite)",
        elapsed.as_secs_f64(),
        cycles.load(Ordering::SeqCst)
    );
    print_summary(&record);
    println!("| | start | end |");
    println!("|---|---:|---:|");
    println!(
        "| RSS (MiB) | {:.1} | {:.1} |",
        start.0 as f64 / 1024.0,
        end.0 as f64 / 1024.0
    );
    println!(
        "| store, after a sweep (KiB) | {} | {} |",
        start.1 .0 / 1024,
        end.1 .0 / 1024
    );
    let pages = |c: &Composition| format!("{} ({} free)", c.pages, c.free_pages);
    println!(
        "| pages of the database file | {} | {} |",
        pages(&start.1 .1),
        pages(&end.1 .1)
    );
    println!("| open fds | {} | {} |", start.2, end.2);
    let timeline: Vec<String> = rss_by_tenth
        .iter()
        .map(|kib| format!("{:.1}", *kib as f64 / 1024.0))
        .collect();
    println!(
        "\nRSS (MiB) at each tenth of the run: {}",
        timeline.join(", ")
    );
    println!("\n| table | rows at start | rows at end |");
    println!("|---|---:|---:|");
    for (table, rows_end) in &end.1 .1.rows {
        let rows_start = rows(&start.1 .1, table);
        if rows_start > 0 || *rows_end > 0 {
            println!("| {table} | {rows_start} | {rows_end} |");
        }
    }
    for s in record.summary() {
        assert!(s.requests > 0, "{}: never sent", s.kind);
        assert_eq!(s.failed, 0, "{}: 5xx or unanswered requests", s.kind);
        assert_eq!(s.refused, 0, "{}: refused requests", s.kind);
    }
    // The store is bounded by the sweep: the log by its count, sessions and refresh-token
    // families by their lifetimes (all expired by now), codes by the hour they are kept
    // (one per cycle), whatever the length of the run.
    let (_, composition) = &end.1;
    let cycles = cycles.load(Ordering::SeqCst) as u64;
    assert!(
        rows(composition, "audit_log") <= LOG_EVENTS_KEPT + 1_000,
        "audit log past its bound"
    );
    assert_eq!(
        rows(composition, "login_sessions"),
        0,
        "expired sessions swept"
    );
    assert_eq!(
        rows(composition, "refresh_tokens"),
        0,
        "expired families swept"
    );
    assert!(
        rows(composition, "authorization_codes") <= cycles,
        "codes beyond one per cycle"
    );
    // The file: the rows above (at most about 2 KiB each, indexes included) on top of the
    // tenant it started with, whatever the length of the run.
    let bound = start.1 .0 + 2_048 * (LOG_EVENTS_KEPT + 1_000 + cycles) + 8 * 1024 * 1024;
    assert!(
        end.1 .0 <= bound,
        "the store grew to {} bytes, past {bound}",
        end.1 .0
    );
    // File descriptors stay flat: the pool's connections and the listeners, give or take the
    // connections in flight when it was read.
    assert!(
        end.2 <= start.2 + 16,
        "open fds grew from {} to {}",
        start.2,
        end.2
    );
}
