//! The web dashboard under /dashboard, driven like a browser: sign-in, CSRF, every section's
//! forms, pagination, the audit trail of changes, the first administrator, and (with Node and
//! Chromium) the seed tutorials' dashboard steps in a real browser.

use std::{path::PathBuf, process::Stdio};

use portcullis_admin::dashboard::bootstrap::{ensure_admin, Outcome};
use portcullis_core::{
    admin::{
        administrators,
        roles::{self, NewRole},
        Actor, Context,
    },
    sign_in::{Attempt, Realm, SignIn},
};
use portcullis_store::{LogFilter, Page, RuleCondition};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{browser, hidden_field, location, spawn_app, TestApp, API, PASSWORD};

const ADMIN_EMAIL: &str = "ops@example.com";
const ADMIN_PASSWORD: &str = "a long admin password";

/// A browser signed in to the dashboard as a new administrator.
pub(crate) struct Admin {
    pub(crate) browser: reqwest::Client,
    pub(crate) id: String,
}

impl TestApp {
    pub(crate) async fn dashboard_admin(&self) -> Admin {
        let admin = administrators::create(
            &self.cx,
            &Actor::System,
            ADMIN_EMAIL,
            &ADMIN_PASSWORD.into(),
        )
        .await
        .expect("admin");
        let browser = browser();
        let response = self
            .sign_in(&browser, ADMIN_EMAIL, ADMIN_PASSWORD, "/dashboard/apis")
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/dashboard/apis");
        Admin {
            browser,
            id: admin.id,
        }
    }

    pub(crate) async fn sign_in(
        &self,
        browser: &reqwest::Client,
        email: &str,
        password: &str,
        next: &str,
    ) -> reqwest::Response {
        let page = browser
            .get(self.url(&format!("/dashboard/signin?next={next}")))
            .send()
            .await
            .expect("sign-in page");
        assert_eq!(page.status(), StatusCode::OK);
        let csrf = hidden_field(&page.text().await.expect("html"), "csrf");
        browser
            .post(self.url("/dashboard/signin"))
            .form(&[
                ("email", email),
                ("password", password),
                ("csrf", &csrf),
                ("next", next),
            ])
            .send()
            .await
            .expect("sign in")
    }
}

impl Admin {
    pub(crate) async fn get(&self, app: &TestApp, path: &str) -> (StatusCode, String) {
        let response = self.browser.get(app.url(path)).send().await.expect("get");
        let status = response.status();
        (status, unescape(&response.text().await.expect("html")))
    }

    /// Posts `fields` from the page at `from`, with that page's CSRF value, as a browser does.
    pub(crate) async fn post(
        &self,
        app: &TestApp,
        from: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let (status, html) = self.get(app, from).await;
        assert_eq!(status, StatusCode::OK, "{from}: {html}");
        let csrf = hidden_field(&html, "csrf");
        let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        form.extend_from_slice(fields);
        self.browser
            .post(app.url(action))
            .form(&form)
            .send()
            .await
            .expect("post")
    }

