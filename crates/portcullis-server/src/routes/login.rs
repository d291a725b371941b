//! The hosted login and sign-up pages (`/u/login`, `/u/signup`). Plain HTML forms: they work
//! without JavaScript. The original authorization request rides along in a hidden field; on
//! success the browser goes back to `/authorize` with it (303, RFC 9700 §4.12), now signed in.

use axum::{
    extract::{RawQuery, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use portcullis_core::{
    accounts::{self, NewUser, Requester, SignupError, SignupRules},
    audit::{self, RequestOrigin},
    sign_in::{Attempt, Realm, SignInError},
};
use portcullis_store::{Client, User};
use portcullis_types::{EventType, Secret};
use portcullis_web::{retry_after_busy, ClientOrigin, BUSY_MESSAGE};
use serde::Deserialize;

use crate::{
    routes::{
        authorize::{parse_params, resolve_destination, AuthorizeParams},
        connection_login::{self, Button},
        webauthn_pages,
    },
    session::{self, set_cookie, LoginCsrf, CSRF_COOKIE},
    state::AppState,
    templates::{CredentialsPage, Framing},
};

/// The most of a typed email address a failure entry keeps (the longest valid address).
const MAX_LOGGED_EMAIL: usize = 254;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Screen {
    Login,
    Signup,
}

impl Screen {
    fn template(self) -> &'static str {
        match self {
            Screen::Login => "login.html",
            Screen::Signup => "signup.html",
        }
    }
}

/// The submitted form.
#[derive(Deserialize)]
pub struct CredentialsForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: Secret,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    authorize_query: String,
}

pub async fn get_login(state: State<AppState>, query: RawQuery, headers: HeaderMap) -> Response {
    show(state, query, headers, Screen::Login).await
}

pub async fn get_signup(state: State<AppState>, query: RawQuery, headers: HeaderMap) -> Response {
    show(state, query, headers, Screen::Signup).await
}

async fn show(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    screen: Screen,
) -> Response {
    let raw = raw.unwrap_or_default();
    let (params, client) = match page_request(&app, &raw).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let signup = match signup_gate(&app, screen).await {
        Ok(signup) => signup,
        Err(page) => return page,
    };
    let csrf = LoginCsrf::of(&app, &headers);
    let email = params.login_hint.as_deref().unwrap_or("");
    let passkey = webauthn_pages::passkeys_offered(&app).await;
    let buttons = match screen {
        Screen::Login => connection_login::buttons(&app, &client, &raw).await,
        Screen::Signup => Vec::new(),
    };
    render(
        &app,
        screen,
        StatusCode::OK,
        &client.name,
        &csrf,
        &raw,
        email,
        None,
        &signup,
        passkey,
        &buttons,
    )
}

/// The login page again, with a message (its passkey ceremony was used or refused).
pub(crate) async fn login_again(
    app: &AppState,
    headers: &HeaderMap,
    client: &Client,
    query: &str,
    status: StatusCode,
    message: &str,
) -> Response {
    let page = (client, query);
    page_again(app, Screen::Login, headers, page, "", (status, message)).await
}

/// The sign-up page again, with the typed email and a message (its passkey was refused).
pub(crate) async fn signup_again(
    app: &AppState,
    headers: &HeaderMap,
    page: (&Client, &str),
    email: &str,
    (status, message): (StatusCode, &str),
) -> Response {
    page_again(app, Screen::Signup, headers, page, email, (status, message)).await
}

async fn page_again(
    app: &AppState,
    screen: Screen,
    headers: &HeaderMap,
    (client, query): (&Client, &str),
    email: &str,
    (status, message): (StatusCode, &str),
) -> Response {
    let signup = match signup_gate(app, screen).await {
        Ok(signup) => signup,
        Err(page) => return page,
    };
    let csrf = LoginCsrf::of(app, headers);
    let passkey = webauthn_pages::passkeys_offered(app).await;
    let buttons = match screen {
        Screen::Login => connection_login::buttons(app, client, query).await,
        Screen::Signup => Vec::new(),
    };
    render(
        app,
        screen,
        status,
        &client.name,
        &csrf,
        query,
        email,
        Some(message),
        &signup,
        passkey,
        &buttons,
    )
}

/// The database connection's sign-up setting and password rules, for the pages; the sign-up
/// page itself is refused (403) while sign-ups are disabled.
async fn signup_gate(app: &AppState, screen: Screen) -> Result<SignupRules, Response> {
    let signup = accounts::signup_rules(&app.admin.cx)
        .await
        .map_err(|error| {
            tracing::error!(%error, "could not read the database connection");
            app.templates.message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Please try again in a moment.",
                None,
            )
        })?;
    if screen == Screen::Signup && !signup.allowed {
        return Err(app.templates.message(
            StatusCode::FORBIDDEN,
            "Sign-ups are disabled",
            "New accounts cannot be created here. Ask the application's administrator for an account, or go back and log in.",
            Some("signup_disabled"),
        ));
    }
    Ok(signup)
}

