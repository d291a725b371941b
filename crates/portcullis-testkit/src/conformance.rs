//! The storage conformance suite: what every `Store` implementation must do, one function per
//! behaviour. Each takes an empty store; `tests/it` runs each against SQLite and PostgreSQL.
//! Concurrency is real: the racing calls are polled together and each holds its own
//! connection of the store's pool.

use futures::future::join_all;
use portcullis_store::{
    AccessRule, Admin, AdminSession, AppType, AuthorizationCode, Client, ClientGrant, KeyState,
    LogEvent, LogFilter, LoginSession, OpaqueToken, Page, Permission, Redeemed, RefreshToken,
    RefreshTokenPolicy, ResourceServer, Role, RotationOutcome, RuleCondition, ScopeDefinition,
    SigningKey, Store, StoreError, User,
};

const NOW: i64 = 1_800_000_000;

fn api(n: u32) -> ResourceServer {
    ResourceServer {
        id: format!("api{n:03}"),
        name: format!("API {n}"),
        identifier: format!("https://api{n}.example"),
        signing_alg: "RS256".into(),
        scopes: vec![ScopeDefinition {
            value: "read:messages".into(),
            description: "Read".into(),
        }],
        token_lifetime: 86_400,
        token_lifetime_for_web: 7_200,
        allow_offline_access: false,
        skip_consent_for_verifiable_first_party_clients: true,
        enforce_policies: false,
        token_dialect: "access_token".into(),
        is_system: false,
        created_at: NOW + i64::from(n),
    }
}

fn client(n: u32) -> Client {
    Client {
        client_id: format!("client{n:03}"),
        name: format!("Client {n}"),
        app_type: AppType::RegularWeb,
        client_secret_hash: Some(vec![n as u8; 32]),
        token_endpoint_auth_method: "client_secret_post".into(),
        callbacks: vec![format!("https://app{n}.example/callback")],
        allowed_logout_urls: vec![],
        web_origins: vec![format!("https://app{n}.example")],
        allowed_origins: vec![format!("https://other{n}.example")],
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        id_token_lifetime: 36_000,
        refresh_token: RefreshTokenPolicy {
            leeway: 10,
            ..RefreshTokenPolicy::default()
        },
        is_first_party: true,
        created_at: NOW + i64::from(n),
    }
}

fn user(n: u32, email: &str) -> User {
    User {
        user_id: format!("auth0|{n:024}"),
        email: email.into(),
        email_verified: false,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        name: email.into(),
        nickname: email.split('@').next().unwrap_or_default().into(),
        picture: String::new(),
        blocked: false,
        created_at: NOW + i64::from(n),
        updated_at: NOW + i64::from(n),
        last_login: None,
        logins_count: 0,
    }
}

fn code(hash: u8, expires_at: i64) -> AuthorizationCode {
    AuthorizationCode {
        code_hash: vec![hash; 32],
        client_id: "client001".into(),
        user_id: "auth0|1".into(),
        redirect_uri: "https://app1.example/callback".into(),
        scope: "openid offline_access".into(),
        audience: Some("https://api1.example".into()),
        nonce: Some("n".into()),
        code_challenge: Some("c".into()),
        sid: "sid".into(),
        auth_time: NOW,
        expires_at,
    }
}

fn refresh(hash: u8, family: &str) -> RefreshToken {
    RefreshToken {
        token_hash: vec![hash; 32],
        family_id: family.into(),
        client_id: "client001".into(),
        user_id: "auth0|1".into(),
        audience: Some("https://api1.example".into()),
        scope: "openid offline_access".into(),
        sid: "sid".into(),
        auth_time: NOW,
        created_at: NOW,
        family_expires_at: NOW + 1_000,
        idle_expires_at: NOW + 500,
        rotated_at: None,
        revoked: false,
    }
}

fn key(kid: &str, state: KeyState) -> SigningKey {
    SigningKey {
        kid: kid.into(),
        state,
        private_pkcs8: kid.as_bytes().repeat(8),
        created_at: NOW,
        retire_after: None,
    }
}

fn is_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Conflict(_)))
}

fn is_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::NotFound))
}

