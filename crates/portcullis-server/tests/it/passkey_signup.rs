//! Passkeys on the login and sign-up pages: showing a page stores no WebAuthn ceremony (its
//! script fetches one when it needs it, limited like the forms), and a person signs up with a
//! passkey instead of a password: the account is created with its key only once the key's
//! answer verifies, under the rules of a password sign-up, and the passkey then signs in.

use portcullis_core::{accounts::SIGNUP_DISABLED, Clock};
use reqwest::StatusCode;
use serde_json::{json, Value};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

use crate::{
    connection::set_options,
    helpers::*,
    management_support::*,
    webauthn::{configure, id_token_after, passkey_sign_in, pkce_url, register},
};

const EMAIL: &str = "newcomer@example.com";

/// Posts the page's CSRF value and authorization request (and `fields`) to `endpoint`, as the
/// page's script does; the status and the JSON answer.
pub(crate) async fn fetch_options(
    app: &TestApp,
    browser: &reqwest::Client,
    html: &str,
    endpoint: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = post_hosted_form(app, browser, html, endpoint, fields).await;
    let status = response.status();
    assert_eq!(
        response.headers()["cache-control"],
        "no-store",
        "{endpoint}"
    );
    (status, response.json().await.expect("JSON"))
}

/// The ceremony a page's script fetches from `endpoint`: its id and options.
pub(crate) async fn fetched_ceremony(
    app: &TestApp,
    browser: &reqwest::Client,
    html: &str,
    endpoint: &str,
    fields: &[(&str, &str)],
) -> (String, Value) {
    let (status, body) = fetch_options(app, browser, html, endpoint, fields).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["ceremony"].as_str().expect("ceremony").to_owned();
    (id, body["options"].clone())
}

async fn live_ceremonies(app: &TestApp) -> i64 {
    app.store
        .live_webauthn_challenges(app.clock.now())
        .await
        .expect("count")
}

/// Opens the hosted page `/authorize` sends the browser to (with `extra` parameters).
async fn hosted_page(app: &TestApp, browser: &reqwest::Client, url: &str) -> (String, String) {
    let answer = browser.get(url).send().await.unwrap();
    let target = location(&answer);
    let path = target
        .strip_prefix(app.issuer.trim_end_matches('/'))
        .unwrap_or(&target)
        .to_owned();
    let html = browser
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (path, html)
}

