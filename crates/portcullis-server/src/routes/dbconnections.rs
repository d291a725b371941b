//! Auth0's database-connection endpoints, as auth0.js's `signup` and `changePassword` call
//! them: `POST /dbconnections/signup` and `POST /dbconnections/change_password`. Public
//! endpoints (no client secret), called cross-origin by SPAs, so they sit behind the same CORS
//! policy as `/oauth/token`. The rules are `core::accounts`'s, shared with the hosted sign-up
//! page; this module parses, asks, and answers in Auth0's shapes.
//!
//! Errors have the shape of Auth0's `/dbconnections` answers, which auth0.js turns into
//! `err.code` / `err.description` (and `err.name`, `err.policy`): `{"name", "code",
//! "description", "statusCode"}`, except a connection with sign-ups disabled, which Auth0
//! answers with `{"error": "public signup is disabled"}`.

use axum::{
    extract::{FromRequest, Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Form, Json,
};
use portcullis_core::accounts::{
    self, NewUser, PasswordProblem, Requester, ResetRequestError, SignupError,
};
use portcullis_store::{Client, User};
use portcullis_types::Secret;
use portcullis_web::{retry_after_busy, ClientOrigin, BUSY_MESSAGE};
use serde::{de::DeserializeOwned, Deserialize};
use serde_json::{json, Map, Value};

use crate::state::AppState;

/// Auth0's answer to a change-password request, whether or not the account exists.
pub const RESET_REQUESTED: &str = "We've just sent you an email to reset your password.";

/// An error in Auth0's `/dbconnections` shape.
pub struct DbError {
    status: StatusCode,
    body: Value,
    /// Refused because every password-hashing slot is taken: answered with `Retry-After`.
    busy: bool,
}

impl DbError {
    fn new(status: StatusCode, name: &str, code: &str, description: impl Into<Value>) -> Self {
        DbError {
            status,
            body: json!({
                "name": name,
                "code": code,
                "description": description.into(),
                "statusCode": status.as_u16(),
            }),
            busy: false,
        }
    }

    fn bad_request(code: &str, description: &str) -> Self {
        DbError::new(
            StatusCode::BAD_REQUEST,
            "BadRequestError",
            code,
            description,
        )
    }

    fn with(mut self, key: &str, value: Value) -> Self {
        self.body[key] = value;
        self
    }

    fn throttled() -> Self {
        DbError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequestsError",
            "too_many_requests",
            "Too many requests. Wait a few minutes and try again.",
        )
    }

    fn internal() -> Self {
        DbError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "internal_error",
            "Something went wrong. Please try again.",
        )
    }
}

impl IntoResponse for DbError {
    fn into_response(self) -> Response {
        let busy = self.busy;
        let mut response = (self.status, Json(self.body)).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if busy {
            response = retry_after_busy(response);
        }
        response
    }
}

/// A body as JSON (auth0.js) or as a form (Auth0's documentation shows both); anything else,
/// or a body that is not an object with the expected types, is refused with Auth0's 400.
/// The refusal never echoes the body: it may hold a password.
pub struct AuthBody<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequest<S> for AuthBody<T> {
    type Rejection = DbError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
        let malformed = || {
            DbError::bad_request(
                "invalid_body",
                "The request body must be a JSON object (or a form) whose properties are strings, and user_metadata an object.",
            )
        };
        if form {
            let Form(body) = Form::<T>::from_request(request, state)
                .await
                .map_err(|_| malformed())?;
            Ok(AuthBody(body))
        } else {
            let Json(body) = Json::<T>::from_request(request, state)
                .await
                .map_err(|_| malformed())?;
            Ok(AuthBody(body))
        }
    }
}

/// The body of `POST /dbconnections/signup`. Auth0's `username` and `phone_number` are
/// accepted and not kept (the connection does not require usernames, and the user profile has
/// no phone number, as through the Management API); other properties are ignored, as Auth0
/// does.
#[derive(Deserialize)]
pub struct SignupBody {
    client_id: Option<String>,
    email: Option<String>,
    password: Option<Secret>,
    connection: Option<String>,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    nickname: Option<String>,
    picture: Option<String>,
    user_metadata: Option<Map<String, Value>>,
}

/// The body of `POST /dbconnections/change_password`.
#[derive(Deserialize)]
pub struct ChangePasswordBody {
    client_id: Option<String>,
    email: Option<String>,
    connection: Option<String>,
}

fn missing(property: &str) -> DbError {
    DbError::bad_request(
        "invalid_body",
        &format!("Missing required property: {property}"),
    )
}

/// A required string property, present and not blank.
fn required(value: Option<String>, property: &str) -> Result<String, DbError> {
    value
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| missing(property))
}

/// The application `client_id` names, and the connection, which must be the database
/// connection (every application uses it).
async fn client_and_connection(
    app: &AppState,
    client_id: Option<String>,
    connection: Option<String>,
) -> Result<Client, DbError> {
    let client_id = required(client_id, "client_id")?;
    let connection = required(connection, "connection")?;
    let client = app
        .tenant
        .client(app.store.as_ref(), &client_id)
        .await
        .map_err(|error| {
            tracing::error!(%error, "could not read the application");
            DbError::internal()
        })?
        .ok_or_else(|| DbError::bad_request("invalid_client", "Unknown client."))?;
    let database = accounts::connection_name(&app.admin.cx)
        .await
        .map_err(|error| {
            tracing::error!(%error, "could not read the database connection");
            DbError::internal()
        })?;
    if connection != database {
        return Err(DbError::bad_request(
            "bad.connection",
            "The connection does not exist or is not enabled for this application.",
        ));
    }
    Ok(client)
}

