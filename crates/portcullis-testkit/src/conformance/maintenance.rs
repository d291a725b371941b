//! Sessions' idle end, ending what a user holds, and the sweep.

use super::*;

fn session(hash: u8, user_id: &str, expires_at: i64, idle_expires_at: i64) -> LoginSession {
    LoginSession {
        id_hash: vec![hash; 32],
        sid: format!("sid-{hash}"),
        user_id: user_id.into(),
        auth_time: NOW,
        expires_at,
        idle_expires_at,
        amr: vec![portcullis_types::AuthMethod::Pwd],
        mfa_time: None,
    }
}

/// A session ends at its idle end unless it is touched, and never after its absolute end.
pub async fn sessions_end_when_idle(store: &dyn Store) {
    let owner = user(1, "idle@example.com");
    store.create_user(&owner).await.expect("user");
    store
        .create_session(&session(1, &owner.user_id, NOW + 1_000, NOW + 100))
        .await
        .expect("create");
    assert!(store
        .session_by_hash(&[1; 32], NOW + 99)
        .await
        .expect("get")
        .is_some());
    assert!(store
        .session_by_hash(&[1; 32], NOW + 100)
        .await
        .expect("get")
        .is_none());
    store
        .touch_session(&[1; 32], NOW + 300)
        .await
        .expect("touch");
    let touched = store
        .session_by_hash(&[1; 32], NOW + 200)
        .await
        .expect("get");
    assert_eq!(touched.map(|s| s.idle_expires_at), Some(NOW + 300));
}

/// Ending a user's sessions deletes their login sessions and opaque tokens and revokes their
/// refresh-token families; other users keep theirs.
pub async fn ending_a_users_sessions_leaves_others_alone(store: &dyn Store) {
    let (alice, bob) = (user(1, "alice@example.com"), user(2, "bob@example.com"));
    store.create_user(&alice).await.expect("user");
    store.create_user(&bob).await.expect("user");
    store
        .create_session(&session(1, &alice.user_id, NOW + 1_000, NOW + 1_000))
        .await
        .expect("session");
    store
        .create_session(&session(2, &bob.user_id, NOW + 1_000, NOW + 1_000))
        .await
        .expect("session");
    for (hash, owner, family) in [(1, &alice, "fa"), (2, &alice, "fb"), (3, &bob, "fc")] {
        let token = RefreshToken {
            user_id: owner.user_id.clone(),
            ..refresh(hash, family)
        };
        store.insert_refresh_token(&token).await.expect("refresh");
        store
            .insert_opaque_token(&OpaqueToken {
                token_hash: vec![hash; 32],
                client_id: "client001".into(),
                user_id: owner.user_id.clone(),
                scope: "openid".into(),
                expires_at: NOW + 1_000,
            })
            .await
            .expect("opaque");
    }
    store.end_user_sessions(&alice.user_id).await.expect("end");
    assert!(store
        .session_by_hash(&[1; 32], NOW)
        .await
        .expect("get")
        .is_none());
    assert!(store
        .session_by_hash(&[2; 32], NOW)
        .await
        .expect("get")
        .is_some());
    for (hash, revoked) in [(1u8, true), (2, true), (3, false)] {
        let token = store
            .refresh_token_by_hash(&[hash; 32])
            .await
            .expect("get")
            .expect("kept");
        assert_eq!(token.revoked, revoked, "token {hash}");
        let opaque = store
            .opaque_token_by_hash(&[hash; 32], NOW)
            .await
            .expect("get");
        assert_eq!(opaque.is_none(), revoked, "opaque {hash}");
    }
}

