//! Third-party applications (`is_first_party: false`) and the consent page: the user approves
//! the scopes an application asks for before it gets a code; the approval is remembered per
//! user, application and audience; `prompt=none` without it answers `consent_required`;
//! denying answers `access_denied`; administrators list and revoke approvals through the
//! Management API (`/grants`) and the dashboard. First-party applications skip the page.

use std::collections::HashMap;

use portcullis_core::admin::{
    apis,
    applications::{self, NewClient},
    Actor,
};
use portcullis_store::{AppType, ConsentFilter, Page};
use portcullis_types::GrantType;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    dashboard::{unescape, user_path},
    helpers::*,
    management_support::*,
};

/// A single-page application owned by someone else.
async fn third_party_spa(app: &TestApp) -> Spa {
    let (client, _) = applications::create(
        &app.cx,
        &Actor::System,
        NewClient {
            name: "Partner <Photos>".into(),
            app_type: Some(AppType::Spa),
            callbacks: vec![SPA_ORIGIN.into()],
            web_origins: vec![SPA_ORIGIN.into()],
            grant_types: Some(vec![GrantType::AuthorizationCode, GrantType::RefreshToken]),
            is_first_party: Some(false),
            ..NewClient::default()
        },
    )
    .await
    .expect("client");
    Spa {
        client_id: client.client_id,
        redirect_uri: SPA_ORIGIN.into(),
    }
}

/// An authorization request with PKCE for `scope` at the API; returns the URL and verifier.
fn request(app: &TestApp, spa: &Spa, extra: &[(&str, &str)]) -> (String, String) {
    let (verifier, challenge) = pkce();
    let mut params = vec![
        ("audience", API),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("state", "st+/=te"),
    ];
    params.extend_from_slice(extra);
    (app.authorize_url(spa, &params), verifier)
}

/// Submits the consent page `html` with `decision` (`accept` or `deny`); follows the redirect
/// back to /authorize after an approval and returns the server's last answer.
async fn decide(
    app: &TestApp,
    browser: &reqwest::Client,
    html: &str,
    decision: &str,
) -> reqwest::Response {
    let answer = browser
        .post(app.url("/u/consent"))
        .form(&[
            ("csrf", hidden_field(html, "csrf").as_str()),
            ("authorize_query", &hidden_field(html, "authorize_query")),
            ("decision", decision),
        ])
        .send()
        .await
        .expect("consent");
    if answer.status() != StatusCode::SEE_OTHER {
        return answer;
    }
    let back = location(&answer);
    assert!(back.starts_with("/authorize?"), "consent went to {back}");
    assert!(!back.contains("prompt="), "{back}");
    browser
        .get(app.url(&back))
        .send()
        .await
        .expect("authorize again")
}

/// The consent page `response` shows; panics when it is anything else.
async fn consent_page(response: reqwest::Response) -> String {
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "expected the consent page"
    );
    let headers = response.headers().clone();
    assert_eq!(headers["x-frame-options"], "DENY");
    let html = response.text().await.expect("html");
    assert!(html.contains("action=\"/u/consent\""), "{html}");
    html
}

/// The callback's query of a 302 to the application.
fn callback(response: &reqwest::Response) -> HashMap<String, String> {
    assert_eq!(response.status(), StatusCode::FOUND);
    let target = location(response);
    assert!(target.starts_with(SPA_ORIGIN), "{target}");
    callback_params(&target)
}

/// Whether the user has approved anything for `spa` at `audience`.
async fn approved(app: &TestApp, user_id: &str, spa: &Spa, audience: &str) -> bool {
    app.store
        .consent_for(user_id, &spa.client_id, audience)
        .await
        .unwrap()
        .is_some()
}

/// A new user of a third-party SPA who just logged in and sees the consent page of a
/// request for the API.
struct AtConsent {
    app: TestApp,
    spa: Spa,
    user_id: String,
    browser: reqwest::Client,
    /// The request, and its PKCE verifier.
    url: String,
    verifier: String,
    html: String,
}

async fn at_consent_page(email: &str, offline_access: bool) -> AtConsent {
    let app = spawn_app().await;
    app.create_api(offline_access).await;
    let spa = third_party_spa(&app).await;
    let user_id = app.create_user(email).await;
    let browser = browser();
    let (url, verifier) = request(&app, &spa, &[]);
    let page = app.login_via_form(&browser, &url, email, PASSWORD).await;
    let html = consent_page(page).await;
    AtConsent {
        app,
        spa,
        user_id,
        browser,
        url,
        verifier,
        html,
    }
}

