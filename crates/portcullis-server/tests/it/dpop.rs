//! DPoP (RFC 9449) at the token endpoint and `/userinfo`: proofs made here with a real P-256
//! key, bound tokens (`cnf.jkt`, `token_type: DPoP`), the server nonce round trip, and every
//! way a proof is refused.

use portcullis_dpop::{ProofKey, ProofRequest};
use reqwest::StatusCode;
use serde_json::Value;

use crate::{helpers::*, signing_algorithms::m2m_for};

/// Posts `form` to the token endpoint with `proof` as the `DPoP` header.
pub(crate) async fn token(
    app: &TestApp,
    form: &[(&str, &str)],
    proof: Option<&str>,
) -> reqwest::Response {
    let mut request = app.browser.post(app.url("/oauth/token")).form(form);
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    request.send().await.expect("token")
}

fn token_url(app: &TestApp) -> String {
    app.url("/oauth/token")
}

/// A proof for the token endpoint.
pub(crate) fn proof_for(app: &TestApp, key: &ProofKey, nonce: Option<&str>) -> String {
    let url = token_url(app);
    key.proof(&ProofRequest {
        method: "POST",
        url: &url,
        nonce,
        ..Default::default()
    })
    .expect("proof")
}

/// The nonce a first, nonce-less proof is refused with: `use_dpop_nonce` and `DPoP-Nonce`.
pub(crate) async fn server_nonce(app: &TestApp, form: &[(&str, &str)], key: &ProofKey) -> String {
    let response = token(app, form, Some(&proof_for(app, key, None))).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let nonce = response.headers()["dpop-nonce"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "use_dpop_nonce", "{body}");
    nonce
}

async fn machine(app: &TestApp) -> (String, String) {
    app.create_api(false).await;
    app.tenant_changed();
    m2m_for(app, API).await
}

fn cc_form<'a>(client_id: &'a str, secret: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
        ("audience", API),
    ]
}

#[tokio::test]
async fn a_proof_with_the_server_nonce_gets_a_bound_token() {
    let app = spawn_app().await;
    let (client_id, secret) = machine(&app).await;
    let form = cc_form(&client_id, &secret);
    let key = ProofKey::generate().unwrap();
    let nonce = server_nonce(&app, &form, &key).await;

    let response = token(&app, &form, Some(&proof_for(&app, &key, Some(&nonce)))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers().contains_key("dpop-nonce"),
        "a nonce for the next proof"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP", "{body}");
    let claims = app
        .verify(body["access_token"].as_str().unwrap(), API)
        .await;
    assert_eq!(claims["cnf"]["jkt"], key.jkt());

    // Without a proof the token stays a Bearer token, without `cnf`.
    let plain: Value = token(&app, &form, None).await.json().await.unwrap();
    assert_eq!(plain["token_type"], "Bearer");
    let claims = app
        .verify(plain["access_token"].as_str().unwrap(), API)
        .await;
    assert!(claims.get("cnf").is_none(), "{claims}");
}

#[tokio::test]
async fn proofs_are_refused_when_replayed_stale_or_for_another_request() {
    let app = spawn_app().await;
    let (client_id, secret) = machine(&app).await;
    let form = cc_form(&client_id, &secret);
    let key = ProofKey::generate().unwrap();
    let nonce = server_nonce(&app, &form, &key).await;
    let url = token_url(&app);
    let refused = |response: reqwest::Response| async move {
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_dpop_proof", "{body}");
        body["error_description"].as_str().unwrap().to_owned()
    };

    let once = proof_for(&app, &key, Some(&nonce));
    assert_eq!(
        token(&app, &form, Some(&once)).await.status(),
        StatusCode::OK
    );
    let replayed = refused(token(&app, &form, Some(&once)).await).await;
    assert!(replayed.contains("jti"), "{replayed}");

    let other_url = app.url("/userinfo");
    let cases = [
        ("GET", url.as_str(), None, "htm"),
        ("POST", other_url.as_str(), None, "htu"),
        ("POST", url.as_str(), Some(0), "iat"),
    ];
    for (method, target, iat, named) in cases {
        let iat = iat.map(|_| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64;
            now - 600
        });
        let proof = key
            .proof(&ProofRequest {
                method,
                url: target,
                iat,
                nonce: Some(&nonce),
                ..Default::default()
            })
            .unwrap();
        let description = refused(token(&app, &form, Some(&proof)).await).await;
        assert!(description.contains(named), "{named}: {description}");
    }
    // A query on htu is ignored (RFC 9449 §4.3); a made-up nonce is not a nonce.
    let with_query = format!("{url}?x=1");
    let proof = key
        .proof(&ProofRequest {
            method: "POST",
            url: &with_query,
            nonce: Some(&nonce),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        token(&app, &form, Some(&proof)).await.status(),
        StatusCode::OK
    );
    let made_up = proof_for(&app, &key, Some("made-up"));
    let response = token(&app, &form, Some(&made_up)).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "use_dpop_nonce", "{body}");
    let garbage = refused(token(&app, &form, Some("not.a.proof")).await).await;
    assert!(!garbage.is_empty());
}

