//! Auth0's MFA API after the password grant's `mfa_required`, over real HTTP: the
//! `mfa_token` names a stored pending login, `/mfa/authenticators`, `/mfa/associate` (an
//! authenticator app and recovery codes, in Auth0's shape), `/mfa/challenge`, and the
//! `mfa-otp` and `mfa-recovery-code` grants: tokens with `amr` `["pwd", "mfa", "otp"]` after
//! the post-login Actions, each `mfa_token` used once, wrong codes `invalid_grant` and
//! throttled like the login page's, recovery codes once each.

use portcullis_core::{sign_in::ThrottleLimits, Clock};
use portcullis_types::ActionTrigger;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    actions::{bind, deploy},
    helpers::*,
    management_support::*,
    mfa::{code_at, configure},
};

const REALM_GRANT: &str = "http://auth0.com/oauth/grant-type/password-realm";
const OTP_GRANT: &str = "http://auth0.com/oauth/grant-type/mfa-otp";
const RECOVERY_GRANT: &str = "http://auth0.com/oauth/grant-type/mfa-recovery-code";
const EMAIL: &str = "mfa-api@example.com";

/// A JSON post to `path`, with a Bearer token if any; its status and JSON body.
async fn post_json(
    app: &TestApp,
    path: &str,
    bearer: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut request = app.browser.post(app.url(path)).json(&body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn authenticators(app: &TestApp, mfa_token: &str) -> (StatusCode, Value) {
    let response = app
        .browser
        .get(app.url("/mfa/authenticators"))
        .bearer_auth(mfa_token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The password-realm grant as auth0.js sends it: must answer `mfa_required`; its token.
async fn mfa_required(app: &TestApp, client_id: &str) -> String {
    let (status, body) = post_json(
        app,
        "/oauth/token",
        None,
        json!({
            "grant_type": REALM_GRANT,
            "client_id": client_id,
            "username": EMAIL,
            "password": PASSWORD,
            "realm": "Username-Password-Authentication",
            "audience": API,
            "scope": "openid profile email",
        }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "mfa_required");
    assert_eq!(
        body["error_description"],
        "Multifactor authentication required"
    );
    body["mfa_token"].as_str().unwrap().to_owned()
}

async fn mfa_grant(
    app: &TestApp,
    client_id: &str,
    grant: &str,
    mfa_token: &str,
    code: &str,
) -> (StatusCode, Value) {
    let field = if grant == OTP_GRANT {
        "otp"
    } else {
        "recovery_code"
    };
    post_json(
        app,
        "/oauth/token",
        None,
        json!({ "grant_type": grant, "client_id": client_id, "mfa_token": mfa_token, field: code }),
    )
    .await
}

/// A tenant that asks every login for a second factor (app and recovery codes enabled), an
/// API, a SPA allowed the password-realm and MFA grants, and a user.
async fn setup(mgmt: &Mgmt) -> Spa {
    let app = &mgmt.app;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    app.create_user(EMAIL).await;
    configure(mgmt, true).await;
    let (status, body) = mgmt
        .patch(
            &format!("/clients/{}", spa.client_id),
            json!({ "grant_types": ["authorization_code", REALM_GRANT, OTP_GRANT, RECOVERY_GRANT] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.tenant_changed();
    spa
}

/// `/mfa/associate` for the pending login: its answer, checked for Auth0's shape.
async fn associate(app: &TestApp, mfa_token: &str) -> Value {
    let (status, body) = post_json(
        app,
        "/mfa/associate",
        Some(mfa_token),
        json!({ "authenticator_types": ["otp"] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["authenticator_type"], "otp");
    assert!(body["barcode_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    assert!(body["barcode_uri"]
        .as_str()
        .unwrap()
        .contains(body["secret"].as_str().unwrap()));
    body
}

#[tokio::test]
async fn mfa_required_then_associate_then_the_otp_grant_gives_tokens_once() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let spa = setup(&mgmt).await;
    let claim = deploy(
        app,
        "Claim",
        ActionTrigger::PostLogin,
        "exports.onExecutePostLogin = async (event, api) => { \
           api.accessToken.setCustomClaim('https://example.com/protocol', event.transaction.protocol); };",
        &[],
    )
    .await;
    bind(app, ActionTrigger::PostLogin, &[&claim]).await;

    let mfa_token = mfa_required(app, &spa.client_id).await;
    let (status, listed) = authenticators(app, &mfa_token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed, json!([]), "no factor yet");
    // Without the token, or with another: 401.
    let (status, body) = authenticators(app, "not-a-token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_token");
    // Malformed associate bodies.
    let (status, body) = post_json(
        app,
        "/mfa/associate",
        Some(&mfa_token),
        json!({ "authenticator_types": "otp" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_request");
    let (status, body) = post_json(
        app,
        "/mfa/associate",
        Some(&mfa_token),
        json!({ "authenticator_types": ["oob"] }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "unsupported_challenge_type");

    let associated = associate(app, &mfa_token).await;
    let secret = associated["secret"].as_str().unwrap();
    let recovery_codes = associated["recovery_codes"].as_array().unwrap();
    assert!(!recovery_codes.is_empty());
    let (_, listed) = authenticators(app, &mfa_token).await;
    let otp = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["authenticator_type"] == "otp")
        .unwrap();
    assert_eq!(otp["active"], false, "not confirmed yet: {listed}");
    assert!(otp["id"].as_str().unwrap().starts_with("totp|dev_"));
    // A recovery code is no way in before the app is confirmed.
    let (status, body) = mfa_grant(
        app,
        &spa.client_id,
        RECOVERY_GRANT,
        &mfa_token,
        recovery_codes[0].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");

    // Missing parameters, an unknown token.
    let (status, body) = post_json(
        app,
        "/oauth/token",
        None,
        json!({ "grant_type": OTP_GRANT, "client_id": spa.client_id, "mfa_token": mfa_token }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");
    let code = code_at(secret, app.clock.now());
    let (status, body) = mfa_grant(app, &spa.client_id, OTP_GRANT, "unknown-token", &code).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");

    // The first code confirms the app and finishes the login.
    let (status, tokens) = mfa_grant(app, &spa.client_id, OTP_GRANT, &mfa_token, &code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    let access = app
        .verify(tokens["access_token"].as_str().unwrap(), API)
        .await;
    assert_eq!(access["amr"], json!(["pwd", "mfa", "otp"]));
    assert_eq!(
        access["https://example.com/protocol"], "oauth2-password",
        "post-login Actions ran"
    );
    let id = app
        .verify(tokens["id_token"].as_str().unwrap(), &spa.client_id)
        .await;
    assert_eq!(id["amr"], json!(["pwd", "mfa", "otp"]));
    assert_eq!(id["email"], EMAIL);

    // The token is used: refused, even with a fresh code.
    app.clock.advance(30);
    let fresh = code_at(secret, app.clock.now());
    let (status, body) = mfa_grant(app, &spa.client_id, OTP_GRANT, &mfa_token, &fresh).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    let (status, _) = authenticators(app, &mfa_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The next login: the app is listed active, a challenge is answered, a second app is
    // refused, and the code finishes it.
    let mfa_token = mfa_required(app, &spa.client_id).await;
    let (_, listed) = authenticators(app, &mfa_token).await;
    let types: Vec<(&str, bool)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["authenticator_type"].as_str().unwrap(),
                a["active"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(
        types.contains(&("otp", true)) && types.contains(&("recovery-code", true)),
        "{listed}"
    );
    let (status, body) = post_json(
        app,
        "/mfa/associate",
        Some(&mfa_token),
        json!({ "authenticator_types": ["otp"] }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body,
        json!({"error": "access_denied", "error_description": "User is already enrolled."})
    );
    let (status, body) = post_json(
        app,
        "/mfa/challenge",
        None,
        json!({ "client_id": spa.client_id, "mfa_token": mfa_token, "challenge_type": "otp" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"challenge_type": "otp"}));
    let (status, body) = post_json(
        app,
        "/mfa/challenge",
        None,
        json!({ "client_id": spa.client_id, "mfa_token": mfa_token, "challenge_type": "oob" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unsupported_challenge_type");
    // A code of the app finishes it.
    let (status, body) = mfa_grant(app, &spa.client_id, OTP_GRANT, &mfa_token, &fresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn the_mfa_grants_are_off_unless_the_application_lists_them() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let spa = setup(&mgmt).await;
    let mfa_token = mfa_required(app, &spa.client_id).await;
    let (status, body) = mgmt
        .patch(
            &format!("/clients/{}", spa.client_id),
            json!({ "grant_types": ["authorization_code", REALM_GRANT] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.tenant_changed();
    let (status, body) = mfa_grant(app, &spa.client_id, OTP_GRANT, &mfa_token, "123456").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unauthorized_client");
    // Another application cannot finish this one's login.
    let other = app.create_spa(false).await;
    let (status, _) = mgmt
        .patch(
            &format!("/clients/{}", other.client_id),
            json!({ "grant_types": [OTP_GRANT] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app.tenant_changed();
    let (status, body) = mfa_grant(app, &other.client_id, OTP_GRANT, &mfa_token, "123456").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
}

/// Enrols the user's app through the MFA API; its secret and recovery codes.
async fn enrolled(app: &TestApp, spa: &Spa) -> (String, Vec<String>) {
    let mfa_token = mfa_required(app, &spa.client_id).await;
    let associated = associate(app, &mfa_token).await;
    let secret = associated["secret"].as_str().unwrap().to_owned();
    let codes = associated["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap().to_owned())
        .collect();
    let (status, body) = mfa_grant(
        app,
        &spa.client_id,
        OTP_GRANT,
        &mfa_token,
        &code_at(&secret, app.clock.now()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.clock.advance(30);
    (secret, codes)
}

#[tokio::test]
async fn wrong_codes_are_invalid_grant_and_throttled_like_the_login_page() {
    let mgmt = spawn_mgmt_with(|settings| settings.throttle.per_pair = 3).await;
    let app = &mgmt.app;
    let spa = setup(&mgmt).await;
    // The counters are per fixed window: start at the beginning of one.
    let window = ThrottleLimits::default().window_seconds;
    app.clock
        .advance(window - app.clock.now().rem_euclid(window) + 1);
    let (secret, _) = enrolled(app, &spa).await;
    let mfa_token = mfa_required(app, &spa.client_id).await;
    let (status, body) = mfa_grant(app, &spa.client_id, OTP_GRANT, &mfa_token, "000000").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "Invalid otp_code."})
    );
    let mut statuses = vec![status];
    for _ in 0..3 {
        let (status, _) = mfa_grant(app, &spa.client_id, OTP_GRANT, &mfa_token, "111111").await;
        statuses.push(status);
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    // Past the limit, the right code is refused too, and the token is still pending.
    let (status, body) = mfa_grant(
        app,
        &spa.client_id,
        OTP_GRANT,
        &mfa_token,
        &code_at(&secret, app.clock.now()),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"], "too_many_requests");
    // The hosted login form of the same pair is throttled as well.
    let (_, challenge) = pkce();
    let url = app.authorize_url(
        &spa,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let refused = app.login_via_form(&browser(), &url, EMAIL, PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    // When the window is over, so are the pending login's ten minutes: it has expired.
    app.clock.advance(window);
    let (status, body) = mfa_grant(
        app,
        &spa.client_id,
        OTP_GRANT,
        &mfa_token,
        &code_at(&secret, app.clock.now()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn a_recovery_code_finishes_a_login_once() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let spa = setup(&mgmt).await;
    let (_, codes) = enrolled(app, &spa).await;
    let mfa_token = mfa_required(app, &spa.client_id).await;
    let (status, body) = mfa_grant(
        app,
        &spa.client_id,
        RECOVERY_GRANT,
        &mfa_token,
        "NOT-A-CODE",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "Invalid recovery_code."})
    );
    let (status, tokens) =
        mfa_grant(app, &spa.client_id, RECOVERY_GRANT, &mfa_token, &codes[0]).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = app
        .verify(tokens["access_token"].as_str().unwrap(), API)
        .await;
    let amr = access["amr"].as_array().unwrap();
    assert!(
        amr.contains(&json!("mfa")) && amr.contains(&json!("pwd")),
        "{access}"
    );
    // The same code on the next login: refused; another one works.
    let mfa_token = mfa_required(app, &spa.client_id).await;
    let (status, body) =
        mfa_grant(app, &spa.client_id, RECOVERY_GRANT, &mfa_token, &codes[0]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    let (status, _) = mfa_grant(app, &spa.client_id, RECOVERY_GRANT, &mfa_token, &codes[1]).await;
    assert_eq!(status, StatusCode::OK);
}