#[tokio::test]
async fn a_third_party_application_gets_a_code_only_after_the_user_consents_once() {
    let AtConsent {
        app,
        spa,
        user_id,
        browser,
        verifier,
        html,
        ..
    } = at_consent_page("consent@example.com", true).await;
    // The application by name (escaped), each scope with its description.
    assert!(html.contains("Partner &lt;Photos&gt;"), "{html}");
    assert!(!html.contains("Partner <Photos>"));
    assert!(html.contains("Quickstart API"));
    for text in [
        "Read messages",
        "read:messages",
        "Read your email address",
        "Read your profile",
        "Know who you are",
        "consent@example.com",
    ] {
        assert!(html.contains(text), "{text} missing: {html}");
    }

    let answer = decide(&app, &browser, &html, "accept").await;
    let params = callback(&answer);
    assert_eq!(params["state"], "st+/=te");
    let tokens: Value = app
        .exchange_code(&spa, &params["code"], &verifier)
        .await
        .json()
        .await
        .unwrap();
    let claims = app
        .verify(tokens["access_token"].as_str().expect("access token"), API)
        .await;
    assert_eq!(claims["scope"], "openid profile email read:messages");

    // Remembered: the same request gets its code at once.
    let (url, _) = request(&app, &spa, &[]);
    let again = browser.get(&url).send().await.unwrap();
    assert!(callback(&again).contains_key("code"));

    // A scope not approved yet brings the page back, listing only what is new; approving
    // it widens the consent.
    let scope = "openid read:messages offline_access";
    let (url, _) = request(&app, &spa, &[("scope", scope)]);
    let html = consent_page(browser.get(&url).send().await.unwrap()).await;
    assert!(html.contains("offline_access"), "{html}");
    assert!(!html.contains("read:messages</code>"), "{html}");
    assert!(callback(&decide(&app, &browser, &html, "accept").await).contains_key("code"));
    let consent = app
        .store
        .consent_for(&user_id, &spa.client_id, API)
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(
        consent.scope.to_string(),
        "openid profile email read:messages offline_access"
    );

    // OpenID Connect scopes alone are approved for the userinfo audience.
    let (verifier, challenge) = pkce();
    let url = app.authorize_url(
        &spa,
        &[
            ("scope", "openid email"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let html = consent_page(browser.get(&url).send().await.unwrap()).await;
    assert!(!html.contains("Quickstart API"));
    let params = callback(&decide(&app, &browser, &html, "accept").await);
    let exchanged = app.exchange_code(&spa, &params["code"], &verifier).await;
    assert_eq!(exchanged.status(), StatusCode::OK);
    let userinfo = format!("{}userinfo", app.issuer);
    assert!(approved(&app, &user_id, &spa, &userinfo).await);

    // Deleting the API deletes the consents to it, not the others.
    let api = app
        .store
        .resource_server_by_identifier(API)
        .await
        .unwrap()
        .expect("api");
    apis::delete(&app.cx, &Actor::System, &api.id)
        .await
        .expect("delete");
    assert!(!approved(&app, &user_id, &spa, API).await);
    assert!(approved(&app, &user_id, &spa, &userinfo).await);
}

#[tokio::test]
async fn denying_answers_access_denied_by_the_response_mode() {
    let AtConsent {
        app,
        spa,
        user_id,
        browser,
        html,
        ..
    } = at_consent_page("deny@example.com", false).await;
    let params = callback(&decide(&app, &browser, &html, "deny").await);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "st+/=te");
    assert!(!params.contains_key("code"));

    let (url, _) = request(&app, &spa, &[("response_mode", "form_post")]);
    let html = consent_page(browser.get(&url).send().await.unwrap()).await;
    let answer = decide(&app, &browser, &html, "deny").await;
    assert_eq!(answer.status(), StatusCode::OK);
    let posted = unescape(&answer.text().await.unwrap());
    assert!(
        posted.contains(&format!("action=\"{SPA_ORIGIN}\"")),
        "{posted}"
    );
    assert!(
        posted.contains("name=\"error\" value=\"access_denied\""),
        "{posted}"
    );

    let (consents, total) = app
        .store
        .list_consents(
            &ConsentFilter {
                user_id: Some(user_id),
                ..ConsentFilter::default()
            },
            Page::ALL,
        )
        .await
        .unwrap();
    assert_eq!((consents.len(), total), (0, 0), "nothing was approved");
}

#[tokio::test]
async fn prompt_none_without_consent_answers_consent_required_and_prompt_consent_asks_again() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let first_party = app.create_spa(false).await;
    let partner = third_party_spa(&app).await;
    app.create_user("silent@example.com").await;
    let browser = browser();
    // Signed in through the first-party application, which never asks.
    let (params, _) = app
        .login_for_code(&browser, &first_party, "silent@example.com", &[])
        .await;
    assert!(params.contains_key("code"));

    let (silent, _) = request(&app, &partner, &[("prompt", "none")]);
    let params = callback(&browser.get(&silent).send().await.unwrap());
    assert_eq!(params["error"], "consent_required");
    assert_eq!(params["state"], "st+/=te");

    let (url, _) = request(&app, &partner, &[]);
    let html = consent_page(browser.get(&url).send().await.unwrap()).await;
    assert!(callback(&decide(&app, &browser, &html, "accept").await).contains_key("code"));
    let (silent, _) = request(&app, &partner, &[("prompt", "none")]);
    assert!(callback(&browser.get(&silent).send().await.unwrap()).contains_key("code"));

    // prompt=consent shows the page even after approval, and only once.
    let (forced, _) = request(&app, &partner, &[("prompt", "consent")]);
    let html = consent_page(browser.get(&forced).send().await.unwrap()).await;
    assert!(callback(&decide(&app, &browser, &html, "accept").await).contains_key("code"));
}

#[tokio::test]
async fn first_party_applications_skip_the_page() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    let user_id = app.create_user("first@example.com").await;
    let browser = browser();
    let (url, _) = request(&app, &spa, &[]);
    let answer = app
        .login_via_form(&browser, &url, "first@example.com", PASSWORD)
        .await;
    assert!(callback(&answer).contains_key("code"));
    assert!(!approved(&app, &user_id, &spa, API).await);
}

