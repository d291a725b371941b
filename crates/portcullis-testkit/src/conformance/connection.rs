//! The database connection's settings, users' metadata and their password history.

use portcullis_store::{PasswordDictionary, PasswordHistory, Store, StoreError};
use portcullis_types::PasswordStrength;
use serde_json::json;

use super::user;

/// The schema creates the one connection with the historical policy (at least 8 characters);
/// an update replaces every setting, the id included.
pub async fn database_connection_settings_round_trip(store: &dyn Store) {
    let initial = store.database_connection().await.unwrap();
    assert!(
        initial.id.starts_with("con_") && initial.id.len() == 20,
        "{}",
        initial.id
    );
    assert_eq!(initial.name, "Username-Password-Authentication");
    assert!(!initial.disable_signup);
    assert_eq!(initial.password_policy, PasswordStrength::Low);
    assert_eq!(initial.min_length, Some(8));
    assert!(!initial.dictionary.enable && initial.dictionary.entries.is_empty());
    assert!(!initial.no_personal_info);
    assert!(!initial.history.enable);

    let mut changed = initial.clone();
    changed.id = "con_0123456789abcdef".into();
    changed.disable_signup = true;
    changed.password_policy = PasswordStrength::Excellent;
    changed.min_length = None;
    changed.dictionary = PasswordDictionary {
        enable: true,
        entries: vec!["portcullis".into(), "acme".into()],
    };
    changed.no_personal_info = true;
    changed.history = PasswordHistory {
        enable: true,
        size: 24,
    };
    store.update_database_connection(&changed).await.unwrap();
    assert_eq!(store.database_connection().await.unwrap(), changed);
}

/// Metadata objects, nested values included, come back as stored, and an update replaces
/// them.
pub async fn user_metadata_round_trips(store: &dyn Store) {
    let mut jane = user(1, "jane@example.com");
    jane.user_metadata =
        json!({"theme": "dark", "address": {"city": "Paris"}, "tags": [1, 2.5, null]})
            .as_object()
            .cloned()
            .unwrap();
    jane.app_metadata = json!({"plan": "gold"}).as_object().cloned().unwrap();
    store.create_user(&jane).await.unwrap();
    assert_eq!(
        store.user_by_id(&jane.user_id).await.unwrap(),
        Some(jane.clone())
    );

    jane.user_metadata.remove("theme");
    jane.app_metadata.clear();
    store.update_user(&jane).await.unwrap();
    let stored = store.user_by_id(&jane.user_id).await.unwrap().unwrap();
    assert_eq!(stored.user_metadata, jane.user_metadata);
    assert!(stored.app_metadata.is_empty());
    let (listed, _) = store
        .list_users(Some("jane"), portcullis_store::Page::ALL)
        .await
        .unwrap();
    assert_eq!(listed, [jane]);
}

/// A user's given and family names are kept apart from `name`, as given (any characters),
/// are changed and cleared by an update, and stay absent on a user who never had them.
pub async fn user_names_round_trip_and_clear(store: &dyn Store) {
    let mut jane = user(1, "jane@example.com");
    jane.given_name = Some("Zoë ".repeat(37) + "Ann");
    jane.family_name = Some("O'Brien-Łukasiewicz 李".into());
    let john = user(2, "john@example.com");
    store.create_user(&jane).await.unwrap();
    store.create_user(&john).await.unwrap();
    assert_eq!(
        store.user_by_id(&jane.user_id).await.unwrap(),
        Some(jane.clone())
    );
    let stored_john = store
        .user_by_email("JOHN@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored_john.given_name, stored_john.family_name),
        (None, None)
    );

    jane.given_name = Some("Jane".into());
    jane.family_name = None;
    store.update_user(&jane).await.unwrap();
    let stored = store.user_by_id(&jane.user_id).await.unwrap().unwrap();
    assert_eq!(stored.given_name.as_deref(), Some("Jane"));
    assert_eq!(stored.family_name, None);

    jane.given_name = None;
    store.update_user(&jane).await.unwrap();
    let (listed, _) = store
        .list_users(Some("jane"), portcullis_store::Page::ALL)
        .await
        .unwrap();
    assert_eq!(listed, [jane]);
    assert_eq!(
        (listed[0].given_name.clone(), listed[0].family_name.clone()),
        (None, None)
    );
}

/// The history keeps the newest hashes only, is per user, goes with its user, and refuses
/// an unknown user.
pub async fn password_history_keeps_the_newest(store: &dyn Store) {
    let jane = user(1, "jane@example.com");
    let john = user(2, "john@example.com");
    store.create_user(&jane).await.unwrap();
    store.create_user(&john).await.unwrap();
    for n in 1..=4 {
        store
            .add_password_history(&jane.user_id, &format!("hash-{n}"), 3)
            .await
            .unwrap();
    }
    store
        .add_password_history(&john.user_id, "john-1", 3)
        .await
        .unwrap();
    assert_eq!(
        store.password_history(&jane.user_id, 10).await.unwrap(),
        ["hash-4", "hash-3", "hash-2"]
    );
    assert_eq!(
        store.password_history(&jane.user_id, 2).await.unwrap(),
        ["hash-4", "hash-3"]
    );
    assert_eq!(
        store.password_history(&john.user_id, 10).await.unwrap(),
        ["john-1"]
    );
    assert!(matches!(
        store.add_password_history("auth0|nobody", "h", 3).await,
        Err(StoreError::NotFound)
    ));
    store.delete_user(&jane.user_id).await.unwrap();
    assert!(store
        .password_history(&jane.user_id, 10)
        .await
        .unwrap()
        .is_empty());
}