/// The sweep deletes what expired and keeps what is live, batch after batch.
pub async fn sweep_deletes_only_what_expired(store: &dyn Store) {
    let owner = user(1, "sweep@example.com");
    store.create_user(&owner).await.expect("user");
    // More expired sessions than one batch, and one live.
    for n in 0..=600u32 {
        let mut id_hash = n.to_be_bytes().to_vec();
        id_hash.resize(32, 0);
        let idle_end = if n == 600 { NOW + 100 } else { NOW - 1 };
        store
            .create_session(&LoginSession {
                id_hash,
                ..session(0, &owner.user_id, NOW + 1_000, idle_end)
            })
            .await
            .expect("session");
    }
    store.insert_code(&code(1, NOW - 10)).await.expect("code");
    store
        .insert_code(&code(2, NOW - 7_200))
        .await
        .expect("code");
    let dead_family = RefreshToken {
        family_expires_at: NOW - 1,
        idle_expires_at: NOW - 1,
        ..refresh(1, "dead")
    };
    store
        .insert_refresh_token(&dead_family)
        .await
        .expect("refresh");
    store
        .insert_refresh_token(&refresh(2, "live"))
        .await
        .expect("refresh");
    store.hit("login:old", NOW - 2_000).await.expect("hit");
    store.hit("login:current", NOW).await.expect("hit");
    let event = log_event;
    store
        .append_logs(&[event("old", (NOW - 100) * 1000), event("new", NOW * 1000)])
        .await
        .expect("logs");

    let before = SweepBefore {
        now: NOW,
        codes_before: NOW - 3_600,
        throttle_windows_before: NOW - 900,
        log_events_before_ms: Some((NOW - 50) * 1000),
        log_events_kept: None,
        emails_before: None,
    };
    let counts = store.sweep(before).await.expect("sweep");
    assert_eq!(counts.sessions, 600);
    assert_eq!(counts.codes, 1, "a code is kept an hour past its expiry");
    assert_eq!(counts.refresh_tokens, 1);
    assert_eq!(counts.throttle_counters, 1);
    assert_eq!(counts.log_events, 1);
    assert_eq!(store.hits("login:current", NOW).await.expect("hits"), 1);
    assert!(store
        .refresh_token_by_hash(&[2; 32])
        .await
        .expect("get")
        .is_some());
    assert!(store
        .refresh_token_by_hash(&[1; 32])
        .await
        .expect("get")
        .is_none());
    assert!(store.log_by_id("new").await.expect("get").is_some());
    // A second sweep, as another replica would run it, finds nothing more.
    assert_eq!(
        store.sweep(before).await.expect("sweep"),
        SweepCounts::default()
    );
}

/// A refresh-token family whose newest token is idle past its lifetime goes whole before its
/// absolute end (one still in use stays), and the audit log is cut to the newest events kept.
pub async fn sweep_bounds_idle_families_and_the_log(store: &dyn Store) {
    // "idle": both tokens idle past NOW, the family's absolute end still far.
    for (hash, family, idle_end) in [
        (1, "idle", NOW - 10),
        (2, "idle", NOW - 1),
        (3, "used", NOW - 1),
        (4, "used", NOW + 10),
    ] {
        let token = RefreshToken {
            family_expires_at: NOW + 10_000,
            idle_expires_at: idle_end,
            ..refresh(hash, family)
        };
        store.insert_refresh_token(&token).await.expect("refresh");
    }
    let events: Vec<LogEvent> = (0..10)
        .map(|n: i64| log_event(&format!("log{n:03}"), (NOW - 100 + n) * 1000))
        .collect();
    store.append_logs(&events).await.expect("logs");

    let before = SweepBefore {
        now: NOW,
        codes_before: NOW - 3_600,
        throttle_windows_before: NOW - 900,
        log_events_before_ms: None,
        log_events_kept: Some(4),
        emails_before: None,
    };
    let counts = store.sweep(before).await.expect("sweep");
    assert_eq!(counts.refresh_tokens, 2, "the idle family's two tokens");
    assert_eq!(counts.log_events, 6, "all but the newest four events");
    for (hash, kept) in [(1u8, false), (2, false), (3, true), (4, true)] {
        let found = store.refresh_token_by_hash(&[hash; 32]).await.expect("get");
        assert_eq!(found.is_some(), kept, "token {hash}");
    }
    for n in 0..10 {
        let found = store.log_by_id(&format!("log{n:03}")).await.expect("get");
        assert_eq!(found.is_some(), n >= 6, "event {n}");
    }
    assert_eq!(
        store.sweep(before).await.expect("sweep"),
        SweepCounts::default()
    );
}

/// A login event logged at `date` (Unix milliseconds).
fn log_event(id: &str, date: i64) -> LogEvent {
    LogEvent {
        log_id: id.into(),
        date,
        event_type: "s".into(),
        description: "Successful login".into(),
        ip: None,
        user_agent: None,
        client_id: None,
        client_name: None,
        user_id: None,
        user_name: None,
        details: serde_json::json!({}),
    }
}