#[tokio::test]
async fn the_consent_form_needs_its_csrf_value_and_a_session() {
    let AtConsent {
        app,
        spa,
        user_id,
        browser,
        url,
        html,
        ..
    } = at_consent_page("csrf@example.com", false).await;
    let query = hidden_field(&html, "authorize_query");
    let forged = browser
        .post(app.url("/u/consent"))
        .form(&[
            ("csrf", "a-value-of-the-attacker-that-is-long-enough"),
            ("authorize_query", &query),
            ("decision", "accept"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // Another browser, with a CSRF cookie of its own but no session, is sent to log in.
    let stranger = crate::helpers::browser();
    let login = stranger.get(&url).send().await.unwrap();
    let login_page = stranger
        .get(app.url(&location(&login)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_field(&login_page, "csrf");
    let answer = stranger
        .post(app.url("/u/consent"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("authorize_query", &query),
            ("decision", "accept"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let back = stranger
        .get(app.url(&location(&answer)))
        .send()
        .await
        .unwrap();
    assert!(location(&back).starts_with("/u/login?"));
    assert!(!approved(&app, &user_id, &spa, API).await);
}

/// Logs `email` in to `spa` and approves the page; returns the tokens of the code.
async fn consented_tokens(app: &TestApp, spa: &Spa, email: &str) -> Value {
    let browser = browser();
    let scope = [("scope", "openid read:messages offline_access")];
    let (url, verifier) = request(app, spa, &scope);
    let html = consent_page(app.login_via_form(&browser, &url, email, PASSWORD).await).await;
    let params = callback(&decide(app, &browser, &html, "accept").await);
    app.exchange_code(spa, &params["code"], &verifier)
        .await
        .json()
        .await
        .unwrap()
}

async fn refresh(app: &TestApp, spa: &Spa, tokens: &Value) -> StatusCode {
    app.browser
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", spa.client_id.as_str()),
            (
                "refresh_token",
                tokens["refresh_token"].as_str().expect("refresh token"),
            ),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn the_management_api_lists_and_revokes_grants() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    app.create_api(true).await;
    // A third-party application made through the Management API.
    let spa = app.create_spa(false).await;
    let (status, client) = mgmt
        .patch(
            &format!("/clients/{}", spa.client_id),
            json!({"is_first_party": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{client}");
    assert_eq!(client["is_first_party"], false);
    let alice = app.create_user("alice@example.com").await;
    let bob = app.create_user("bob@example.com").await;
    let tokens = consented_tokens(app, &spa, "alice@example.com").await;
    consented_tokens(app, &spa, "bob@example.com").await;

    let (status, grants) = mgmt
        .get(&format!("/grants?user_id={}", encode(&alice)))
        .await;
    assert_eq!(status, StatusCode::OK, "{grants}");
    let grants = grants.as_array().unwrap().clone();
    assert_eq!(grants.len(), 1);
    let grant = &grants[0];
    assert_eq!(grant["clientID"], spa.client_id.as_str());
    assert_eq!(grant["user_id"], alice.as_str());
    assert_eq!(grant["audience"], API);
    assert_eq!(
        grant["scope"],
        json!(["openid", "read:messages", "offline_access"])
    );
    let (status, page) = mgmt
        .get(&format!(
            "/grants?client_id={}&include_totals=true&per_page=1",
            spa.client_id
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            page["total"].as_u64(),
            page["grants"].as_array().unwrap().len()
        ),
        (Some(2), 1)
    );
    let (_, none) = mgmt.get("/grants?audience=https://elsewhere").await;
    assert_eq!(none, json!([]));

    // Revoking ends the refresh tokens and brings the page back.
    assert_eq!(refresh(app, &spa, &tokens).await, StatusCode::OK);
    let id = grant["id"].as_str().unwrap();
    let (status, _) = mgmt.delete(&format!("/grants/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(refresh(app, &spa, &tokens).await, StatusCode::BAD_REQUEST);
    let missing = mgmt.delete(&format!("/grants/{id}")).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "inexistent_grant");
    let browser = browser();
    let (url, _) = request(app, &spa, &[]);
    consent_page(
        app.login_via_form(&browser, &url, "alice@example.com", PASSWORD)
            .await,
    )
    .await;

    let unnamed = mgmt.delete("/grants").await;
    assert_error(&unnamed, StatusCode::BAD_REQUEST, "invalid_query_string");
    let (status, _) = mgmt
        .delete(&format!("/grants?user_id={}", encode(&bob)))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, left) = mgmt.get("/grants").await;
    assert_eq!(left, json!([]));

    // Each revocation is in the audit log, by its caller.
    let (status, logs) = mgmt.get("/logs?q=type:sapi").await;
    assert_eq!(status, StatusCode::OK);
    let revoked: Vec<&Value> = logs
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["description"] == "Delete a user grant")
        .collect();
    assert_eq!(revoked.len(), 2, "{logs}");
    assert_eq!(revoked[1]["details"]["target"]["id"], id);
    assert_eq!(revoked[1]["client_id"], BOOTSTRAP_ID);

    // Deleting the user deletes their consents.
    consented_tokens(app, &spa, "alice@example.com").await;
    let (status, _) = mgmt.delete(&format!("/users/{}", encode(&alice))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, left) = mgmt.get("/grants").await;
    assert_eq!(left, json!([]));
}

#[tokio::test]
async fn the_dashboard_marks_third_party_applications_and_revokes_their_authorizations() {
    let app = spawn_app().await;
    app.create_api(true).await;
    let spa = app.create_spa(false).await;
    let user_id = app.create_user("dash@example.com").await;
    let admin = app.dashboard_admin().await;

    let settings = format!("/dashboard/applications/{}/settings", spa.client_id);
    let (_, html) = admin.get(&app, &settings).await;
    assert!(html.contains("id=\"third_party\""), "{html}");
    assert!(!html.contains("name=\"third_party\" checked"));
    admin
        .post_ok(
            &app,
            &settings,
            &settings,
            &[
                ("name", "Quickstart SPA"),
                ("third_party", "on"),
                ("callbacks", SPA_ORIGIN),
                ("web_origins", SPA_ORIGIN),
                ("grant_types", "authorization_code"),
                ("grant_types", "refresh_token"),
                ("lifetime_in_seconds", "36000"),
                ("rotation_type", "rotating"),
                ("leeway", "0"),
            ],
        )
        .await;
    let client = app
        .store
        .client_by_id(&spa.client_id)
        .await
        .unwrap()
        .unwrap();
    assert!(!client.is_first_party);
    let (_, html) = admin.get(&app, &settings).await;
    assert!(html.contains("name=\"third_party\" checked"), "{html}");

    let tokens = consented_tokens(&app, &spa, "dash@example.com").await;
    let tab = user_path(&user_id, "applications");
    let (status, html) = admin.get(&app, &tab).await;
    assert_eq!(status, StatusCode::OK);
    let html = unescape(&html);
    assert!(html.contains("Authorized Applications"));
    assert!(html.contains("Quickstart SPA"), "{html}");
    assert!(html.contains("Quickstart API"));
    assert!(html.contains("offline_access"));
    let grant_id = hidden_field(&html, "grant_id");
    let done = admin
        .post_ok(
            &app,
            &tab,
            &format!("{}/revoke", tab),
            &[("grant_id", &grant_id)],
        )
        .await;
    assert_eq!(done, tab);
    let (_, html) = admin.get(&app, &tab).await;
    assert!(
        html.contains("No third-party application is authorized."),
        "{html}"
    );
    assert_eq!(refresh(&app, &spa, &tokens).await, StatusCode::BAD_REQUEST);
    let logged = app
        .store
        .list_logs(&portcullis_store::LogFilter::default(), Page::ALL)
        .await
        .unwrap()
        .0;
    assert!(logged.iter().any(|e| e.description == "Delete a user grant"
        && e.details["target"]["id"] == grant_id.as_str()
        && e.details["api"] == "dashboard"));
}
