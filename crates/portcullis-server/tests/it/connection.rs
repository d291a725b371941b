//! The database connection: `/api/v2/connections` in Auth0's shape, the password policy on
//! every surface that sets a password (Management API, sign-up page, dashboard),
//! `disable_signup` on the hosted pages, and the Authentication → Database page.

use std::time::Instant;

use portcullis_core::admin::connection::{self, ConnectionChanges};
use portcullis_store::PasswordHistory;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{helpers::*, management_support::*};

pub(crate) const DB: &str = "Username-Password-Authentication";

/// The connection's id, read through the API.
async fn connection_id(mgmt: &Mgmt) -> String {
    let (status, list) = mgmt.get("/connections").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list[0]["id"].as_str().unwrap().to_owned()
}

/// `PATCH /connections/{id}` with `options`; asserts success and returns the connection.
pub(crate) async fn set_options(mgmt: &Mgmt, options: Value) -> Value {
    let id = connection_id(mgmt).await;
    let (status, body) = mgmt
        .patch(&format!("/connections/{id}"), json!({ "options": options }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Creates a user through the API with `password`; returns the answer.
async fn create_user_with(mgmt: &Mgmt, email: &str, password: &str) -> (StatusCode, Value) {
    mgmt.post(
        "/users",
        json!({"connection": DB, "email": email, "password": password}),
    )
    .await
}

#[track_caller]
pub(crate) fn assert_refused(answer: &(StatusCode, Value), message: &str) {
    assert_error(answer, StatusCode::BAD_REQUEST, "invalid_body");
    let text = answer.1["message"].as_str().unwrap();
    assert!(text.contains(message), "{text} should say {message}");
}

#[tokio::test]
async fn the_database_connection_is_listed_read_and_updated_in_auth0s_shape() {
    let mgmt = spawn_mgmt().await;
    let (status, list) = mgmt.get("/connections").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let connection = &list[0];
    let id = connection["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("con_"), "{id}");
    assert_eq!(connection["name"], DB);
    assert_eq!(connection["strategy"], "auth0");
    assert_eq!(connection["realms"], json!([DB]));
    assert!(connection["enabled_clients"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == BOOTSTRAP_ID));
    // Today's policy is the default: at least 8 characters, nothing more.
    assert_eq!(
        connection["options"],
        json!({
            "disable_signup": false,
            "requires_username": false,
            "passwordPolicy": "low",
            "password_complexity_options": {"min_length": 8},
            "password_dictionary": {"enable": false, "dictionary": []},
            "password_no_personal_info": {"enable": false},
            "password_history": {"enable": false, "size": 5},
            "brute_force_protection": true,
        })
    );

    // Filters and paging as the SDKs send them.
    for (query, found) in [
        ("?strategy=auth0", 1),
        ("?strategy=google-oauth2&strategy=auth0", 1),
        ("?strategy=google-oauth2", 0),
        (&format!("?name={DB}") as &str, 1),
        ("?name=Other", 0),
    ] {
        let (status, list) = mgmt.get(&format!("/connections{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert_eq!(list.as_array().unwrap().len(), found, "{query}");
    }
    let (_, checkpoint) = mgmt.get("/connections?take=50").await;
    assert_eq!(checkpoint["connections"][0]["id"], id.as_str());
    assert!(checkpoint.get("next").is_none(), "{checkpoint}");
    let (_, totals) = mgmt.get("/connections?include_totals=true").await;
    assert_eq!(totals["total"], 1);
    let (_, projected) = mgmt.get(&format!("/connections/{id}?fields=id,name")).await;
    assert_eq!(projected, json!({"id": id, "name": DB}));

    let (status, one) = mgmt.get(&format!("/connections/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one, *connection);
    let missing = mgmt.get("/connections/con_nope").await;
    assert_error(&missing, StatusCode::NOT_FOUND, "inexistent_connection");

    // An update changes the options it names and keeps the others.
    let updated = set_options(
        &mgmt,
        json!({
            "passwordPolicy": "excellent",
            "password_complexity_options": {"min_length": 12},
            "password_dictionary": {"enable": true, "dictionary": ["acme", " acme ", ""]},
            "password_no_personal_info": {"enable": true},
            "password_history": {"enable": true, "size": 3},
            "brute_force_protection": true,
            "requires_username": false,
            "mfa": {"active": true},
            "strategy_version": 2,
        }),
    )
    .await;
    let options = &updated["options"];
    assert_eq!(options["passwordPolicy"], "excellent");
    assert_eq!(options["password_complexity_options"]["min_length"], 12);
    assert_eq!(
        options["password_dictionary"],
        json!({"enable": true, "dictionary": ["acme"]})
    );
    assert_eq!(options["password_no_personal_info"]["enable"], true);
    assert_eq!(
        options["password_history"],
        json!({"enable": true, "size": 3})
    );
    assert_eq!(options["disable_signup"], false);
    let kept = set_options(&mgmt, json!({"disable_signup": true})).await;
    assert_eq!(kept["options"]["disable_signup"], true);
    assert_eq!(kept["options"]["passwordPolicy"], "excellent");
    let level_length = set_options(
        &mgmt,
        json!({"passwordPolicy": null, "password_complexity_options": null}),
    )
    .await;
    assert_eq!(level_length["options"]["passwordPolicy"], "none");
    assert_eq!(
        level_length["options"]["password_complexity_options"],
        json!({})
    );
    let (_, read) = mgmt.get(&format!("/connections/{id}")).await;
    assert_eq!(read, level_length);

    // Refusals in Auth0's shape.
    let path = format!("/connections/{id}");
    for (body, message) in [
        (
            json!({"options": {"passwordPolicy": "strong"}}),
            "passwordPolicy must be one of none, low, fair, good, excellent",
        ),
        (
            json!({"options": {"nope": true}}),
            "Payload validation error: 'Additional properties not allowed: nope' on property options",
        ),
        (
            json!({"name": "Renamed"}),
            "Payload validation error: 'Additional properties not allowed: name'",
        ),
        (
            json!({"options": {"brute_force_protection": false}}),
            "brute_force_protection cannot be turned off",
        ),
        (
            json!({"options": {"requires_username": true}}),
            "'options.requires_username' is not supported",
        ),
        (
            json!({"options": {"password_complexity_options": {"min_length": 0}}}),
            "min_length must be between 1 and 128",
        ),
        (
            json!({"options": {"password_history": {"enable": true, "size": 25}}}),
            "password_history.size must be between 1 and 24",
        ),
        (
            json!({"enabled_clients": ["only-one"]}),
            "enabled_clients cannot be changed",
        ),
    ] {
        let answer = mgmt.patch(&path, body.clone()).await;
        assert_refused(&answer, message);
    }
    let every = read["enabled_clients"].clone();
    let (status, _) = mgmt
        .patch(
            &path,
            json!({"enabled_clients": every, "display_name": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let other = mgmt
        .patch("/connections/con_nope", json!({"options": {}}))
        .await;
    assert_error(&other, StatusCode::NOT_FOUND, "inexistent_connection");

    // Scopes: reading does not let a caller change it.
    let reader = mgmt.token_with_scopes(&["read:connections"]).await;
    let (status, _) = mgmt
        .call_with(Some(&reader), Method::GET, &path, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let forbidden = mgmt
        .call_with(
            Some(&reader),
            Method::PATCH,
            &path,
            Some(&json!({"options": {}})),
        )
        .await;
    assert_error(&forbidden, StatusCode::FORBIDDEN, "insufficient_scope");

    // Each change is in the audit log, with who made it.
    let (_, logs) = mgmt.get("/logs?q=type:sapi").await;
    let entry = logs
        .as_array()
        .unwrap()
        .iter()
        .find(|log| log["details"]["target"]["type"] == "connection")
        .expect("a connection change is logged");
    assert_eq!(entry["details"]["target"]["connection_id"], id.as_str());
    assert_eq!(entry["client_id"], BOOTSTRAP_ID);
    assert_eq!(entry["description"], "Update a connection");
}

#[tokio::test]
async fn the_password_policy_applies_to_the_management_api_and_the_history() {
    let mgmt = spawn_mgmt().await;
    // The default keeps today's rule.
    let short = create_user_with(&mgmt, "a@example.com", "seven77").await;
    assert_refused(&short, "Password is too short: use at least 8 characters.");
    let (status, _) = create_user_with(&mgmt, "a@example.com", "eight888").await;
    assert_eq!(status, StatusCode::CREATED);

    set_options(
        &mgmt,
        json!({"passwordPolicy": "fair", "password_complexity_options": null}),
    )
    .await;
    let weak = create_user_with(&mgmt, "b@example.com", "alllowercase1").await;
    assert_refused(&weak, "Password is too weak");
    set_options(
        &mgmt,
        json!({"password_dictionary": {"enable": true, "dictionary": ["Portcullis1"]}}),
    )
    .await;
    for common in ["Password1", "pORTCULLIS1"] {
        let refused = create_user_with(&mgmt, "b@example.com", common).await;
        assert_refused(&refused, "Password is too common.");
    }
    set_options(
        &mgmt,
        json!({"password_no_personal_info": {"enable": true}}),
    )
    .await;
    let personal = create_user_with(&mgmt, "rosalind@example.com", "Rosalind2024X").await;
    assert_refused(&personal, "Password contains user information.");
    let named = mgmt
        .post(
            "/users",
            json!({"connection": DB, "email": "r@example.com", "password": "Franklin51Photo",
                   "name": "Rosalind Franklin"}),
        )
        .await;
    assert_refused(&named, "Password contains user information.");

    // The history refuses the current password and the ones before it, within its size.
    set_options(
        &mgmt,
        json!({"password_history": {"enable": true, "size": 3}}),
    )
    .await;
    let (status, user) = create_user_with(&mgmt, "h@example.com", "First1pass").await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let path = format!("/users/{}", encode(user["user_id"].as_str().unwrap()));
    let change = |password: &str| mgmt.patch(&path, json!({ "password": password }));
    assert_refused(
        &change("First1pass").await,
        "Password has previously been used.",
    );
    assert_eq!(change("Second2pass").await.0, StatusCode::OK);
    assert_refused(&change("First1pass").await, "previously been used");
    assert_eq!(change("Third3pass").await.0, StatusCode::OK);
    assert_refused(&change("First1pass").await, "previously been used");
    assert_eq!(change("Fourth4pass").await.0, StatusCode::OK);
    // Three remembered: Fourth (current), Third, Second; First may come back.
    assert_eq!(change("First1pass").await.0, StatusCode::OK);

    // The cost of the history: one argon2 check per remembered password.
    set_options(
        &mgmt,
        json!({"password_history": {"enable": true, "size": 24}}),
    )
    .await;
    for n in 0..23 {
        assert_eq!(change(&format!("Rotate{n}pass")).await.0, StatusCode::OK);
    }
    let started = Instant::now();
    assert_refused(&change("Rotate0pass").await, "previously been used");
    eprintln!(
        "checking a password against 24 remembered ones took {:?}",
        started.elapsed()
    );
}

/// The status and text of a page.
async fn page_at(app: &TestApp, browser: &reqwest::Client, path: &str) -> (StatusCode, String) {
    let response = browser.get(app.url(path)).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// A login page for the SPA and its query.
async fn login_page(app: &TestApp, browser: &reqwest::Client, spa: &Spa) -> (String, String) {
    let url = app.authorize_url(spa, &[]);
    let query = url::Url::parse(&url).unwrap().query().unwrap().to_owned();
    let (_, html) = page_at(app, browser, &format!("/u/login?{query}")).await;
    (html, query)
}

async fn sign_up(
    app: &TestApp,
    browser: &reqwest::Client,
    html: &str,
    email: &str,
    password: &str,
) -> (StatusCode, String) {
    let response = browser
        .post(app.url("/u/signup"))
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf", &hidden_field(html, "csrf")),
            ("authorize_query", &hidden_field(html, "authorize_query")),
        ])
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn sign_up_follows_the_connection_disabled_or_with_its_policy() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let spa = app.create_spa(false).await;
    let browser = browser();

    // Enabled: the login page links to sign-up, which lists the policy's rules.
    let (html, query) = login_page(app, &browser, &spa).await;
    assert!(html.contains("id=\"signup-link\""));
    let (status, page) = page_at(app, &browser, &format!("/u/signup?{query}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("At least 8 characters") && page.contains("minlength=\"8\""));

    // The policy applies to sign-up, and the page says why.
    set_options(
        &mgmt,
        json!({"passwordPolicy": "good", "password_complexity_options": {"min_length": 10}}),
    )
    .await;
    let (_, page) = page_at(app, &browser, &format!("/u/signup?{query}")).await;
    assert!(page.contains("At least 10 characters") && page.contains("At least 3 of"));
    assert!(page.contains("minlength=\"10\""));
    let (status, text) = sign_up(app, &browser, &html, "weak@example.com", "onlylowercase").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("Password is too weak"), "{text}");
    let (status, _) = sign_up(app, &browser, &html, "good@example.com", "Good-enough-1").await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // Disabled: no link, the page and the form refuse, and no account is made.
    set_options(&mgmt, json!({"disable_signup": true})).await;
    let fresh = crate::helpers::browser();
    let (html, query) = login_page(app, &fresh, &spa).await;
    assert!(!html.contains("signup-link"), "{html}");
    assert!(!html.contains("/u/signup"));
    let (status, page) = page_at(app, &fresh, &format!("/u/signup?{query}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("Sign-ups are disabled"));
    let (status, _) = sign_up(app, &fresh, &html, "late@example.com", "Good-enough-1").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(app
        .store
        .user_by_email("late@example.com")
        .await
        .unwrap()
        .is_none());
    // Core refuses too, for the endpoints that sign users up without these pages.
    let refused = portcullis_core::accounts::sign_up(
        &app.cx,
        portcullis_core::accounts::NewUser {
            email: "core@example.com".into(),
            password: "Good-enough-1".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(refused.field(), Some("connection"));
    // Logging in still works, and administrators still create users.
    let (status, _) = create_user_with(&mgmt, "admin-made@example.com", "Admin-made-1").await;
    assert_eq!(status, StatusCode::CREATED);

    set_options(&mgmt, json!({"disable_signup": false})).await;
    let (html, _) = login_page(app, &fresh, &spa).await;
    assert!(html.contains("id=\"signup-link\""));
}

#[tokio::test]
async fn the_dashboard_database_page_changes_the_connection() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let admin = app.dashboard_admin().await;
    let (status, html) = admin.get(app, "/dashboard/apis").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("href=\"/dashboard/database\""),
        "the sidebar links to it"
    );
    let (status, html) = admin.get(app, "/dashboard/database").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(DB) && html.contains("At least 8 characters"));

    let form = |level: &'static str, min: &'static str, size: &'static str| {
        vec![
            ("disable_signup", "on"),
            ("password_policy", level),
            ("min_length", min),
            ("dictionary_enable", "on"),
            ("dictionary", "acme\ninitech"),
            ("no_personal_info", "on"),
            ("history_enable", "on"),
            ("history_size", size),
        ]
    };
    let to = admin
        .post_ok(
            app,
            "/dashboard/database",
            "/dashboard/database",
            &form("good", "", "4"),
        )
        .await;
    assert_eq!(to, "/dashboard/database");
    let stored = app.store.database_connection().await.unwrap();
    assert!(stored.disable_signup && stored.no_personal_info);
    assert_eq!(stored.password_policy.as_str(), "good");
    assert_eq!(stored.min_length, None);
    assert_eq!(stored.dictionary.entries, ["acme", "initech"]);
    assert_eq!(
        stored.history,
        PasswordHistory {
            enable: true,
            size: 4
        }
    );
    let (_, html) = admin.get(app, "/dashboard/database").await;
    assert!(html.contains("At least 3 of") && html.contains("Not one of your last 4 passwords"));

    for (fields, message) in [
        (
            form("good", "zero", "4"),
            "The minimum length must be a whole number",
        ),
        (
            form("good", "500", "4"),
            "min_length must be between 1 and 128",
        ),
        (
            form("good", "", "99"),
            "password_history.size must be between 1 and 24",
        ),
        (form("strong", "", "4"), "Choose a password strength."),
    ] {
        admin
            .post_refused(
                app,
                "/dashboard/database",
                "/dashboard/database",
                &fields,
                StatusCode::BAD_REQUEST,
                message,
            )
            .await;
    }

    // The dashboard's own user form follows the policy too.
    admin
        .post_refused(
            app,
            "/dashboard/users/new",
            "/dashboard/users",
            &[
                ("email", "weak@example.com"),
                ("password", "lowercase-only"),
            ],
            StatusCode::BAD_REQUEST,
            "Password is too weak",
        )
        .await;
}

/// The connection's settings are a core operation too: the CLI and tests use it directly.
#[tokio::test]
async fn core_updates_are_validated_like_the_api() {
    let app = spawn_app().await;
    let refused = connection::update(
        &app.cx,
        &portcullis_core::admin::Actor::Cli,
        ConnectionChanges {
            dictionary: Some(portcullis_store::PasswordDictionary {
                enable: true,
                entries: (0..201).map(|n| format!("word{n}")).collect(),
            }),
            ..ConnectionChanges::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(refused.field(), Some("password_dictionary"));
    assert!(connection::signup_allowed(&app.cx).await.unwrap());
}

/// Each of Auth0's levels on the sign-up page: its rules shown, a password just below the
/// level refused with the reason, one that meets it accepted.
#[tokio::test]
async fn each_password_level_applies_to_sign_up() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let spa = app.create_spa(false).await;
    for (level, shown, weak, reason, strong) in [
        ("none", "At least 1 character<", "", "too short", "a"),
        (
            "low",
            "At least 6 characters",
            "abcde",
            "too short",
            "abcdef",
        ),
        (
            "fair",
            "Lower-case and upper-case letters and digits",
            "abcdefg1",
            "Password is too weak",
            "abcDEF12",
        ),
        (
            "good",
            "At least 3 of",
            "abcdefg1",
            "Password is too weak",
            "abcdef1!",
        ),
        (
            "excellent",
            "No more than 2 identical characters in a row",
            "abcccF1!xy",
            "no more than 2 identical characters",
            "abcdeF1!xy",
        ),
    ] {
        set_options(
            &mgmt,
            json!({"passwordPolicy": level, "password_complexity_options": null}),
        )
        .await;
        let browser = browser();
        let (html, query) = login_page(app, &browser, &spa).await;
        let (_, page) = page_at(app, &browser, &format!("/u/signup?{query}")).await;
        assert!(page.contains(shown), "{level}: the page shows {shown}");
        let (status, text) = sign_up(
            app,
            &browser,
            &html,
            &format!("weak-{level}@example.com"),
            weak,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{level}: {weak}");
        assert!(
            text.contains(reason),
            "{level}: {weak} refused for {reason}"
        );
        let (status, _) = sign_up(
            app,
            &browser,
            &html,
            &format!("ok-{level}@example.com"),
            strong,
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{level}: {strong}");
    }
}
