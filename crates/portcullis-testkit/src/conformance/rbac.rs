//! Roles, permissions and access rules.

use super::*;

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
