//! WebAuthn: a credential id is enrolled once and finds its owner; a key's sign count only
//! moves forward (or stays at zero for a key that keeps none); a ceremony is taken once and
//! not after it expires.

use portcullis_store::{Authenticator, MfaOwner, WebauthnChallenge};
use portcullis_types::MfaFactor;

use super::*;

fn key(id: &str, owner: &MfaOwner, confirmed: bool) -> Authenticator {
    Authenticator {
        id: id.into(),
        owner: owner.clone(),
        kind: MfaFactor::WebauthnRoaming,
        name: Some("Security key".into()),
        confirmed,
        secret: Some(b"{}".to_vec()),
        counter: 0,
        created_at: NOW,
        last_used_at: None,
    }
}

pub async fn webauthn_credentials_and_ceremonies(store: &dyn Store) {
    let person = user(1, "keys@example.com");
    store.create_user(&person).await.unwrap();
    let owner = MfaOwner::User(person.user_id.clone());
    let first = key("webauthn-roaming|dev_1", &owner, true);
    assert!(store
        .insert_webauthn_authenticator(&first, "cred-1")
        .await
        .unwrap());
    // The same credential is never enrolled twice, by anyone.
    let again = key("webauthn-roaming|dev_2", &owner, true);
    assert!(!store
        .insert_webauthn_authenticator(&again, "cred-1")
        .await
        .unwrap());
    let found = store
        .authenticator_by_credential("cred-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, first);
    assert!(store
        .authenticator_by_credential("cred-2")
        .await
        .unwrap()
        .is_none());
    // An unconfirmed key is not found.
    let pending = key("webauthn-roaming|dev_3", &owner, false);
    assert!(store
        .insert_webauthn_authenticator(&pending, "cred-3")
        .await
        .unwrap());
    assert!(store
        .authenticator_by_credential("cred-3")
        .await
        .unwrap()
        .is_none());

    // A key that keeps no count stays at zero; once it counts, it only moves forward.
    assert!(store
        .use_webauthn_credential(&first.id, 0, b"{\"n\":0}", NOW)
        .await
        .unwrap());
    assert!(store
        .use_webauthn_credential(&first.id, 5, b"{\"n\":5}", NOW + 1)
        .await
        .unwrap());
    assert!(!store
        .use_webauthn_credential(&first.id, 5, b"{}", NOW + 2)
        .await
        .unwrap());
    assert!(!store
        .use_webauthn_credential(&first.id, 3, b"{}", NOW + 2)
        .await
        .unwrap());
    assert!(!store
        .use_webauthn_credential(&first.id, 0, b"{}", NOW + 2)
        .await
        .unwrap());
    let used = store
        .authenticator_by_credential("cred-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (used.counter, used.secret.as_deref()),
        (5, Some(&b"{\"n\":5}"[..]))
    );
    assert_eq!(used.last_used_at, Some(NOW + 1));

    // A ceremony is taken once, and not once it has expired.
    let ceremony = |id: &[u8], expires_at| WebauthnChallenge {
        id_hash: id.to_vec(),
        session_hash: Some(b"session".to_vec()),
        state: "{\"ceremony\":\"sign_in\"}".into(),
        expires_at,
    };
    store
        .insert_webauthn_challenge(&ceremony(b"a", NOW + 300), NOW)
        .await
        .unwrap();
    store
        .insert_webauthn_challenge(&ceremony(b"b", NOW + 10), NOW)
        .await
        .unwrap();
    assert_eq!(
        store.take_webauthn_challenge(b"a", NOW).await.unwrap(),
        Some(ceremony(b"a", NOW + 300))
    );
    assert_eq!(
        store.take_webauthn_challenge(b"a", NOW).await.unwrap(),
        None
    );
    assert_eq!(
        store.take_webauthn_challenge(b"b", NOW + 10).await.unwrap(),
        None
    );
    // A new ceremony clears the expired ones.
    store
        .insert_webauthn_challenge(&ceremony(b"c", NOW + 300), NOW)
        .await
        .unwrap();
    store
        .insert_webauthn_challenge(&ceremony(b"d", NOW + 900), NOW + 600)
        .await
        .unwrap();
    assert_eq!(
        store.take_webauthn_challenge(b"c", NOW).await.unwrap(),
        None
    );

    // Deleting the user deletes their keys.
    store.delete_user(&person.user_id).await.unwrap();
    assert!(store
        .authenticator_by_credential("cred-1")
        .await
        .unwrap()
        .is_none());
}

/// A sign-up with a passkey stores the user and the key together or neither: a taken email
/// is a conflict and a credential enrolled already is refused, each leaving nothing behind.
/// Live ceremonies are counted.
pub async fn passkey_users_are_created_with_their_key_or_not_at_all(store: &dyn Store) {
    let first = user(1, "first@example.com");
    let owner = MfaOwner::User(first.user_id.clone());
    let first_key = key("passkey|dev_1", &owner, true);
    assert!(store
        .create_user_with_passkey(&first, &first_key, "cred-1")
        .await
        .unwrap());
    assert_eq!(
        store
            .authenticator_by_credential("cred-1")
            .await
            .unwrap()
            .map(|a| a.owner),
        Some(owner)
    );
    // The same credential for another new user: refused, and that user is not stored.
    let second = user(2, "second@example.com");
    let second_key = key(
        "passkey|dev_2",
        &MfaOwner::User(second.user_id.clone()),
        true,
    );
    assert!(!store
        .create_user_with_passkey(&second, &second_key, "cred-1")
        .await
        .unwrap());
    assert!(store.user_by_id(&second.user_id).await.unwrap().is_none());
    // A taken email: a conflict, and the key is not stored.
    let twin = user(3, "FIRST@example.com");
    let twin_key = key("passkey|dev_3", &MfaOwner::User(twin.user_id.clone()), true);
    let taken = store
        .create_user_with_passkey(&twin, &twin_key, "cred-3")
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    assert!(store
        .authenticator_by_credential("cred-3")
        .await
        .unwrap()
        .is_none());

    let ceremony = |id: &[u8], expires_at| WebauthnChallenge {
        id_hash: id.to_vec(),
        session_hash: None,
        state: "{}".into(),
        expires_at,
    };
    assert_eq!(store.live_webauthn_challenges(NOW).await.unwrap(), 0);
    for (id, expires_at) in [(b"x", NOW + 300), (b"y", NOW + 10)] {
        store
            .insert_webauthn_challenge(&ceremony(id, expires_at), NOW)
            .await
            .unwrap();
    }
    assert_eq!(store.live_webauthn_challenges(NOW).await.unwrap(), 2);
    assert_eq!(store.live_webauthn_challenges(NOW + 10).await.unwrap(), 1);
}
