use std::sync::Arc;

use portcullis_core::clock::MockClock;
use portcullis_server::{settings::TlsFiles, Application, Settings};
use portcullis_store::Store;
use portcullis_store_sqlite::SqliteStore;
use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn serves_https_with_a_given_certificate_and_marks_cookies_secure() {
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut settings = Settings::new(vec![1u8; 32]);
    settings.issuer = format!("https://localhost:{port}/");
    settings.tls = Some(TlsFiles { cert, key });
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("tls.db")).await.unwrap());
    let clock = Arc::new(MockClock::new());
    let application = Application::build_on(listener, settings, store.clone(), clock.clone())
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));

    // The client trusts only this certificate; no verification is turned off.
    let client = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap(),
        )
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let discovery: serde_json::Value = client
        .get(format!(
            "https://localhost:{port}/.well-known/openid-configuration"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], format!("https://localhost:{port}/"));
    assert_eq!(
        discovery["token_endpoint"],
        format!("https://localhost:{port}/oauth/token")
    );

    // Under https the login-page cookies are Secure.
    let cx = portcullis_core::admin::Context::new(store.clone(), clock.clone(), &[1u8; 32]);
    let (client_record, _) = portcullis_core::admin::applications::create(
        &cx,
        &portcullis_core::admin::Actor::System,
        portcullis_core::admin::applications::NewClient {
            name: "SPA".into(),
            app_type: Some(portcullis_store::AppType::Spa),
            callbacks: vec![SPA_ORIGIN.into()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let login = client
        .get(format!("https://localhost:{port}/u/login?client_id={}&redirect_uri={SPA_ORIGIN}&response_type=code", client_record.client_id))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
