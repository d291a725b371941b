//! Multi-factor authentication: the hosted second-factor pages, the policy and step-up,
//! silent authentication, `amr` and `acr` in tokens, brute-force protection of codes, and the
//! Management API's guardian and authentication-methods endpoints, the dashboard's Multi-factor
//! tab of a user.

use portcullis_core::{sign_in::ThrottleLimits, Clock};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::{helpers::*, management_support::*};

const MULTI_FACTOR: &str = "http://schemas.openid.net/pape/policies/2007/06/multi-factor";

/// Enables TOTP and recovery codes, with the policy `always` or `[]`.
pub(crate) async fn configure(mgmt: &Mgmt, always: bool) {
    for factor in ["otp", "recovery-code"] {
        let (status, body) = mgmt
            .call(
                Method::PUT,
                &format!("/guardian/factors/{factor}"),
                Some(&json!({"enabled": true})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body, json!({"enabled": true}));
    }
    let policies = if always {
        json!(["all-applications"])
    } else {
        json!([])
    };
    let (status, body) = mgmt
        .call(Method::PUT, "/guardian/policies", Some(&policies))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, policies);
}

/// The code an authenticator app shows for `secret` at `now`.
pub(crate) fn code_at(secret: &str, now: i64) -> String {
    let key = Secret::Encoded(secret.to_owned())
        .to_bytes()
        .expect("base32");
    let totp = TOTP::new(Algorithm::SHA1, 6, 0, 30, key, None, "test".into()).expect("totp");
    totp.generate(u64::try_from(now).expect("time"))
}

/// The text of the element with `id` (a one-line element such as `<code id=..>`).
pub(crate) fn element_text(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no #{id}")) + marker.len();
    let end = html[start..].find('<').expect("end") + start;
    html[start..end].trim().to_owned()
}

/// Codes listed on the recovery-code page.
pub(crate) fn recovery_codes(html: &str) -> Vec<String> {
    html.split("<li><code>")
        .skip(1)
        .map(|rest| rest.split('<').next().expect("code").to_owned())
        .collect()
}

