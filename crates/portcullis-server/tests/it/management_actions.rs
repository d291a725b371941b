//! `/api/v2/actions`: Actions in Auth0's shapes — create, read, update, deploy, versions,
//! bindings, a test run, the triggers — and the scopes they need.

use reqwest::StatusCode;
use serde_json::json;

use crate::management_support::*;

const CODE: &str = "exports.onExecutePostLogin = async (event, api) => { \
    console.log('hello', event.user.email); \
    api.accessToken.setCustomClaim('https://example.com/key', event.secrets.KEY); \
    if (!event.user.email_verified) api.access.deny('verify first'); };";

#[tokio::test]
async fn actions_are_created_deployed_bound_and_tested_in_auth0_shapes() {
    let mgmt = spawn_mgmt().await;
    let (status, created) = mgmt
        .post(
            "/actions/actions",
            json!({
                "name": "Add key",
                "supported_triggers": [{"id": "post-login", "version": "v3"}],
                "code": CODE,
                "runtime": "node18",
                "secrets": [{"name": "KEY", "value": "s3cr3t"}],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["secrets"][0]["name"], "KEY");
    assert!(
        created["secrets"][0].get("value").is_none(),
        "a secret's value is never shown"
    );
    assert_eq!(created["all_changes_deployed"], false);
    assert!(created["deployed_version"].is_null());

    // Not deployed yet: it cannot be bound.
    let refused = mgmt
        .patch(
            "/actions/triggers/post-login/bindings",
            json!({"bindings": [{"ref": {"type": "action_id", "value": id}}]}),
        )
        .await;
    assert_error(&refused, StatusCode::BAD_REQUEST, "invalid_body");

    let (status, version) = mgmt
        .post(&format!("/actions/actions/{id}/deploy"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{version}");
    assert_eq!(version["number"], 1);
    let (_, read) = mgmt.get(&format!("/actions/actions/{id}")).await;
    assert_eq!(read["all_changes_deployed"], true);
    assert_eq!(read["deployed_version"]["number"], 1);

    let (status, bound) = mgmt
        .patch(
            "/actions/triggers/post-login/bindings",
            json!({"bindings": [{"ref": {"type": "action_name", "value": "Add key"}, "display_name": "Key"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{bound}");
    let (_, listed) = mgmt.get("/actions/triggers/post-login/bindings").await;
    assert_eq!(listed["bindings"][0]["display_name"], "Key");
    assert_eq!(listed["bindings"][0]["action"]["id"], id.as_str());

    // A test run of the draft: the api calls and the logs, nothing written.
    let (status, tested) = mgmt
        .post(
            &format!("/actions/actions/{id}/test"),
            json!({"payload": {"event": {"user": {"email": "ada@example.com", "email_verified": false}}}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tested}");
    let commands = &tested["payload"]["commands"];
    assert_eq!(
        commands[0],
        json!({"api": "access_token_claim", "name": "https://example.com/key", "value": "s3cr3t"})
    );
    assert_eq!(
        commands[1],
        json!({"api": "deny", "reason": "verify first"})
    );
    assert_eq!(
        tested["payload"]["logs"][0]["message"],
        "hello ada@example.com"
    );

    // An edit is a draft until deployed; a second deployment is version 2.
    let (status, patched) = mgmt
        .patch(
            &format!("/actions/actions/{id}"),
            json!({"code": "exports.onExecutePostLogin = async () => {};"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(patched["all_changes_deployed"], false);
    assert_eq!(patched["secrets"][0]["name"], "KEY", "secrets kept");
    mgmt.post(&format!("/actions/actions/{id}/deploy"), json!({}))
        .await;
    let (_, versions) = mgmt.get(&format!("/actions/actions/{id}/versions")).await;
    assert_eq!(versions["versions"][0]["number"], 2);
    assert_eq!(versions["versions"][1]["number"], 1);

    // Code that does not compile is not deployed.
    mgmt.patch(
        &format!("/actions/actions/{id}"),
        json!({"code": "exports.x = ("}),
    )
    .await;
    let refused = mgmt
        .post(&format!("/actions/actions/{id}/deploy"), json!({}))
        .await;
    assert_error(&refused, StatusCode::BAD_REQUEST, "invalid_body");

    let (_, triggers) = mgmt.get("/actions/triggers").await;
    assert_eq!(triggers["triggers"][0]["id"], "post-login");
    let (_, list) = mgmt
        .get("/actions/actions?triggerId=credentials-exchange")
        .await;
    assert_eq!(list["total"], 0);

    // A bound Action is deleted only with force.
    let refused = mgmt.delete(&format!("/actions/actions/{id}")).await;
    assert_eq!(refused.0, StatusCode::BAD_REQUEST);
    let (status, _) = mgmt
        .delete(&format!("/actions/actions/{id}?force=true"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let missing = mgmt.get(&format!("/actions/actions/{id}")).await;
    assert_eq!(missing.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn actions_need_their_scopes_and_refuse_npm_dependencies() {
    let mgmt = spawn_mgmt().await;
    let reader = mgmt.token_with_scopes(&["read:actions"]).await;
    let body = json!({"name": "x", "supported_triggers": [{"id": "post-login"}], "code": ""});
    let answer = mgmt
        .call_with(
            Some(&reader),
            reqwest::Method::POST,
            "/actions/actions",
            Some(&body),
        )
        .await;
    assert_eq!(answer.0, StatusCode::FORBIDDEN);
    let answer = mgmt
        .call_with(
            Some(&reader),
            reqwest::Method::GET,
            "/actions/actions",
            None,
        )
        .await;
    assert_eq!(answer.0, StatusCode::OK);
    let with_npm = mgmt
        .post(
            "/actions/actions",
            json!({"name": "npm", "supported_triggers": [{"id": "post-login"}], "code": "",
                   "dependencies": [{"name": "axios", "version": "1"}]}),
        )
        .await;
    assert_error(&with_npm, StatusCode::BAD_REQUEST, "invalid_body");
    let unknown = mgmt
        .post(
            "/actions/actions",
            json!({"name": "y", "supported_triggers": [{"id": "pre-user-registration"}]}),
        )
        .await;
    assert_error(&unknown, StatusCode::BAD_REQUEST, "invalid_body");
}

/// The server keeps the bound versions in its tenant cache: a change through the Management
/// API applies to the very next token, with nothing reloaded by hand.
#[tokio::test]
async fn a_binding_or_a_new_version_applies_to_the_next_token() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    app.create_api(false).await;
    let (client_id, secret) = app.create_m2m(&["read:messages"]).await;
    let claim = |token: &str| {
        let token = token.to_owned();
        async move { app.verify(&token, crate::helpers::API).await["https://example.com/tier"].clone() }
    };
    let token = || client_credentials(app, &client_id, &secret, crate::helpers::API);
    // Nothing bound yet, and that answer is now cached.
    assert!(claim(&token().await).await.is_null());

    let code = |tier: &str| {
        format!("exports.onExecuteCredentialsExchange = async (event, api) => {{ api.accessToken.setCustomClaim('https://example.com/tier', '{tier}'); }};")
    };
    let (status, created) = mgmt
        .post(
            "/actions/actions",
            json!({"name": "Tier", "supported_triggers": [{"id": "credentials-exchange"}], "code": code("gold")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    mgmt.post(&format!("/actions/actions/{id}/deploy"), json!({}))
        .await;
    let bindings = "/actions/triggers/credentials-exchange/bindings";
    let (status, _) = mgmt
        .patch(
            bindings,
            json!({"bindings": [{"ref": {"type": "action_id", "value": id}}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(claim(&token().await).await, "gold");

    // A new version of the bound Action.
    mgmt.patch(
        &format!("/actions/actions/{id}"),
        json!({"code": code("silver")}),
    )
    .await;
    mgmt.post(&format!("/actions/actions/{id}/deploy"), json!({}))
        .await;
    assert_eq!(claim(&token().await).await, "silver");

    // Unbound.
    let (status, _) = mgmt.patch(bindings, json!({"bindings": []})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(claim(&token().await).await.is_null());
}
