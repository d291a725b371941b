//! Login sessions, opaque tokens, codes, refresh tokens and throttling counters.

use super::*;

/// Login sessions: found until they expire, gone when deleted.
pub async fn sessions_expire(store: &dyn Store) {
    store
        .create_user(&user(1, "s@example.com"))
        .await
        .expect("user");
    let session = LoginSession {
        id_hash: vec![7; 32],
        sid: "sid-1".into(),
        user_id: user(1, "").user_id,
        auth_time: NOW,
        expires_at: NOW + 100,
        idle_expires_at: NOW + 100,
        amr: vec![portcullis_types::AuthMethod::Pwd],
        mfa_time: None,
    };
    store.create_session(&session).await.expect("create");
    assert_eq!(
        store
            .session_by_hash(&[7; 32], NOW + 99)
            .await
            .expect("get"),
        Some(session.clone())
    );
    assert_eq!(
        store
            .session_by_hash(&[7; 32], NOW + 100)
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        store.session_by_hash(&[8; 32], NOW).await.expect("get"),
        None
    );
    store.delete_session(&[7; 32]).await.expect("delete");
    assert_eq!(
        store.session_by_hash(&[7; 32], NOW).await.expect("get"),
        None
    );
}

/// Opaque `/userinfo` tokens: found until they expire.
pub async fn opaque_tokens_expire(store: &dyn Store) {
    let token = OpaqueToken {
        token_hash: vec![3; 32],
        client_id: "client001".into(),
        user_id: "auth0|1".into(),
        scope: "openid".into(),
        expires_at: NOW + 10,
    };
    store.insert_opaque_token(&token).await.expect("insert");
    assert_eq!(
        store
            .opaque_token_by_hash(&[3; 32], NOW)
            .await
            .expect("get"),
        Some(token)
    );
    assert_eq!(
        store
            .opaque_token_by_hash(&[3; 32], NOW + 10)
            .await
            .expect("get"),
        None
    );
}

/// A code redeemed by many callers at once is `Fresh` for exactly one; afterwards it is
/// `Replayed` with the family it produced; expired and unknown codes are `Invalid`.
pub async fn codes_are_single_use_under_concurrency(store: &dyn Store) {
    for round in 0..10u8 {
        store
            .insert_code(&code(round, NOW + 60))
            .await
            .expect("insert");
        let hash = [round; 32];
        let outcomes = join_all((0..8).map(|_| store.redeem_code(&hash, NOW))).await;
        let outcomes: Vec<Redeemed> = outcomes.into_iter().map(|o| o.expect("redeem")).collect();
        let fresh: Vec<_> = outcomes
            .iter()
            .filter_map(|o| match o {
                Redeemed::Fresh(code) => Some(code),
                _ => None,
            })
            .collect();
        assert_eq!(fresh.len(), 1, "round {round}: {outcomes:?}");
        assert_eq!(**fresh[0], code(round, NOW + 60));
        assert!(outcomes
            .iter()
            .filter(|o| !matches!(o, Redeemed::Fresh(_)))
            .all(|o| *o == Redeemed::Replayed { family_id: None }));
    }
    store
        .link_code_family(&[0; 32], "fam-0")
        .await
        .expect("link");
    assert_eq!(
        store.redeem_code(&[0; 32], NOW + 1).await.expect("redeem"),
        Redeemed::Replayed {
            family_id: Some("fam-0".into())
        }
    );
    store
        .insert_code(&code(100, NOW + 60))
        .await
        .expect("insert");
    assert_eq!(
        store
            .redeem_code(&[100; 32], NOW + 60)
            .await
            .expect("redeem"),
        Redeemed::Invalid,
        "expired"
    );
    assert_eq!(
        store.redeem_code(&[101; 32], NOW).await.expect("redeem"),
        Redeemed::Invalid,
        "unknown"
    );
}