    /// Posts and expects the redirect of a successful change; returns its target.
    pub(crate) async fn post_ok(
        &self,
        app: &TestApp,
        from: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> String {
        let response = self.post(app, from, action, fields).await;
        let status = response.status();
        if status != StatusCode::SEE_OTHER {
            panic!(
                "{action} answered {status}: {}",
                response.text().await.unwrap_or_default()
            );
        }
        location(&response)
    }

    /// Posts and expects a refusal with `status` whose page says `message`.
    pub(crate) async fn post_refused(
        &self,
        app: &TestApp,
        from: &str,
        action: &str,
        fields: &[(&str, &str)],
        status: StatusCode,
        message: &str,
    ) {
        let response = self.post(app, from, action, fields).await;
        assert_eq!(response.status(), status, "{action}");
        let html = unescape(&response.text().await.expect("html"));
        assert!(
            html.contains(message),
            "{action}: expected {message:?} in the page:\n{html}"
        );
    }
}

/// The text of HTML with the entities our templates write decoded, to compare with plain text.
pub(crate) fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The dashboard's path of a user page (user ids hold `|`).
pub(crate) fn user_path(user_id: &str, tab: &str) -> String {
    format!("/dashboard/users/{}/{tab}", user_id.replace('|', "%7C"))
}

#[tokio::test]
async fn unauthenticated_requests_go_to_sign_in() {
    let app = spawn_app().await;
    let stranger = browser();
    for path in [
        "/dashboard/apis",
        "/dashboard/applications/x/settings",
        "/dashboard/users?q=a",
        "/dashboard/roles",
        "/dashboard/logs",
    ] {
        let response = stranger.get(app.url(path)).send().await.expect("get");
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        let target = location(&response);
        assert!(
            target.starts_with("/dashboard/signin?next=%2Fdashboard%2F"),
            "{path} went to {target}"
        );
    }
    let response = stranger
        .post(app.url("/dashboard/apis"))
        .form(&[("name", "x"), ("identifier", "y")])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/dashboard/signin");
    let (apis, _) = app
        .store
        .list_resource_servers(Page::ALL)
        .await
        .expect("apis");
    assert!(apis.iter().all(|api| api.is_system), "nothing was created");

    // A user's login session is not an administrator's.
    let user_cookie = stranger
        .get(app.url("/dashboard"))
        .header("cookie", "portcullis_admin=not-a-session")
        .send()
        .await
        .expect("get");
    assert_eq!(user_cookie.status(), StatusCode::SEE_OTHER);

    // The stylesheet and the sign-in page need no session; the page has a strict CSP.
    let css = stranger
        .get(app.url("/dashboard/static/dashboard.css"))
        .send()
        .await
        .expect("css");
    assert_eq!(css.status(), StatusCode::OK);
    assert!(css.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    let page = stranger
        .get(app.url("/dashboard/signin"))
        .send()
        .await
        .expect("sign-in");
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
}

#[tokio::test]
async fn sign_in_wrong_then_right_then_sign_out() {
    let app = spawn_app().await;
    administrators::create(&app.cx, &Actor::System, ADMIN_EMAIL, &ADMIN_PASSWORD.into())
        .await
        .expect("admin");
    let browser = browser();
    let wrong = app
        .sign_in(
            &browser,
            ADMIN_EMAIL,
            "not the password",
            "/dashboard/users",
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("Wrong email or password."));
    let unknown = app
        .sign_in(
            &browser,
            "nobody@example.com",
            ADMIN_PASSWORD,
            "/dashboard/users",
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    // A user of the tenant is not an administrator.
    app.create_user("jane@example.com").await;
    let user = app
        .sign_in(&browser, "jane@example.com", PASSWORD, "/dashboard/users")
        .await;
    assert_eq!(user.status(), StatusCode::UNAUTHORIZED);

    let right = app
        .sign_in(&browser, ADMIN_EMAIL, ADMIN_PASSWORD, "/dashboard/users")
        .await;
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&right), "/dashboard/users");
    // Another site is never the destination.
    let page = browser
        .get(app.url("/dashboard/signin?next=https://evil.example/"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&page), "/dashboard/apis");

    let home = browser
        .get(app.url("/dashboard/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    let html = unescape(&home.text().await.unwrap());
    assert!(
        html.contains(ADMIN_EMAIL),
        "the header shows the administrator"
    );
    assert!(
        html.contains(&app.issuer),
        "the header shows the tenant's issuer"
    );

    let csrf = hidden_field(&html, "csrf");
    let out = browser
        .post(app.url("/dashboard/signout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&out), "/dashboard/signin");
    let after = browser
        .get(app.url("/dashboard/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::SEE_OTHER, "signed out");

    let (events, _) = app
        .store
        .list_logs(&LogFilter::default(), Page::ALL)
        .await
        .unwrap();
    let descriptions: Vec<&str> = events.iter().map(|e| e.description.as_str()).collect();
    assert!(descriptions.contains(&"Dashboard sign-in"));
    assert!(descriptions.contains(&"Dashboard sign-in failed"));
    assert!(descriptions.contains(&"Dashboard sign-out"));
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains(ADMIN_PASSWORD) && !text.contains("not the password"));
}

#[tokio::test]
async fn failed_sign_ins_are_throttled() {
    let app = spawn_app().await;
    administrators::create(&app.cx, &Actor::System, ADMIN_EMAIL, &ADMIN_PASSWORD.into())
        .await
        .expect("admin");
    let browser = browser();
    for _ in 0..10 {
        let response = app
            .sign_in(&browser, ADMIN_EMAIL, "wrong password", "/dashboard")
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let throttled = app
        .sign_in(&browser, ADMIN_EMAIL, ADMIN_PASSWORD, "/dashboard")
        .await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(900);
    let later = app
        .sign_in(&browser, ADMIN_EMAIL, ADMIN_PASSWORD, "/dashboard")
        .await;
    assert_eq!(later.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn posts_without_the_csrf_value_are_refused() {
    let app = spawn_app().await;
    let admin = app.dashboard_admin().await;
    for csrf in [None, Some("x".repeat(43))] {
        let mut form = vec![
            ("name", "Sneaky".to_owned()),
            ("identifier", "https://sneaky".to_owned()),
            ("signing_alg", "RS256".to_owned()),
        ];
        if let Some(csrf) = csrf {
            form.push(("csrf", csrf));
        }
        let response = admin
            .browser
            .post(app.url("/dashboard/apis"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(response
            .text()
            .await
            .unwrap()
            .contains("This form has expired"));
    }
    // The sign-in form too.
    let response = browser()
        .post(app.url("/dashboard/signin"))
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(app
        .store
        .resource_server_by_identifier("https://sneaky")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn apis_are_created_configured_and_deleted() {
    let app = spawn_app().await;
    let admin = app.dashboard_admin().await;
    let new = "/dashboard/apis/new";
    admin
        .post_refused(
            &app,
            new,
            "/dashboard/apis",
            &[("name", ""), ("identifier", API), ("signing_alg", "RS256")],
            StatusCode::BAD_REQUEST,
            "name is required",
        )
        .await;
    admin
        .post_refused(
            &app,
            new,
            "/dashboard/apis",
            &[("name", "Q"), ("identifier", API), ("signing_alg", "HS512")],
            StatusCode::BAD_REQUEST,
            "signing_alg must be one of RS256, PS256, ES256, HS256",
        )
        .await;
    let settings = admin
        .post_ok(
            &app,
            new,
            "/dashboard/apis",
            &[
                ("name", "Quickstart API"),
                ("identifier", API),
                ("signing_alg", "RS256"),
            ],
        )
        .await;
    let api = app
        .store
        .resource_server_by_identifier(API)
        .await
        .unwrap()
        .expect("created");
    assert_eq!(settings, format!("/dashboard/apis/{}/settings", api.id));
    let (status, html) = admin.get(&app, &settings).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("created."),
        "a flash message follows the change"
    );
    let (_, again) = admin.get(&app, &settings).await;
    assert!(!again.contains("id=\"flash\""), "the flash shows once");
    admin
        .post_refused(
            &app,
            new,
            "/dashboard/apis",
            &[
                ("name", "Again"),
                ("identifier", API),
                ("signing_alg", "RS256"),
            ],
            StatusCode::CONFLICT,
            "already exists",
        )
        .await;

    // Settings: inline errors from core's validation, then a change.
    admin
        .post_refused(
            &app,
            &settings,
            &settings,
            &[
                ("name", "Quickstart API"),
                ("token_lifetime", "10"),
                ("token_lifetime_for_web", "10"),
            ],
            StatusCode::BAD_REQUEST,
            "token_lifetime must be between 60 and 2592000 seconds",
        )
        .await;
    admin
        .post_refused(
            &app,
            &settings,
            &settings,
            &[
                ("name", "Quickstart API"),
                ("token_lifetime", "soon"),
                ("token_lifetime_for_web", "60"),
            ],
            StatusCode::BAD_REQUEST,
            "token_lifetime must be a whole number",
        )
        .await;
    admin
        .post_ok(
            &app,
            &settings,
            &settings,
            &[
                ("name", "Messages API"),
                ("token_lifetime", "3600"),
                ("token_lifetime_for_web", "600"),
                ("allow_offline_access", "on"),
                ("enforce_policies", "on"),
                ("add_permissions", "on"),
                ("profile", "auth0"),
            ],
        )
        .await;
    let api = app
        .store
        .resource_server_by_id(&api.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(api.name, "Messages API");
    assert_eq!(
        (api.token_lifetime, api.token_lifetime_for_web),
        (3600, 600)
    );
    assert!(api.allow_offline_access && api.enforce_policies);
    assert_eq!(api.token_dialect, "access_token_authz");

    // Scopes.
    let scopes = format!("/dashboard/apis/{}/scopes", api.id);
    admin
        .post_ok(
            &app,
            &scopes,
            &scopes,
            &[("value", "read:messages"), ("description", "Read messages")],
        )
        .await;
    admin
        .post_ok(&app, &scopes, &scopes, &[("value", "write:messages")])
        .await;
    admin
        .post_refused(
            &app,
            &scopes,
            &scopes,
            &[("value", "read:messages")],
            StatusCode::BAD_REQUEST,
            "scope read:messages is defined twice",
        )
        .await;
    admin
        .post_refused(
            &app,
            &scopes,
            &scopes,
            &[("value", "bad scope\"")],
            StatusCode::BAD_REQUEST,
            "invalid scope value",
        )
        .await;
    admin
        .post_ok(
            &app,
            &scopes,
            &format!("{scopes}/remove"),
            &[("value", "write:messages")],
        )
        .await;
    let api = app
        .store
        .resource_server_by_id(&api.id)
        .await
        .unwrap()
        .unwrap();
    let values: Vec<&str> = api.scopes.iter().map(|s| s.value.as_str()).collect();
    assert_eq!(values, ["read:messages"]);
    let (_, html) = admin.get(&app, &scopes).await;
    assert!(html.contains("Read messages"));

    // Access rules, one of each kind, then removal.
    let role = roles::create(
        &app.cx,
        &Actor::System,
        NewRole {
            name: "Reader".into(),
            description: String::new(),
        },
    )
    .await
    .unwrap();
    let spa = app.create_spa(false).await;
    let rules = format!("/dashboard/apis/{}/rules", api.id);
    for fields in [
        vec![("kind", "email_verified"), ("scope", "read:messages")],
        vec![
            ("kind", "has_role"),
            ("scope", "*"),
            ("role_id", role.id.as_str()),
        ],
        vec![
            ("kind", "client_in"),
            ("scope", "read:messages"),
            ("client_ids", spa.client_id.as_str()),
        ],
        vec![
            ("kind", "email_domain_in"),
            ("scope", "read:messages"),
            ("domains", "example.com, example.org"),
        ],
    ] {
        admin.post_ok(&app, &rules, &rules, &fields).await;
    }
    admin
        .post_refused(
            &app,
            &rules,
            &rules,
            &[("kind", "email_verified"), ("scope", "delete:everything")],
            StatusCode::BAD_REQUEST,
            "does not define the scope",
        )
        .await;
    admin
        .post_refused(
            &app,
            &rules,
            &rules,
            &[("kind", "run_code"), ("scope", "*")],
            StatusCode::BAD_REQUEST,
            "Choose one of the four kinds of rule.",
        )
        .await;
    let stored = app.store.access_rules(&api.id).await.unwrap();
    assert_eq!(stored.len(), 4);
    // Rules made in the same second have no order between them.
    assert!(stored.iter().any(|rule| rule.condition
        == RuleCondition::EmailDomainIn {
            domains: vec!["example.com".into(), "example.org".into()]
        }));
    let (_, html) = admin.get(&app, &rules).await;
    assert!(html.contains("the user has the role Reader"));
    assert!(html.contains("Quickstart SPA"));
    admin
        .post_ok(
            &app,
            &rules,
            &format!("{rules}/remove"),
            &[("rule_id", stored[0].id.as_str())],
        )
        .await;
    assert_eq!(app.store.access_rules(&api.id).await.unwrap().len(), 3);

    // Deleting asks for the identifier.
    let delete = format!("/dashboard/apis/{}/delete", api.id);
    admin
        .post_refused(
            &app,
            &settings,
            &delete,
            &[("confirm", "yes")],
            StatusCode::BAD_REQUEST,
            "Type the API's identifier",
        )
        .await;
    let back = admin
        .post_ok(&app, &settings, &delete, &[("confirm", API)])
        .await;
    assert_eq!(back, "/dashboard/apis");
    assert!(app
        .store
        .resource_server_by_id(&api.id)
        .await
        .unwrap()
        .is_none());
    let (status, _) = admin.get(&app, &settings).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The system API is shown read-only and refuses changes.
    let (apis, _) = app.store.list_resource_servers(Page::ALL).await.unwrap();
    let system = apis
        .iter()
        .find(|api| api.is_system)
        .expect("management api");
    let system_settings = format!("/dashboard/apis/{}/settings", system.id);
    admin
        .post_refused(
            &app,
            &system_settings,
            &system_settings,
            &[
                ("name", "Mine"),
                ("token_lifetime", "3600"),
                ("token_lifetime_for_web", "600"),
            ],
            StatusCode::BAD_REQUEST,
            "the system API cannot be changed",
        )
        .await;
}

#[tokio::test]
async fn the_test_tab_shows_a_token_for_the_api() {
    let app = spawn_app().await;
    let admin = app.dashboard_admin().await;
    admin
        .post_ok(
            &app,
            "/dashboard/apis/new",
            "/dashboard/apis",
            &[
                ("name", "Quickstart API"),
                ("identifier", API),
                ("signing_alg", "RS256"),
            ],
        )
        .await;
    let api = app
        .store
        .resource_server_by_identifier(API)
        .await
        .unwrap()
        .unwrap();
    let test = format!("/dashboard/apis/{}/test", api.id);
    let (status, html) = admin.get(&app, &test).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Create & authorize a test application"));
    admin.post_ok(&app, &test, &test, &[]).await;
    // A scope added afterwards is granted to the test application too.
    let scopes = format!("/dashboard/apis/{}/scopes", api.id);
    admin
        .post_ok(&app, &scopes, &scopes, &[("value", "read:messages")])
        .await;

    let (status, html) = admin.get(&app, &test).await;
    assert_eq!(status, StatusCode::OK);
    let start = html.find("id=\"access-token\"").expect("token box");
    let token = html[start..]
        .split_once('>')
        .and_then(|(_, rest)| rest.split_once('<'))
        .map(|(token, _)| token.trim().to_owned())
        .expect("token");
    let claims = app.verify(&token, API).await;
    assert_eq!(claims["scope"], "read:messages");
    assert_eq!(claims["gty"], "client-credentials");
    assert!(claims["sub"].as_str().unwrap().ends_with("@clients"));
    assert!(html.contains(&format!(
        "curl --request GET \\\n  --url http://localhost:3001/api/private \\\n  --header 'authorization: Bearer {token}'"
    )));
    let (clients, _) = app.store.list_clients(Page::ALL).await.unwrap();
    assert!(clients
        .iter()
        .any(|c| c.name == "Quickstart API (Test Application)"));
    let (events, _) = app
        .store
        .list_logs(
            &LogFilter {
                event_type: Some("seccft".into()),
                ..LogFilter::default()
            },
            Page::ALL,
        )
        .await
        .unwrap();
    assert_eq!(events.len(), 1, "the minted token is in the audit log");
    assert!(!serde_json::to_string(&events).unwrap().contains(&token));
}

#[tokio::test]
async fn applications_are_created_and_configured() {
    let app = spawn_app().await;
    let admin = app.dashboard_admin().await;
    let new = "/dashboard/applications/new";
    admin
        .post_refused(
            &app,
            new,
            "/dashboard/applications",
            &[("name", "Nameless"), ("app_type", "toaster")],
            StatusCode::BAD_REQUEST,
            "Choose the type of the application.",
        )
        .await;
    admin
        .post_refused(
            &app,
            new,
            "/dashboard/applications",
            &[("name", " "), ("app_type", "spa")],
            StatusCode::BAD_REQUEST,
            "name is required",
        )
        .await;
    let settings = admin
        .post_ok(
            &app,
            new,
            "/dashboard/applications",
            &[("name", "Quickstart SPA"), ("app_type", "spa")],
        )
        .await;
    let client_id = settings
        .trim_start_matches("/dashboard/applications/")
        .trim_end_matches("/settings")
        .to_owned();
    let spa = app.store.client_by_id(&client_id).await.unwrap().unwrap();
    assert!(spa.client_secret_hash.is_none());

    admin
        .post_refused(
            &app,
            &settings,
            &settings,
            &[
                ("name", "Quickstart SPA"),
                ("callbacks", "not a url"),
                ("grant_types", "authorization_code"),
                ("lifetime_in_seconds", "36000"),
                ("rotation_type", "rotating"),
                ("leeway", "10"),
            ],
            StatusCode::BAD_REQUEST,
            "is not an absolute URL",
        )
        .await;
    admin
        .post_refused(
            &app,
            &settings,
            &settings,
            &[
                ("name", "Quickstart SPA"),
                ("grant_types", "authorization_code"),
                ("lifetime_in_seconds", "36000"),
                ("rotation_type", "rotating"),
                ("leeway", "600"),
            ],
            StatusCode::BAD_REQUEST,
            "refresh_token.leeway must be between 0 and 60",
        )
        .await;
    admin
        .post_ok(
            &app,
            &settings,
            &settings,
            &[
                ("name", "Quickstart SPA"),
                (
                    "callbacks",
                    "http://localhost:3000\nhttp://localhost:3000/callback",
                ),
                ("allowed_logout_urls", "http://localhost:3000"),
                ("web_origins", "http://localhost:3000/"),
                ("grant_types", "authorization_code"),
                ("grant_types", "refresh_token"),
                ("lifetime_in_seconds", "3600"),
                ("rotation_type", "rotating"),
                ("leeway", "5"),
            ],
        )
        .await;
    let spa = app.store.client_by_id(&client_id).await.unwrap().unwrap();
    assert_eq!(
        spa.callbacks,
        ["http://localhost:3000", "http://localhost:3000/callback"]
    );
    assert_eq!(spa.web_origins, ["http://localhost:3000"]);
    assert_eq!(spa.grant_types, ["authorization_code", "refresh_token"]);
    assert_eq!((spa.id_token_lifetime, spa.refresh_token.leeway), (3600, 5));

    // A machine-to-machine application: its secret is shown once, in the answer.
    let response = admin
        .post(
            &app,
            new,
            "/dashboard/applications",
            &[("name", "Backend"), ("app_type", "non_interactive")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let html = unescape(&response.text().await.unwrap());
    let secret = between(&html, "id=\"client-secret\">", "<");
    let (clients, _) = app.store.list_clients(Page::ALL).await.unwrap();
    let m2m = clients
        .iter()
        .find(|c| c.name == "Backend")
        .unwrap()
        .clone();
    assert_eq!(m2m.client_secret_hash, Some(app.hasher.hash(&secret)));
    let credentials = format!("/dashboard/applications/{}/credentials", m2m.client_id);
    let (_, page) = admin.get(&app, &credentials).await;
    assert!(!page.contains(&secret), "never shown again");

    // Rotation shows a new secret once.
    let rotated = admin
        .post(
            &app,
            &credentials,
            &format!("/dashboard/applications/{}/rotate", m2m.client_id),
            &[],
        )
        .await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let new_secret = between(
        &unescape(&rotated.text().await.unwrap()),
        "id=\"client-secret\">",
        "<",
    );
    assert_ne!(new_secret, secret);
    let m2m = app
        .store
        .client_by_id(&m2m.client_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m2m.client_secret_hash, Some(app.hasher.hash(&new_secret)));

    // APIs tab: authorize an API and choose its scopes; the grant works at /oauth/token.
    app.create_api(false).await;
    let apis = format!("/dashboard/applications/{}/apis", m2m.client_id);
    admin
        .post_ok(&app, &apis, &apis, &[("audience", API)])
        .await;
    let grant = app
        .store
        .client_grant_for(&m2m.client_id, API)
        .await
        .unwrap()
        .expect("grant");
    admin
        .post_ok(
            &app,
            &apis,
            &format!("{apis}/update"),
            &[("grant_id", grant.id.as_str()), ("scope", "read:messages")],
        )
        .await;
    let token = app
        .browser
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &m2m.client_id),
            ("client_secret", &new_secret),
            ("audience", API),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::OK);
    let body: Value = token.json().await.unwrap();
    assert_eq!(body["scope"], "read:messages");
    admin
        .post_ok(
            &app,
            &apis,
            &format!("{apis}/revoke"),
            &[("grant_id", grant.id.as_str())],
        )
        .await;
    assert!(app
        .store
        .client_grant_for(&m2m.client_id, API)
        .await
        .unwrap()
        .is_none());

    // Deleting asks for the name.
    let delete = format!("/dashboard/applications/{client_id}/delete");
    admin
        .post_refused(
            &app,
            &settings,
            &delete,
            &[("confirm", "nope")],
            StatusCode::BAD_REQUEST,
            "Type the application's name",
        )
        .await;
    admin
        .post_ok(&app, &settings, &delete, &[("confirm", "Quickstart SPA")])
        .await;
    assert!(app.store.client_by_id(&client_id).await.unwrap().is_none());
}

fn between(html: &str, start: &str, end: &str) -> String {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in\n{html}"))
        + start.len();
    let to = html[from..].find(end).expect("end") + from;
    html[from..to].trim().to_owned()
}

#[tokio::test]
async fn users_are_created_searched_blocked_and_given_roles() {
    let app = spawn_app().await;
    let admin = app.dashboard_admin().await;
    let new = "/dashboard/users/new";
    admin
        .post_refused(
            &app,
            new,
            "/dashboard/users",
            &[("email", "not-an-email"), ("password", PASSWORD)],
            StatusCode::BAD_REQUEST,
            "a valid email address is required",
        )
        .await;
    admin
        .post_refused(
            &app,
            new,
            "/dashboard/users",
            &[("email", "jane@example.com"), ("password", "short")],
            StatusCode::BAD_REQUEST,
            "Password is too short",
        )
        .await;
    let details = admin
        .post_ok(
            &app,
            new,
            "/dashboard/users",
            &[
                ("email", "jane@example.com"),
                ("password", PASSWORD),
                ("email_verified", "on"),
            ],
        )
        .await;
    admin
        .post_refused(
            &app,
            new,
            "/dashboard/users",
            &[("email", "JANE@example.com"), ("password", PASSWORD)],
            StatusCode::CONFLICT,
            "The user already exists.",
        )
        .await;
    app.create_user("john@example.org").await;
    let jane = app
        .store
        .user_by_email("jane@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(jane.email_verified);
    assert_eq!(details, user_path(&jane.user_id, "details"));

    let (_, html) = admin.get(&app, "/dashboard/users?q=example.org").await;
    assert!(html.contains("john@example.org") && !html.contains("jane@example.com"));
    let (_, html) = admin.get(&app, "/dashboard/users?q=nobody").await;
    assert!(html.contains("No user's email contains"));

    admin
        .post_ok(
            &app,
            &details,
            &details,
            &[
                ("name", "Jane Doe"),
                ("given_name", "Jane"),
                ("family_name", "Doe"),
                ("email_verified", "on"),
            ],
        )
        .await;
    let block = user_path(&jane.user_id, "block");
    admin
        .post_ok(&app, &details, &block, &[("blocked", "true")])
        .await;
    assert!(
        app.store
            .user_by_id(&jane.user_id)
            .await
            .unwrap()
            .unwrap()
            .blocked
    );
    let (_, html) = admin.get(&app, "/dashboard/users").await;
    assert!(html.contains("Blocked"));
    admin
        .post_ok(&app, &details, &block, &[("blocked", "false")])
        .await;
    let jane = app.store.user_by_id(&jane.user_id).await.unwrap().unwrap();
    assert!(!jane.blocked);
    assert_eq!(jane.name, "Jane Doe");
    assert_eq!(jane.given_name.as_deref(), Some("Jane"));
    assert_eq!(jane.family_name.as_deref(), Some("Doe"));
    let (_, html) = admin.get(&app, &details).await;
    assert!(html.contains(r#"name="given_name" value="Jane""#), "{html}");
    let long = "x".repeat(151);
    admin
        .post_refused(
            &app,
            &details,
            &details,
            &[
                ("name", "Jane Doe"),
                ("given_name", &long),
                ("email_verified", "on"),
            ],
            StatusCode::BAD_REQUEST,
            "given_name must be at most 150 characters (it has 151)",
        )
        .await;
    // An emptied field clears its name part.
    admin
        .post_ok(
            &app,
            &details,
            &details,
            &[
                ("name", "Jane Doe"),
                ("given_name", ""),
                ("family_name", "Doe"),
                ("email_verified", "on"),
            ],
        )
        .await;
    let named = app.store.user_by_id(&jane.user_id).await.unwrap().unwrap();
    assert_eq!(named.given_name, None);
    assert_eq!(named.family_name.as_deref(), Some("Doe"));

    let role = roles::create(
        &app.cx,
        &Actor::System,
        NewRole {
            name: "Editor".into(),
            description: "Edits".into(),
        },
    )
    .await
    .unwrap();
    let roles = user_path(&jane.user_id, "roles");
    admin
        .post_refused(
            &app,
            &roles,
            &roles,
            &[("role_id", "rol_nope")],
            StatusCode::BAD_REQUEST,
            "Choose a role to assign.",
        )
        .await;
    admin
        .post_ok(&app, &roles, &roles, &[("role_id", role.id.as_str())])
        .await;
    assert_eq!(
        app.store.user_roles(&jane.user_id).await.unwrap(),
        std::slice::from_ref(&role)
    );
    let (_, html) = admin.get(&app, &roles).await;
    assert!(html.contains("Editor"));
    admin
        .post_ok(
            &app,
            &roles,
            &format!("{roles}/remove"),
            &[("role_id", role.id.as_str())],
        )
        .await;
    assert!(app
        .store
        .user_roles(&jane.user_id)
        .await
        .unwrap()
        .is_empty());

    let delete = user_path(&jane.user_id, "delete");
    admin
        .post_ok(&app, &details, &delete, &[("confirm", "jane@example.com")])
        .await;
    assert!(app.store.user_by_id(&jane.user_id).await.unwrap().is_none());
    let (status, _) = admin.get(&app, &details).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn roles_get_permissions_and_members() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let jane = app.create_user("jane@example.com").await;
    let admin = app.dashboard_admin().await;
    let new = "/dashboard/roles/new";
    admin
        .post_refused(
            &app,
            new,
            "/dashboard/roles",
            &[("name", "")],
            StatusCode::BAD_REQUEST,
            "a role name must have 1 to 100 characters",
        )
        .await;
    let permissions = admin
        .post_ok(
            &app,
            new,
            "/dashboard/roles",
            &[("name", "Reader"), ("description", "Reads messages")],
        )
        .await;
    admin
        .post_refused(
            &app,
            new,
            "/dashboard/roles",
            &[("name", "reader")],
            StatusCode::CONFLICT,
            "A role with this name already exists",
        )
        .await;
    let (roles, _) = app.store.list_roles(None, Page::ALL).await.unwrap();
    let role = roles.into_iter().find(|r| r.name == "Reader").unwrap();
    assert_eq!(
        permissions,
        format!("/dashboard/roles/{}/permissions", role.id)
    );

    let wanted = format!("{API} read:messages");
    admin
        .post_ok(
            &app,
            &permissions,
            &permissions,
            &[("permission", wanted.as_str())],
        )
        .await;
    let unknown = format!("{API} delete:messages");
    admin
        .post_refused(
            &app,
            &permissions,
            &permissions,
            &[("permission", unknown.as_str())],
            StatusCode::BAD_REQUEST,
            "does not define the scope delete:messages",
        )
        .await;
    let held = app.store.role_permissions(&role.id).await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].permission_name, "read:messages");

    let members = format!("/dashboard/roles/{}/users", role.id);
    admin
        .post_refused(
            &app,
            &members,
            &members,
            &[("email", "ghost@example.com")],
            StatusCode::BAD_REQUEST,
            "No user has the email address",
        )
        .await;
    admin
        .post_ok(&app, &members, &members, &[("email", "jane@example.com")])
        .await;
    let (ids, _) = app.store.role_users(&role.id, Page::ALL).await.unwrap();
    assert_eq!(ids, std::slice::from_ref(&jane));
    let (_, html) = admin.get(&app, &members).await;
    assert!(html.contains("jane@example.com"));
    admin
        .post_ok(
            &app,
            &members,
            &format!("{members}/remove"),
            &[("user_id", jane.as_str())],
        )
        .await;
    assert!(app.store.user_roles(&jane).await.unwrap().is_empty());
    admin
        .post_ok(
            &app,
            &permissions,
            &format!("{permissions}/remove"),
            &[("api", API), ("name", "read:messages")],
        )
        .await;
    assert!(app
        .store
        .role_permissions(&role.id)
        .await
        .unwrap()
        .is_empty());

    let settings = format!("/dashboard/roles/{}/settings", role.id);
    admin
        .post_ok(
            &app,
            &settings,
            &settings,
            &[("name", "Message reader"), ("description", "")],
        )
        .await;
    assert_eq!(
        app.store.role_by_id(&role.id).await.unwrap().unwrap().name,
        "Message reader"
    );
    admin
        .post_ok(
            &app,
            &settings,
            &format!("/dashboard/roles/{}/delete", role.id),
            &[("confirm", "Message reader")],
        )
        .await;
    assert!(app.store.role_by_id(&role.id).await.unwrap().is_none());
}

#[tokio::test]
async fn users_get_direct_permissions() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let jane = app.create_user("jane@example.com").await;
    let admin = app.dashboard_admin().await;
    let tab = user_path(&jane, "permissions");
    let (status, html) = admin.get(&app, &tab).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("0 granted to this user directly"), "{html}");
    assert!(html.contains(&format!("value=\"{API} read:messages\"")));

    admin
        .post_refused(
            &app,
            &tab,
            &tab,
            &[],
            StatusCode::BAD_REQUEST,
            "Choose one or more permissions to add.",
        )
        .await;
    let unknown = format!("{API} delete:messages");
    admin
        .post_refused(
            &app,
            &tab,
            &tab,
            &[("permission", unknown.as_str())],
            StatusCode::BAD_REQUEST,
            "does not define the scope delete:messages",
        )
        .await;
    let wanted = format!("{API} read:messages");
    let back = admin
        .post_ok(&app, &tab, &tab, &[("permission", wanted.as_str())])
        .await;
    assert_eq!(back, tab);
    let held = app.store.user_permissions(&jane).await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].permission_name, "read:messages");
    let (_, html) = admin.get(&app, &tab).await;
    assert!(html.contains("1 granted to this user directly"));
    assert!(
        !html.contains(&format!("value=\"{API} read:messages\"")),
        "a held scope is not offered again"
    );

    admin
        .post_ok(
            &app,
            &tab,
            &format!("{tab}/remove"),
            &[("api", API), ("name", "read:messages")],
        )
        .await;
    assert!(app.store.user_permissions(&jane).await.unwrap().is_empty());
    let (logs, _) = app
        .store
        .list_logs(
            &LogFilter {
                event_type: Some("sapi".into()),
                ..LogFilter::default()
            },
            Page::ALL,
        )
        .await
        .unwrap();
    let described: Vec<&str> = logs.iter().map(|l| l.description.as_str()).collect();
    assert!(described.contains(&"Add permissions to a user"));
    assert!(described.contains(&"Remove a permission from a user"));
}

#[tokio::test]
async fn every_list_is_paginated() {
    let app = spawn_app().await;
    for i in 0..25 {
        app.create_user(&format!("user{i:02}@example.com")).await;
        roles::create(
            &app.cx,
            &Actor::System,
            NewRole {
                name: format!("Role {i:02}"),
                description: String::new(),
            },
        )
        .await
        .unwrap();
    }
    let admin = app.dashboard_admin().await;
    let (_, first) = admin.get(&app, "/dashboard/users").await;
    assert!(first.contains("1–20 of 25"), "{first}");
    assert!(first.contains("href=\"/dashboard/users?page=2\""));
    assert_eq!(first.matches("class=\"cell-title\"").count(), 20);
    let (_, second) = admin.get(&app, "/dashboard/users?page=2").await;
    assert!(second.contains("21–25 of 25"));
    assert_eq!(second.matches("class=\"cell-title\"").count(), 5);
    assert!(second.contains("href=\"/dashboard/users\"") && second.contains("rel=\"prev\""));
    // Filters stay on the page links.
    let (_, filtered) = admin.get(&app, "/dashboard/users?q=user1").await;
    assert!(filtered.contains("1–10 of 10"));
    let (_, roles) = admin.get(&app, "/dashboard/roles?page=2").await;
    assert!(roles.contains("21–25 of 25"));
    // A page beyond the end, or nonsense, is not an error.
    let (status, _) = admin.get(&app, "/dashboard/roles?page=99").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = admin.get(&app, "/dashboard/roles?page=-1&page=x").await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/dashboard/apis",
        "/dashboard/applications",
        "/dashboard/logs",
    ] {
        let (status, html) = admin.get(&app, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(html.contains("aria-label=\"Pagination\""), "{path}");
    }
    let (_, logs) = admin.get(&app, "/dashboard/logs?type=s").await;
    assert!(logs.contains("Dashboard sign-in"));
}

#[tokio::test]
async fn changes_appear_in_the_audit_log() {
    let app = spawn_app().await;
    let admin = app.dashboard_admin().await;
    admin
        .post_ok(
            &app,
            "/dashboard/apis/new",
            "/dashboard/apis",
            &[
                ("name", "Quickstart API"),
                ("identifier", API),
                ("signing_alg", "RS256"),
            ],
        )
        .await;
    let api = app
        .store
        .resource_server_by_identifier(API)
        .await
        .unwrap()
        .unwrap();
    let (events, _) = app
        .store
        .list_logs(
            &LogFilter {
                event_type: Some("sapi".into()),
                user_id: Some(admin.id.clone()),
                client_id: None,
            },
            Page::ALL,
        )
        .await
        .unwrap();
    let created = events
        .iter()
        .find(|e| e.description == "Create an API")
        .expect("logged");
    assert_eq!(created.details["admin"]["email"], ADMIN_EMAIL);
    assert_eq!(created.details["admin"]["id"], admin.id.as_str());
    assert_eq!(created.details["action"], "create");
    assert_eq!(created.details["target"]["type"], "resource_server");
    assert_eq!(created.details["target"]["id"], api.id.as_str());
    assert_eq!(created.ip.as_deref(), Some("127.0.0.1"));

    // The Logs section lists it, filters by type and by the administrator's email, and shows
    // its details.
    let (_, html) = admin.get(&app, "/dashboard/logs?type=sapi").await;
    assert!(html.contains("Create an API") && html.contains(ADMIN_EMAIL));
    assert!(!html.contains("Dashboard sign-in"));
    let (_, html) = admin
        .get(
            &app,
            &format!("/dashboard/logs?user={ADMIN_EMAIL}&type=sapi"),
        )
        .await;
    assert!(html.contains("Create an API"));
    let (_, html) = admin
        .get(&app, "/dashboard/logs?user=nobody%40example.com")
        .await;
    assert!(html.contains("No event matches these filters."));
    let (status, html) = admin
        .get(&app, &format!("/dashboard/logs/{}", created.log_id))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("resource_server") && html.contains(&api.id));
    let (status, _) = admin.get(&app, "/dashboard/logs/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_first_administrator_is_created_once() {
    // The server created one at start (generated: no environment in tests).
    let app = spawn_app().await;
    let admins = app.store.list_admins().await.unwrap();
    assert_eq!(admins.len(), 1);
    assert_eq!(admins[0].email, "admin@localhost");
    let again = ensure_admin(
        &app.cx,
        &app.issuer,
        Some(("other@example.com".into(), ADMIN_PASSWORD.into())),
    )
    .await
    .unwrap();
    assert_eq!(again, Outcome::Skipped);

    // On an empty store, given credentials are used, and bad ones stop the start.
    let data_dir = tempfile::tempdir().unwrap();
    let store = crate::helpers::test_store(&data_dir).await;
    let cx = Context::new(store.clone(), app.clock.clone(), &app.master_key);
    let refused = ensure_admin(
        &cx,
        &app.issuer,
        Some(("root@example.com".into(), "short".into())),
    )
    .await;
    assert!(refused.unwrap_err().to_string().contains("too short"));
    let given = ensure_admin(
        &cx,
        &app.issuer,
        Some(("root@example.com".into(), ADMIN_PASSWORD.into())),
    )
    .await
    .unwrap();
    assert_eq!(
        given,
        Outcome::Given {
            email: "root@example.com".into()
        }
    );
    let attempt = Attempt {
        realm: Realm::Dashboard,
        email: "root@example.com",
        password: &ADMIN_PASSWORD.into(),
        ip: std::net::Ipv4Addr::LOCALHOST.into(),
        now: 0,
    };
    let admin = SignIn::default()
        .check(store.as_ref(), attempt, || async {
            let admin = store.admin_by_email("root@example.com").await?;
            Ok(admin.map(|a| {
                let hash = a.password_hash.clone();
                (a, hash)
            }))
        })
        .await;
    assert!(admin.is_ok());
}

/// The repository's root.
fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// Whether `program` runs.
fn runs(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// The seed tutorials' dashboard steps in headless Chromium: sign in, Create API (name,
/// identifier, RS256), add the scope read:messages, create an SPA, open the Test tab and copy
/// the token; then the token is verified here against the JWKS. Screenshots of every page go
/// to `artifacts/dashboard/`.
#[tokio::test]
async fn browser_walks_the_seed_steps() {
    if !runs("node") {
        eprintln!(
            "\n\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
             SKIPPED browser_walks_the_seed_steps: `node` is not installed, so the dashboard's\n\
             browser test did not run. Run scripts/install-browser-deps.sh to install it.\n\
             !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
        );
        return;
    }
    let root = workspace_root();
    let suite = root.join("samples/browser-tests");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !suite.join("node_modules/playwright-core").is_dir() || !PathBuf::from(&chromium).exists() {
        let status = std::process::Command::new("bash")
            .arg(root.join("scripts/install-browser-deps.sh"))
            .current_dir(&root)
            .status()
            .expect("run scripts/install-browser-deps.sh");
        assert!(status.success(), "scripts/install-browser-deps.sh failed");
    }
    let app = spawn_app().await;
    administrators::create(&app.cx, &Actor::System, ADMIN_EMAIL, &ADMIN_PASSWORD.into())
        .await
        .expect("admin");
    let artifacts = root.join("artifacts/dashboard");
    if artifacts.exists() {
        std::fs::remove_dir_all(&artifacts).expect("clear old screenshots");
    }
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/dashboard-browser/dashboard.mjs");
    let child = tokio::process::Command::new("node")
        .arg(&script)
        .env("PORTCULLIS_URL", &app.base)
        .env("PORTCULLIS_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("PORTCULLIS_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("DASHBOARD_ARTIFACTS", &artifacts)
        .env("PLAYWRIGHT_PACKAGE", suite.join("package.json"))
        .env("CHROMIUM", &chromium)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start node");
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(240),
        child.wait_with_output(),
    )
    .await
    .expect("the browser test finished in time")
    .expect("node output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "dashboard.mjs failed:\n{stdout}");
    let result: Value = serde_json::from_str(stdout.lines().last().expect("a result line"))
        .expect("the result is JSON");

    let token = result["token"].as_str().expect("the copied token");
    let claims = app.verify(token, API).await;
    assert_eq!(claims["iss"], app.issuer.as_str());
    assert_eq!(claims["aud"], API);
    assert_eq!(claims["scope"], "read:messages");
    let screenshots = std::fs::read_dir(&artifacts).expect("artifacts").count();
    assert!(screenshots >= 15, "{screenshots} screenshots");
    assert_eq!(result["screenshots"].as_u64(), Some(screenshots as u64));
}
