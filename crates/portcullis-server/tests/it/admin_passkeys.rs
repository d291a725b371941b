//! Dashboard administrators' passkeys and security keys: enrolled and named on the account
//! page, offered by the sign-in's second step as the administrator's factor (a ceremony bound
//! to the pending session, used once, sign counts only forward, refusals counted on the
//! dashboard's counters), satisfying the mandatory setting from the forced enrolment page,
//! deleted by their owner and removed by resets (the CLI's and another administrator's). The
//! browser and the key are played by `webauthn-authenticator-rs`'s software passkey.

use portcullis_core::{
    admin::{mfa as admin_mfa, Actor},
    sign_in::ThrottleLimits,
    Clock,
};
use portcullis_store::MfaOwner;
use reqwest::StatusCode;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

use crate::{
    dashboard::{unescape, Admin},
    helpers::{browser, hidden_field, location, spawn_app, spawn_app_with, TestApp},
    mfa::recovery_codes,
    webauthn::{assert_with, ceremony, register},
};

const EMAIL: &str = "keys@example.com";
const PASSWORD: &str = "a long password for keys";
const STEP: &str = "/dashboard/mfa";
const NEXT: &str = "/dashboard/users";

/// An administrator created by the system, with a browser not signed in yet.
async fn new_admin(app: &TestApp) -> Admin {
    let admin = portcullis_core::admin::administrators::create(
        &app.cx,
        &Actor::System,
        EMAIL,
        &PASSWORD.into(),
    )
    .await
    .expect("admin");
    Admin {
        browser: browser(),
        id: admin.id,
    }
}

/// The same administrator in a new browser.
fn again(admin: &Admin) -> Admin {
    Admin {
        browser: browser(),
        id: admin.id.clone(),
    }
}

/// Signs in with the password; where the dashboard sends the browser.
async fn password(app: &TestApp, admin: &Admin) -> String {
    let response = app.sign_in(&admin.browser, EMAIL, PASSWORD, NEXT).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    location(&response)
}

/// A page as the browser receives it (the ceremonies' options untouched).
async fn page(app: &TestApp, admin: &Admin, path: &str) -> (StatusCode, String) {
    let response = admin.browser.get(app.url(path)).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// Posts a page's WebAuthn form (its CSRF value, the ceremony and the browser's answer).
async fn post_answer(
    app: &TestApp,
    admin: &Admin,
    (html, action): (&str, &str),
    ceremony: &str,
    credential: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let csrf = hidden_field(html, "csrf");
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("ceremony", ceremony),
        ("credential", credential),
    ];
    form.extend_from_slice(extra);
    admin
        .browser
        .post(app.url(action))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Adds `key` as `name` from the account page; the answer (the recovery codes' page for a
/// first factor, else the redirect to the account page).
async fn add_key(
    app: &TestApp,
    admin: &Admin,
    key: &mut SoftPasskey,
    name: &str,
) -> reqwest::Response {
    let (status, html) = page(app, admin, "/dashboard/account/keys").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"enrol-webauthn-platform\""), "{html}");
    let (id, options) = ceremony(&html, "enrol-webauthn-roaming");
    let credential = register(key, app, options);
    let action = "/dashboard/account/keys";
    post_answer(
        app,
        admin,
        (&html, action),
        &id,
        &credential,
        &[("name", name)],
    )
    .await
}

/// The step's key ceremony answered by `key`: the ceremony id and the assertion as JSON.
fn sign_with(app: &TestApp, key: &mut SoftPasskey, html: &str) -> (String, String) {
    let (id, options) = ceremony(html, "use-key");
    let assertion = assert_with(key, app, options);
    (id, serde_json::to_string(&assertion).unwrap())
}

/// Posts an assertion on the step.
async fn post_assertion(
    app: &TestApp,
    admin: &Admin,
    html: &str,
    (id, assertion): (&str, &str),
) -> reqwest::Response {
    let extra = [("next", NEXT)];
    post_answer(
        app,
        admin,
        (html, "/dashboard/mfa/webauthn"),
        id,
        assertion,
        &extra,
    )
    .await
}