/// `GET /userinfo` with `access` under the DPoP scheme and a proof by `key`.
async fn userinfo_with_proof(app: &TestApp, key: &ProofKey, access: &str) -> reqwest::Response {
    let userinfo = app.url("/userinfo");
    let proof = key
        .proof(&ProofRequest {
            method: "GET",
            url: &userinfo,
            access_token: Some(access),
            ..Default::default()
        })
        .unwrap();
    app.browser
        .get(&userinfo)
        .header("authorization", format!("DPoP {access}"))
        .header("DPoP", proof)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_public_clients_refresh_token_is_bound_to_its_key() {
    let app = spawn_app().await;
    app.create_api(true).await;
    let spa = app.create_spa(false).await;
    app.create_user("dpop@example.com").await;
    app.tenant_changed();
    let browser = browser();
    let (params, verifier) = app
        .login_for_code(
            &browser,
            &spa,
            "dpop@example.com",
            &[("audience", API), ("scope", "openid offline_access")],
        )
        .await;
    let code_form = [
        ("grant_type", "authorization_code"),
        ("client_id", spa.client_id.as_str()),
        ("code", params["code"].as_str()),
        ("code_verifier", verifier.as_str()),
        ("redirect_uri", spa.redirect_uri.as_str()),
    ];
    let key = ProofKey::generate().unwrap();
    // The nonce asked for with a proof that fails leaves the code unused.
    let nonce = server_nonce(&app, &code_form, &key).await;
    let response = token(&app, &code_form, Some(&proof_for(&app, &key, Some(&nonce)))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    let access = body["access_token"].as_str().unwrap().to_owned();
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(app.verify(&access, API).await["cnf"]["jkt"], key.jkt());

    // `/userinfo` takes the bound token with the DPoP scheme and a proof naming it only.
    let response = userinfo_with_proof(&app, &key, &access).await;
    assert_eq!(response.status(), StatusCode::OK);
    let as_bearer = app
        .browser
        .get(app.url("/userinfo"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(as_bearer.status(), StatusCode::UNAUTHORIZED);
    let thief = ProofKey::generate().unwrap();
    let response = userinfo_with_proof(&app, &thief, &access).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.starts_with("DPoP algs=") && challenge.contains("invalid_dpop_proof"),
        "{challenge}"
    );

    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("client_id", spa.client_id.as_str()),
        ("refresh_token", refresh.as_str()),
    ];
    let without = token(&app, &refresh_form, None).await;
    assert_eq!(without.status(), StatusCode::BAD_REQUEST);
    let body: Value = without.json().await.unwrap();
    assert_eq!(body["error"], "invalid_dpop_proof", "{body}");
    let other_key = token(
        &app,
        &refresh_form,
        Some(&proof_for(&app, &thief, Some(&nonce))),
    )
    .await;
    let body: Value = other_key.json().await.unwrap();
    assert_eq!(body["error"], "invalid_dpop_proof", "{body}");
    let with_key = token(
        &app,
        &refresh_form,
        Some(&proof_for(&app, &key, Some(&nonce))),
    )
    .await;
    assert_eq!(with_key.status(), StatusCode::OK);
    let body: Value = with_key.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    let successor = body["refresh_token"].as_str().expect("rotated");
    // The successor keeps the family's key.
    let successor_form = [
        ("grant_type", "refresh_token"),
        ("client_id", spa.client_id.as_str()),
        ("refresh_token", successor),
    ];
    let body: Value = token(&app, &successor_form, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["error"], "invalid_dpop_proof", "{body}");
}

#[tokio::test]
async fn discovery_and_cors_announce_dpop() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    let _ = spa;
    app.tenant_changed();
    let document: Value = app
        .browser
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        document["dpop_signing_alg_values_supported"],
        serde_json::json!(["ES256", "PS256", "RS256"])
    );
    let preflight = app
        .browser
        .request(reqwest::Method::OPTIONS, app.url("/oauth/token"))
        .header("origin", SPA_ORIGIN)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "dpop,content-type")
        .send()
        .await
        .unwrap();
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(allowed.contains("dpop"), "{allowed}");
    let response = app
        .browser
        .post(app.url("/oauth/token"))
        .header("origin", SPA_ORIGIN)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let exposed = response.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(exposed.contains("dpop-nonce"), "{exposed}");
}
