//! Tickets: single-use, expiring links sent by email (Auth0's email-verification and
//! password-change tickets). The value is random and only its SHA-256 is stored; using a
//! ticket is one conditional update in the store, so it works once, even under concurrent
//! clicks or on several replicas. Expired tickets are swept with the rest of the state.
//!
//! [`send_verification_email`], [`send_reset_email`] and [`send_unblock_email`] write a ticket
//! and its email; [`verify_email`], [`reset_password`] and [`unblock`] are what the pages
//! behind the links do. The
//! Management API's tickets ([`email_verification`], [`password_change`]) are handed to the
//! caller; its verification-email job is [`verification_email_job`].

use portcullis_store::{Client, Ticket, User};
use portcullis_types::{EmailKind, EventType, Secret, TicketKind};
use serde_json::json;

use super::{
    change::{Action, Change, Kind},
    connection,
    users::{self, UserChanges},
    validate, Actor, AdminError, Context,
};
use crate::{
    audit, email,
    secrets::{lookup_hash, random_token},
    sign_in,
    tickets::{
        DEFAULT_TTL_SECONDS, RESET_MESSAGE, RESET_PATH, UNBLOCKED_MESSAGE, UNBLOCK_PATH,
        VERIFICATION_PATH, VERIFIED_MESSAGE,
    },
};

/// How a ticket is made: `None` fields take the email template's setting, then the default.
#[derive(Clone, Debug, Default)]
pub struct TicketOptions {
    pub client_id: Option<String>,
    pub result_url: Option<String>,
    pub ttl_sec: Option<i64>,
    pub include_email_in_redirect: Option<bool>,
    /// A password-change ticket also marks the address verified (Auth0 does on a reset).
    pub mark_email_verified: bool,
}

/// Why a ticket could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    /// Unknown, expired or used already: the page says so, with a 4xx.
    #[error("This link is invalid, has expired or has already been used.")]
    Invalid,
    /// The new password breaks the connection's policy; the message says how.
    #[error("{0}")]
    Password(String),
    /// Our own failure.
    #[error(transparent)]
    Failed(#[from] AdminError),
}

/// What using a ticket did: the user as they are now, and where to send the browser (the
/// ticket's result URL with Auth0's `success` and `message`), if anywhere.
#[derive(Clone, Debug)]
pub struct Used {
    pub user: User,
    pub redirect: Option<String>,
}

fn path_of(kind: TicketKind) -> &'static str {
    match kind {
        TicketKind::EmailVerification => VERIFICATION_PATH,
        TicketKind::PasswordChange => RESET_PATH,
        TicketKind::AccountUnblock => UNBLOCK_PATH,
    }
}

fn template_of(kind: TicketKind) -> EmailKind {
    match kind {
        TicketKind::EmailVerification => EmailKind::VerifyEmail,
        TicketKind::PasswordChange => EmailKind::ResetEmail,
        TicketKind::AccountUnblock => EmailKind::BlockedAccount,
    }
}

/// Stores a new ticket of `kind` for `user` and returns its link. The template of the kind's
/// email fills in what `options` leaves open.
pub async fn create(
    cx: &Context,
    kind: TicketKind,
    user: &User,
    options: TicketOptions,
) -> Result<String, AdminError> {
    create_for(cx, kind, user, options, None).await
}

/// [`create`], with the client address group an unblock ticket lifts the block of.
async fn create_for(
    cx: &Context,
    kind: TicketKind,
    user: &User,
    options: TicketOptions,
    address: Option<String>,
) -> Result<String, AdminError> {
    let template = email::effective_template(cx.store(), template_of(kind)).await?;
    let ttl = options
        .ttl_sec
        .filter(|ttl| *ttl > 0)
        .or(template.url_lifetime_in_seconds.filter(|ttl| *ttl > 0))
        .unwrap_or(DEFAULT_TTL_SECONDS);
    let value = random_token(32);
    let now = cx.now();
    let ticket = Ticket {
        ticket_hash: lookup_hash(&value),
        kind,
        user_id: user.user_id.clone(),
        client_id: options.client_id,
        result_url: options
            .result_url
            .or(template.result_url)
            .filter(|url| !url.is_empty()),
        include_email_in_redirect: options
            .include_email_in_redirect
            .unwrap_or(template.include_email_in_redirect),
        mark_email_verified: options.mark_email_verified,
        address,
        created_at: now,
        expires_at: now.saturating_add(ttl),
        used_at: None,
    };
    cx.store().insert_ticket(&ticket).await?;
    Ok(link(cx, kind, &value))
}

