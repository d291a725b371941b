//! The hosted pages of the end user's account: "Forgot password?" (`/u/forgot-password`), the
//! page a verification link opens (`/u/email-verification`), the form a reset link opens
//! (`/u/reset-password`) and the page the blocked-account email's link opens (`/u/unblock`). Plain HTML forms, CSRF-protected like the login form; the tickets
//! and what using them does are `portcullis_core::tickets`.

use axum::{
    extract::{Query, RawQuery, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use portcullis_core::{
    accounts::{self, Requester, ResetRequestError},
    admin::{
        tickets::{self, TicketError, Used},
        AdminError,
    },
    password::PasswordError,
    tickets::{RESET_MESSAGE, UNBLOCKED_MESSAGE, VERIFIED_MESSAGE},
};
use portcullis_types::{Secret, TicketKind};
use portcullis_web::{retry_after_busy, ClientOrigin, BUSY_MESSAGE};
use serde::Deserialize;

use crate::{
    routes::login::{form_client, page_request},
    session::{set_cookie, LoginCsrf, CSRF_COOKIE},
    state::AppState,
    templates::{ForgotPage, Framing, ResetPage},
};

/// What the forgot-password form answers, whether or not the account exists.
pub const CHECK_YOUR_EMAIL: &str =
    "If an account exists for this address, we have sent it an email with a link to choose a new password.";

const INVALID_LINK: &str =
    "This link is invalid, has expired or has already been used. Ask for a new one.";

/// What the CSRF value of a reset form is bound to (the login form's is bound to its
/// authorization request): this ticket, so that a value is good for one form only.
fn reset_binding(ticket: &str) -> String {
    format!("reset-password:{ticket}")
}

fn with_csrf_cookie(app: &AppState, csrf: &LoginCsrf, mut response: Response) -> Response {
    if csrf.set {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(app, CSRF_COOKIE, &csrf.cookie, None),
        );
    }
    response
}

/// The forgot-password form.
#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    authorize_query: String,
}

/// `GET /u/forgot-password?<the authorization request>`: asks for the email.
pub async fn get_forgot(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let raw = raw.unwrap_or_default();
    let (params, client) = match page_request(&app, &raw).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let csrf = LoginCsrf::of(&app, &headers);
    let email = params.login_hint.as_deref().unwrap_or("");
    forgot_page(&app, &csrf, &client.name, &raw, email, StatusCode::OK, None)
}

fn forgot_page(
    app: &AppState,
    csrf: &LoginCsrf,
    client_name: &str,
    query: &str,
    email: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let form_value = csrf.form_value(app, query);
    let page = ForgotPage {
        client_name,
        csrf: &form_value,
        authorize_query: query,
        email,
        error,
    };
    let response = app
        .templates
        .page(status, "forgot.html", page, Framing::Nobody);
    with_csrf_cookie(app, csrf, response)
}

/// `POST /u/forgot-password`: the same answer whether or not the account exists.
pub async fn post_forgot(
    State(app): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    headers: HeaderMap,
    Form(form): Form<ForgotForm>,
) -> Response {
    let client = match form_client(&app, &headers, &form.authorize_query, &form.csrf).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    let who = Requester {
        client: &client,
        origin: &origin,
    };
    match accounts::ask_password_reset(&app.admin.cx, &app.sign_in, who, &form.email).await {
        Ok(()) => {
            app.metrics.login("reset_requested");
            app.templates
                .message(StatusCode::OK, "Check your email", CHECK_YOUR_EMAIL, None)
        }
        Err(ResetRequestError::Throttled { .. }) => {
            app.metrics.login("throttled");
            let csrf = LoginCsrf::of(&app, &headers);
            forgot_page(
                &app,
                &csrf,
                &client.name,
                &form.authorize_query,
                &form.email,
                StatusCode::TOO_MANY_REQUESTS,
                Some("Too many requests. Wait a few minutes and try again."),
            )
        }
        Err(ResetRequestError::Failed(error)) => {
            tracing::error!(%error, "password-reset request failed");
            app.templates.something_went_wrong()
        }
    }
}

/// A link's query.
#[derive(Deserialize)]
pub struct TicketQuery {
    #[serde(default)]
    ticket: String,
}

/// Where a used ticket sends the browser: its result URL, or a page saying it is done.
fn done(app: &AppState, used: Used, title: &str, message: &str) -> Response {
    match used.redirect {
        Some(url) => Redirect::to(&url).into_response(),
        None => app.templates.message(StatusCode::OK, title, message, None),
    }
}

