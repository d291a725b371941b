//! The `portcullis` binary, driven as a user drives it: zero-configuration `serve`, the
//! administrative commands with `--json`, and a key rotation a running server picks up.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::Value;

fn portcullis(dir: &Path, args: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(args)
        .arg("--json")
        .current_dir(dir)
        .output()
        .expect("run portcullis");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON output")
}

/// A running `portcullis serve`, killed if the test ends without stopping it (a failed
/// assertion must not leave a server behind).
struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts `portcullis serve` with no configuration but a free port; returns it and its URL.
fn serve(dir: &Path) -> (Serving, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("server exited before it was ready")
            .expect("read");
        if let Some(rest) = line.split("listen=").nth(1) {
            break rest.split_whitespace().next().expect("address").to_owned();
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Serving(child), url)
}

fn stop(mut serving: Serving) {
    let child = &mut serving.0;
    // SIGTERM: a graceful shutdown, which must end the process by itself.
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    for _ in 0..100 {
        if let Ok(Some(status)) = child.try_wait() {
            assert!(status.success(), "serve exited with {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("serve did not stop on SIGTERM");
}

#[test]
fn an_application_is_made_third_party_and_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = portcullis(
        dir.path(),
        &[
            "clients",
            "create",
            "--name",
            "Partner",
            "--type",
            "regular_web",
            "--callbacks",
            "https://partner.example/callback",
        ],
    );
    assert_eq!(app["is_first_party"], true);
    let id = app["client_id"].as_str().expect("client_id");
    let third = portcullis(
        dir.path(),
        &["clients", "update", id, "--first-party", "false"],
    );
    assert_eq!(third["is_first_party"], false);
    let first = portcullis(
        dir.path(),
        &["clients", "update", id, "--first-party", "true"],
    );
    assert_eq!(first["is_first_party"], true);
}

#[test]
fn a_users_second_factors_are_listed_and_reset() {
    let dir = tempfile::tempdir().expect("temp dir");
    let user = portcullis(
        dir.path(),
        &[
            "users",
            "create",
            "--email",
            "mfa@example.com",
            "--password",
            "Correct-Horse-Battery-7",
        ],
    );
    let id = user["user_id"].as_str().expect("user_id");
    // Enrolling takes a login; a user who has not logged in has no factor yet.
    let factors = portcullis(dir.path(), &["users", "factors", "mfa@example.com"]);
    assert_eq!(factors, serde_json::json!([]));
    let reset = portcullis(dir.path(), &["users", "reset-mfa", id]);
    assert_eq!(reset, serde_json::json!({ "user_id": id, "deleted": 0 }));
    let unknown = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["users", "factors", "nobody@example.com"])
        .current_dir(dir.path())
        .output()
        .expect("run portcullis");
    assert!(!unknown.status.success(), "an unknown user is an error");
}

#[test]
fn the_database_connection_sets_the_password_policy_of_users() {
    let dir = tempfile::tempdir().expect("temp dir");
    let shown = portcullis(dir.path(), &["connection", "show"]);
    assert_eq!(shown["name"], "Username-Password-Authentication");
    assert_eq!(shown["options"]["passwordPolicy"], "low");
    let updated = portcullis(
        dir.path(),
        &[
            "connection",
            "update",
            "--password-policy",
            "fair",
            "--min-length",
            "10",
            "--disable-signup",
            "true",
            "--history",
            "3",
        ],
    );
    assert_eq!(updated["options"]["passwordPolicy"], "fair");
    assert_eq!(
        updated["options"]["password_complexity_options"]["min_length"],
        10
    );
    assert_eq!(updated["options"]["disable_signup"], true);
    assert_eq!(updated["options"]["password_history"]["size"], 3);
    let weak = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args([
            "users",
            "create",
            "--email",
            "w@example.com",
            "--password",
            "lowercase-only",
        ])
        .current_dir(dir.path())
        .output()
        .expect("run portcullis");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("Password is too weak"));
    let created = portcullis(
        dir.path(),
        &[
            "users",
            "create",
            "--email",
            "s@example.com",
            "--password",
            "Strong-enough-1",
        ],
    );
    assert_eq!(created["email"], "s@example.com");
}

