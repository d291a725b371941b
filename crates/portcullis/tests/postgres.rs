//! The binary on PostgreSQL (a database of the test process's throwaway cluster).
//!
//! Horizontal scale-out, end to end: two `portcullis serve` processes on one database, with
//! the tenant set up by the CLI.
//!
//! - Two replicas starting together on an empty database create one set of keys.
//! - A browser signs in on replica 1; silent authentication and code redemption work on
//!   replica 2 (sessions and codes live in the database, not in a replica).
//! - 100 codes, each redeemed at both replicas at once: exactly one 200 every time.
//! - 100 refresh tokens outside the reuse interval, each presented at both replicas at once:
//!   exactly one rotates, the other triggers reuse detection, and the winner's successor is
//!   revoked with its family. 100 rounds within the interval: both callers get tokens of the
//!   same family.
//! - A key rotation by the CLI is picked up by both replicas within `cache_refresh_seconds`.
//!
//! Moving a tenant: `export` from SQLite, `import` into PostgreSQL and back, the documents
//! identical, and the moved tenant serving with its old client secret and signing key.

use std::{
    collections::HashMap,
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::Duration,
};

use aws_lc_rs::digest;
use portcullis_core::secrets::{b64url, lookup_hash, random_token};
use portcullis_store::Store;
use portcullis_store_postgres::PgStore;
use reqwest::{redirect::Policy, StatusCode};
use serde_json::Value;

/// The keys a new store publishes: the current and the next key of each of RS256, PS256 and
/// ES256, each published before it signs.
const KEYS_AT_START: usize = 6;
/// After one rotation (of every algorithm's keys): each one's previous key is still published.
const KEYS_AFTER_A_ROTATION: usize = 9;

const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const API: &str = "https://quickstarts/api";
const SPA: &str = "http://localhost:3000";
const PASSWORD: &str = "correct horse battery";
const ROUNDS: usize = 100;

/// How often the replicas reload what they cache of the store.
const REFRESH_SECONDS: u64 = 1;

/// Waits out the refresh bound: a change written to the store behind the replicas' backs (not
/// through their Management API) applies there within it.
async fn replicas_refresh() {
    tokio::time::sleep(Duration::from_millis(REFRESH_SECONDS * 1000 + 500)).await;
}

/// A running `portcullis serve`, stopped by its pid when dropped.
struct Replica {
    child: Child,
    base: String,
}

