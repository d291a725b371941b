//! The real server, built once per fuzzing process: `Application::build_on` on a temporary
//! SQLite store, its router driven in-process with `tower::ServiceExt::oneshot`. Nothing is
//! mocked: the requests go through every layer the listener would put them through, except
//! the client's address (no TCP peer), so rate limits do not refuse the fuzzer.

use std::sync::{Arc, LazyLock};

use axum::{
    body::Body,
    http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode},
    Router,
};
use portcullis_core::{
    admin::{
        apis::{self, NewApi},
        applications::{self, NewClient},
        grants,
        roles::{self, NewRole},
        users::{self, NewUser},
        Actor,
    },
    clock::MockClock,
};
use portcullis_server::{
    routes,
    session::{self, LoginCsrf, SESSION_COOKIE},
    settings::BootstrapCredentials,
    AppState, Application, Settings,
};
use portcullis_store::{AppType, ScopeDefinition, Store};
use portcullis_store_sqlite::SqliteStore;
use portcullis_types::GrantType;
use tower::ServiceExt as _;

use crate::Input;

pub use portcullis_server::session::CSRF_COOKIE;

pub const ISSUER: &str = "http://localhost:4000/";
pub const API: &str = "https://fuzz.example/api";
pub const SPA_ORIGIN: &str = "http://localhost:3000";
pub const EMAIL: &str = "fuzz@example.com";
pub const PASSWORD: &str = "correct horse battery";
const BOOTSTRAP_ID: &str = "fuzz-bootstrap-client";
const BOOTSTRAP_SECRET: &str = "bootstrap-secret-of-at-least-thirty-two-characters";
/// The browser's CSRF cookie the login targets send (a fresh one has 43 characters).
pub const CSRF: &str = "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuz";

/// The server and the objects the seeds name by placeholder.
pub struct Fixture {
    runtime: tokio::runtime::Runtime,
    pub state: AppState,
    router: Router,
    /// `{placeholder}` → value.
    values: Vec<(&'static str, String)>,
    _data_dir: tempfile::TempDir,
}

/// The fixture of this process, built on first use.
pub static FIXTURE: LazyLock<Fixture> = LazyLock::new(Fixture::build);

impl Fixture {
    fn build() -> Fixture {
        let runtime = crate::runtime();
        let data_dir = tempfile::tempdir().expect("temp dir");
        let (state, values) = runtime.block_on(setup(&data_dir));
        let router = routes::router(state.clone());
        Fixture {
            runtime,
            state,
            router,
            values,
            _data_dir: data_dir,
        }
    }

    /// `text` with every `{name}` of the fixture replaced by its value.
    pub fn substitute(&self, text: &[u8]) -> Vec<u8> {
        let mut text = text.to_vec();
        for (name, value) in &self.values {
            text = replace(&text, name.as_bytes(), value.as_bytes());
        }
        text
    }

    /// Runs `future` on the fixture's runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Sends one request through the router and reads the whole answer. Header lines of
    /// `input` that are not valid HTTP are dropped, as a client library would refuse them.
    pub fn send(
        &self,
        method: Method,
        uri: &str,
        input: &Input,
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let Ok(mut request) = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
        else {
            return (StatusCode::BAD_REQUEST, HeaderMap::new(), Vec::new());
        };
        for (name, value) in &input.headers {
            if name.starts_with(':') {
                continue;
            }
            let value = self.substitute(value.as_bytes());
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_bytes(&value),
            ) {
                request.headers_mut().append(name, value);
            }
        }
        *request.body_mut() = Body::from(self.substitute(&input.body));
        let router = self.router.clone();
        self.runtime.block_on(async move {
            let response = router.oneshot(request).await.expect("infallible router");
            let (parts, body) = response.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX)
                .await
                .expect("response body")
                .to_vec();
            (parts.status, parts.headers, body)
        })
    }

    /// The login form's CSRF value for `authorize_query`, bound to [`CSRF`].
    pub fn csrf_for(&self, authorize_query: &str) -> String {
        LoginCsrf {
            cookie: CSRF.to_owned(),
            set: false,
        }
        .form_value(&self.state, authorize_query)
    }
}

/// The invariant of every server target: nothing a client sends makes the server fail.
pub fn assert_no_server_error(status: StatusCode, body: &[u8]) {
    assert!(
        !status.is_server_error(),
        "a client's request caused {status}: {}",
        String::from_utf8_lossy(body)
    );
}