fn refused(app: &AppState, error: TicketError) -> Response {
    match error {
        TicketError::Invalid | TicketError::Password(_) => app.templates.message(
            StatusCode::BAD_REQUEST,
            "Link not valid",
            INVALID_LINK,
            Some("invalid_ticket"),
        ),
        // Every password-hashing slot is taken: refused at once, nothing computed.
        TicketError::Failed(AdminError::Password(PasswordError::Busy)) => {
            retry_after_busy(app.templates.message(
                StatusCode::TOO_MANY_REQUESTS,
                "Try again in a moment",
                BUSY_MESSAGE,
                None,
            ))
        }
        TicketError::Failed(error) => {
            tracing::error!(%error, "using a ticket failed");
            app.templates.something_went_wrong()
        }
    }
}

/// `GET /u/email-verification?ticket=`: uses the ticket and marks the address verified.
pub async fn get_verify(State(app): State<AppState>, Query(query): Query<TicketQuery>) -> Response {
    match tickets::verify_email(&app.admin.cx, &query.ticket).await {
        Ok(used) => done(&app, used, "Email verified", VERIFIED_MESSAGE),
        Err(error) => refused(&app, error),
    }
}

/// `GET /u/unblock?ticket=`: uses the ticket and lifts the brute-force block it names.
pub async fn get_unblock(
    State(app): State<AppState>,
    Query(query): Query<TicketQuery>,
) -> Response {
    match tickets::unblock(&app.admin.cx, &query.ticket).await {
        Ok(used) => done(&app, used, "Account unblocked", UNBLOCKED_MESSAGE),
        Err(error) => refused(&app, error),
    }
}

/// `GET /u/reset-password?ticket=`: the form, if the ticket is live. Showing it does not use
/// the ticket, so that a mail scanner opening the link does not burn it.
pub async fn get_reset(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<TicketQuery>,
) -> Response {
    let csrf = LoginCsrf::of(&app, &headers);
    reset_form(&app, &csrf, &query.ticket, StatusCode::OK, None).await
}

async fn reset_form(
    app: &AppState,
    csrf: &LoginCsrf,
    ticket: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let cx = &app.admin.cx;
    let live = match tickets::peek(cx, TicketKind::PasswordChange, ticket).await {
        Ok(live) => live,
        Err(error) => return refused(app, error),
    };
    let user = match portcullis_core::admin::users::find(cx, &live.user_id).await {
        Ok(user) => user,
        Err(_) => return refused(app, TicketError::Invalid),
    };
    let rules = match accounts::signup_rules(cx).await {
        Ok(rules) => rules,
        Err(error) => {
            tracing::error!(%error, "could not read the database connection");
            return app.templates.something_went_wrong();
        }
    };
    let form_value = csrf.form_value(app, &reset_binding(ticket));
    let page = ResetPage {
        email: &user.email,
        csrf: &form_value,
        ticket,
        error,
        password_rules: &rules.rules,
        min_length: rules.min_length,
    };
    let response = app
        .templates
        .page(status, "reset.html", page, Framing::Nobody);
    with_csrf_cookie(app, csrf, response)
}

/// The reset form.
#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    ticket: String,
    #[serde(default)]
    password: Secret,
    #[serde(default)]
    csrf: String,
}

/// `POST /u/reset-password`: the new password, under the connection's policy; then the
/// user's sessions and refresh tokens end and the ticket is used.
pub async fn post_reset(
    State(app): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ResetForm>,
) -> Response {
    if !LoginCsrf::matches(&app, &headers, &reset_binding(&form.ticket), &form.csrf) {
        return app.templates.message(
            StatusCode::FORBIDDEN,
            "Session expired",
            "The form was not submitted from this browser's page. Open the link from the email again.",
            Some("invalid_csrf"),
        );
    }
    match tickets::reset_password(&app.admin.cx, &form.ticket, form.password).await {
        Ok(used) => done(&app, used, "Password changed", RESET_MESSAGE),
        Err(TicketError::Password(message)) => {
            let csrf = LoginCsrf::of(&app, &headers);
            reset_form(
                &app,
                &csrf,
                &form.ticket,
                StatusCode::BAD_REQUEST,
                Some(&message),
            )
            .await
        }
        Err(error) => refused(&app, error),
    }
}
