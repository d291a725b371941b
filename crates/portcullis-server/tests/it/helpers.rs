use std::{collections::HashMap, sync::Arc};

use aws_lc_rs::digest;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{jwk::JwkSet, Algorithm, DecodingKey, Validation};
use portcullis_core::{
    admin::{
        apis::{self, NewApi},
        applications::{self, NewClient},
        grants,
        users::{self, NewUser},
        Actor, Context,
    },
    clock::MockClock,
    secrets::SecretHasher,
};
use portcullis_server::{AppState, Application, Settings};
use portcullis_store::{AppType, ScopeDefinition, Store};
use portcullis_store_postgres::{PgStore, PoolLimits};
use portcullis_store_sqlite::SqliteStore;
use portcullis_types::GrantType;
use reqwest::{redirect::Policy, StatusCode};
use serde_json::Value;

pub const API: &str = "https://quickstarts/api";
pub const SPA_ORIGIN: &str = "http://localhost:3000";
pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub base: String,
    pub issuer: String,
    pub store: Arc<dyn Store>,
    pub clock: Arc<MockClock>,
    pub hasher: SecretHasher,
    pub master_key: Vec<u8>,
    pub state: AppState,
    /// The administrative operations, for setup that is not under test (acting as the
    /// server itself, so that nothing of it reaches the audit log).
    pub cx: Context,
    /// A browser: keeps cookies, does not follow redirects.
    pub browser: reqwest::Client,
    _data_dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
    }
}

pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .cookie_store(true)
        .build()
        .expect("client")
}

/// A fresh store for one test: SQLite in `data_dir`, or, with
/// `PORTCULLIS_TEST_BACKEND=postgres`, a new database on the test process's throwaway
/// PostgreSQL cluster.
pub async fn test_store(data_dir: &tempfile::TempDir) -> Arc<dyn Store> {
    match std::env::var("PORTCULLIS_TEST_BACKEND").as_deref() {
        Ok("postgres") => {
            let url = portcullis_testkit::postgres::fresh_database().await;
            let limits = PoolLimits {
                max_connections: 8,
                min_connections: 0,
            };
            let store = PgStore::connect_with(&url, limits)
                .await
                .expect("postgres store");
            Arc::new(store)
        }
        Ok("sqlite") | Err(_) => {
            let store = SqliteStore::open(&data_dir.path().join("test.db"))
                .await
                .expect("store");
            Arc::new(store)
        }
        Ok(other) => panic!("PORTCULLIS_TEST_BACKEND must be sqlite or postgres, not {other}"),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// [`spawn_app`] with settings adjusted by `configure` before the server is built.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let store = test_store(&data_dir).await;
    spawn_app_on(data_dir, store, configure).await
}

/// [`spawn_app_with`] on a store the test opened itself.
pub async fn spawn_app_on(
    data_dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    // `localhost`, like the SDK samples, so cookies behave as in a browser on one host name.
    let issuer = format!("http://localhost:{port}/");
    let master_key = vec![42u8; 32];
    let mut settings = Settings::new(master_key.clone());
    settings.issuer = issuer.clone();
    settings.listen = listener.local_addr().expect("addr");
    settings.cache_refresh_seconds = 1;
    configure(&mut settings);
    let clock = Arc::new(MockClock::new());
    let application = Application::build_on(listener, settings, store.clone(), clock.clone())
        .await
        .expect("build");
    let state = application.state().clone();
    let cx = state.admin.cx.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));
    TestApp {
        base: format!("http://localhost:{port}"),
        issuer,
        store,
        clock,
        hasher: SecretHasher::new(&master_key),
        master_key,
        state,
        cx,
        browser: browser(),
        _data_dir: data_dir,
        shutdown: Some(stop),
        server: Some(server),
    }
}

/// A registered SPA and the values a test needs about it.
pub struct Spa {
    pub client_id: String,
    pub redirect_uri: String,
}

/// PKCE pair (verifier, S256 challenge).
pub fn pkce() -> (String, String) {
    let verifier = portcullis_core::secrets::random_token(32);
    let challenge =
        URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref());
    (verifier, challenge)
}

impl TestApp {
    /// The folder of the test's SQLite file (`test.db`), empty on PostgreSQL.
    pub fn data_dir(&self) -> &std::path::Path {
        self._data_dir.path()
    }

