//! `/api/v2/users` and `/api/v2/users-by-email`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{helpers::*, management_support::*};

#[tokio::test]
async fn create_get_search_update_delete() {
    let mgmt = spawn_mgmt().await;
    let (status, user) = mgmt
        .post(
            "/users",
            json!({
                "connection": "Username-Password-Authentication",
                "email": "Jane@Example.com",
                "password": PASSWORD,
                "name": "Jane Doe",
                "nickname": "jd",
                "email_verified": true,
                "verify_email": false,
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let id = user["user_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("auth0|"));
    assert_eq!(user["email"], "Jane@Example.com");
    assert_eq!(user["name"], "Jane Doe");
    assert_eq!(user["nickname"], "jd");
    assert_eq!(user["email_verified"], true);
    assert_eq!(user["blocked"], false);
    assert_eq!(
        user["identities"][0]["connection"],
        "Username-Password-Authentication"
    );
    assert!(user.get("password").is_none() && user.get("password_hash").is_none());

    let (status, fetched) = mgmt.get(&format!("/users/{}", encode(&id))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, user);

    mgmt.app.clock.advance(1);
    let blocked = mgmt
        .post(
            "/users",
            json!({"connection": "Username-Password-Authentication", "email": "bob@example.org", "password": PASSWORD, "blocked": true}),
        )
        .await;
    assert_eq!(blocked.1["blocked"], true);
    mgmt.app.clock.advance(1);
    mgmt.create_user("carol@example.com").await;

    // Search: exact email (any case), email wildcard, plain text, user_id; v3 engine.
    let search = |q: &str| format!("/users?q={}&search_engine=v3", encode(q));
    let (_, found) = mgmt.get(&search("email:\"jane@example.com\"")).await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["user_id"], id.as_str());
    let (_, found) = mgmt.get(&search("email:*example.com")).await;
    assert_eq!(found.as_array().unwrap().len(), 2);
    let (_, found) = mgmt.get(&search("example")).await;
    assert_eq!(found.as_array().unwrap().len(), 3);
    let (_, found) = mgmt.get(&search(&format!("user_id:\"{id}\""))).await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let (_, found) = mgmt.get(&search("email:\"nobody@example.com\"")).await;
    assert_eq!(found, json!([]));
    let (_, totals) = mgmt.get("/users?per_page=2&include_totals=true").await;
    assert_eq!(totals["total"], 3);
    assert_eq!(totals["length"], 2);
    assert_eq!(totals["users"].as_array().unwrap().len(), 2);
    let (_, page) = mgmt.get("/users?per_page=2&page=1&fields=email").await;
    assert_eq!(page, json!([{"email": "carol@example.com"}]));
    let answer = mgmt.get(&search("logins_count:[1 TO 5]")).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_query_string");
    let answer = mgmt.get("/users?search_engine=v1").await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_query_string");

    // By email.
    let (status, by_email) = mgmt.get("/users-by-email?email=JANE%40example.com").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_email.as_array().unwrap().len(), 1);
    let (_, none) = mgmt.get("/users-by-email?email=x%40example.com").await;
    assert_eq!(none, json!([]));
    let answer = mgmt.get("/users-by-email").await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_query_string");

    // Update: block, rename, new password (the old one stops working), new email.
    let path = format!("/users/{}", encode(&id));
    let (status, updated) = mgmt
        .patch(
            &path,
            json!({"blocked": true, "name": "J. Doe", "password": "another long password"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["blocked"], true);
    assert_eq!(updated["name"], "J. Doe");
    let (_, updated) = mgmt
        .patch(
            &path,
            json!({"blocked": false, "email": "jane.doe@example.com"}),
        )
        .await;
    assert_eq!(updated["email"], "jane.doe@example.com");
    assert_eq!(
        updated["email_verified"], false,
        "a new address is unverified"
    );
    let spa = mgmt.app.create_spa(false).await;
    let (_, challenge) = pkce();
    let authorize = mgmt.app.authorize_url(
        &spa,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let old = mgmt
        .app
        .login_via_form(&browser(), &authorize, "jane.doe@example.com", PASSWORD)
        .await;
    assert_eq!(
        old.status(),
        StatusCode::UNAUTHORIZED,
        "the old password no longer works"
    );
    let new = mgmt
        .app
        .login_via_form(
            &browser(),
            &authorize,
            "jane.doe@example.com",
            "another long password",
        )
        .await;
    assert_eq!(new.status(), StatusCode::FOUND);
    assert!(location(&new).contains("code="), "{}", location(&new));

    // Delete.
    let (status, body) = mgmt.delete(&path).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    for answer in [
        mgmt.get(&path).await,
        mgmt.delete(&path).await,
        mgmt.patch(&path, json!({"name": "x"})).await,
    ] {
        assert_error(&answer, StatusCode::NOT_FOUND, "inexistent_user");
    }
}

#[tokio::test]
async fn user_validation_errors() {
    let mgmt = spawn_mgmt().await;
    let connection = "Username-Password-Authentication";
    for body in [
        json!({"email": "a@example.com", "password": PASSWORD}),
        json!({"connection": connection, "password": PASSWORD}),
        json!({"connection": connection, "email": "a@example.com"}),
        json!({"connection": connection, "email": "not-an-email", "password": PASSWORD}),
        json!({"connection": connection, "email": "a@example.com", "password": "short"}),
        json!({"connection": connection, "email": "a@example.com", "password": PASSWORD, "email_verified": "yes"}),
        json!({"connection": connection, "email": ["a@example.com"], "password": PASSWORD}),
    ] {
        let answer = mgmt.post("/users", body.clone()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");
    }
    let answer = mgmt
        .post(
            "/users",
            json!({"connection": "google-oauth2", "email": "a@example.com", "password": PASSWORD}),
        )
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "inexistent_connection");

    let jane = mgmt.create_user("jane@example.com").await;
    mgmt.create_user("bob@example.com").await;
    let answer = mgmt
        .post(
            "/users",
            json!({"connection": connection, "email": "JANE@example.com", "password": PASSWORD}),
        )
        .await;
    assert_error(&answer, StatusCode::CONFLICT, "auth0_idp_error");

    let path = format!("/users/{}", encode(jane["user_id"].as_str().unwrap()));
    for body in [
        json!({"email": "nope"}),
        json!({"password": "short"}),
        json!({"blocked": "true"}),
        json!({"picture": "not a url"}),
    ] {
        let answer = mgmt.patch(&path, body.clone()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");
    }
    let answer = mgmt.patch(&path, json!({"connection": "github"})).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "inexistent_connection");
    let answer = mgmt.patch(&path, json!({"email": "Bob@example.com"})).await;
    assert_error(&answer, StatusCode::CONFLICT, "auth0_idp_error");
    let (_, unchanged) = mgmt.get(&path).await;
    assert_eq!(unchanged, jane);
}
