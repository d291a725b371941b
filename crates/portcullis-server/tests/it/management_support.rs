//! Helpers of the Management API tests: a server with known bootstrap credentials, tokens
//! with chosen scopes, and requests that return the status and the JSON body.

use portcullis_server::settings::BootstrapCredentials;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

pub const BOOTSTRAP_ID: &str = "test-bootstrap-client";
pub const BOOTSTRAP_SECRET: &str = "bootstrap-secret-of-at-least-thirty-two-characters";

pub struct Mgmt {
    pub app: TestApp,
    /// A token with every Management API scope (the bootstrap client's).
    pub token: String,
    pub audience: String,
}

pub async fn spawn_mgmt() -> Mgmt {
    spawn_mgmt_with(|_| {}).await
}

/// [`spawn_mgmt`] with settings adjusted by `configure` before the server is built.
pub async fn spawn_mgmt_with(configure: impl FnOnce(&mut portcullis_server::Settings)) -> Mgmt {
    let app = spawn_app_with(|settings| {
        settings.bootstrap_client = Some(BootstrapCredentials {
            client_id: BOOTSTRAP_ID.into(),
            client_secret: BOOTSTRAP_SECRET.into(),
        });
        configure(settings);
    })
    .await;
    let audience = format!("{}api/v2/", app.issuer);
    let token = client_credentials(&app, BOOTSTRAP_ID, BOOTSTRAP_SECRET, &audience).await;
    Mgmt {
        app,
        token,
        audience,
    }
}

/// A client-credentials access token.
pub async fn client_credentials(app: &TestApp, id: &str, secret: &str, audience: &str) -> String {
    let response = app
        .browser
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("audience", audience),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "client_credentials");
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

impl Mgmt {
    pub fn url(&self, path: &str) -> String {
        self.app.url(&format!("/api/v2{path}"))
    }

    /// A request with `token` (none: no Authorization header); returns status and JSON body
    /// (`Null` when empty).
    pub async fn call_with(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.app.browser.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
        };
        (status, value)
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        self.call_with(Some(&self.token), method, path, body).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(&body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }

    pub async fn delete_with(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, Some(&body)).await
    }

    /// A machine client created through the API, granted `scopes` of the Management API, and
    /// its token.
    pub async fn token_with_scopes(&self, scopes: &[&str]) -> String {
        let (status, client) = self
            .post(
                "/clients",
                json!({"name": "limited", "app_type": "non_interactive"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{client}");
        let id = client["client_id"].as_str().unwrap();
        let (status, grant) = self
            .post(
                "/client-grants",
                json!({"client_id": id, "audience": self.audience, "scope": scopes}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{grant}");
        client_credentials(
            &self.app,
            id,
            client["client_secret"].as_str().unwrap(),
            &self.audience,
        )
        .await
    }

    /// Creates an API with one scope; returns its JSON.
    pub async fn create_api(&self, identifier: &str, scopes: &[&str]) -> Value {
        let scopes: Vec<Value> = scopes
            .iter()
            .map(|s| json!({"value": s, "description": format!("{s} things")}))
            .collect();
        let (status, api) = self
            .post(
                "/resource-servers",
                json!({"name": identifier, "identifier": identifier, "scopes": scopes}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{api}");
        api
    }

    /// Creates a user; returns its JSON.
    pub async fn create_user(&self, email: &str) -> Value {
        let (status, user) = self
            .post(
                "/users",
                json!({"connection": "Username-Password-Authentication", "email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{user}");
        user
    }
}

/// Asserts an Auth0-shaped error.
#[track_caller]
pub fn assert_error(answer: &(StatusCode, Value), status: StatusCode, error_code: &str) {
    let (got, body) = answer;
    assert_eq!(*got, status, "{body}");
    assert_eq!(body["statusCode"], status.as_u16(), "{body}");
    assert_eq!(body["error"], status.canonical_reason().unwrap(), "{body}");
    assert_eq!(body["errorCode"], error_code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

/// Path segment encoding (user ids hold `|`, identifiers `/` and `:`).
pub fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
