//! Administrators, their sessions, and the audit log.

use super::*;

/// Administrators: unique by email, case-insensitively.
pub async fn admins_crud(store: &dyn Store) {
    let admin = Admin {
        id: "adm_1".into(),
        email: "Root@Example.com".into(),
        password_hash: "hash".into(),
        created_at: NOW,
    };
    store.create_admin(&admin).await.unwrap();
    assert!(is_conflict(
        store
            .create_admin(&Admin {
                id: "adm_2".into(),
                email: "root@example.COM".into(),
                ..admin.clone()
            })
            .await
    ));
    assert_eq!(
        store.admin_by_email("root@example.com").await.unwrap(),
        Some(admin.clone())
    );
    store.update_admin_password("adm_1", "new").await.unwrap();
    assert_eq!(
        store
            .admin_by_id("adm_1")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "new"
    );
    assert!(is_not_found(
        store.update_admin_password("adm_9", "x").await
    ));
    assert_eq!(store.list_admins().await.unwrap().len(), 1);
}

/// Administrators' dashboard sessions expire, end on deletion, and name an administrator.
pub async fn admin_sessions_expire(store: &dyn Store) {
    let admin = Admin {
        id: "adm_1".into(),
        email: "root@example.com".into(),
        password_hash: "hash".into(),
        created_at: NOW,
    };
    store.create_admin(&admin).await.unwrap();
    let session = AdminSession {
        id_hash: vec![7; 32],
        admin_id: admin.id.clone(),
        created_at: NOW,
        expires_at: NOW + 60,
        mfa_pending: false,
    };
    store.create_admin_session(&session).await.unwrap();
    assert_eq!(
        store.admin_session_by_hash(&[7; 32], NOW).await.unwrap(),
        Some(session.clone())
    );
    assert_eq!(
        store
            .admin_session_by_hash(&[7; 32], NOW + 60)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.admin_session_by_hash(&[8; 32], NOW).await.unwrap(),
        None
    );
    assert!(is_not_found(
        store
            .create_admin_session(&AdminSession {
                id_hash: vec![9; 32],
                admin_id: "adm_9".into(),
                ..session.clone()
            })
            .await
    ));
    store.delete_admin_session(&[7; 32]).await.unwrap();
    assert_eq!(
        store.admin_session_by_hash(&[7; 32], NOW).await.unwrap(),
        None
    );
}

/// The audit log lists newest first and filters by type, user and client.
pub async fn audit_log_filters(store: &dyn Store) {
    let event = |n: i64, event_type: &str, user: Option<&str>, client: Option<&str>| LogEvent {
        log_id: format!("{:020}", NOW * 1000 + n),
        date: NOW * 1000 + n,
        event_type: event_type.into(),
        description: format!("event {n}"),
        ip: Some("127.0.0.1".into()),
        user_agent: None,
        client_id: client.map(Into::into),
        client_name: None,
        user_id: user.map(Into::into),
        user_name: None,
        details: serde_json::json!({"n": n}),
    };
    let events = [
        event(1, "s", Some("auth0|a"), Some("c1")),
        event(2, "f", Some("auth0|a"), Some("c1")),
        event(3, "s", Some("auth0|b"), Some("c2")),
        event(4, "seccft", None, Some("c2")),
    ];
    for e in &events {
        store.append_log(e).await.unwrap();
    }
    let ids = |list: (Vec<LogEvent>, u64)| {
        (
            list.0
                .into_iter()
                .map(|e| e.details["n"].as_i64().unwrap())
                .collect::<Vec<_>>(),
            list.1,
        )
    };
    let all = LogFilter::default();
    assert_eq!(
        ids(store.list_logs(&all, Page::ALL).await.unwrap()),
        (vec![4, 3, 2, 1], 4)
    );
    let page = Page {
        page: 1,
        per_page: 3,
    };
    assert_eq!(
        ids(store.list_logs(&all, page).await.unwrap()),
        (vec![1], 4)
    );
    let logins = LogFilter {
        event_type: Some("s".into()),
        ..LogFilter::default()
    };
    assert_eq!(
        ids(store.list_logs(&logins, Page::ALL).await.unwrap()),
        (vec![3, 1], 2)
    );
    let alice_c1 = LogFilter {
        user_id: Some("auth0|a".into()),
        client_id: Some("c1".into()),
        event_type: None,
    };
    assert_eq!(
        ids(store.list_logs(&alice_c1, Page::ALL).await.unwrap()),
        (vec![2, 1], 2)
    );
    assert_eq!(
        store.log_by_id(&events[2].log_id).await.unwrap(),
        Some(events[2].clone())
    );
    assert_eq!(store.log_by_id("nope").await.unwrap(), None);
}

/// Batched appends keep every event, in one statement or, past its size, several in one
/// transaction; an empty batch writes nothing.
pub async fn audit_log_batches(store: &dyn Store) {
    let events: Vec<LogEvent> = (0..600)
        .map(|n| LogEvent {
            log_id: format!("{:020}", NOW * 1000 + n),
            date: NOW * 1000 + n,
            event_type: "seccft".into(),
            description: "Successful client_credentials exchange".into(),
            ip: None,
            user_agent: Some("batch".into()),
            client_id: Some(format!("client-{}", n % 7)),
            client_name: None,
            user_id: None,
            user_name: None,
            details: serde_json::json!({"n": n}),
        })
        .collect();
    store.append_logs(&[]).await.unwrap();
    store.append_logs(&events[..3]).await.unwrap();
    store.append_logs(&events[3..]).await.unwrap();
    let (listed, total) = store
        .list_logs(&LogFilter::default(), Page::ALL)
        .await
        .unwrap();
    assert_eq!(total, 600);
    assert_eq!(listed.len(), 600);
    assert_eq!(listed[0], events[599]);
    assert_eq!(listed[599], events[0]);
    // A batch whose second statement hits a duplicate id fails as a whole: nothing is kept.
    let mut clash: Vec<LogEvent> = (600..900)
        .map(|n| LogEvent {
            log_id: format!("{:020}", NOW * 1000 + n),
            ..events[0].clone()
        })
        .collect();
    clash.extend_from_slice(&events[590..]);
    assert!(store.append_logs(&clash).await.is_err());
    assert_eq!(
        store
            .list_logs(&LogFilter::default(), Page::ALL)
            .await
            .unwrap()
            .1,
        600
    );
}
