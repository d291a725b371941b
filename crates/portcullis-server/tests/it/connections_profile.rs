//! What a provider's answer makes of a user, through the test's provider: the connection's
//! attribute map (Auth0's shape, others refused), the provider's tokens kept sealed and shown
//! nowhere, and the cases where a verified email is not linked to the database user.

use portcullis_types::ActionTrigger;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    actions::{bind, deploy},
    connections::{
        connect, good_claims, resume, spawn_provider, start, user_count, Next, Provider,
    },
    helpers::{browser, callback_params, Spa, TestApp},
    management_support::{spawn_mgmt, Mgmt},
};

/// A signed-in `hostile` sign-in whose ID token has `claims` (and the request's nonce):
/// the application's ID token.
async fn sign_in(app: &TestApp, spa: &Spa, provider: &Provider, claims: Value) -> Value {
    let browser = browser();
    let (to_provider, verifier) = start(app, &browser, spa, "hostile").await;
    let sent = callback_params(&to_provider);
    let mut claims_with = good_claims(&provider.base, &sent["nonce"]);
    for (name, value) in claims.as_object().expect("object") {
        claims_with[name] = value.clone();
    }
    *provider.next.lock().expect("lock") = Next {
        claims: claims_with,
        foreign_key: false,
    };
    let back = browser
        .get(app.url(&format!(
            "/login/callback?code=c0de&state={}",
            sent["state"]
        )))
        .send()
        .await
        .expect("callback");
    assert_eq!(
        back.status(),
        StatusCode::SEE_OTHER,
        "{}",
        back.text().await.unwrap_or_default()
    );
    let params = resume(app, &browser, &back).await;
    app.tokens_for_code(spa, &params["code"], &verifier).await.1
}

async fn setup(options: Value) -> (Mgmt, Spa, std::sync::Arc<Provider>) {
    let mgmt = spawn_mgmt().await;
    let provider = spawn_provider().await;
    let spa = mgmt.app.create_spa(false).await;
    let mut all =
        json!({ "issuer": provider.base, "client_id": "downstream", "client_secret": "s3cret" });
    for (name, value) in options.as_object().expect("object") {
        all[name] = value.clone();
    }
    connect(&mgmt.app, &spa, "hostile", all).await;
    (mgmt, spa, provider)
}

