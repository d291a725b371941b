//! Email templates and the outbox: claiming under leases, finishing, listing, the sweep.

use portcullis_store::{Email, EmailFilter, EmailLease, EmailOutcome, EmailTemplate};
use portcullis_types::{EmailKind, EmailStatus};

use super::*;

fn template(kind: EmailKind, subject: &str) -> EmailTemplate {
    EmailTemplate {
        template: kind,
        subject: subject.into(),
        body: "<p>{{ url }}</p>".into(),
        text: "{{ url }}".into(),
        from: String::new(),
        enabled: true,
        result_url: Some("https://app.example/verified".into()),
        url_lifetime_in_seconds: Some(3_600),
        include_email_in_redirect: true,
        updated_at: NOW,
    }
}

fn email(n: u32, recipient: &str, status: EmailStatus, next_attempt_at: i64) -> Email {
    Email {
        id: format!("eml_{n:08}"),
        kind: EmailKind::VerifyEmail,
        recipient: recipient.into(),
        user_id: None,
        client_id: None,
        sender: None,
        subject: format!("Message {n}"),
        html: "<p>https://example.test/link</p>".into(),
        text: "https://example.test/link".into(),
        link: Some("https://example.test/link".into()),
        status,
        attempts: 0,
        created_at: NOW + i64::from(n),
        updated_at: NOW + i64::from(n),
        next_attempt_at,
        lease_until: None,
        sent_at: None,
        last_error: None,
    }
}

fn lease(token: &str, until: i64) -> EmailLease {
    EmailLease {
        token: token.into(),
        until,
    }
}

/// A template is created once, replaced, and forgotten.
pub async fn email_templates_crud(store: &dyn Store) {
    let kind = EmailKind::ResetEmail;
    assert_eq!(store.email_template(kind).await.expect("get"), None);
    let first = template(kind, "Reset");
    store.create_email_template(&first).await.expect("create");
    assert!(is_conflict(
        store.create_email_template(&template(kind, "Again")).await
    ));
    assert_eq!(store.email_template(kind).await.expect("get"), Some(first));
    let replaced = EmailTemplate {
        enabled: false,
        result_url: None,
        url_lifetime_in_seconds: None,
        from: "Support <support@example.com>".into(),
        ..template(kind, "Choose a new password")
    };
    store.put_email_template(&replaced).await.expect("put");
    assert_eq!(
        store.email_template(kind).await.expect("get"),
        Some(replaced)
    );
    assert_eq!(
        store
            .email_template(EmailKind::VerifyEmail)
            .await
            .expect("get"),
        None
    );
    store.delete_email_template(kind).await.expect("delete");
    assert!(is_not_found(store.delete_email_template(kind).await));
    assert_eq!(store.email_template(kind).await.expect("get"), None);
}

/// Messages list newest first, filtered by status, recipient (case-insensitively) and user;
/// deleting a user deletes theirs.
pub async fn emails_list_filter_and_follow_their_user(store: &dyn Store) {
    let owner = user(1, "owner@example.com");
    store.create_user(&owner).await.expect("user");
    let mut owned = email(1, "Owner@Example.com", EmailStatus::Queued, NOW);
    owned.user_id = Some(owner.user_id.clone());
    store.enqueue_email(&owned).await.expect("enqueue");
    store
        .enqueue_email(&email(2, "other@example.com", EmailStatus::Outbox, NOW))
        .await
        .expect("enqueue");
    store
        .enqueue_email(&email(3, "owner@example.com", EmailStatus::Outbox, NOW))
        .await
        .expect("enqueue");
    assert!(is_conflict(store.enqueue_email(&owned).await));

    let (all, total) = store
        .list_emails(&EmailFilter::default(), Page::ALL)
        .await
        .expect("list");
    assert_eq!(total, 3);
    let ids: Vec<&str> = all.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["eml_00000003", "eml_00000002", "eml_00000001"]);
    assert_eq!(
        store.email_by_id("eml_00000001").await.expect("get"),
        Some(owned.clone())
    );

    let count = |filter: EmailFilter| async move {
        store.list_emails(&filter, Page::ALL).await.expect("list").1
    };
    let to_owner = EmailFilter {
        recipient: Some("OWNER@example.COM".into()),
        ..EmailFilter::default()
    };
    assert_eq!(count(to_owner.clone()).await, 2);
    let outbox_to_owner = EmailFilter {
        status: Some(EmailStatus::Outbox),
        ..to_owner
    };
    assert_eq!(count(outbox_to_owner).await, 1);
    let of_owner = EmailFilter {
        user_id: Some(owner.user_id.clone()),
        ..EmailFilter::default()
    };
    assert_eq!(count(of_owner.clone()).await, 1);
    let page = Page {
        page: 1,
        per_page: 2,
    };
    let (second, total) = store
        .list_emails(&EmailFilter::default(), page)
        .await
        .expect("page");
    assert_eq!((second.len(), total), (1, 3));

    store
        .delete_user(&owner.user_id)
        .await
        .expect("delete user");
    assert_eq!(count(of_owner).await, 0);
    assert_eq!(count(EmailFilter::default()).await, 2);
}