impl Replica {
    fn start(database_url: &str) -> Replica {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new(env!("CARGO_BIN_EXE_portcullis"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--issuer",
                "http://localhost/",
            ])
            .env("PORTCULLIS_DATABASE_URL", database_url)
            .env("PORTCULLIS_MASTER_KEY", MASTER_KEY)
            .env("PORTCULLIS_DATA_DIR", dir.path())
            .env(
                "PORTCULLIS_CACHE_REFRESH_SECONDS",
                REFRESH_SECONDS.to_string(),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let stderr = child.stderr.take().expect("stderr");
        let (ready, port) = std::sync::mpsc::channel();
        // Reads the log until the ready line, then keeps draining it so that the server never
        // blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listen=http://127.0.0.1:").nth(1) {
                    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = ready.send(port);
                }
            }
        });
        let Ok(port) = port.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve was not ready within 60 s");
        };
        Replica {
            child,
            // `localhost`, so that the browser's cookies go to both replicas, as they would
            // through one load balancer.
            base: format!("http://localhost:{port}"),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
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

/// Runs the CLI on a store (`postgres://...`, or a SQLite data directory); returns its exit
/// status, standard output and standard error.
fn run_cli(store: &str, master_key: &str, args: &[&str]) -> (bool, String, String) {
    let scratch = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    command
        .args(args)
        .arg("--json")
        .env("PORTCULLIS_MASTER_KEY", master_key)
        .stdin(Stdio::null());
    if store.starts_with("postgres://") {
        command
            .env("PORTCULLIS_DATABASE_URL", store)
            .env("PORTCULLIS_DATA_DIR", scratch.path());
    } else {
        command
            .env_remove("PORTCULLIS_DATABASE_URL")
            .env("PORTCULLIS_DATA_DIR", store);
    }
    let output = command.output().expect("run portcullis");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn cli(store: &str, args: &[&str]) -> Value {
    let (ok, stdout, stderr) = run_cli(store, MASTER_KEY, args);
    assert!(ok, "{args:?}: {stderr}");
    serde_json::from_str(&stdout).expect("JSON output")
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .cookie_store(true)
        .build()
        .expect("client")
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .expect("location")
        .to_str()
        .expect("ascii")
        .to_owned()
}

fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("field") + marker.len();
    let end = html[start..].find('"').expect("end quote") + start;
    html[start..end]
        .replace("&amp;", "&")
        .replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .expect("url")
        .query_pairs()
        .into_owned()
        .collect()
}

/// An /authorize URL of the SPA with PKCE; returns it and the verifier.
fn authorize(replica: &Replica, client_id: &str, prompt_none: bool) -> (String, String) {
    let verifier = random_token(32);
    let challenge = b64url(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref());
    let mut url = url::Url::parse(&replica.url("/authorize")).expect("url");
    url.query_pairs_mut().extend_pairs([
        ("client_id", client_id),
        ("redirect_uri", SPA),
        ("response_type", "code"),
        ("scope", "openid profile offline_access read:messages"),
        ("audience", API),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("state", "s"),
    ]);
    if prompt_none {
        url.query_pairs_mut().append_pair("prompt", "none");
    }
    (url.to_string(), verifier)
}

/// Silent authentication at `replica` with the browser's session: a fresh code.
async fn silent_code(
    browser: &reqwest::Client,
    replica: &Replica,
    client_id: &str,
) -> (String, String) {
    let (url, verifier) = authorize(replica, client_id, true);
    let response = browser.get(url).send().await.expect("authorize");
    assert_eq!(response.status(), StatusCode::FOUND);
    let params = query(&location(&response));
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("no code: {params:?}"))
        .clone();
    (code, verifier)
}

async fn redeem(
    http: &reqwest::Client,
    replica: &Replica,
    client_id: &str,
    code: &str,
    verifier: &str,
) -> reqwest::Response {
    http.post(replica.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", code),
            ("code_verifier", verifier),
            ("redirect_uri", SPA),
        ])
        .send()
        .await
        .expect("token")
}

async fn refresh(
    http: &reqwest::Client,
    replica: &Replica,
    client_id: &str,
    token: &str,
) -> reqwest::Response {
    http.post(replica.url("/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("refresh_token", token),
        ])
        .send()
        .await
        .expect("refresh")
}

