//! A sign-in at another provider is a login like any other: the tenant's post-login Actions run
//! on it, silent authentication rides the Portcullis session it started, and the tenant's MFA
//! policy asks it for a second factor (`interaction_required` when silent).

use portcullis_core::admin::{mfa, Actor};
use portcullis_types::{ActionTrigger, MfaFactor, MfaPolicy};
use reqwest::StatusCode;

use crate::{
    actions::{bind, deploy},
    connections::hostile_setup,
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
    let tokens: serde_json::Value = app
        .exchange_code(&spa, &params["code"], &verifier)
        .await
        .json()
        .await
        .expect("json");
    let again = app
        .verify(
            tokens["id_token"].as_str().expect("id token"),
            &spa.client_id,
        )
        .await;
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
