//! The authorization request as `/authorize` reads it, and where its answer goes: the
//! parameters, the client and redirect URI they name (the only checks whose failure is shown
//! on our own page), and the response in the mode the client asked for. Shared by
//! `/authorize` and the pages that resume it (login, consent, a provider's callback).

use axum::{
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};
use portcullis_store::Client;
use serde::Deserialize;

use crate::{error::OAuthError, state::AppState, templates::Framing};

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
pub(crate) struct ResponseType {
    pub(crate) code: bool,
    pub(crate) token: bool,
    pub(crate) id_token: bool,
}

impl ResponseType {
    pub(crate) fn parse(value: &str) -> Option<Self> {
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

    pub(crate) fn is_implicit(self) -> bool {
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

pub(crate) fn error_page(app: &AppState, description: &str) -> Response {
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
