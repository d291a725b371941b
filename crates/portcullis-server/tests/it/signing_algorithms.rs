//! Each API chooses how its access tokens are signed: RS256, PS256 and ES256 with keys of the
//! ring (published, one algorithm per key, rotated per algorithm), HS256 with a secret of the
//! API (shown, rotatable, never published). ID tokens stay RS256.

use jsonwebtoken::{jwk::JwkSet, Algorithm, DecodingKey, Validation};
use portcullis_core::{
    admin::{
        apis::{self, ApiChanges, NewApi},
        applications::{self, NewClient},
        grants, Actor,
    },
    clock::SystemClock,
};
use portcullis_store::AppType;
use portcullis_types::SigningAlg;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    helpers::*,
    management_support::{assert_error, client_credentials, spawn_mgmt},
};

/// A machine client granted the API `audience`; returns (client_id, secret).
pub async fn m2m_for(app: &TestApp, audience: &str) -> (String, String) {
    let (client, secret) = applications::create(
        &app.cx,
        &Actor::System,
        NewClient {
            name: format!("M2M for {audience}"),
            app_type: Some(AppType::NonInteractive),
            ..NewClient::default()
        },
    )
    .await
    .expect("client");
    grants::create(
        &app.cx,
        &Actor::System,
        &client.client_id,
        audience,
        vec!["read:messages".to_owned()],
    )
    .await
    .expect("grant");
    app.tenant_changed();
    (client.client_id, secret.expect("confidential").into_inner())
}

/// Creates the API `identifier` signing with `alg`, and reloads the server's caches.
pub async fn api_with(
    app: &TestApp,
    identifier: &str,
    alg: SigningAlg,
) -> portcullis_store::ResourceServer {
    let api = apis::create_with(
        &app.cx,
        &Actor::System,
        NewApi {
            name: identifier.into(),
            identifier: identifier.into(),
            scopes: vec![portcullis_store::ScopeDefinition {
                value: "read:messages".into(),
                description: "Read messages".into(),
            }],
            token_lifetime: None,
            allow_offline_access: true,
            enforce_policies: false,
            token_dialect: None,
        },
        ApiChanges {
            signing_alg: Some(alg),
            ..ApiChanges::default()
        },
    )
    .await
    .expect("api");
    app.state.refresh_caches().await.expect("reload");
    api
}

/// The JWKS as published, untyped: what a consumer reads.
async fn jwks_document(app: &TestApp) -> Value {
    let response = app
        .browser
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

fn algorithm(alg: &str) -> Algorithm {
    alg.parse().expect("algorithm")
}

/// Verifies `token` as a JWKS consumer does: the key its kid names, with the algorithm that
/// key's JWK names (which must be the token's).
fn verify_with_jwks(jwks: &JwkSet, token: &str, audience: &str, issuer: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).expect("header");
    let jwk = jwks
        .find(header.kid.as_deref().expect("kid"))
        .expect("kid published");
    let value = serde_json::to_value(jwk).unwrap();
    assert_eq!(
        value["alg"],
        json!(format!("{:?}", header.alg)),
        "one algorithm per key"
    );
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[issuer]);
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .expect("verifies against the JWKS")
        .claims
}