#[tokio::test]
async fn zero_configuration_serve_and_the_admin_commands() {
    let dir = tempfile::tempdir().expect("temp dir");
    let api = portcullis(
        dir.path(),
        &[
            "apis",
            "create",
            "--name",
            "Quickstart API",
            "--identifier",
            "https://quickstarts/api",
            "--scopes",
            "read:messages",
        ],
    );
    assert_eq!(api["identifier"], "https://quickstarts/api");
    assert_eq!(api["signing_alg"], "RS256");
    assert_eq!(api["scopes"][0]["value"], "read:messages");
    let m2m = portcullis(
        dir.path(),
        &[
            "clients",
            "create",
            "--name",
            "Worker",
            "--type",
            "m2m",
            "--grant",
            "https://quickstarts/api=read:messages",
        ],
    );
    let client_id = m2m["client_id"].as_str().expect("client_id").to_owned();
    let secret = m2m["client_secret"]
        .as_str()
        .expect("client_secret")
        .to_owned();
    assert_eq!(
        m2m["grant_types"],
        serde_json::json!(["client_credentials"])
    );
    let spa = portcullis(
        dir.path(),
        &[
            "clients",
            "create",
            "--name",
            "SPA",
            "--type",
            "spa",
            "--callbacks",
            "http://localhost:3000",
        ],
    );
    assert!(spa.get("client_secret").is_none());
    assert_eq!(
        spa["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    let user = portcullis(
        dir.path(),
        &[
            "users",
            "create",
            "--email",
            "jane@example.com",
            "--password",
            "a long password",
        ],
    );
    assert!(user["user_id"].as_str().unwrap().starts_with("auth0|"));
    assert!(
        dir.path().join("data/portcullis.db").exists(),
        "the default data directory is ./data"
    );

    let (child, url) = serve(dir.path());
    let http = reqwest::Client::new();
    let discovery: Value = http
        .get(format!("{url}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        discovery["issuer"], "http://localhost:4000/",
        "the default issuer"
    );
    let jwks: Value = http
        .get(format!("{url}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Every algorithm's current and next keys are published from the start; the rotation
    // below is RS256's.
    let rs256_kids = |jwks: &Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|key| key["alg"] == "RS256")
            .map(|key| key["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(rs256_kids(&jwks).len(), 2);
    let token = http
        .post(format!("{url}/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
            ("audience", "https://quickstarts/api"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);

    // A rotation by the CLI reaches the running server.
    let rotated = portcullis(dir.path(), &["keys", "rotate"]);
    let new_kid = rotated["kid"].as_str().unwrap().to_owned();
    let mut published = 0;
    for _ in 0..80 {
        let jwks: Value = http
            .get(format!("{url}/.well-known/jwks.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let kids = rs256_kids(&jwks);
        published = kids.len();
        if published == 3 && kids[0] == new_kid {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(published, 3, "previous, current and next are published");

    // The "Test" tab in the shell: a token through the API's test application.
    let minted = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["token", "--audience", "https://quickstarts/api", "--issuer"])
        .arg(format!("{url}/"))
        .current_dir(dir.path())
        .output()
        .expect("run token");
    let stderr = String::from_utf8_lossy(&minted.stderr);
    assert!(minted.status.success(), "{stderr}");
    let minted_token = String::from_utf8_lossy(&minted.stdout).trim().to_owned();
    assert_eq!(minted_token.split('.').count(), 3, "a JWT");
    assert!(stderr.contains(&format!(
        "curl --request GET --url https://quickstarts/api --header 'authorization: Bearer {minted_token}'"
    )));
    assert!(stderr.contains("scope \"read:messages\""), "{stderr}");
    stop(child);
}

/// RBAC and access rules from the shell, and the audit log recording each change.
#[test]
fn access_administration_commands_and_the_audit_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let api = "https://quickstarts/api";
    portcullis(
        dir.path(),
        &["apis", "create", "--name", "API", "--identifier", api],
    );
    let updated = portcullis(
        dir.path(),
        &[
            "apis",
            "scopes",
            "add",
            api,
            "read:messages",
            "--description",
            "Read",
        ],
    );
    assert_eq!(updated["scopes"][0]["value"], "read:messages");
    let updated = portcullis(
        dir.path(),
        &[
            "apis",
            "update",
            api,
            "--enforce-policies",
            "true",
            "--token-dialect",
            "access_token_authz",
        ],
    );
    assert_eq!(updated["enforce_policies"], true);
    assert_eq!(updated["token_dialect"], "access_token_authz");
    let user = portcullis(
        dir.path(),
        &[
            "users",
            "create",
            "--email",
            "r@example.com",
            "--password",
            "long enough pw",
        ],
    );
    let role = portcullis(dir.path(), &["roles", "create", "--name", "Reader"]);
    let role_id = role["id"].as_str().expect("role id");
    let output = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["roles", "permissions", "add", role_id])
        .arg(format!("{api}=read:messages"))
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert!(output.status.success());
    let output = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["roles", "assign", role_id, "r@example.com"])
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert!(output.status.success());
    let roles = portcullis(dir.path(), &["users", "roles", "r@example.com"]);
    assert_eq!(roles[0]["id"], role_id);
    let permissions = portcullis(dir.path(), &["roles", "permissions", "list", role_id]);
    assert_eq!(permissions[0]["permission_name"], "read:messages");
    // A rule naming an unknown role is refused with a clear message.
    let refused = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["apis", "rules", "add", api, "--scope", "read:messages"])
        .args(["--condition", "has_role:rol_nope"])
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no role has the id"));
    let rule = portcullis(
        dir.path(),
        &[
            "apis",
            "rules",
            "add",
            api,
            "--scope",
            "*",
            "--condition",
            "email_verified",
        ],
    );
    assert_eq!(rule["condition"]["kind"], "email_verified");
    let blocked = portcullis(dir.path(), &["users", "block", "r@example.com"]);
    assert_eq!(blocked["blocked"], true);
    assert_eq!(blocked["user_id"], user["user_id"]);

    let updated = portcullis(
        dir.path(),
        &[
            "users",
            "update",
            "r@example.com",
            "--verified",
            "true",
            "--name",
            "R",
        ],
    );
    assert_eq!(
        (updated["email_verified"].clone(), updated["name"].clone()),
        (true.into(), "R".into())
    );

    // Applications: update, rotate a secret, delete.
    let worker = portcullis(
        dir.path(),
        &["clients", "create", "--name", "Worker", "--type", "m2m"],
    );
    let worker_id = worker["client_id"].as_str().expect("client_id");
    let rotated = portcullis(dir.path(), &["clients", "rotate-secret", worker_id]);
    assert_ne!(rotated["client_secret"], worker["client_secret"]);
    assert!(rotated["client_secret"].as_str().expect("new secret").len() >= 32);
    let renamed = portcullis(
        dir.path(),
        &["clients", "update", worker_id, "--name", "Worker 2"],
    );
    assert_eq!(renamed["name"], "Worker 2");
    let output = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["clients", "delete", worker_id])
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert!(output.status.success());
    let clients = portcullis(dir.path(), &["clients", "list"]);
    assert!(clients
        .as_array()
        .expect("array")
        .iter()
        .all(|c| c["client_id"] != worker_id));

    let logs = portcullis(dir.path(), &["logs", "--type", "sapi"]);
    let descriptions: Vec<&str> = logs
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["description"].as_str().unwrap_or_default())
        .collect();
    for expected in [
        "Delete an application",
        "Rotate an application's secret",
        "Update a user",
        "Block a user",
        "Create an access rule",
        "Assign a role",
        "Add permissions to a role",
        "Create a role",
        "Update an API",
        "Add a scope",
    ] {
        assert!(
            descriptions.contains(&expected),
            "{expected} not logged: {descriptions:?}"
        );
    }
}

/// The master key, the SQLite database and an export are readable by their owner only, even
/// when an export replaces a file that was readable by others.
#[cfg(unix)]
#[test]
fn secrets_at_rest_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let status = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .arg("migrate")
        .current_dir(dir.path())
        .output()
        .expect("migrate")
        .status;
    assert!(status.success());
    let export = dir.path().join("tenant.json");
    std::fs::write(&export, "old").unwrap();
    std::fs::set_permissions(&export, std::fs::Permissions::from_mode(0o644)).unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["export", "--output", "tenant.json"])
        .current_dir(dir.path())
        .output()
        .expect("export")
        .status;
    assert!(status.success());
    for file in ["data/master.key", "data/portcullis.db", "tenant.json"] {
        let mode = std::fs::metadata(dir.path().join(file))
            .expect(file)
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}: {:o}", mode & 0o777);
    }
}

/// Resident memory of a process, in KiB (`VmRSS` of /proc/PID/status).
#[cfg(target_os = "linux")]
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// The value of the hidden form field `name` in `html`.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("field") + marker.len();
    let end = start + html[start..].find('"').expect("end quote");
    html[start..end]
        .replace("&amp;", "&")
        .replace("&#x2f;", "/")
}

