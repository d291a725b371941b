//! RFC 8414 metadata, RFC 7662 introspection and RFC 7009 revocation of every kind of token
//! Portcullis issues: JWT access tokens (each algorithm), opaque `/userinfo` tokens and
//! refresh tokens.

use portcullis_core::admin::{
    applications::{self, NewClient},
    Actor,
};
use portcullis_store::AppType;
use portcullis_types::{GrantType, SigningAlg};
use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    helpers::*,
    management_support::client_credentials,
    signing_algorithms::{api_with, m2m_for},
};

async fn get_json(app: &TestApp, path: &str) -> Value {
    let response = app.browser.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

async fn introspect(
    app: &TestApp,
    id: &str,
    secret: Option<&str>,
    token: &str,
) -> (StatusCode, Value) {
    let mut form = vec![("client_id", id), ("token", token)];
    if let Some(secret) = secret {
        form.push(("client_secret", secret));
    }
    let response = app
        .browser
        .post(app.url("/oauth/introspect"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    if status == StatusCode::OK {
        assert_eq!(response.headers()["cache-control"], "no-store");
    }
    (status, response.json().await.unwrap())
}

async fn revoke(app: &TestApp, id: &str, secret: Option<&str>, token: &str) {
    let mut form = vec![("client_id", id), ("token", token)];
    if let Some(secret) = secret {
        form.push(("client_secret", secret));
    }
    let response = app
        .browser
        .post(app.url("/oauth/revoke"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn authorization_server_metadata_agrees_with_openid_discovery() {
    let app = spawn_app().await;
    let oauth = get_json(&app, "/.well-known/oauth-authorization-server").await;
    let openid = get_json(&app, "/.well-known/openid-configuration").await;
    assert_eq!(oauth, openid, "one document for both");
    assert_eq!(oauth["issuer"], app.issuer.as_str());
    assert_eq!(
        oauth["introspection_endpoint"],
        app.url("/oauth/introspect")
    );
    assert_eq!(oauth["revocation_endpoint"], app.url("/oauth/revoke"));
    assert_eq!(
        oauth["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        oauth["access_token_signing_alg_values_supported"],
        serde_json::json!(["RS256", "PS256", "ES256", "HS256"])
    );
    assert_eq!(
        oauth["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
}

#[tokio::test]
async fn jwt_access_tokens_of_every_algorithm_are_introspected() {
    let app = spawn_app().await;
    let mut tokens = Vec::new();
    for (identifier, alg) in [
        ("https://rs.example.com", SigningAlg::RS256),
        ("https://ps.example.com", SigningAlg::PS256),
        ("https://es.example.com", SigningAlg::ES256),
        ("https://hs.example.com", SigningAlg::HS256),
    ] {
        api_with(&app, identifier, alg).await;
        let (id, secret) = m2m_for(&app, identifier).await;
        let token = client_credentials(&app, &id, &secret, identifier).await;
        let (status, answer) = introspect(&app, &id, Some(&secret), &token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer["active"], true, "{alg}: {answer}");
        assert_eq!(answer["client_id"], id.as_str());
        assert_eq!(answer["sub"], format!("{id}@clients"));
        assert_eq!(answer["aud"], identifier);
        assert_eq!(answer["scope"], "read:messages");
        assert_eq!(answer["token_type"], "Bearer");
        assert_eq!(answer["iss"], app.issuer.as_str());
        assert!(answer["exp"].as_i64().unwrap() > answer["iat"].as_i64().unwrap());
        tokens.push((id, secret, token));
    }
    let (id, secret, rs256) = &tokens[0];
    // A token of ours altered, a token of another issuer, garbage: inactive, nothing more.
    let mut tampered = rs256.clone();
    tampered.pop();
    tampered.push(if rs256.ends_with('A') { 'B' } else { 'A' });
    let foreign = {
        let other = spawn_app().await;
        other.create_api(false).await;
        let (oid, osecret) = other.create_m2m(&["read:messages"]).await;
        client_credentials(&other, &oid, &osecret, API).await
    };
    // An HS256 header on an RS256 API's claims, signed with that API's published key bytes:
    // never verified as HMAC with anything but an HS256 API's own secret.
    let (_, _, hs256) = &tokens[3];
    let confused = {
        let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(rs256).unwrap();
        let jwks = serde_json::to_vec(&app.jwks().await).unwrap();
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(&jwks),
        )
        .unwrap()
    };
    for token in [
        tampered.as_str(),
        foreign.as_str(),
        "garbage",
        "a.b.c",
        confused.as_str(),
    ] {
        let (status, answer) = introspect(&app, id, Some(secret), token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer, serde_json::json!({"active": false}), "{token}");
    }
    assert_eq!(
        introspect(&app, id, Some(secret), hs256).await.1["active"],
        true
    );

    // Expired (past the leeway): inactive.
    app.clock.advance(86_400 + 60);
    let (_, answer) = introspect(&app, id, Some(secret), rs256).await;
    assert_eq!(answer, serde_json::json!({"active": false}));
}

#[tokio::test]
async fn only_authenticated_confidential_clients_may_introspect() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let (id, secret) = app.create_m2m(&["read:messages"]).await;
    let token = client_credentials(&app, &id, &secret, API).await;
    let spa = app.create_spa(false).await;
    let (status, answer) = introspect(&app, &spa.client_id, None, &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer["error"], "invalid_client");
    let (status, answer) = introspect(&app, &id, Some("wrong"), &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer["error"], "invalid_client");
    let response = app
        .browser
        .post(app.url("/oauth/introspect"))
        .form(&[
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
}

/// A confidential web application with the code flow and refresh tokens.
async fn web_app(app: &TestApp) -> (Spa, String) {
    let (client, secret) = applications::create(
        &app.cx,
        &Actor::System,
        NewClient {
            name: "Web".into(),
            app_type: Some(AppType::RegularWeb),
            callbacks: vec![SPA_ORIGIN.into()],
            grant_types: Some(vec![GrantType::AuthorizationCode, GrantType::RefreshToken]),
            ..NewClient::default()
        },
    )
    .await
    .expect("client");
    app.tenant_changed();
    (
        Spa {
            client_id: client.client_id,
            redirect_uri: SPA_ORIGIN.into(),
        },
        secret.expect("confidential").into_inner(),
    )
}

#[tokio::test]
async fn refresh_tokens_are_introspected_by_their_client_and_revoked() {
    let app = spawn_app().await;
    app.create_api(true).await;
    let (web, web_secret) = web_app(&app).await;
    let (other, other_secret) = app.create_m2m(&["read:messages"]).await;
    app.create_user("rt@example.com").await;
    let browser = browser();
    let (params, verifier) = app
        .login_for_code(
            &browser,
            &web,
            "rt@example.com",
            &[
                ("audience", API),
                ("scope", "openid offline_access read:messages"),
            ],
        )
        .await;
    let response = app
        .browser
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", web.client_id.as_str()),
            ("client_secret", web_secret.as_str()),
            ("code", params["code"].as_str()),
            ("code_verifier", verifier.as_str()),
            ("redirect_uri", web.redirect_uri.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let refresh = body["refresh_token"].as_str().expect("refresh token");
    let (_, answer) = introspect(&app, &web.client_id, Some(&web_secret), refresh).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["token_type"], "refresh_token");
    assert_eq!(answer["client_id"], web.client_id.as_str());
    assert_eq!(answer["aud"], API);
    assert!(answer["scope"].as_str().unwrap().contains("offline_access"));
    // Another client learns nothing about it.
    let (_, answer) = introspect(&app, &other, Some(&other_secret), refresh).await;
    assert_eq!(answer, serde_json::json!({"active": false}));

    revoke(&app, &web.client_id, Some(&web_secret), refresh).await;
    let (_, answer) = introspect(&app, &web.client_id, Some(&web_secret), refresh).await;
    assert_eq!(answer, serde_json::json!({"active": false}));
}

#[tokio::test]
async fn opaque_userinfo_tokens_are_introspected_and_revoked() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    let (resource_server, rs_secret) = web_app(&app).await;
    app.create_user("opaque@example.com").await;
    let browser = browser();
    let (params, verifier) = app
        .login_for_code(
            &browser,
            &spa,
            "opaque@example.com",
            &[("scope", "openid profile")],
        )
        .await;
    let body: Value = app
        .exchange_code(&spa, &params["code"], &verifier)
        .await
        .json()
        .await
        .unwrap();
    let opaque = body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(opaque.split('.').count(), 3, "no audience: an opaque token");
    let (_, answer) = introspect(&app, &resource_server.client_id, Some(&rs_secret), &opaque).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["client_id"], spa.client_id.as_str());
    assert_eq!(answer["aud"], format!("{}userinfo", app.issuer));
    assert_eq!(answer["scope"], "openid profile");
    let userinfo = |token: String| {
        let app = &app;
        async move {
            app.browser
                .get(app.url("/userinfo"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(userinfo(opaque.clone()).await, StatusCode::OK);

    // Another client cannot revoke it; its own (public) client can.
    revoke(&app, &resource_server.client_id, Some(&rs_secret), &opaque).await;
    assert_eq!(userinfo(opaque.clone()).await, StatusCode::OK);
    revoke(&app, &spa.client_id, None, &opaque).await;
    assert_eq!(userinfo(opaque.clone()).await, StatusCode::UNAUTHORIZED);
    let (_, answer) = introspect(&app, &resource_server.client_id, Some(&rs_secret), &opaque).await;
    assert_eq!(answer, serde_json::json!({"active": false}));
}
