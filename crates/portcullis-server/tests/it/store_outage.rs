//! PostgreSQL goes away for 10 s under a bounded load, then comes back.
//!
//! While it is away every failing request is answered 503 with `Retry-After` in its surface's
//! shape (RFC 6749's JSON on the token endpoint, Auth0's on the Management API, an HTML page
//! on the login form and the dashboard) within a bound, never a 500 and never a hang;
//! `/readyz` fails. When it is back `/readyz` recovers and every request succeeds again without
//! a restart, and every write acknowledged before, during or after is there.
//!
//! The test starts its own cluster (stopping the suite's shared one would fail the other
//! tests), so it runs with `PORTCULLIS_TEST_BACKEND=postgres` only, as the suite's PostgreSQL
//! run; on SQLite it returns at once.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex, PoisonError,
    },
    time::{Duration, Instant},
};

use portcullis_server::settings::BootstrapCredentials;
use portcullis_store_postgres::{PgStore, PoolLimits};
use portcullis_testkit::postgres::PgCluster;
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

use crate::{
    helpers::*,
    management_support::{client_credentials, BOOTSTRAP_ID, BOOTSTRAP_SECRET},
};

/// How long a statement waits for a connection before the store says it is unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);
/// The longest any request may take, outage or not.
const ANSWER_BOUND: Duration = Duration::from_secs(5);
/// How long PostgreSQL stays away.
const OUTAGE: Duration = Duration::from_secs(10);

/// One request of the load and how it was answered.
#[derive(Debug)]
struct Answer {
    kind: &'static str,
    status: StatusCode,
    took: Duration,
    retry_after: bool,
    body: Value,
}

struct Load {
    base: String,
    mgmt_token: String,
    m2m: (String, String),
    client: reqwest::Client,
    answers: Mutex<Vec<Answer>>,
    /// Users whose creation was acknowledged (201), by id.
    acknowledged: Mutex<Vec<String>>,
}

impl Load {
    async fn send(&self, kind: &'static str, request: reqwest::RequestBuilder) -> Answer {
        let started = Instant::now();
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{kind}: no answer within the client's timeout: {e}"));
        let status = response.status();
        let retry_after = response.headers().contains_key(header::RETRY_AFTER);
        let text = response.text().await.unwrap_or_default();
        Answer {
            kind,
            status,
            took: started.elapsed(),
            retry_after,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        }
    }

    /// One round of the mixed load: a user created, users listed, a client_credentials token.
    async fn round(&self, n: usize) {
        let create = self
            .client
            .post(format!("{}/api/v2/users", self.base))
            .bearer_auth(&self.mgmt_token)
            .json(&json!({
                "connection": "Username-Password-Authentication",
                "email": format!("load{n}@example.com"),
                "password": PASSWORD,
            }));
        let created = self.send("management write", create).await;
        if created.status == StatusCode::CREATED {
            let id = created.body["user_id"]
                .as_str()
                .expect("user_id")
                .to_owned();
            self.acknowledged
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(id);
        }
        let list = self
            .client
            .get(format!("{}/api/v2/users?per_page=5", self.base))
            .bearer_auth(&self.mgmt_token);
        let listed = self.send("management read", list).await;
        let token = self
            .client
            .post(format!("{}/oauth/token", self.base))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &self.m2m.0),
                ("client_secret", &self.m2m.1),
                ("audience", API),
            ]);
        let minted = self.send("client_credentials", token).await;
        self.answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend([created, listed, minted]);
    }
}

/// Stops or starts the cluster off the async threads (`pg_ctl` waits).
async fn with_cluster(cluster: PgCluster, f: fn(&mut PgCluster)) -> PgCluster {
    tokio::task::spawn_blocking(move || {
        let mut cluster = cluster;
        f(&mut cluster);
        cluster
    })
    .await
    .expect("pg_ctl")
}

async fn readiness(app: &TestApp, client: &reqwest::Client) -> (StatusCode, Duration) {
    let started = Instant::now();
    let status = client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz answers")
        .status();
    (status, started.elapsed())
}