#[tokio::test]
async fn the_attribute_map_fills_the_user_from_the_claims_it_names() {
    let (mgmt, spa, provider) = setup(json!({
        "attribute_map": { "mapping_mode": "use_map", "attributes": {
            "nickname": "${context.tokenset.preferred_username}",
            "name": "display_name",
        } },
    }))
    .await;
    sign_in(
        &mgmt.app,
        &spa,
        &provider,
        json!({ "preferred_username": "evie", "display_name": "Eve the Great", "name": "not this",
                "nickname": "nor this" }),
    )
    .await;
    let (status, user) = mgmt.get("/users/oidc%7Chostile%7Cu-1").await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["nickname"], "evie", "{user}");
    assert_eq!(
        user["name"], "Eve the Great",
        "a claim of the provider's own"
    );
    assert_eq!(user["email"], "eve@example.com", "unmapped: its own claim");

    // Shapes that are not Auth0's are refused, naming the problem.
    for (map, expected) in [
        (
            json!({ "name": "display_name" }),
            "attribute_map.name is not a member",
        ),
        (
            json!({ "attributes": { "name": "display_name" } }),
            "mapping_mode must be use_map, bind_all or basic_profile",
        ),
        (
            json!({ "mapping_mode": "basic_profile", "attributes": { "name": "n" } }),
            "read only with mapping_mode use_map",
        ),
        (
            json!({ "mapping_mode": "use_map", "attributes": { "zip": "postal_code" } }),
            "zip is not one of",
        ),
    ] {
        let (status, body) = mgmt
            .post(
                "/connections",
                json!({ "name": "mapped", "strategy": "oidc", "options": {
                    "issuer": "https://idp.example.com", "client_id": "a", "attribute_map": map } }),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body["message"]
                .as_str()
                .expect("message")
                .contains(expected),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_providers_given_and_family_names_are_kept_and_refreshed_like_its_name() {
    let (mgmt, spa, provider) = setup(json!({})).await;
    let id_token = sign_in(
        &mgmt.app,
        &spa,
        &provider,
        json!({ "given_name": "Eve", "family_name": "Example" }),
    )
    .await;
    assert_eq!(id_token["given_name"], "Eve", "{id_token}");
    assert_eq!(id_token["family_name"], "Example", "{id_token}");
    let (_, user) = mgmt.get("/users/oidc%7Chostile%7Cu-1").await;
    assert_eq!(user["given_name"], "Eve", "{user}");
    assert_eq!(user["family_name"], "Example", "{user}");
    assert_eq!(user["name"], "Eve Example", "composed without a name claim");

    // The next sign-in copies the profile again: a new given name (an over-long one cut at
    // Auth0's 150 characters, the sign-in not refused), a family name no longer sent gone.
    sign_in(
        &mgmt.app,
        &spa,
        &provider,
        json!({ "given_name": "É".repeat(200), "name": "Eve" }),
    )
    .await;
    let (_, user) = mgmt.get("/users/oidc%7Chostile%7Cu-1").await;
    assert_eq!(user["given_name"], "É".repeat(150), "{user}");
    assert!(user.get("family_name").is_none(), "{user}");
    assert_eq!(user["name"], "Eve");
}

/// Every byte of the test's SQLite files (none on PostgreSQL).
fn database_bytes(app: &TestApp) -> Vec<u8> {
    let mut bytes = Vec::new();
    for name in ["test.db", "test.db-wal"] {
        if let Ok(file) = std::fs::read(app.data_dir().join(name)) {
            bytes.extend(file);
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[tokio::test]
async fn kept_tokens_are_sealed_and_shown_neither_by_the_api_nor_to_actions() {
    let (mgmt, spa, provider) = setup(json!({ "store_upstream_tokens": true })).await;
    let app = &mgmt.app;
    const CLAIM: &str = "https://example.com/event";
    let id = deploy(
        app,
        "event",
        ActionTrigger::PostLogin,
        &format!(
            "exports.onExecutePostLogin = async (event, api) => {{ api.idToken.setCustomClaim('{CLAIM}', JSON.stringify(event)); }};"
        ),
        &[],
    )
    .await;
    bind(app, ActionTrigger::PostLogin, &[&id]).await;
    app.tenant_changed();

    let id_token = sign_in(app, &spa, &provider, json!({})).await;
    let event = id_token[CLAIM].as_str().expect("the Action's event");
    assert!(event.contains("oidc|hostile|u-1"), "{event}");

    let identity = app
        .store
        .federated_identity("hostile", "u-1")
        .await
        .expect("read")
        .expect("identity");
    let sealed = identity.sealed_tokens.expect("kept, as asked");
    assert!(sealed.len() > "upstream-access".len(), "a sealed blob");
    assert!(!contains(&sealed, "upstream-access"), "not the plain token");
    let database = database_bytes(app);
    if std::env::var("PORTCULLIS_TEST_BACKEND").as_deref() != Ok("postgres") {
        assert!(contains(&database, "oidc|hostile|u-1"), "the file is read");
    }
    assert!(!contains(&database, "upstream-access"), "nowhere in plain");

    let (_, listed) = mgmt.get("/users").await;
    let (_, one) = mgmt.get("/users/oidc%7Chostile%7Cu-1").await;
    for shown in [listed.to_string(), one.to_string(), event.to_owned()] {
        assert!(shown.contains("oidc|hostile|u-1"), "{shown}");
        for secret in ["upstream-access", "access_token", "sealed"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}

#[tokio::test]
async fn a_verified_email_is_not_linked_when_the_connection_does_not_link() {
    let (mgmt, spa, provider) = setup(json!({})).await;
    let app = &mgmt.app;
    let database_user = app.create_user("eve@example.com").await;
    sign_in(app, &spa, &provider, json!({})).await;
    let user = app
        .store
        .user_by_id("oidc|hostile|u-1")
        .await
        .expect("read")
        .expect("a user of its own");
    assert!(user.email_verified && user.email == "eve@example.com");
    assert_eq!(user_count(app).await, 2);
    let identity = app
        .store
        .federated_identity("hostile", "u-1")
        .await
        .expect("read")
        .expect("identity");
    assert_eq!(identity.user_id, "oidc|hostile|u-1");
    let (_, database) = mgmt
        .get(&format!("/users/{}", database_user.replace('|', "%7C")))
        .await;
    assert_eq!(database["identities"].as_array().expect("array").len(), 1);
}

#[tokio::test]
async fn an_unverified_database_email_is_not_linked_even_when_the_connection_links() {
    let (mgmt, spa, provider) = setup(json!({ "link_verified_email": true })).await;
    let app = &mgmt.app;
    let database_user = app.create_user("eve@example.com").await;
    let mut unverified = app
        .store
        .user_by_id(&database_user)
        .await
        .expect("read")
        .expect("user");
    unverified.email_verified = false;
    app.store.update_user(&unverified).await.expect("update");

    sign_in(app, &spa, &provider, json!({})).await;
    let identity = app
        .store
        .federated_identity("hostile", "u-1")
        .await
        .expect("read")
        .expect("identity");
    assert_eq!(identity.user_id, "oidc|hostile|u-1", "a user of its own");
    assert_eq!(user_count(app).await, 2);
    let database = app
        .store
        .user_by_id(&database_user)
        .await
        .expect("read")
        .expect("user");
    assert!(!database.email_verified, "left as it was");
}