/// APIs: create, read by id and identifier, unique identifier, update, delete.
pub async fn resource_server_crud(store: &dyn Store) {
    let mut one = api(1);
    store.create_resource_server(&one).await.expect("create");
    assert_eq!(
        store.resource_server_by_id("api001").await.expect("get"),
        Some(one.clone())
    );
    assert_eq!(
        store
            .resource_server_by_identifier("https://api1.example")
            .await
            .expect("get"),
        Some(one.clone())
    );
    let mut twin = api(2);
    twin.identifier = one.identifier.clone();
    assert!(is_conflict(store.create_resource_server(&twin).await));
    one.name = "Renamed".into();
    one.scopes.push(ScopeDefinition {
        value: "write:messages".into(),
        description: String::new(),
    });
    one.allow_offline_access = true;
    store.update_resource_server(&one).await.expect("update");
    assert_eq!(
        store.resource_server_by_id("api001").await.expect("get"),
        Some(one)
    );
    assert!(is_not_found(store.update_resource_server(&api(9)).await));
    store
        .delete_resource_server("api001")
        .await
        .expect("delete");
    assert_eq!(
        store.resource_server_by_id("api001").await.expect("get"),
        None
    );
    assert!(is_not_found(store.delete_resource_server("api001").await));
}

/// Applications and client grants, origins, and grants deleted with their client.
pub async fn client_and_grant_crud(store: &dyn Store) {
    let mut one = client(1);
    store.create_client(&one).await.expect("create");
    assert!(is_conflict(store.create_client(&one).await));
    assert_eq!(
        store.client_by_id("client001").await.expect("get"),
        Some(one.clone())
    );
    let mut public = client(2);
    public.app_type = AppType::Spa;
    public.client_secret_hash = None;
    store.create_client(&public).await.expect("create");
    one.callbacks.push("https://app1.example/again".into());
    one.refresh_token.rotation_type = "non-rotating".into();
    store.update_client(&one).await.expect("update");
    assert_eq!(
        store.client_by_id("client001").await.expect("get"),
        Some(one.clone())
    );
    let mut origins = store.all_client_origins().await.expect("origins");
    origins.sort();
    assert_eq!(
        origins,
        [
            "https://app1.example",
            "https://app2.example",
            "https://other1.example",
            "https://other2.example"
        ]
    );

    let mut grant = ClientGrant {
        id: "cgr_1".into(),
        client_id: "client001".into(),
        audience: "https://api1.example".into(),
        scope: vec!["read:messages".into()],
    };
    store.create_client_grant(&grant).await.expect("grant");
    let twin = ClientGrant {
        id: "cgr_2".into(),
        ..grant.clone()
    };
    assert!(is_conflict(store.create_client_grant(&twin).await));
    grant.scope.push("write:messages".into());
    store.update_client_grant(&grant).await.expect("update");
    assert_eq!(
        store
            .client_grant_for("client001", "https://api1.example")
            .await
            .expect("get"),
        Some(grant.clone())
    );
    assert_eq!(
        store
            .client_grant_for("client002", "https://api1.example")
            .await
            .expect("get"),
        None
    );
    store.delete_client("client001").await.expect("delete");
    assert_eq!(store.client_by_id("client001").await.expect("get"), None);
    assert_eq!(
        store.list_client_grants(Page::ALL).await.expect("list").1,
        0,
        "a client's grants go with it"
    );
    assert!(is_not_found(store.delete_client("client001").await));
    assert!(is_not_found(store.delete_client_grant("cgr_1").await));
}

/// Users: emails unique and found regardless of case; updates and login counts.
pub async fn user_crud_and_email_case_insensitivity(store: &dyn Store) {
    let mut jane = user(1, "Jane.Doe@Example.com");
    store.create_user(&jane).await.expect("create");
    let found = store
        .user_by_email("jane.doe@EXAMPLE.COM")
        .await
        .expect("by email")
        .expect("found whatever the case");
    assert_eq!(found, jane);
    assert_eq!(found.password_hash, jane.password_hash);
    assert!(is_conflict(
        store.create_user(&user(2, "JANE.DOE@example.com")).await
    ));
    store
        .record_login(&jane.user_id, NOW + 50)
        .await
        .expect("login");
    store
        .record_login(&jane.user_id, NOW + 60)
        .await
        .expect("login");
    let after = store
        .user_by_id(&jane.user_id)
        .await
        .expect("get")
        .expect("found");
    assert_eq!((after.logins_count, after.last_login), (2, Some(NOW + 60)));
    jane.email = "jane@example.org".into();
    jane.blocked = true;
    jane.updated_at = NOW + 70;
    store.update_user(&jane).await.expect("update");
    assert_eq!(
        store
            .user_by_email("JANE@example.org")
            .await
            .expect("get")
            .map(|u| u.blocked),
        Some(true)
    );
    assert_eq!(
        store
            .user_by_email("jane.doe@example.com")
            .await
            .expect("get"),
        None
    );
    store.delete_user(&jane.user_id).await.expect("delete");
    assert_eq!(store.user_by_id(&jane.user_id).await.expect("get"), None);
    assert!(is_not_found(store.delete_user(&jane.user_id).await));
}