fn replace(text: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.windows(from.len()).position(|window| window == from) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(to);
        rest = &rest[at + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}

async fn setup(data_dir: &tempfile::TempDir) -> (AppState, Vec<(&'static str, String)>) {
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&data_dir.path().join("fuzz.db"))
            .await
            .expect("store"),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let mut settings = Settings::new(vec![42u8; 32]);
    settings.issuer = ISSUER.into();
    settings.listen = listener.local_addr().expect("addr");
    settings.bootstrap_client = Some(BootstrapCredentials {
        client_id: BOOTSTRAP_ID.into(),
        client_secret: BOOTSTRAP_SECRET.into(),
    });
    // The clock never moves: codes, sessions and tokens made at start stay valid.
    let clock = Arc::new(MockClock::new());
    let application = Application::build_on(listener, settings, store, clock)
        .await
        .expect("build");
    let state = application.state().clone();
    let cx = state.admin.cx.clone();
    let system = Actor::System;
    let api = apis::create(
        &cx,
        &system,
        NewApi {
            name: "Fuzz API".into(),
            identifier: API.into(),
            scopes: vec![ScopeDefinition {
                value: "read:messages".into(),
                description: "Read messages".into(),
            }],
            token_lifetime: None,
            allow_offline_access: true,
            enforce_policies: false,
            token_dialect: None,
        },
    )
    .await
    .expect("api");
    let (spa, _) = applications::create(
        &cx,
        &system,
        NewClient {
            name: "Fuzz SPA".into(),
            app_type: Some(AppType::Spa),
            callbacks: vec![SPA_ORIGIN.into(), format!("{SPA_ORIGIN}/callback")],
            allowed_logout_urls: vec![SPA_ORIGIN.into()],
            web_origins: vec![SPA_ORIGIN.into()],
            grant_types: Some(vec![
                GrantType::AuthorizationCode,
                GrantType::RefreshToken,
                GrantType::Implicit,
            ]),
            ..NewClient::default()
        },
    )
    .await
    .expect("spa");
    let (m2m, secret) = applications::create(
        &cx,
        &system,
        NewClient {
            name: "Fuzz M2M".into(),
            app_type: Some(AppType::NonInteractive),
            ..NewClient::default()
        },
    )
    .await
    .expect("m2m");
    let grant = grants::create(
        &cx,
        &system,
        &m2m.client_id,
        API,
        vec!["read:messages".into()],
    )
    .await
    .expect("grant");
    let user = users::create(
        &cx,
        &system,
        NewUser {
            email: EMAIL.into(),
            password: PASSWORD.into(),
            email_verified: true,
            ..NewUser::default()
        },
    )
    .await
    .expect("user");
    let role = roles::create(
        &cx,
        &system,
        NewRole {
            name: "fuzzers".into(),
            description: "Fuzzing role".into(),
        },
    )
    .await
    .expect("role");
    let session_cookie = session::start(&state, &HeaderMap::new(), &user)
        .await
        .expect("session");
    let session = cookie_value(&session_cookie, SESSION_COOKIE);
    let management = management_token(&state).await;
    let values = vec![
        ("{spa}", spa.client_id),
        ("{m2m_secret}", secret.expect("confidential").into_inner()),
        ("{m2m}", m2m.client_id),
        ("{api_id}", api.id),
        ("{api}", API.to_owned()),
        ("{grant}", grant.id),
        ("{user}", user.user_id),
        ("{email}", EMAIL.to_owned()),
        ("{password}", PASSWORD.to_owned()),
        ("{role}", role.id),
        ("{session}", session),
        ("{csrf_cookie}", CSRF.to_owned()),
        ("{management_token}", management),
        ("{origin}", SPA_ORIGIN.to_owned()),
    ];
    (state, values)
}

fn cookie_value(set_cookie: &HeaderValue, name: &str) -> String {
    let text = set_cookie.to_str().expect("ASCII cookie");
    let pair = text.split(';').next().expect("a pair");
    let (found, value) = pair.split_once('=').expect("name=value");
    assert_eq!(found, name);
    value.to_owned()
}

/// A client-credentials token with every Management API scope, from the router itself.
async fn management_token(state: &AppState) -> String {
    let body = format!(
        "grant_type=client_credentials&client_id={BOOTSTRAP_ID}&client_secret={BOOTSTRAP_SECRET}&audience={ISSUER}api/v2/"
    );
    let request = Request::post("/oauth/token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("request");
    let response = routes::router(state.clone())
        .oneshot(request)
        .await
        .expect("infallible router");
    assert_eq!(response.status(), StatusCode::OK, "management token");
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
    json["access_token"].as_str().expect("token").to_owned()
}
