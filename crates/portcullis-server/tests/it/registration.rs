//! Dynamic client registration (RFC 7591) at Auth0's `POST /oidc/register`: off until the
//! tenant's `enable_dynamic_client_registration` flag is on (403 `access_denied` and no
//! `registration_endpoint` in discovery meanwhile); public and confidential registrations;
//! registered applications are third-party, so their users see the consent page; redirect URIs
//! and metadata refused in RFC 7591's error shape; the initial access token when configured;
//! the per-address limit; the Management API lists and deletes registered applications.

use portcullis_core::secrets::lookup_hash;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{helpers::*, management_support::*};

/// Posts `metadata` to the registration endpoint with an optional Bearer token.
async fn register(app: &TestApp, metadata: Value, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = app.browser.post(app.url("/oidc/register")).json(&metadata);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("register");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A public client's metadata, as an MCP client sends it.
fn public_metadata() -> Value {
    json!({
        "client_name": "MCP Inspector",
        "redirect_uris": [format!("{SPA_ORIGIN}/callback")],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "client_uri": "https://inspector.example",
    })
}

async fn spawn_open() -> TestApp {
    spawn_app_with(|settings| settings.dynamic_client_registration = Some(true)).await
}

async fn discovered(app: &TestApp) -> [Value; 2] {
    let mut documents = Vec::new();
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let response = app.browser.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        documents.push(response.json::<Value>().await.unwrap());
    }
    documents.try_into().unwrap()
}

