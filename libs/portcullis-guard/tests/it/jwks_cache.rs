//! How the guard uses the JWKS endpoint: as rarely as possible, never in a storm, and not at
//! all for correctness once keys are cached.

use std::time::Duration;

use futures::future::join_all;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn cache_hit_makes_no_fetch() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let app = app(server.guard().build().expect("guard"));
    let issuer = server.issuer();

    assert_eq!(
        call(&app, "/private", Some(&valid_token(&issuer, &KEY)))
            .await
            .status,
        200
    );
    assert_eq!(server.fetches(), 1);
    for _ in 0..20 {
        // Fresh tokens, so each one is a real signature check against the cached key.
        assert_eq!(
            call(&app, "/private", Some(&valid_token(&issuer, &KEY)))
                .await
                .status,
            200
        );
    }
    assert_eq!(server.fetches(), 1);
}

#[tokio::test]
async fn concurrent_first_requests_share_one_fetch() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let app = app(server.guard().build().expect("guard"));
    let tokens: Vec<String> = (0..50)
        .map(|_| valid_token(&server.issuer(), &KEY))
        .collect();
    let answers = join_all(
        tokens
            .iter()
            .map(|token| call(&app, "/private", Some(token))),
    )
    .await;
    assert!(answers.iter().all(|answer| answer.status == 200));
    assert_eq!(server.fetches(), 1);
}

#[tokio::test]
async fn unknown_kid_refetches_once() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let guard = server
        .guard()
        .unknown_kid_cooldown(Duration::ZERO)
        .build()
        .expect("guard");
    let app = app(guard);
    let issuer = server.issuer();
    assert_eq!(
        call(&app, "/private", Some(&valid_token(&issuer, &KEY)))
            .await
            .status,
        200
    );
    assert_eq!(server.fetches(), 1);

    let mut header = header_for(&KEY);
    header["kid"] = json!("not-published");
    for _ in 0..10 {
        let token = sign(&header, &claims(&issuer), &KEY);
        assert_eq!(call(&app, "/private", Some(&token)).await.status, 401);
    }
    assert_eq!(
        server.fetches(),
        2,
        "one refetch, then the negative cache answers"
    );
}

#[tokio::test]
async fn unknown_kid_within_the_cooldown_does_not_refetch() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let app = app(server.guard().build().expect("guard")); // default cooldown: 30 s
    let issuer = server.issuer();
    assert_eq!(
        call(&app, "/private", Some(&valid_token(&issuer, &KEY)))
            .await
            .status,
        200
    );
    let mut header = header_for(&KEY);
    header["kid"] = json!("not-published");
    assert_eq!(
        call(
            &app,
            "/private",
            Some(&sign(&header, &claims(&issuer), &KEY))
        )
        .await
        .status,
        401
    );
    assert_eq!(server.fetches(), 1);
}