/// Memory after work: 100 logins (an argon2id check of 19 MiB each) and 1,000 tokens leave
/// the server's resident memory where it was, give or take a few MB (the release figure is
/// the server benchmark's "idle memory after 100 logins and 1,000 tokens").
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_is_given_back_after_logins_and_tokens() {
    let dir = tempfile::tempdir().expect("temp dir");
    let api = "https://quickstarts/api";
    portcullis(
        dir.path(),
        &["apis", "create", "--name", "API", "--identifier", api],
    );
    let grant = format!("{api}=");
    let m2m = portcullis(
        dir.path(),
        &[
            "clients", "create", "--name", "M2M", "--type", "m2m", "--grant", &grant,
        ],
    );
    let spa = portcullis(
        dir.path(),
        &[
            "clients",
            "create",
            "--name",
            "SPA",
            "--type",
            "spa",
            "--callbacks",
            "http://localhost:3000",
        ],
    );
    let password = "correct horse battery";
    portcullis(
        dir.path(),
        &[
            "users",
            "create",
            "--email",
            "m@example.com",
            "--password",
            password,
        ],
    );
    let (child, url) = serve(dir.path());
    let pid = child.0.id();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = resident_kib(pid);

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("client");
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", spa["client_id"].as_str().expect("client_id")),
            ("redirect_uri", "http://localhost:3000"),
            ("response_type", "code"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let page = http
        .get(format!("{url}/u/login?{query}"))
        .send()
        .await
        .expect("login page");
    let html = page.text().await.expect("html");
    let form = [
        ("email", "m@example.com".to_owned()),
        ("password", password.to_owned()),
        ("csrf", hidden(&html, "csrf")),
        ("authorize_query", hidden(&html, "authorize_query")),
    ];
    let token_form = [
        ("grant_type", "client_credentials".to_owned()),
        (
            "client_id",
            m2m["client_id"].as_str().expect("id").to_owned(),
        ),
        (
            "client_secret",
            m2m["client_secret"].as_str().expect("secret").to_owned(),
        ),
        ("audience", api.to_owned()),
    ];
    // Four logins at a time, then eight token requests at a time.
    for (requests, parallel, path, body) in [
        (100, 4, "/u/login", &form),
        (1000, 8, "/oauth/token", &token_form),
    ] {
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..parallel {
            let (http, target, body) = (http.clone(), format!("{url}{path}"), body.clone());
            workers.spawn(async move {
                for _ in 0..requests / parallel {
                    let status = http
                        .post(&target)
                        .form(&body)
                        .send()
                        .await
                        .expect("post")
                        .status();
                    assert!(
                        status.is_success() || status.is_redirection(),
                        "{target}: {status}"
                    );
                }
            });
        }
        while let Some(done) = workers.join_next().await {
            done.expect("worker");
        }
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = resident_kib(pid);
    stop(child);
    assert!(
        after < before + 12 * 1024,
        "resident memory went from {before} KiB to {after} KiB"
    );
}

/// An administrator who lost their authenticator app is reset from the command line: their
/// factors enrolled on the dashboard are deleted, and the password alone signs them in again.
#[tokio::test]
async fn an_administrators_second_factor_is_reset_by_the_cli() {
    let dir = tempfile::tempdir().expect("temp dir");
    let email = "locked-out@example.com";
    let password = "a long admin password";
    portcullis(
        dir.path(),
        &["admins", "create", "--email", email, "--password", password],
    );
    let (child, url) = serve(dir.path());
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let sign_in = |browser: reqwest::Client| {
        let url = url.clone();
        async move {
            let page = browser.get(format!("{url}/dashboard/signin")).send().await;
            let csrf = hidden(&page.expect("page").text().await.expect("html"), "csrf");
            let response = browser
                .post(format!("{url}/dashboard/signin"))
                .form(&[("email", email), ("password", password), ("csrf", &csrf)])
                .send()
                .await
                .expect("sign in");
            response.headers()["location"]
                .to_str()
                .expect("ascii")
                .to_owned()
        }
    };
    assert_eq!(sign_in(browser.clone()).await, "/dashboard/apis");
    let page = browser
        .get(format!("{url}/dashboard/account/mfa"))
        .send()
        .await;
    let html = page.expect("page").text().await.expect("html");
    let marker = "id=\"totp-secret\">";
    let start = html.find(marker).expect("the key") + marker.len();
    let secret = &html[start..start + html[start..].find('<').expect("end")];
    let key = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .expect("base32");
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 0, 30, key, None, "cli".into())
        .expect("totp");
    let code = totp.generate_current().expect("code");
    let confirmed = browser
        .post(format!("{url}/dashboard/account/mfa"))
        .form(&[("code", code.as_str()), ("csrf", &hidden(&html, "csrf"))])
        .send()
        .await
        .expect("confirm");
    assert_eq!(confirmed.status(), reqwest::StatusCode::OK);
    let fresh = || {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    };
    assert_eq!(
        sign_in(fresh()).await,
        "/dashboard/mfa?next=%2Fdashboard%2Fapis"
    );

    let reset = portcullis(dir.path(), &["admins", "reset-mfa", email]);
    assert_eq!(reset, serde_json::json!({ "email": email, "deleted": 2 }));
    assert_eq!(sign_in(fresh()).await, "/dashboard/apis");
    stop(child);
    let unknown = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["admins", "reset-mfa", "nobody@example.com"])
        .current_dir(dir.path())
        .output()
        .expect("run portcullis");
    assert!(
        !unknown.status.success(),
        "an unknown administrator is an error"
    );
}

