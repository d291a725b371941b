//! `GET /authorize`: the authorization endpoint (RFC 6749 §3.1, OIDC Core §3), with Auth0's
//! response modes (`query`, `fragment`, `form_post`, `web_message`) and silent authentication.
//!
//! Until the client and redirect URI are known to be registered, errors are shown on our own
//! page; afterwards they go back to the client the way it asked.

use axum::{
    extract::{RawQuery, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use portcullis_core::{
    actions::event,
    authz, dpop, pkce,
    secrets::{lookup_hash, random_token},
    tokens::{AccessRequest, IdTokenRequest},
};
use portcullis_store::{AuthorizationCode, Client, LoginSession, ResourceServer};
use portcullis_types::{GrantType, Scope};
use serde::Deserialize;

use crate::{
    error::{ErrorCode, OAuthError},
    routes::{connection_login, consent_gate, mfa_gate},
    session,
    state::AppState,
    templates::Framing,
};

/// The parameters we read; unknown ones (telemetry `auth0Client`, `organization`, ...) are
/// ignored, as Auth0 does.
#[derive(Debug, Default, Deserialize)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub response_mode: Option<String>,
    pub scope: Option<String>,
    pub audience: Option<String>,
    /// RFC 8707: an alias of `audience`.
    pub resource: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub screen_hint: Option<String>,
    pub login_hint: Option<String>,
    pub acr_values: Option<String>,
    /// Auth0's `connection`: sign in at this connection's provider, skipping the login page.
    pub connection: Option<String>,
    /// RFC 9449 §10: the DPoP key that alone may redeem the code.
    pub dpop_jkt: Option<String>,
}

/// The longest value of any parameter: codes, sessions and the audit log store some of them.
const MAX_PARAM_BYTES: usize = 2048;

/// The longest `nonce`: stored with every code, echoed in the ID token.
const MAX_NONCE_BYTES: usize = 512;

/// Parses the query; repeated parameters are an error (RFC 6749 §3.1), and so is a value too
/// long to store.
pub fn parse_params(raw: &str) -> Result<AuthorizeParams, String> {
    let params: AuthorizeParams = serde_urlencoded::from_str(raw)
        .map_err(|e| format!("The request has malformed or repeated parameters ({e})."))?;
    let too_long = url::form_urlencoded::parse(raw.as_bytes())
        .find(|(_, value)| value.len() > MAX_PARAM_BYTES)
        .map(|(name, _)| name.into_owned())
        .or_else(|| {
            params
                .nonce
                .as_ref()
                .filter(|nonce| nonce.len() > MAX_NONCE_BYTES)
                .map(|_| "nonce".to_owned())
        });
    match too_long {
        Some(name) => Err(format!("The parameter {name} is too long.")),
        None => Ok(params),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    Fragment,
    FormPost,
    WebMessage,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ResponseType {
    code: bool,
    token: bool,
    id_token: bool,
}

impl ResponseType {
    fn parse(value: &str) -> Option<Self> {
        let mut parsed = ResponseType {
            code: false,
            token: false,
            id_token: false,
        };
        for part in value.split(' ').filter(|p| !p.is_empty()) {
            let seen = match part {
                "code" => &mut parsed.code,
                "token" => &mut parsed.token,
                "id_token" => &mut parsed.id_token,
                _ => return None,
            };
            if *seen {
                return None;
            }
            *seen = true;
        }
        // Hybrid flows are not offered.
        match (parsed.code, parsed.token || parsed.id_token) {
            (true, false) | (false, true) => Some(parsed),
            _ => None,
        }
    }

    fn is_implicit(self) -> bool {
        !self.code
    }
}

/// Where and how the response goes: known good once the client and redirect URI check out.
pub struct Destination {
    pub redirect_uri: String,
    pub mode: ResponseMode,
    pub state: Option<String>,
}

/// Sends authorization response parameters to the client (plus `state` and RFC 9207 `iss`).
pub fn deliver(
    app: &AppState,
    destination: &Destination,
    mut params: Vec<(&'static str, String)>,
) -> Response {
    if let Some(state) = &destination.state {
        params.push(("state", state.clone()));
    }
    params.push(("iss", app.settings.issuer.clone()));
    match destination.mode {
        ResponseMode::Query | ResponseMode::Fragment => {
            let Ok(mut url) = url::Url::parse(&destination.redirect_uri) else {
                return app.templates.message(
                    StatusCode::BAD_REQUEST,
                    "Invalid request",
                    "The redirect URI is not valid.",
                    None,
                );
            };
            if destination.mode == ResponseMode::Query {
                url.query_pairs_mut()
                    .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
            } else {
                let encoded = serde_urlencoded::to_string(&params).unwrap_or_default();
                url.set_fragment(Some(&encoded));
            }
            found(url.as_str())
        }
        ResponseMode::FormPost => {
            #[derive(serde::Serialize)]
            struct FormPost<'a> {
                action: &'a str,
                fields: &'a [(&'static str, String)],
            }
            app.templates.page(
                StatusCode::OK,
                "form_post.html",
                FormPost {
                    action: &destination.redirect_uri,
                    fields: &params,
                },
                Framing::Nobody,
            )
        }
        ResponseMode::WebMessage => {
            #[derive(serde::Serialize)]
            struct WebMessage<'a> {
                response: serde_json::Map<String, serde_json::Value>,
                target_origin: &'a str,
            }
            let origin = portcullis_store::origin_of(&destination.redirect_uri).unwrap_or_default();
            let response = params
                .into_iter()
                .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v)))
                .collect();
            app.templates.page(
                StatusCode::OK,
                "web_message.html",
                WebMessage {
                    response,
                    target_origin: &origin,
                },
                Framing::Origin(&origin),
            )
        }
    }
}

