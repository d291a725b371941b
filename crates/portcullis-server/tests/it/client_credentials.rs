use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn client_credentials_with_basic_or_body_authentication() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let (client_id, secret) = app.create_m2m(&["read:messages"]).await;

    let basic = app
        .browser
        .post(app.url("/oauth/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials"), ("audience", API)])
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::OK);
    let body: Value = basic.json().await.unwrap();
    assert!(body.get("id_token").is_none() && body.get("refresh_token").is_none());
    let claims = app
        .verify(body["access_token"].as_str().unwrap(), API)
        .await;
    assert_eq!(claims["sub"], format!("{client_id}@clients"));
    assert_eq!(claims["gty"], "client-credentials");
    assert_eq!(claims["azp"], client_id);
    assert_eq!(claims["aud"], API, "a single audience, as a string");
    assert_eq!(claims["scope"], "read:messages");

    // Body authentication, RFC 8707 resource, and a scope outside the grant dropped.
    let body: Value = app
        .browser
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
            ("resource", API),
            ("scope", "read:messages write:messages"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["scope"], "read:messages");
}

#[tokio::test]
async fn client_credentials_refusals() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let (client_id, secret) = app.create_m2m(&["read:messages"]).await;

    let wrong = app
        .browser
        .post(app.url("/oauth/token"))
        .basic_auth(&client_id, Some("wrong"))
        .form(&[("grant_type", "client_credentials"), ("audience", API)])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    assert_eq!(
        wrong.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );

    let no_grant = app
        .browser
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
            ("audience", "https://other"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(no_grant.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        no_grant.json::<Value>().await.unwrap()["error"],
        "access_denied"
    );

    let no_audience = app
        .browser
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        no_audience.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );

    let spa = app.create_spa(false).await;
    let public = app
        .browser
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &spa.client_id),
            ("audience", API),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        public.json::<Value>().await.unwrap()["error"],
        "unauthorized_client"
    );
}

/// Machine token exchanges are logged in batches off the request path; a graceful shutdown
/// writes what is still queued before the server exits.
#[tokio::test]
async fn a_graceful_shutdown_writes_every_queued_log_entry() {
    let mut app = spawn_app().await;
    app.create_api(false).await;
    let (client_id, secret) = app.create_m2m(&["read:messages"]).await;
    let exchanges = (0..20).map(|_| {
        app.browser
            .post(app.url("/oauth/token"))
            .basic_auth(&client_id, Some(&secret))
            .form(&[("grant_type", "client_credentials"), ("audience", API)])
            .send()
    });
    for response in futures::future::join_all(exchanges).await {
        assert_eq!(response.unwrap().status(), StatusCode::OK);
    }
    app.stop().await;
    let filter = portcullis_store::LogFilter {
        event_type: Some("seccft".into()),
        client_id: Some(client_id.clone()),
        user_id: None,
    };
    let (_, total) = app
        .store
        .list_logs(&filter, portcullis_store::Page::ALL)
        .await
        .unwrap();
    assert_eq!(total, 20);
}