/// A new browser signed in with the password and waiting at the step: the step's page.
async fn at_step(app: &TestApp, admin: &Admin) -> String {
    assert_eq!(
        password(app, admin).await,
        "/dashboard/mfa?next=%2Fdashboard%2Fusers"
    );
    let (status, html) = page(app, admin, &format!("{STEP}?next=%2Fdashboard%2Fusers")).await;
    assert_eq!(status, StatusCode::OK);
    html
}

/// An administrator with a key enrolled from the account page, signed out.
async fn enrolled(app: &TestApp) -> (Admin, SoftPasskey) {
    let admin = new_admin(app).await;
    assert_eq!(password(app, &admin).await, NEXT);
    let mut key = SoftPasskey::new(true);
    let added = add_key(app, &admin, &mut key, "Blue key").await;
    assert_eq!(added.status(), StatusCode::OK);
    (again(&admin), key)
}

#[tokio::test]
async fn an_administrator_enrols_a_key_and_signs_in_with_password_and_key() {
    let app = spawn_app().await;
    let admin = new_admin(&app).await;
    assert_eq!(password(&app, &admin).await, NEXT);
    let (_, account) = admin.get(&app, "/dashboard/account").await;
    assert!(
        account.contains("No passkey or security key yet."),
        "{account}"
    );
    assert!(account.contains("id=\"add-key\""));

    // The first factor comes with recovery codes, shown once; the key keeps its name.
    let mut key = SoftPasskey::new(true);
    let added = add_key(&app, &admin, &mut key, "  Blue key  ").await;
    assert_eq!(added.status(), StatusCode::OK);
    let html = unescape(&added.text().await.unwrap());
    assert_eq!(recovery_codes(&html).len(), 10);
    let (_, account) = admin.get(&app, "/dashboard/account").await;
    assert!(
        account.contains("<span class=\"cell-title\">Blue key</span>"),
        "{account}"
    );
    assert!(account.contains("Security key"));
    // An authenticator app may still be added next to it.
    assert!(account.contains("id=\"setup-mfa\""));
    // A second key does not replace the recovery codes.
    let mut second = SoftPasskey::new(true);
    let added = add_key(&app, &admin, &mut second, "").await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&added), "/dashboard/account");
    let (_, account) = admin.get(&app, "/dashboard/account").await;
    assert!(
        account.contains("Security key (WebAuthn)"),
        "the default name"
    );

    // The next sign-in owes the key: the step offers it, and no code form (no app).
    let admin = again(&admin);
    let html = at_step(&app, &admin).await;
    assert!(html.contains("id=\"use-key\""), "{html}");
    assert!(
        !html.contains("id=\"code\""),
        "no authenticator app enrolled"
    );
    assert!(html.contains("id=\"recovery-code\""));
    let (_, options) = ceremony(&html, "use-key");
    assert_eq!(options["publicKey"]["rpId"], "localhost");
    assert_eq!(
        options["publicKey"]["allowCredentials"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "the administrator's own keys only"
    );
    // The pending session opens no other page or form.
    let response = admin.browser.get(app.url(NEXT)).send().await.unwrap();
    assert!(location(&response).starts_with("/dashboard/mfa?next="));
    let response = post_answer(
        &app,
        &admin,
        (&html, "/dashboard/account/keys"),
        "x",
        "{}",
        &[],
    )
    .await;
    assert_eq!(location(&response), STEP);

    let (id, assertion) = sign_with(&app, &mut key, &html);
    let passed = post_assertion(&app, &admin, &html, (&id, &assertion)).await;
    assert_eq!(passed.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&passed), NEXT);
    let (status, _) = admin.get(&app, NEXT).await;
    assert_eq!(status, StatusCode::OK);
    let (_, logs) = admin.get(&app, "/dashboard/logs").await;
    assert!(
        logs.contains("Administrator second factor accepted"),
        "{logs}"
    );
}