/// Sends an error to the client through its chosen response mode.
pub fn deliver_error(app: &AppState, destination: &Destination, error: OAuthError) -> Response {
    deliver(
        app,
        destination,
        vec![
            ("error", error.code.as_str().to_owned()),
            ("error_description", error.description),
        ],
    )
}

/// A 302 Found redirect (RFC 6749 §4.1.2), never cached. 307 would re-post form bodies.
pub fn found(location: &str) -> Response {
    match axum::http::HeaderValue::from_str(location) {
        Ok(value) => (
            StatusCode::FOUND,
            [
                (header::LOCATION, value),
                (
                    header::CACHE_CONTROL,
                    axum::http::HeaderValue::from_static("no-store"),
                ),
            ],
        )
            .into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, "The redirect URI is not valid.").into_response(),
    }
}

fn error_page(app: &AppState, description: &str) -> Response {
    app.templates.message(
        StatusCode::BAD_REQUEST,
        "Something went wrong",
        description,
        Some("invalid_request"),
    )
}

/// Checks the client and the redirect URI: the only checks whose failure is shown on our page.
pub async fn resolve_destination(
    app: &AppState,
    params: &AuthorizeParams,
) -> Result<(Client, Destination), Response> {
    let Some(client_id) = params.client_id.as_deref().filter(|c| !c.is_empty()) else {
        return Err(error_page(app, "Missing required parameter: client_id."));
    };
    let client = match app.tenant.client(app.store.as_ref(), client_id).await {
        Ok(Some(client)) => client,
        Ok(None) => {
            return Err(error_page(
                app,
                "Unknown client: the application is not registered.",
            ))
        }
        Err(error) => {
            OAuthError::internal(error);
            return Err(app.templates.message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Please try again.",
                None,
            ));
        }
    };
    let implicit = params
        .response_type
        .as_deref()
        .and_then(ResponseType::parse)
        .is_some_and(ResponseType::is_implicit);
    let mode = match params.response_mode.as_deref() {
        None | Some("") => {
            if implicit {
                ResponseMode::Fragment
            } else {
                ResponseMode::Query
            }
        }
        Some("query") => ResponseMode::Query,
        Some("fragment") => ResponseMode::Fragment,
        Some("form_post") => ResponseMode::FormPost,
        Some("web_message") => ResponseMode::WebMessage,
        Some(_) => {
            if implicit {
                ResponseMode::Fragment
            } else {
                ResponseMode::Query
            }
        }
    };
    let redirect_uri = match params.redirect_uri.as_deref() {
        Some(uri) => uri.to_owned(),
        None if client.callbacks.len() == 1 => client.callbacks[0].clone(),
        None => return Err(error_page(app, "Missing required parameter: redirect_uri.")),
    };
    // A web_message response is posted to, and framed by, the redirect URI's origin: only an
    // Allowed Web Origin may ask for one, whatever the callbacks and CORS origins say.
    if mode == ResponseMode::WebMessage {
        if !client.accepts_web_message_to(&redirect_uri) {
            return Err(error_page(
                app,
                "The redirect_uri's origin is not registered for this application (add it to its Allowed Web Origins).",
            ));
        }
    } else if !client.is_callback(&redirect_uri) {
        return Err(error_page(
            app,
            "The redirect_uri is not registered for this application (add it to its Allowed Callback URLs).",
        ));
    }
    Ok((
        client,
        Destination {
            redirect_uri,
            mode,
            state: params.state.clone(),
        },
    ))
}