#[allow(clippy::too_many_arguments)] // One page, its fields spelled out.
fn render(
    app: &AppState,
    screen: Screen,
    status: StatusCode,
    client_name: &str,
    csrf: &LoginCsrf,
    query: &str,
    email: &str,
    error: Option<&str>,
    signup: &SignupRules,
    passkey: bool,
    buttons: &[Button],
) -> Response {
    let form_value = csrf.form_value(app, query);
    let page = CredentialsPage {
        client_name,
        csrf: &form_value,
        authorize_query: query,
        email,
        error,
        signup_allowed: signup.allowed,
        password_rules: &signup.rules,
        min_length: signup.min_length,
        passkey,
        connections: buttons,
    };
    let mut response = app
        .templates
        .page(status, screen.template(), page, Framing::Nobody);
    if csrf.set {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(app, CSRF_COOKIE, &csrf.cookie, None),
        );
    }
    response
}

pub async fn post_login(
    state: State<AppState>,
    peer: ClientOrigin,
    headers: HeaderMap,
    form: Form<CredentialsForm>,
) -> Response {
    submit(state, peer, headers, form, Screen::Login).await
}

pub async fn post_signup(
    state: State<AppState>,
    peer: ClientOrigin,
    headers: HeaderMap,
    form: Form<CredentialsForm>,
) -> Response {
    submit(state, peer, headers, form, Screen::Signup).await
}

/// The application a hosted form (login, sign-up, forgot password) was opened for, once the
/// form's CSRF value is checked against our SameSite cookie and its authorization request:
/// the page to answer otherwise.
pub(crate) async fn form_client(
    app: &AppState,
    headers: &HeaderMap,
    authorize_query: &str,
    csrf: &str,
) -> Result<Client, Response> {
    if !LoginCsrf::matches(app, headers, authorize_query, csrf) {
        return Err(app.templates.message(
            StatusCode::FORBIDDEN,
            "Session expired",
            "The form was not submitted from this browser's page. Go back to the application and try again.",
            Some("invalid_csrf"),
        ));
    }
    let (_, client) = page_request(app, authorize_query).await?;
    Ok(client)
}

/// The authorization request a hosted page carries (its query, or the form's copy of it) and
/// its application: the page to answer when either is wrong.
pub(crate) async fn page_request(
    app: &AppState,
    authorize_query: &str,
) -> Result<(AuthorizeParams, Client), Response> {
    let params = parse_params(authorize_query).map_err(|message| {
        app.templates.message(
            StatusCode::BAD_REQUEST,
            "Something went wrong",
            &message,
            None,
        )
    })?;
    let (client, _) = resolve_destination(app, &params).await?;
    Ok((params, client))
}