#[tokio::test]
async fn forged_replayed_and_foreign_answers_are_refused() {
    let app = spawn_app().await;
    let (admin, mut key) = enrolled(&app).await;
    let html = at_step(&app, &admin).await;

    // Garbage and a tampered signature are refusals, never server errors.
    let (id, _) = ceremony(&html, "use-key");
    let garbage = post_assertion(&app, &admin, &html, (&id, "{not json")).await;
    assert_eq!(garbage.status(), StatusCode::UNAUTHORIZED);
    let html = garbage.text().await.unwrap();
    let (id, assertion) = sign_with(&app, &mut key, &html);
    let mut forged: serde_json::Value = serde_json::from_str(&assertion).unwrap();
    forged["response"]["signature"] = "AAAA".into();
    let forged = post_assertion(&app, &admin, &html, (&id, &forged.to_string())).await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    // A signature over an earlier challenge does not answer a new one.
    let html = forged.text().await.unwrap();
    let (id, _) = ceremony(&html, "use-key");
    let stale = post_assertion(&app, &admin, &html, (&id, &assertion)).await;
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);

    // Another browser's pending session cannot finish this session's ceremony, and the
    // attempt used it up.
    let html = stale.text().await.unwrap();
    let (id, assertion) = sign_with(&app, &mut key, &html);
    let stranger = again(&admin);
    let other = at_step(&app, &stranger).await;
    let foreign = post_assertion(&app, &stranger, &other, (&id, &assertion)).await;
    assert_eq!(foreign.status(), StatusCode::UNAUTHORIZED);
    let used = post_assertion(&app, &admin, &html, (&id, &assertion)).await;
    assert_eq!(used.status(), StatusCode::UNAUTHORIZED);

    // A count that goes back is refused: two sessions' ceremonies signed in turn, the later
    // one used first.
    let first = again(&admin);
    let first_html = at_step(&app, &first).await;
    let second = again(&admin);
    let second_html = at_step(&app, &second).await;
    let earlier = sign_with(&app, &mut key, &first_html);
    let later = sign_with(&app, &mut key, &second_html);
    let passed = post_assertion(&app, &second, &second_html, (&later.0, &later.1)).await;
    assert_eq!(passed.status(), StatusCode::SEE_OTHER);
    let behind = post_assertion(&app, &first, &first_html, (&earlier.0, &earlier.1)).await;
    assert_eq!(behind.status(), StatusCode::UNAUTHORIZED);

    // A replayed answer finds its ceremony gone.
    let replayed = post_assertion(&app, &second, &second_html, (&later.0, &later.1)).await;
    assert_eq!(replayed.status(), StatusCode::SEE_OTHER, "already passed");
    let third = again(&admin);
    let third_html = at_step(&app, &third).await;
    let replayed = post_assertion(&app, &third, &third_html, (&later.0, &later.1)).await;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn refused_answers_count_on_the_dashboards_counters() {
    let app = spawn_app_with(|settings| settings.throttle.per_pair = 3).await;
    let (admin, mut key) = enrolled(&app).await;
    // The counters are per fixed window: start at the beginning of one.
    let window = ThrottleLimits::default().window_seconds;
    app.clock
        .advance(window - app.clock.now().rem_euclid(window) + 1);
    let mut html = at_step(&app, &admin).await;
    for _ in 0..3 {
        let (id, _) = ceremony(&html, "use-key");
        let wrong = post_assertion(&app, &admin, &html, (&id, "{}")).await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        html = wrong.text().await.unwrap();
    }
    let right = sign_with(&app, &mut key, &html);
    let throttled = post_assertion(&app, &admin, &html, (&right.0, &right.1)).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    // The password is throttled on the same counters.
    let response = app.sign_in(&browser(), EMAIL, PASSWORD, NEXT).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_mandatory_setting_is_satisfied_by_a_key() {
    let app = spawn_app_with(|settings| settings.admin_mfa_required = Some(true)).await;
    let admin = new_admin(&app).await;
    let html = at_step(&app, &admin).await;
    // The forced enrolment offers an authenticator app and both kinds of key.
    assert!(html.contains("Set up two-step sign-in"), "{html}");
    assert!(html.contains("id=\"totp-secret\""));
    assert!(html.contains("id=\"enrol-webauthn-platform\""));
    let (id, _) = ceremony(&html, "enrol-webauthn-roaming");
    let mut key = SoftPasskey::new(true);
    // A refused answer shows the page again, with nothing enrolled.
    let action = "/dashboard/mfa/enrol/webauthn";
    let next = [("next", NEXT)];
    let refused = post_answer(&app, &admin, (&html, action), &id, "{}", &next).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let html = refused.text().await.unwrap();
    assert!(html.contains("Set up two-step sign-in"));
    let (id, options) = ceremony(&html, "enrol-webauthn-roaming");
    let credential = register(&mut key, &app, options);
    let enrolled = post_answer(&app, &admin, (&html, action), &id, &credential, &next).await;
    assert_eq!(enrolled.status(), StatusCode::OK);
    let page_html = unescape(&enrolled.text().await.unwrap());
    assert_eq!(recovery_codes(&page_html).len(), 10);
    assert!(page_html.contains("href=\"/dashboard/users\""));
    let (status, _) = admin.get(&app, NEXT).await;
    assert_eq!(status, StatusCode::OK);

    // The next sign-in is asked for the key, not to enrol; the enrolment form is closed.
    let admin = again(&admin);
    let html = at_step(&app, &admin).await;
    assert!(!html.contains("Set up two-step sign-in"));
    let late = post_answer(&app, &admin, (&html, action), "x", "{}", &next).await;
    assert_eq!(late.status(), StatusCode::SEE_OTHER);
    assert!(location(&late).starts_with("/dashboard/mfa?next="));
    let (id, assertion) = sign_with(&app, &mut key, &html);
    let passed = post_assertion(&app, &admin, &html, (&id, &assertion)).await;
    assert_eq!(location(&passed), NEXT);
}

#[tokio::test]
async fn keys_are_deleted_by_their_owner_and_removed_by_resets() {
    let app = spawn_app().await;
    let (admin, mut key) = enrolled(&app).await;
    let owner = MfaOwner::Admin(admin.id.clone());

    // The CLI's reset (`portcullis admins reset-mfa EMAIL`) removes the key and the codes.
    let deleted = admin_mfa::reset_admin_by_email(&app.cx, &Actor::Cli, EMAIL)
        .await
        .unwrap();
    assert_eq!(deleted, 2);
    assert!(app.store.authenticators(&owner).await.unwrap().is_empty());
    assert_eq!(password(&app, &admin).await, NEXT, "no factor is owed");

    // Another administrator's reset from the Security page removes it too.
    let added = add_key(&app, &admin, &mut key, "Blue key").await;
    assert_eq!(added.status(), StatusCode::OK);
    let first = app.dashboard_admin().await;
    let reset = first
        .post_ok(
            &app,
            "/dashboard/security/mfa",
            &format!("/dashboard/security/administrators/{}/reset", admin.id),
            &[],
        )
        .await;
    assert_eq!(reset, "/dashboard/security/mfa");
    assert!(app.store.authenticators(&owner).await.unwrap().is_empty());
    let admin = again(&admin);
    assert_eq!(password(&app, &admin).await, NEXT);

    // The owner deletes a key from the account page; another's key is not theirs to delete.
    let added = add_key(&app, &admin, &mut key, "Blue key").await;
    assert_eq!(added.status(), StatusCode::OK);
    let key_id = app
        .store
        .authenticators(&owner)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.kind.as_str() == "webauthn-roaming")
        .expect("the key")
        .id;
    let path = |id: &str| format!("/dashboard/account/keys/{}/delete", id.replace('|', "%7C"));
    let foreign = first
        .post(&app, "/dashboard/account", &path(&key_id), &[])
        .await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    let done = admin
        .post_ok(&app, "/dashboard/account", &path(&key_id), &[])
        .await;
    assert_eq!(done, "/dashboard/account");
    let (_, account) = admin.get(&app, "/dashboard/account").await;
    assert!(
        account.contains("No passkey or security key yet."),
        "{account}"
    );
    assert_eq!(password(&app, &again(&admin)).await, NEXT);
}
