//! Users' metadata (`user_metadata`, `app_metadata`) with Auth0's merge rules through the
//! Management API, the dashboard, export and import; and Management API bodies that refuse
//! properties Auth0 does not define.

use portcullis_core::{keys::KeyCipher, tenant};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{
    connection::{assert_refused, set_options, DB},
    helpers::*,
    management_support::*,
};

#[tokio::test]
async fn metadata_is_stored_merged_and_returned() {
    let mgmt = spawn_mgmt().await;
    let (status, user) = mgmt
        .post(
            "/users",
            json!({
                "connection": DB, "email": "meta@example.com", "password": PASSWORD,
                "user_metadata": {"theme": "dark", "address": {"city": "Paris", "zip": "75001"}},
                "app_metadata": {"plan": "gold", "roles": ["a"]},
                "given_name": "Meta", "family_name": "Data", "verify_email": false,
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    assert_eq!(user["user_metadata"]["address"]["city"], "Paris");
    assert_eq!(
        user["app_metadata"],
        json!({"plan": "gold", "roles": ["a"]})
    );
    let path = format!("/users/{}", encode(user["user_id"].as_str().unwrap()));

    // Top-level properties merge, null deletes, nested objects are replaced whole.
    let (status, patched) = mgmt
        .patch(
            &path,
            json!({"user_metadata": {"theme": null, "address": {"city": "Lyon"}, "lang": "fr"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(
        patched["user_metadata"],
        json!({"address": {"city": "Lyon"}, "lang": "fr"})
    );
    assert_eq!(patched["app_metadata"]["plan"], "gold", "untouched");
    let (_, cleared) = mgmt.patch(&path, json!({"app_metadata": {}})).await;
    assert_eq!(cleared["app_metadata"], json!({}));
    let (_, read) = mgmt.get(&path).await;
    assert_eq!(read["user_metadata"], patched["user_metadata"]);
    let (_, listed) = mgmt.get("/users?q=email:\"meta@example.com\"").await;
    assert_eq!(listed[0]["user_metadata"]["lang"], "fr");

    for (body, message) in [
        (
            json!({"user_metadata": {"a.b": 1}}),
            "must not contain '.' or '$'",
        ),
        (
            json!({"app_metadata": {"email": "x"}}),
            "the property email is reserved",
        ),
        (
            json!({"user_metadata": {"blob": "x".repeat(17 * 1024)}}),
            "user_metadata is too large",
        ),
        (
            json!({"user_metadata": "not an object"}),
            "on property user_metadata",
        ),
    ] {
        let answer = mgmt.patch(&path, body).await;
        assert_refused(&answer, message);
    }

    // The dashboard edits them as JSON.
    let app = &mgmt.app;
    let admin = app.dashboard_admin().await;
    let details = format!(
        "/dashboard/users/{}/details",
        encode(user["user_id"].as_str().unwrap())
    );
    let (_, html) = admin.get(app, &details).await;
    assert!(html.contains("id=\"user_metadata\"") && html.contains("\"lang\": \"fr\""));
    admin
        .post_ok(
            app,
            &details,
            &details,
            &[
                ("name", "Meta"),
                ("user_metadata", "{\"lang\": \"de\"}"),
                ("app_metadata", "{\"plan\": \"silver\"}"),
            ],
        )
        .await;
    let stored = app
        .store
        .user_by_email("meta@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        Value::Object(stored.user_metadata.clone()),
        json!({"lang": "de"})
    );
    assert_eq!(
        Value::Object(stored.app_metadata.clone()),
        json!({"plan": "silver"})
    );
    for (fields, message) in [
        (
            [
                ("name", "Meta"),
                ("user_metadata", "{not json"),
                ("app_metadata", "{}"),
            ],
            "user_metadata is not valid JSON",
        ),
        (
            [
                ("name", "Meta"),
                ("user_metadata", "{}"),
                ("app_metadata", "[1, 2]"),
            ],
            "app_metadata must be a JSON object",
        ),
        (
            [
                ("name", "Meta"),
                ("user_metadata", "{}"),
                ("app_metadata", "{\"user_id\": 1}"),
            ],
            "the property user_id is reserved",
        ),
    ] {
        admin
            .post_refused(
                app,
                &details,
                &details,
                &fields,
                StatusCode::BAD_REQUEST,
                message,
            )
            .await;
    }

    // Export and import carry metadata, the connection and the password history.
    set_options(
        &mgmt,
        json!({"disable_signup": true, "password_history": {"enable": true, "size": 3}}),
    )
    .await;
    let (status, _) = mgmt
        .patch(&path, json!({"password": "Another-pass-1"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let document = tenant::export(app.store.as_ref()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = test_store(&dir).await;
    let cipher = KeyCipher::new(&app.master_key).unwrap();
    tenant::import(target.as_ref(), &cipher, &document, 0)
        .await
        .unwrap();
    let imported = target
        .user_by_email("meta@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(imported, stored_after(app).await);
    assert_eq!(
        target.database_connection().await.unwrap(),
        app.store.database_connection().await.unwrap()
    );
    assert_eq!(
        target
            .password_history(&imported.user_id, 10)
            .await
            .unwrap(),
        app.store
            .password_history(&imported.user_id, 10)
            .await
            .unwrap()
    );
    assert_eq!(
        target
            .password_history(&imported.user_id, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn stored_after(app: &TestApp) -> portcullis_store::User {
    app.store
        .user_by_email("meta@example.com")
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn management_bodies_refuse_properties_auth0_does_not_define() {
    let mgmt = spawn_mgmt().await;
    let api = mgmt.create_api("https://bodies.example", &["read:x"]).await;
    let (status, user) = mgmt
        .post(
            "/users",
            json!({"connection": DB, "email": "u@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let user_path = format!("/users/{}", encode(user["user_id"].as_str().unwrap()));
    let (_, role) = mgmt.post("/roles", json!({"name": "Reader"})).await;
    let role_id = role["id"].as_str().unwrap();
    let (_, client) = mgmt
        .post("/clients", json!({"name": "Bodies", "app_type": "spa"}))
        .await;
    let client_id = client["client_id"].as_str().unwrap();
    let api_id = api["id"].as_str().unwrap();
    let additional = |name: &str| {
        format!("Payload validation error: 'Additional properties not allowed: {name}'")
    };

    for (method, path, body, message) in [
        (
            Method::POST,
            "/resource-servers".to_owned(),
            json!({"identifier": "https://x", "foo": 1}),
            additional("foo"),
        ),
        (
            Method::PATCH,
            format!("/resource-servers/{api_id}"),
            json!({"identifier": "https://y"}),
            additional("identifier"),
        ),
        (
            Method::PATCH,
            format!("/resource-servers/{api_id}"),
            json!({"scopes": [{"value": "a", "bar": 1}]}),
            format!("{} on property scopes[0]", additional("bar")),
        ),
        (
            Method::POST,
            "/resource-servers".to_owned(),
            json!({"identifier": "https://z", "token_encryption": {"format": "compact-nested-jwe"}}),
            "'token_encryption' is not supported".to_owned(),
        ),
        (
            Method::POST,
            "/clients".to_owned(),
            json!({"name": "c", "bogus": true}),
            additional("bogus"),
        ),
        (
            Method::POST,
            "/clients".to_owned(),
            json!({"name": "c", "jwt_configuration": {"lifetime_in_seconds": 600, "foo": 1}}),
            format!("{} on property jwt_configuration", additional("foo")),
        ),
        (
            Method::POST,
            "/clients".to_owned(),
            json!({"name": "c", "addons": {"aws": {}}}),
            "'addons' is not supported".to_owned(),
        ),
        (
            Method::PATCH,
            format!("/clients/{client_id}"),
            json!({"client_secret": "a-secret-the-caller-thinks-is-set"}),
            "'client_secret' is not supported".to_owned(),
        ),
        (
            Method::POST,
            "/client-grants".to_owned(),
            json!({"client_id": client_id, "audience": "https://bodies.example", "scope": [], "foo": 1}),
            additional("foo"),
        ),
        (
            Method::PATCH,
            "/client-grants/cgr_x".to_owned(),
            json!({"allow_all_scopes": true}),
            "'allow_all_scopes' is not supported".to_owned(),
        ),
        (
            Method::POST,
            "/users".to_owned(),
            json!({"connection": DB, "email": "v@example.com", "password": PASSWORD, "foo": 1}),
            additional("foo"),
        ),
        (
            Method::POST,
            "/users".to_owned(),
            json!({"connection": DB, "email": "v@example.com", "password": PASSWORD, "user_id": "mine"}),
            "'user_id' is not supported".to_owned(),
        ),
        (
            Method::PATCH,
            user_path.clone(),
            json!({"nickname": "n", "foo": 1}),
            additional("foo"),
        ),
        (
            Method::POST,
            "/roles".to_owned(),
            json!({"name": "r", "foo": 1}),
            additional("foo"),
        ),
        (
            Method::PATCH,
            format!("/roles/{role_id}"),
            json!({"foo": 1}),
            additional("foo"),
        ),
        (
            Method::POST,
            format!("/roles/{role_id}/permissions"),
            json!({"permissions": [{"resource_server_identifier": "https://bodies.example", "permission_name": "read:x", "foo": 1}]}),
            format!("{} on property permissions[0]", additional("foo")),
        ),
        (
            Method::POST,
            format!("/roles/{role_id}/users"),
            json!({"users": [], "foo": 1}),
            additional("foo"),
        ),
        (
            Method::POST,
            format!("{user_path}/roles"),
            json!({"roles": [role_id], "foo": 1}),
            additional("foo"),
        ),
        (
            Method::POST,
            format!("/resource-servers/{api_id}/rules"),
            json!({"scope": "*", "condition": {"kind": "email_verified"}, "foo": 1}),
            additional("foo"),
        ),
        (
            Method::POST,
            format!("/resource-servers/{api_id}/rules"),
            json!({"scope": "*", "condition": {"kind": "has_role", "role_id": role_id, "foo": 1}}),
            "foo".to_owned(),
        ),
    ] {
        let answer = mgmt.call(method.clone(), &path, Some(&body)).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");
        let text = answer.1["message"].as_str().unwrap();
        assert!(
            text.contains(&message),
            "{method} {path}: {text} should say {message}"
        );
    }

    // What Auth0 defines and Portcullis does not use is accepted (and changes nothing).
    for (method, path, body, expected) in [
        (
            Method::POST,
            "/clients".to_owned(),
            json!({"name": "Described", "description": "d", "logo_uri": "https://l.example/l.png", "client_metadata": {"k": "v"}, "cross_origin_auth": false, "sso": true, "addons": {}, "jwt_configuration": {"lifetime_in_seconds": 600, "secret_encoded": false}}),
            StatusCode::CREATED,
        ),
        (
            Method::PATCH,
            format!("/clients/{client_id}"),
            json!({"description": "d", "require_pushed_authorization_requests": false}),
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/resource-servers".to_owned(),
            json!({"identifier": "https://ignored.example", "allow_online_access": false, "signing_secret": "s3cr3t-s3cr3t-s3cr3t", "token_lifetime_for_web": 3600}),
            StatusCode::CREATED,
        ),
        (
            Method::PATCH,
            user_path.clone(),
            json!({"given_name": "G", "family_name": "F", "username": "u", "verify_email": false, "client_id": client_id}),
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/client-grants".to_owned(),
            json!({"client_id": client_id, "audience": "https://bodies.example", "scope": ["read:x"], "organization_usage": "deny", "allow_all_scopes": false}),
            StatusCode::CREATED,
        ),
    ] {
        let (status, answer) = mgmt.call(method.clone(), &path, Some(&body)).await;
        assert_eq!(status, expected, "{method} {path}: {answer}");
    }
    let (_, described) = mgmt.get(&format!("/clients/{client_id}")).await;
    assert!(
        described.get("description").is_none(),
        "ignored, not stored"
    );
}
