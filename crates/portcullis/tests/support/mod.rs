//! The harness of the process-level fault and soak tests: a `portcullis serve` process on
//! 127.0.0.1 that the test starts, kills (SIGKILL, by its PID) or stops (SIGTERM, by its PID),
//! a tenant made through its Management API, and the requests of the mixed load, each
//! recorded with its kind, status and latency.

#![allow(dead_code)] // Each test file uses part of the harness.

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use aws_lc_rs::digest;
use portcullis_core::secrets::{b64url, random_token};
use reqwest::{redirect::Policy, StatusCode};
use serde_json::{json, Value};

pub const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
pub const ISSUER: &str = "http://localhost/";
pub const API: &str = "https://faults.example/api";
pub const SPA: &str = "http://localhost:3000";
pub const PASSWORD: &str = "correct horse battery";
pub const BOOTSTRAP_ID: &str = "fault-bootstrap-client";
pub const BOOTSTRAP_SECRET: &str = "fault-bootstrap-secret-of-at-least-32-characters";

/// Where a server keeps its tenant.
#[derive(Clone, Debug)]
pub enum Backend {
    /// SQLite in this data directory.
    Sqlite(PathBuf),
    /// This PostgreSQL database (the data directory is scratch).
    Postgres(String),
}

/// A running `portcullis serve` that the test started.
pub struct Server {
    child: Child,
    pub base: String,
    pub port: u16,
    _scratch: tempfile::TempDir,
}

impl Server {
    /// Starts the server on `backend` and waits for its ready line.
    pub fn start(backend: &Backend) -> Server {
        Self::start_wrapped(backend, &[])
    }

