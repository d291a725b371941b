//! Email: the templates a tenant customised and the outbox, a durable queue of rendered
//! messages that every replica's sender claims from (see [`crate::EmailRepository`]).

use portcullis_types::{EmailKind, EmailStatus};

/// A customised email template (Auth0's email template object). A kind without one is sent
/// with the template shipped in the binary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailTemplate {
    pub template: EmailKind,
    /// Template of the subject line.
    pub subject: String,
    /// Template of the HTML part (Auth0's `body`).
    pub body: String,
    /// Template of the text part (a Portcullis extension: Auth0 sends HTML only).
    pub text: String,
    /// The sender (`Name <address>` or an address); empty: the server's default sender.
    pub from: String,
    /// A disabled template's kind is not sent.
    pub enabled: bool,
    /// Where the page the link opens sends the user afterwards (Auth0's `resultUrl`).
    pub result_url: Option<String>,
    /// How long the link stays valid, in seconds (Auth0's `urlLifetimeInSeconds`).
    pub url_lifetime_in_seconds: Option<i64>,
    /// Whether the result URL gets the user's address as `email` (Auth0's default: yes).
    pub include_email_in_redirect: bool,
    pub updated_at: i64,
}

/// One rendered message in the outbox. Its parts hold the link (a ticket), so its `Debug`
/// leaves them out: a message never reaches a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Email {
    /// `eml_<hex>`.
    pub id: String,
    pub kind: EmailKind,
    /// The recipient's address.
    pub recipient: String,
    /// The user it was sent to; deleting the user deletes their messages.
    pub user_id: Option<String>,
    /// The application it was sent for, if any.
    pub client_id: Option<String>,
    /// The template's sender; `None`: the server's default sender.
    pub sender: Option<String>,
    pub subject: String,
    pub html: String,
    pub text: String,
    /// The link the message carries, if any (the dashboard lists it).
    pub link: Option<String>,
    pub status: EmailStatus,
    /// Attempts made so far: one more at each claim.
    pub attempts: i64,
    pub created_at: i64,
    /// The last change of status, attempt or lease.
    pub updated_at: i64,
    /// When a queued message is next due.
    pub next_attempt_at: i64,
    /// Until when the sender that claimed it holds it; `None` when unclaimed.
    pub lease_until: Option<i64>,
    pub sent_at: Option<i64>,
    /// Why the last attempt failed (the SMTP server's answer or the connection error).
    pub last_error: Option<String>,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("status", &self.status)
            .field("attempts", &self.attempts)
            .field("parts", &"[redacted]")
            .finish()
    }
}

/// Which messages to list: a field left `None` matches every message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EmailFilter {
    pub status: Option<EmailStatus>,
    /// The recipient's address, compared case-insensitively.
    pub recipient: Option<String>,
    pub user_id: Option<String>,
}

/// A sender's hold on the messages it claimed: no other sender claims them until `until`,
/// and only a holder of `token` records their outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailLease {
    pub token: String,
    pub until: i64,
}

/// What became of a claimed message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EmailOutcome {
    /// The SMTP server accepted it.
    Sent { at: i64 },
    /// It failed for now; it is due again at `next_attempt_at`.
    Retry {
        at: i64,
        next_attempt_at: i64,
        error: String,
    },
    /// Given up for good.
    Failed { at: i64, error: String },
}
