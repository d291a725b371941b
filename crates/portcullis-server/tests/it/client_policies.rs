//! What an application's settings and an API's policies let a hostile client do: refresh
//! tokens (reuse caught at once by default, non-rotating tokens honoured), PKCE for every
//! client without a secret, domain rules only for verified addresses, web_message only for
//! Allowed Web Origins, no script or local URLs as callbacks, and Management API privileges
//! (minting a secret, a removed grant).

use portcullis_core::admin::{
    applications::{self, NewClient},
    rules,
    users::{self, NewUser},
    Actor,
};
use portcullis_store::AppType;
use portcullis_types::ClientAuthMethod;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{
    helpers::*,
    management_support::*,
    policies::{api_id, tokens_for},
};

/// An application made by the server itself (setup, not under test), with `SPA_ORIGIN` as its
/// callback.
async fn create_client(app: &TestApp, new: NewClient) -> Spa {
    let new = NewClient {
        name: "Test application".into(),
        callbacks: vec![SPA_ORIGIN.into()],
        ..new
    };
    let (client, _) = applications::create(&app.cx, &Actor::System, new)
        .await
        .expect("client");
    Spa {
        client_id: client.client_id,
        redirect_uri: SPA_ORIGIN.into(),
    }
}

/// Signs `email` in with a fresh browser, asking for offline access to the API; returns the
/// refresh token of the code exchange.
async fn refresh_token_for(app: &TestApp, spa: &Spa, email: &str) -> String {
    let (body, _) = tokens_for(app, spa, email, "openid read:messages offline_access").await;
    body["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_owned()
}

/// The refresh-token grant as auth0-spa-js sends it; returns the status and the body.
async fn refresh(app: &TestApp, spa: &Spa, token: &str) -> (StatusCode, Value) {
    let response = crate::refresh::refresh(app, &spa.client_id, token).await;
    (response.status(), response.json().await.unwrap())
}

/// `/authorize` without PKCE for a new regular web application using `method`.
async fn authorize_without_pkce(app: &TestApp, method: ClientAuthMethod) -> reqwest::Response {
    let client = create_client(
        app,
        NewClient {
            app_type: Some(AppType::RegularWeb),
            token_endpoint_auth_method: Some(method),
            ..NewClient::default()
        },
    )
    .await;
    app.browser
        .get(app.authorize_url(&client, &[("state", "s")]))
        .send()
        .await
        .unwrap()
}

/// A Management API call with another token than the bootstrap client's.
async fn call_as(
    mgmt: &Mgmt,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    mgmt.call_with(Some(token), method, path, body.as_ref())
        .await
}

// Item: the refresh-token reuse interval defaults to 0, as in Auth0.
#[tokio::test]
async fn a_reused_refresh_token_is_caught_at_once_by_default() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    app.create_api(true).await;
    let spa = app.create_spa(false).await;
    app.create_user("r@example.com").await;
    let stolen = &refresh_token_for(app, &spa, "r@example.com").await;

    // The owner refreshes; the thief presents the same token within the same second.
    let (status, owner) = refresh(app, &spa, stolen).await;
    assert_eq!(status, StatusCode::OK);
    let successor = owner["refresh_token"].as_str().expect("rotated");
    let (status, error) = refresh(app, &spa, stolen).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["error"], "invalid_grant");
    // Reuse revokes the family: the owner's successor dies too.
    let (status, error) = refresh(app, &spa, successor).await;
    assert_eq!(
        (status, &error["error"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_grant"))
    );

    // Every surface that creates an application starts from 0.
    let (status, created) = mgmt
        .post("/clients", json!({"name": "Default", "app_type": "spa"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["refresh_token"]["leeway"], 0);
    let (status, partial) = mgmt
        .post(
            "/clients",
            json!({"name": "Partial", "app_type": "spa", "refresh_token": {"rotation_type": "rotating"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{partial}");
    assert_eq!(partial["refresh_token"]["leeway"], 0);
    let (_, bootstrap) = mgmt.get(&format!("/clients/{BOOTSTRAP_ID}")).await;
    assert_eq!(bootstrap["refresh_token"]["leeway"], 0);
    let admin = app.dashboard_admin().await;
    let settings = admin
        .post_ok(
            app,
            "/dashboard/applications/new",
            "/dashboard/applications",
            &[("name", "From the dashboard"), ("app_type", "native")],
        )
        .await;
    let client_id = settings
        .trim_start_matches("/dashboard/applications/")
        .trim_end_matches("/settings");
    let native = app.store.client_by_id(client_id).await.unwrap().unwrap();
    assert_eq!(native.refresh_token.leeway, 0);
}

// Item: `rotation_type: non-rotating` is honoured the way Auth0 does it.
#[tokio::test]
async fn a_non_rotating_refresh_token_is_kept_until_it_expires() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    app.create_api(true).await;
    let spa = app.create_spa(false).await;
    let (status, client) = mgmt
        .patch(
            &format!("/clients/{}", spa.client_id),
            json!({"refresh_token": {"rotation_type": "non-rotating", "token_lifetime": 5000, "idle_token_lifetime": 1000}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{client}");
    assert_eq!(client["refresh_token"]["rotation_type"], "non-rotating");
    app.create_user("n@example.com").await;
    let token = &refresh_token_for(app, &spa, "n@example.com").await;

    // Used again and again: no new refresh token, the same one keeps working.
    for _ in 0..2 {
        let (status, body) = refresh(app, &spa, token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.get("refresh_token").is_none(), "not rotated: {body}");
        app.verify(body["access_token"].as_str().unwrap(), API)
            .await;
    }
    // Each use moves the idle expiry (1000 s) forward: 900 s, then 1800 s after sign-in.
    app.clock.advance(900);
    assert_eq!(refresh(app, &spa, token).await.0, StatusCode::OK);
    app.clock.advance(900);
    assert_eq!(refresh(app, &spa, token).await.0, StatusCode::OK);
    // Unused for longer than the idle lifetime: expired.
    app.clock.advance(1001);
    let (status, error) = refresh(app, &spa, token).await;
    assert_eq!(
        (status, &error["error"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_grant"))
    );

    // The absolute lifetime (5000 s) ends it however often it is used.
    let token = &refresh_token_for(app, &spa, "n@example.com").await;
    for _ in 0..5 {
        app.clock.advance(900);
        assert_eq!(refresh(app, &spa, token).await.0, StatusCode::OK);
    }
    app.clock.advance(900);
    assert_eq!(refresh(app, &spa, token).await.0, StatusCode::BAD_REQUEST);
}

// Item: PKCE follows the client (no secret), not its app_type.
#[tokio::test]
async fn every_client_without_a_secret_must_send_pkce() {
    let app = spawn_app().await;
    let response = authorize_without_pkce(&app, ClientAuthMethod::None).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let target = location(&response);
    assert!(target.starts_with(SPA_ORIGIN), "{target}");
    let params = callback_params(&target);
    assert_eq!(params["error"], "invalid_request");
    assert!(params["error_description"].contains("PKCE"), "{params:?}");
    assert_eq!(params["state"], "s");

    // A confidential client authenticates itself at the token endpoint: PKCE stays optional.
    let response = authorize_without_pkce(&app, ClientAuthMethod::ClientSecretPost).await;
    assert!(location(&response).starts_with("/u/login?"));
}

// Item: `email_domain_in` holds only for a verified address.
#[tokio::test]
async fn an_email_domain_rule_needs_a_verified_address() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    rules::create(
        &app.cx,
        &Actor::System,
        &api_id(&app).await,
        "read:messages",
        rules::parse_condition("email_domain_in:corp.example").unwrap(),
    )
    .await
    .unwrap();
    app.tenant_changed();
    app.create_user("alice@corp.example").await;
    users::create(
        &app.cx,
        &Actor::System,
        NewUser {
            email: "eve@corp.example".into(),
            password: PASSWORD.into(),
            email_verified: false,
            ..NewUser::default()
        },
    )
    .await
    .unwrap();

    let (_, alice) = tokens_for(&app, &spa, "alice@corp.example", "openid read:messages").await;
    assert_eq!(alice["scope"], "openid read:messages");
    let (_, eve) = tokens_for(&app, &spa, "eve@corp.example", "openid read:messages").await;
    assert_eq!(
        eve["scope"], "openid",
        "an unverified address proves nothing"
    );
}

// Item: web_message is only for the application's Allowed Web Origins.
#[tokio::test]
async fn web_message_is_only_for_allowed_web_origins() {
    let app = spawn_app().await;
    let cors_only = create_client(
        &app,
        NewClient {
            app_type: Some(AppType::Spa),
            allowed_origins: vec![SPA_ORIGIN.into()],
            ..NewClient::default()
        },
    )
    .await;
    let (_, challenge) = pkce();
    let silent = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("prompt", "none"),
        ("response_mode", "web_message"),
    ];
    let silent_auth = |client: Spa| {
        let request = app.browser.get(app.authorize_url(&client, &silent));
        async move { request.send().await.unwrap() }
    };
    let response = silent_auth(cors_only).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        !csp.contains(SPA_ORIGIN),
        "no framing by a CORS origin: {csp}"
    );
    let html = response.text().await.unwrap();
    assert!(!html.contains("authorization_response"), "{html}");
    assert!(html.contains("Allowed Web Origins"), "{html}");

    // CORS still answers that origin (once the server has reloaded its origins, as it does
    // after a write through its own Management API).
    app.state.refresh_caches().await.expect("reload");
    let preflight = app
        .browser
        .request(Method::OPTIONS, app.url("/oauth/token"))
        .header("origin", SPA_ORIGIN)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        SPA_ORIGIN
    );

    // Registered as a web origin, the same request gets its web_message page.
    let response = silent_auth(app.create_spa(false).await).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("authorization_response"));
}

/// URLs that run script or read local data, never accepted as a callback or logout URL.
const HOSTILE_URLS: &[&str] = &[
    "javascript:alert(document.domain)",
    "JAVASCRIPT://%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "blob:https://app.example/0b8e",
    "about:blank",
];

// Item: callback and logout URLs are http(s) or a native app's custom scheme.
#[tokio::test]
async fn callbacks_and_logout_urls_refuse_script_and_local_schemes() {
    let mgmt = spawn_mgmt().await;
    let (status, native) = mgmt
        .post(
            "/clients",
            json!({"name": "Native", "app_type": "native", "callbacks": ["com.example.app:/callback", "https://app.example/callback"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{native}");
    let id = native["client_id"].as_str().unwrap();
    for hostile in HOSTILE_URLS {
        for field in ["callbacks", "allowed_logout_urls"] {
            let create = mgmt
                .post(
                    "/clients",
                    json!({"name": "Hostile", "app_type": "native", field: [hostile]}),
                )
                .await;
            assert_error(&create, StatusCode::BAD_REQUEST, "invalid_body");
            let update = mgmt
                .patch(&format!("/clients/{id}"), json!({ field: [hostile] }))
                .await;
            assert_error(&update, StatusCode::BAD_REQUEST, "invalid_body");
        }
    }
    let (_, kept) = mgmt.get(&format!("/clients/{id}")).await;
    assert_eq!(
        kept["callbacks"],
        json!(["com.example.app:/callback", "https://app.example/callback"])
    );

    let app = &mgmt.app;
    let admin = app.dashboard_admin().await;
    let settings = admin
        .post_ok(
            app,
            "/dashboard/applications/new",
            "/dashboard/applications",
            &[
                ("name", "Native from the dashboard"),
                ("app_type", "native"),
            ],
        )
        .await;
    let form = |field: &'static str, value: &'static str| {
        [
            ("name", "Native from the dashboard"),
            (field, value),
            ("grant_types", "authorization_code"),
            ("lifetime_in_seconds", "36000"),
            ("rotation_type", "rotating"),
            ("leeway", "0"),
        ]
    };
    let refusals = [
        (
            "callbacks",
            "must be http, https or a native app's reverse-domain scheme",
        ),
        ("allowed_logout_urls", "must be http or https"),
    ];
    for hostile in HOSTILE_URLS {
        for (field, message) in refusals {
            let fields = form(field, hostile);
            admin
                .post_refused(
                    app,
                    &settings,
                    &settings,
                    &fields,
                    StatusCode::BAD_REQUEST,
                    message,
                )
                .await;
        }
    }
    admin
        .post_ok(
            app,
            &settings,
            &settings,
            &form("callbacks", "com.example.app:/callback"),
        )
        .await;
}

// Item: `update:clients` alone cannot give a public client a secret.
#[tokio::test]
async fn minting_a_client_secret_needs_update_client_keys() {
    let mgmt = spawn_mgmt().await;
    let limited = mgmt
        .token_with_scopes(&["read:clients", "update:clients"])
        .await;
    let (status, spa) = mgmt
        .post("/clients", json!({"name": "Public", "app_type": "spa"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{spa}");
    let path = format!("/clients/{}", spa["client_id"].as_str().unwrap());
    let make_confidential = json!({"token_endpoint_auth_method": "client_secret_post"});
    let patch_limited = |body: Value| call_as(&mgmt, &limited, Method::PATCH, &path, Some(body));

    let refused = patch_limited(make_confidential.clone()).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "insufficient_scope");
    let (_, unchanged) = mgmt.get(&path).await;
    assert_eq!(unchanged["token_endpoint_auth_method"], "none");
    // Other changes still only need update:clients.
    let renamed = patch_limited(json!({"name": "Renamed"})).await;
    assert_eq!(renamed.0, StatusCode::OK, "{}", renamed.1);

    // With update:client_keys (the bootstrap client holds every scope) the secret is minted.
    let (status, confidential) = mgmt.patch(&path, make_confidential.clone()).await;
    assert_eq!(status, StatusCode::OK, "{confidential}");
    assert!(confidential["client_secret"].is_string());
    // To `none` and back: dropping the secret is allowed, minting a new one is not.
    let public = patch_limited(json!({"token_endpoint_auth_method": "none"})).await;
    assert_eq!(public.0, StatusCode::OK, "{}", public.1);
    let back = patch_limited(make_confidential).await;
    assert_error(&back, StatusCode::FORBIDDEN, "insufficient_scope");
}

// Item: a Management API token stops working once its client grant is removed.
#[tokio::test]
async fn a_management_token_dies_with_its_client_grant() {
    let mgmt = spawn_mgmt().await;
    let limited = mgmt
        .token_with_scopes(&["read:clients", "read:users"])
        .await;
    assert_eq!(
        call_as(&mgmt, &limited, Method::GET, "/clients", None)
            .await
            .0,
        StatusCode::OK
    );
    let (_, grants) = mgmt.get("/client-grants").await;
    let grant = grants
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["audience"] == mgmt.audience.as_str() && g["client_id"] != BOOTSTRAP_ID)
        .expect("the limited client's grant")
        .clone();
    let grant_path = format!("/client-grants/{}", grant["id"].as_str().unwrap());

    // A narrowed grant narrows the tokens already issued.
    let (status, narrowed) = mgmt
        .patch(&grant_path, json!({"scope": ["read:users"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{narrowed}");
    let clients = call_as(&mgmt, &limited, Method::GET, "/clients", None).await;
    assert_error(&clients, StatusCode::FORBIDDEN, "insufficient_scope");
    assert_eq!(
        call_as(&mgmt, &limited, Method::GET, "/users", None)
            .await
            .0,
        StatusCode::OK
    );

    // Removed: the token is refused outright.
    assert_eq!(mgmt.delete(&grant_path).await.0, StatusCode::NO_CONTENT);
    let users = call_as(&mgmt, &limited, Method::GET, "/users", None).await;
    assert_error(&users, StatusCode::UNAUTHORIZED, "invalid_token");
}
