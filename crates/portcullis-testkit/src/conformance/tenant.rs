//! APIs, applications, client grants, users and listings.

use super::*;

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
    public.client_metadata.clear();
    store.create_client(&public).await.expect("create");
    assert_eq!(
        store.client_by_id("client002").await.expect("get"),
        Some(public.clone()),
        "no metadata is an empty object"
    );
    one.callbacks.push("https://app1.example/again".into());
    one.refresh_token.rotation_type = RotationType::NonRotating;
    one.client_metadata
        .insert("home".into(), "https://app1.example/ \"quoted\" é".into());
    one.client_metadata.remove("tier");
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
