//! `/api/v2/roles`, `/roles/{id}/permissions`, `/roles/{id}/users`, `/users/{id}/roles` and
//! `/users/{id}/permissions`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{helpers::*, management_support::*};

fn names(list: &Value, field: &str) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item[field].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn roles_crud_and_paging() {
    let mgmt = spawn_mgmt().await;
    let (status, role) = mgmt
        .post(
            "/roles",
            json!({"name": "Reader", "description": "Reads messages"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{role}");
    let id = role["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("rol_"));
    assert_eq!(role["description"], "Reads messages");
    for name in ["Writer", "Admin"] {
        let (status, _) = mgmt.post("/roles", json!({"name": name})).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, fetched) = mgmt.get(&format!("/roles/{id}")).await;
    assert_eq!((status, &fetched), (StatusCode::OK, &role));

    let (_, all) = mgmt.get("/roles").await;
    assert_eq!(names(&all, "name"), ["Admin", "Reader", "Writer"]);
    let (_, filtered) = mgmt.get("/roles?name_filter=rit").await;
    assert_eq!(names(&filtered, "name"), ["Writer"]);
    let (_, totals) = mgmt
        .get("/roles?per_page=2&page=1&include_totals=true")
        .await;
    assert_eq!(totals["total"], 3);
    assert_eq!(totals["start"], 2);
    assert_eq!(totals["roles"].as_array().unwrap().len(), 1);

    let (status, updated) = mgmt
        .patch(&format!("/roles/{id}"), json!({"name": "Message reader"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["name"], "Message reader");
    assert_eq!(updated["description"], "Reads messages");

    // Validation and conflicts.
    for body in [
        json!({}),
        json!({"name": ""}),
        json!({"name": 3}),
        json!({"name": "x", "description": ["a"]}),
    ] {
        let answer = mgmt.post("/roles", body.clone()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");
    }
    let answer = mgmt.post("/roles", json!({"name": "writer"})).await;
    assert_error(&answer, StatusCode::CONFLICT, "conflict");
    let answer = mgmt
        .patch(&format!("/roles/{id}"), json!({"name": "Admin"}))
        .await;
    assert_error(&answer, StatusCode::CONFLICT, "conflict");
    let answer = mgmt
        .patch(&format!("/roles/{id}"), json!({"name": " "}))
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");

    let (status, _) = mgmt.delete(&format!("/roles/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for answer in [
        mgmt.get(&format!("/roles/{id}")).await,
        mgmt.delete(&format!("/roles/{id}")).await,
        mgmt.patch(&format!("/roles/{id}"), json!({"name": "x"}))
            .await,
        mgmt.get(&format!("/roles/{id}/permissions")).await,
        mgmt.get(&format!("/roles/{id}/users")).await,
    ] {
        assert_error(&answer, StatusCode::NOT_FOUND, "inexistent_role");
    }
}

#[tokio::test]
async fn permissions_members_and_user_roles() {
    let mgmt = spawn_mgmt().await;
    mgmt.create_api(API, &["read:messages", "write:messages"])
        .await;
    let (_, reader) = mgmt.post("/roles", json!({"name": "Reader"})).await;
    let role_id = reader["id"].as_str().unwrap().to_owned();
    let permission =
        |name: &str| json!({"resource_server_identifier": API, "permission_name": name});

    // Role permissions.
    let (status, _) = mgmt
        .post(
            &format!("/roles/{role_id}/permissions"),
            json!({"permissions": [permission("read:messages"), permission("write:messages")]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, permissions) = mgmt.get(&format!("/roles/{role_id}/permissions")).await;
    assert_eq!(
        names(&permissions, "permission_name"),
        ["read:messages", "write:messages"]
    );
    assert_eq!(permissions[0]["resource_server_name"], API);
    assert_eq!(permissions[0]["description"], "read:messages things");
    let (status, _) = mgmt
        .delete_with(
            &format!("/roles/{role_id}/permissions"),
            json!({"permissions": [permission("write:messages")]}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, totals) = mgmt
        .get(&format!("/roles/{role_id}/permissions?include_totals=true"))
        .await;
    assert_eq!(totals["total"], 1);
    assert_eq!(totals["permissions"][0]["permission_name"], "read:messages");
    for body in [
        json!({"permissions": []}),
        json!({"permissions": [permission("delete:messages")]}),
        json!({"permissions": [{"resource_server_identifier": "https://none", "permission_name": "x"}]}),
        json!({"permissions": [{"permission_name": "x"}]}),
        json!({"permissions": "read:messages"}),
    ] {
        let answer = mgmt
            .post(&format!("/roles/{role_id}/permissions"), body.clone())
            .await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");
    }

    // Members, both ways.
    let jane = mgmt.create_user("jane@example.com").await;
    mgmt.app.clock.advance(1);
    let bob = mgmt.create_user("bob@example.com").await;
    let jane_id = jane["user_id"].as_str().unwrap().to_owned();
    let bob_id = bob["user_id"].as_str().unwrap().to_owned();
    let (status, _) = mgmt
        .post(
            &format!("/roles/{role_id}/users"),
            json!({"users": [jane_id]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = mgmt
        .post(
            &format!("/users/{}/roles", encode(&bob_id)),
            json!({"roles": [role_id]}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, members) = mgmt.get(&format!("/roles/{role_id}/users")).await;
    assert_eq!(
        names(&members, "email"),
        ["bob@example.com", "jane@example.com"]
    );
    // Checkpoint paging, as the SDK asks.
    let (_, first) = mgmt.get(&format!("/roles/{role_id}/users?take=1")).await;
    assert_eq!(first["users"].as_array().unwrap().len(), 1);
    let next = first["next"].as_str().unwrap();
    let (_, second) = mgmt
        .get(&format!("/roles/{role_id}/users?take=1&from={next}"))
        .await;
    assert_eq!(second["users"].as_array().unwrap().len(), 1);
    assert!(second.get("next").is_none());
    assert_ne!(first["users"][0]["user_id"], second["users"][0]["user_id"]);
    let (_, roles) = mgmt
        .get(&format!("/users/{}/roles", encode(&jane_id)))
        .await;
    assert_eq!(names(&roles, "name"), ["Reader"]);
    let (_, totals) = mgmt
        .get(&format!(
            "/users/{}/roles?include_totals=true",
            encode(&jane_id)
        ))
        .await;
    assert_eq!(totals["total"], 1);

    // A user's permissions: direct and through roles.
    let (status, _) = mgmt
        .post(
            &format!("/users/{}/permissions", encode(&jane_id)),
            json!({"permissions": [permission("write:messages")]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, permissions) = mgmt
        .get(&format!("/users/{}/permissions", encode(&jane_id)))
        .await;
    assert_eq!(
        names(&permissions, "permission_name"),
        ["read:messages", "write:messages"]
    );
    let (status, _) = mgmt
        .delete_with(
            &format!("/users/{}/permissions", encode(&jane_id)),
            json!({"permissions": [permission("write:messages")]}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, permissions) = mgmt
        .get(&format!("/users/{}/permissions", encode(&jane_id)))
        .await;
    assert_eq!(names(&permissions, "permission_name"), ["read:messages"]);

    // Removing the role.
    let (status, _) = mgmt
        .delete_with(
            &format!("/users/{}/roles", encode(&jane_id)),
            json!({"roles": [role_id]}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, roles) = mgmt
        .get(&format!("/users/{}/roles", encode(&jane_id)))
        .await;
    assert_eq!(roles, json!([]));

    // Errors.
    let user_path = format!("/users/{}", encode(&jane_id));
    let nobody = format!("/users/{}", encode("auth0|nobody"));
    for answer in [
        mgmt.post(&format!("{user_path}/roles"), json!({"roles": []}))
            .await,
        mgmt.post(&format!("{user_path}/roles"), json!({"roles": "rol_x"}))
            .await,
        mgmt.post(&format!("/roles/{role_id}/users"), json!({"users": []}))
            .await,
        mgmt.post(
            &format!("{user_path}/permissions"),
            json!({"permissions": [permission("nope")]}),
        )
        .await,
    ] {
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");
    }
    let answer = mgmt
        .post(
            &format!("{user_path}/roles"),
            json!({"roles": ["rol_missing"]}),
        )
        .await;
    assert_error(&answer, StatusCode::NOT_FOUND, "inexistent_role");
    let answer = mgmt
        .post(
            &format!("/roles/{role_id}/users"),
            json!({"users": ["auth0|nobody"]}),
        )
        .await;
    assert_error(&answer, StatusCode::NOT_FOUND, "inexistent_user");
    for answer in [
        mgmt.get(&format!("{nobody}/roles")).await,
        mgmt.get(&format!("{nobody}/permissions")).await,
        mgmt.post(&format!("{nobody}/roles"), json!({"roles": [role_id]}))
            .await,
        mgmt.delete_with(&format!("{nobody}/roles"), json!({"roles": [role_id]}))
            .await,
        mgmt.post(
            &format!("{nobody}/permissions"),
            json!({"permissions": [permission("read:messages")]}),
        )
        .await,
        mgmt.delete_with(
            &format!("{nobody}/permissions"),
            json!({"permissions": [permission("read:messages")]}),
        )
        .await,
    ] {
        assert_error(&answer, StatusCode::NOT_FOUND, "inexistent_user");
    }
}

#[tokio::test]
async fn rbac_set_up_through_the_api_shapes_user_tokens() {
    let mgmt = spawn_mgmt().await;
    let api = mgmt
        .create_api(API, &["read:messages", "write:messages"])
        .await;
    let (status, _) = mgmt
        .patch(
            &format!("/resource-servers/{}", api["id"].as_str().unwrap()),
            json!({"enforce_policies": true, "token_dialect": "access_token_authz"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, role) = mgmt.post("/roles", json!({"name": "Reader"})).await;
    let role_id = role["id"].as_str().unwrap();
    mgmt.post(
        &format!("/roles/{role_id}/permissions"),
        json!({"permissions": [{"resource_server_identifier": API, "permission_name": "read:messages"}]}),
    )
    .await;
    let user = mgmt.create_user("jane@example.com").await;
    mgmt.post(
        &format!("/users/{}/roles", encode(user["user_id"].as_str().unwrap())),
        json!({"roles": [role_id]}),
    )
    .await;

    let spa = mgmt.app.create_spa(false).await;
    let browser = browser();
    let (params, verifier) = mgmt
        .app
        .login_for_code(
            &browser,
            &spa,
            "jane@example.com",
            &[
                ("audience", API),
                ("scope", "openid read:messages write:messages"),
            ],
        )
        .await;
    let tokens: Value = mgmt
        .app
        .exchange_code(&spa, &params["code"], &verifier)
        .await
        .json()
        .await
        .unwrap();
    let claims = mgmt
        .app
        .verify(tokens["access_token"].as_str().unwrap(), API)
        .await;
    assert_eq!(claims["scope"], "openid read:messages");
    assert_eq!(claims["permissions"], json!(["read:messages"]));
}