/// A request whose every parameter checked out.
pub(crate) struct ValidRequest {
    response_type: ResponseType,
    pub(crate) scopes: Scope,
    pub(crate) api: Option<ResourceServer>,
    prompt_none: bool,
    prompt_login: bool,
    max_age: Option<i64>,
    dpop_jkt: Option<String>,
}

pub(crate) async fn validate(
    app: &AppState,
    client: &Client,
    destination: &Destination,
    params: &AuthorizeParams,
) -> Result<ValidRequest, OAuthError> {
    let Some(response_type) = params.response_type.as_deref() else {
        return Err(OAuthError::invalid_request(
            "Missing required parameter: response_type",
        ));
    };
    let response_type = ResponseType::parse(response_type).ok_or_else(|| {
        OAuthError::new(
            ErrorCode::UnsupportedResponseType,
            format!("Unsupported response type: {response_type}"),
        )
    })?;
    if let Some(mode) = params.response_mode.as_deref().filter(|m| !m.is_empty()) {
        if !matches!(mode, "query" | "fragment" | "form_post" | "web_message") {
            return Err(OAuthError::invalid_request(format!(
                "Unsupported response_mode: {mode}"
            )));
        }
    }
    if response_type.is_implicit() {
        if !client.allows_grant(GrantType::Implicit) {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "Unsupported response type: the implicit grant is not enabled for this client",
            ));
        }
        if destination.mode == ResponseMode::Query {
            return Err(OAuthError::invalid_request(
                "response_mode query is not allowed with response types that return tokens",
            ));
        }
        if response_type.id_token && params.nonce.as_deref().is_none_or(str::is_empty) {
            return Err(OAuthError::invalid_request(
                "Missing required parameter: nonce",
            ));
        }
    } else {
        if !client.allows_grant(GrantType::AuthorizationCode) {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "The authorization_code grant is not enabled for this client",
            ));
        }
        pkce::check_request(
            client,
            params.code_challenge.as_deref(),
            params.code_challenge_method.as_deref(),
        )
        .map_err(OAuthError::invalid_request)?;
    }
    let dpop_jkt =
        dpop::code_binding(params.dpop_jkt.as_deref()).map_err(OAuthError::invalid_request)?;
    let audience = match (
        params.audience.as_deref().filter(|a| !a.is_empty()),
        params.resource.as_deref().filter(|r| !r.is_empty()),
    ) {
        (Some(a), Some(r)) if a != r => {
            return Err(OAuthError::invalid_request(
                "audience and resource name different APIs",
            ))
        }
        (a, r) => a.or(r),
    };
    let api = user_api(app, audience).await?;
    let requested = Scope::parse(params.scope.as_deref().unwrap_or("openid"))
        .map_err(|e| OAuthError::new(ErrorCode::InvalidScope, e.to_string()))?;
    if response_type.id_token && !requested.contains("openid") {
        return Err(OAuthError::invalid_request(
            "response_type id_token requires the openid scope",
        ));
    }
    let refresh_allowed =
        !response_type.is_implicit() && client.allows_grant(GrantType::RefreshToken);
    let scopes = authz::user_token_scopes(&requested, api.as_ref(), refresh_allowed);
    let prompts: Vec<&str> = params
        .prompt
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|p| !p.is_empty())
        .collect();
    let prompt_none = prompts.contains(&"none");
    if prompt_none && prompts.len() > 1 {
        return Err(OAuthError::invalid_request(
            "prompt=none cannot be combined with other values",
        ));
    }
    let max_age =
        match params.max_age.as_deref() {
            None | Some("") => None,
            Some(value) => Some(value.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(
                || OAuthError::invalid_request("max_age must be a non-negative integer"),
            )?),
        };
    Ok(ValidRequest {
        response_type,
        scopes,
        api,
        prompt_none,
        prompt_login: prompts.contains(&"login"),
        max_age,
        dpop_jkt,
    })
}

