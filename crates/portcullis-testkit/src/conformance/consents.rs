//! Users' consents to applications (Auth0's user grants).

use portcullis_store::{Consent, ConsentFilter};
use portcullis_types::Scope;

use super::*;

fn consent(id: &str, user_id: &str, client_id: &str, audience: &str, scope: &str) -> Consent {
    Consent {
        id: id.into(),
        user_id: user_id.into(),
        client_id: client_id.into(),
        audience: audience.into(),
        scope: Scope::parse(scope).expect("scope"),
        created_at: NOW,
        updated_at: NOW,
    }
}

fn by_user(user_id: &str) -> ConsentFilter {
    ConsentFilter {
        user_id: Some(user_id.into()),
        ..ConsentFilter::default()
    }
}

/// One consent per user, application and audience: a second approval replaces the scope and
/// keeps the id; listings filter and count; a consent names an existing user and application
/// and goes with either.
pub async fn consents_upsert_filter_and_cascade(store: &dyn Store) {
    let alice = user(1, "alice@example.com");
    let bob = user(2, "bob@example.com");
    for person in [&alice, &bob] {
        store.create_user(person).await.expect("user");
    }
    for n in [1, 2] {
        store.create_client(&client(n)).await.expect("client");
    }
    let api = "https://api1.example";
    let first = consent(
        "ugr_1",
        &alice.user_id,
        "client001",
        api,
        "openid read:messages",
    );
    assert_eq!(store.upsert_consent(&first).await.expect("insert"), first);
    let wider = Consent {
        id: "ugr_ignored".into(),
        scope: Scope::parse("openid read:messages write:messages").expect("scope"),
        created_at: NOW + 50,
        updated_at: NOW + 50,
        ..first.clone()
    };
    let stored = store.upsert_consent(&wider).await.expect("upsert");
    assert_eq!(
        stored,
        Consent {
            id: "ugr_1".into(),
            created_at: NOW,
            ..wider.clone()
        }
    );
    assert_eq!(
        store
            .consent_for(&alice.user_id, "client001", api)
            .await
            .expect("get"),
        Some(stored.clone())
    );
    assert_eq!(
        store.consent_by_id("ugr_1").await.expect("get"),
        Some(stored.clone())
    );
    assert_eq!(
        store
            .consent_for(&alice.user_id, "client001", "https://other.example")
            .await
            .expect("get"),
        None
    );

    let others = [
        consent("ugr_2", &alice.user_id, "client002", api, "openid"),
        consent("ugr_3", &bob.user_id, "client001", api, "read:messages"),
        consent(
            "ugr_4",
            &alice.user_id,
            "client001",
            "https://login.example/userinfo",
            "openid profile",
        ),
    ];
    for other in &others {
        store.upsert_consent(other).await.expect("insert");
    }
    let (alices, total) = store
        .list_consents(&by_user(&alice.user_id), Page::ALL)
        .await
        .expect("list");
    assert_eq!(total, 3);
    assert_eq!(
        alices.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["ugr_1", "ugr_2", "ugr_4"]
    );
    let narrow = ConsentFilter {
        user_id: Some(alice.user_id.clone()),
        client_id: Some("client001".into()),
        audience: Some(api.into()),
    };
    let (only, total) = store.list_consents(&narrow, Page::ALL).await.expect("list");
    assert_eq!((only, total), (vec![stored], 1));
    let (page, total) = store
        .list_consents(
            &ConsentFilter::default(),
            Page {
                page: 1,
                per_page: 3,
            },
        )
        .await
        .expect("page");
    assert_eq!((page.len(), total), (1, 4));

    // A consent names an existing user and application.
    assert!(is_not_found(
        store
            .upsert_consent(&consent(
                "ugr_5",
                "auth0|nobody",
                "client001",
                api,
                "openid"
            ))
            .await
    ));
    assert!(is_not_found(
        store
            .upsert_consent(&consent("ugr_6", &bob.user_id, "client009", api, "openid"))
            .await
    ));

    store.delete_consent("ugr_4").await.expect("delete");
    assert!(is_not_found(store.delete_consent("ugr_4").await));
    // Deleting the application or the user deletes their consents.
    store
        .delete_client("client002")
        .await
        .expect("delete client");
    assert_eq!(store.consent_by_id("ugr_2").await.expect("get"), None);
    store.delete_user(&bob.user_id).await.expect("delete user");
    assert_eq!(store.consent_by_id("ugr_3").await.expect("get"), None);
    assert_eq!(
        store
            .delete_consents(&by_user(&alice.user_id))
            .await
            .expect("delete all"),
        1
    );
    let (left, total) = store
        .list_consents(&ConsentFilter::default(), Page::ALL)
        .await
        .expect("list");
    assert_eq!((left.len(), total), (0, 0));
}
