//! Regression tests for what fuzzing and the property tests found, each as the request that
//! showed it.

use reqwest::StatusCode;
use serde_json::json;

use crate::management_support::*;

/// A checkpoint far past any list (`from` near `usize::MAX`) made `from + take` overflow:
/// a panic in a debug build, a wrapped first page in a release build. It is refused as a bad
/// query, like an offset page too far, and a checkpoint within the bound still answers.
#[tokio::test]
async fn a_checkpoint_past_the_bound_is_refused_not_overflowed() {
    let mgmt = spawn_mgmt().await;
    let (status, role) = mgmt.post("/roles", json!({"name": "Reader"})).await;
    assert_eq!(status, StatusCode::OK, "{role}");
    let role_id = role["id"].as_str().unwrap();
    for from in ["18446744073709551615", "18446744073709551600", "10000001"] {
        let answer = mgmt
            .get(&format!("/roles/{role_id}/users?take=3&from={from}"))
            .await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_query_string");
        let answer = mgmt
            .get(&format!("/client-grants?take=3&from={from}"))
            .await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_query_string");
    }
    let (status, body) = mgmt
        .get(&format!("/roles/{role_id}/users?take=3&from=10000000"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["users"], json!([]));
}
