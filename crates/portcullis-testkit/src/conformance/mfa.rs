//! Multi-factor authentication: the tenant's settings, an authenticator's forward-only
//! counter, single-use recovery codes, and what deleting a user takes with it.

use std::collections::BTreeSet;

use portcullis_store::{Authenticator, MfaOwner};
use portcullis_types::{AuthMethod, MfaFactor, MfaPolicy};

use super::*;

fn authenticator(id: &str, owner: &MfaOwner, kind: MfaFactor) -> Authenticator {
    Authenticator {
        id: id.into(),
        owner: owner.clone(),
        kind,
        name: None,
        confirmed: false,
        secret: Some(vec![1, 2, 3]),
        counter: 0,
        created_at: NOW,
        last_used_at: None,
    }
}

/// Factors and policies round-trip; a counter only moves forward; a recovery code is used
/// once, and only by its owner; deleting the user deletes their authenticators.
pub async fn mfa_counters_and_recovery_codes_are_single_use(store: &dyn Store) {
    assert_eq!(store.mfa_settings().await.unwrap(), Default::default());
    store.set_mfa_factor(MfaFactor::Otp, true).await.unwrap();
    store
        .set_mfa_factor(MfaFactor::RecoveryCode, true)
        .await
        .unwrap();
    store
        .set_mfa_factor(MfaFactor::RecoveryCode, false)
        .await
        .unwrap();
    store
        .set_mfa_policies(&[MfaPolicy::AllApplications])
        .await
        .unwrap();
    let settings = store.mfa_settings().await.unwrap();
    assert_eq!(settings.enabled, BTreeSet::from([MfaFactor::Otp]));
    assert!(settings.always());
    store.set_mfa_policies(&[]).await.unwrap();
    assert!(store.mfa_settings().await.unwrap().policies.is_empty());

    let owner_user = user(1, "mfa@example.com");
    store.create_user(&owner_user).await.unwrap();
    let owner = MfaOwner::User(owner_user.user_id.clone());
    let other = MfaOwner::User("auth0|other".into());
    store
        .insert_authenticator(&authenticator("totp|dev_1", &owner, MfaFactor::Otp))
        .await
        .unwrap();
    assert!(!store
        .confirm_authenticator(&other, "totp|dev_1")
        .await
        .unwrap());
    assert!(store
        .confirm_authenticator(&owner, "totp|dev_1")
        .await
        .unwrap());
    assert!(store
        .advance_authenticator("totp|dev_1", 5, NOW)
        .await
        .unwrap());
    assert!(!store
        .advance_authenticator("totp|dev_1", 5, NOW)
        .await
        .unwrap());
    assert!(!store
        .advance_authenticator("totp|dev_1", 4, NOW)
        .await
        .unwrap());
    let listed = store.authenticators(&owner).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].counter, listed[0].confirmed), (5, true));

    let mut codes = authenticator("recovery-code|dev_2", &owner, MfaFactor::RecoveryCode);
    codes.confirmed = true;
    codes.secret = None;
    store.insert_authenticator(&codes).await.unwrap();
    store
        .insert_recovery_codes(&codes.id, &[vec![7; 32], vec![8; 32]])
        .await
        .unwrap();
    assert!(!store
        .use_recovery_code(&other, &[7; 32], NOW)
        .await
        .unwrap());
    assert!(store
        .use_recovery_code(&owner, &[7; 32], NOW)
        .await
        .unwrap());
    assert!(!store
        .use_recovery_code(&owner, &[7; 32], NOW)
        .await
        .unwrap());
    assert_eq!(store.unused_recovery_codes(&codes.id).await.unwrap(), 1);

    // A session records its second factor.
    let session = LoginSession {
        id_hash: vec![3; 32],
        sid: "sid-mfa".into(),
        user_id: owner_user.user_id.clone(),
        auth_time: NOW,
        expires_at: NOW + 100,
        idle_expires_at: NOW + 100,
        amr: vec![AuthMethod::Pwd],
        mfa_time: None,
    };
    store.create_session(&session).await.unwrap();
    let amr = [AuthMethod::Pwd, AuthMethod::Mfa, AuthMethod::Otp];
    store
        .record_session_mfa(&[3; 32], &amr, NOW + 1)
        .await
        .unwrap();
    let found = store.session_by_hash(&[3; 32], NOW).await.unwrap().unwrap();
    assert_eq!(
        (found.amr.as_slice(), found.mfa_time),
        (&amr[..], Some(NOW + 1))
    );

    assert!(!store.delete_authenticator(&other, &codes.id).await.unwrap());
    store.delete_user(&owner_user.user_id).await.unwrap();
    assert!(store.authenticators(&owner).await.unwrap().is_empty());
}

pub async fn admin_mfa_pending_sessions_and_the_mandatory_setting(store: &dyn Store) {
    use portcullis_store::{Admin, AdminSession};

    assert!(!store.admin_mfa_required().await.unwrap());
    store.set_admin_mfa_required(true).await.unwrap();
    assert!(store.admin_mfa_required().await.unwrap());
    store.set_admin_mfa_required(false).await.unwrap();
    assert!(!store.admin_mfa_required().await.unwrap());

    let admin = Admin {
        id: "adm_mfa".into(),
        email: "mfa@example.com".into(),
        password_hash: "hash".into(),
        created_at: NOW,
    };
    store.create_admin(&admin).await.unwrap();
    let session = AdminSession {
        id_hash: vec![5; 32],
        admin_id: admin.id.clone(),
        created_at: NOW,
        expires_at: NOW + 60,
        mfa_pending: true,
    };
    store.create_admin_session(&session).await.unwrap();
    let found = store.admin_session_by_hash(&[5; 32], NOW).await.unwrap();
    assert!(found.unwrap().mfa_pending);
    store.complete_admin_session_mfa(&[5; 32]).await.unwrap();
    let found = store.admin_session_by_hash(&[5; 32], NOW).await.unwrap();
    assert!(!found.unwrap().mfa_pending);
}
