//! Tickets and verification emails asked for by an administrator (Auth0's
//! `POST /api/v2/tickets/email-verification`, `/tickets/password-change` and
//! `/jobs/verification-email`). The tickets themselves are [`crate::tickets`].

use portcullis_store::{Client, User};
use portcullis_types::TicketKind;
use serde_json::json;

use super::{
    change::{Action, Change, Kind},
    users, validate, Actor, AdminError, Context,
};
use crate::tickets::{self, TicketOptions};

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
    let link = tickets::create(cx, kind, user, options).await?;
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
            if super::connection::find(cx).await?.id != connection_id {
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
pub async fn send_verification_email(
    cx: &Context,
    actor: &Actor,
    user_id: &str,
    client_id: Option<&str>,
) -> Result<User, AdminError> {
    let user = users::find(cx, user_id).await?;
    let client = application(cx, client_id).await?;
    tickets::send_verification_email(cx, &user, client.as_ref()).await?;
    let change = Change::new(Action::Create, Kind::User, &user.user_id)
        .with(json!({ "job": "verification_email" }));
    cx.record(actor, change).await;
    Ok(user)
}