    /// [`Server::start`] under a wrapper command (`wrapper... portcullis serve ...`), such as
    /// `unshare`; the wrapper must exec the server, so that the PID is the server's.
    pub fn start_wrapped(backend: &Backend, wrapper: &[&str]) -> Server {
        let scratch = tempfile::tempdir().expect("temp dir");
        let binary = env!("CARGO_BIN_EXE_portcullis");
        let mut command = match wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(binary);
                command
            }
            None => Command::new(binary),
        };
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--issuer", ISSUER])
            .env("PORTCULLIS_MASTER_KEY", MASTER_KEY)
            .env("PORTCULLIS_BOOTSTRAP_CLIENT_ID", BOOTSTRAP_ID)
            .env("PORTCULLIS_BOOTSTRAP_CLIENT_SECRET", BOOTSTRAP_SECRET)
            .env("PORTCULLIS_CACHE_REFRESH_SECONDS", "1")
            // The load comes from one address: no per-address limits in the way.
            .env(
                "PORTCULLIS_RATE_LIMITS",
                "token=0,login=0,signup=0,userinfo=0,management=0",
            )
            .env("PORTCULLIS_MAX_SIGNUPS_PER_IP", "1000000")
            .env("PORTCULLIS_MAX_FAILED_LOGINS_PER_IP", "1000000")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        match backend {
            Backend::Sqlite(dir) => command
                .env_remove("PORTCULLIS_DATABASE_URL")
                .env("PORTCULLIS_DATA_DIR", dir),
            Backend::Postgres(url) => command
                .env("PORTCULLIS_DATABASE_URL", url)
                .env("PORTCULLIS_DATA_DIR", scratch.path()),
        };
        let mut child = command.spawn().expect("spawn serve");
        let stderr = child.stderr.take().expect("stderr");
        let (ready, port) = std::sync::mpsc::channel();
        // Reads the log until the ready line, then keeps draining it so that the server never
        // blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listen=http://127.0.0.1:").nth(1) {
                    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = ready.send(port);
                } else if line.contains("ERROR") || line.contains("panicked") {
                    eprintln!("serve: {line}");
                }
            }
        });
        let Ok(Ok(port)) = port
            .recv_timeout(Duration::from_secs(60))
            .map(|p| p.parse::<u16>())
        else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve was not ready within 60 s");
        };
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            port,
            _scratch: scratch,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL, by PID, and reaps it.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Resident memory in KiB, from `/proc`.
    pub fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// Open file descriptors, from `/proc`.
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Bytes of the SQLite store in `dir` (the database and its write-ahead log).
pub fn sqlite_bytes(dir: &Path) -> u64 {
    ["portcullis.db", "portcullis.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

/// An HTTP client of the load: bounded in time, no redirects followed.
pub fn http(cookies: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .cookie_store(cookies)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// What the load needs to know about the tenant.
#[derive(Clone, Debug)]
pub struct Tenant {
    pub mgmt_token: String,
    pub m2m: (String, String),
    pub spa: String,
}

/// A client-credentials token, or the failed answer's status.
pub async fn client_credentials(
    http: &reqwest::Client,
    base: &str,
    (id, secret): (&str, &str),
    audience: &str,
) -> Result<Value, StatusCode> {
    let response = http
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("audience", audience),
        ])
        .send()
        .await
        .map_err(|_| StatusCode::REQUEST_TIMEOUT)?;
    let status = response.status();
    if status != StatusCode::OK {
        return Err(status);
    }
    response.json().await.map_err(|_| StatusCode::BAD_GATEWAY)
}

/// A Management API token of the bootstrap client.
pub async fn management_token(http: &reqwest::Client, base: &str) -> String {
    client_credentials(
        http,
        base,
        (BOOTSTRAP_ID, BOOTSTRAP_SECRET),
        &format!("{ISSUER}api/v2/"),
    )
    .await
    .expect("management token")["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// The tenant of the load, made through the Management API: an API allowing offline access,
/// a machine-to-machine client granted it, a SPA.
pub async fn make_tenant(base: &str) -> Tenant {
    let http = http(false);
    let token = management_token(&http, base).await;
    let post = |path: &str, body: Value| {
        http.post(format!("{base}/api/v2{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let api = post(
        "/resource-servers",
        json!({"name": "Faults API", "identifier": API, "allow_offline_access": true,
               "scopes": [{"value": "read:messages", "description": "Read"}]}),
    )
    .await
    .expect("api");
    assert_eq!(api.status(), StatusCode::CREATED, "{:?}", api.text().await);
    let m2m: Value = post(
        "/clients",
        json!({"name": "Faults M2M", "app_type": "non_interactive"}),
    )
    .await
    .expect("m2m")
    .json()
    .await
    .expect("m2m json");
    let m2m_id = m2m["client_id"].as_str().expect("client_id").to_owned();
    let grant = post(
        "/client-grants",
        json!({"client_id": m2m_id, "audience": API, "scope": ["read:messages"]}),
    )
    .await
    .expect("grant");
    assert_eq!(grant.status(), StatusCode::CREATED);
    let spa: Value = post(
        "/clients",
        json!({"name": "Faults SPA", "app_type": "spa", "callbacks": [SPA],
               "grant_types": ["authorization_code", "refresh_token"]}),
    )
    .await
    .expect("spa")
    .json()
    .await
    .expect("spa json");
    Tenant {
        mgmt_token: token,
        m2m: (
            m2m_id,
            m2m["client_secret"]
                .as_str()
                .expect("client_secret")
                .to_owned(),
        ),
        spa: spa["client_id"].as_str().expect("client_id").to_owned(),
    }
}

/// An /authorize URL of the SPA with PKCE; returns it and the verifier.
pub fn authorize_url(base: &str, spa: &str) -> (String, String) {
    let verifier = random_token(32);
    let challenge = b64url(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref());
    let mut url = url::Url::parse(&format!("{base}/authorize")).expect("url");
    url.query_pairs_mut().extend_pairs([
        ("client_id", spa),
        ("redirect_uri", SPA),
        ("response_type", "code"),
        ("scope", "openid profile offline_access read:messages"),
        ("audience", API),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("state", "s"),
    ]);
    (url.to_string(), verifier)
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let Some(start) = html.find(&marker).map(|s| s + marker.len()) else {
        return String::new();
    };
    let end = html[start..].find('"').map_or(html.len(), |e| e + start);
    html[start..end]
        .replace("&amp;", "&")
        .replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

/// One kind of request of a load.
pub struct Summary {
    pub kind: &'static str,
    pub requests: usize,
    /// Answered 5xx, or not answered at all.
    pub failed: usize,
    /// Answered 4xx.
    pub refused: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Prints the summary as a Markdown table.
pub fn print_summary(record: &Record) {
    println!("| kind | requests | 5xx or unanswered | 4xx | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    for s in record.summary() {
        println!(
            "| {} | {} | {} | {} | {:.1} | {:.1} |",
            s.kind, s.requests, s.failed, s.refused, s.p50_ms, s.p99_ms
        );
    }
}

/// Latencies and statuses of the load, by kind of request.
#[derive(Default)]
pub struct Record {
    by_kind: Mutex<BTreeMap<&'static str, Vec<(u16, Duration)>>>,
}

impl Record {
    pub fn add(&self, kind: &'static str, status: u16, took: Duration) {
        self.by_kind
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(kind)
            .or_default()
            .push((status, took));
    }

    /// Times `request` and records its status (0: no answer).
    pub async fn time<F, T>(&self, kind: &'static str, request: F) -> Option<(StatusCode, T)>
    where
        F: std::future::Future<Output = Option<(StatusCode, T)>>,
    {
        let started = Instant::now();
        let answer = request.await;
        let status = answer.as_ref().map_or(0, |(s, _)| s.as_u16());
        self.add(kind, status, started.elapsed());
        answer
    }

    /// Per kind: count, 5xx (and unanswered) count, 4xx count, p50 and p99 in milliseconds.
    pub fn summary(&self) -> Vec<Summary> {
        let by_kind = self.by_kind.lock().unwrap_or_else(PoisonError::into_inner);
        by_kind
            .iter()
            .map(|(&kind, samples)| {
                let mut times: Vec<Duration> = samples.iter().map(|(_, t)| *t).collect();
                times.sort();
                let at = |q: f64| {
                    let i = ((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1;
                    times[i].as_secs_f64() * 1000.0
                };
                let failed = samples.iter().filter(|(s, _)| *s == 0 || *s >= 500).count();
                let refused = samples
                    .iter()
                    .filter(|(s, _)| (400..500).contains(s))
                    .count();
                Summary {
                    kind,
                    requests: samples.len(),
                    failed,
                    refused,
                    p50_ms: at(0.5),
                    p99_ms: at(0.99),
                }
            })
            .collect()
    }
}

/// A mixed-load step: a sign-up through the hosted form with a fresh browser; returns the
/// email when the server acknowledged it (303 back to /authorize).
pub async fn sign_up(base: &str, spa: &str, email: &str) -> Option<(StatusCode, ())> {
    let browser = http(true);
    let (url, _) = authorize_url(base, spa);
    let login = browser.get(&url).send().await.ok()?;
    let query = location(&login);
    let query = query.strip_prefix("/u/login?")?;
    let page = browser
        .get(format!("{base}/u/signup?{query}"))
        .send()
        .await
        .ok()?;
    if page.status() != StatusCode::OK {
        return Some((page.status(), ()));
    }
    let html = page.text().await.ok()?;
    let submitted = browser
        .post(format!("{base}/u/signup"))
        .form(&[
            ("email", email),
            ("password", PASSWORD),
            ("csrf", &hidden_field(&html, "csrf")),
            ("authorize_query", &hidden_field(&html, "authorize_query")),
        ])
        .send()
        .await
        .ok()?;
    Some((submitted.status(), ()))
}

/// A mixed-load step: a user created through the Management API; returns its id when
/// acknowledged (201).
pub async fn create_user(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    email: &str,
) -> Option<(StatusCode, Option<String>)> {
    let response = http
        .post(format!("{base}/api/v2/users"))
        .bearer_auth(token)
        .json(&json!({"connection": "Username-Password-Authentication",
                      "email": email, "password": PASSWORD}))
        .send()
        .await
        .ok()?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    Some((status, body["user_id"].as_str().map(str::to_owned)))
}

/// Whether a user with `email` exists, through the Management API.
pub async fn user_exists(http: &reqwest::Client, base: &str, token: &str, email: &str) -> bool {
    let found: Value = http
        .get(format!("{base}/api/v2/users-by-email"))
        .query(&[("email", email)])
        .bearer_auth(token)
        .send()
        .await
        .expect("users-by-email")
        .json()
        .await
        .expect("users-by-email json");
    found.as_array().is_some_and(|users| !users.is_empty())
}
