//! `/api/v2/jobs`: bulk user import in Auth0's format (with bcrypt hashes made by a reference
//! implementation, then a login with the original password through the hosted form), the
//! job's errors per row, and exports with their signed download link.

use reqwest::{multipart, StatusCode};
use serde_json::{json, Value};

use crate::{helpers::*, management_support::*};

mod hashes;

/// Users in Auth0's export format; `scripts/make-import-fixture.sh` made their hashes with
/// Python's `bcrypt` (one `$2a$`, one `$2b$`) from these passwords.
const FIXTURE: &str = include_str!("fixtures/auth0-users-bcrypt.json");
const ADA_PASSWORD: &str = "Analytical-Engine-1843";
const GRACE_PASSWORD: &str = "Compiler-A0-1952";

impl Mgmt {
    pub(crate) async fn connection_id(&self) -> String {
        let (_, connections) = self.get("/connections").await;
        connections[0]["id"].as_str().unwrap().to_owned()
    }

    /// Posts an import form; `file` is the `users` part.
    pub(crate) async fn import(
        &self,
        file: Vec<u8>,
        fields: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut form = multipart::Form::new().part(
            "users",
            multipart::Part::bytes(file)
                .file_name("users.json")
                .mime_str("application/json")
                .unwrap(),
        );
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        let response = self
            .app
            .browser
            .post(self.url("/jobs/users-imports"))
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

async fn stored_hash(app: &TestApp, email: &str) -> String {
    app.store
        .user_by_email(email)
        .await
        .unwrap()
        .expect("user")
        .password_hash
}

#[tokio::test]
async fn auth0_bcrypt_export_imports_and_signs_in_with_the_original_password() {
    let mgmt = spawn_mgmt().await;
    let connection_id = mgmt.connection_id().await;
    let (status, job) = mgmt
        .import(
            FIXTURE.as_bytes().to_vec(),
            &[
                ("connection_id", &connection_id),
                ("external_id", "batch-1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(job["type"], "users_import");
    assert_eq!(job["status"], "completed");
    assert_eq!(job["connection_id"], connection_id.as_str());
    assert_eq!(job["external_id"], "batch-1");
    let id = job["id"].as_str().unwrap();
    assert!(id.starts_with("job_"));

    let (status, read) = mgmt.get(&format!("/jobs/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        read["summary"],
        json!({"failed": 0, "updated": 0, "inserted": 2, "total": 2})
    );
    let (status, errors) = mgmt.get(&format!("/jobs/{id}/errors")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{errors}");

    // The imported profile, as the Management API shows it.
    let (_, ada) = mgmt
        .get(&format!(
            "/users/{}",
            encode("auth0|5f7c8ec7c33c6c004bbafe82")
        ))
        .await;
    assert_eq!(ada["email"], "ada@example.com");
    assert_eq!(ada["email_verified"], true);
    assert_eq!(ada["name"], "Ada Lovelace");
    assert_eq!(ada["app_metadata"]["plan"], "gold");
    assert_eq!(ada["user_metadata"]["theme"], "dark");
    let (status, _) = mgmt
        .get(&format!(
            "/users/{}",
            encode("auth0|5f7c8ec7c33c6c004bbafe83")
        ))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "an id without its prefix gets auth0|"
    );

    let app = &mgmt.app;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    for (email, password, prefix) in [
        ("ada@example.com", ADA_PASSWORD, "$2a$"),
        ("grace@example.com", GRACE_PASSWORD, "$2b$"),
    ] {
        assert!(stored_hash(app, email).await.starts_with(prefix));
        // A wrong password is refused with the imported hash.
        let (_, challenge) = pkce();
        let url = app.authorize_url(
            &spa,
            &[
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        );
        let refused = app
            .login_via_form(&browser(), &url, email, "wrong-password")
            .await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "the form again");
        assert!(stored_hash(app, email).await.starts_with(prefix));

        let browser = browser_signed_in(app, &spa, email, password).await;
        drop(browser);
        let upgraded = stored_hash(app, email).await;
        assert!(upgraded.starts_with("$argon2id$"), "{email}: rehashed");
        // The new hash holds the same password.
        let browser = browser_signed_in(app, &spa, email, password).await;
        drop(browser);
        assert_eq!(stored_hash(app, email).await, upgraded, "rehashed once");
    }
}

/// Signs in through the hosted form and checks the code gives tokens.
async fn browser_signed_in(
    app: &TestApp,
    spa: &Spa,
    email: &str,
    password: &str,
) -> reqwest::Client {
    let browser = browser();
    let (verifier, challenge) = pkce();
    let url = app.authorize_url(
        spa,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let response = app.login_via_form(&browser, &url, email, password).await;
    assert_eq!(response.status(), StatusCode::FOUND, "{email} signs in");
    let params = callback_params(&location(&response));
    let tokens = app.exchange_code(spa, &params["code"], &verifier).await;
    assert_eq!(tokens.status(), StatusCode::OK);
    browser
}

#[tokio::test]
async fn invalid_rows_are_reported_and_valid_rows_imported() {
    let mgmt = spawn_mgmt().await;
    let connection_id = mgmt.connection_id().await;
    mgmt.create_user("taken@example.com").await;
    let rows = json!([
        {"email": "ok@example.com", "custom_password_hash": {
            "algorithm": "sha256",
            "hash": {"value": "7054f76f832d2d4e244f73b3f3f4c3702cb60a573ed12441c90f159df560fcb5", "encoding": "hex"},
            "salt": {"value": "keyboardcat", "position": "prefix"}
        }},
        {"email": "not-an-email"},
        {"email": "taken@example.com", "name": "Again"},
        {"email": "extra@example.com", "favourite_colour": "red"},
        {"email": "weak@example.com", "password_hash": "5f4dcc3b5aa765d61d8327deb882cf99"},
        {"email": "hmac@example.com", "custom_password_hash": {
            "algorithm": "hmac-sha256", "hash": {"value": "00", "encoding": "hex", "key": {"value": "k"}}
        }},
        {"name": "No email"}
    ]);
    let (status, job) = mgmt
        .import(
            rows.to_string().into_bytes(),
            &[("connection_id", &connection_id)],
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(
        job["summary"],
        json!({"failed": 6, "updated": 0, "inserted": 1, "total": 7})
    );
    let (status, errors) = mgmt
        .get(&format!("/jobs/{}/errors", job["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, StatusCode::OK);
    let errors = errors.as_array().unwrap();
    assert_eq!(errors.len(), 6);
    let codes: Vec<(&str, &str)> = errors
        .iter()
        .map(|row| {
            (
                row["errors"][0]["code"].as_str().unwrap(),
                row["errors"][0]["path"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("INVALID_FORMAT", "email"),
            ("DUPLICATED_USER", "email"),
            ("OBJECT_ADDITIONAL_PROPERTIES", ""),
            ("INVALID_FORMAT", "password_hash"),
            ("INVALID_FORMAT", "custom_password_hash"),
            ("OBJECT_REQUIRED", "email"),
        ]
    );
    assert_eq!(errors[1]["user"]["email"], "taken@example.com");
    assert!(
        errors[3]["user"].get("password_hash").is_none(),
        "a hash is never echoed"
    );
    // Nothing of a failed row was written; the taken user kept its name.
    assert!(mgmt
        .app
        .store
        .user_by_email("extra@example.com")
        .await
        .unwrap()
        .is_none());
    let taken = mgmt
        .app
        .store
        .user_by_email("taken@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(taken.name, "Again");

    // The salted SHA-256 (Auth0's documented example, password "hello") signs in.
    let app = &mgmt.app;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    browser_signed_in(app, &spa, "ok@example.com", "hello").await;
    assert!(stored_hash(app, "ok@example.com")
        .await
        .starts_with("$argon2id$"));

    // With upsert, the existing user is updated.
    let (_, job) = mgmt
        .import(
            json!([{"email": "taken@example.com", "name": "Again", "app_metadata": {"tier": 2}}])
                .to_string()
                .into_bytes(),
            &[("connection_id", &connection_id), ("upsert", "true")],
        )
        .await;
    assert_eq!(
        job["summary"],
        json!({"failed": 0, "updated": 1, "inserted": 0, "total": 1})
    );
    let (_, found) = mgmt.get("/users-by-email?email=taken%40example.com").await;
    assert_eq!(found[0]["name"], "Again");
    assert_eq!(found[0]["app_metadata"]["tier"], 2);
}

#[tokio::test]
async fn malformed_imports_are_refused_whole() {
    let mgmt = spawn_mgmt().await;
    let connection_id = mgmt.connection_id().await;
    let (status, body) = mgmt
        .import(
            b"{\"email\": \"x@example.com\"}".to_vec(),
            &[("connection_id", &connection_id)],
        )
        .await;
    assert_error(&(status, body), StatusCode::BAD_REQUEST, "invalid_body");
    let (status, body) = mgmt
        .import(b"[]".to_vec(), &[("connection_id", "con_nope")])
        .await;
    assert_error(&(status, body), StatusCode::BAD_REQUEST, "invalid_body");
    let (status, body) = mgmt.import(b"[]".to_vec(), &[]).await;
    assert_error(&(status, body), StatusCode::BAD_REQUEST, "invalid_body");
    // Past the size cap: 413, nothing imported.
    let big = format!(
        "[{}]",
        vec!["{\"email\":\"a@example.com\"}"; 30_000].join(",")
    );
    let (status, body) = mgmt
        .import(big.into_bytes(), &[("connection_id", &connection_id)])
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(mgmt
        .app
        .store
        .user_by_email("a@example.com")
        .await
        .unwrap()
        .is_none());
    // Without the scope.
    let token = mgmt.token_with_scopes(&["read:clients"]).await;
    let response = mgmt
        .app
        .browser
        .post(mgmt.url("/jobs/users-imports"))
        .bearer_auth(token)
        .multipart(multipart::Form::new().text("users", "[]"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (status, body) = mgmt.get("/jobs/job_0000000000000000").await;
    assert_error(&(status, body), StatusCode::NOT_FOUND, "inexistent_job");
}

#[tokio::test]
async fn exports_as_ndjson_and_csv_behind_a_signed_link() {
    let mgmt = spawn_mgmt().await;
    let connection_id = mgmt.connection_id().await;
    mgmt.import(
        FIXTURE.as_bytes().to_vec(),
        &[("connection_id", &connection_id)],
    )
    .await;
    let (status, job) = mgmt
        .post(
            "/jobs/users-exports",
            json!({"connection_id": connection_id, "format": "json", "fields": [
                {"name": "email"}, {"name": "app_metadata.plan", "export_as": "plan"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    assert_eq!(job["type"], "users_export");
    assert_eq!(job["format"], "json");
    let location = job["location"].as_str().unwrap().to_owned();
    // The link works without a token, as Auth0's pre-signed links do.
    let file = reqwest::get(&location).await.unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    let text = file.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            json!({"email": "ada@example.com", "plan": "gold"}),
            json!({"email": "grace@example.com"})
        ]
    );
    assert!(!text.contains("$2"), "no password hash is exported");
    // A link with another signature is refused.
    let forged = location.replace("signature=", "signature=x");
    assert_eq!(
        reqwest::get(&forged).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let (_, read) = mgmt
        .get(&format!("/jobs/{}", job["id"].as_str().unwrap()))
        .await;
    assert_eq!(read["location"], location.as_str());

    let (status, job) = mgmt
        .post(
            "/jobs/users-exports",
            json!({"format": "csv", "fields": [{"name": "user_id"}, {"name": "email", "export_as": "Email"}, {"name": "name"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let csv = reqwest::get(job["location"].as_str().unwrap())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv,
        "user_id,Email,name\nauth0|5f7c8ec7c33c6c004bbafe82,ada@example.com,Ada Lovelace\n\
         auth0|5f7c8ec7c33c6c004bbafe83,grace@example.com,Grace Hopper\n"
    );
    let (status, body) = mgmt
        .post("/jobs/users-exports", json!({"format": "xml"}))
        .await;
    assert_error(&(status, body), StatusCode::BAD_REQUEST, "invalid_body");
}

#[tokio::test]
async fn a_completion_email_reaches_every_administrator_with_the_counts() {
    use portcullis_core::admin::{administrators, Actor};

    use crate::email::{parse, sink::Sink};

    let sink = Sink::start();
    let mgmt = spawn_mgmt_with(|settings| {
        settings.email = crate::email::email_settings(
            &format!("smtp://127.0.0.1:{}?tls=none", sink.port),
            &settings.issuer,
        );
    })
    .await;
    let app = &mgmt.app;
    for email in ["owner@example.com", "second-owner@example.com"] {
        administrators::create(&app.cx, &Actor::System, email, &"An-admin-Pa55word".into())
            .await
            .expect("administrator");
    }
    mgmt.create_user("existing@example.com").await;
    let connection_id = mgmt.connection_id().await;
    let rows = json!([
        {"email": "new-one@example.com"},
        {"email": "new-two@example.com", "name": "Two"},
        {"email": "existing@example.com", "name": "Updated"},
        {"email": "not-an-email"}
    ]);

    // Without send_completion_email, nobody is told.
    let (status, _) = mgmt
        .import(
            json!([{"email": "quiet@example.com"}])
                .to_string()
                .into_bytes(),
            &[("connection_id", &connection_id)],
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let (status, job) = mgmt
        .import(
            rows.to_string().into_bytes(),
            &[
                ("connection_id", &connection_id),
                ("upsert", "true"),
                ("send_completion_email", "true"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(job["send_completion_email"], true);
    let job_id = job["id"].as_str().unwrap();

    // Every administrator: the two above and any the test server made itself.
    let mut administrators: Vec<String> = app
        .store
        .list_admins()
        .await
        .unwrap()
        .into_iter()
        .map(|admin| admin.email)
        .collect();
    administrators.sort_unstable();
    assert!(administrators.len() >= 2);
    let received = sink.wait_for(administrators.len()).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        sink.messages().len(),
        administrators.len(),
        "one message per administrator, and only for this job"
    );
    let mut recipients: Vec<String> = received.iter().map(|r| r.to[0].clone()).collect();
    recipients.sort_unstable();
    assert_eq!(recipients, administrators);
    assert!(recipients.contains(&"second-owner@example.com".to_owned()));
    for message in &received {
        let message = parse(message);
        assert_eq!(
            message.subject(),
            Some(
                format!("Users import {job_id} completed: 2 inserted, 1 updated, 1 failed")
                    .as_str()
            )
        );
        let text = message.body_text(0).expect("a text part");
        for expected in [
            job_id.to_owned(),
            connection_id.clone(),
            "Username-Password-Authentication".to_owned(),
            "Inserted: 2".to_owned(),
            "Updated: 1".to_owned(),
            "Failed: 1".to_owned(),
            "Total: 4".to_owned(),
            format!("/api/v2/jobs/{job_id}/errors"),
        ] {
            assert!(text.contains(&expected), "{expected} in {text}");
        }
        let html = message.body_html(0).expect("an HTML part");
        assert!(html.contains(job_id), "{html}");
    }
}

#[tokio::test]
async fn imported_profile_fields_show_and_a_blocked_user_cannot_sign_in() {
    let mgmt = spawn_mgmt().await;
    let connection_id = mgmt.connection_id().await;
    let rows = json!([
        {"user_id": "profile-1", "email": "profile@example.com", "given_name": "Katherine",
         "family_name": "Johnson", "nickname": "kj", "picture": "https://img.example.com/kj.png",
         "blocked": false, "password_hash": "$2a$10$QSH7jFssLIPBj8m/R4/vtOzs3J1MkkmqTR.F46uLxLj3GqeqyEXli"},
        {"user_id": "blocked-1", "email": "blocked@example.com", "name": "Blocked Person",
         "given_name": "Blocked", "blocked": true,
         "password_hash": "$2b$10$PG8P49kM3vALKLyLPJrINOUqtDUd5b8VO74gnuCYdfAaefic4ArGa"}
    ]);
    let (status, job) = mgmt
        .import(
            rows.to_string().into_bytes(),
            &[("connection_id", &connection_id)],
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(job["summary"]["inserted"], 2, "{job}");

    let (_, profile) = mgmt
        .get(&format!("/users/{}", encode("auth0|profile-1")))
        .await;
    assert_eq!(profile["nickname"], "kj");
    assert_eq!(profile["picture"], "https://img.example.com/kj.png");
    // Given and family names are kept, and make the name when the row has none.
    assert_eq!(profile["name"], "Katherine Johnson");
    assert_eq!(profile["given_name"], "Katherine");
    assert_eq!(profile["family_name"], "Johnson");
    assert_ne!(profile["blocked"], true);
    let (_, blocked) = mgmt
        .get(&format!("/users/{}", encode("auth0|blocked-1")))
        .await;
    assert_eq!(blocked["blocked"], true);
    assert_eq!(blocked["name"], "Blocked Person", "a name given wins");
    assert_eq!(
        blocked["nickname"], "blocked",
        "the email's local part by default"
    );

    let app = &mgmt.app;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    browser_signed_in(app, &spa, "profile@example.com", ADA_PASSWORD).await;
    // The right password of a blocked user: refused with the blocked message, no session.
    let (_, challenge) = pkce();
    let url = app.authorize_url(
        &spa,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let browser = browser();
    let refused = app
        .login_via_form(&browser, &url, "blocked@example.com", GRACE_PASSWORD)
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .all(|cookie| !cookie
            .to_str()
            .unwrap_or_default()
            .starts_with("portcullis_session=")));
    let page = refused.text().await.unwrap();
    assert!(page.contains("This account is blocked."), "{page}");
}