/// The link that opens the page of a ticket of `kind` whose value is `value`.
fn link(cx: &Context, kind: TicketKind, value: &str) -> String {
    let mut url = format!("{}{}", cx.accounts.issuer, path_of(kind));
    url.push_str("?ticket=");
    url.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
    url
}

/// Writes a verification ticket for `user` and sends it in the `verify_email` email, naming
/// `application` when there is one. Sends nothing when the template is disabled.
pub async fn send_verification_email(
    cx: &Context,
    user: &User,
    application: Option<&Client>,
) -> Result<(), AdminError> {
    send(cx, TicketKind::EmailVerification, user, application, None).await?;
    let mut entry =
        audit::entry(EventType::VerificationEmailSent, "Verification email sent").user(user);
    if let Some(client) = application {
        entry = entry.client(client);
    }
    cx.audit.record(entry).await;
    Ok(())
}

/// Writes a password-change ticket for `user` and sends it in the `reset_email` email.
pub async fn send_reset_email(
    cx: &Context,
    user: &User,
    application: Option<&Client>,
) -> Result<(), AdminError> {
    send(cx, TicketKind::PasswordChange, user, application, None).await
}

/// Writes an unblock ticket for `user`'s brute-force block from the address group `address`
/// and sends it in the `blocked_account` email. Sends nothing when the template is disabled.
pub async fn send_unblock_email(
    cx: &Context,
    user: &User,
    application: Option<&Client>,
    address: &str,
) -> Result<(), AdminError> {
    let kind = TicketKind::AccountUnblock;
    send(cx, kind, user, application, Some(address.to_owned())).await
}

async fn send(
    cx: &Context,
    kind: TicketKind,
    user: &User,
    application: Option<&Client>,
    address: Option<String>,
) -> Result<(), AdminError> {
    let options = TicketOptions {
        client_id: application.map(|client| client.client_id.clone()),
        mark_email_verified: kind == TicketKind::PasswordChange,
        ..TicketOptions::default()
    };
    let link = create_for(cx, kind, user, options, address).await?;
    email::send(cx, template_of(kind), user, application, Some(&link))
        .await
        .map_err(email_failure)?;
    Ok(())
}

fn email_failure(error: email::EmailError) -> AdminError {
    match error {
        email::EmailError::Store(error) => AdminError::Store(error),
        other => AdminError::invalid("template", other.to_string()),
    }
}

/// The live ticket of `kind` whose value is `value`, without using it: what a page that only
/// shows a form asks (so that a mail scanner opening the link does not burn it).
pub async fn peek(cx: &Context, kind: TicketKind, value: &str) -> Result<Ticket, TicketError> {
    cx.store()
        .live_ticket(&lookup_hash(value), kind, cx.now())
        .await
        .map_err(AdminError::from)?
        .ok_or(TicketError::Invalid)
}

/// Uses the ticket of `kind` whose value is `value`: exactly once, before it expires.
pub async fn consume(cx: &Context, kind: TicketKind, value: &str) -> Result<Ticket, TicketError> {
    cx.store()
        .consume_ticket(&lookup_hash(value), kind, cx.now())
        .await
        .map_err(AdminError::from)?
        .ok_or(TicketError::Invalid)
}

