//! Tickets: found while live, used exactly once even under concurrent use, refused once
//! expired, swept after their expiry, gone with their user.

use portcullis_store::Ticket;
use portcullis_types::TicketKind;

use super::*;

fn ticket(hash: u8, kind: TicketKind, user_id: &str, expires_at: i64) -> Ticket {
    Ticket {
        ticket_hash: vec![hash; 32],
        kind,
        user_id: user_id.into(),
        client_id: Some("client001".into()),
        result_url: Some("https://app.example/done".into()),
        include_email_in_redirect: true,
        mark_email_verified: false,
        address: (kind == TicketKind::AccountUnblock).then(|| "203.0.113.7".into()),
        created_at: NOW,
        expires_at,
        used_at: None,
    }
}

/// A ticket is seen while live, used once (of concurrent uses one wins), and not after its
/// expiry; another kind's ticket of the same value is not it.
pub async fn tickets_are_single_use_and_expire(store: &dyn Store) {
    let owner = user(1, "ticket@example.com");
    store.create_user(&owner).await.expect("user");
    let verify = ticket(1, TicketKind::EmailVerification, &owner.user_id, NOW + 60);
    store.insert_ticket(&verify).await.expect("insert");
    let reset = ticket(2, TicketKind::PasswordChange, &owner.user_id, NOW + 60);
    store.insert_ticket(&reset).await.expect("insert");
    // An unblock ticket keeps the address whose block it lifts.
    let unblock = ticket(4, TicketKind::AccountUnblock, &owner.user_id, NOW + 60);
    store.insert_ticket(&unblock).await.expect("insert");
    let taken = store
        .consume_ticket(&[4; 32], TicketKind::AccountUnblock, NOW)
        .await
        .expect("consume")
        .expect("live");
    assert_eq!(taken.address.as_deref(), Some("203.0.113.7"));

    let live = store
        .live_ticket(&[1; 32], TicketKind::EmailVerification, NOW)
        .await
        .expect("live");
    assert_eq!(live, Some(verify.clone()));
    assert!(store
        .live_ticket(&[1; 32], TicketKind::PasswordChange, NOW)
        .await
        .expect("other kind")
        .is_none());
    assert!(store
        .live_ticket(&[1; 32], TicketKind::EmailVerification, NOW + 60)
        .await
        .expect("expired")
        .is_none());

    let uses = (0..6).map(|_| store.consume_ticket(&[1; 32], TicketKind::EmailVerification, NOW));
    let won: Vec<Ticket> = join_all(uses)
        .await
        .into_iter()
        .filter_map(|used| used.expect("consume"))
        .collect();
    assert_eq!(won.len(), 1, "one use wins");
    assert_eq!(won[0].used_at, Some(NOW));
    assert!(store
        .live_ticket(&[1; 32], TicketKind::EmailVerification, NOW)
        .await
        .expect("used")
        .is_none());
    assert!(store
        .consume_ticket(&[2; 32], TicketKind::PasswordChange, NOW + 60)
        .await
        .expect("expired")
        .is_none());

    // The sweep deletes expired tickets only.
    let later = ticket(3, TicketKind::PasswordChange, &owner.user_id, NOW + 600);
    store.insert_ticket(&later).await.expect("insert");
    let before = SweepBefore {
        now: NOW + 60,
        codes_before: NOW,
        throttle_windows_before: NOW,
        log_events_before_ms: None,
        log_events_kept: None,
        emails_before: None,
    };
    assert_eq!(store.sweep(before).await.expect("sweep").tickets, 3);
    assert!(store
        .live_ticket(&[3; 32], TicketKind::PasswordChange, NOW + 60)
        .await
        .expect("kept")
        .is_some());
    // Deleting the user deletes their tickets.
    store.delete_user(&owner.user_id).await.expect("delete");
    assert!(store
        .live_ticket(&[3; 32], TicketKind::PasswordChange, NOW + 60)
        .await
        .expect("gone")
        .is_none());
}