pub async fn get(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    portcullis_web::ClientOrigin(origin): portcullis_web::ClientOrigin,
) -> Response {
    let raw = raw.unwrap_or_default();
    let params = match parse_params(&raw) {
        Ok(params) => params,
        Err(message) => return error_page(&app, &message),
    };
    let (client, destination) = match resolve_destination(&app, &params).await {
        Ok(resolved) => resolved,
        Err(page) => return page,
    };
    let request = match validate(&app, &client, &destination, &params).await {
        Ok(request) => request,
        Err(error) => return deliver_error(&app, &destination, error),
    };
    let now = app.clock.now();
    let session = session::current(&app, &headers)
        .await
        .filter(|(session, _)| {
            request
                .max_age
                .is_none_or(|max_age| session.auth_time + max_age >= now)
        });
    match session {
        Some((session, user)) if !request.prompt_login => {
            if user.blocked {
                return deliver_error(
                    &app,
                    &destination,
                    OAuthError::new(ErrorCode::AccessDenied, "user is blocked"),
                );
            }
            let asked = mfa_gate::asks_for_mfa(params.acr_values.as_deref());
            let second = mfa_gate::Step {
                user: &user,
                session: &session,
                asked,
                prompt_none: request.prompt_none,
                authorize_query: &raw,
            };
            match mfa_gate::gate(&app, second).await {
                Ok(None) => {}
                Ok(Some(page)) => return page,
                Err(error) => return deliver_error(&app, &destination, error),
            }
            let step = consent_gate::Step {
                client: &client,
                user: &user,
                api: request.api.as_ref(),
                scope: &request.scopes,
                prompt: params.prompt.as_deref(),
                authorize_query: &raw,
                headers: &headers,
            };
            match consent_gate::gate(&app, step).await {
                Ok(None) => {}
                Ok(Some(page)) => return page,
                Err(error) => return deliver_error(&app, &destination, error),
            }
            let login = crate::actions::Login {
                client: &client,
                api: request.api.as_ref(),
                user: &user,
                scope: &request.scopes,
                protocol: event::protocol::authorize(request.response_type.code),
                redirect_uri: Some(&destination.redirect_uri),
                request: crate::actions::query_request(&app, &origin, &raw),
                origin: &origin,
            };
            match respond(
                &app,
                &client,
                &destination,
                &params,
                &request,
                &session,
                login,
            )
            .await
            {
                Ok(response) => response,
                Err(error) => deliver_error(&app, &destination, error),
            }
        }
        _ if request.prompt_none => deliver_error(
            &app,
            &destination,
            OAuthError::new(ErrorCode::LoginRequired, "Login required"),
        ),
        _ if params.connection.is_some() => {
            let name = params.connection.as_deref().unwrap_or_default();
            upstream_sign_in(&app, &client, &destination, name, &raw).await
        }
        _ => {
            let page = if params.screen_hint.as_deref() == Some("signup") {
                "/u/signup"
            } else {
                "/u/login"
            };
            found(&format!("{page}?{raw}"))
        }
    }
}