/// The page of a verification link: uses the ticket, marks the address verified and sends
/// the `welcome_email` (when its template is enabled).
pub async fn verify_email(cx: &Context, value: &str) -> Result<Used, TicketError> {
    let ticket = consume(cx, TicketKind::EmailVerification, value).await?;
    let changes = UserChanges {
        email_verified: Some(true),
        ..UserChanges::default()
    };
    let user = users::update(cx, &Actor::System, &ticket.user_id, changes)
        .await
        .map_err(gone_user)?;
    let application = ticket_application(cx, &ticket).await?;
    email::send(
        cx,
        EmailKind::WelcomeEmail,
        &user,
        application.as_ref(),
        None,
    )
    .await
    .map_err(email_failure)?;
    let mut entry = audit::entry(EventType::EmailVerified, "Email verified").user(&user);
    if let Some(client) = &application {
        entry = entry.client(client);
    }
    cx.audit.record(entry).await;
    let redirect = redirect(&ticket, &user, VERIFIED_MESSAGE);
    Ok(Used { user, redirect })
}

/// The form of a reset link: checks `password` against the connection's policy (and the
/// user's history), then uses the ticket and sets the password through the one path that
/// sets passwords, which also ends the user's sessions and revokes their refresh tokens. A
/// refused password leaves the ticket usable.
pub async fn reset_password(
    cx: &Context,
    value: &str,
    password: Secret,
) -> Result<Used, TicketError> {
    let ticket = peek(cx, TicketKind::PasswordChange, value).await?;
    let user = users::find(cx, &ticket.user_id).await.map_err(gone_user)?;
    connection::check_password(cx, &user, &password)
        .await
        .map_err(password_refusal)?;
    let ticket = consume(cx, TicketKind::PasswordChange, value).await?;
    let changes = UserChanges {
        password: Some(password),
        email_verified: ticket.mark_email_verified.then_some(true),
        ..UserChanges::default()
    };
    let user = users::update(cx, &Actor::System, &ticket.user_id, changes)
        .await
        .map_err(password_refusal)?;
    let mut entry = audit::entry(EventType::PasswordChanged, "Password changed").user(&user);
    if let Some(client_id) = &ticket.client_id {
        entry = entry.client_id(client_id);
    }
    cx.audit.record(entry).await;
    let redirect = redirect(&ticket, &user, RESET_MESSAGE);
    Ok(Used { user, redirect })
}

/// The page of an unblock link: uses the ticket and lifts the user's brute-force block from
/// the address it names (their other blocks, if any, stay).
pub async fn unblock(cx: &Context, value: &str) -> Result<Used, TicketError> {
    let ticket = consume(cx, TicketKind::AccountUnblock, value).await?;
    let user = users::find(cx, &ticket.user_id).await.map_err(gone_user)?;
    let address = ticket.address.as_deref().ok_or(TicketError::Invalid)?;
    sign_in::clear_login_block(cx.store(), &user.email, address)
        .await
        .map_err(AdminError::from)?;
    let mut entry = audit::entry(EventType::LoginBlockReleased, "User login block released")
        .user(&user)
        .details(json!({ "address": address }));
    if let Some(client_id) = &ticket.client_id {
        entry = entry.client_id(client_id);
    }
    cx.audit.record(entry).await;
    let redirect = redirect(&ticket, &user, UNBLOCKED_MESSAGE);
    Ok(Used { user, redirect })
}

fn password_refusal(error: AdminError) -> TicketError {
    match error {
        AdminError::Invalid {
            field: "password",
            message,
        } => TicketError::Password(message),
        other => gone_user(other),
    }
}

/// A ticket whose user was deleted since is no ticket.
fn gone_user(error: AdminError) -> TicketError {
    match error {
        AdminError::NotFound(_) => TicketError::Invalid,
        other => TicketError::Failed(other),
    }
}

async fn ticket_application(cx: &Context, ticket: &Ticket) -> Result<Option<Client>, AdminError> {
    match &ticket.client_id {
        Some(client_id) => Ok(cx.store().client_by_id(client_id).await?),
        None => Ok(None),
    }
}