/// Presenting a refresh token: live → `Rotated`; again within the reuse interval →
/// `ReusedWithinLeeway`; again at or after its end → `ReuseDetected`, and the family is revoked;
/// expired → `Invalid`.
pub async fn refresh_rotation_outcomes(store: &dyn Store) {
    store
        .insert_refresh_token(&refresh(1, "fam-a"))
        .await
        .expect("insert");
    let rotated = store
        .rotate_refresh_token(&[1; 32], NOW, 10)
        .await
        .expect("rotate");
    let mut expected = refresh(1, "fam-a");
    expected.rotated_at = Some(NOW);
    assert_eq!(rotated, RotationOutcome::Rotated(expected));
    let mut successor = refresh(2, "fam-a");
    successor.created_at = NOW;
    store
        .insert_refresh_token(&successor)
        .await
        .expect("insert");
    match store
        .rotate_refresh_token(&[1; 32], NOW + 9, 10)
        .await
        .expect("rotate")
    {
        RotationOutcome::ReusedWithinLeeway(token) => {
            assert_eq!(
                (token.family_id.as_str(), token.rotated_at),
                ("fam-a", Some(NOW))
            );
        }
        other => panic!("within the interval: {other:?}"),
    }
    match store
        .rotate_refresh_token(&[1; 32], NOW + 10, 10)
        .await
        .expect("rotate")
    {
        RotationOutcome::ReuseDetected(token) => assert_eq!(token.family_id, "fam-a"),
        other => panic!("at the end of the interval: {other:?}"),
    }
    let successor = store
        .refresh_token_by_hash(&[2; 32])
        .await
        .expect("get")
        .expect("kept");
    assert!(
        successor.revoked,
        "the family is revoked, successor included"
    );
    assert_eq!(
        store
            .rotate_refresh_token(&[2; 32], NOW + 11, 10)
            .await
            .expect("rotate"),
        RotationOutcome::Invalid
    );
    assert_eq!(
        store
            .rotate_refresh_token(&[1; 32], NOW + 11, 10)
            .await
            .expect("rotate"),
        RotationOutcome::Invalid
    );

    // A reuse interval of 0 tolerates nothing, even within the same second.
    store
        .insert_refresh_token(&refresh(3, "fam-b"))
        .await
        .expect("insert");
    assert!(matches!(
        store
            .rotate_refresh_token(&[3; 32], NOW, 0)
            .await
            .expect("rotate"),
        RotationOutcome::Rotated(_)
    ));
    assert!(matches!(
        store
            .rotate_refresh_token(&[3; 32], NOW, 0)
            .await
            .expect("rotate"),
        RotationOutcome::ReuseDetected(_)
    ));

    // Idle and absolute expiry.
    store
        .insert_refresh_token(&refresh(4, "fam-c"))
        .await
        .expect("insert");
    assert_eq!(
        store
            .rotate_refresh_token(&[4; 32], NOW + 500, 10)
            .await
            .expect("rotate"),
        RotationOutcome::Invalid,
        "idle-expired"
    );
    let mut old = refresh(5, "fam-d");
    old.idle_expires_at = NOW + 5_000;
    store.insert_refresh_token(&old).await.expect("insert");
    assert_eq!(
        store
            .rotate_refresh_token(&[5; 32], NOW + 1_000, 10)
            .await
            .expect("rotate"),
        RotationOutcome::Invalid,
        "family expired"
    );
    assert_eq!(
        store
            .rotate_refresh_token(&[99; 32], NOW, 10)
            .await
            .expect("rotate"),
        RotationOutcome::Invalid,
        "unknown"
    );

    // Logout revokes every family of the user at the client, and only those.
    store
        .insert_refresh_token(&refresh(6, "fam-e"))
        .await
        .expect("insert");
    let mut elsewhere = refresh(7, "fam-f");
    elsewhere.client_id = "client002".into();
    store
        .insert_refresh_token(&elsewhere)
        .await
        .expect("insert");
    store
        .revoke_user_client_families("auth0|1", "client001")
        .await
        .expect("revoke");
    assert!(
        store
            .refresh_token_by_hash(&[6; 32])
            .await
            .expect("get")
            .expect("kept")
            .revoked
    );
    assert!(
        !store
            .refresh_token_by_hash(&[7; 32])
            .await
            .expect("get")
            .expect("kept")
            .revoked
    );
}