#[test]
fn users_import_runs_the_import_job() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("users.json");
    std::fs::write(
        &file,
        include_str!("../../portcullis-server/tests/it/fixtures/auth0-users-bcrypt.json"),
    )
    .expect("write");
    let job = portcullis(dir.path(), &["users", "import", "users.json"]);
    assert_eq!(job["type"], "users_import");
    assert_eq!(
        job["summary"],
        serde_json::json!({"failed": 0, "updated": 0, "inserted": 2, "total": 2})
    );
    let again = portcullis(dir.path(), &["users", "import", "users.json"]);
    assert_eq!(
        again["summary"]["failed"], 2,
        "existing users without --upsert"
    );
    let upserted = portcullis(dir.path(), &["users", "import", "--upsert", "users.json"]);
    assert_eq!(upserted["summary"]["updated"], 2);
    let user = portcullis(dir.path(), &["users", "list"]);
    assert_eq!(user.as_array().map(Vec::len), Some(2));
}

#[test]
fn connections_to_other_providers_are_created_changed_and_deleted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = portcullis(
        dir.path(),
        &["clients", "create", "--name", "Web", "--type", "spa"],
    );
    let client_id = app["client_id"].as_str().expect("client_id");
    let created = portcullis(
        dir.path(),
        &[
            "connections",
            "create",
            "--name",
            "corp",
            "--strategy",
            "oidc",
            "--options",
            r#"{"issuer":"https://idp.example.com","client_id":"abc","scope":"openid email"}"#,
            "--client-secret",
            "cli-secret",
            "--enabled-clients",
            client_id,
        ],
    );
    assert_eq!(created["strategy"], "oidc");
    assert_eq!(created["enabled_clients"], serde_json::json!([client_id]));
    assert!(!created.to_string().contains("cli-secret"), "never printed");
    let id = created["id"].as_str().expect("id");

    let listed = portcullis(dir.path(), &["connections", "list"]);
    assert_eq!(listed.as_array().expect("array").len(), 1);
    let shown = portcullis(dir.path(), &["connections", "show", "corp"]);
    assert_eq!(shown["id"], id);

    let updated = portcullis(
        dir.path(),
        &[
            "connections",
            "update",
            id,
            "--display-name",
            "Corporate",
            "--options",
            r#"{"issuer":"https://idp.example.com","client_id":"xyz"}"#,
            "--enabled-clients",
            "",
        ],
    );
    assert_eq!(updated["display_name"], "Corporate");
    assert_eq!(
        updated["options"],
        serde_json::json!({"issuer":"https://idp.example.com","client_id":"xyz"}),
        "the options are replaced whole"
    );
    assert_eq!(updated["enabled_clients"], serde_json::json!([]));

    // The create's rules refuse a bad change.
    let refused = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args([
            "connections",
            "update",
            "corp",
            "--options",
            r#"{"issuer":"http://idp.example.com","client_id":"xyz"}"#,
        ])
        .current_dir(dir.path())
        .output()
        .expect("run portcullis");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("must be an https URL"));

    let deleted = portcullis(dir.path(), &["connections", "delete", "corp"]);
    assert_eq!(deleted["deleted"], true);
    let listed = portcullis(dir.path(), &["connections", "list"]);
    assert_eq!(listed, serde_json::json!([]));
}