#[tokio::test]
async fn registration_is_refused_and_unadvertised_until_the_tenant_turns_it_on() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let (status, body) = register(app, public_metadata(), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "access_denied");
    for document in discovered(app).await {
        assert!(
            document.get("registration_endpoint").is_none(),
            "{document}"
        );
    }
    let answer = mgmt.get("/tenants/settings").await;
    assert_eq!(answer.0, StatusCode::OK);
    assert_eq!(
        answer.1["flags"]["enable_dynamic_client_registration"],
        false
    );

    let on = json!({ "flags": { "enable_dynamic_client_registration": true } });
    let answer = mgmt.patch("/tenants/settings", on).await;
    assert_eq!(answer.0, StatusCode::OK, "{}", answer.1);
    assert_eq!(
        answer.1["flags"]["enable_dynamic_client_registration"],
        true
    );
    let answer = mgmt.get("/tenants/settings").await;
    assert_eq!(
        answer.1["flags"]["enable_dynamic_client_registration"],
        true
    );
    for document in discovered(app).await {
        assert_eq!(
            document["registration_endpoint"],
            format!("{}oidc/register", app.issuer)
        );
    }
    let (status, body) = register(app, public_metadata(), None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // A flag Auth0 does not define here is refused, not dropped.
    let unknown = json!({ "flags": { "enable_everything": true } });
    assert_error(
        &mgmt.patch("/tenants/settings", unknown).await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
    let off = json!({ "flags": { "enable_dynamic_client_registration": false } });
    assert_eq!(mgmt.patch("/tenants/settings", off).await.0, StatusCode::OK);
    let (status, _) = register(app, public_metadata(), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_public_client_registers_and_its_users_consent_before_getting_a_token() {
    let app = spawn_open().await;
    app.create_api(false).await;
    app.create_user("agent-user@example.com").await;
    let (status, body) = register(&app, public_metadata(), None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body.get("client_secret").is_none(), "{body}");
    assert_eq!(body["token_endpoint_auth_method"], "none");
    assert_eq!(body["client_name"], "MCP Inspector");
    assert_eq!(
        body["redirect_uris"],
        json!([format!("{SPA_ORIGIN}/callback")])
    );
    assert_eq!(
        body["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert!(body["client_id_issued_at"].as_i64().unwrap() > 0);
    let client_id = body["client_id"].as_str().unwrap().to_owned();
    let stored = app.store.client_by_id(&client_id).await.unwrap().unwrap();
    assert!(!stored.is_first_party, "a registered client is third-party");

    let client = Spa {
        client_id,
        redirect_uri: format!("{SPA_ORIGIN}/callback"),
    };
    let (verifier, challenge) = pkce();
    let url = app.authorize_url(
        &client,
        &[
            ("resource", API),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("state", "s"),
        ],
    );
    let browser = browser();
    let page = app
        .login_via_form(&browser, &url, "agent-user@example.com", PASSWORD)
        .await;
    assert_eq!(
        page.status(),
        StatusCode::OK,
        "the consent page, not a code"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("action=\"/u/consent\""), "{html}");
    assert!(html.contains("MCP Inspector"), "{html}");
    let approved = browser
        .post(app.url("/u/consent"))
        .form(&[
            ("csrf", hidden_field(&html, "csrf").as_str()),
            ("authorize_query", &hidden_field(&html, "authorize_query")),
            ("decision", "accept"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), StatusCode::SEE_OTHER);
    let answer = browser
        .get(app.url(&location(&approved)))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::FOUND);
    let params = callback_params(&location(&answer));
    let tokens = app.exchange_code(&client, &params["code"], &verifier).await;
    assert_eq!(tokens.status(), StatusCode::OK);
    let tokens: Value = tokens.json().await.unwrap();
    let claims = app
        .verify(tokens["access_token"].as_str().unwrap(), API)
        .await;
    assert_eq!(claims["azp"], client.client_id);
}

/// A token request with a bogus code: `invalid_client` when the client's credentials are
/// wrong, `invalid_grant` once they are right.
async fn code_exchange_error(app: &TestApp, client_id: &str, secret: &str) -> String {
    let response = app
        .browser
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("code", "not-a-code"),
            ("redirect_uri", "https://app.example/cb"),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    body["error"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_confidential_client_gets_a_secret_that_never_expires() {
    let app = spawn_open().await;
    let metadata = json!({
        "redirect_uris": ["https://app.example/cb"],
        "token_endpoint_auth_method": "client_secret_post",
    });
    let (status, body) = register(&app, metadata, None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_post");
    assert_eq!(body["client_secret_expires_at"], 0);
    assert_eq!(body["grant_types"], json!(["authorization_code"]));
    assert_eq!(body["client_name"], "Dynamically registered application");
    let client_id = body["client_id"].as_str().unwrap();
    let secret = body["client_secret"].as_str().unwrap();
    assert_eq!(
        code_exchange_error(&app, client_id, "wrong").await,
        "invalid_client"
    );
    assert_eq!(
        code_exchange_error(&app, client_id, secret).await,
        "invalid_grant"
    );

    // RFC 7591 §2: without a method, client_secret_basic.
    let metadata = json!({ "redirect_uris": ["https://app.example/cb"] });
    let (status, body) = register(&app, metadata, None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_basic");
    assert!(body["client_secret"].is_string());
}

#[tokio::test]
async fn redirect_uris_and_metadata_are_checked_in_rfc_7591s_shape() {
    let app = spawn_open().await;
    let before = app
        .store
        .list_clients(portcullis_store::Page::ALL)
        .await
        .unwrap()
        .1;
    for uri in [
        "http://app.example/cb",
        "https://app.example/cb#x",
        "https://user:pw@app.example/cb",
        "https://*.example/cb",
        "javascript:alert(1)",
        "/relative",
        "http://localhost.attacker.example/cb",
    ] {
        let metadata = json!({ "redirect_uris": [uri], "token_endpoint_auth_method": "none" });
        let (status, body) = register(&app, metadata, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["error"], "invalid_redirect_uri", "{uri}");
        assert!(body["error_description"].is_string());
    }
    let (status, body) = register(&app, json!({ "client_name": "No URIs" }), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_redirect_uri"))
    );
    for metadata in [
        json!({ "redirect_uris": ["https://a.example/cb"], "grant_types": ["client_credentials"] }),
        json!({ "redirect_uris": ["https://a.example/cb"], "grant_types": ["implicit"] }),
        json!({ "redirect_uris": ["https://a.example/cb"], "response_types": ["token"] }),
        json!({ "redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "private_key_jwt" }),
        json!({ "redirect_uris": "https://a.example/cb" }),
        json!({ "redirect_uris": ["https://a.example/cb"], "client_name": "x".repeat(200) }),
    ] {
        let (status, body) = register(&app, metadata.clone(), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{metadata}: {body}");
        assert_eq!(body["error"], "invalid_client_metadata", "{metadata}");
    }
    let not_json = app
        .browser
        .post(app.url("/oidc/register"))
        .form(&[("redirect_uris", "https://a.example/cb")])
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        app.store
            .list_clients(portcullis_store::Page::ALL)
            .await
            .unwrap()
            .1,
        before,
        "nothing registered"
    );
}

#[tokio::test]
async fn an_initial_access_token_is_required_when_one_is_configured() {
    let app = spawn_app_with(|settings| {
        settings.dynamic_client_registration = Some(true);
        settings.registration_token_sha256 = Some(lookup_hash("initial-access-token"));
    })
    .await;
    for token in [None, Some("wrong-token")] {
        let response = app
            .browser
            .post(app.url("/oidc/register"))
            .json(&public_metadata());
        let response = match token {
            Some(token) => response.bearer_auth(token),
            None => response,
        };
        let response = response.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer"));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_token");
    }
    let (status, body) = register(&app, public_metadata(), Some("initial-access-token")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn registrations_are_limited_per_address() {
    let app = spawn_app_with(|settings| {
        settings.dynamic_client_registration = Some(true);
        settings.throttle.registrations_per_ip = 2;
    })
    .await;
    // A refused registration counts too.
    let bad = json!({ "redirect_uris": ["http://app.example/cb"] });
    assert_eq!(register(&app, bad, None).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        register(&app, public_metadata(), None).await.0,
        StatusCode::CREATED
    );
    let (status, body) = register(&app, public_metadata(), None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"], "too_many_requests");
}

#[tokio::test]
async fn registered_clients_are_listed_as_third_party_and_deletable() {
    let mgmt = spawn_mgmt_with(|settings| settings.dynamic_client_registration = Some(true)).await;
    let (_, body) = register(&mgmt.app, public_metadata(), None).await;
    let client_id = body["client_id"].as_str().unwrap().to_owned();
    let (status, clients) = mgmt.get("/clients").await;
    assert_eq!(status, StatusCode::OK);
    let listed = clients
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == client_id.as_str())
        .expect("listed");
    assert_eq!(listed["is_first_party"], false);
    assert_eq!(listed["name"], "MCP Inspector");
    assert_eq!(
        listed["callbacks"],
        json!([format!("{SPA_ORIGIN}/callback")])
    );

    // The audit log names where the registration came from.
    let (_, logs) = mgmt.get("/logs").await;
    assert!(
        logs.as_array().unwrap().iter().any(|entry| {
            entry["details"]["api"] == "registration"
                && entry["details"]["target"]["id"] == client_id.as_str()
        }),
        "{logs}"
    );

    let (status, _) = mgmt.delete(&format!("/clients/{client_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_error(
        &mgmt.get(&format!("/clients/{client_id}")).await,
        StatusCode::NOT_FOUND,
        "inexistent_client",
    );
}

#[tokio::test]
async fn the_dashboard_turns_registration_on_and_marks_registered_applications() {
    let app = spawn_app().await;
    let admin = app.dashboard_admin().await;
    let (status, html) = admin.get(&app, "/dashboard/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("OIDC Dynamic Application Registration"),
        "{html}"
    );
    assert!(html.contains(&format!("{}oidc/register", app.issuer)));
    assert!(!html.contains("name=\"enable_dynamic_client_registration\" checked"));
    assert_eq!(
        register(&app, public_metadata(), None).await.0,
        StatusCode::FORBIDDEN
    );

    let fields = [("enable_dynamic_client_registration", "on")];
    let to = admin
        .post_ok(&app, "/dashboard/settings", "/dashboard/settings", &fields)
        .await;
    assert_eq!(to, "/dashboard/settings");
    let (_, html) = admin.get(&app, "/dashboard/settings").await;
    assert!(
        html.contains("name=\"enable_dynamic_client_registration\" checked"),
        "{html}"
    );
    let (status, body) = register(&app, public_metadata(), None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, html) = admin.get(&app, "/dashboard/applications").await;
    assert!(
        html.contains("MCP Inspector") && html.contains("Third-party"),
        "{html}"
    );

    // An unchecked box turns it off again.
    admin
        .post_ok(&app, "/dashboard/settings", "/dashboard/settings", &[])
        .await;
    assert_eq!(
        register(&app, public_metadata(), None).await.0,
        StatusCode::FORBIDDEN
    );
}
