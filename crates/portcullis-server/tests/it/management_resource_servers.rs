//! `/api/v2/resource-servers`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::management_support::*;

#[tokio::test]
async fn create_get_list_update_delete() {
    let mgmt = spawn_mgmt().await;
    let (status, api) = mgmt
        .post(
            "/resource-servers",
            json!({
                "name": "Quickstart API",
                "identifier": "https://quickstarts/api",
                "signing_alg": "RS256",
                "scopes": [{"value": "read:messages", "description": "Read messages"}],
                "token_lifetime": 3600,
                "token_lifetime_for_web": 600,
                "allow_offline_access": true,
                "skip_consent_for_verifiable_first_party_clients": false,
                "enforce_policies": true,
                "token_dialect": "access_token_authz",
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{api}");
    let id = api["id"].as_str().unwrap().to_owned();
    assert_eq!(api["identifier"], "https://quickstarts/api");
    assert_eq!(
        api["scopes"],
        json!([{"value": "read:messages", "description": "Read messages"}])
    );
    assert_eq!(api["token_lifetime"], 3600);
    assert_eq!(api["token_lifetime_for_web"], 600);
    assert_eq!(api["allow_offline_access"], true);
    assert_eq!(
        api["skip_consent_for_verifiable_first_party_clients"],
        false
    );
    assert_eq!(api["enforce_policies"], true);
    assert_eq!(api["token_dialect"], "access_token_authz");
    assert_eq!(api["is_system"], false);

    // By id, and by identifier as Auth0 allows.
    let (status, by_id) = mgmt.get(&format!("/resource-servers/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_id, api);
    let (status, by_identifier) = mgmt
        .get(&format!(
            "/resource-servers/{}",
            encode("https://quickstarts/api")
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_identifier["id"], id.as_str());

    // The Management API itself is listed, as in Auth0.
    let (status, list) = mgmt.get("/resource-servers").await;
    assert_eq!(status, StatusCode::OK);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert!(list
        .iter()
        .any(|a| a["is_system"] == true && a["identifier"] == mgmt.audience.as_str()));

    let (status, updated) = mgmt
        .patch(
            &format!("/resource-servers/{id}"),
            json!({"name": "Renamed", "scopes": [{"value": "read:messages"}, {"value": "write:messages", "description": "Write"}], "token_lifetime": 7200}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"], "Renamed");
    assert_eq!(updated["scopes"].as_array().unwrap().len(), 2);
    assert_eq!(updated["token_lifetime"], 7200);
    assert_eq!(updated["enforce_policies"], true, "untouched fields stay");
    let (_, again) = mgmt.get(&format!("/resource-servers/{id}")).await;
    assert_eq!(again, updated);

    let (status, body) = mgmt.delete(&format!("/resource-servers/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, Value::Null);
    let gone = mgmt.get(&format!("/resource-servers/{id}")).await;
    assert_error(&gone, StatusCode::NOT_FOUND, "inexistent_resource_server");
    let gone = mgmt.delete(&format!("/resource-servers/{id}")).await;
    assert_error(&gone, StatusCode::NOT_FOUND, "inexistent_resource_server");
    let gone = mgmt
        .patch(&format!("/resource-servers/{id}"), json!({"name": "x"}))
        .await;
    assert_error(&gone, StatusCode::NOT_FOUND, "inexistent_resource_server");
}

#[tokio::test]
async fn validation_errors_are_400_in_auth0_shape() {
    let mgmt = spawn_mgmt().await;
    let cases = [
        json!({"name": "no identifier"}),
        json!({"identifier": 42}),
        json!({"identifier": "has space"}),
        json!({"identifier": "https://x", "signing_alg": "HS512"}),
        json!({"identifier": "https://x", "scopes": [{"value": "bad\"scope"}]}),
        json!({"identifier": "https://x", "scopes": [{"value": "a"}, {"value": "a"}]}),
        json!({"identifier": "https://x", "scopes": "read:messages"}),
        json!({"identifier": "https://x", "token_lifetime": 5}),
        json!({"identifier": "https://x", "token_lifetime": "long"}),
        json!({"identifier": "https://x", "token_lifetime": 3600, "token_lifetime_for_web": 7200}),
        json!({"identifier": "https://x", "token_dialect": "jwt"}),
        json!({"identifier": "https://x", "enforce_policies": "yes"}),
        json!(["not", "an", "object"]),
    ];
    for body in cases {
        let answer = mgmt.post("/resource-servers", body.clone()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");
        assert!(
            answer.1["message"].as_str().unwrap().len() > 10,
            "{body}: {}",
            answer.1
        );
    }
    // A wrong type names the property.
    let answer = mgmt
        .post(
            "/resource-servers",
            json!({"identifier": "https://x", "token_lifetime": "long"}),
        )
        .await;
    assert!(
        answer.1["message"]
            .as_str()
            .unwrap()
            .contains("token_lifetime"),
        "{}",
        answer.1
    );

    // Broken JSON, an empty body and a form body are 400 too, never 415/422/500.
    for (content_type, body) in [
        ("application/json", "{\"identifier\": "),
        ("application/json", ""),
        ("application/x-www-form-urlencoded", "identifier=x"),
    ] {
        let response = mgmt
            .app
            .browser
            .post(mgmt.url("/resource-servers"))
            .bearer_auth(&mgmt.token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let answer = (status, response.json::<Value>().await.unwrap());
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");
    }

    // Duplicate identifier: 409.
    mgmt.create_api("https://dup", &["a"]).await;
    let answer = mgmt
        .post("/resource-servers", json!({"identifier": "https://dup"}))
        .await;
    assert_error(&answer, StatusCode::CONFLICT, "conflict");

    // Updates are validated the same way, and the identifier cannot change.
    let api = mgmt.create_api("https://patch-me", &["a"]).await;
    let path = format!("/resource-servers/{}", api["id"].as_str().unwrap());
    for body in [
        json!({"identifier": "https://other"}),
        json!({"token_dialect": "nope"}),
        json!({"token_lifetime": 1}),
        json!({"name": ""}),
        json!({"scopes": [{"value": ""}]}),
        json!({"allow_offline_access": 1}),
    ] {
        let answer = mgmt.patch(&path, body.clone()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");
    }
    let (_, unchanged) = mgmt.get(&path).await;
    assert_eq!(unchanged, api);
}

#[tokio::test]
async fn the_management_api_cannot_be_changed_or_deleted() {
    let mgmt = spawn_mgmt().await;
    let path = format!("/resource-servers/{}", encode(&mgmt.audience));
    let (status, api) = mgmt.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(api["is_system"], true);
    assert!(api["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["value"] == "create:users"));
    let answer = mgmt.patch(&path, json!({"name": "mine"})).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "operation_not_supported");
    let answer = mgmt.delete(&path).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "operation_not_supported");
}

#[tokio::test]
async fn deleting_an_api_deletes_its_client_grants() {
    let mgmt = spawn_mgmt().await;
    let api = mgmt.create_api("https://granted", &["read:x"]).await;
    let (_, client) = mgmt
        .post(
            "/clients",
            json!({"name": "m2m", "app_type": "non_interactive"}),
        )
        .await;
    let (status, _) = mgmt
        .post(
            "/client-grants",
            json!({"client_id": client["client_id"], "audience": "https://granted", "scope": ["read:x"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = mgmt
        .delete(&format!(
            "/resource-servers/{}",
            api["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, grants) = mgmt
        .get("/client-grants?audience=https%3A%2F%2Fgranted")
        .await;
    assert_eq!(grants, json!([]));
}

#[tokio::test]
async fn pagination_and_include_totals() {
    let mgmt = spawn_mgmt().await;
    for n in 0..5 {
        mgmt.app.clock.advance(1);
        mgmt.create_api(&format!("https://api-{n}"), &["s"]).await;
    }
    // Six APIs with the Management API.
    let (status, page) = mgmt.get("/resource-servers?per_page=4&page=1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.as_array().unwrap().len(), 2);
    let (_, totals) = mgmt
        .get("/resource-servers?per_page=4&page=0&include_totals=true")
        .await;
    assert_eq!(totals["start"], 0);
    assert_eq!(totals["limit"], 4);
    assert_eq!(totals["length"], 4);
    assert_eq!(totals["total"], 6);
    assert_eq!(totals["resource_servers"].as_array().unwrap().len(), 4);
    let (_, last) = mgmt
        .get("/resource-servers?per_page=4&page=1&include_totals=true")
        .await;
    assert_eq!(last["start"], 4);
    assert_eq!(last["length"], 2);
    let (_, beyond) = mgmt.get("/resource-servers?per_page=4&page=9").await;
    assert_eq!(beyond, json!([]));
    // Defaults: 50 per page, no totals.
    let (_, all) = mgmt.get("/resource-servers").await;
    assert_eq!(all.as_array().unwrap().len(), 6);

    // Filter by identifiers, and project fields.
    let (_, some) = mgmt
        .get("/resource-servers?identifiers=https%3A%2F%2Fapi-1&identifiers=https%3A%2F%2Fapi-3&fields=identifier,name")
        .await;
    assert_eq!(
        some,
        json!([{"name": "https://api-1", "identifier": "https://api-1"}, {"name": "https://api-3", "identifier": "https://api-3"}])
    );
    let (_, without) = mgmt
        .get("/resource-servers?per_page=1&fields=scopes,id&include_fields=false")
        .await;
    assert!(without[0].get("scopes").is_none() && without[0].get("identifier").is_some());

    for query in [
        "per_page=101",
        "per_page=-1",
        "page=x",
        "include_totals=maybe",
        "per_page=1&per_page=2",
    ] {
        let answer = mgmt.get(&format!("/resource-servers?{query}")).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_query_string");
    }
}

#[tokio::test]
async fn access_rules_are_added_listed_enforced_and_deleted() {
    let mgmt = spawn_mgmt().await;
    let api = mgmt
        .create_api(crate::helpers::API, &["read:messages"])
        .await;
    let rules = format!("/resource-servers/{}/rules", api["id"].as_str().unwrap());
    let (status, rule) = mgmt
        .post(
            &rules,
            json!({"scope": "read:messages", "condition": {"kind": "email_verified"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    assert!(rule["id"].as_str().unwrap().starts_with("rul_"));
    assert_eq!(rule["condition"], json!({"kind": "email_verified"}));
    let (status, listed) = mgmt
        .get(&format!(
            "/resource-servers/{}/rules",
            encode(crate::helpers::API)
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed, json!([rule]));

    for body in [
        json!({"scope": "write:messages", "condition": {"kind": "email_verified"}}),
        json!({"scope": "read:messages", "condition": {"kind": "run_code", "code": "x"}}),
        json!({"scope": "read:messages", "condition": {"kind": "has_role", "role_id": "rol_none"}}),
        json!({"scope": "read:messages", "condition": {"kind": "client_in", "client_ids": []}}),
        json!({"scope": "read:messages"}),
    ] {
        let answer = mgmt.post(&rules, body.clone()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");
    }

    // A user whose email is not verified does not get the scope.
    let (status, _) = mgmt
        .post(
            "/users",
            json!({"connection": "Username-Password-Authentication", "email": "new@example.com", "password": crate::helpers::PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let spa = mgmt.app.create_spa(false).await;
    let browser = crate::helpers::browser();
    let (params, verifier) = mgmt
        .app
        .login_for_code(
            &browser,
            &spa,
            "new@example.com",
            &[("audience", crate::helpers::API)],
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
        .verify(
            tokens["access_token"].as_str().unwrap(),
            crate::helpers::API,
        )
        .await;
    assert!(
        !claims["scope"]
            .as_str()
            .unwrap_or("")
            .contains("read:messages"),
        "{claims}"
    );

    let rule_path = format!("{rules}/{}", rule["id"].as_str().unwrap());
    let (status, _) = mgmt.delete(&rule_path).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let answer = mgmt.delete(&rule_path).await;
    assert_error(&answer, StatusCode::NOT_FOUND, "inexistent_access_rule");
    let answer = mgmt.get("/resource-servers/none/rules").await;
    assert_error(&answer, StatusCode::NOT_FOUND, "inexistent_resource_server");
}