#[test]
fn actions_are_deployed_bound_tested_and_deleted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("claims.js");
    std::fs::write(
        &file,
        "exports.onExecutePostLogin = async (event, api) => {\n  \
         api.accessToken.setCustomClaim('https://example.com/plan', event.secrets.PLAN);\n};\n",
    )
    .expect("write the action");
    let file = file.to_str().expect("path");
    let deployed = portcullis(
        dir.path(),
        &[
            "actions",
            "deploy",
            file,
            "--name",
            "plan",
            "--secret",
            "PLAN=gold",
        ],
    );
    assert_eq!(deployed["name"], "plan");
    assert_eq!(deployed["deployed_version"]["number"], 1);
    assert_eq!(deployed["all_changes_deployed"], true);
    assert!(
        !deployed.to_string().contains("gold"),
        "a secret is never printed"
    );

    // Deployed again under the same name: version 2, the secret kept.
    let again = portcullis(dir.path(), &["actions", "deploy", file, "--name", "plan"]);
    assert_eq!(again["id"], deployed["id"]);
    assert_eq!(again["deployed_version"]["number"], 2);
    let tested = portcullis(dir.path(), &["actions", "test", "plan", "--event", "{}"]);
    assert_eq!(
        tested["calls"],
        serde_json::json!([{"api": "access_token_claim", "name": "https://example.com/plan", "value": "gold"}])
    );

    let bound = portcullis(dir.path(), &["actions", "bind", "post-login", "plan"]);
    assert_eq!(bound["bindings"][0]["action_id"], deployed["id"]);
    let listed = portcullis(dir.path(), &["actions", "list"]);
    assert_eq!(listed.as_array().expect("array").len(), 1);

    // Bound, it is deleted only with --force; then the trigger has no binding.
    let refused = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["actions", "delete", "plan"])
        .current_dir(dir.path())
        .output()
        .expect("run portcullis");
    assert!(!refused.status.success());
    portcullis(dir.path(), &["actions", "delete", "plan", "--force"]);
    let bindings = portcullis(dir.path(), &["actions", "bindings", "post-login"]);
    assert_eq!(bindings["bindings"], serde_json::json!([]));
}