/// A claim takes due, queued, unleased messages and counts an attempt; a live lease keeps
/// others off, an ended one lets the message be claimed again; only the lease's holder
/// finishes it, and a retried message waits for its next attempt.
pub async fn email_claims_lease_and_finish(store: &dyn Store) {
    store
        .enqueue_email(&email(1, "a@example.com", EmailStatus::Queued, NOW))
        .await
        .expect("due");
    store
        .enqueue_email(&email(2, "b@example.com", EmailStatus::Queued, NOW + 100))
        .await
        .expect("later");
    store
        .enqueue_email(&email(3, "c@example.com", EmailStatus::Outbox, NOW))
        .await
        .expect("outbox");

    let claimed = store
        .claim_emails(&lease("first", NOW + 60), NOW, 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1, "only the due, queued message");
    assert_eq!(claimed[0].id, "eml_00000001");
    assert_eq!(claimed[0].attempts, 1);
    assert_eq!(claimed[0].lease_until, Some(NOW + 60));
    assert!(store
        .claim_emails(&lease("second", NOW + 90), NOW + 30, 10)
        .await
        .expect("claim")
        .is_empty());

    // The first sender died: its lease ends and another claims the message.
    let again = store
        .claim_emails(&lease("second", NOW + 120), NOW + 60, 1)
        .await
        .expect("claim");
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].id.as_str(), again[0].attempts),
        ("eml_00000001", 2)
    );
    let sent = EmailOutcome::Sent { at: NOW + 61 };
    assert!(!store
        .finish_email("eml_00000001", "first", &sent)
        .await
        .expect("finish"));

    let retry = EmailOutcome::Retry {
        at: NOW + 61,
        next_attempt_at: NOW + 200,
        error: "connection refused".into(),
    };
    assert!(store
        .finish_email("eml_00000001", "second", &retry)
        .await
        .expect("retry"));
    let waiting = store
        .email_by_id("eml_00000001")
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(waiting.status, EmailStatus::Queued);
    assert_eq!(waiting.next_attempt_at, NOW + 200);
    assert_eq!(waiting.lease_until, None);
    assert_eq!(waiting.last_error.as_deref(), Some("connection refused"));

    // At NOW + 150 only the second message is due.
    let due = store
        .claim_emails(&lease("third", NOW + 210), NOW + 150, 10)
        .await
        .expect("claim");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].id, "eml_00000002");
    let failed = EmailOutcome::Failed {
        at: NOW + 151,
        error: "550 no such mailbox".into(),
    };
    assert!(store
        .finish_email("eml_00000002", "third", &failed)
        .await
        .expect("fail"));

    let due = store
        .claim_emails(&lease("fourth", NOW + 260), NOW + 200, 10)
        .await
        .expect("claim");
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].id.as_str(), due[0].attempts), ("eml_00000001", 3));
    assert!(store
        .finish_email(
            "eml_00000001",
            "fourth",
            &EmailOutcome::Sent { at: NOW + 201 }
        )
        .await
        .expect("sent"));
    assert!(!store
        .finish_email(
            "eml_00000001",
            "fourth",
            &EmailOutcome::Sent { at: NOW + 202 }
        )
        .await
        .expect("finished already"));
    let done = store
        .email_by_id("eml_00000001")
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(
        (done.status, done.sent_at, done.last_error),
        (EmailStatus::Sent, Some(NOW + 201), None)
    );
    let given_up = store
        .email_by_id("eml_00000002")
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(given_up.status, EmailStatus::Failed);
    assert!(store
        .claim_emails(&lease("fifth", NOW + 10_000), NOW + 5_000, 10)
        .await
        .expect("claim")
        .is_empty());
}

/// Senders claiming at once (several replicas) never get the same message.
pub async fn concurrent_email_claims_never_share_a_message(store: &dyn Store) {
    // Each claimer gets a connection of its own before the race, so the claims overlap.
    let everything = EmailFilter::default();
    let warm = (0..8).map(|_| store.list_emails(&everything, Page::ALL));
    for listed in join_all(warm).await {
        listed.expect("list");
    }
    let mut seen = std::collections::HashSet::new();
    for round in 0..5u32 {
        for n in 0..20 {
            let message = email(
                round * 100 + n,
                "many@example.com",
                EmailStatus::Queued,
                NOW,
            );
            store.enqueue_email(&message).await.expect("enqueue");
        }
        // Eight claimers at once, each asking for every due message.
        let claims = (0..8).map(|n| {
            let lease = lease(&format!("r{round}c{n}"), NOW + 600);
            async move { store.claim_emails(&lease, NOW, 100).await.expect("claim") }
        });
        for email in join_all(claims).await.into_iter().flatten() {
            assert!(seen.insert(email.id.clone()), "{} claimed twice", email.id);
            assert_eq!(email.attempts, 1);
        }
        assert_eq!(
            seen.len(),
            (round as usize + 1) * 20,
            "every message claimed"
        );
    }
}

/// The sweep deletes messages written before its bound, whatever their status.
pub async fn sweep_deletes_old_emails(store: &dyn Store) {
    let mut old = email(1, "old@example.com", EmailStatus::Sent, NOW);
    old.created_at = NOW - 1_000;
    store.enqueue_email(&old).await.expect("old");
    store
        .enqueue_email(&email(2, "new@example.com", EmailStatus::Queued, NOW))
        .await
        .expect("new");
    let before = SweepBefore {
        now: NOW,
        codes_before: NOW,
        throttle_windows_before: NOW,
        log_events_before_ms: None,
        log_events_kept: None,
        emails_before: Some(NOW - 500),
    };
    let counts = store.sweep(before).await.expect("sweep");
    assert_eq!(counts.emails, 1);
    assert!(store
        .email_by_id("eml_00000001")
        .await
        .expect("get")
        .is_none());
    assert!(store
        .email_by_id("eml_00000002")
        .await
        .expect("get")
        .is_some());
    let kept = SweepBefore {
        emails_before: None,
        ..before
    };
    assert_eq!(store.sweep(kept).await.expect("sweep").emails, 0);
}
