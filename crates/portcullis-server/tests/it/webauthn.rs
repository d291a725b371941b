//! WebAuthn security keys and passkeys: enrolled on the second-factor page, used as the
//! second factor after a password, and signing in alone from the login page ("Sign in with a
//! passkey"); single-use, expiring ceremonies bound to their session; sign counts that only
//! move forward; the Management API's view of the keys. The browser and the key are played by
//! `webauthn-authenticator-rs`'s software passkey.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use url::Url;
use webauthn_authenticator_rs::{softpasskey::SoftPasskey, WebauthnAuthenticator};
use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RequestChallengeResponse,
};

use crate::{helpers::*, management_support::*, mfa::password_then_mfa};

/// Enables `factors` with the `always` policy.
pub(crate) async fn configure(mgmt: &Mgmt, factors: &[&str]) {
    for factor in factors {
        let (status, body) = mgmt
            .call(
                Method::PUT,
                &format!("/guardian/factors/{factor}"),
                Some(&json!({"enabled": true})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, _) = mgmt
        .call(
            Method::PUT,
            "/guardian/policies",
            Some(&json!(["all-applications"])),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

/// A ceremony a page carries: the id its button names and the options in its script element.
pub(crate) fn ceremony(html: &str, button: &str) -> (String, Value) {
    let at = html
        .find(&format!("id=\"{button}\""))
        .unwrap_or_else(|| panic!("no button #{button}"));
    let tag = &html[at..at + html[at..].find('>').expect("end of tag")];
    let attribute = |name: &str| {
        let marker = format!("{name}=\"");
        let start = tag.find(&marker).expect("attribute") + marker.len();
        tag[start..start + tag[start..].find('"').expect("quote")].to_owned()
    };
    let script = format!(
        "<script type=\"application/json\" id=\"{}\">",
        attribute("data-options")
    );
    let start = html.find(&script).expect("options") + script.len();
    let end = start + html[start..].find("</script>").expect("end of options");
    let options = serde_json::from_str(&html[start..end]).expect("options JSON");
    (attribute("data-ceremony"), options)
}

/// The key's owner registering it: the software key is a roaming, non-discoverable one, so
/// what the page asks of the browser about both is left to the browser, as a browser would
/// with such a key (the server's verification does not depend on it).
pub(crate) fn register(key: &mut SoftPasskey, app: &TestApp, mut options: Value) -> String {
    let selection = options["publicKey"]["authenticatorSelection"]
        .as_object_mut()
        .expect("selection");
    selection.remove("authenticatorAttachment");
    selection.insert("residentKey".into(), json!("discouraged"));
    selection.insert("requireResidentKey".into(), json!(false));
    let options: CreationChallengeResponse = serde_json::from_value(options).expect("options");
    let origin = Url::parse(&app.issuer).expect("origin");
    let credential = key.do_registration(origin, options).expect("registration");
    serde_json::to_string(&credential).expect("json")
}

/// The key's assertion for `options`.
pub(crate) fn assert_with(
    key: &mut SoftPasskey,
    app: &TestApp,
    options: Value,
) -> PublicKeyCredential {
    let options: RequestChallengeResponse = serde_json::from_value(options).expect("options");
    let origin = Url::parse(&app.issuer).expect("origin");
    key.do_authentication(origin, options).expect("assertion")
}

/// Follows a 303 back to `/authorize`: the code, exchanged, and the ID token's claims.
pub(crate) async fn id_token_after(
    app: &TestApp,
    spa: &Spa,
    browser: &reqwest::Client,
    response: reqwest::Response,
    verifier: &str,
) -> Value {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let back = location(&response);
    assert!(back.starts_with("/authorize?"), "{back}");
    let answer = browser.get(app.url(&back)).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::FOUND);
    let callback = callback_params(&location(&answer));
    let tokens = app.exchange_code(spa, &callback["code"], verifier).await;
    assert_eq!(tokens.status(), StatusCode::OK);
    let body: Value = tokens.json().await.unwrap();
    app.verify(body["id_token"].as_str().unwrap(), &spa.client_id)
        .await
}

pub(crate) fn pkce_url(app: &TestApp, spa: &Spa) -> (String, String) {
    let (verifier, challenge) = pkce();
    let url = app.authorize_url(
        spa,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    (url, verifier)
}

#[tokio::test]
async fn a_security_key_is_enrolled_and_then_asked_for_after_the_password() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let spa = app.create_spa(false).await;
    let user_id = app.create_user("kim@example.com").await;
    configure(&mgmt, &["webauthn-roaming", "recovery-code"]).await;
    let mut key = SoftPasskey::new(true);

    // Enrolment on the spot: the page offers a security key (and no authenticator app,
    // which the tenant does not enable).
    let browser = crate::helpers::browser();
    let (url, verifier) = pkce_url(app, &spa);
    let html = password_then_mfa(app, &browser, &url, "kim@example.com").await;
    assert!(!html.contains("id=\"qr\""), "no authenticator app offered");
    let (id, options) = ceremony(&html, "enrol-webauthn-roaming");
    assert_eq!(options["publicKey"]["rp"]["id"], "localhost");
    let credential = register(&mut key, app, options);
    let fields = [
        ("ceremony", id.as_str()),
        ("credential", credential.as_str()),
    ];
    let enrolled = post_hosted_form(app, &browser, &html, "/u/mfa/webauthn", &fields).await;
    assert_eq!(
        enrolled.status(),
        StatusCode::OK,
        "the recovery codes are shown"
    );
    let page = enrolled.text().await.unwrap();
    assert_eq!(page.matches("<li><code>").count(), 10);
    // The ceremony was single-use: the same answer again is refused.
    let again = post_hosted_form(app, &browser, &html, "/u/mfa/webauthn", &fields).await;
    assert_eq!(
        again.status(),
        StatusCode::SEE_OTHER,
        "the session has passed MFA already"
    );
    let query = hidden_field(&html, "authorize_query");
    let answer = browser
        .get(app.url(&format!("/authorize?{query}")))
        .send()
        .await
        .unwrap();
    let callback = callback_params(&location(&answer));
    let tokens = app.exchange_code(&spa, &callback["code"], &verifier).await;
    let body: Value = tokens.json().await.unwrap();
    let id_token = app
        .verify(body["id_token"].as_str().unwrap(), &spa.client_id)
        .await;
    assert_eq!(id_token["amr"], json!(["pwd", "mfa", "hwk"]));

    // The Management API lists the key in Auth0's shape.
    let (status, methods) = mgmt
        .get(&format!("/users/{user_id}/authentication-methods"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let listed = methods
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["type"] == "webauthn-roaming")
        .cloned()
        .expect("the key is listed");
    assert!(listed["id"]
        .as_str()
        .unwrap()
        .starts_with("webauthn-roaming|dev_"));
    assert_eq!(listed["name"], "Security key (WebAuthn)");
    assert!(listed["created_at"].is_string());
    assert!(listed.get("secret").is_none());

    // The next login asks for the key, not for a code.
    let browser = crate::helpers::browser();
    let (url, verifier) = pkce_url(app, &spa);
    let html = password_then_mfa(app, &browser, &url, "kim@example.com").await;
    assert!(
        !html.contains("id=\"code\""),
        "no code form without an authenticator app"
    );
    let (id, options) = ceremony(&html, "use-key");
    let assertion = serde_json::to_string(&assert_with(&mut key, app, options)).unwrap();
    let fields = [
        ("ceremony", id.as_str()),
        ("credential", assertion.as_str()),
    ];
    // Another browser's session cannot finish this session's ceremony.
    let stranger = crate::helpers::browser();
    let other = password_then_mfa(app, &stranger, &pkce_url(app, &spa).0, "kim@example.com").await;
    let refused = post_hosted_form(app, &stranger, &other, "/u/mfa/webauthn", &fields).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    // The ceremony was taken by that attempt: single use, so its own session cannot use it.
    let taken = post_hosted_form(app, &browser, &html, "/u/mfa/webauthn", &fields).await;
    assert_eq!(taken.status(), StatusCode::UNAUTHORIZED);
    let html = browser
        .get(app.url(&format!(
            "/u/mfa?{}",
            hidden_field(&html, "authorize_query")
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (id, options) = ceremony(&html, "use-key");
    let assertion = serde_json::to_string(&assert_with(&mut key, app, options)).unwrap();
    let fields = [
        ("ceremony", id.as_str()),
        ("credential", assertion.as_str()),
    ];
    let passed = post_hosted_form(app, &browser, &html, "/u/mfa/webauthn", &fields).await;
    let id_token = id_token_after(app, &spa, &browser, passed, &verifier).await;
    assert_eq!(id_token["amr"], json!(["pwd", "mfa", "hwk"]));

    // Deleting the key through the Management API removes it from the next login.
    let (status, _) = mgmt
        .delete(&format!(
            "/users/{user_id}/authentication-methods/{}",
            listed["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, methods) = mgmt
        .get(&format!("/users/{user_id}/authentication-methods"))
        .await;
    assert!(!methods.to_string().contains("webauthn-roaming"));
}

#[tokio::test]
async fn an_expired_or_forged_answer_is_refused_and_counts_like_a_wrong_code() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let spa = app.create_spa(false).await;
    app.create_user("lee@example.com").await;
    configure(&mgmt, &["webauthn-roaming"]).await;
    let mut key = SoftPasskey::new(true);
    let browser = crate::helpers::browser();
    let (url, _) = pkce_url(app, &spa);
    let html = password_then_mfa(app, &browser, &url, "lee@example.com").await;
    let (id, options) = ceremony(&html, "enrol-webauthn-roaming");
    let credential = register(&mut key, app, options);
    let fields = [
        ("ceremony", id.as_str()),
        ("credential", credential.as_str()),
    ];
    let enrolled = post_hosted_form(app, &browser, &html, "/u/mfa/webauthn", &fields).await;
    assert_eq!(
        enrolled.status(),
        StatusCode::SEE_OTHER,
        "no recovery codes enabled"
    );

    let browser = crate::helpers::browser();
    let html = password_then_mfa(app, &browser, &pkce_url(app, &spa).0, "lee@example.com").await;
    // Past its five minutes, a ceremony is refused.
    let (id, options) = ceremony(&html, "use-key");
    let assertion = serde_json::to_string(&assert_with(&mut key, app, options)).unwrap();
    app.clock.advance(301);
    let fields = [
        ("ceremony", id.as_str()),
        ("credential", assertion.as_str()),
    ];
    let late = post_hosted_form(app, &browser, &html, "/u/mfa/webauthn", &fields).await;
    assert_eq!(late.status(), StatusCode::UNAUTHORIZED);
    // A signature over another challenge is refused.
    let page = late.text().await.unwrap();
    let (id, _) = ceremony(&page, "use-key");
    let fields = [
        ("ceremony", id.as_str()),
        ("credential", assertion.as_str()),
    ];
    let forged = post_hosted_form(app, &browser, &page, "/u/mfa/webauthn", &fields).await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    // Garbage is a refusal too, never a server error.
    let page = forged.text().await.unwrap();
    let (id, _) = ceremony(&page, "use-key");
    let fields = [("ceremony", id.as_str()), ("credential", "{not json")];
    let garbage = post_hosted_form(app, &browser, &page, "/u/mfa/webauthn", &fields).await;
    assert_eq!(garbage.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_passkey_signs_in_alone_and_satisfies_mfa() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let spa = app.create_spa(false).await;
    let user_id = app.create_user("ana@example.com").await;
    configure(&mgmt, &["webauthn-platform"]).await;
    let mut key = SoftPasskey::new(true);
    let browser = crate::helpers::browser();
    let (url, _) = pkce_url(app, &spa);
    let html = password_then_mfa(app, &browser, &url, "ana@example.com").await;
    let (id, options) = ceremony(&html, "enrol-webauthn-platform");
    let selection = &options["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["authenticatorAttachment"], "platform");
    assert_eq!(selection["residentKey"], "required");
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["userVerification"],
        "required"
    );
    let user_handle = options["publicKey"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let credential = register(&mut key, app, options);
    let credential_id = serde_json::from_str::<Value>(&credential).unwrap()["rawId"].clone();
    let fields = [
        ("ceremony", id.as_str()),
        ("credential", credential.as_str()),
    ];
    let enrolled = post_hosted_form(app, &browser, &html, "/u/mfa/webauthn", &fields).await;
    assert_eq!(enrolled.status(), StatusCode::SEE_OTHER);

    // A new browser signs in with the passkey alone: no password, no second-factor page.
    let browser = crate::helpers::browser();
    let (response, verifier) =
        passkey_sign_in(app, &spa, &browser, &mut key, &credential_id, &user_handle).await;
    let id_token = id_token_after(app, &spa, &browser, response, &verifier).await;
    assert_eq!(id_token["amr"], json!(["swk", "mfa"]));
    assert_eq!(id_token["sub"], user_id);

    // A user handle that is not the key's owner's is refused.
    let browser = crate::helpers::browser();
    let (response, _) = passkey_sign_in(
        app,
        &spa,
        &browser,
        &mut key,
        &credential_id,
        "AAAAAAAAAAAAAAAAAAAAAA",
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("That passkey was not accepted"));

    // Reset MFA removes the passkey: it no longer signs in.
    let (status, _) = mgmt
        .delete(&format!("/users/{user_id}/authenticators"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let browser = crate::helpers::browser();
    let (response, _) =
        passkey_sign_in(app, &spa, &browser, &mut key, &credential_id, &user_handle).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

/// Opens the login page and answers its passkey ceremony with `key`; the response and the
/// request's PKCE verifier.
pub(crate) async fn passkey_sign_in(
    app: &TestApp,
    spa: &Spa,
    browser: &reqwest::Client,
    key: &mut SoftPasskey,
    credential_id: &Value,
    user_handle: &str,
) -> (reqwest::Response, String) {
    let (url, verifier) = pkce_url(app, spa);
    let login = browser.get(&url).send().await.unwrap();
    let html = browser
        .get(app.url(&location(&login)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("autocomplete=\"username webauthn\""),
        "conditional UI"
    );
    let (id, mut options) = crate::passkey_signup::fetched_ceremony(
        app,
        browser,
        &html,
        "/u/login/passkey/options",
        &[],
    )
    .await;
    assert!(options["publicKey"]
        .get("allowCredentials")
        .is_none_or(|list| list == &json!([])));
    // The software key is not discoverable: the test names the credential, as a browser does
    // with the passkey the person picked, and returns its user handle as a passkey does.
    options["publicKey"]["allowCredentials"] = json!([{"type": "public-key", "id": credential_id}]);
    let mut assertion = serde_json::to_value(assert_with(key, app, options)).unwrap();
    assertion["response"]["userHandle"] = json!(user_handle);
    let assertion = assertion.to_string();
    let fields = [
        ("ceremony", id.as_str()),
        ("credential", assertion.as_str()),
    ];
    let response = post_hosted_form(app, browser, &html, "/u/login/passkey", &fields).await;
    (response, verifier)
}
