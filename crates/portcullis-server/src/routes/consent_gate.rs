//! The consent step of `/authorize`: before a third-party application gets a code or tokens
//! for a signed-in user, the user approves the scopes it asks for (see
//! `portcullis_core::consent` for who is asked what, and when).
//!
//! `/authorize` calls [`gate`] once it knows the user, and answers with the consent page it
//! returns instead of the client's response, or sends the client the error it returns
//! (`consent_required` to a `prompt=none` request). The page's form posts to `/u/consent`
//! (`routes::consent`). This module knows nothing of `/authorize` itself, so that both
//! endpoints can use it.

use axum::{
    http::{header, HeaderMap, StatusCode},
    response::Response,
};
use portcullis_core::consent::{self, ScopeDescription};
use portcullis_store::{Client, ResourceServer, User};
use portcullis_types::Scope;
use serde::Serialize;

use crate::{
    error::{ErrorCode, OAuthError},
    session::{set_cookie, LoginCsrf, CSRF_COOKIE},
    state::AppState,
    templates::Framing,
};

/// What `/authorize` knows when it asks [`gate`] about a signed-in user's request.
pub struct Step<'a> {
    pub client: &'a Client,
    pub user: &'a User,
    pub api: Option<&'a ResourceServer>,
    /// The scopes the request would grant.
    pub scope: &'a Scope,
    /// The request's `prompt` parameter.
    pub prompt: Option<&'a str>,
    /// The request's query, carried by the page's form.
    pub authorize_query: &'a str,
    pub headers: &'a HeaderMap,
}

/// The request's `prompt` values.
fn prompts(prompt: Option<&str>) -> impl Iterator<Item = &str> {
    prompt.unwrap_or("").split(' ').filter(|p| !p.is_empty())
}

/// The consent step: `Ok(None)` when the user has nothing to approve, `Ok(Some(page))` for the
/// consent page, or the error to send the client.
pub async fn gate(app: &AppState, step: Step<'_>) -> Result<Option<Response>, OAuthError> {
    let audience = consent::audience(step.api, &app.settings.issuer);
    let request = consent::Request {
        client: step.client,
        user_id: &step.user.user_id,
        audience: &audience,
        scope: step.scope,
        forced: prompts(step.prompt).any(|p| p == "consent"),
    };
    let pending = consent::pending(app.store.as_ref(), &request).await?;
    if pending.is_empty() {
        return Ok(None);
    }
    if prompts(step.prompt).any(|p| p == "none") {
        return Err(OAuthError::new(
            ErrorCode::ConsentRequired,
            "Consent required",
        ));
    }
    let csrf = LoginCsrf::of(app, step.headers);
    let form_value = csrf.form_value(app, step.authorize_query);
    let page = ConsentPage {
        client_name: &step.client.name,
        api_name: step.api.map(|api| api.name.as_str()),
        email: &step.user.email,
        scopes: consent::describe(&pending, step.api),
        csrf: &form_value,
        authorize_query: step.authorize_query,
    };
    let mut response = app
        .templates
        .page(StatusCode::OK, "consent.html", page, Framing::Nobody);
    if csrf.set {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(app, CSRF_COOKIE, &csrf.cookie, None),
        );
    }
    Ok(Some(response))
}

/// The consent page.
#[derive(Serialize)]
pub struct ConsentPage<'a> {
    pub client_name: &'a str,
    /// The API the application asks for, if any.
    pub api_name: Option<&'a str>,
    /// Who is signed in.
    pub email: &'a str,
    pub scopes: Vec<ScopeDescription>,
    pub csrf: &'a str,
    pub authorize_query: &'a str,
}