/// `POST /dbconnections/signup`.
pub async fn signup(
    State(app): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    AuthBody(body): AuthBody<SignupBody>,
) -> Result<Response, DbError> {
    let client = client_and_connection(&app, body.client_id, body.connection).await?;
    let email = required(body.email, "email")?;
    let password = body
        .password
        .filter(|password| !password.expose_str().is_empty())
        .ok_or_else(|| missing("password"))?;
    let given = SignupEcho {
        name: body.name.is_some(),
        given_name: body.given_name.is_some(),
        family_name: body.family_name.is_some(),
        nickname: body.nickname.is_some(),
        picture: body.picture.is_some(),
        user_metadata: body.user_metadata.is_some(),
    };
    let new = NewUser {
        email,
        password,
        name: body.name,
        given_name: body.given_name,
        family_name: body.family_name,
        nickname: body.nickname,
        picture: body.picture,
        user_metadata: body.user_metadata.unwrap_or_default(),
        ..NewUser::default()
    };
    let who = Requester {
        client: &client,
        origin: &origin,
    };
    match accounts::register(&app.admin.cx, &app.sign_in, who, new).await {
        Ok(user) => {
            app.metrics.login("signup");
            Ok(Json(given.body(&user)).into_response())
        }
        Err(error) => Err(signup_refusal(&app, error)),
    }
}

/// Which optional profile fields the request gave: Auth0 answers with those it was given.
struct SignupEcho {
    name: bool,
    given_name: bool,
    family_name: bool,
    nickname: bool,
    picture: bool,
    user_metadata: bool,
}

impl SignupEcho {
    fn body(&self, user: &User) -> Value {
        let id = user
            .user_id
            .split_once('|')
            .map_or(user.user_id.as_str(), |(_, id)| id);
        let mut body = json!({
            "_id": id,
            "email_verified": user.email_verified,
            "email": user.email,
        });
        if self.name {
            body["name"] = json!(user.name);
        }
        if self.given_name {
            body["given_name"] = json!(user.given_name);
        }
        if self.family_name {
            body["family_name"] = json!(user.family_name);
        }
        if self.nickname {
            body["nickname"] = json!(user.nickname);
        }
        if self.picture {
            body["picture"] = json!(user.picture);
        }
        if self.user_metadata {
            body["user_metadata"] = Value::Object(user.user_metadata.clone());
        }
        body
    }
}

/// A refused sign-up in Auth0's words. An existing account is `invalid_signup`, as Auth0
/// answers it: nothing more tells it apart.
fn signup_refusal(app: &AppState, error: SignupError) -> DbError {
    match error {
        SignupError::Disabled => DbError {
            status: StatusCode::BAD_REQUEST,
            body: json!({ "error": "public signup is disabled" }),
            busy: false,
        },
        SignupError::Throttled { .. } => {
            app.metrics.login("throttled");
            DbError::throttled()
        }
        SignupError::Exists => DbError::bad_request("invalid_signup", "Invalid sign up"),
        SignupError::Password { problem, message } => password_refusal(problem, &message),
        SignupError::Invalid { field, message } => {
            DbError::bad_request("invalid_signup", &message).with("field", json!(field))
        }
        SignupError::Busy => {
            app.metrics.login("busy");
            DbError {
                busy: true,
                ..DbError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TooManyRequestsError",
                    "too_many_requests",
                    BUSY_MESSAGE,
                )
            }
        }
        SignupError::Failed(error) => {
            tracing::error!(%error, "sign-up failed");
            DbError::internal()
        }
    }
}

/// Auth0's `invalid_password` errors: the strength error reports every rule (`description`)
/// and lists them (`policy`); the others describe themselves in a sentence.
fn password_refusal(problem: PasswordProblem, message: &str) -> DbError {
    let sentence = message.trim_end_matches('.');
    let refusal = |name: &str| {
        DbError::new(StatusCode::BAD_REQUEST, name, "invalid_password", sentence)
            .with("message", json!(sentence))
    };
    match problem {
        PasswordProblem::Strength {
            description,
            policy,
        } => DbError::new(
            StatusCode::BAD_REQUEST,
            "PasswordStrengthError",
            "invalid_password",
            description,
        )
        .with("message", json!("Password is too weak"))
        .with("policy", json!(policy)),
        PasswordProblem::Dictionary => refusal("PasswordDictionaryError"),
        PasswordProblem::UserInfo => refusal("PasswordNoUserInfoError"),
        PasswordProblem::History => refusal("PasswordHistoryError"),
    }
}

/// `POST /dbconnections/change_password`: the same answer whether or not the account exists.
pub async fn change_password(
    State(app): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    AuthBody(body): AuthBody<ChangePasswordBody>,
) -> Result<Response, DbError> {
    let client = client_and_connection(&app, body.client_id, body.connection).await?;
    let email = required(body.email, "email")?;
    let who = Requester {
        client: &client,
        origin: &origin,
    };
    match accounts::ask_password_reset(&app.admin.cx, &app.sign_in, who, &email).await {
        Ok(()) => {
            app.metrics.login("reset_requested");
            Ok(Json(RESET_REQUESTED).into_response())
        }
        Err(ResetRequestError::Throttled { .. }) => {
            app.metrics.login("throttled");
            Err(DbError::throttled())
        }
        Err(ResetRequestError::Failed(error)) => {
            tracing::error!(%error, "password-reset request failed");
            Err(DbError::internal())
        }
    }
}
