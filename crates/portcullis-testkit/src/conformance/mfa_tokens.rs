//! The MFA API's pending logins (`mfa_token`): read while they live, taken once even when
//! several replicas are asked at once, never after they expire, swept then, and gone with
//! their user.

use futures::future::join_all;
use portcullis_store::{PendingMfaLogin, Store, SweepBefore};

use super::{user, NOW};

fn pending(n: u8, user_id: &str, expires_at: i64) -> PendingMfaLogin {
    PendingMfaLogin {
        token_hash: vec![n; 32],
        user_id: user_id.to_owned(),
        client_id: "client001".into(),
        audience: (n == 1).then(|| "https://api1.example".to_owned()),
        scope: "openid profile".into(),
        created_at: NOW - 10,
        expires_at,
    }
}

pub async fn mfa_tokens_are_taken_once_and_expire(store: &dyn Store) {
    let owner = user(1, "mfa-token@example.com");
    store.create_user(&owner).await.expect("user");
    let live = pending(1, &owner.user_id, NOW + 600);
    store.insert_mfa_token(&live).await.expect("insert");
    let other = pending(2, &owner.user_id, NOW + 600);
    store.insert_mfa_token(&other).await.expect("insert");
    let expired = pending(3, &owner.user_id, NOW);
    store.insert_mfa_token(&expired).await.expect("insert");

    assert_eq!(
        store.mfa_token(&[1; 32], NOW).await.expect("read"),
        Some(live.clone())
    );
    assert_eq!(
        store.mfa_token(&[1; 32], NOW).await.expect("read again"),
        Some(live),
        "reading does not take it"
    );
    assert!(store
        .mfa_token(&[3; 32], NOW)
        .await
        .expect("expired")
        .is_none());
    assert!(!store.take_mfa_token(&[3; 32], NOW).await.expect("expired"));
    assert!(store
        .mfa_token(&[9; 32], NOW)
        .await
        .expect("unknown")
        .is_none());

    let takes = join_all((0..6).map(|_| store.take_mfa_token(&[1; 32], NOW))).await;
    let won = takes
        .into_iter()
        .filter(|t| *t.as_ref().expect("take"))
        .count();
    assert_eq!(won, 1, "one of the concurrent takers wins");
    assert!(store
        .mfa_token(&[1; 32], NOW)
        .await
        .expect("taken")
        .is_none());
    assert!(!store.take_mfa_token(&[1; 32], NOW).await.expect("again"));

    let counts = store
        .sweep(SweepBefore {
            now: NOW,
            codes_before: NOW - 3_600,
            throttle_windows_before: NOW - 900,
            log_events_before_ms: None,
            log_events_kept: None,
            emails_before: None,
        })
        .await
        .expect("sweep");
    assert_eq!(counts.mfa_tokens, 1, "only the expired login goes");
    assert!(store
        .mfa_token(&[2; 32], NOW)
        .await
        .expect("kept")
        .is_some());

    store
        .delete_user(&owner.user_id)
        .await
        .expect("delete user");
    assert!(
        store
            .mfa_token(&[2; 32], NOW)
            .await
            .expect("gone")
            .is_none(),
        "a deleted user's pending login goes with them"
    );
}