/// `portcullis ARGS` without `--json`, with `env` set: its output, successful or not.
fn run_text(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("run portcullis")
}

#[test]
fn an_applications_metadata_is_set_changed_and_removed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = portcullis(
        dir.path(),
        &[
            "clients",
            "create",
            "--name",
            "Tagged",
            "--type",
            "spa",
            "--metadata",
            "region=eu-west",
            "--metadata",
            "tier=gold",
            "--metadata",
            "expr=a=b",
        ],
    );
    assert_eq!(
        app["client_metadata"],
        serde_json::json!({"region": "eu-west", "tier": "gold", "expr": "a=b"})
    );
    let id = app["client_id"].as_str().expect("client_id");
    let changed = portcullis(
        dir.path(),
        &[
            "clients",
            "update",
            id,
            "--metadata",
            "region=us-east",
            "--remove-metadata",
            "tier",
            "--metadata",
            "empty=",
        ],
    );
    assert_eq!(
        changed["client_metadata"],
        serde_json::json!({"region": "us-east", "expr": "a=b", "empty": ""})
    );
    // Other changes keep it.
    let renamed = portcullis(dir.path(), &["clients", "update", id, "--name", "Renamed"]);
    assert_eq!(renamed["client_metadata"], changed["client_metadata"]);

    // Shown in the text output, one key a line.
    let text = run_text(
        dir.path(),
        &["clients", "update", id, "--remove-metadata", "empty"],
        &[],
    );
    assert!(text.status.success());
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("client_metadata.region: us-east\n")
            && stdout.contains("client_metadata.expr: a=b\n")
            && !stdout.contains("empty"),
        "{stdout}"
    );

    // Refused: core's rule, and what the shell typed wrong. Nothing changes.
    let long = format!("k={}", "x".repeat(256));
    for (args, message) in [
        (
            vec!["--metadata", "dot.ted=v"],
            "must be 1 to 255 letters, digits, spaces",
        ),
        (
            vec!["--metadata", long.as_str()],
            "client_metadata.k must be a string of at most 255 characters",
        ),
        (vec!["--metadata", "novalue"], "--metadata is KEY=VALUE"),
        (
            vec!["--metadata", "region=x", "--remove-metadata", "region"],
            "both set and removed",
        ),
    ] {
        let mut full = vec!["clients", "update", id];
        full.extend(args);
        let output = run_text(dir.path(), &full, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{full:?}");
        assert!(stderr.contains(message), "{full:?}: {stderr}");
    }
    let many: Vec<String> = (0..9).map(|n| format!("k{n}=v")).collect();
    let mut full = vec!["clients", "update", id];
    for pair in &many {
        full.extend(["--metadata", pair.as_str()]);
    }
    let output = run_text(dir.path(), &full, &[]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("at most 10 properties"),
        "{output:?}"
    );
    let list = portcullis(dir.path(), &["clients", "list"]);
    let stored = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == id)
        .expect("listed");
    assert_eq!(
        stored["client_metadata"],
        serde_json::json!({"region": "us-east", "expr": "a=b"})
    );
}