/// Listings: pages in creation order, the total of the whole result, literal search text.
pub async fn list_pagination_and_total(store: &dyn Store) {
    let emails = [
        "a@example.com",
        "b_1@example.com",
        "bx1@example.com",
        "c%@example.com",
        "d@other.org",
    ];
    for (n, email) in (1..).zip(emails) {
        store.create_user(&user(n, email)).await.expect("create");
        store.create_client(&client(n)).await.expect("client");
        store.create_resource_server(&api(n)).await.expect("api");
    }
    let page = |page, per_page| Page { page, per_page };
    let (first, total) = store.list_users(None, page(0, 2)).await.expect("list");
    assert_eq!(total, 5);
    assert_eq!(
        first.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(),
        ["a@example.com", "b_1@example.com"]
    );
    let (last, total) = store.list_users(None, page(2, 2)).await.expect("list");
    assert_eq!((last.len(), total), (1, 5));
    assert_eq!(last[0].email, "d@other.org");
    let (beyond, total) = store.list_users(None, page(9, 2)).await.expect("list");
    assert_eq!((beyond.len(), total), (0, 5));
    let (found, total) = store
        .list_users(Some("EXAMPLE.com"), page(0, 10))
        .await
        .expect("search");
    assert_eq!((found.len(), total), (4, 4));
    // `_` and `%` match themselves, not any character.
    let (found, total) = store
        .list_users(Some("b_1"), page(0, 10))
        .await
        .expect("search");
    assert_eq!(total, 1);
    assert_eq!(found[0].email, "b_1@example.com");
    let (found, _) = store
        .list_users(Some("%"), page(0, 10))
        .await
        .expect("search");
    assert_eq!(
        found.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(),
        ["c%@example.com"]
    );
    let (clients, total) = store.list_clients(page(1, 3)).await.expect("clients");
    assert_eq!(total, 5);
    assert_eq!(
        clients
            .iter()
            .map(|c| c.client_id.as_str())
            .collect::<Vec<_>>(),
        ["client004", "client005"]
    );
    let (apis, total) = store.list_resource_servers(page(0, 2)).await.expect("apis");
    assert_eq!(total, 5);
    assert_eq!(apis[1].id, "api002");
}

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

/// Processes starting together on an empty store: exactly one `initialize_keys` stores its
/// pair, and the store holds one current and one next key.
pub async fn key_initialization_race_creates_one_set(store: &dyn Store) {
    let sets: Vec<(SigningKey, SigningKey)> = (0..6)
        .map(|n| {
            (
                key(&format!("current-{n}"), KeyState::Current),
                key(&format!("next-{n}"), KeyState::Next),
            )
        })
        .collect();
    let won = join_all(sets.iter().map(|(c, n)| store.initialize_keys(c, n)))
        .await
        .into_iter()
        .map(|r| r.expect("initialize"))
        .collect::<Vec<_>>();
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
    let winner = won.iter().position(|w| *w).unwrap_or_default();
    let mut live = store.live_keys().await.expect("keys");
    live.sort_by_key(|k| k.state.as_str());
    assert_eq!(live, vec![sets[winner].0.clone(), sets[winner].1.clone()]);
    assert!(!store
        .initialize_keys(
            &key("late-c", KeyState::Current),
            &key("late-n", KeyState::Next)
        )
        .await
        .expect("initialize"));
}

