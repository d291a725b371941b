//! DPoP-bound tokens (`cnf.jkt`): accepted with the DPoP scheme and a fresh proof by their key
//! for the request, refused as bearer tokens, with another key's proof (a stolen token), a
//! replayed proof, or a proof for another method or URL; 401s offer the DPoP scheme.

use axum::{
    body::Body,
    http::{header, Request},
};
use portcullis_dpop::{ProofKey, ProofRequest};
use portcullis_guard::Guard;

use crate::support::*;

const ORIGIN: &str = "http://api.example.com";

fn bound_token(issuer: &str, key: &ProofKey) -> String {
    let mut claims = claims(issuer);
    claims["cnf"] = serde_json::json!({ "jkt": key.jkt() });
    sign(&header_for(&KEY), &claims, &KEY)
}

fn proof(key: &ProofKey, method: &str, path: &str, token: &str) -> String {
    let url = format!("{ORIGIN}{path}");
    key.proof(&ProofRequest {
        method,
        url: &url,
        access_token: Some(token),
        ..Default::default()
    })
    .expect("proof")
}

fn dpop_request(path: &str, token: &str, proof: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path)
        .header(header::HOST, "api.example.com")
        .header(header::AUTHORIZATION, format!("DPoP {token}"));
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    request.body(Body::empty()).expect("request")
}

async fn guarded(server: &JwksServer) -> axum::Router {
    let guard: Guard = server.guard().build().expect("guard");
    app(guard)
}

#[tokio::test]
async fn a_bound_token_needs_its_keys_fresh_proof_for_the_request() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let app = guarded(&server).await;
    let key = ProofKey::generate().expect("key");
    let token = bound_token(&server.issuer(), &key);

    for path in ["/private", "/layered"] {
        let once = proof(&key, "GET", path, &token);
        let answer = send(&app, dpop_request(path, &token, Some(&once))).await;
        assert_eq!(answer.status, 200, "{path}: {:?}", answer.body);
        // The same proof again is a replay.
        let again = send(&app, dpop_request(path, &token, Some(&once))).await;
        assert_eq!(again.status, 401, "{path}");
        assert_eq!(again.body["error"], "invalid_dpop_proof");
    }

    // As a plain bearer token it is refused, and the 401 offers both schemes.
    let bearer = call(&app, "/private", Some(&token)).await;
    assert_eq!(bearer.status, 401);
    assert_eq!(bearer.body["error"], "invalid_token");

    // A stolen token replayed with the thief's own key and a proof it signed.
    let thief = ProofKey::generate().expect("key");
    let stolen = proof(&thief, "GET", "/private", &token);
    let answer = send(&app, dpop_request("/private", &token, Some(&stolen))).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.body["error"], "invalid_dpop_proof");

    // No proof, a proof for another method or path, or for another token.
    let other_token = bound_token(&server.issuer(), &key);
    for (proof, why) in [
        (None, "missing"),
        (Some(proof(&key, "POST", "/private", &token)), "htm"),
        (Some(proof(&key, "GET", "/layered", &token)), "htu"),
        (Some(proof(&key, "GET", "/private", &other_token)), "ath"),
    ] {
        let answer = send(&app, dpop_request("/private", &token, proof.as_deref())).await;
        assert_eq!(answer.status, 401, "{why}");
        assert_eq!(answer.body["error"], "invalid_dpop_proof", "{why}");
    }
}

#[tokio::test]
async fn unauthorized_answers_offer_the_dpop_scheme() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let app = guarded(&server).await;
    let response = tower::ServiceExt::oneshot(
        app.clone(),
        Request::get("/private")
            .body(Body::empty())
            .expect("request"),
    )
    .await
    .expect("infallible");
    assert_eq!(response.status(), 401);
    let challenges: Vec<_> = response
        .headers()
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .map(|value| value.to_str().expect("ASCII").to_owned())
        .collect();
    assert!(challenges[0].starts_with("Bearer realm="), "{challenges:?}");
    assert_eq!(
        challenges[1], "DPoP algs=\"ES256 PS256 RS256\"",
        "{challenges:?}"
    );

    // An unbound token under the DPoP scheme is not a DPoP token.
    let unbound = valid_token(&server.issuer(), &KEY);
    let key = ProofKey::generate().expect("key");
    let p = proof(&key, "GET", "/private", &unbound);
    let answer = send(&app, dpop_request("/private", &unbound, Some(&p))).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.body["error"], "invalid_token");
}