/// A real SMTP server (mailin) on 127.0.0.1 that keeps what it receives.
mod sink {
    use std::{
        net::TcpListener,
        sync::{Arc, Mutex},
    };

    use mailin_embedded::{response, Handler, Response, Server, SslConfig};

    /// What the sink received: each message's recipients and its raw text.
    pub type Received = Arc<Mutex<Vec<(Vec<String>, String)>>>;

    #[derive(Clone, Default)]
    pub struct Session {
        pub received: Received,
        current: Option<(Vec<String>, Vec<u8>)>,
    }

    impl Handler for Session {
        fn data_start(&mut self, _: &str, _: &str, _: bool, to: &[String]) -> Response {
            self.current = Some((to.to_vec(), Vec::new()));
            response::OK
        }

        fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
            if let Some((_, data)) = &mut self.current {
                data.extend_from_slice(buf);
            }
            Ok(())
        }

        fn data_end(&mut self) -> Response {
            if let Some((to, data)) = self.current.take() {
                let text = String::from_utf8_lossy(&data).into_owned();
                self.received.lock().unwrap().push((to, text));
            }
            response::OK
        }
    }

    /// Starts the sink; returns its port and what it receives (recipients, raw message).
    pub fn start() -> (u16, Received) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let session = Session::default();
        let received = session.received.clone();
        let mut server = Server::new(session);
        server
            .with_name("sink.test")
            .with_ssl(SslConfig::None)
            .expect("no TLS")
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        (port, received)
    }
}

