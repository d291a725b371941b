//! Auth0's official Node SDK (`auth0` on npm, `ManagementClient`) against Portcullis over
//! https: the SDK creates an API with a scope, an SPA and a user (and reads them back, reads and
//! updates the database connection, creates tickets and opens the password-change link's page,
//! sets the user's metadata, sets up RBAC, reads the logs),
//! then the user logs in through the server and the access token is
//! checked. The SDK speaks only https, so the server gets a certificate from a throwaway CA
//! made here, which Node trusts through `NODE_EXTRA_CA_CERTS`: no check is turned off.

use std::{path::PathBuf, process::Stdio, sync::Arc};

use portcullis_core::clock::MockClock;
use portcullis_server::{
    settings::{BootstrapCredentials, TlsFiles},
    Application, Settings,
};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use reqwest::StatusCode;
use serde_json::Value;

use crate::{helpers::*, management_support::*};

/// The folder with the SDK's package.json and lockfile.
fn sdk_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/management-sdk")
}

/// `npm ci` when node_modules is missing or older than the lockfile.
async fn install_sdk() {
    let dir = sdk_dir();
    let lock = dir.join("package-lock.json");
    let stamp = dir.join("node_modules/.package-lock.json");
    let modified = |path: &PathBuf| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    if modified(&stamp).is_some_and(|stamp| modified(&lock).is_some_and(|lock| stamp >= lock)) {
        return;
    }
    let status = tokio::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .status()
        .await
        .expect("npm is needed for this test: run scripts/install-test-deps.sh");
    assert!(status.success(), "npm ci failed in {}", dir.display());
}

/// A throwaway CA and a certificate for `localhost` it signed: (CA PEM, cert PEM, key PEM).
fn throwaway_pki() -> (String, String, String) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Portcullis test CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

#[tokio::test]
async fn the_official_node_sdk_provisions_a_tenant_whose_user_then_logs_in() {
    install_sdk().await;
    let dir = tempfile::tempdir().unwrap();
    let (ca_pem, cert_pem, key_pem) = throwaway_pki();
    let (ca, cert, key) = (
        dir.path().join("ca.pem"),
        dir.path().join("cert.pem"),
        dir.path().join("key.pem"),
    );
    std::fs::write(&ca, &ca_pem).unwrap();
    std::fs::write(&cert, cert_pem).unwrap();
    std::fs::write(&key, key_pem).unwrap();

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let base = format!("https://localhost:{port}");
    let mut settings = Settings::new(vec![3u8; 32]);
    settings.issuer = format!("{base}/");
    settings.tls = Some(TlsFiles { cert, key });
    settings.bootstrap_client = Some(BootstrapCredentials {
        client_id: BOOTSTRAP_ID.into(),
        client_secret: BOOTSTRAP_SECRET.into(),
    });
    let store = test_store(&dir).await;
    let application = Application::build_on(
        listener,
        settings,
        store.clone(),
        Arc::new(MockClock::new()),
    )
    .await
    .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));

    let email = "jane@example.com";
    let output = tokio::process::Command::new("node")
        .arg("sdk.mjs")
        .current_dir(sdk_dir())
        .env("NODE_EXTRA_CA_CERTS", &ca)
        .env("PORTCULLIS_DOMAIN", format!("localhost:{port}"))
        .env("PORTCULLIS_CLIENT_ID", BOOTSTRAP_ID)
        .env("PORTCULLIS_CLIENT_SECRET", BOOTSTRAP_SECRET)
        .env("SPA_ORIGIN", SPA_ORIGIN)
        .env("API_IDENTIFIER", API)
        .env("USER_EMAIL", email)
        .env("USER_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("node is needed for this test: run scripts/install-test-deps.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the SDK script failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let created: Value = serde_json::from_str(stdout.trim().lines().last().unwrap()).unwrap();
    let client_id = created["client_id"].as_str().unwrap();
    // The SDK's change to the connection is the store's.
    let connection = store.database_connection().await.unwrap();
    assert_eq!(created["connection_id"], connection.id.as_str());
    assert_eq!(connection.password_policy.as_str(), "good");

    // The user logs in through the server, as the SPA would send them: authorize, the hosted
    // login page, back to authorize, a code, the token endpoint.
    let browser = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let (verifier, challenge) = pkce();
    let mut authorize = url::Url::parse(&format!("{base}/authorize")).unwrap();
    authorize.query_pairs_mut().extend_pairs([
        ("client_id", client_id),
        ("redirect_uri", SPA_ORIGIN),
        ("response_type", "code"),
        ("scope", "openid profile email read:messages"),
        ("audience", API),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("state", "xyz"),
    ]);
    let response = browser.get(authorize.as_str()).send().await.unwrap();
    let login_path = location(&response);
    assert!(login_path.starts_with("/u/login?"), "{login_path}");
    let html = browser
        .get(format!("{base}{login_path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let submitted = browser
        .post(format!("{base}/u/login"))
        .form(&[
            ("email", email),
            ("password", PASSWORD),
            ("csrf", &hidden_field(&html, "csrf")),
            ("authorize_query", &hidden_field(&html, "authorize_query")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), StatusCode::SEE_OTHER);
    let back = browser
        .get(format!("{base}{}", location(&submitted)))
        .send()
        .await
        .unwrap();
    let callback = callback_params(&location(&back));
    assert_eq!(callback["state"], "xyz");
    let tokens: Value = browser
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", &callback["code"]),
            ("code_verifier", &verifier),
            ("redirect_uri", SPA_ORIGIN),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access_token = tokens["access_token"].as_str().expect("an access token");

    // Verified as the API would: our JWKS, our issuer, the API's audience.
    let jwks: jsonwebtoken::jwk::JwkSet = browser
        .get(format!("{base}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(access_token).unwrap();
    let jwk = jwks.find(&header.kid.unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[format!("{base}/")]);
    validation.set_audience(&[API]);
    let claims = jsonwebtoken::decode::<Value>(
        access_token,
        &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .unwrap()
    .claims;
    assert!(claims["aud"]
        .as_array()
        .is_some_and(|aud| aud.iter().any(|a| a == API)));
    assert_eq!(claims["sub"], created["user_id"]);
    assert_eq!(claims["azp"], client_id);
    let scopes: Vec<&str> = claims["scope"].as_str().unwrap().split(' ').collect();
    assert!(scopes.contains(&"read:messages"), "{scopes:?}");

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