#[tokio::test]
async fn showing_the_login_page_stores_no_ceremony_its_script_fetches_one() {
    let mgmt = spawn_mgmt_with(|settings| settings.rate_limits.login = 2).await;
    let app = &mgmt.app;
    let spa = app.create_spa(false).await;
    configure(&mgmt, &["webauthn-platform"]).await;
    let browser = browser();
    let (url, _) = pkce_url(app, &spa);
    let mut html = String::new();
    for _ in 0..10 {
        (_, html) = hosted_page(app, &browser, &url).await;
        assert!(html.contains("data-fetch=\"/u/login/passkey/options\""));
    }
    assert_eq!(live_ceremonies(app).await, 0, "ten pages, no ceremony");

    let endpoint = "/u/login/passkey/options";
    let (id, options) = fetched_ceremony(app, &browser, &html, endpoint, &[]).await;
    assert!(!id.is_empty());
    assert!(options["publicKey"]["challenge"].is_string());
    assert_eq!(options["publicKey"]["userVerification"], "required");
    assert_eq!(live_ceremonies(app).await, 1);

    // Without the page's CSRF value: refused, in the JSON shape, and nothing stored.
    let forged = browser
        .post(app.url(endpoint))
        .form(&[("csrf", "forged"), ("authorize_query", "client_id=x")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let body: Value = forged.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(live_ceremonies(app).await, 1);

    // Limited per client address like the login form: the third request of the window
    // (the forged one counted) is refused before anything is stored.
    let limited = post_hosted_form(app, &browser, &html, endpoint, &[]).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(live_ceremonies(app).await, 1);
}

/// The sign-up page of an authorization request with `screen_hint=signup`.
async fn signup_page(app: &TestApp, browser: &reqwest::Client, url: &str) -> String {
    let (path, html) = hosted_page(app, browser, &format!("{url}&screen_hint=signup")).await;
    assert!(path.starts_with("/u/signup?"), "{path}");
    html
}

/// The sign-up page's registration ceremony for `email`.
async fn signup_ceremony(
    app: &TestApp,
    browser: &reqwest::Client,
    html: &str,
    email: &str,
) -> (StatusCode, Value) {
    let fields = [("email", email)];
    fetch_options(app, browser, html, "/u/signup/passkey/options", &fields).await
}

#[tokio::test]
async fn a_person_signs_up_with_a_passkey_and_then_signs_in_with_it() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let spa = app.create_spa(false).await;
    configure(&mgmt, &["webauthn-platform"]).await;
    let mut key = SoftPasskey::new(true);
    let browser = browser();
    let (url, verifier) = pkce_url(app, &spa);
    let html = signup_page(app, &browser, &url).await;
    assert!(html.contains("id=\"signup-passkey\""), "{html}");

    // A refused answer leaves no account behind, and uses up its ceremony.
    let (status, body) = signup_ceremony(app, &browser, &html, EMAIL).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ceremony = body["ceremony"].as_str().unwrap().to_owned();
    let fields = [
        ("ceremony", ceremony.as_str()),
        ("credential", "{\"id\":1}"),
    ];
    let refused = post_hosted_form(app, &browser, &html, "/u/signup/passkey", &fields).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("The passkey was not created"));
    assert!(app.store.user_by_email(EMAIL).await.unwrap().is_none());
    // An abandoned ceremony, past its five minutes, leaves none either.
    let (_, body) = signup_ceremony(app, &browser, &html, EMAIL).await;
    let options = body["options"].clone();
    let late = register(&mut key, app, options);
    app.clock.advance(301);
    let ceremony = body["ceremony"].as_str().unwrap().to_owned();
    let fields = [
        ("ceremony", ceremony.as_str()),
        ("credential", late.as_str()),
    ];
    let expired = post_hosted_form(app, &browser, &html, "/u/signup/passkey", &fields).await;
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    assert!(app.store.user_by_email(EMAIL).await.unwrap().is_none());

    // The ceremony asks for a discoverable key with user verification, named by the email.
    let (_, body) = signup_ceremony(app, &browser, &html, EMAIL).await;
    let options = body["options"].clone();
    let selection = &options["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required");
    assert_eq!(selection["userVerification"], "required");
    assert_eq!(options["publicKey"]["user"]["name"], EMAIL);
    let user_handle = options["publicKey"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let credential = register(&mut key, app, options);
    let credential_id = serde_json::from_str::<Value>(&credential).unwrap()["rawId"].clone();
    let ceremony = body["ceremony"].as_str().unwrap().to_owned();
    let fields = [
        ("ceremony", ceremony.as_str()),
        ("credential", credential.as_str()),
    ];
    let created = post_hosted_form(app, &browser, &html, "/u/signup/passkey", &fields).await;
    let id_token = id_token_after(app, &spa, &browser, created, &verifier).await;
    assert_eq!(id_token["amr"], json!(["swk", "mfa"]));
    assert_eq!(id_token["email"], EMAIL);
    let user = app.store.user_by_email(EMAIL).await.unwrap().expect("user");
    assert_eq!(id_token["sub"], user.user_id);
    assert_eq!(user.password_hash, "", "no password");
    assert!(!user.email_verified);

    // The Management API lists the key in Auth0's shape of a passkey.
    let (status, methods) = mgmt
        .get(&format!("/users/{}/authentication-methods", user.user_id))
        .await;
    assert_eq!(status, StatusCode::OK, "{methods}");
    let [method] = methods.as_array().unwrap().as_slice() else {
        panic!("one method: {methods}");
    };
    assert_eq!(method["type"], "passkey");
    assert!(method["id"].as_str().unwrap().starts_with("passkey|dev_"));
    assert_eq!(method["confirmed"], true);
    assert_eq!(method["name"], "Passkey");
    assert!(method["created_at"].is_string());
    assert_eq!(method["key_id"], credential_id);
    assert_eq!(method["credential_device_type"], "single_device");
    assert_eq!(method["credential_backed_up"], false);
    assert_eq!(
        method["identity_user_id"],
        user.user_id.trim_start_matches("auth0|")
    );

    // The account has no password: the form refuses any.
    let password_login = app
        .login_via_form(
            &crate::helpers::browser(),
            &pkce_url(app, &spa).0,
            EMAIL,
            "Anything-At-All-42",
        )
        .await;
    assert_eq!(password_login.status(), StatusCode::UNAUTHORIZED);

    // The passkey signs in alone.
    let browser = crate::helpers::browser();
    let (response, verifier) =
        passkey_sign_in(app, &spa, &browser, &mut key, &credential_id, &user_handle).await;
    let id_token = id_token_after(app, &spa, &browser, response, &verifier).await;
    assert_eq!(id_token["sub"], user.user_id);
    assert_eq!(id_token["amr"], json!(["swk", "mfa"]));
    let (_, methods) = mgmt
        .get(&format!("/users/{}/authentication-methods", user.user_id))
        .await;
    assert!(methods[0]["last_auth_at"].is_string(), "{methods}");

    // The email is taken now: a second sign-up for it is refused before any ceremony.
    let browser = crate::helpers::browser();
    let html = signup_page(app, &browser, &pkce_url(app, &spa).0).await;
    let live = live_ceremonies(app).await;
    let (status, body) = signup_ceremony(app, &browser, &html, EMAIL).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("already exists"));
    assert_eq!(live_ceremonies(app).await, live);
    let (status, _) = signup_ceremony(app, &browser, &html, "not an email").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_passkey_signup_honours_disabled_signups_and_the_verification_email() {
    for verify in [true, false] {
        let mgmt = spawn_mgmt_with(|settings| settings.verify_email_on_signup = verify).await;
        let app = &mgmt.app;
        let spa = app.create_spa(false).await;
        configure(&mgmt, &["webauthn-platform"]).await;
        let mut key = SoftPasskey::new(true);
        let browser = browser();
        let (url, _) = pkce_url(app, &spa);
        let html = signup_page(app, &browser, &url).await;
        let (_, body) = signup_ceremony(app, &browser, &html, EMAIL).await;
        let credential = register(&mut key, app, body["options"].clone());

        // Sign-ups disabled after the ceremony started: the answer creates nothing, and no
        // new ceremony starts.
        set_options(&mgmt, json!({"disable_signup": true})).await;
        let ceremony = body["ceremony"].as_str().unwrap().to_owned();
        let fields = [
            ("ceremony", ceremony.as_str()),
            ("credential", credential.as_str()),
        ];
        let refused = post_hosted_form(app, &browser, &html, "/u/signup/passkey", &fields).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(app.store.user_by_email(EMAIL).await.unwrap().is_none());
        let (status, body) = signup_ceremony(app, &browser, &html, EMAIL).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["error_description"], SIGNUP_DISABLED);

        set_options(&mgmt, json!({"disable_signup": false})).await;
        let (_, body) = signup_ceremony(app, &browser, &html, EMAIL).await;
        let credential = register(&mut key, app, body["options"].clone());
        let ceremony = body["ceremony"].as_str().unwrap().to_owned();
        let fields = [
            ("ceremony", ceremony.as_str()),
            ("credential", credential.as_str()),
        ];
        let created = post_hosted_form(app, &browser, &html, "/u/signup/passkey", &fields).await;
        assert_eq!(created.status(), StatusCode::SEE_OTHER);
        let (emails, _) = app
            .store
            .list_emails(&Default::default(), portcullis_store::Page::ALL)
            .await
            .unwrap();
        let verification = emails
            .iter()
            .filter(|email| email.recipient.contains(EMAIL))
            .count();
        assert_eq!(
            verification,
            usize::from(verify),
            "verify_email_on_signup = {verify}"
        );
    }
}

#[tokio::test]
async fn the_signup_page_offers_no_passkey_unless_the_tenant_enables_them() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let spa = app.create_spa(false).await;
    let browser = browser();
    let (url, _) = pkce_url(app, &spa);
    let html = signup_page(app, &browser, &url).await;
    assert!(!html.contains("signup-passkey"));
    let (status, body) = signup_ceremony(app, &browser, &html, EMAIL).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error_description"], "Passkeys are not enabled.");
    assert_eq!(live_ceremonies(app).await, 0);
}