async fn jwks(http: &reqwest::Client, replica: &Replica) -> Value {
    http.get(replica.url("/.well-known/jwks.json"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("jwks json")
}

fn kid_of(token: &str) -> String {
    let header = token.split('.').next().expect("header");
    let bytes = base64_url_decode(header);
    let value: Value = serde_json::from_slice(&bytes).expect("header json");
    value["kid"].as_str().expect("kid").to_owned()
}

fn base64_url_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url")
}

async fn family_of(store: &dyn Store, refresh_token: &str) -> String {
    store
        .refresh_token_by_hash(&lookup_hash(refresh_token))
        .await
        .expect("lookup")
        .expect("stored")
        .family_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_postgres_share_everything_and_let_the_database_decide_races() {
    let database_url = portcullis_testkit::postgres::fresh_database().await;

    // Two replicas starting together on an empty database: one set of keys.
    let (one, two) = {
        let url = database_url.clone();
        let first = std::thread::spawn(move || Replica::start(&url));
        let second = Replica::start(&database_url);
        (first.join().expect("replica 1"), second)
    };
    let store: Arc<dyn Store> = Arc::new(PgStore::connect(&database_url).await.expect("store"));
    assert_eq!(store.live_keys().await.expect("keys").len(), KEYS_AT_START);
    let http = reqwest::Client::new();
    let jwks_one = jwks(&http, &one).await;
    assert_eq!(
        jwks_one["keys"].as_array().expect("keys").len(),
        KEYS_AT_START
    );
    assert_eq!(
        jwks_one,
        jwks(&http, &two).await,
        "both publish the same keys"
    );

    // The tenant, set up by the CLI on the same database.
    cli(
        &database_url,
        &[
            "apis",
            "create",
            "--name",
            "Quickstart API",
            "--identifier",
            API,
            "--scopes",
            "read:messages",
            "--allow-offline-access",
        ],
    );
    let spa = cli(
        &database_url,
        &[
            "clients",
            "create",
            "--name",
            "SPA",
            "--type",
            "spa",
            "--callbacks",
            SPA,
            "--web-origins",
            SPA,
        ],
    );
    let client_id = spa["client_id"].as_str().expect("client_id").to_owned();
    cli(
        &database_url,
        &[
            "users",
            "create",
            "--email",
            "jane@example.com",
            "--password",
            PASSWORD,
        ],
    );

    // Sign in on replica 1 through the hosted login page.
    let jane = browser();
    let (url, verifier) = authorize(&one, &client_id, false);
    let to_login = jane.get(url).send().await.expect("authorize");
    assert_eq!(to_login.status(), StatusCode::FOUND);
    let login_path = location(&to_login);
    assert!(login_path.starts_with("/u/login?"), "{login_path}");
    let page = jane
        .get(one.url(&login_path))
        .send()
        .await
        .expect("login page");
    let html = page.text().await.expect("html");
    let submitted = jane
        .post(one.url("/u/login"))
        .form(&[
            ("email", "jane@example.com"),
            ("password", PASSWORD),
            ("csrf", &hidden_field(&html, "csrf")),
            ("authorize_query", &hidden_field(&html, "authorize_query")),
        ])
        .send()
        .await
        .expect("submit");
    assert_eq!(submitted.status(), StatusCode::SEE_OTHER);
    let back = jane
        .get(one.url(&location(&submitted)))
        .send()
        .await
        .expect("authorize again");
    let code = query(&location(&back))["code"].clone();
    // The code from replica 1 is redeemed at replica 2.
    let tokens = redeem(&http, &two, &client_id, &code, &verifier).await;
    assert_eq!(tokens.status(), StatusCode::OK);
    // Silent authentication at replica 2 finds the session made at replica 1.
    let (code, verifier) = silent_code(&jane, &two, &client_id).await;
    let tokens: Value = redeem(&http, &two, &client_id, &code, &verifier)
        .await
        .json()
        .await
        .expect("json");
    assert!(tokens["refresh_token"].is_string(), "{tokens}");

    // Codes: redeemed at both replicas at once, exactly one winner every time.
    for round in 0..ROUNDS {
        let (code, verifier) = silent_code(&jane, &one, &client_id).await;
        let (a, b) = tokio::join!(
            redeem(&http, &one, &client_id, &code, &verifier),
            redeem(&http, &two, &client_id, &code, &verifier)
        );
        let mut statuses = [a.status(), b.status()];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::BAD_REQUEST],
            "code round {round}"
        );
    }

    // Refresh outside the reuse interval: one rotation, one reuse detection, family revoked.
    let mut policy = store
        .client_by_id(&client_id)
        .await
        .expect("client")
        .expect("found");
    policy.refresh_token.leeway = 0;
    store.update_client(&policy).await.expect("update");
    replicas_refresh().await;
    for round in 0..ROUNDS {
        let (code, verifier) = silent_code(&jane, &two, &client_id).await;
        let first: Value = redeem(&http, &one, &client_id, &code, &verifier)
            .await
            .json()
            .await
            .expect("json");
        let token = first["refresh_token"].as_str().expect("refresh token");
        let (a, b) = tokio::join!(
            refresh(&http, &one, &client_id, token),
            refresh(&http, &two, &client_id, token)
        );
        let (a_status, b_status) = (a.status(), b.status());
        let (a, b): (Value, Value) = (a.json().await.expect("a"), b.json().await.expect("b"));
        let (winner, loser) = match (a_status, b_status) {
            (StatusCode::OK, StatusCode::BAD_REQUEST) => (a, b),
            (StatusCode::BAD_REQUEST, StatusCode::OK) => (b, a),
            other => panic!("refresh round {round}: {other:?} {a} {b}"),
        };
        assert_eq!(loser["error"], "invalid_grant", "round {round}");
        let successor = winner["refresh_token"].as_str().expect("rotated");
        let stored = store
            .refresh_token_by_hash(&lookup_hash(successor))
            .await
            .expect("lookup")
            .expect("stored");
        assert!(
            stored.revoked,
            "round {round}: reuse detection revoked the winner's successor too"
        );
    }

    // Refresh within the reuse interval: both callers get tokens of the same family.
    policy.refresh_token.leeway = 30;
    store.update_client(&policy).await.expect("update");
    replicas_refresh().await;
    let (code, verifier) = silent_code(&jane, &one, &client_id).await;
    let first: Value = redeem(&http, &two, &client_id, &code, &verifier)
        .await
        .json()
        .await
        .expect("json");
    let mut token = first["refresh_token"].as_str().expect("token").to_owned();
    let family = family_of(store.as_ref(), &token).await;
    for round in 0..ROUNDS {
        let (a, b) = tokio::join!(
            refresh(&http, &one, &client_id, &token),
            refresh(&http, &two, &client_id, &token)
        );
        assert_eq!(
            (a.status(), b.status()),
            (StatusCode::OK, StatusCode::OK),
            "round {round}"
        );
        let (a, b): (Value, Value) = (a.json().await.expect("a"), b.json().await.expect("b"));
        let (a, b) = (
            a["refresh_token"].as_str().expect("a").to_owned(),
            b["refresh_token"].as_str().expect("b").to_owned(),
        );
        assert_ne!(a, b);
        assert_eq!(family_of(store.as_ref(), &a).await, family, "round {round}");
        assert_eq!(family_of(store.as_ref(), &b).await, family, "round {round}");
        token = a;
    }

    // A rotation by the CLI reaches both replicas within their cache refresh interval.
    let rotated = cli(&database_url, &["keys", "rotate"]);
    let new_kid = rotated["kid"].as_str().expect("kid").to_owned();
    for replica in [&one, &two] {
        let mut seen = false;
        for _ in 0..100 {
            let keys = jwks(&http, replica).await;
            if keys["keys"][0]["kid"] == new_kid.as_str()
                && keys["keys"].as_array().map(Vec::len) == Some(KEYS_AFTER_A_ROTATION)
            {
                seen = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(seen, "{} publishes the rotated key first", replica.base);
        let (code, verifier) = silent_code(&jane, replica, &client_id).await;
        let tokens: Value = redeem(&http, replica, &client_id, &code, &verifier)
            .await
            .json()
            .await
            .expect("json");
        let access = tokens["access_token"].as_str().expect("access token");
        assert_eq!(
            kid_of(access),
            new_kid,
            "{} signs with the new key",
            replica.base
        );
    }
    drop((one, two));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_from_sqlite_import_into_postgres_and_back() {
    let sqlite = tempfile::tempdir().expect("temp dir");
    let sqlite_dir = sqlite.path().to_str().expect("utf-8 path").to_owned();
    cli(
        &sqlite_dir,
        &[
            "apis",
            "create",
            "--name",
            "API",
            "--identifier",
            API,
            "--scopes",
            "read:messages",
        ],
    );
    let m2m = cli(
        &sqlite_dir,
        &[
            "clients",
            "create",
            "--name",
            "Worker",
            "--type",
            "m2m",
            "--grant",
            &format!("{API}=read:messages"),
        ],
    );
    let client_id = m2m["client_id"].as_str().expect("client_id").to_owned();
    let secret = m2m["client_secret"].as_str().expect("secret").to_owned();
    cli(
        &sqlite_dir,
        &[
            "clients",
            "create",
            "--name",
            "SPA",
            "--type",
            "spa",
            "--callbacks",
            SPA,
        ],
    );
    cli(
        &sqlite_dir,
        &[
            "users",
            "create",
            "--email",
            "Jane@Example.com",
            "--password",
            PASSWORD,
        ],
    );
    cli(&sqlite_dir, &["keys", "rotate"]);
    let keys = cli(&sqlite_dir, &["keys", "list"]);
    let current_kid = keys
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["state"] == "current" && k["alg"] == "RS256")
        .expect("current")["kid"]
        .as_str()
        .expect("kid")
        .to_owned();

    let exported = sqlite.path().join("tenant.json");
    let exported_path = exported.to_str().expect("utf-8 path");
    let (ok, _, stderr) = run_cli(
        &sqlite_dir,
        MASTER_KEY,
        &["export", "--output", exported_path],
    );
    assert!(ok, "{stderr}");
    let document: Value =
        serde_json::from_str(&std::fs::read_to_string(&exported).expect("read")).expect("json");
    assert_eq!(document["format"], "portcullis-tenant");
    assert_eq!(
        document["signing_keys"].as_array().map(Vec::len),
        Some(KEYS_AFTER_A_ROTATION)
    );
    assert_eq!(document["users"][0]["email"], "Jane@Example.com");
    assert!(
        !document.to_string().contains(&secret),
        "the client secret is exported only as its hash"
    );

    // Into PostgreSQL: a different master key is refused before anything is written.
    let postgres = portcullis_testkit::postgres::fresh_database().await;
    let (ok, _, stderr) = run_cli(&postgres, "", &["import", exported_path]);
    assert!(!ok);
    assert!(
        stderr.contains("PORTCULLIS_MASTER_KEY is required with a PostgreSQL database"),
        "{stderr}"
    );
    let other_key = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
    let (ok, _, stderr) = run_cli(&postgres, other_key, &["import", exported_path]);
    assert!(!ok);
    assert!(
        stderr.contains("do not open with this master key"),
        "{stderr}"
    );
    let imported = cli(&postgres, &["import", exported_path]);
    assert_eq!(imported["users"], 1);
    assert_eq!(imported["signing_keys"], KEYS_AFTER_A_ROTATION);
    let (ok, _, stderr) = run_cli(&postgres, MASTER_KEY, &["import", exported_path]);
    assert!(!ok, "a second import into the same store is refused");
    assert!(stderr.contains("not empty"), "{stderr}");
    let (ok, from_postgres, stderr) = run_cli(&postgres, MASTER_KEY, &["export"]);
    assert!(ok, "{stderr}");
    let from_postgres: Value = serde_json::from_str(&from_postgres).expect("json");
    // Keys made in the same second have no order between them: compare the key sets by kid.
    let by_kid = |mut document: Value| {
        if let Some(keys) = document["signing_keys"].as_array_mut() {
            keys.sort_by(|a, b| a["kid"].as_str().cmp(&b["kid"].as_str()));
        }
        document
    };
    assert_eq!(
        by_kid(from_postgres.clone()),
        by_kid(document.clone()),
        "PostgreSQL holds exactly what SQLite held"
    );

    // And back into a new SQLite store.
    let back = tempfile::tempdir().expect("temp dir");
    let back_dir = back.path().to_str().expect("utf-8 path").to_owned();
    let postgres_export = back.path().join("from-postgres.json");
    std::fs::write(&postgres_export, from_postgres.to_string()).expect("write");
    cli(
        &back_dir,
        &["import", postgres_export.to_str().expect("utf-8 path")],
    );
    let (ok, round_trip, stderr) = run_cli(&back_dir, MASTER_KEY, &["export"]);
    assert!(ok, "{stderr}");
    assert_eq!(
        serde_json::from_str::<Value>(&round_trip).expect("json"),
        document
    );

    // The moved tenant serves: the old secret authenticates, the old current key signs.
    let replica = Replica::start(&postgres);
    let http = reqwest::Client::new();
    let response = http
        .post(replica.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
            ("audience", API),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        kid_of(body["access_token"].as_str().expect("token")),
        current_kid
    );
    assert_eq!(
        jwks(&http, &replica).await["keys"].as_array().map(Vec::len),
        Some(KEYS_AFTER_A_ROTATION)
    );
}