/// Checks an answer given while the store was unreachable: a success served from the
/// replica's caches, or a 503 with `Retry-After` in the surface's shape; never a 500.
fn check_outage_answer(answer: &Answer) {
    assert!(
        answer.took < ANSWER_BOUND,
        "{}: answered after {:?}",
        answer.kind,
        answer.took
    );
    if answer.status.is_success() {
        return;
    }
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{answer:?}");
    assert!(answer.retry_after, "{answer:?}: no Retry-After");
    match answer.kind {
        "client_credentials" => assert_eq!(answer.body["error"], "temporarily_unavailable"),
        _ => {
            assert_eq!(answer.body["statusCode"], 503, "{answer:?}");
            assert_eq!(answer.body["errorCode"], "temporarily_unavailable");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_is_answered_503_and_recovers_without_restart() {
    if std::env::var("PORTCULLIS_TEST_BACKEND").as_deref() != Ok("postgres") {
        eprintln!("skipped: the outage test runs with PORTCULLIS_TEST_BACKEND=postgres");
        return;
    }
    let cluster = tokio::task::spawn_blocking(PgCluster::start)
        .await
        .expect("initdb")
        .unwrap_or_else(|e| panic!("test PostgreSQL: {e}"));
    let url = cluster.create_database().await.expect("database");
    let limits = PoolLimits {
        max_connections: 8,
        min_connections: 1,
    };
    let store = PgStore::connect_with_timeout(&url, limits, ACQUIRE_TIMEOUT)
        .await
        .expect("store");
    let data_dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_on(data_dir, Arc::new(store), |settings| {
        settings.bootstrap_client = Some(BootstrapCredentials {
            client_id: BOOTSTRAP_ID.into(),
            client_secret: BOOTSTRAP_SECRET.into(),
        });
    })
    .await;
    app.create_api(false).await;
    let m2m = app.create_m2m(&[]).await;
    let spa = app.create_spa(false).await;
    app.create_user("alice@example.com").await;
    let admin = app.dashboard_admin().await;
    let audience = format!("{}api/v2/", app.issuer);
    let mgmt_token = client_credentials(&app, BOOTSTRAP_ID, BOOTSTRAP_SECRET, &audience).await;
    let client = reqwest::Client::builder()
        .timeout(ANSWER_BOUND * 2)
        .build()
        .expect("client");
    let load = Arc::new(Load {
        base: app.base.clone(),
        mgmt_token,
        m2m,
        client: client.clone(),
        answers: Mutex::new(Vec::new()),
        acknowledged: Mutex::new(Vec::new()),
    });

    // The login form, loaded before the outage; submitted during it.
    let browser = browser();
    let (_, challenge) = pkce();
    let pkce_params = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let login = browser
        .get(app.authorize_url(&spa, &pkce_params))
        .send()
        .await
        .expect("authorize");
    let login_path = location(&login);
    assert!(
        login_path.starts_with("/u/login?"),
        "authorize: {login_path}"
    );
    let page = browser
        .get(app.url(&login_path))
        .send()
        .await
        .expect("login page");
    let html = page.text().await.expect("html");
    let (csrf, authorize_query) = (
        hidden_field(&html, "csrf"),
        hidden_field(&html, "authorize_query"),
    );

    // A bounded load of two workers, a few rounds a second, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..2)
        .map(|worker| {
            let (load, stop) = (load.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = worker * 10_000;
                while !stop.load(Ordering::SeqCst) && n < worker * 10_000 + 500 {
                    load.round(n).await;
                    n += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(readiness(&app, &client).await.0, StatusCode::OK);
    let before_outage = load
        .answers
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .len();

    let cluster = with_cluster(cluster, PgCluster::stop).await;
    let outage_started = Instant::now();

    // Readiness fails promptly while the store is away.
    let (status, took) = readiness(&app, &client).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(took < Duration::from_secs(3), "readyz took {took:?}");

    // The login form: an HTML page, 503, Retry-After.
    let started = Instant::now();
    let submitted = browser
        .post(app.url("/u/login"))
        .form(&[
            ("email", "alice@example.com"),
            ("password", PASSWORD),
            ("csrf", &csrf),
            ("authorize_query", &authorize_query),
        ])
        .send()
        .await
        .expect("login answers");
    assert!(
        started.elapsed() < ANSWER_BOUND,
        "login took {:?}",
        started.elapsed()
    );
    assert_eq!(submitted.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(submitted.headers().contains_key(header::RETRY_AFTER));
    let page = submitted.text().await.expect("html");
    assert!(page.contains("temporarily unavailable"), "{page}");

    // The dashboard, signed in before the outage: the same page.
    let started = Instant::now();
    let (status, page) = admin.get(&app, "/dashboard/users").await;
    assert!(
        started.elapsed() < ANSWER_BOUND,
        "dashboard took {:?}",
        started.elapsed()
    );
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{page}");
    assert!(page.contains("temporarily unavailable"), "{page}");

    tokio::time::sleep(OUTAGE.saturating_sub(outage_started.elapsed())).await;
    assert_eq!(
        readiness(&app, &client).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let during_outage = load
        .answers
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .len();
    let cluster = with_cluster(cluster, |c| c.restart().expect("pg_ctl start")).await;

    // Readiness recovers with the store, without a restart of the server.
    let back = Instant::now();
    while readiness(&app, &client).await.0 != StatusCode::OK {
        assert!(
            back.elapsed() < Duration::from_secs(15),
            "readyz never recovered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Give the pool a moment to replace its broken connections, then watch the load recover.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let recovered = load
        .answers
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::SeqCst);
    for worker in workers {
        worker.await.expect("worker");
    }

    let answers = std::mem::take(&mut *load.answers.lock().unwrap_or_else(PoisonError::into_inner));
    for answer in answers.iter() {
        check_outage_answer(answer);
    }
    for answer in &answers[..before_outage] {
        assert!(answer.status.is_success(), "before the outage: {answer:?}");
    }
    for kind in ["management write", "management read"] {
        assert!(
            answers[before_outage..during_outage]
                .iter()
                .any(|a| a.kind == kind && a.status == StatusCode::SERVICE_UNAVAILABLE),
            "{kind}: no 503 during the outage"
        );
    }
    let after: Vec<_> = answers[recovered..].iter().collect();
    assert!(!after.is_empty(), "no load after the recovery");
    for answer in after {
        assert!(answer.status.is_success(), "after the recovery: {answer:?}");
    }

    // Every acknowledged write is there.
    let acknowledged = load
        .acknowledged
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    assert!(!acknowledged.is_empty());
    for id in &acknowledged {
        let found = client
            .get(app.url(&format!("/api/v2/users/{id}")))
            .bearer_auth(&load.mgmt_token)
            .send()
            .await
            .expect("get user");
        assert_eq!(
            found.status(),
            StatusCode::OK,
            "acknowledged user {id} is missing"
        );
    }
    drop(cluster);
}