/// Presenting a non-rotating token: while live it is `Kept`, not rotated, and its idle expiry
/// moves forward (never past the family's end), even for many callers at once; expired →
/// `Invalid`; a token rotated earlier (its client used to rotate) is reuse all the same; a kept
/// token can still be rotated (its client rotates now).
pub async fn refresh_non_rotating_tokens_are_kept(store: &dyn Store) {
    // Presents token `hash` at `NOW + at`, moving its idle expiry to `NOW + idle`.
    let keep = |hash: u8, at: i64, idle: i64| async move {
        store
            .keep_refresh_token(&[hash; 32], NOW + at, NOW + idle, 0)
            .await
            .expect("keep")
    };
    for (hash, family) in [(1, "fam-k"), (2, "fam-l"), (3, "fam-m"), (4, "fam-n")] {
        store
            .insert_refresh_token(&refresh(hash, family))
            .await
            .expect("insert");
    }
    let mut expected = refresh(1, "fam-k");
    expected.idle_expires_at = NOW + 600;
    assert_eq!(
        keep(1, 100, 600).await,
        RotationOutcome::Kept(expected.clone())
    );
    // Past the first idle expiry but within the moved one; capped at the family's end.
    expected.idle_expires_at = NOW + 1_000;
    assert_eq!(keep(1, 550, 1_050).await, RotationOutcome::Kept(expected));
    let outcomes = join_all((0..6).map(|_| keep(1, 600, 900))).await;
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, RotationOutcome::Kept(t) if t.rotated_at.is_none())),
        "{outcomes:?}"
    );
    assert_eq!(
        keep(1, 1_000, 1_500).await,
        RotationOutcome::Invalid,
        "family expired"
    );
    assert_eq!(
        keep(2, 500, 900).await,
        RotationOutcome::Invalid,
        "idle-expired"
    );

    let rotated = store
        .rotate_refresh_token(&[3; 32], NOW, 0)
        .await
        .expect("rotate");
    assert!(matches!(rotated, RotationOutcome::Rotated(_)));
    assert!(matches!(
        keep(3, 1, 400).await,
        RotationOutcome::ReuseDetected(_)
    ));
    assert_eq!(
        keep(3, 2, 400).await,
        RotationOutcome::Invalid,
        "revoked with its family"
    );

    assert!(matches!(keep(4, 0, 400).await, RotationOutcome::Kept(_)));
    let rotated = store
        .rotate_refresh_token(&[4; 32], NOW + 1, 0)
        .await
        .expect("rotate");
    assert!(matches!(rotated, RotationOutcome::Rotated(_)));
    assert_eq!(keep(99, 0, 400).await, RotationOutcome::Invalid, "unknown");
}

/// Many presentations of one live token at once: exactly one rotates. Outside the reuse
/// interval the others detect reuse (or, once the family is revoked, find it invalid) and the
/// family ends revoked; within it every other caller is tolerated.
pub async fn refresh_concurrent_rotation_has_one_winner(store: &dyn Store) {
    for round in 0..10u8 {
        let family = format!("fam-{round}");
        store
            .insert_refresh_token(&refresh(round, &family))
            .await
            .expect("insert");
        let hash = [round; 32];
        let outcomes = join_all((0..6).map(|_| store.rotate_refresh_token(&hash, NOW, 0)))
            .await
            .into_iter()
            .map(|o| o.expect("rotate"))
            .collect::<Vec<_>>();
        let rotated = outcomes
            .iter()
            .filter(|o| matches!(o, RotationOutcome::Rotated(_)))
            .count();
        let detected = outcomes
            .iter()
            .filter(|o| matches!(o, RotationOutcome::ReuseDetected(_)))
            .count();
        assert_eq!(rotated, 1, "{outcomes:?}");
        assert!(detected >= 1, "{outcomes:?}");
        assert!(
            outcomes
                .iter()
                .all(|o| !matches!(o, RotationOutcome::ReusedWithinLeeway(_))),
            "{outcomes:?}"
        );
        let token = store
            .refresh_token_by_hash(&[round; 32])
            .await
            .expect("get")
            .expect("kept");
        assert!(token.revoked);
    }
    for round in 0..10u8 {
        let hash = [round + 200; 32];
        store
            .insert_refresh_token(&refresh(round + 200, &format!("tolerant-{round}")))
            .await
            .expect("insert");
        let outcomes = join_all((0..6).map(|_| store.rotate_refresh_token(&hash, NOW, 30)))
            .await
            .into_iter()
            .map(|o| o.expect("rotate"))
            .collect::<Vec<_>>();
        let rotated = outcomes
            .iter()
            .filter(|o| matches!(o, RotationOutcome::Rotated(_)))
            .count();
        let tolerated = outcomes
            .iter()
            .filter(|o| matches!(o, RotationOutcome::ReusedWithinLeeway(t) if t.family_id == format!("tolerant-{round}")))
            .count();
        assert_eq!((rotated, tolerated), (1, 5), "{outcomes:?}");
    }
}

/// A token inserted into a family that has been revoked is stored revoked: the successor a
/// racing rotation inserts after reuse detection is dead on arrival.
pub async fn refresh_insert_into_revoked_family_is_revoked(store: &dyn Store) {
    store
        .insert_refresh_token(&refresh(1, "fam-x"))
        .await
        .expect("insert");
    store.revoke_family("fam-x").await.expect("revoke");
    store
        .insert_refresh_token(&refresh(2, "fam-x"))
        .await
        .expect("insert");
    let late = store
        .refresh_token_by_hash(&[2; 32])
        .await
        .expect("get")
        .expect("stored");
    assert!(late.revoked);
    store
        .insert_refresh_token(&refresh(3, "fam-y"))
        .await
        .expect("insert");
    let other = store
        .refresh_token_by_hash(&[3; 32])
        .await
        .expect("get")
        .expect("stored");
    assert!(!other.revoked, "other families are untouched");
}

