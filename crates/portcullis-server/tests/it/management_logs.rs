//! `/api/v2/logs`: the audit log, including the Management API's own changes.

use reqwest::StatusCode;
use serde_json::json;

use crate::management_support::*;

#[tokio::test]
async fn management_changes_are_logged_and_searchable() {
    let mgmt = spawn_mgmt().await;
    mgmt.create_api("https://logged", &["read"]).await;
    mgmt.app.clock.advance(1);
    let user = mgmt.create_user("jane@example.com").await;

    let (status, logs) = mgmt.get("/logs?q=type%3Asapi").await;
    assert_eq!(status, StatusCode::OK);
    let logs = logs.as_array().unwrap();
    assert_eq!(logs.len(), 2, "{logs:?}");
    // Newest first.
    assert_eq!(logs[0]["description"], "Create a user");
    assert_eq!(logs[0]["details"]["target"]["user_id"], user["user_id"]);
    assert_eq!(logs[1]["description"], "Create a resource server");
    assert_eq!(logs[0]["client_id"], BOOTSTRAP_ID);
    assert!(logs[0]["client_name"].as_str().is_some());
    assert_eq!(logs[0]["ip"], "127.0.0.1");
    assert!(logs[0]["date"].as_str().unwrap().ends_with('Z'));
    // No secret or password anywhere.
    let text = serde_json::to_string(&logs).unwrap();
    assert!(!text.contains(crate::helpers::PASSWORD) && !text.contains(BOOTSTRAP_SECRET));

    let id = logs[0]["log_id"].as_str().unwrap();
    let (status, one) = mgmt.get(&format!("/logs/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one, logs[0]);
    let answer = mgmt.get("/logs/nope").await;
    assert_error(&answer, StatusCode::NOT_FOUND, "inexistent_log");

    // The token exchanges are logged too (by the token endpoint); filter by client, page.
    let (_, mine) = mgmt
        .get(&format!(
            "/logs?q=client_id%3A%22{BOOTSTRAP_ID}%22&per_page=1&include_totals=true"
        ))
        .await;
    assert!(mine["total"].as_u64().unwrap() >= 2);
    assert_eq!(mine["logs"].as_array().unwrap().len(), 1);
    let (_, by_search) = mgmt.get("/logs?search=type%3Asapi&fields=type").await;
    assert_eq!(by_search, json!([{"type": "sapi"}, {"type": "sapi"}]));

    let answer = mgmt.get("/logs?q=ip%3A127.0.0.1").await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_query_string");
}

#[tokio::test]
async fn failed_changes_by_a_known_caller_are_logged_as_fapi() {
    let mgmt = spawn_mgmt().await;
    let answer = mgmt
        .post("/resource-servers", json!({"name": "No identifier"}))
        .await;
    assert_eq!(answer.0, StatusCode::BAD_REQUEST);
    let (status, _) = mgmt.delete("/users/auth0%7Cnobody").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Reads and anonymous calls are not logged.
    let (status, _) = mgmt.get("/users/auth0%7Cnobody").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let anonymous = mgmt
        .app
        .browser
        .post(mgmt.url("/resource-servers"))
        .json(&json!({"name": "x", "identifier": "https://x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let (_, logs) = mgmt.get("/logs?q=type%3Afapi").await;
    let logs = logs.as_array().unwrap();
    assert_eq!(logs.len(), 2, "{logs:?}");
    assert_eq!(logs[0]["details"]["method"], "DELETE");
    assert_eq!(logs[0]["details"]["status"], 404);
    assert_eq!(logs[1]["details"]["method"], "POST");
    assert_eq!(logs[1]["details"]["path"], "/api/v2/resource-servers");
    assert_eq!(logs[1]["details"]["status"], 400);
    assert_eq!(logs[1]["client_id"], BOOTSTRAP_ID);
    assert_eq!(logs[1]["ip"], "127.0.0.1");
    let (_, changes) = mgmt.get("/logs?q=type%3Asapi").await;
    assert_eq!(changes, json!([]), "nothing changed");
}
