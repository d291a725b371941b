//! `/tickets` and `/jobs/verification-email`: links to verify an address or choose a new
//! password, handed to the caller (Auth0's tickets), and a verification email sent now
//! (Auth0's job, done before the answer, so it is `completed` at once).

use axum::{extract::State, http::StatusCode, Json};
use portcullis_core::{
    admin::tickets::{self, TicketOptions, TicketUser},
    claims::rfc3339,
    secrets::random_hex,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    auth::{Authorized, CreateUserTickets, UpdateUsers},
    errors::{ApiError, Auth0Body, Body, ErrorBody},
};
use crate::state::AdminState;

/// What Auth0 defines for a ticket's user beyond what Portcullis has: organizations and
/// secondary identities, refused when set.
const UNSUPPORTED_TARGETS: &[&str] = &["organization_id", "identity"];

/// The answer: the link.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketShape {
    /// The link to hand to the user.
    pub ticket: String,
}

/// An email-verification ticket's request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailVerificationBody {
    pub user_id: String,
    /// Where the page sends the user afterwards.
    pub result_url: Option<String>,
    /// Lifetime in seconds (0 or absent: five days).
    pub ttl_sec: Option<i64>,
    #[serde(rename = "includeEmailInRedirect")]
    pub include_email_in_redirect: Option<bool>,
    pub client_id: Option<String>,
}

impl Auth0Body for EmailVerificationBody {
    const UNSUPPORTED: &'static [&'static str] = UNSUPPORTED_TARGETS;
}

/// Create an email-verification ticket.
#[utoipa::path(
    post, path = "/tickets/email-verification", tag = "tickets",
    request_body = EmailVerificationBody,
    responses(
        (status = 201, description = "The ticket", body = TicketShape),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["create:user_tickets"]))
)]
pub async fn email_verification(
    State(app): State<AdminState>,
    auth: Authorized<CreateUserTickets>,
    Body(body): Body<EmailVerificationBody>,
) -> Result<(StatusCode, Json<TicketShape>), ApiError> {
    let options = TicketOptions {
        client_id: body.client_id,
        result_url: body.result_url,
        ttl_sec: body.ttl_sec,
        include_email_in_redirect: Some(body.include_email_in_redirect.unwrap_or(false)),
        mark_email_verified: false,
    };
    let ticket =
        tickets::email_verification(&app.cx, &auth.caller.actor(), &body.user_id, options).await?;
    Ok((StatusCode::CREATED, Json(TicketShape { ticket })))
}

/// A password-change ticket's request: `user_id`, or `email` with `connection_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeBody {
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub connection_id: Option<String>,
    pub result_url: Option<String>,
    /// Lifetime in seconds (0 or absent: five days).
    pub ttl_sec: Option<i64>,
    /// Whether using the ticket also marks the address verified (default: yes).
    pub mark_email_as_verified: Option<bool>,
    #[serde(rename = "includeEmailInRedirect")]
    pub include_email_in_redirect: Option<bool>,
    pub client_id: Option<String>,
}

impl Auth0Body for PasswordChangeBody {
    const UNSUPPORTED: &'static [&'static str] = &["organization_id"];
}

/// Create a password-change ticket.
#[utoipa::path(
    post, path = "/tickets/password-change", tag = "tickets",
    request_body = PasswordChangeBody,
    responses(
        (status = 201, description = "The ticket", body = TicketShape),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["create:user_tickets"]))
)]
pub async fn password_change(
    State(app): State<AdminState>,
    auth: Authorized<CreateUserTickets>,
    Body(body): Body<PasswordChangeBody>,
) -> Result<(StatusCode, Json<TicketShape>), ApiError> {
    let who = match (body.user_id, body.email, body.connection_id) {
        (Some(user_id), None, None) => TicketUser::Id(user_id),
        (None, Some(email), Some(connection_id)) => TicketUser::Email {
            email,
            connection_id,
        },
        _ => {
            return Err(ApiError::invalid_body(
                "Payload validation error: give user_id, or email and connection_id",
            ))
        }
    };
    let options = TicketOptions {
        client_id: body.client_id,
        result_url: body.result_url,
        ttl_sec: body.ttl_sec,
        include_email_in_redirect: Some(body.include_email_in_redirect.unwrap_or(false)),
        mark_email_verified: body.mark_email_as_verified.unwrap_or(true),
    };
    let ticket = tickets::password_change(&app.cx, &auth.caller.actor(), who, options).await?;
    Ok((StatusCode::CREATED, Json(TicketShape { ticket })))
}

/// A verification-email job's request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationEmailBody {
    pub user_id: String,
    pub client_id: Option<String>,
}

impl Auth0Body for VerificationEmailBody {
    const UNSUPPORTED: &'static [&'static str] = UNSUPPORTED_TARGETS;
}

/// A job, as Auth0 answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobShape {
    /// `verification_email`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `completed`: the email is written before the answer.
    pub status: &'static str,
    pub created_at: String,
    pub id: String,
}

/// Send a verification email.
#[utoipa::path(
    post, path = "/jobs/verification-email", tag = "jobs",
    request_body = VerificationEmailBody,
    responses(
        (status = 201, description = "The job, completed", body = JobShape),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["update:users"]))
)]
pub async fn verification_email(
    State(app): State<AdminState>,
    auth: Authorized<UpdateUsers>,
    Body(body): Body<VerificationEmailBody>,
) -> Result<(StatusCode, Json<JobShape>), ApiError> {
    tickets::verification_email_job(
        &app.cx,
        &auth.caller.actor(),
        &body.user_id,
        body.client_id.as_deref(),
    )
    .await?;
    let job = JobShape {
        kind: "verification_email",
        status: "completed",
        created_at: rfc3339(app.cx.now()),
        id: format!("job_{}", random_hex(8)),
    };
    Ok((StatusCode::CREATED, Json(job)))
}