    /// Shuts the server down gracefully and waits until it has finished.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server");
        }
    }

    /// After a test wrote applications, APIs, grants or Action bindings straight to the
    /// store: the server forgets its copy, as its Management API does after a write.
    pub fn tenant_changed(&self) {
        self.state.tenant.invalidate();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn create_api(&self, offline: bool) {
        apis::create(
            &self.cx,
            &Actor::System,
            NewApi {
                name: "Quickstart API".into(),
                identifier: API.into(),
                scopes: vec![ScopeDefinition {
                    value: "read:messages".into(),
                    description: "Read messages".into(),
                }],
                token_lifetime: None,
                allow_offline_access: offline,
                enforce_policies: false,
                token_dialect: None,
            },
        )
        .await
        .expect("api");
    }

    pub async fn create_spa(&self, implicit: bool) -> Spa {
        let mut grant_types = vec![GrantType::AuthorizationCode, GrantType::RefreshToken];
        if implicit {
            grant_types.push(GrantType::Implicit);
        }
        let (client, secret) = applications::create(
            &self.cx,
            &Actor::System,
            NewClient {
                name: "Quickstart SPA".into(),
                app_type: Some(AppType::Spa),
                callbacks: vec![SPA_ORIGIN.into(), format!("{SPA_ORIGIN}/callback")],
                allowed_logout_urls: vec![SPA_ORIGIN.into()],
                web_origins: vec![SPA_ORIGIN.into()],
                grant_types: Some(grant_types),
                ..NewClient::default()
            },
        )
        .await
        .expect("client");
        assert!(secret.is_none(), "an SPA is public");
        Spa {
            client_id: client.client_id,
            redirect_uri: SPA_ORIGIN.into(),
        }
    }

    /// A machine client granted `scopes` of the API; returns (client_id, secret).
    pub async fn create_m2m(&self, scopes: &[&str]) -> (String, String) {
        let (client, secret) = applications::create(
            &self.cx,
            &Actor::System,
            NewClient {
                name: "M2M".into(),
                app_type: Some(AppType::NonInteractive),
                ..NewClient::default()
            },
        )
        .await
        .expect("client");
        grants::create(
            &self.cx,
            &Actor::System,
            &client.client_id,
            API,
            scopes.iter().map(|s| (*s).to_owned()).collect(),
        )
        .await
        .expect("grant");
        let secret = secret.expect("confidential").into_inner();
        (client.client_id, secret)
    }

    pub async fn create_user(&self, email: &str) -> String {
        let user = users::create(
            &self.cx,
            &Actor::System,
            NewUser {
                email: email.into(),
                password: PASSWORD.into(),
                email_verified: true,
                ..NewUser::default()
            },
        )
        .await
        .expect("user");
        user.user_id
    }

    /// An /authorize URL for the SPA's code flow with PKCE.
    pub fn authorize_url(&self, spa: &Spa, extra: &[(&str, &str)]) -> String {
        let mut params = vec![
            ("client_id", spa.client_id.as_str()),
            ("redirect_uri", spa.redirect_uri.as_str()),
            ("response_type", "code"),
            ("scope", "openid profile email read:messages"),
        ];
        for (key, value) in extra {
            // An extra parameter replaces a default of the same name.
            params.retain(|(k, _)| k != key);
            params.push((key, value));
        }
        let mut url = url::Url::parse(&self.url("/authorize")).expect("url");
        url.query_pairs_mut().extend_pairs(params);
        url.to_string()
    }

    /// Follows /authorize to the login page (unless the browser is signed in already), submits
    /// the form, and returns the server's final answer (the redirect to the client).
    pub async fn login_via_form(
        &self,
        browser: &reqwest::Client,
        authorize_url: &str,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        let response = browser.get(authorize_url).send().await.expect("authorize");
        assert!(
            response.status().is_redirection(),
            "authorize should redirect to login, got {}",
            response.status()
        );
        let login_path = location(&response);
        if !login_path.starts_with("/u/login?") {
            // Already signed in: the server answered the client directly.
            return response;
        }
        let page = browser
            .get(self.url(&login_path))
            .send()
            .await
            .expect("login page");
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("html");
        let csrf = hidden_field(&html, "csrf");
        let authorize_query = hidden_field(&html, "authorize_query");
        let submitted = browser
            .post(self.url("/u/login"))
            .form(&[
                ("email", email),
                ("password", password),
                ("csrf", &csrf),
                ("authorize_query", &authorize_query),
            ])
            .send()
            .await
            .expect("submit");
        if submitted.status() != StatusCode::SEE_OTHER {
            return submitted;
        }
        let back = location(&submitted);
        assert!(back.starts_with("/authorize?"), "login went back to {back}");
        browser
            .get(self.url(&back))
            .send()
            .await
            .expect("authorize again")
    }

    /// Logs in through the form and returns the callback's query parameters.
    pub async fn login_for_code(
        &self,
        browser: &reqwest::Client,
        spa: &Spa,
        email: &str,
        extra: &[(&str, &str)],
    ) -> (HashMap<String, String>, String) {
        let (verifier, challenge) = pkce();
        let mut params = vec![
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("state", "st+/=te"),
            ("nonce", "n0+nce/="),
        ];
        params.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        params.extend_from_slice(extra);
        let response = self
            .login_via_form(browser, &self.authorize_url(spa, &params), email, PASSWORD)
            .await;
        assert_eq!(response.status(), StatusCode::FOUND);
        (callback_params(&location(&response)), verifier)
    }

    pub async fn exchange_code(&self, spa: &Spa, code: &str, verifier: &str) -> reqwest::Response {
        self.browser
            .post(self.url("/oauth/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", &spa.client_id),
                ("code", code),
                ("code_verifier", verifier),
                ("redirect_uri", &spa.redirect_uri),
            ])
            .send()
            .await
            .expect("token")
    }

    /// Exchanges `code` and verifies the ID token it brings: the token response and the ID
    /// token's claims.
    pub async fn tokens_for_code(&self, spa: &Spa, code: &str, verifier: &str) -> (Value, Value) {
        let tokens: Value = self
            .exchange_code(spa, code, verifier)
            .await
            .json()
            .await
            .expect("json");
        let id_token = self
            .verify(
                tokens["id_token"].as_str().expect("id token"),
                &spa.client_id,
            )
            .await;
        (tokens, id_token)
    }

    pub async fn jwks(&self) -> JwkSet {
        self.browser
            .get(self.url("/.well-known/jwks.json"))
            .send()
            .await
            .expect("jwks")
            .json()
            .await
            .expect("jwks json")
    }

    /// Verifies a token against the published JWKS the way an API would; returns its claims.
    pub async fn verify(&self, token: &str, audience: &str) -> Value {
        let header = jsonwebtoken::decode_header(token).expect("header");
        assert_eq!(header.alg, Algorithm::RS256);
        let kid = header.kid.expect("kid");
        let jwks = self.jwks().await;
        let jwk = jwks.find(&kid).expect("kid published");
        let key = DecodingKey::from_jwk(jwk).expect("key");
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub", "iat"]);
        jsonwebtoken::decode::<Value>(token, &key, &validation)
            .expect("token verifies")
            .claims
    }
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .expect("location header")
        .to_str()
        .expect("ascii")
        .to_owned()
}

/// Posts the form of a hosted page (`html`) to `action` as a browser does: the page's CSRF
/// value and authorization request, then `fields`.
pub async fn post_hosted_form(
    app: &TestApp,
    browser: &reqwest::Client,
    html: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let csrf = hidden_field(html, "csrf");
    let authorize_query = hidden_field(html, "authorize_query");
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf), ("authorize_query", &authorize_query)];
    form.extend_from_slice(fields);
    browser
        .post(app.url(action))
        .form(&form)
        .send()
        .await
        .expect("post the hosted form")
}

pub fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name}"))
        + marker.len();
    let end = html[start..].find('"').expect("end quote") + start;
    html[start..end]
        .replace("&amp;", "&")
        .replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

/// Query parameters of a redirect URL.
pub fn callback_params(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .expect("callback url")
        .query_pairs()
        .into_owned()
        .collect()
}

/// Fragment parameters of a redirect URL.
pub fn fragment_params(url: &str) -> HashMap<String, String> {
    let parsed = url::Url::parse(url).expect("callback url");
    url::form_urlencoded::parse(parsed.fragment().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}
