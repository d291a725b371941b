//! Dashboard administrators' second factor: enrolling an authenticator app on the account
//! page, the sign-in's second step (pending sessions refused everywhere else, codes used
//! once, wrong codes throttled, recovery codes once), the mandatory setting (from the
//! Security page or the configuration) forcing enrolment, resets by another administrator,
//! and the Security page's factors and policy as the Management API reads them.

use portcullis_core::{
    admin::{administrators, mfa as admin_mfa, Actor},
    sign_in::ThrottleLimits,
    Clock,
};
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    dashboard::{unescape, Admin},
    helpers::{browser, location, spawn_app, spawn_app_with, TestApp},
    management_support::spawn_mgmt,
    mfa::{code_at, element_text, recovery_codes},
};

const OTHER_EMAIL: &str = "second@example.com";
const OTHER_PASSWORD: &str = "another long admin password";
const STEP: &str = "/dashboard/mfa";

/// A second administrator, created by the system, and a browser that is not signed in yet.
async fn other_admin(app: &TestApp) -> Admin {
    let admin =
        administrators::create(&app.cx, &Actor::System, OTHER_EMAIL, &OTHER_PASSWORD.into())
            .await
            .expect("admin");
    Admin {
        browser: browser(),
        id: admin.id,
    }
}

/// Signs `admin` in with the password; where the dashboard sends them.
async fn password(app: &TestApp, admin: &Admin) -> String {
    let response = app
        .sign_in(
            &admin.browser,
            OTHER_EMAIL,
            OTHER_PASSWORD,
            "/dashboard/users",
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    location(&response)
}

/// Moves the clock to the next TOTP step, so that a new code is due.
fn next_step(app: &TestApp) {
    app.clock.advance(30);
}

/// Enrols an authenticator app from the account page; its key and the recovery codes.
async fn enrol_on_account_page(app: &TestApp, admin: &Admin) -> (String, Vec<String>) {
    let (status, html) = admin.get(app, "/dashboard/account").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No second factor is enrolled."), "{html}");
    let (status, html) = admin.get(app, "/dashboard/account/mfa").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data:image/svg+xml;base64,"), "the QR code");
    let secret = element_text(&html, "totp-secret");
    let wrong = admin
        .post(
            app,
            "/dashboard/account/mfa",
            "/dashboard/account/mfa",
            &[("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    // The same key is shown again: the enrolment under way is kept.
    let (_, again) = admin.get(app, "/dashboard/account/mfa").await;
    assert_eq!(element_text(&again, "totp-secret"), secret);
    let code = code_at(&secret, app.clock.now());
    let confirmed = admin
        .post(
            app,
            "/dashboard/account/mfa",
            "/dashboard/account/mfa",
            &[("code", &code)],
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let codes = recovery_codes(&confirmed.text().await.expect("html"));
    assert_eq!(codes.len(), 10);
    let (_, account) = admin.get(app, "/dashboard/account").await;
    assert!(account.contains("Authenticator app (TOTP)"), "{account}");
    (secret, codes)
}

/// Posts `code` on the second step (as `factor`) from a fresh GET of the step page.
async fn step(app: &TestApp, admin: &Admin, factor: &str, code: &str) -> reqwest::Response {
    admin
        .post(
            app,
            STEP,
            STEP,
            &[
                ("factor", factor),
                ("code", code),
                ("next", "/dashboard/users"),
            ],
        )
        .await
}

/// Enrols the app of `secret` on the sign-in's step (the mandatory setting's way); the page
/// with the recovery codes.
async fn enrol_at_step(app: &TestApp, admin: &Admin, secret: &str) -> reqwest::Response {
    let code = code_at(secret, app.clock.now());
    let enrolled = admin
        .post(
            app,
            STEP,
            "/dashboard/mfa/enrol",
            &[("code", &code), ("next", "/dashboard/users")],
        )
        .await;
    assert_eq!(enrolled.status(), StatusCode::OK);
    enrolled
}

#[tokio::test]
async fn an_enrolled_administrator_passes_a_second_step_and_codes_work_once() {
    let app = spawn_app().await;
    let admin = other_admin(&app).await;
    // Without a factor (and none mandatory) the password is enough.
    assert_eq!(password(&app, &admin).await, "/dashboard/users");
    let (secret, _) = enrol_on_account_page(&app, &admin).await;
    let enrolled_at = app.clock.now();

    // The next sign-in stops at the second step.
    let admin = Admin {
        browser: browser(),
        id: admin.id.clone(),
    };
    let target = password(&app, &admin).await;
    assert_eq!(target, "/dashboard/mfa?next=%2Fdashboard%2Fusers");
    // Every other page and every form sends the pending session to the step.
    for path in [
        "/dashboard/users",
        "/dashboard/apis",
        "/dashboard/account",
        "/dashboard/security/mfa",
    ] {
        let response = admin.browser.get(app.url(path)).send().await.expect("get");
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(
            location(&response).starts_with("/dashboard/mfa?next="),
            "{path}"
        );
    }
    let posted = admin
        .post(
            &app,
            STEP,
            "/dashboard/security/administrators",
            &[("required", "on")],
        )
        .await;
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&posted), STEP);
    assert!(!admin_mfa::admins_required(&app.cx).await.unwrap().required);
    let (status, html) = admin.get(&app, STEP).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Verify it's you"), "{html}");

    // The enrolment's code was used already; a wrong code is refused.
    let used = step(&app, &admin, "otp", &code_at(&secret, enrolled_at)).await;
    assert_eq!(used.status(), StatusCode::UNAUTHORIZED);
    assert!(unescape(&used.text().await.unwrap()).contains("not right, or it was used already"));
    let wrong = step(&app, &admin, "otp", "123456").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    next_step(&app);
    let code = code_at(&secret, app.clock.now());
    let passed = step(&app, &admin, "otp", &code).await;
    assert_eq!(passed.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&passed), "/dashboard/users");
    let (status, _) = admin.get(&app, "/dashboard/users").await;
    assert_eq!(status, StatusCode::OK);
    // The step no longer applies to this session.
    let response = admin.browser.get(app.url(STEP)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    // The same code in another browser, in the same time step: refused.
    let elsewhere = Admin {
        browser: browser(),
        id: admin.id.clone(),
    };
    password(&app, &elsewhere).await;
    let replayed = step(&app, &elsewhere, "otp", &code).await;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
    // Signing out works from the pending session.
    let (_, html) = elsewhere.get(&app, STEP).await;
    let csrf = crate::helpers::hidden_field(&html, "csrf");
    let out = elsewhere
        .browser
        .post(app.url("/dashboard/signout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&out), "/dashboard/signin");
    let gone = elsewhere.browser.get(app.url(STEP)).send().await.unwrap();
    assert!(location(&gone).starts_with("/dashboard/signin"));
}

#[tokio::test]
async fn a_recovery_code_signs_in_once() {
    let app = spawn_app().await;
    let admin = other_admin(&app).await;
    password(&app, &admin).await;
    let (_, codes) = enrol_on_account_page(&app, &admin).await;
    let first = Admin {
        browser: browser(),
        id: admin.id.clone(),
    };
    password(&app, &first).await;
    let typed = codes[3].to_lowercase().replace('-', " ");
    let passed = step(&app, &first, "recovery-code", &typed).await;
    assert_eq!(passed.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&passed), "/dashboard/users");
    let (_, account) = first.get(&app, "/dashboard/account").await;
    assert!(account.contains("<td>9</td>"), "nine codes left: {account}");

    let second = Admin {
        browser: browser(),
        id: admin.id.clone(),
    };
    password(&app, &second).await;
    let again = step(&app, &second, "recovery-code", &codes[3]).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    let html = again.text().await.unwrap();
    assert!(
        html.contains("id=\"recovery-code\""),
        "the recovery form stays open"
    );
}

#[tokio::test]
async fn wrong_codes_are_throttled_on_the_dashboards_counters() {
    let app = spawn_app_with(|settings| settings.throttle.per_pair = 3).await;
    let admin = other_admin(&app).await;
    password(&app, &admin).await;
    let (secret, _) = enrol_on_account_page(&app, &admin).await;
    // The counters are per fixed window: start at the beginning of one.
    let window = ThrottleLimits::default().window_seconds;
    app.clock
        .advance(window - app.clock.now().rem_euclid(window) + 1);
    let admin = Admin {
        browser: browser(),
        id: admin.id.clone(),
    };
    password(&app, &admin).await;
    for _ in 0..3 {
        let wrong = step(&app, &admin, "otp", "000000").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    next_step(&app);
    let right = step(&app, &admin, "otp", &code_at(&secret, app.clock.now())).await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(unescape(&right.text().await.unwrap()).contains("Too many failed attempts"));
    // The password counts on the same counters: it is throttled too.
    let response = app
        .sign_in(&browser(), OTHER_EMAIL, OTHER_PASSWORD, "/dashboard/users")
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(window);
    let later = step(&app, &admin, "otp", &code_at(&secret, app.clock.now())).await;
    assert_eq!(later.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_mandatory_setting_sends_an_administrator_to_enrol_first() {
    let app = spawn_app().await;
    let first = app.dashboard_admin().await;
    let done = first
        .post_ok(
            &app,
            "/dashboard/security/mfa",
            "/dashboard/security/administrators",
            &[("required", "on")],
        )
        .await;
    assert_eq!(done, "/dashboard/security/mfa");
    let (_, html) = first.get(&app, "/dashboard/security/mfa").await;
    assert!(
        html.contains("id=\"admins-required\" name=\"required\" checked"),
        "{html}"
    );

    let second = other_admin(&app).await;
    assert_eq!(
        password(&app, &second).await,
        "/dashboard/mfa?next=%2Fdashboard%2Fusers"
    );
    let response = second
        .browser
        .get(app.url("/dashboard/users"))
        .send()
        .await
        .unwrap();
    assert!(location(&response).starts_with("/dashboard/mfa?next="));
    let (status, html) = second.get(&app, STEP).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Set up two-step sign-in"), "{html}");
    let secret = element_text(&html, "totp-secret");
    // The code form of the challenge does not let an administrator without a factor in.
    let skipped = step(&app, &second, "otp", &code_at(&secret, app.clock.now())).await;
    assert_eq!(skipped.status(), StatusCode::UNAUTHORIZED);
    let enrolled = enrol_at_step(&app, &second, &secret).await;
    let html = enrolled.text().await.unwrap();
    assert_eq!(recovery_codes(&html).len(), 10);
    assert!(unescape(&html).contains("href=\"/dashboard/users\""));
    let (status, _) = second.get(&app, "/dashboard/users").await;
    assert_eq!(status, StatusCode::OK);

    // Another administrator resets the factors; the next sign-in enrols again.
    let reset = first
        .post_ok(
            &app,
            "/dashboard/security/mfa",
            &format!("/dashboard/security/administrators/{}/reset", second.id),
            &[],
        )
        .await;
    assert_eq!(reset, "/dashboard/security/mfa");
    let again = Admin {
        browser: browser(),
        id: second.id.clone(),
    };
    password(&app, &again).await;
    let (_, html) = again.get(&app, STEP).await;
    assert!(html.contains("Set up two-step sign-in"));
    assert_ne!(element_text(&html, "totp-secret"), secret);

    // Without the setting, a reset administrator signs in with the password alone.
    first
        .post_ok(
            &app,
            "/dashboard/security/mfa",
            "/dashboard/security/administrators",
            &[],
        )
        .await;
    let free = Admin {
        browser: browser(),
        id: second.id.clone(),
    };
    assert_eq!(password(&app, &free).await, "/dashboard/users");
}

#[tokio::test]
async fn the_configuration_decides_the_mandatory_setting() {
    let app = spawn_app_with(|settings| settings.admin_mfa_required = Some(true)).await;
    let admin = other_admin(&app).await;
    assert!(password(&app, &admin)
        .await
        .starts_with("/dashboard/mfa?next="));
    let (_, html) = admin.get(&app, STEP).await;
    let secret = element_text(&html, "totp-secret");
    enrol_at_step(&app, &admin, &secret).await;
    let (_, html) = admin.get(&app, "/dashboard/security/mfa").await;
    assert!(html.contains("Set by the server's configuration"), "{html}");
    admin
        .post_refused(
            &app,
            "/dashboard/security/mfa",
            "/dashboard/security/administrators",
            &[],
            StatusCode::BAD_REQUEST,
            "PORTCULLIS_ADMIN_MFA_REQUIRED",
        )
        .await;
}

#[tokio::test]
async fn an_administrator_removes_their_own_factor() {
    let app = spawn_app().await;
    let admin = other_admin(&app).await;
    password(&app, &admin).await;
    enrol_on_account_page(&app, &admin).await;
    // With a factor, the account page offers no second enrolment.
    let response = admin
        .browser
        .get(app.url("/dashboard/account/mfa"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/dashboard/account");
    let done = admin
        .post_ok(
            &app,
            "/dashboard/account",
            "/dashboard/account/mfa/reset",
            &[],
        )
        .await;
    assert_eq!(done, "/dashboard/account");
    let fresh = Admin {
        browser: browser(),
        id: admin.id.clone(),
    };
    assert_eq!(password(&app, &fresh).await, "/dashboard/users");
}

#[tokio::test]
async fn the_security_page_sets_what_the_guardian_endpoints_read() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let admin = app.dashboard_admin().await;
    let (status, html) = admin.get(app, "/dashboard/security/mfa").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"policy-never\" name=\"policy\" value=\"never\" checked"));

    admin
        .post_ok(
            app,
            "/dashboard/security/mfa",
            "/dashboard/security/mfa",
            &[
                ("factor", "otp"),
                ("factor", "recovery-code"),
                ("policy", "always"),
            ],
        )
        .await;
    let (status, factors) = mgmt.get("/guardian/factors").await;
    assert_eq!(status, StatusCode::OK);
    let enabled: Vec<(&str, bool)> = factors
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["enabled"].as_bool().unwrap()))
        .collect();
    for (name, on) in &enabled {
        assert_eq!(*on, ["otp", "recovery-code"].contains(name), "{name}");
    }
    assert_eq!(
        mgmt.get("/guardian/policies").await.1,
        json!(["all-applications"])
    );

    admin
        .post_ok(
            app,
            "/dashboard/security/mfa",
            "/dashboard/security/mfa",
            &[("factor", "otp"), ("policy", "optional")],
        )
        .await;
    assert_eq!(mgmt.get("/guardian/policies").await.1, json!([]));
    let (_, factors) = mgmt.get("/guardian/factors").await;
    let recovery = factors
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "recovery-code")
        .unwrap();
    assert_eq!(recovery["enabled"], false);

    // What the Management API sets, the page shows.
    mgmt.call(
        reqwest::Method::PUT,
        "/guardian/policies",
        Some(&json!(["all-applications"])),
    )
    .await;
    let (_, html) = admin.get(app, "/dashboard/security/mfa").await;
    assert!(html.contains("id=\"policy-always\" name=\"policy\" value=\"always\" checked"));
    assert!(html.contains("id=\"factor-otp\" name=\"factor\" value=\"otp\" checked"));

    // Optional without a factor to enrol is refused; never disables every factor.
    admin
        .post_refused(
            app,
            "/dashboard/security/mfa",
            "/dashboard/security/mfa",
            &[("factor", "recovery-code"), ("policy", "optional")],
            StatusCode::BAD_REQUEST,
            "Enable a factor users can sign in with",
        )
        .await;
    admin
        .post_ok(
            app,
            "/dashboard/security/mfa",
            "/dashboard/security/mfa",
            &[("factor", "otp"), ("policy", "never")],
        )
        .await;
    let (_, factors) = mgmt.get("/guardian/factors").await;
    assert!(factors
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["enabled"] == false));
    assert_eq!(mgmt.get("/guardian/policies").await.1, json!([]));
}
