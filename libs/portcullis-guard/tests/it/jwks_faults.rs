//! The JWKS endpoint misbehaving after the guard has loaded its keys: down (connection
//! refused), slower than the fetch timeout, answering garbage, answering a document over the
//! size cap. In every case tokens signed with a cached key keep passing, tokens naming an
//! unknown kid get a 401 within a bound, refetches stay within the per-minute limit, and no
//! request waits longer than one fetch timeout.

use std::{
    sync::{
        atomic::{AtomicU8, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use serde_json::{json, Value};

use crate::support::*;

/// The guard's fetch timeout in these tests.
const FETCH_TIMEOUT: Duration = Duration::from_millis(300);
/// Refetches the guard may make per minute.
const PER_MINUTE: u32 = 4;
/// The longest any request may take: one fetch timeout, plus scheduling on a busy machine.
const REQUEST_BOUND: Duration = Duration::from_millis(1500);

/// How the endpoint behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Mode {
    Healthy = 0,
    /// The listener is closed: connections are refused.
    Down = 1,
    /// Answers after three times the fetch timeout.
    Slow = 2,
    /// Answers 200 with a body that is not JSON.
    Garbage = 3,
    /// Answers 200 with a valid JWKS padded past the guard's size cap.
    Oversized = 4,
}

struct Endpoint {
    mode: AtomicU8,
    fetches: AtomicUsize,
    document: Value,
}

/// A JWKS endpoint on 127.0.0.1 whose behaviour the test switches; `Down` really closes the
/// listening socket, and `Healthy` binds the same port again.
struct FaultyJwks {
    address: std::net::SocketAddr,
    state: Arc<Endpoint>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl FaultyJwks {
    async fn start(document: Value) -> FaultyJwks {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let address = listener.local_addr().expect("address");
        let state = Arc::new(Endpoint {
            mode: AtomicU8::new(Mode::Healthy as u8),
            fetches: AtomicUsize::new(0),
            document,
        });
        let mut server = FaultyJwks {
            address,
            state,
            task: None,
        };
        server.serve(listener);
        server
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let app = Router::new()
            .route("/.well-known/jwks.json", get(answer))
            .with_state(self.state.clone());
        self.task = Some(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }));
    }

    fn issuer(&self) -> String {
        format!("http://{}/", self.address)
    }

    fn fetches(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }

    async fn set(&mut self, mode: Mode) {
        self.state.mode.store(mode as u8, Ordering::SeqCst);
        match (mode, self.task.is_some()) {
            (Mode::Down, true) => {
                if let Some(task) = self.task.take() {
                    task.abort();
                    let _ = task.await;
                }
            }
            (Mode::Down, false) | (_, true) => {}
            (_, false) => {
                let listener = tokio::net::TcpListener::bind(self.address)
                    .await
                    .expect("bind the same port again");
                self.serve(listener);
            }
        }
    }
}

impl Drop for FaultyJwks {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn answer(State(state): State<Arc<Endpoint>>) -> Response {
    state.fetches.fetch_add(1, Ordering::SeqCst);
    let json = [(header::CONTENT_TYPE, "application/json")];
    match state.mode.load(Ordering::SeqCst) {
        m if m == Mode::Slow as u8 => {
            tokio::time::sleep(FETCH_TIMEOUT * 3).await;
            (json, state.document.to_string()).into_response()
        }
        m if m == Mode::Garbage as u8 => {
            (json, "{\"keys\": [{\"kty\": \"RSA\", \"n\": ").into_response()
        }
        m if m == Mode::Oversized as u8 => {
            let mut document = state.document.clone();
            document["padding"] = Value::String("x".repeat(256 * 1024));
            (json, document.to_string()).into_response()
        }
        m if m == Mode::Healthy as u8 => (json, state.document.to_string()).into_response(),
        _ => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// A token signed by a key the issuer never published, under a kid never seen before.
fn unknown_kid_token(issuer: &str, n: usize) -> String {
    let header = json!({ "alg": "RS256", "typ": "JWT", "kid": format!("unknown-{n}") });
    sign(&header, &claims(issuer), &ATTACKER)
}

async fn timed(app: &axum::Router, token: &str) -> (StatusCode, Duration) {
    let started = Instant::now();
    let answer = call(app, "/private", Some(token)).await;
    (answer.status, started.elapsed())
}

async fn faulty_endpoint(mode: Mode) {
    let mut server = FaultyJwks::start(jwks(&[&KEY])).await;
    let issuer = server.issuer();
    let guard = portcullis_guard::Guard::builder(issuer.clone())
        .audience(AUDIENCE)
        .key_cache_lifetime(Duration::from_millis(200))
        .jwks_fetch_timeout(FETCH_TIMEOUT)
        .jwks_requests_per_minute(PER_MINUTE)
        .unknown_kid_cooldown(Duration::ZERO)
        .max_jwks_bytes(64 * 1024)
        .build()
        .expect("guard");
    let app = app(guard);
    assert_eq!(timed(&app, &valid_token(&issuer, &KEY)).await.0, 200);
    let before = server.fetches();

    server.set(mode).await;
    // Past the key set's lifetime: every request below may try a refresh.
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Cached keys keep passing, concurrently, none waiting past one fetch timeout.
    let valid: Vec<_> = (0..20)
        .map(|_| {
            let app = app.clone();
            let token = valid_token(&issuer, &KEY);
            tokio::spawn(async move { timed(&app, &token).await })
        })
        .collect();
    for task in valid {
        let (status, took) = task.await.expect("request task");
        assert_eq!(status, 200, "{mode:?}: a token signed with a cached key");
        assert!(
            took < REQUEST_BOUND,
            "{mode:?}: a valid token took {took:?}"
        );
    }

    // Unknown kids: 401 within the bound, and the endpoint is not hammered.
    let storm: Vec<_> = (0..100)
        .map(|n| {
            let app = app.clone();
            let token = unknown_kid_token(&issuer, n);
            tokio::spawn(async move { timed(&app, &token).await })
        })
        .collect();
    for task in storm {
        let (status, took) = task.await.expect("request task");
        assert_eq!(status, 401, "{mode:?}: an unknown kid");
        assert!(
            took < REQUEST_BOUND,
            "{mode:?}: an unknown kid took {took:?}"
        );
    }
    let refetches = server.fetches() - before;
    assert!(
        refetches <= PER_MINUTE as usize + 1,
        "{mode:?}: {refetches} fetches, more than the per-minute limit"
    );

    // Back to healthy: the cached key still passes (the refetch budget is spent, so nothing
    // new is needed from the endpoint).
    server.set(Mode::Healthy).await;
    assert_eq!(timed(&app, &valid_token(&issuer, &KEY)).await.0, 200);
}

#[tokio::test]
async fn jwks_endpoint_down() {
    faulty_endpoint(Mode::Down).await;
}

#[tokio::test]
async fn jwks_endpoint_slower_than_the_timeout() {
    faulty_endpoint(Mode::Slow).await;
}

#[tokio::test]
async fn jwks_endpoint_answering_garbage() {
    faulty_endpoint(Mode::Garbage).await;
}

#[tokio::test]
async fn jwks_endpoint_answering_an_oversized_document() {
    faulty_endpoint(Mode::Oversized).await;
}