/// Rotation moves next → current → previous → retired; imported keys keep their state, and a
/// second current or next key is refused.
pub async fn key_rotation_and_import(store: &dyn Store) {
    assert!(store
        .initialize_keys(&key("k1", KeyState::Current), &key("k2", KeyState::Next))
        .await
        .expect("initialize"));
    let states = |keys: Vec<SigningKey>| {
        let mut v: Vec<(String, KeyState, Option<i64>)> = keys
            .into_iter()
            .map(|k| (k.kid, k.state, k.retire_after))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    store
        .rotate_keys(&key("k3", KeyState::Next), NOW + 100, NOW)
        .await
        .expect("rotate");
    assert_eq!(
        states(store.live_keys().await.expect("keys")),
        [
            ("k1".into(), KeyState::Previous, Some(NOW + 100)),
            ("k2".into(), KeyState::Current, None),
            ("k3".into(), KeyState::Next, None)
        ]
    );
    store
        .rotate_keys(&key("k4", KeyState::Next), NOW + 300, NOW + 200)
        .await
        .expect("rotate");
    assert_eq!(
        states(store.live_keys().await.expect("keys")),
        [
            ("k2".into(), KeyState::Previous, Some(NOW + 300)),
            ("k3".into(), KeyState::Current, None),
            ("k4".into(), KeyState::Next, None)
        ],
        "k1, past its time, is retired"
    );
    assert!(is_conflict(
        store.insert_key(&key("k5", KeyState::Current)).await
    ));
    assert!(is_conflict(
        store.insert_key(&key("k6", KeyState::Next)).await
    ));
    let mut imported = key("k7", KeyState::Previous);
    imported.retire_after = Some(NOW + 50);
    store.insert_key(&imported).await.expect("import");
    let live = store.live_keys().await.expect("keys");
    assert_eq!(live.iter().find(|k| k.kid == "k7"), Some(&imported));
    assert_eq!(
        live.iter()
            .find(|k| k.kid == "k3")
            .map(|k| k.private_pkcs8.clone()),
        Some(key("k3", KeyState::Next).private_pkcs8),
        "the stored bytes come back unchanged"
    );
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

fn role(n: u32, name: &str) -> Role {
    Role {
        id: format!("rol_{n:016}"),
        name: name.into(),
        description: format!("{name} role"),
        created_at: NOW + i64::from(n),
    }
}

fn permission(api: &ResourceServer, name: &str) -> Permission {
    Permission {
        resource_server_identifier: api.identifier.clone(),
        permission_name: name.into(),
    }
}

/// Roles, their permissions, assignments, what a user effectively holds, and what deleting
/// a role, a user or an API removes.
pub async fn roles_and_permissions(store: &dyn Store) {
    let messages = api(1);
    let other = api(2);
    store.create_resource_server(&messages).await.unwrap();
    store.create_resource_server(&other).await.unwrap();
    let alice = user(1, "alice@example.com");
    let bob = user(2, "bob@example.com");
    store.create_user(&alice).await.unwrap();
    store.create_user(&bob).await.unwrap();
    let reader = role(1, "Reader");
    let writer = role(2, "Writer");
    store.create_role(&reader).await.unwrap();
    store.create_role(&writer).await.unwrap();
    assert!(is_conflict(store.create_role(&role(3, "READER")).await));

    let (found, total) = store.list_roles(Some("read"), Page::ALL).await.unwrap();
    assert_eq!((found, total), (vec![reader.clone()], 1));
    let renamed = Role {
        description: "Reads messages".into(),
        ..reader.clone()
    };
    store.update_role(&renamed).await.unwrap();
    assert_eq!(store.role_by_id(&reader.id).await.unwrap(), Some(renamed));
    assert!(is_not_found(store.update_role(&role(9, "Ghost")).await));

    let read = permission(&messages, "read:messages");
    let write = permission(&messages, "write:messages");
    let elsewhere = permission(&other, "read:messages");
    store
        .add_role_permissions(&reader.id, &[read.clone(), read.clone(), elsewhere.clone()])
        .await
        .unwrap();
    store
        .add_role_permissions(&writer.id, std::slice::from_ref(&write))
        .await
        .unwrap();
    assert_eq!(
        store.role_permissions(&reader.id).await.unwrap(),
        vec![read.clone(), elsewhere.clone()]
    );
    assert!(is_not_found(
        store
            .add_role_permissions("rol_missing", std::slice::from_ref(&read))
            .await
    ));
    let unknown_api = Permission {
        resource_server_identifier: "https://nowhere.example".into(),
        permission_name: "x".into(),
    };
    assert!(is_not_found(
        store.add_role_permissions(&reader.id, &[unknown_api]).await
    ));
    assert!(is_not_found(store.role_permissions("rol_missing").await));

    store
        .assign_user_roles(&alice.user_id, &[reader.id.clone(), reader.id.clone()])
        .await
        .unwrap();
    store
        .add_user_permissions(&alice.user_id, std::slice::from_ref(&write))
        .await
        .unwrap();
    assert!(is_not_found(
        store
            .assign_user_roles(&alice.user_id, &["rol_missing".into()])
            .await
    ));
    assert!(is_not_found(
        store
            .assign_user_roles("auth0|missing", std::slice::from_ref(&reader.id))
            .await
    ));
    assert_eq!(
        store.user_roles(&alice.user_id).await.unwrap(),
        vec![store.role_by_id(&reader.id).await.unwrap().unwrap()]
    );
    assert_eq!(
        store.user_permissions(&alice.user_id).await.unwrap(),
        vec![write.clone()]
    );
    assert_eq!(
        store
            .effective_permissions(&alice.user_id, &messages.identifier)
            .await
            .unwrap(),
        ["read:messages", "write:messages"]
    );
    assert_eq!(
        store
            .effective_permissions(&bob.user_id, &messages.identifier)
            .await
            .unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        store.role_users(&reader.id, Page::ALL).await.unwrap(),
        (vec![alice.user_id.clone()], 1)
    );

    // Removal, then cascades.
    store
        .remove_role_permissions(&reader.id, std::slice::from_ref(&elsewhere))
        .await
        .unwrap();
    assert_eq!(
        store.role_permissions(&reader.id).await.unwrap(),
        vec![read]
    );
    store
        .remove_user_permissions(&alice.user_id, &[write])
        .await
        .unwrap();
    assert_eq!(
        store
            .effective_permissions(&alice.user_id, &messages.identifier)
            .await
            .unwrap(),
        ["read:messages"]
    );
    store.delete_resource_server(&messages.id).await.unwrap();
    assert!(store.role_permissions(&reader.id).await.unwrap().is_empty());
    store
        .assign_user_roles(&bob.user_id, std::slice::from_ref(&writer.id))
        .await
        .unwrap();
    store.delete_role(&writer.id).await.unwrap();
    assert!(store.user_roles(&bob.user_id).await.unwrap().is_empty());
    assert!(is_not_found(store.delete_role(&writer.id).await));
    store.delete_user(&alice.user_id).await.unwrap();
    assert_eq!(
        store.role_users(&reader.id, Page::ALL).await.unwrap(),
        (vec![], 0)
    );
    store
        .remove_user_roles(&bob.user_id, std::slice::from_ref(&reader.id))
        .await
        .unwrap();
}

/// Access rules belong to an API and go with it.
pub async fn access_rules_crud(store: &dyn Store) {
    let messages = api(1);
    store.create_resource_server(&messages).await.unwrap();
    let rule = |n: u32, condition: RuleCondition| AccessRule {
        id: format!("rul_{n:016}"),
        resource_server_id: messages.id.clone(),
        scope: "read:messages".into(),
        condition,
        created_at: NOW + i64::from(n),
    };
    let verified = rule(1, RuleCondition::EmailVerified);
    let clients = rule(
        2,
        RuleCondition::ClientIn {
            client_ids: vec!["client001".into()],
        },
    );
    store.create_access_rule(&clients).await.unwrap();
    store.create_access_rule(&verified).await.unwrap();
    assert_eq!(
        store.access_rules(&messages.id).await.unwrap(),
        vec![verified.clone(), clients.clone()]
    );
    assert!(is_not_found(
        store
            .create_access_rule(&AccessRule {
                resource_server_id: "api999".into(),
                ..rule(3, RuleCondition::EmailVerified)
            })
            .await
    ));
    store.delete_access_rule(&verified.id).await.unwrap();
    assert!(is_not_found(store.delete_access_rule(&verified.id).await));
    store.delete_resource_server(&messages.id).await.unwrap();
    assert!(store.access_rules(&messages.id).await.unwrap().is_empty());
}

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