#[test]
fn users_import_sends_the_completion_email_when_asked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (port, received) = sink::start();
    let smtp = format!("smtp://127.0.0.1:{port}?tls=none");
    let env = [("PORTCULLIS_SMTP_URL", smtp.as_str())];
    for email in ["owner@example.com", "second@example.com"] {
        portcullis(
            dir.path(),
            &[
                "admins",
                "create",
                "--email",
                email,
                "--password",
                "An-admin-Pa55word",
            ],
        );
    }
    let file = dir.path().join("users.json");
    std::fs::write(
        &file,
        r#"[{"email": "one@example.com"}, {"email": "two@example.com"}, {"email": "bad"}]"#,
    )
    .expect("write");

    // Without the flag, nobody is told, even with an SMTP server.
    let quiet = run_text(dir.path(), &["users", "import", "users.json"], &env);
    assert!(quiet.status.success(), "{quiet:?}");

    let output = run_text(
        dir.path(),
        &[
            "users",
            "import",
            "--upsert",
            "--send-completion-email",
            "users.json",
            "--json",
        ],
        &env,
    );
    assert!(output.status.success(), "{output:?}");
    let job: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(job["send_completion_email"], true);
    assert_eq!(job["upsert"], true);
    let job_id = job["id"].as_str().expect("id");
    // Delivered before the command ended: one message per administrator, for this job only.
    let messages = received.lock().unwrap().clone();
    let mut recipients: Vec<String> = messages.iter().map(|(to, _)| to.join(",")).collect();
    recipients.sort_unstable();
    assert_eq!(recipients, ["owner@example.com", "second@example.com"]);
    for (_, message) in &messages {
        // The header as sent, unfolded.
        let headers = message.replace("\r\n ", " ");
        assert!(
            headers.contains(&format!(
                "Subject: Users import {job_id} completed: 0 inserted, 2 updated, 1 failed"
            )),
            "{message}"
        );
    }

    // Without an SMTP server the messages stay in the outbox, and the command says so.
    let kept = run_text(
        dir.path(),
        &["users", "import", "--send-completion-email", "users.json"],
        &[],
    );
    assert!(kept.status.success(), "{kept:?}");
    let stdout = String::from_utf8_lossy(&kept.stdout);
    assert!(stdout.contains("kept in the outbox"), "{stdout}");
    assert_eq!(received.lock().unwrap().len(), 2, "nothing more was sent");
}