/// The ticket's result URL with Auth0's query: `success=true`, the message, and the address
/// when the ticket says so.
fn redirect(ticket: &Ticket, user: &User, message: &str) -> Option<String> {
    let mut url = url::Url::parse(ticket.result_url.as_deref()?).ok()?;
    {
        let mut query = url.query_pairs_mut();
        if ticket.include_email_in_redirect {
            query.append_pair("email", &user.email);
        }
        query.append_pair("success", "true");
        query.append_pair("message", message);
    }
    Some(url.into())
}

/// The longest lifetime a ticket may be asked for (Auth0 accepts any; a month is plenty).
pub const MAX_TTL_SECONDS: i64 = 30 * 24 * 3600;

/// Checks what an administrator asked of a ticket, and names the application it is for.
async fn checked(cx: &Context, options: &TicketOptions) -> Result<Option<Client>, AdminError> {
    if let Some(url) = &options.result_url {
        validate::url("result_url", url)?;
    }
    if let Some(ttl) = options.ttl_sec {
        if !(0..=MAX_TTL_SECONDS).contains(&ttl) {
            return Err(AdminError::invalid(
                "ttl_sec",
                format!("ttl_sec must be between 0 and {MAX_TTL_SECONDS}"),
            ));
        }
    }
    application(cx, options.client_id.as_deref()).await
}

async fn application(cx: &Context, client_id: Option<&str>) -> Result<Option<Client>, AdminError> {
    match client_id {
        Some(client_id) => match cx.store().client_by_id(client_id).await? {
            Some(client) => Ok(Some(client)),
            None => Err(AdminError::invalid(
                "client_id",
                "The client does not exist",
            )),
        },
        None => Ok(None),
    }
}

async fn issue(
    cx: &Context,
    actor: &Actor,
    kind: TicketKind,
    user: &User,
    options: TicketOptions,
) -> Result<String, AdminError> {
    checked(cx, &options).await?;
    let link = create(cx, kind, user, options).await?;
    let change = Change::new(Action::Create, Kind::User, &user.user_id)
        .with(json!({ "ticket": kind.as_str() }));
    cx.record(actor, change).await;
    Ok(link)
}

/// A verification link for the user `user_id`, sent nowhere: the caller hands it over.
pub async fn email_verification(
    cx: &Context,
    actor: &Actor,
    user_id: &str,
    options: TicketOptions,
) -> Result<String, AdminError> {
    let user = users::find(cx, user_id).await?;
    issue(cx, actor, TicketKind::EmailVerification, &user, options).await
}

/// Whose password a password-change ticket is for: a user id, or an email on the database
/// connection (which `connection_id` must name).
#[derive(Clone, Debug)]
pub enum TicketUser {
    Id(String),
    Email {
        email: String,
        connection_id: String,
    },
}

/// A link to choose a new password for the user, sent nowhere: the caller hands it over.
pub async fn password_change(
    cx: &Context,
    actor: &Actor,
    who: TicketUser,
    options: TicketOptions,
) -> Result<String, AdminError> {
    let user = match who {
        TicketUser::Id(user_id) => users::find(cx, &user_id).await?,
        TicketUser::Email {
            email,
            connection_id,
        } => {
            if connection::find(cx).await?.id != connection_id {
                return Err(AdminError::invalid(
                    "connection_id",
                    "The connection does not exist",
                ));
            }
            cx.store()
                .user_by_email(email.trim())
                .await?
                .ok_or(AdminError::NotFound(Kind::User))?
        }
    };
    issue(cx, actor, TicketKind::PasswordChange, &user, options).await
}

/// Sends the user `user_id` a verification email now (Auth0's verification-email job, done
/// at once). Returns the user.
pub async fn verification_email_job(
    cx: &Context,
    actor: &Actor,
    user_id: &str,
    client_id: Option<&str>,
) -> Result<User, AdminError> {
    let user = users::find(cx, user_id).await?;
    let client = application(cx, client_id).await?;
    send_verification_email(cx, &user, client.as_ref()).await?;
    let change = Change::new(Action::Create, Kind::User, &user.user_id)
        .with(json!({ "job": "verification_email" }));
    cx.record(actor, change).await;
    Ok(user)
}
