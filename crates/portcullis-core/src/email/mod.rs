//! Email: rendering a kind's template for a user and putting the message in the outbox, a
//! durable queue in the store.
//!
//! [`send`] is the one way to send an email: it renders the tenant's template for the kind
//! (its customisation, or the default shipped in the binary; see [`templates`]) with the user,
//! the application and the link, and stores the message. Delivery is not done here: every
//! server replica with an SMTP server configured runs a sender that claims due messages from
//! the store under a lease, so a crash or an SMTP outage loses nothing and two replicas never
//! send one message. Without an SMTP server the message goes to the outbox only (status
//! `outbox`), where the dashboard shows it.
//!
//! A message holds its link (a ticket): it is never written to a log line, and neither is
//! anything rendered from it.

mod liquid;
pub mod templates;

use std::sync::Arc;

use portcullis_store::{Client, Email, Store, StoreError, User};
use portcullis_types::{EmailKind, EmailStatus};

pub use self::templates::{
    default_template, effective_template, JobVariables, Rendered, TemplateChanges, Variables,
};
use crate::secrets::random_hex;

/// What sending needs: the store, the time, and this process's [`Outbox`]. The
/// administrative `Context` provides it, so `email::send(&cx, ...)` works wherever one is at
/// hand.
pub trait MailContext: Send + Sync {
    fn mail_store(&self) -> &dyn Store;
    fn mail_now(&self) -> i64;
    fn outbox(&self) -> &Outbox;
}

/// This process's side of the outbox: whether its messages are to be delivered (an SMTP
/// server is configured), and the signal that wakes the sender when one is written, so that
/// it goes out at once rather than at the sender's next poll.
#[derive(Clone, Default)]
pub struct Outbox(Arc<OutboxInner>);

#[derive(Default)]
struct OutboxInner {
    delivering: bool,
    written: tokio::sync::Notify,
}

impl Outbox {
    /// Messages are queued for delivery (this process runs a sender).
    pub fn delivering() -> Self {
        Outbox(Arc::new(OutboxInner {
            delivering: true,
            written: tokio::sync::Notify::new(),
        }))
    }

    /// Messages stay in the outbox, for the dashboard (no SMTP server configured). The default.
    pub fn keeping() -> Self {
        Outbox::default()
    }

    pub fn is_delivering(&self) -> bool {
        self.0.delivering
    }

    /// Wakes the sender: a message was written.
    pub fn notify_written(&self) {
        self.0.written.notify_one();
    }

    /// Resolves at the next message written (or at once, if one was written since the last
    /// wait).
    pub async fn written(&self) {
        self.0.written.notified().await;
    }
}

/// Why a message could not be written.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// The template does not render (a customisation that compiled but fails on these
    /// values, or runs out of its rendering budget); `field` names the part.
    #[error("the {field} template does not render: {message}")]
    Render {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Renders the template of `kind` for `user` (with `application` and `link` as its
/// `application` and `url` variables) and puts the message in the outbox. Returns the stored
/// message, or `None` when the kind's template is disabled (nothing is sent).
///
/// ```ignore
/// email::send(&cx, EmailKind::VerifyEmail, &user, Some(&client), Some(&link)).await?;
/// ```
pub async fn send(
    cx: &impl MailContext,
    kind: EmailKind,
    user: &User,
    application: Option<&Client>,
    link: Option<&str>,
) -> Result<Option<Email>, EmailError> {
    let variables = Variables::new(user, application, link);
    let to = Recipient {
        address: &user.email,
        user_id: Some(&user.user_id),
        client_id: application.map(|client| client.client_id.as_str()),
        link,
    };
    write(cx, kind, to, &variables).await
}

/// Renders the template of `kind` with `variables` and puts a message to `address` in the
/// outbox: a message for no user (the dashboard's administrators). `None` when the kind's
/// template is disabled.
pub async fn send_to_address(
    cx: &impl MailContext,
    kind: EmailKind,
    address: &str,
    variables: &Variables,
) -> Result<Option<Email>, EmailError> {
    let to = Recipient {
        address,
        user_id: None,
        client_id: None,
        link: None,
    };
    write(cx, kind, to, variables).await
}

/// Who a message goes to and what it is about.
struct Recipient<'a> {
    address: &'a str,
    user_id: Option<&'a str>,
    client_id: Option<&'a str>,
    link: Option<&'a str>,
}

async fn write(
    cx: &impl MailContext,
    kind: EmailKind,
    to: Recipient<'_>,
    variables: &Variables,
) -> Result<Option<Email>, EmailError> {
    let template = effective_template(cx.mail_store(), kind).await?;
    if !template.enabled {
        return Ok(None);
    }
    let rendered = templates::render(&template, variables)?;
    let now = cx.mail_now();
    let outbox = cx.outbox();
    let email = Email {
        id: format!("eml_{}", random_hex(16)),
        kind,
        recipient: to.address.to_owned(),
        user_id: to.user_id.map(str::to_owned),
        client_id: to.client_id.map(str::to_owned),
        sender: Some(template.from).filter(|from| !from.is_empty()),
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        link: to.link.map(str::to_owned),
        status: if outbox.is_delivering() {
            EmailStatus::Queued
        } else {
            EmailStatus::Outbox
        },
        attempts: 0,
        created_at: now,
        updated_at: now,
        next_attempt_at: now,
        lease_until: None,
        sent_at: None,
        last_error: None,
    };
    cx.mail_store().enqueue_email(&email).await?;
    outbox.notify_written();
    Ok(Some(email))
}