/// Logs in with the password and expects to be sent to the second-factor page: its HTML.
pub(crate) async fn password_then_mfa(
    app: &TestApp,
    browser: &reqwest::Client,
    url: &str,
    email: &str,
) -> String {
    let response = app.login_via_form(browser, url, email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let next = location(&response);
    assert!(
        next.starts_with("/u/mfa?"),
        "expected the MFA page, got {next}"
    );
    let page = browser.get(app.url(&next)).send().await.expect("mfa page");
    assert_eq!(page.status(), StatusCode::OK);
    page.text().await.expect("html")
}

/// An /authorize URL of the SPA with PKCE (its verifier is not needed: no code is exchanged).
fn pkce_url(app: &TestApp, spa: &Spa, extra: &[(&str, &str)]) -> String {
    let (_, challenge) = pkce();
    let mut params = vec![
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    params.extend_from_slice(extra);
    app.authorize_url(spa, &params)
}

/// Posts `code` to the page's form at `action`; the response.
async fn submit(
    app: &TestApp,
    browser: &reqwest::Client,
    html: &str,
    action: &str,
    factor: &str,
    code: &str,
) -> reqwest::Response {
    post_hosted_form(
        app,
        browser,
        html,
        action,
        &[("factor", factor), ("code", code)],
    )
    .await
}

/// Follows a 303 back to `/authorize` and returns the callback's parameters.
async fn back_to_client(
    app: &TestApp,
    browser: &reqwest::Client,
    response: reqwest::Response,
) -> std::collections::HashMap<String, String> {
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let back = location(&response);
    assert!(back.starts_with("/authorize?"), "{back}");
    let answer = browser.get(app.url(&back)).send().await.expect("authorize");
    assert_eq!(answer.status(), StatusCode::FOUND);
    callback_params(&location(&answer))
}

/// A user enrolled when a login asked for a second factor (the `always` policy, or an
/// Action): their TOTP key and recovery codes, with the browser that enrolled (its session has
/// passed MFA) and the enrolment's callback.
pub(crate) struct Enrolled {
    pub secret: String,
    pub codes: Vec<String>,
    pub browser: reqwest::Client,
    pub callback: std::collections::HashMap<String, String>,
    pub verifier: String,
}

pub(crate) async fn enrol(
    app: &TestApp,
    spa: &Spa,
    email: &str,
    extra: &[(&str, &str)],
) -> Enrolled {
    let browser = browser();
    let (verifier, challenge) = pkce();
    let mut params = vec![
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("state", "st"),
    ];
    params.extend_from_slice(extra);
    let url = app.authorize_url(spa, &params);
    let html = password_then_mfa(app, &browser, &url, email).await;
    assert!(
        html.contains("id=\"qr\""),
        "the enrolment page shows a QR code"
    );
    assert!(html.contains("src=\"data:image"));
    let secret = element_text(&html, "secret");
    // A wrong first code is refused and the same key shown again.
    let wrong = submit(app, &browser, &html, "/u/mfa/enrol", "otp", "000000").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let again = wrong.text().await.unwrap();
    assert_eq!(element_text(&again, "secret"), secret);
    let code = code_at(&secret, app.clock.now());
    let confirmed = submit(app, &browser, &again, "/u/mfa/enrol", "otp", &code).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let page = confirmed.text().await.unwrap();
    let codes = recovery_codes(&page);
    assert_eq!(codes.len(), 10);
    // The page's "continue" goes back to /authorize with the request.
    let query = hidden_field(&html, "authorize_query");
    let answer = browser
        .get(app.url(&format!("/authorize?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::FOUND);
    let callback = callback_params(&location(&answer));
    assert!(callback.contains_key("code"), "{callback:?}");
    Enrolled {
        secret,
        codes,
        browser,
        callback,
        verifier,
    }
}

pub(crate) async fn tokens(app: &TestApp, spa: &Spa, code: &str, verifier: &str) -> Value {
    let response = app.exchange_code(spa, code, verifier).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn always_policy_enrols_on_the_spot_and_tokens_carry_amr() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    let user_id = app.create_user("jane@example.com").await;
    configure(&mgmt, true).await;
    let enrolled = enrol(app, &spa, "jane@example.com", &[("audience", API)]).await;
    let body = tokens(app, &spa, &enrolled.callback["code"], &enrolled.verifier).await;
    let id = app
        .verify(body["id_token"].as_str().unwrap(), &spa.client_id)
        .await;
    assert_eq!(id["amr"], json!(["pwd", "mfa", "otp"]));
    assert!(id.get("acr").is_none(), "acr only when asked for");
    let access = app
        .verify(body["access_token"].as_str().unwrap(), API)
        .await;
    assert_eq!(access["amr"], json!(["pwd", "mfa", "otp"]));
    // The user's factors, through the Management API.
    let (status, methods) = mgmt
        .get(&format!("/users/{user_id}/authentication-methods"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut types: Vec<&str> = methods
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    types.sort_unstable();
    assert_eq!(types, ["recovery-code", "totp"]);
    let of_type = |kind: &str| {
        methods
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["type"] == kind)
            .cloned()
            .unwrap()
    };
    assert!(of_type("totp")["id"]
        .as_str()
        .unwrap()
        .starts_with("totp|dev_"));
    assert_eq!(of_type("recovery-code")["unused_codes"], 10);
    assert!(methods.to_string().find(&enrolled.secret).is_none());
    // The same session is not asked again.
    let (verifier, challenge) = pkce();
    let url = app.authorize_url(
        &spa,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let answer = enrolled.browser.get(&url).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::FOUND);
    let callback = callback_params(&location(&answer));
    let body = tokens(app, &spa, &callback["code"], &verifier).await;
    let id = app
        .verify(body["id_token"].as_str().unwrap(), &spa.client_id)
        .await;
    assert_eq!(id["amr"], json!(["pwd", "mfa", "otp"]));
}

#[tokio::test]
async fn a_code_logs_in_once_and_wrong_codes_are_throttled_like_passwords() {
    let mgmt = spawn_mgmt_with(|settings| settings.throttle.per_pair = 3).await;
    let app = &mgmt.app;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    app.create_user("otp@example.com").await;
    configure(&mgmt, true).await;
    let enrolled = enrol(app, &spa, "otp@example.com", &[]).await;
    // The counters are per fixed window: start this part at the beginning of one, so that
    // the clock steps below stay inside it.
    let window = ThrottleLimits::default().window_seconds;
    app.clock
        .advance(window - app.clock.now().rem_euclid(window) + 1);
    // A new browser: password, then a code from the app.
    app.clock.advance(60);
    let browser_a = browser();
    let url = pkce_url(app, &spa, &[]);
    let html = password_then_mfa(app, &browser_a, &url, "otp@example.com").await;
    assert!(html.contains("Verify your identity"));
    let code = code_at(&enrolled.secret, app.clock.now());
    let passed = submit(app, &browser_a, &html, "/u/mfa", "otp", &code).await;
    let callback = back_to_client(app, &browser_a, passed).await;
    assert!(callback.contains_key("code"));
    // The same code again, from another browser in the same step: refused.
    let browser_b = browser();
    let html = password_then_mfa(app, &browser_b, &url, "otp@example.com").await;
    let reused = submit(app, &browser_b, &html, "/u/mfa", "otp", &code).await;
    assert_eq!(reused.status(), StatusCode::UNAUTHORIZED);
    // Wrong codes count with the failed passwords of the pair: past the limit, refused even
    // with a right code.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let wrong = submit(app, &browser_b, &html, "/u/mfa", "otp", "123456").await;
        statuses.push(wrong.status());
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    app.clock.advance(30);
    let fresh = code_at(&enrolled.secret, app.clock.now());
    let refused = submit(app, &browser_b, &html, "/u/mfa", "otp", &fresh).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    // The password form of the same pair is throttled too.
    let again = app
        .login_via_form(&browser(), &url, "otp@example.com", PASSWORD)
        .await;
    assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_recovery_code_works_once() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    app.create_user("lost@example.com").await;
    configure(&mgmt, true).await;
    let enrolled = enrol(app, &spa, "lost@example.com", &[]).await;
    let url = pkce_url(app, &spa, &[]);
    let first = browser();
    let html = password_then_mfa(app, &first, &url, "lost@example.com").await;
    assert!(html.contains("Use a recovery code instead"));
    let typed = enrolled.codes[3].to_lowercase().replace('-', " ");
    let used = submit(app, &first, &html, "/u/mfa", "recovery-code", &typed).await;
    let callback = back_to_client(app, &first, used).await;
    assert!(callback.contains_key("code"));
    let second = browser();
    let html = password_then_mfa(app, &second, &url, "lost@example.com").await;
    let again = submit(
        app,
        &second,
        &html,
        "/u/mfa",
        "recovery-code",
        &enrolled.codes[3],
    )
    .await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    // A TOTP code is not a recovery code.
    let code = code_at(&enrolled.secret, app.clock.now() + 30);
    let mixed = submit(app, &second, &html, "/u/mfa", "recovery-code", &code).await;
    assert_eq!(mixed.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn optional_policy_asks_enrolled_users_and_step_up_enrols_others() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    app.create_user("plain@example.com").await;
    configure(&mgmt, false).await;
    // Without a factor and without acr_values: the password is enough, no amr.
    let (callback, verifier) = app
        .login_for_code(&browser(), &spa, "plain@example.com", &[])
        .await;
    let body = tokens(app, &spa, &callback["code"], &verifier).await;
    let id = app
        .verify(body["id_token"].as_str().unwrap(), &spa.client_id)
        .await;
    assert!(id.get("amr").is_none(), "{id}");
    // The application asks for MFA: the user enrols on the spot, and the ID token says so.
    let enrolled = enrol(
        app,
        &spa,
        "plain@example.com",
        &[("acr_values", MULTI_FACTOR)],
    )
    .await;
    let body = tokens(app, &spa, &enrolled.callback["code"], &enrolled.verifier).await;
    let id = app
        .verify(body["id_token"].as_str().unwrap(), &spa.client_id)
        .await;
    assert_eq!(id["acr"], MULTI_FACTOR);
    assert_eq!(id["amr"], json!(["pwd", "mfa", "otp"]));
    // Now enrolled, the user is asked for the code even when the application does not ask.
    let html = password_then_mfa(
        app,
        &browser(),
        &pkce_url(app, &spa, &[]),
        "plain@example.com",
    )
    .await;
    assert!(html.contains("id=\"code\""));
    assert!(
        !html.contains("id=\"secret\""),
        "an enrolled user is not offered a new key"
    );
}

#[tokio::test]
async fn silent_authentication_never_prompts_for_a_factor() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    app.create_user("silent@example.com").await;
    configure(&mgmt, false).await;
    // A password-only session.
    let browser = browser();
    app.login_for_code(&browser, &spa, "silent@example.com", &[])
        .await;
    let url = pkce_url(
        app,
        &spa,
        &[("prompt", "none"), ("acr_values", MULTI_FACTOR)],
    );
    let answer = browser.get(&url).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::FOUND);
    let callback = callback_params(&location(&answer));
    assert_eq!(callback["error"], "interaction_required", "{callback:?}");
    // Without acr_values the password session is enough.
    let url = pkce_url(app, &spa, &[("prompt", "none")]);
    let answer = browser.get(&url).send().await.unwrap();
    assert!(callback_params(&location(&answer)).contains_key("code"));
    // With every factor disabled, a request for MFA is refused rather than ignored.
    let (status, _) = mgmt
        .call(
            Method::PUT,
            "/guardian/factors/otp",
            Some(&json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let url = pkce_url(app, &spa, &[("acr_values", MULTI_FACTOR)]);
    let answer = browser.get(&url).send().await.unwrap();
    assert_eq!(
        callback_params(&location(&answer))["error"],
        "access_denied"
    );
}

#[tokio::test]
async fn management_api_guardian_and_authentication_methods() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let (status, factors) = mgmt.get("/guardian/factors").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(factors.as_array().unwrap().len(), 4);
    assert!(factors
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["enabled"] == false && f["trial_expired"] == false));
    let (status, _) = mgmt
        .call(
            Method::PUT,
            "/guardian/factors/webauthn-roaming",
            Some(&json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, factors) = mgmt.get("/guardian/factors").await;
    assert!(factors
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "webauthn-roaming" && f["enabled"] == true));
    let (status, body) = mgmt
        .call(
            Method::PUT,
            "/guardian/factors/sms",
            Some(&json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = mgmt
        .call(
            Method::PUT,
            "/guardian/factors/otp",
            Some(&json!({"enabled": "yes"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = mgmt
        .call(
            Method::PUT,
            "/guardian/factors/otp",
            Some(&json!({"enabled": true, "x": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = mgmt
        .call(
            Method::PUT,
            "/guardian/policies",
            Some(&json!(["sometimes"])),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, policies) = mgmt.get("/guardian/policies").await;
    assert_eq!((status, policies), (StatusCode::OK, json!([])));
    // A user's factors: listed, one deleted, then all reset.
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    let user_id = app.create_user("methods@example.com").await;
    configure(&mgmt, true).await;
    enrol(app, &spa, "methods@example.com", &[]).await;
    let (_, methods) = mgmt
        .get(&format!("/users/{user_id}/authentication-methods"))
        .await;
    let recovery = methods
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["type"] == "recovery-code")
        .and_then(|m| m["id"].as_str())
        .unwrap()
        .to_owned();
    let (status, _) = mgmt
        .delete(&format!(
            "/users/{user_id}/authentication-methods/{recovery}"
        ))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = mgmt
        .delete(&format!(
            "/users/{user_id}/authentication-methods/{recovery}"
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["errorCode"], "inexistent_authentication_method");
    let (_, methods) = mgmt
        .get(&format!("/users/{user_id}/authentication-methods"))
        .await;
    assert_eq!(methods.as_array().unwrap().len(), 1);
    let (status, _) = mgmt
        .delete(&format!("/users/{user_id}/authenticators"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, methods) = mgmt
        .get(&format!("/users/{user_id}/authentication-methods"))
        .await;
    assert_eq!(methods, json!([]));
    // Reset, the user enrols again at the next login.
    let html = password_then_mfa(
        app,
        &browser(),
        &pkce_url(app, &spa, &[]),
        "methods@example.com",
    )
    .await;
    assert!(html.contains("id=\"secret\""));
    let (status, _) = mgmt.get("/users/auth0|nobody/authentication-methods").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Scopes are checked.
    let limited = mgmt.token_with_scopes(&["read:users"]).await;
    let (status, _) = mgmt
        .call_with(Some(&limited), Method::GET, "/guardian/factors", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Every change is in the audit log.
    let (_, logs) = mgmt.get("/logs?q=type:sapi").await;
    assert!(logs.to_string().contains("guardian"), "{logs}");
}

#[tokio::test]
async fn the_dashboard_lists_a_users_factors_and_resets_them() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let spa = app.create_spa(false).await;
    let user_id = app.create_user("kim@example.com").await;
    configure(&mgmt, true).await;
    enrol(app, &spa, "kim@example.com", &[]).await;

    let admin = app.dashboard_admin().await;
    let tab = format!("/dashboard/users/{user_id}/factors");
    let (status, page) = admin.get(app, &tab).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Authenticator app (TOTP)"), "{page}");
    assert!(page.contains("Recovery codes"), "{page}");
    assert!(page.contains("id=\"reset-mfa\""), "{page}");

    let back = admin.post_ok(app, &tab, &format!("{tab}/reset"), &[]).await;
    assert_eq!(back, tab.replace('|', "%7C"), "back to the tab");
    let (_, page) = admin.get(app, &tab).await;
    assert!(page.contains("No second factor is enrolled."), "{page}");
    let (status, methods) = mgmt
        .get(&format!("/users/{user_id}/authentication-methods"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(methods, json!([]));
}
