//! The server's edge under hostile traffic: client addresses behind trusted proxies, rate
//! limits, slow and bloated request heads, and what `/metrics` and CORS let a client cost.

use std::{
    collections::HashSet,
    net::SocketAddr,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use futures::{future::join_all, stream, StreamExt};
use portcullis_server::settings::{ForwardedHeader, RateLimits, TrustedProxies};
use portcullis_store::{LogFilter, Page};
use portcullis_types::EventType;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{helpers::*, management_support::*};

fn trusting(networks: &str) -> TrustedProxies {
    TrustedProxies::new(
        TrustedProxies::parse_networks(networks).unwrap(),
        ForwardedHeader::XForwardedFor,
    )
}

/// The login form's hidden fields (`csrf`, `authorize_query`); the browser keeps the CSRF
/// cookie that goes with them.
async fn login_form(app: &TestApp, spa: &Spa) -> (String, String) {
    let (_, challenge) = pkce();
    let authorize = app.authorize_url(
        spa,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let response = app.browser.get(authorize).send().await.unwrap();
    let page = app.browser.get(app.url(&location(&response))).send().await;
    let html = page.unwrap().text().await.unwrap();
    (
        hidden_field(&html, "csrf"),
        hidden_field(&html, "authorize_query"),
    )
}

/// Submits the login form with `headers` added.
async fn submit_login(
    app: &TestApp,
    (csrf, query): &(String, String),
    email: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = app.browser.post(app.url("/u/login")).form(&[
        ("email", email),
        ("password", password),
        ("csrf", csrf),
        ("authorize_query", query),
    ]);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// The addresses in the audit log's entries of `event_type`.
async fn logged_ips(app: &TestApp, event_type: EventType) -> Vec<String> {
    let filter = LogFilter {
        event_type: Some(event_type),
        ..LogFilter::default()
    };
    let (entries, _) = app.store.list_logs(&filter, Page::ALL).await.unwrap();
    entries
        .into_iter()
        .map(|entry| entry.ip.unwrap_or_default())
        .collect()
}

async fn metrics_text(app: &TestApp) -> String {
    let response = app.browser.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// The value of the sample `series` (name and labels, exactly) in a Prometheus text.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn behind_a_trusted_proxy_failures_count_against_the_forwarded_address() {
    let app = spawn_app_with(|settings| settings.trusted_proxies = trusting("127.0.0.0/8")).await;
    let spa = app.create_spa(false).await;
    app.create_user("jane@example.com").await;
    let form = login_form(&app, &spa).await;

    // 100 wrong passwords through the proxy, from ten clients; each client also wrote an
    // X-Forwarded-For of its own, which the proxy kept on the left.
    let attempts = (0..100).map(|n| {
        let form = &form;
        let app = &app;
        async move {
            let forwarded = format!("6.6.6.6, 203.0.113.{}", n % 10 + 1);
            let email = format!("guess{n}@example.com");
            let response = submit_login(
                app,
                form,
                &email,
                "wrong",
                &[("x-forwarded-for", &forwarded)],
            )
            .await;
            response.status()
        }
    });
    let statuses: Vec<StatusCode> = stream::iter(attempts).buffer_unordered(4).collect().await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    let failed: HashSet<String> = logged_ips(&app, EventType::FailedLogin)
        .await
        .into_iter()
        .collect();
    let clients: HashSet<String> = (1..=10).map(|n| format!("203.0.113.{n}")).collect();
    assert_eq!(failed, clients, "the audit log names the forwarded clients");

    // Another client behind the same proxy is not locked out by them.
    let response = submit_login(
        &app,
        &form,
        "jane@example.com",
        PASSWORD,
        &[("x-forwarded-for", "198.51.100.7")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(logged_ips(&app, EventType::Login).await, ["198.51.100.7"]);
}

#[tokio::test]
async fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
    // Only 10.0.0.0/8 is trusted; the test's requests come from 127.0.0.1.
    let app = spawn_app_with(|settings| settings.trusted_proxies = trusting("10.0.0.0/8")).await;
    let spa = app.create_spa(false).await;
    let form = login_form(&app, &spa).await;
    let response = submit_login(
        &app,
        &form,
        "nobody@example.com",
        "wrong",
        &[
            ("x-forwarded-for", "203.0.113.5"),
            ("forwarded", "for=203.0.113.6"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        logged_ips(&app, EventType::FailedLogin).await,
        ["127.0.0.1"]
    );
}

#[tokio::test]
async fn rate_limits_answer_429_with_auth0s_headers_per_client_address() {
    let app = spawn_app_with(|settings| {
        settings.trusted_proxies = trusting("127.0.0.0/8");
        settings.rate_limits = RateLimits {
            token: 3,
            login: 1,
            signup: 1,
            userinfo: 1,
            management: 2,
        };
    })
    .await;
    app.create_api(false).await;
    let (client_id, secret) = app.create_m2m(&["read:messages"]).await;
    let token_request = |from: &'static str| {
        app.browser
            .post(app.url("/oauth/token"))
            .header("x-forwarded-for", from)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id.as_str()),
                ("client_secret", secret.as_str()),
                ("audience", API),
            ])
            .send()
    };

    // A success says how many are left of the limit.
    let first = token_request("203.0.113.1").await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["x-ratelimit-limit"], "3");
    assert_eq!(first.headers()["x-ratelimit-remaining"], "2");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let reset: u64 = header(&first, "x-ratelimit-reset").parse().unwrap();
    assert!((now..=now + 2).contains(&reset), "reset {reset}, now {now}");

    // A burst from one address is cut at the limit; another address is not affected.
    let burst = join_all((0..10).map(|_| token_request("203.0.113.1"))).await;
    let refused: Vec<_> = burst
        .into_iter()
        .map(Result::unwrap)
        .filter(|response| response.status() == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert!(refused.len() >= 5, "{} of 10 refused", refused.len());
    let refusal = refused.into_iter().next().unwrap();
    assert_eq!(refusal.headers()["x-ratelimit-limit"], "3");
    assert_eq!(refusal.headers()["x-ratelimit-remaining"], "0");
    let retry_after: u64 = header(&refusal, "retry-after").parse().unwrap();
    assert!((1..=2).contains(&retry_after), "Retry-After {retry_after}");
    assert!(
        header(&refusal, "x-ratelimit-reset")
            .parse::<u64>()
            .unwrap()
            >= now
    );
    let body: Value = refusal.json().await.unwrap();
    assert_eq!(body["error"], "too_many_requests");
    assert!(body["error_description"].is_string());
    let elsewhere = token_request("203.0.113.2").await.unwrap();
    assert_eq!(elsewhere.status(), StatusCode::OK);

    // The Management API answers in its own error shape.
    let management = join_all((0..6).map(|_| {
        app.browser
            .get(app.url("/api/v2/clients"))
            .header("x-forwarded-for", "203.0.113.3")
            .send()
    }))
    .await;
    let statuses: Vec<_> = management
        .iter()
        .map(|r| r.as_ref().unwrap().status())
        .collect();
    assert!(
        statuses.contains(&StatusCode::UNAUTHORIZED),
        "without a token, until the limit: {statuses:?}"
    );
    let refusal = management
        .into_iter()
        .map(Result::unwrap)
        .find(|response| response.status() == StatusCode::TOO_MANY_REQUESTS)
        .expect("a refusal");
    assert!(refusal.headers().contains_key("retry-after"));
    let body: Value = refusal.json().await.unwrap();
    assert_eq!(
        (&body["statusCode"], &body["error"], &body["errorCode"]),
        (
            &json!(429),
            &json!("Too Many Requests"),
            &json!("too_many_requests")
        )
    );

    // /userinfo, and the login and sign-up forms' submissions (not their pages).
    let userinfo = join_all((0..4).map(|_| {
        app.browser
            .get(app.url("/userinfo"))
            .header("x-forwarded-for", "203.0.113.4")
            .send()
    }))
    .await;
    assert!(userinfo
        .iter()
        .any(|r| r.as_ref().unwrap().status() == StatusCode::TOO_MANY_REQUESTS));
    let spa = app.create_spa(false).await;
    let form = login_form(&app, &spa).await;
    for path in ["/u/login", "/u/signup"] {
        let pages = join_all((0..4).map(|_| {
            app.browser
                .get(app.url(&format!("{path}?{}", form.1)))
                .header("x-forwarded-for", "203.0.113.5")
                .send()
        }))
        .await;
        assert!(pages
            .iter()
            .all(|r| r.as_ref().unwrap().status() == StatusCode::OK));
        let posts = join_all((0..4).map(|_| {
            app.browser
                .post(app.url(path))
                .header("x-forwarded-for", "203.0.113.5")
                .form(&[("email", "x@example.com"), ("csrf", form.0.as_str())])
                .send()
        }))
        .await;
        let refused = posts
            .into_iter()
            .map(Result::unwrap)
            .find(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
            .unwrap_or_else(|| panic!("{path}: no refusal"));
        assert!(header(&refused, "content-type").starts_with("text/html"));
    }

    let metrics = metrics_text(&app).await;
    assert!(
        sample(&metrics, "portcullis_rate_limited_total{group=\"token\"}") >= Some(5.0),
        "{metrics}"
    );
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response.headers()[name].to_str().unwrap().to_owned()
}

fn socket(app: &TestApp) -> SocketAddr {
    let port = app.base.rsplit(':').next().unwrap().parse().unwrap();
    SocketAddr::from(([127, 0, 0, 1], port))
}

#[tokio::test]
async fn a_client_sending_its_headers_slowly_is_disconnected() {
    let app = spawn_app_with(|settings| {
        settings.connections.header_read_timeout = Duration::from_secs(2);
    })
    .await;
    let started = Instant::now();
    let (mut reader, mut writer) = TcpStream::connect(socket(&app)).await.unwrap().into_split();
    writer
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .unwrap();
    // One byte every half second for up to 15 s, until the server hangs up.
    let drip = async {
        for _ in 0..30 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if writer.write_all(b"a").await.is_err() {
                break;
            }
        }
    };
    let mut answer = Vec::new();
    tokio::select! {
        _ = reader.read_to_end(&mut answer) => {}
        () = drip => panic!("still connected after 15 s"),
    }
    let held = started.elapsed();
    assert!(
        held < Duration::from_secs(5),
        "closed after {held:?}, with a 2 s header read timeout"
    );
    assert!(
        !String::from_utf8_lossy(&answer).contains("200 OK"),
        "{answer:?}"
    );

    // A client that connects and sends nothing, or the start of HTTP/2's preface one byte a
    // second, is hung up on too.
    for opening in [&b""[..], b"P", b"PRI * HTTP/2.0\r\n"] {
        let started = Instant::now();
        let mut stream = TcpStream::connect(socket(&app)).await.unwrap();
        stream.write_all(opening).await.unwrap();
        let mut answer = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
        assert!(read.is_ok(), "{opening:?}: still connected after 10 s");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{opening:?}: closed after {:?}",
            started.elapsed()
        );
    }

    // The server still answers everyone else, and stops gracefully.
    let health = app.browser.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let mut app = app;
    tokio::time::timeout(Duration::from_secs(15), app.stop())
        .await
        .expect("graceful shutdown");
}

#[tokio::test]
async fn a_huge_request_head_is_refused_not_read() {
    let app = spawn_app().await;
    // Under the default 16 KiB limit: served.
    let fine = app
        .browser
        .get(app.url("/healthz"))
        .header("x-padding", "a".repeat(10 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(fine.status(), StatusCode::OK);

    let mut stream = TcpStream::connect(socket(&app)).await.unwrap();
    let mut request = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: ".to_vec();
    request.extend(std::iter::repeat_n(b'a', 64 * 1024));
    request.extend(b"\r\n\r\n");
    // The server may hang up before it has read everything.
    let _ = stream.write_all(&request).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server neither answered nor hung up");
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );
}

#[tokio::test]
async fn request_metrics_name_unknown_methods_other() {
    let app = spawn_app().await;
    for method in ["BREW", "X-ANYTHING-GOES"] {
        app.browser
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                app.url("/healthz"),
            )
            .send()
            .await
            .unwrap();
    }
    let metrics = metrics_text(&app).await;
    assert!(
        !metrics.contains("BREW") && !metrics.contains("X-ANYTHING"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "portcullis_http_requests_total{route=\"/healthz\",method=\"other\",status=\"405\"} 2"
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn metrics_can_have_a_listener_of_their_own() {
    // A free port for the metrics listener.
    let metrics_listen = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app = spawn_app_with(|settings| settings.metrics_listen = Some(metrics_listen)).await;
    app.browser.get(app.url("/healthz")).send().await.unwrap();
    let main = app.browser.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(main.status(), StatusCode::NOT_FOUND);
    let own = app
        .browser
        .get(format!("http://{metrics_listen}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    let text = own.text().await.unwrap();
    assert!(
        text.contains(
            "portcullis_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1"
        ),
        "{text}"
    );
    let elsewhere = app
        .browser
        .get(format!("http://{metrics_listen}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
    // Both listeners stop with the server.
    let mut app = app;
    tokio::time::timeout(Duration::from_secs(15), app.stop())
        .await
        .expect("graceful shutdown");
    assert!(app
        .browser
        .get(format!("http://{metrics_listen}/metrics"))
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn a_flood_of_unknown_origins_does_not_reload_the_caches() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let preflight = |origin: String| {
        app.browser
            .request(Method::OPTIONS, app.url("/oauth/token"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let before = metrics_text(app).await;
    let started = Instant::now();
    // 200 made-up origins in waves over two seconds.
    for wave in 0..10 {
        let answers =
            join_all((0..20).map(|n| preflight(format!("https://spa{wave}-{n}.example")))).await;
        assert!(answers.into_iter().all(|answer| answer
            .unwrap()
            .headers()
            .get("access-control-allow-origin")
            .is_none()));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let elapsed = started.elapsed();
    let after = metrics_text(app).await;
    let origins = r#"portcullis_cache_reloads_total{scope="origins"}"#;
    let all = r#"portcullis_cache_reloads_total{scope="all"}"#;
    let origin_reads =
        sample(&after, origins).unwrap_or(0.0) - sample(&before, origins).unwrap_or(0.0);
    // At most one read of the origins a second, whatever the flood.
    assert!(
        origin_reads <= elapsed.as_secs_f64().ceil() + 1.0,
        "{origin_reads} reads of the origins in {elapsed:?}"
    );
    // Full reloads only on the test server's 1 s schedule.
    // The server reloads everything once at start, so the series is there.
    let full = sample(&after, all).expect("full reloads") - sample(&before, all).expect("at start");
    assert!(
        full <= elapsed.as_secs_f64().ceil() + 2.0,
        "{full} full reloads in {elapsed:?}"
    );

    // An origin refused once works as soon as a client registers it here.
    let origin = "https://new-spa.example";
    let refused = preflight(origin.into()).await.unwrap();
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let (status, _) = mgmt
        .post(
            "/clients",
            json!({"name": "New SPA", "app_type": "spa", "web_origins": [origin]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let allowed = preflight(origin.into()).await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], origin);
}