#[tokio::test]
async fn per_minute_limit_holds_under_a_thousand_unknown_kids() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let guard = server
        .guard()
        .jwks_requests_per_minute(5)
        .unknown_kid_cooldown(Duration::ZERO)
        .build()
        .expect("guard");
    let app = app(guard.clone());
    let issuer = server.issuer();

    let tokens: Vec<String> = (0..1000)
        .map(|n| {
            let mut header = header_for(&KEY);
            header["kid"] = json!(format!("random-kid-{n}"));
            sign(&header, &claims(&issuer), &KEY)
        })
        .collect();
    for batch in tokens.chunks(100) {
        let answers = join_all(
            batch
                .iter()
                .map(|token| call(&app, "/private", Some(token))),
        )
        .await;
        assert!(answers.iter().all(|answer| answer.status == 401));
    }
    let fetches = server.fetches();
    assert!(fetches <= 5, "{fetches} fetches for 1,000 unknown kids");
    assert!(fetches >= 1);
    assert_eq!(guard.jwks_fetch_count(), fetches as u64);
    // The storm did not evict the real key.
    assert_eq!(
        call(&app, "/private", Some(&valid_token(&issuer, &KEY)))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn jwks_down_keeps_cached_keys_working() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let guard = server
        .guard()
        .key_cache_lifetime(Duration::from_millis(100))
        .unknown_kid_cooldown(Duration::ZERO)
        .build()
        .expect("guard");
    let app = app(guard);
    let issuer = server.issuer();
    assert_eq!(
        call(&app, "/private", Some(&valid_token(&issuer, &KEY)))
            .await
            .status,
        200
    );

    server.set_failing(true);
    tokio::time::sleep(Duration::from_millis(150)).await; // past the key-set lifetime
    for _ in 0..5 {
        assert_eq!(
            call(&app, "/private", Some(&valid_token(&issuer, &KEY)))
                .await
                .status,
            200
        );
    }
    assert!(
        server.fetches() >= 2,
        "the expired set was refreshed (and the refresh failed)"
    );

    server.set_failing(false);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        call(&app, "/private", Some(&valid_token(&issuer, &KEY)))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn jwks_down_from_the_start_is_a_503_not_a_token_error() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    server.set_failing(true);
    let app = app(server.guard().build().expect("guard"));
    let answer = call(&app, "/private", Some(&valid_token(&server.issuer(), &KEY))).await;
    assert_eq!(answer.status, 503);
    assert!(answer.challenge.is_none());
    assert_eq!(answer.body["error"], "temporarily_unavailable");
    // The failure starts the cooldown: the next request does not hammer the endpoint.
    let fetches = server.fetches();
    let _ = call(&app, "/private", Some(&valid_token(&server.issuer(), &KEY))).await;
    assert_eq!(server.fetches(), fetches);
}

#[tokio::test]
async fn rotated_key_is_picked_up() {
    let server = JwksServer::start(jwks(&[&KEY])).await;
    let guard = server
        .guard()
        .unknown_kid_cooldown(Duration::ZERO)
        .build()
        .expect("guard");
    let app = app(guard);
    let issuer = server.issuer();
    assert_eq!(
        call(&app, "/private", Some(&valid_token(&issuer, &KEY)))
            .await
            .status,
        200
    );

    server.set_document(jwks(&[&NEXT_KEY]));
    assert_eq!(
        call(&app, "/private", Some(&valid_token(&issuer, &NEXT_KEY)))
            .await
            .status,
        200
    );
    assert_eq!(server.fetches(), 2);
    // The retired key is gone from the set, so fresh tokens signed with it are refused.
    assert_eq!(
        call(&app, "/private", Some(&valid_token(&issuer, &KEY)))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn oversized_or_overfull_key_sets_are_refused() {
    let server = JwksServer::start(jwks(&[&KEY, &NEXT_KEY])).await;
    let too_small = app(server.guard().max_jwks_bytes(256).build().expect("guard"));
    let answer = call(
        &too_small,
        "/private",
        Some(&valid_token(&server.issuer(), &KEY)),
    )
    .await;
    assert_eq!(answer.status, 503);

    let too_few = app(server.guard().max_jwks_keys(1).build().expect("guard"));
    let answer = call(
        &too_few,
        "/private",
        Some(&valid_token(&server.issuer(), &KEY)),
    )
    .await;
    assert_eq!(answer.status, 503);
}

#[tokio::test]
async fn keys_of_the_wrong_type_or_use_are_ignored() {
    let mut encryption_key = NEXT_KEY.jwk();
    encryption_key["use"] = json!("enc");
    let mut hmac_key = json!({ "kty": "oct", "kid": "hmac", "k": "c2VjcmV0" });
    hmac_key["alg"] = json!("HS256");
    let server = JwksServer::start(json!({ "keys": [encryption_key, hmac_key, KEY.jwk()] })).await;
    let app = app(server.guard().build().expect("guard"));
    let issuer = server.issuer();
    assert_eq!(
        call(&app, "/private", Some(&valid_token(&issuer, &KEY)))
            .await
            .status,
        200
    );
    assert_eq!(
        call(&app, "/private", Some(&valid_token(&issuer, &NEXT_KEY)))
            .await
            .status,
        401
    );
}
