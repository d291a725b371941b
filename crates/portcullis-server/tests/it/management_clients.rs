//! `/api/v2/clients` and `/api/v2/client-grants`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{helpers::*, management_support::*};

#[tokio::test]
async fn spa_and_machine_clients_round_trip() {
    let mgmt = spawn_mgmt().await;
    let (status, spa) = mgmt
        .post(
            "/clients",
            json!({
                "name": "Quickstart SPA",
                "app_type": "spa",
                "callbacks": ["http://localhost:3000"],
                "allowed_logout_urls": ["http://localhost:3000"],
                "web_origins": ["http://localhost:3000/"],
                "allowed_origins": ["http://localhost:3000"],
                "grant_types": ["authorization_code", "refresh_token"],
                "jwt_configuration": {"alg": "RS256", "lifetime_in_seconds": 3600},
                "refresh_token": {"rotation_type": "rotating", "expiration_type": "expiring", "leeway": 5, "token_lifetime": 86400, "idle_token_lifetime": 3600},
                "oidc_conformant": true,
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{spa}");
    assert_eq!(spa["app_type"], "spa");
    assert_eq!(spa["token_endpoint_auth_method"], "none");
    assert!(
        spa.get("client_secret").is_none(),
        "a public client has no secret"
    );
    assert_eq!(spa["web_origins"], json!(["http://localhost:3000"]));
    assert_eq!(spa["jwt_configuration"]["lifetime_in_seconds"], 3600);
    assert_eq!(spa["refresh_token"]["leeway"], 5);
    assert_eq!(spa["refresh_token"]["idle_token_lifetime"], 3600);
    assert_eq!(spa["is_first_party"], true);
    let spa_id = spa["client_id"].as_str().unwrap();

    let (status, machine) = mgmt
        .post(
            "/clients",
            json!({"name": "Backend", "app_type": "non_interactive", "is_first_party": false}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{machine}");
    assert_eq!(machine["grant_types"], json!(["client_credentials"]));
    assert_eq!(machine["is_first_party"], false);
    let secret = machine["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 32);
    let machine_id = machine["client_id"].as_str().unwrap().to_owned();

    // The secret is never shown again.
    let (status, fetched) = mgmt.get(&format!("/clients/{machine_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(fetched.get("client_secret").is_none());
    assert_eq!(fetched["name"], "Backend");
    let (_, list) = mgmt.get("/clients").await;
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c.get("client_secret").is_none()));
    // Bootstrap client + the two.
    assert_eq!(list.as_array().unwrap().len(), 3);
    let (_, spas) = mgmt.get("/clients?app_type=spa&fields=client_id").await;
    assert_eq!(spas, json!([{"client_id": spa_id}]));
    let (_, third) = mgmt
        .get("/clients?is_first_party=false&include_totals=true")
        .await;
    assert_eq!(third["total"], 1);
    assert_eq!(third["clients"][0]["client_id"], machine_id.as_str());

    // Update.
    let (status, updated) = mgmt
        .patch(
            &format!("/clients/{spa_id}"),
            json!({"name": "Renamed SPA", "callbacks": ["http://localhost:3000", "http://localhost:3000/callback"], "refresh_token": {"leeway": 0}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"], "Renamed SPA");
    assert_eq!(updated["callbacks"].as_array().unwrap().len(), 2);
    assert_eq!(updated["refresh_token"]["leeway"], 0);
    assert_eq!(
        updated["refresh_token"]["idle_token_lifetime"], 3600,
        "other settings stay"
    );
    assert!(updated.get("client_secret").is_none());

    // Rotation: the new secret works, the old one does not.
    let (status, rotated) = mgmt
        .post(&format!("/clients/{machine_id}/rotate-secret"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let (status, _) = mgmt
        .post(
            "/client-grants",
            json!({"client_id": machine_id, "audience": mgmt.audience, "scope": ["read:users"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        token_status(&mgmt, &machine_id, &secret).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        token_status(&mgmt, &machine_id, new_secret).await,
        StatusCode::OK
    );
    let answer = mgmt
        .post(&format!("/clients/{spa_id}/rotate-secret"), json!({}))
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");

    // Making a public client confidential gives it a secret, once.
    let (status, confidential) = mgmt
        .patch(
            &format!("/clients/{spa_id}"),
            json!({"token_endpoint_auth_method": "client_secret_basic", "app_type": "regular_web"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(confidential["client_secret"].as_str().is_some());

    // Delete.
    let (status, _) = mgmt.delete(&format!("/clients/{spa_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for answer in [
        mgmt.get(&format!("/clients/{spa_id}")).await,
        mgmt.delete(&format!("/clients/{spa_id}")).await,
        mgmt.patch(&format!("/clients/{spa_id}"), json!({"name": "x"}))
            .await,
        mgmt.post(&format!("/clients/{spa_id}/rotate-secret"), json!({}))
            .await,
    ] {
        assert_error(&answer, StatusCode::NOT_FOUND, "inexistent_client");
    }
}

async fn token_status(mgmt: &Mgmt, id: &str, secret: &str) -> StatusCode {
    mgmt.app
        .browser
        .post(mgmt.app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("audience", &mgmt.audience),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

/// The token endpoint reads applications and grants from the replica's cache: a change made
/// through the Management API applies to the very next request, and one written to the store
/// elsewhere (the CLI, another replica) within the refresh bound.
#[tokio::test]
async fn changes_apply_to_the_next_token_request() {
    let mgmt = spawn_mgmt().await;
    let (_, machine) = mgmt
        .post(
            "/clients",
            json!({"name": "Worker", "app_type": "non_interactive"}),
        )
        .await;
    let id = machine["client_id"].as_str().unwrap().to_owned();
    let secret = machine["client_secret"].as_str().unwrap().to_owned();
    let (status, grant) = mgmt
        .post(
            "/client-grants",
            json!({"client_id": id, "audience": mgmt.audience, "scope": ["read:users"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(token_status(&mgmt, &id, &secret).await, StatusCode::OK);

    let (_, rotated) = mgmt
        .post(&format!("/clients/{id}/rotate-secret"), json!({}))
        .await;
    let new_secret = rotated["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(
        token_status(&mgmt, &id, &secret).await,
        StatusCode::UNAUTHORIZED,
        "the old secret stops at once"
    );
    assert_eq!(token_status(&mgmt, &id, &new_secret).await, StatusCode::OK);

    let (status, _) = mgmt
        .delete(&format!("/client-grants/{}", grant["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        token_status(&mgmt, &id, &new_secret).await,
        StatusCode::FORBIDDEN,
        "a removed grant stops at once"
    );

    // Behind the server's back (as the CLI writes): seen within cache_refresh_seconds (1 s).
    mgmt.app.store.delete_client(&id).await.unwrap();
    let mut status = StatusCode::FORBIDDEN;
    for _ in 0..30 {
        status = token_status(&mgmt, &id, &new_secret).await;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a deleted client stops");
}

#[tokio::test]
async fn client_validation_errors() {
    let mgmt = spawn_mgmt().await;
    for body in [
        json!({}),
        json!({"name": ""}),
        json!({"name": 5}),
        json!({"name": "x", "app_type": "tv"}),
        json!({"name": "x", "callbacks": ["not a url"]}),
        json!({"name": "x", "callbacks": "http://localhost"}),
        json!({"name": "x", "web_origins": ["http://localhost:3000/path"]}),
        json!({"name": "x", "grant_types": ["urn:ietf:params:oauth:grant-type:device_code"]}),
        json!({"name": "x", "token_endpoint_auth_method": "private_key_jwt"}),
        json!({"name": "x", "app_type": "spa", "grant_types": ["client_credentials"]}),
        json!({"name": "x", "jwt_configuration": {"alg": "HS256"}}),
        json!({"name": "x", "jwt_configuration": {"lifetime_in_seconds": 1}}),
        json!({"name": "x", "refresh_token": {"rotation_type": "sometimes"}}),
        json!({"name": "x", "refresh_token": {"expiration_type": "non-expiring"}}),
        json!({"name": "x", "refresh_token": {"idle_token_lifetime": 99999999}}),
        json!({"name": "x", "oidc_conformant": false}),
    ] {
        let answer = mgmt.post("/clients", body.clone()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");
    }
    let (_, client) = mgmt
        .post(
            "/clients",
            json!({"name": "x", "app_type": "spa", "callbacks": ["http://localhost:3000"]}),
        )
        .await;
    let path = format!("/clients/{}", client["client_id"].as_str().unwrap());
    for body in [
        json!({"name": ""}),
        json!({"callbacks": ["nope"]}),
        json!({"grant_types": ["client_credentials"]}),
        json!({"refresh_token": {"leeway": 3600}}),
        json!({"is_first_party": "no"}),
    ] {
        let answer = mgmt.patch(&path, body.clone()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");
    }
    let (_, unchanged) = mgmt.get(&path).await;
    assert_eq!(unchanged, client);
}

#[tokio::test]
async fn client_grants_crud_filters_and_paging() {
    let mgmt = spawn_mgmt().await;
    mgmt.create_api("https://a", &["read", "write"]).await;
    mgmt.create_api("https://b", &["read"]).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let (_, client) = mgmt
            .post(
                "/clients",
                json!({"name": format!("m2m {n}"), "app_type": "non_interactive"}),
            )
            .await;
        ids.push(client["client_id"].as_str().unwrap().to_owned());
    }
    let (status, grant) = mgmt
        .post(
            "/client-grants",
            json!({"client_id": ids[0], "audience": "https://a", "scope": ["read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{grant}");
    assert!(grant["id"].as_str().unwrap().starts_with("cgr_"));
    assert_eq!(grant["scope"], json!(["read"]));
    let grant_id = grant["id"].as_str().unwrap().to_owned();
    for (client, audience) in [
        (&ids[1], "https://a"),
        (&ids[2], "https://a"),
        (&ids[0], "https://b"),
    ] {
        let (status, _) = mgmt
            .post(
                "/client-grants",
                json!({"client_id": client, "audience": audience, "scope": ["read"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }

    // Errors.
    let answer = mgmt
        .post(
            "/client-grants",
            json!({"client_id": ids[0], "audience": "https://a"}),
        )
        .await;
    assert_error(&answer, StatusCode::CONFLICT, "conflict");
    let answer = mgmt
        .post(
            "/client-grants",
            json!({"client_id": "nobody", "audience": "https://a"}),
        )
        .await;
    assert_error(&answer, StatusCode::NOT_FOUND, "inexistent_client");
    let answer = mgmt
        .post(
            "/client-grants",
            json!({"client_id": ids[1], "audience": "https://none"}),
        )
        .await;
    assert_error(&answer, StatusCode::NOT_FOUND, "inexistent_resource_server");
    let answer = mgmt
        .post(
            "/client-grants",
            json!({"client_id": ids[1], "audience": "https://b", "scope": ["write"]}),
        )
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");
    let answer = mgmt
        .post(
            "/client-grants",
            json!({"client_id": ids[1], "audience": "https://b", "scope": "read"}),
        )
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");
    let answer = mgmt
        .post("/client-grants", json!({"audience": "https://b"}))
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");

    // Filters (the bootstrap client's grant is there too).
    let (_, all) = mgmt.get("/client-grants").await;
    assert_eq!(all.as_array().unwrap().len(), 5);
    let (_, for_a) = mgmt.get("/client-grants?audience=https%3A%2F%2Fa").await;
    assert_eq!(for_a.as_array().unwrap().len(), 3);
    let (_, for_client) = mgmt
        .get(&format!(
            "/client-grants?client_id={}&audience=https%3A%2F%2Fb",
            ids[0]
        ))
        .await;
    assert_eq!(for_client.as_array().unwrap().len(), 1);
    // Offset paging with totals, and checkpoint paging as the SDK sends it.
    let (_, totals) = mgmt
        .get("/client-grants?per_page=2&page=1&include_totals=true")
        .await;
    assert_eq!(
        (totals["start"].clone(), totals["total"].clone()),
        (json!(2), json!(5))
    );
    assert_eq!(totals["client_grants"].as_array().unwrap().len(), 2);
    let mut seen = Vec::new();
    let mut from = String::new();
    loop {
        let (status, page) = mgmt
            .get(&format!("/client-grants?take=2&from={from}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        seen.extend(
            page["client_grants"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g["id"].clone()),
        );
        match page.get("next") {
            Some(next) => from = next.as_str().unwrap().to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    let answer = mgmt.get("/client-grants?take=0").await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_query_string");
    let answer = mgmt.get("/client-grants?from=abc").await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_query_string");

    // Get, update, delete.
    let (status, fetched) = mgmt.get(&format!("/client-grants/{grant_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, grant);
    let (status, updated) = mgmt
        .patch(
            &format!("/client-grants/{grant_id}"),
            json!({"scope": ["read", "write"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["scope"], json!(["read", "write"]));
    let answer = mgmt
        .patch(
            &format!("/client-grants/{grant_id}"),
            json!({"scope": ["delete"]}),
        )
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");
    let (status, _) = mgmt.delete(&format!("/client-grants/{grant_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for answer in [
        mgmt.get(&format!("/client-grants/{grant_id}")).await,
        mgmt.delete(&format!("/client-grants/{grant_id}")).await,
        mgmt.patch(&format!("/client-grants/{grant_id}"), json!({"scope": []}))
            .await,
    ] {
        assert_error(&answer, StatusCode::NOT_FOUND, "inexistent_client_grant");
    }
}

#[tokio::test]
async fn a_grant_made_through_the_api_mints_tokens() {
    let mgmt = spawn_mgmt().await;
    mgmt.create_api(API, &["read:messages", "write:messages"])
        .await;
    let (_, client) = mgmt
        .post(
            "/clients",
            json!({"name": "worker", "app_type": "non_interactive"}),
        )
        .await;
    let id = client["client_id"].as_str().unwrap();
    mgmt.post(
        "/client-grants",
        json!({"client_id": id, "audience": API, "scope": ["read:messages"]}),
    )
    .await;
    let token = client_credentials(
        &mgmt.app,
        id,
        client["client_secret"].as_str().unwrap(),
        API,
    )
    .await;
    let claims: Value = mgmt.app.verify(&token, API).await;
    assert_eq!(claims["scope"], "read:messages");
    assert_eq!(claims["sub"], format!("{id}@clients"));
}

#[tokio::test]
async fn client_metadata_is_stored_merged_validated_and_exported() {
    use portcullis_core::{keys::KeyCipher, tenant};

    let mgmt = spawn_mgmt().await;
    let (status, created) = mgmt
        .post(
            "/clients",
            json!({"name": "With metadata", "client_metadata": {"home": "https://app.example", "tier": "gold"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["client_metadata"],
        json!({"home": "https://app.example", "tier": "gold"})
    );
    let id = created["client_id"].as_str().unwrap();
    let path = format!("/clients/{id}");
    assert_eq!(
        mgmt.get(&path).await.1["client_metadata"],
        created["client_metadata"]
    );

    // A PATCH merges: a property set to null goes, the others stay or change.
    let (status, patched) = mgmt
        .patch(
            &path,
            json!({"client_metadata": {"tier": null, "region": "eu", "home": "https://b.example"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    let expected = json!({"home": "https://b.example", "region": "eu"});
    assert_eq!(patched["client_metadata"], expected);
    assert_eq!(mgmt.get(&path).await.1["client_metadata"], expected);
    let (_, untouched) = mgmt.patch(&path, json!({"name": "Renamed"})).await;
    assert_eq!(untouched["client_metadata"], expected, "absent: kept");

    // Auth0's bounds: string values, at most 10 properties, names and values of 255.
    let long = "x".repeat(256);
    let eleven: serde_json::Map<String, Value> =
        (0..11).map(|n| (format!("k{n}"), json!("v"))).collect();
    for bad in [
        json!({"n": 1}),
        json!({"nested": {"a": "b"}}),
        json!({"v": long}),
        json!({ long.clone(): "v" }),
        json!({"dot.ted": "v"}),
        Value::Object(eleven),
        json!(["not", "an", "object"]),
    ] {
        let answer = mgmt
            .post(
                "/clients",
                json!({"name": "Bad", "client_metadata": bad.clone()}),
            )
            .await;
        assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{bad}: {}", answer.1);
        let answer = mgmt
            .patch(&path, json!({"client_metadata": bad.clone()}))
            .await;
        assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{bad}: {}", answer.1);
    }
    let nine_more: serde_json::Map<String, Value> =
        (0..9).map(|n| (format!("k{n}"), json!("v"))).collect();
    let answer = mgmt
        .patch(&path, json!({"client_metadata": nine_more}))
        .await;
    assert_eq!(
        answer.0,
        StatusCode::BAD_REQUEST,
        "11 after the merge: {}",
        answer.1
    );
    assert!(
        answer.1["message"].as_str().unwrap().contains("10"),
        "{}",
        answer.1
    );
    assert_eq!(
        mgmt.get(&path).await.1["client_metadata"],
        expected,
        "refused: unchanged"
    );

    // Export and import carry it.
    let app = &mgmt.app;
    let document = tenant::export(app.store.as_ref()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = test_store(&dir).await;
    let cipher = KeyCipher::new(&app.master_key).unwrap();
    tenant::import(target.as_ref(), &cipher, &document, 0)
        .await
        .unwrap();
    let imported = target.client_by_id(id).await.unwrap().unwrap();
    assert_eq!(
        serde_json::to_value(&imported.client_metadata).unwrap(),
        expected
    );
}
