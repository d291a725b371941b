//! `api.multifactor.enable` in a post-login Action, over real HTTP, with the tenant's own
//! policy off: a browser login is sent to the second-factor step (enrolment here) and comes
//! back with a code whose tokens say `mfa`; `none` takes an earlier call back; a provider
//! Portcullis has no counterpart for fails the Action (`access_denied`), never a 500; the
//! session that passed the factor is not asked again; the password grant answers Auth0's
//! `mfa_required`, and so does a refresh the Action asks a factor of.

use portcullis_types::ActionTrigger;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    actions::{bind, deploy},
    helpers::*,
    management_support::*,
    mfa::{configure, enrol, tokens},
};

const EMAIL: &str = "step-up@example.com";
const REALM_GRANT: &str = "http://auth0.com/oauth/grant-type/password-realm";

/// Binds one post-login Action, named `name`, whose body is `body` (in place of any other).
async fn post_login_action(app: &TestApp, name: &str, body: &str) {
    let code = format!("exports.onExecutePostLogin = async (event, api) => {{ {body} }};");
    let id = deploy(app, name, ActionTrigger::PostLogin, &code, &[]).await;
    bind(app, ActionTrigger::PostLogin, &[&id]).await;
}

/// An API, a SPA (the password-realm grant too) and a user; TOTP and recovery codes on, the
/// tenant's policy off.
async fn setup(mgmt: &Mgmt) -> Spa {
    let app = &mgmt.app;
    app.create_api(true).await;
    let spa = app.create_spa(false).await;
    app.create_user(EMAIL).await;
    configure(mgmt, false).await;
    let (status, body) = mgmt
        .patch(
            &format!("/clients/{}", spa.client_id),
            json!({ "grant_types": ["authorization_code", "refresh_token", REALM_GRANT] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.tenant_changed();
    spa
}

#[tokio::test]
async fn an_action_sends_the_login_to_the_second_factor_and_its_tokens_say_mfa() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let spa = setup(&mgmt).await;
    // Without the Action the policy asks nothing: the password alone gives a code.
    let (params, _) = app
        .login_for_code(&browser(), &spa, EMAIL, &[("audience", API)])
        .await;
    assert!(params.contains_key("code"), "{params:?}");

    post_login_action(
        app,
        "Step up",
        "api.multifactor.enable('any', { allowRememberBrowser: false });",
    )
    .await;
    // The same login now goes through enrolment, then back to the client with a code.
    let enrolled = enrol(app, &spa, EMAIL, &[("audience", API)]).await;
    let body = tokens(app, &spa, &enrolled.callback["code"], &enrolled.verifier).await;
    let id = app
        .verify(body["id_token"].as_str().unwrap(), &spa.client_id)
        .await;
    assert_eq!(id["amr"], json!(["pwd", "mfa", "otp"]));
    let access = app
        .verify(body["access_token"].as_str().unwrap(), API)
        .await;
    assert_eq!(access["amr"], json!(["pwd", "mfa", "otp"]));

    // The session that passed the factor is not asked again (silent authentication).
    let url = app.authorize_url(
        &spa,
        &[
            ("audience", API),
            ("prompt", "none"),
            ("code_challenge", &pkce().1),
            ("code_challenge_method", "S256"),
        ],
    );
    let answer = enrolled.browser.get(&url).send().await.unwrap();
    let params = callback_params(&location(&answer));
    assert!(params.contains_key("code"), "{params:?}");

    // A fresh browser with prompt=none has no session: login_required as ever.
    let other = browser();
    let answer = other.get(&url).send().await.unwrap();
    assert_eq!(
        callback_params(&location(&answer))["error"],
        "login_required"
    );
}

#[tokio::test]
async fn none_takes_it_back_and_an_unknown_provider_fails_the_action() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let spa = setup(&mgmt).await;
    post_login_action(
        app,
        "Taken back",
        "api.multifactor.enable('any'); api.multifactor.enable('none');",
    )
    .await;
    let (params, _) = app
        .login_for_code(&browser(), &spa, EMAIL, &[("audience", API)])
        .await;
    assert!(params.contains_key("code"), "{params:?}");

    post_login_action(app, "Duo", "api.multifactor.enable('duo');").await;
    let (params, _) = app
        .login_for_code(&browser(), &spa, EMAIL, &[("audience", API)])
        .await;
    assert_eq!(params["error"], "access_denied", "{params:?}");
    assert_eq!(params["error_description"], "The Action \"Duo\" failed");
}

/// The password-realm grant: its status and body.
async fn realm_grant(app: &TestApp, spa: &Spa, scope: &str) -> (StatusCode, Value) {
    let response = app
        .browser
        .post(app.url("/oauth/token"))
        .json(&json!({
            "grant_type": REALM_GRANT,
            "client_id": spa.client_id,
            "username": EMAIL,
            "password": PASSWORD,
            "realm": "Username-Password-Authentication",
            "audience": API,
            "scope": scope,
        }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_password_grant_and_a_refresh_answer_mfa_required_when_an_action_asks() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let spa = setup(&mgmt).await;
    // Asked only at a refresh: the password grant gives tokens and a refresh token.
    post_login_action(
        app,
        "At refresh",
        "if (event.transaction.protocol === 'oauth2-refresh-token') { api.multifactor.enable('any'); }",
    )
    .await;
    let (status, body) = realm_grant(app, &spa, "openid offline_access").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let refresh = body["refresh_token"].as_str().expect("a refresh token");
    let response = app
        .browser
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", spa.client_id.as_str()),
            ("refresh_token", refresh),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "mfa_required", "{body}");
    assert!(body["mfa_token"].as_str().is_some_and(|t| !t.is_empty()));

    // Asked at every login: the password grant answers mfa_required with an mfa_token.
    post_login_action(app, "Every login", "api.multifactor.enable('any');").await;
    let (status, body) = realm_grant(app, &spa, "openid").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "mfa_required");
    assert_eq!(
        body["error_description"],
        "Multifactor authentication required"
    );
    assert!(body["mfa_token"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body.get("access_token").is_none());
}
