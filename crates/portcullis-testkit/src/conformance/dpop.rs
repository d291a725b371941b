//! DPoP proofs: each accepted once, even when shown at once to several replicas, and swept
//! once their window has passed.

use portcullis_store::{Store, SweepBefore};

use super::NOW;

pub async fn dpop_proofs_are_single_use_and_swept(store: &dyn Store) {
    let uses =
        futures::future::join_all((0..8).map(|_| store.use_dpop_proof(b"proof-1", NOW + 60))).await;
    let accepted = uses
        .into_iter()
        .filter(|used| *used.as_ref().expect("use"))
        .count();
    assert_eq!(accepted, 1, "one of the concurrent uses wins");
    assert!(store
        .use_dpop_proof(b"proof-2", NOW - 1)
        .await
        .expect("use"));
    let counts = store
        .sweep(SweepBefore {
            now: NOW,
            codes_before: NOW - 3_600,
            throttle_windows_before: NOW - 900,
            log_events_before_ms: None,
            log_events_kept: None,
            emails_before: None,
        })
        .await
        .expect("sweep");
    assert_eq!(counts.dpop_proofs, 1, "only the expired proof goes");
    assert!(!store
        .use_dpop_proof(b"proof-1", NOW + 60)
        .await
        .expect("use"));
    assert!(store
        .use_dpop_proof(b"proof-2", NOW + 60)
        .await
        .expect("use"));
}
