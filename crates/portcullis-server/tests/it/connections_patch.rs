//! `PATCH /api/v2/connections/{id}` for connections to other identity providers, in Auth0's
//! shape: `options` replaces the whole object, the client secret is kept when left out and
//! never shown back, and the create's rules refuse what they refuse there.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::management_support::{assert_error, spawn_mgmt, Mgmt};

/// A connection created through the API; its id.
async fn created(mgmt: &Mgmt, enabled: &[&str]) -> String {
    let (status, created) = mgmt
        .post(
            "/connections",
            json!({
                "name": "corp-idp", "strategy": "oidc", "display_name": "Corp",
                "options": { "issuer": "https://idp.example.com", "client_id": "abc", "client_secret": "very-secret", "scope": "openid email" },
                "enabled_clients": enabled,
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().expect("id").to_owned()
}

async fn sealed_secret(mgmt: &Mgmt, id: &str) -> Option<Vec<u8>> {
    mgmt.app
        .store
        .upstream_connection_by_id(id)
        .await
        .expect("read")
        .expect("connection")
        .sealed_client_secret
}

#[tokio::test]
async fn a_patch_replaces_the_options_and_keeps_a_secret_left_out() {
    let mgmt = spawn_mgmt().await;
    let spa = mgmt.app.create_spa(false).await;
    let id = created(&mgmt, &[&spa.client_id]).await;
    let secret_before = sealed_secret(&mgmt, &id).await;
    assert!(secret_before.is_some());

    let (status, patched) = mgmt
        .patch(
            &format!("/connections/{id}"),
            json!({
                "display_name": "Corporate sign-in",
                "options": { "discovery_url": "https://login.example.org/.well-known/openid-configuration", "client_id": "xyz" },
                "enabled_clients": [],
                "is_domain_connection": false,
                "show_as_button": true,
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["id"], id);
    assert_eq!(patched["name"], "corp-idp");
    assert_eq!(patched["strategy"], "oidc");
    assert_eq!(patched["display_name"], "Corporate sign-in");
    assert_eq!(
        patched["options"],
        json!({ "discovery_url": "https://login.example.org/.well-known/openid-configuration", "client_id": "xyz" }),
        "the options are replaced whole, as in Auth0"
    );
    assert_eq!(patched["enabled_clients"], json!([]));
    assert_eq!(patched["is_domain_connection"], false);
    let (_, read) = mgmt.get(&format!("/connections/{id}")).await;
    assert_eq!(read, patched, "GET shows what PATCH answered");
    assert_eq!(
        sealed_secret(&mgmt, &id).await,
        secret_before,
        "a secret left out is kept"
    );

    // A new secret is sealed anew and never shown; `null` shows the name again.
    let (status, patched) = mgmt
        .patch(
            &format!("/connections/{id}"),
            json!({
                "display_name": null,
                "options": { "issuer": "https://idp.example.com", "client_id": "abc", "client_secret": "another-secret" },
                "enabled_clients": [spa.client_id],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["display_name"], "corp-idp");
    assert_eq!(patched["enabled_clients"], json!([spa.client_id]));
    assert!(!patched.to_string().contains("another-secret"));
    let secret_after = sealed_secret(&mgmt, &id).await;
    assert!(secret_after.is_some() && secret_after != secret_before);

    // Only what is given changes.
    let (status, patched) = mgmt
        .patch(
            &format!("/connections/{id}"),
            json!({ "display_name": "Corp" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["options"]["client_id"], "abc");
    assert_eq!(patched["enabled_clients"], json!([spa.client_id]));
    assert_eq!(sealed_secret(&mgmt, &id).await, secret_after);
}

#[tokio::test]
async fn a_patch_is_refused_by_the_rules_of_a_create() {
    let mgmt = spawn_mgmt().await;
    let id = created(&mgmt, &[]).await;
    let path = format!("/connections/{id}");
    let refused: [(Value, &str); 7] = [
        (json!({ "options": { "client_id": "a" } }), "discovery_url"),
        (
            json!({ "options": { "issuer": "http://idp.example.com", "client_id": "a" } }),
            "must be an https URL",
        ),
        (
            json!({ "options": { "issuer": "https://idp.example.com", "client_id": "a", "tokenURL": "https://x.example.com" } }),
            "options.tokenURL",
        ),
        (
            json!({ "options": { "issuer": "https://idp.example.com", "client_id": "a", "client_secret": 5 } }),
            "client_secret",
        ),
        (json!({ "enabled_clients": ["nobody"] }), "nobody"),
        (
            json!({ "name": "renamed" }),
            "Additional properties not allowed: name",
        ),
        (
            json!({ "strategy": "oauth2" }),
            "Additional properties not allowed: strategy",
        ),
    ];
    for (body, expected) in refused {
        let answer = mgmt.patch(&path, body.clone()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");
        assert!(
            answer.1["message"]
                .as_str()
                .unwrap_or_default()
                .contains(expected),
            "{body}: {}",
            answer.1
        );
    }
    let (_, unchanged) = mgmt.get(&path).await;
    assert_eq!(unchanged["options"]["client_id"], "abc", "nothing changed");
    assert_eq!(unchanged["name"], "corp-idp");

    let missing = mgmt
        .patch(
            "/connections/con_0000000000000000",
            json!({ "display_name": "x" }),
        )
        .await;
    assert_error(&missing, StatusCode::NOT_FOUND, "inexistent_connection");
}
