//! Who may call the Management API: every documented route refuses a missing, foreign or
//! user token (401) and a token without its scope (403, naming the scopes the document lists).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{helpers::*, management_support::*};

/// Every (method, path) of the OpenAPI document, with `{id}` filled in, and the scopes it
/// declares.
async fn documented_routes(mgmt: &Mgmt) -> Vec<(Method, String, Vec<String>)> {
    let (status, document) = mgmt
        .call_with(None, Method::GET, "/openapi.json", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut routes = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let scopes = operation["security"][0]["management_api"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} declares no scopes"))
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect();
            let path = path
                .replace("{id}", "some-id")
                .replace("{rule_id}", "rul_x");
            routes.push((method, path, scopes));
        }
    }
    assert!(routes.len() >= 40, "{} routes", routes.len());
    routes
}

fn body_for(method: &Method) -> Option<Value> {
    matches!(*method, Method::POST | Method::PATCH | Method::DELETE).then(|| json!({}))
}

#[tokio::test]
async fn every_route_requires_a_token_and_its_scope() {
    let mgmt = spawn_mgmt().await;
    let no_scope = mgmt.token_with_scopes(&[]).await;
    for (method, path, scopes) in documented_routes(&mgmt).await {
        let body = body_for(&method);
        let missing = mgmt
            .call_with(None, method.clone(), &path, body.as_ref())
            .await;
        assert_error(&missing, StatusCode::UNAUTHORIZED, "missing_authentication");

        let garbage = mgmt
            .call_with(Some("not.a.jwt"), method.clone(), &path, body.as_ref())
            .await;
        assert_error(&garbage, StatusCode::UNAUTHORIZED, "invalid_token");

        let forbidden = mgmt
            .call_with(Some(&no_scope), method.clone(), &path, body.as_ref())
            .await;
        assert_error(&forbidden, StatusCode::FORBIDDEN, "insufficient_scope");
        assert_eq!(
            forbidden.1["message"],
            format!("Insufficient scope, expected any of: {}", scopes.join(",")),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn a_scope_lets_in_only_its_routes() {
    let mgmt = spawn_mgmt().await;
    let readers = mgmt.token_with_scopes(&["read:users"]).await;
    let (status, _) = mgmt
        .call_with(Some(&readers), Method::GET, "/users", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let refused = mgmt
        .call_with(
            Some(&readers),
            Method::POST,
            "/users",
            Some(&json!({"connection": "Username-Password-Authentication", "email": "a@example.com", "password": PASSWORD})),
        )
        .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "insufficient_scope");
    assert_eq!(
        refused.1["message"],
        "Insufficient scope, expected any of: create:users"
    );
    // The scope is checked before the body is read.
    let broken = mgmt
        .app
        .browser
        .post(mgmt.url("/users"))
        .bearer_auth(&readers)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn tokens_for_other_audiences_users_or_deleted_clients_are_refused() {
    let mgmt = spawn_mgmt().await;
    // A token of the same server for another API.
    mgmt.app.create_api(false).await;
    let (status, client) = mgmt
        .post(
            "/clients",
            json!({"name": "api caller", "app_type": "non_interactive"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = client["client_id"].as_str().unwrap();
    let secret = client["client_secret"].as_str().unwrap();
    let (status, _) = mgmt
        .post(
            "/client-grants",
            json!({"client_id": id, "audience": API, "scope": ["read:messages"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let other = client_credentials(&mgmt.app, id, secret, API).await;
    let answer = mgmt
        .call_with(Some(&other), Method::GET, "/users", None)
        .await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "invalid_token");
    assert!(answer.1["message"]
        .as_str()
        .unwrap()
        .starts_with("Bad audience"));

    // Users never get a token for the Management API: /authorize refuses its audience.
    let spa = mgmt.app.create_spa(false).await;
    mgmt.app.create_user("jane@example.com").await;
    let browser = browser();
    let (params, _) = mgmt
        .app
        .login_for_code(
            &browser,
            &spa,
            "jane@example.com",
            &[("audience", &mgmt.audience), ("scope", "openid read:users")],
        )
        .await;
    assert_eq!(params["error"], "access_denied");
    assert!(!params.contains_key("code"));

    // A token whose client has been deleted.
    let doomed = mgmt.token_with_scopes(&["read:users"]).await;
    let (_, clients) = mgmt.get("/clients?app_type=non_interactive").await;
    let doomed_id = clients
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|c| c["name"] == "limited")
        .unwrap()["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = mgmt.delete(&format!("/clients/{doomed_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let answer = mgmt
        .call_with(Some(&doomed), Method::GET, "/users", None)
        .await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "invalid_token");

    // An expired token.
    mgmt.app.clock.advance(86_400 + 60);
    let answer = mgmt
        .call_with(Some(&mgmt.token), Method::GET, "/users", None)
        .await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "invalid_token");
    assert!(answer.1["message"].as_str().unwrap().contains("Expired"));
}

#[tokio::test]
async fn malformed_authorization_headers_are_401() {
    let mgmt = spawn_mgmt().await;
    for header in ["Basic abc", "Bearer", "Bearer    ", "token"] {
        let response = mgmt
            .app
            .browser
            .get(mgmt.url("/users"))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{header}");
        assert!(response.headers().contains_key("www-authenticate"));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errorCode"], "invalid_token", "{header}");
    }
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_auth0_shape() {
    let mgmt = spawn_mgmt().await;
    let answer = mgmt.get("/no-such-thing").await;
    assert_error(&answer, StatusCode::NOT_FOUND, "not_found");
    let answer = mgmt.call(Method::PUT, "/users", None).await;
    assert_error(
        &answer,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
}
