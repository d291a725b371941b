//! A sign-in at another provider is a login like any other: the tenant's post-login Actions run
//! on it, silent authentication rides the Portcullis session it started, and the tenant's MFA
//! policy asks it for a second factor (`interaction_required` when silent). A plain OAuth 2
//! provider's user comes from its profile endpoint.

use portcullis_core::admin::{
    mfa,
    upstream::{self, NewConnection},
    Actor,
};
use portcullis_types::{ActionTrigger, MfaFactor, MfaPolicy, Strategy};
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    actions::{bind, deploy},
    connections::{hostile_setup, resume, spawn_provider, start},
    connections_login::federated_login_at,
    helpers::*,
};

const CLAIM: &str = "https://example.com/signed-in-as";

#[tokio::test]
async fn a_federated_login_runs_the_actions_keeps_a_session_and_meets_the_mfa_policy() {
    let (app, spa, provider) = hostile_setup().await;
    let id = deploy(
        &app,
        "who",
        ActionTrigger::PostLogin,
        &format!(
            "exports.onExecutePostLogin = async (event, api) => {{ api.idToken.setCustomClaim('{CLAIM}', event.user.user_id); }};"
        ),
        &[],
    )
    .await;
    bind(&app, ActionTrigger::PostLogin, &[&id]).await;
    app.tenant_changed();
    let browser = browser();

    let (_, id_token) = federated_login_at(&app, &spa, &provider, &browser, None).await;
    let user_id = id_token["sub"].as_str().expect("sub").to_owned();
    assert!(user_id.starts_with("oidc|hostile|"), "{user_id}");
    assert_eq!(id_token[CLAIM], user_id, "the post-login Action ran");

    // Silent authentication on the session the provider's answer started: a code, whose
    // tokens the Action shaped again.
    let (verifier, challenge) = pkce();
    let silent = |prompt: &'static str| {
        app.authorize_url(
            &spa,
            &[
                ("prompt", prompt),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
                ("state", "s"),
                ("nonce", "n"),
            ],
        )
    };
    let answer = browser.get(silent("none")).send().await.expect("silent");
    assert_eq!(answer.status(), StatusCode::FOUND);
    let params = callback_params(&location(&answer));
    let (_, again) = app.tokens_for_code(&spa, &params["code"], &verifier).await;
    assert_eq!(again["sub"], user_id);
    assert_eq!(again[CLAIM], user_id);

    // Under "always", the federated session has done no second factor of ours: silent
    // authentication answers interaction_required, an interactive one is sent to enrol.
    mfa::set_factor(&app.cx, &Actor::System, MfaFactor::Otp, true)
        .await
        .expect("factor");
    mfa::set_policies(&app.cx, &Actor::System, &[MfaPolicy::AllApplications])
        .await
        .expect("policy");
    app.tenant_changed();
    let answer = browser.get(silent("none")).send().await.expect("silent");
    assert_eq!(answer.status(), StatusCode::FOUND);
    let params = callback_params(&location(&answer));
    assert_eq!(params["error"], "interaction_required", "{params:?}");
    let answer = browser.get(silent("")).send().await.expect("interactive");
    assert!(answer.status().is_redirection());
    let next = location(&answer);
    assert!(
        next.starts_with("/u/mfa"),
        "sent to the second factor: {next}"
    );
}

#[tokio::test]
async fn a_plain_oauth2_connection_signs_in_with_its_profile_endpoints_user() {
    let provider = spawn_provider().await;
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    let base = &provider.base;
    let options = json!({
        "authorizationURL": format!("{base}/authorize"),
        "tokenURL": format!("{base}/token"),
        "profileURL": format!("{base}/profile"),
        "client_id": "downstream",
        "client_secret": "s3cret",
        "scope": "profile",
    });
    upstream::create(
        &app.cx,
        &Actor::System,
        NewConnection {
            name: "plain".into(),
            display_name: None,
            strategy: Strategy::Oauth2,
            options: options.as_object().cloned().expect("object"),
            enabled_clients: vec![spa.client_id.clone()],
        },
    )
    .await
    .expect("connection");
    app.tenant_changed();
    let browser = browser();
    let (to_provider, verifier) = start(&app, &browser, &spa, "plain").await;
    assert!(
        to_provider.starts_with(&format!("{base}/authorize?")),
        "{to_provider}"
    );
    let sent = callback_params(&to_provider);
    assert_eq!(sent["client_id"], "downstream");
    assert_eq!(sent["code_challenge_method"], "S256", "PKCE by default");
    let back = browser
        .get(app.url(&format!(
            "/login/callback?code=c0de&state={}",
            sent["state"]
        )))
        .send()
        .await
        .expect("callback");
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let code = resume(&app, &browser, &back).await["code"].clone();
    let (_, id_token) = app.tokens_for_code(&spa, &code, &verifier).await;
    let sub = id_token["sub"].as_str().expect("sub");
    assert!(
        sub.starts_with("oauth2|plain|") && sub.ends_with("p-42"),
        "{sub}"
    );
    assert_eq!(id_token["email"], "pat@example.com");
    assert_eq!(id_token["email_verified"], true);
}