/// Sends the browser to the provider of connection `name`; the database connection's name
/// goes to the login page, and a connection not enabled for the application is refused to it.
async fn upstream_sign_in(
    app: &AppState,
    client: &Client,
    destination: &Destination,
    name: &str,
    raw: &str,
) -> Response {
    match connection_login::enabled(app, client, name).await {
        Ok(Some(connection)) => connection_login::begin(app, &connection, raw).await,
        Ok(None) if name == portcullis_admin::shapes::DATABASE_CONNECTION => {
            found(&format!("/u/login?{raw}"))
        }
        Ok(None) => deliver_error(
            app,
            destination,
            OAuthError::new(ErrorCode::InvalidRequest, "the connection is not enabled"),
        ),
        Err(error) => {
            tracing::error!(%error, "could not read a connection");
            deliver_error(
                app,
                destination,
                OAuthError::new(ErrorCode::ServerError, "the connection could not be read"),
            )
        }
    }
}

/// Issues the response for a signed-in user (a code, or the implicit flow's tokens) once the
/// post-login Actions let it: what they set travels with the code or goes into the tokens.
async fn respond(
    app: &AppState,
    client: &Client,
    destination: &Destination,
    params: &AuthorizeParams,
    request: &ValidRequest,
    session: &LoginSession,
    login: crate::actions::Login<'_>,
) -> Result<Response, OAuthError> {
    let user = login.user;
    let changes = crate::actions::post_login(app, login).await?;
    let mut out: Vec<(&'static str, String)> = Vec::new();
    if request.response_type.code {
        let code = random_token(32);
        app.store
            .insert_code(&AuthorizationCode {
                code_hash: lookup_hash(&code),
                client_id: client.client_id.clone(),
                user_id: user.user_id.clone(),
                redirect_uri: destination.redirect_uri.clone(),
                scope: request.scopes.to_string(),
                audience: request.api.as_ref().map(|api| api.identifier.clone()),
                nonce: params.nonce.clone(),
                code_challenge: params.code_challenge.clone(),
                sid: session.sid.clone(),
                auth_time: session.auth_time,
                expires_at: app.clock.now() + app.settings.code_lifetime,
                amr: session.amr.clone(),
                acr: mfa_gate::acr(params.acr_values.as_deref(), session),
                dpop_jkt: request.dpop_jkt.clone(),
                actions: crate::actions::to_stored(&changes),
            })
            .await?;
        out.push(("code", code));
    } else {
        let mut access = None;
        if request.response_type.token {
            let token = app
                .minter()
                .access_token_with(
                    AccessRequest {
                        subject: &user.user_id,
                        user: Some(user),
                        client,
                        api: request.api.as_ref(),
                        scope: &request.scopes,
                        for_browser: true,
                        client_credentials: false,
                        amr: &session.amr,
                        dpop_jkt: None,
                    },
                    &changes,
                )
                .await?;
            out.push(("access_token", token.token.clone()));
            out.push(("token_type", "Bearer".into()));
            out.push(("expires_in", token.expires_in.to_string()));
            out.push(("scope", token.scope.to_string()));
            access = Some(token.token);
        }
        if request.response_type.id_token {
            let id_token = app.minter().id_token_with(
                IdTokenRequest {
                    user,
                    client,
                    scope: &request.scopes,
                    nonce: params.nonce.as_deref(),
                    auth_time: session.auth_time,
                    sid: &session.sid,
                    access_token: access.as_deref(),
                    amr: &session.amr,
                    acr: mfa_gate::acr(params.acr_values.as_deref(), session).as_deref(),
                },
                &changes,
            )?;
            out.push(("id_token", id_token));
        }
        app.metrics.token_issued("implicit");
    }
    Ok(deliver(app, destination, out))
}

/// The API a user's login asks for by its identifier, if any: Auth0's `access_denied` ("Service
/// not found") for an unknown one, and for the Management API, which serves machine clients
/// only (client_credentials).
pub(crate) async fn user_api(
    app: &AppState,
    audience: Option<&str>,
) -> Result<Option<ResourceServer>, OAuthError> {
    let Some(audience) = audience else {
        return Ok(None);
    };
    let api = app.tenant.api(app.store.as_ref(), audience).await?;
    match api.filter(|api| !api.is_system) {
        Some(api) => Ok(Some(api)),
        None => Err(OAuthError::new(
            ErrorCode::AccessDenied,
            format!("Service not found: {audience}"),
        )),
    }
}