async fn submit(
    State(app): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    headers: HeaderMap,
    Form(form): Form<CredentialsForm>,
    screen: Screen,
) -> Response {
    let client = match form_client(&app, &headers, &form.authorize_query, &form.csrf).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    let signup = match signup_gate(&app, screen).await {
        Ok(signup) => signup,
        Err(page) => return page,
    };
    let csrf = LoginCsrf::of(&app, &headers);
    let buttons = match screen {
        Screen::Login => connection_login::buttons(&app, &client, &form.authorize_query).await,
        Screen::Signup => Vec::new(),
    };
    let again = |status: StatusCode, error: &str| {
        render(
            &app,
            screen,
            status,
            &client.name,
            &csrf,
            &form.authorize_query,
            &form.email,
            Some(error),
            &signup,
            false,
            &buttons,
        )
    };
    // What a failure records of the typed email is bounded: the field is the client's.
    let typed_email: String = form.email.chars().take(MAX_LOGGED_EMAIL).collect();
    let failed = |event_type: EventType, description: &'static str| {
        audit::entry(event_type, description)
            .client(&client)
            .origin(&origin)
            .details(serde_json::json!({ "email": typed_email }))
    };
    // Under a flood of password hashing, answered at once with nothing computed.
    let busy = || {
        app.metrics.login("busy");
        retry_after_busy(again(StatusCode::TOO_MANY_REQUESTS, BUSY_MESSAGE))
    };
    let user = match screen {
        Screen::Login => match authenticate(&app, &origin, &form, &client).await {
            Ok(user) => user,
            Err(LoginFailure::Throttled { first }) => {
                app.metrics.login("throttled");
                if first {
                    app.audit(failed(EventType::LoginThrottled, "Too many failed logins"))
                        .await;
                }
                return again(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many failed attempts. Wait a few minutes and try again.",
                );
            }
            Err(LoginFailure::WrongCredentials) => {
                app.metrics.login("failure");
                app.audit(failed(EventType::FailedLogin, "Wrong email or password"))
                    .await;
                return again(StatusCode::UNAUTHORIZED, "Wrong email or password.");
            }
            Err(LoginFailure::Blocked) => {
                app.metrics.login("blocked");
                app.audit(failed(EventType::FailedLoginBlocked, "User is blocked"))
                    .await;
                return again(StatusCode::UNAUTHORIZED, "This account is blocked.");
            }
            Err(LoginFailure::Busy) => return busy(),
            Err(LoginFailure::Internal) => {
                return again(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong. Please try again.",
                )
            }
        },
        Screen::Signup => {
            let new = NewUser {
                email: form.email.clone(),
                password: form.password.clone(),
                ..NewUser::default()
            };
            let who = Requester {
                client: &client,
                origin: &origin,
            };
            match accounts::register(&app.admin.cx, &app.sign_in, who, new).await {
                Ok(user) => {
                    app.metrics.login("signup");
                    user
                }
                Err(SignupError::Busy) => return busy(),
                Err(error) => {
                    if matches!(error, SignupError::Throttled { .. }) {
                        app.metrics.login("throttled");
                    }
                    let (status, message) = signup_refusal(&error);
                    return again(status, &message);
                }
            }
        }
    };
    let cookie = match session::start(&app, &headers, &user).await {
        Ok(cookie) => cookie,
        Err(error) => {
            tracing::error!(%error, "could not start a session");
            return again(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong. Please try again.",
            );
        }
    };
    app.metrics.login("success");
    app.audit(
        audit::entry(EventType::Login, "Successful login")
            .client(&client)
            .user(&user)
            .origin(&origin),
    )
    .await;
    tracing::info!(user_id = %user.user_id, client_id = %client.client_id, "login");
    let mut response = Redirect::to(&format!(
        "/authorize?{}",
        without_prompt(&form.authorize_query)
    ))
    .into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// What a refused sign-up (with a password or a passkey) tells the person, and its status.
pub(crate) fn signup_refusal(error: &SignupError) -> (StatusCode, String) {
    match error {
        SignupError::Throttled { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-ups from your network. Wait a few minutes and try again.".into(),
        ),
        SignupError::Exists => (
            StatusCode::CONFLICT,
            "An account with this email already exists. Log in instead.".into(),
        ),
        // Sign-ups were disabled since the page was checked.
        SignupError::Disabled => (StatusCode::FORBIDDEN, accounts::SIGNUP_DISABLED.into()),
        SignupError::Password { .. } | SignupError::Invalid { .. } => {
            (StatusCode::BAD_REQUEST, error.to_string())
        }
        SignupError::Busy => (StatusCode::TOO_MANY_REQUESTS, BUSY_MESSAGE.into()),
        SignupError::Failed(failure) => {
            tracing::error!(error = %failure, "sign-up failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong. Please try again.".into(),
            )
        }
    }
}

pub(crate) use super::connection_login::without_prompt;

enum LoginFailure {
    WrongCredentials,
    Blocked,
    /// `first`: this refusal crossed the limit (the only one recorded in its window).
    Throttled {
        first: bool,
    },
    Busy,
    Internal,
}

/// Checks the credentials, under brute-force protection (per account and address, and per
/// address); the refusal that blocks the account sends it the blocked-account email.
async fn authenticate(
    app: &AppState,
    origin: &RequestOrigin,
    form: &CredentialsForm,
    client: &Client,
) -> Result<User, LoginFailure> {
    let attempt = Attempt {
        realm: Realm::Login,
        email: &form.email,
        password: &form.password,
        ip: origin.throttled_ip(),
        now: app.clock.now(),
    };
    let checked = app.sign_in.check_user(app.store.as_ref(), attempt).await;
    if let Err(error) = &checked {
        accounts::after_refused_sign_in(&app.admin.cx, error, &attempt, Some(client)).await;
    }
    match checked {
        Ok(user) if user.blocked => Err(LoginFailure::Blocked),
        Ok(user) => Ok(user),
        Err(SignInError::WrongCredentials { .. }) => Err(LoginFailure::WrongCredentials),
        Err(SignInError::Throttled { first }) => Err(LoginFailure::Throttled { first }),
        Err(SignInError::Busy) => Err(LoginFailure::Busy),
        Err(error) => {
            tracing::error!(%error, "login failed");
            Err(LoginFailure::Internal)
        }
    }
}