/// Throttling counters: counts per key and window, a new window starts at one, concurrent
/// hits are all counted, `clear` forgets.
pub async fn throttle_counters(store: &dyn Store) {
    assert_eq!(store.hit("acct:a", 900).await.expect("hit"), 1);
    assert_eq!(store.hit("acct:a", 900).await.expect("hit"), 2);
    assert_eq!(store.hit("acct:b", 900).await.expect("hit"), 1);
    assert_eq!(store.hits("acct:a", 900).await.expect("hits"), 2);
    assert_eq!(store.hits("acct:a", 1800).await.expect("hits"), 0);
    assert_eq!(
        store.hit("acct:a", 1800).await.expect("hit"),
        1,
        "a new window"
    );
    store.clear("acct:a").await.expect("clear");
    assert_eq!(store.hits("acct:a", 1800).await.expect("hits"), 0);
    assert_eq!(store.hits("acct:b", 900).await.expect("hits"), 1);

    let mut counts = join_all((0..20).map(|_| store.hit("ip:1", 900)))
        .await
        .into_iter()
        .map(|r| r.expect("hit"))
        .collect::<Vec<_>>();
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=20).collect::<Vec<u64>>(),
        "no hit lost or counted twice"
    );
    assert_eq!(store.hits("ip:1", 900).await.expect("hits"), 20);
}

/// Throttling counters by prefix: listed from a threshold within the window, `_` and `%` in a
/// prefix match only themselves, one hit can be taken back (never below zero), and a prefix
/// is forgotten at once without touching other keys.
pub async fn throttle_counters_by_prefix(store: &dyn Store) {
    for _ in 0..3 {
        store
            .hit("login:pair:a_b:10.0.0.1", 900)
            .await
            .expect("hit");
    }
    store
        .hit("login:pair:a_b:10.0.0.2", 900)
        .await
        .expect("hit");
    store.hit("login:pair:a_b:10.0.0.3", 0).await.expect("hit");
    store
        .hit("login:pair:axb:10.0.0.1", 900)
        .await
        .expect("hit");
    store
        .hit("login:pair:a%b:10.0.0.1", 900)
        .await
        .expect("hit");
    let listed = store
        .counters_with_prefix("login:pair:a_b:", 900, 1)
        .await
        .expect("list");
    assert_eq!(
        listed,
        vec![
            ("login:pair:a_b:10.0.0.1".to_owned(), 3),
            ("login:pair:a_b:10.0.0.2".to_owned(), 1),
        ],
        "only this prefix, only this window"
    );
    let over = store
        .counters_with_prefix("login:pair:a_b:", 900, 3)
        .await
        .expect("list");
    assert_eq!(over.len(), 1, "from the threshold on");

    store
        .take_back("login:pair:a_b:10.0.0.1", 900)
        .await
        .expect("take back");
    assert_eq!(
        store
            .hits("login:pair:a_b:10.0.0.1", 900)
            .await
            .expect("hits"),
        2
    );
    store
        .take_back("login:pair:a_b:10.0.0.1", 1800)
        .await
        .expect("take back in another window");
    assert_eq!(
        store
            .hits("login:pair:a_b:10.0.0.1", 900)
            .await
            .expect("hits"),
        2,
        "another window takes nothing back"
    );
    for _ in 0..3 {
        store
            .take_back("login:pair:a_b:10.0.0.2", 900)
            .await
            .expect("take back");
    }
    assert_eq!(
        store
            .hits("login:pair:a_b:10.0.0.2", 900)
            .await
            .expect("hits"),
        0,
        "never below zero"
    );

    assert_eq!(
        store.clear_prefix("login:pair:a_b:").await.expect("clear"),
        3
    );
    assert!(store
        .counters_with_prefix("login:pair:a_b:", 900, 0)
        .await
        .expect("list")
        .is_empty());
    assert_eq!(
        store
            .hits("login:pair:axb:10.0.0.1", 900)
            .await
            .expect("hits"),
        1,
        "a lookalike key is untouched"
    );
    assert_eq!(
        store
            .hits("login:pair:a%b:10.0.0.1", 900)
            .await
            .expect("hits"),
        1
    );
}