#[tokio::test]
async fn apis_choose_their_algorithm_and_the_jwks_publishes_keys_per_algorithm() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    for alg in ["PS256", "ES256"] {
        let identifier = format!("https://{}.example.com", alg.to_lowercase());
        let (status, api) = mgmt
            .post(
                "/resource-servers",
                json!({"identifier": identifier, "signing_alg": alg, "scopes": [{"value": "read:messages"}]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{api}");
        assert_eq!(api["signing_alg"], alg);
        assert!(api.get("signing_secret").is_none(), "{api}");
        let (_, fetched) = mgmt
            .get(&format!(
                "/resource-servers/{}",
                api["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(fetched["signing_alg"], alg);
    }
    let document = jwks_document(app).await;
    let keys = document["keys"].as_array().unwrap();
    for (alg, kty) in [("RS256", "RSA"), ("PS256", "RSA"), ("ES256", "EC")] {
        let of_alg: Vec<&Value> = keys.iter().filter(|k| k["alg"] == alg).collect();
        assert_eq!(of_alg.len(), 2, "current and next {alg} keys: {document}");
        for key in of_alg {
            assert_eq!(key["kty"], kty);
            assert_eq!(key["use"], "sig");
            assert!(key["kid"].is_string());
            if kty == "EC" {
                assert_eq!(key["crv"], "P-256");
                assert!(key["x"].is_string() && key["y"].is_string() && key.get("n").is_none());
            }
        }
    }
    assert_eq!(
        keys[0]["alg"], "RS256",
        "the key signing ID tokens comes first"
    );
    let kids: std::collections::HashSet<&str> =
        keys.iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids.len(), keys.len(), "kids are unique across algorithms");

    let jwks: JwkSet = serde_json::from_value(document.clone()).unwrap();
    for alg in ["PS256", "ES256"] {
        let identifier = format!("https://{}.example.com", alg.to_lowercase());
        let (id, secret) = m2m_for(app, &identifier).await;
        let token = client_credentials(app, &id, &secret, &identifier).await;
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, algorithm(alg));
        let claims = verify_with_jwks(&jwks, &token, &identifier, &app.issuer);
        assert_eq!(claims["sub"], format!("{id}@clients"));
        // The same token checked as another algorithm's token is refused: each key verifies
        // one algorithm only.
        let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
        let other = if alg == "PS256" {
            Algorithm::RS256
        } else {
            Algorithm::PS256
        };
        let mut validation = Validation::new(other);
        validation.set_audience(&[&identifier]);
        assert!(jsonwebtoken::decode::<Value>(
            &token,
            &DecodingKey::from_jwk(jwk).unwrap(),
            &validation
        )
        .is_err());
    }
}

#[tokio::test]
async fn unknown_algorithms_and_weak_secrets_are_refused() {
    let mgmt = spawn_mgmt().await;
    for body in [
        json!({"identifier": "https://x", "signing_alg": "none"}),
        json!({"identifier": "https://x", "signing_alg": "HS512"}),
        json!({"identifier": "https://x", "signing_alg": "ES384"}),
        json!({"identifier": "https://x", "signing_alg": "HS256", "signing_secret": "too short"}),
        json!({"identifier": "https://x", "signing_alg": "HS256", "signing_secret": 42}),
    ] {
        let answer = mgmt.post("/resource-servers", body.clone()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");
    }
    let (status, _) = mgmt.get("/resource-servers/https%3A%2F%2Fx").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was created");
}

#[tokio::test]
async fn hs256_apis_sign_with_their_own_secret_which_is_shown_rotatable_and_never_published() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let identifier = "https://hs.example.com";
    let (status, api) = mgmt
        .post(
            "/resource-servers",
            json!({"identifier": identifier, "signing_alg": "HS256", "scopes": [{"value": "read:messages"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{api}");
    let secret = api["signing_secret"]
        .as_str()
        .expect("generated secret")
        .to_owned();
    assert!(secret.len() >= 32);
    let path = format!("/resource-servers/{}", api["id"].as_str().unwrap());
    let (_, fetched) = mgmt.get(&path).await;
    assert_eq!(
        fetched["signing_secret"],
        secret.as_str(),
        "retrievable, as at Auth0"
    );

    let (id, client_secret) = m2m_for(app, identifier).await;
    let token = client_credentials(app, &id, &client_secret, identifier).await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::HS256);
    assert!(
        header.kid.is_none(),
        "an HS256 token names no published key"
    );
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[identifier]);
    validation.set_issuer(&[&app.issuer]);
    let verify = |token: &str, secret: &str| {
        jsonwebtoken::decode::<Value>(
            token,
            &DecodingKey::from_secret(secret.as_bytes()),
            &validation,
        )
    };
    assert!(verify(&token, &secret).is_ok());

    let jwks = jwks_document(app).await;
    for key in jwks["keys"].as_array().unwrap() {
        assert_ne!(key["alg"], "HS256");
        assert_ne!(key["kty"], "oct");
    }
    assert!(!jwks.to_string().contains(&secret));

    // Rotation: a given secret replaces the old one; tokens follow it.
    let rotated = "r".repeat(48);
    let (status, patched) = mgmt.patch(&path, json!({"signing_secret": rotated})).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["signing_secret"], rotated.as_str());
    let token = client_credentials(app, &id, &client_secret, identifier).await;
    assert!(verify(&token, &rotated).is_ok());
    assert!(verify(&token, &secret).is_err());
    assert_error(
        &mgmt.patch(&path, json!({"signing_secret": "short"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );

    // Moving to another algorithm drops the secret; tokens follow the algorithm.
    let (_, patched) = mgmt.patch(&path, json!({"signing_alg": "ES256"})).await;
    assert_eq!(patched["signing_alg"], "ES256");
    assert!(patched.get("signing_secret").is_none());
    let token = client_credentials(app, &id, &client_secret, identifier).await;
    assert_eq!(
        jsonwebtoken::decode_header(&token).unwrap().alg,
        Algorithm::ES256
    );
}

#[tokio::test]
async fn id_tokens_stay_rs256_while_the_access_token_follows_its_api() {
    let app = spawn_app().await;
    api_with(&app, API, SigningAlg::ES256).await;
    let spa = app.create_spa(false).await;
    app.create_user("alg@example.com").await;
    let browser = browser();
    let (params, verifier) = app
        .login_for_code(&browser, &spa, "alg@example.com", &[("audience", API)])
        .await;
    let response = app.exchange_code(&spa, &params["code"], &verifier).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let id_token = body["id_token"].as_str().unwrap();
    let access_token = body["access_token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(id_token).unwrap().alg,
        Algorithm::RS256
    );
    assert_eq!(
        jsonwebtoken::decode_header(access_token).unwrap().alg,
        Algorithm::ES256
    );
    let jwks = app.jwks().await;
    let claims = verify_with_jwks(&jwks, access_token, API, &app.issuer);
    assert_eq!(claims["aud"][1], format!("{}userinfo", app.issuer));
    // `/userinfo` takes the ES256 token too.
    let userinfo = app
        .browser
        .get(app.url("/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), StatusCode::OK);
}

#[tokio::test]
async fn each_algorithm_rotates_with_overlap() {
    let app = spawn_app().await;
    api_with(&app, API, SigningAlg::ES256).await;
    let (id, secret) = m2m_for(&app, API).await;
    let before = client_credentials(&app, &id, &secret, API).await;
    let old_kid = jsonwebtoken::decode_header(&before).unwrap().kid.unwrap();
    let cipher = portcullis_core::keys::KeyCipher::new(&app.master_key).unwrap();
    portcullis_core::keys::rotate(app.store.as_ref(), &SystemClock, &cipher, 86_400)
        .await
        .unwrap();
    app.state.refresh_caches().await.unwrap();
    let jwks = app.jwks().await;
    let document = serde_json::to_value(&jwks).unwrap();
    for alg in ["RS256", "ES256"] {
        let count = document["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["alg"] == alg)
            .count();
        assert_eq!(count, 3, "previous, current and a new next {alg} key");
    }
    let after = client_credentials(&app, &id, &secret, API).await;
    let new_kid = jsonwebtoken::decode_header(&after).unwrap().kid.unwrap();
    assert_ne!(new_kid, old_kid, "the next ES256 key signs now");
    verify_with_jwks(&jwks, &after, API, &app.issuer);
    verify_with_jwks(&jwks, &before, API, &app.issuer);
}

#[tokio::test]
async fn the_dashboard_creates_an_hs256_api_shows_its_secret_and_rotates_it() {
    let app = spawn_app().await;
    let admin = app.dashboard_admin().await;
    let settings = admin
        .post_ok(
            &app,
            "/dashboard/apis/new",
            "/dashboard/apis",
            &[
                ("name", "HS API"),
                ("identifier", API),
                ("signing_alg", "HS256"),
            ],
        )
        .await;
    let api = app
        .store
        .resource_server_by_identifier(API)
        .await
        .unwrap()
        .expect("created");
    assert_eq!(api.signing_alg, SigningAlg::HS256);
    let secret = apis::signing_secret(&app.cx, &api).unwrap().unwrap();
    let (status, html) = admin.get(&app, &settings).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(secret.expose_str()),
        "the settings page shows the secret"
    );
    let (_, new_page) = admin.get(&app, "/dashboard/apis/new").await;
    for alg in ["RS256", "PS256", "ES256", "HS256"] {
        assert!(
            new_page.contains(&format!("<option value=\"{alg}\"")),
            "{alg} offered"
        );
    }

    let back = admin
        .post_ok(
            &app,
            &settings,
            &format!("/dashboard/apis/{}/rotate-secret", api.id),
            &[],
        )
        .await;
    assert_eq!(back, settings);
    let api = app
        .store
        .resource_server_by_identifier(API)
        .await
        .unwrap()
        .unwrap();
    let rotated = apis::signing_secret(&app.cx, &api).unwrap().unwrap();
    assert_ne!(rotated.expose_str(), secret.expose_str());
    let (_, html) = admin.get(&app, &settings).await;
    assert!(html.contains(rotated.expose_str()));
}
