//! `GET /authorize`: the authorization endpoint (RFC 6749 §3.1, OIDC Core §3), with Auth0's
//! response modes (`query`, `fragment`, `form_post`, `web_message`) and silent authentication.
//!
//! Until the client and redirect URI are known to be registered, errors are shown on our own
//! page; afterwards they go back to the client the way it asked.

use axum::{
    extract::{RawQuery, State},
    http::HeaderMap,
    response::Response,
};
use portcullis_core::{
    actions::{event, TokenChanges},
    authz, dpop, pkce,
    secrets::{lookup_hash, random_token},
    tokens::{AccessRequest, IdTokenRequest},
};
use portcullis_store::{AuthorizationCode, Client, LoginSession, ResourceServer, User};
use portcullis_types::{GrantType, Scope};

pub use crate::routes::authorize_request::{
    deliver, deliver_error, found, parse_params, resolve_destination, AuthorizeParams, Destination,
    ResponseMode,
};
use crate::{
    error::{ErrorCode, OAuthError},
    routes::{
        authorize_request::{error_page, ResponseType},
        connection_login, consent_gate, mfa_gate,
    },
    session,
    state::AppState,
};

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
                return deliver_error(&app, &destination, OAuthError::blocked());
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
            let changes = match crate::actions::post_login(&app, login).await {
                Ok(changes) => changes,
                Err(error) => return deliver_error(&app, &destination, error),
            };
            // `api.multifactor.enable`: the factor's step first; back here after it, the
            // session has the factor and the Actions run again.
            if changes.owes_second_factor(&session.amr) {
                let query = mfa_gate::asking_for_mfa(&raw);
                let second = mfa_gate::Step {
                    user: &user,
                    session: &session,
                    asked: true,
                    prompt_none: request.prompt_none,
                    authorize_query: &query,
                };
                match mfa_gate::gate(&app, second).await {
                    Ok(None) => {}
                    Ok(Some(page)) => return page,
                    Err(error) => return deliver_error(&app, &destination, error),
                }
            }
            let granted = Granted {
                user: &user,
                changes,
            };
            match respond(
                &app,
                &client,
                &destination,
                &params,
                &request,
                &session,
                granted,
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

/// A signed-in user the post-login Actions let through, and what they set.
struct Granted<'a> {
    user: &'a User,
    changes: TokenChanges,
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
    Granted { user, changes }: Granted<'_>,
) -> Result<Response, OAuthError> {
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
