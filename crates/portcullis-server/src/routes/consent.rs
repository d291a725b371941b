//! The consent page's form (`POST /u/consent`; the page itself is `routes::consent_gate`'s,
//! shown by `/authorize`). Like the login form, it carries the authorization request in a
//! hidden field and must come back with the browser's CSRF value. Accept records the consent
//! and sends the browser (303) back to `/authorize`, which now answers the client; Deny answers
//! the client `access_denied` by its response mode.

use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use portcullis_core::consent;
use portcullis_store::Client;
use serde::Deserialize;

use crate::{
    error::{ErrorCode, OAuthError},
    routes::{
        authorize::{
            deliver_error, parse_params, resolve_destination, validate, Destination, ValidRequest,
        },
        login::without_prompt,
    },
    session::{self, LoginCsrf},
    state::AppState,
};

/// The submitted consent form.
#[derive(Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    authorize_query: String,
    /// `accept`; anything else denies.
    #[serde(default)]
    decision: String,
}

pub async fn post(
    State(app): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ConsentForm>,
) -> Response {
    if !LoginCsrf::matches(&app, &headers, &form.authorize_query, &form.csrf) {
        return app.templates.message(
            StatusCode::FORBIDDEN,
            "Session expired",
            "The form was not submitted from this browser's consent page. Go back to the application and try again.",
            Some("invalid_csrf"),
        );
    }
    let (client, destination, request) = match carried(&app, &form.authorize_query).await {
        Ok(carried) => carried,
        Err(page) => return page,
    };
    let Some((_, user)) = session::current(&app, &headers).await else {
        // The session ended while the page was open: /authorize signs the user in again.
        return again(&format!("/authorize?{}", form.authorize_query));
    };
    if user.blocked {
        return deliver_error(&app, &destination, OAuthError::blocked());
    }
    if form.decision != "accept" {
        tracing::info!(user_id = %user.user_id, client_id = %client.client_id, "consent denied");
        return deliver_error(
            &app,
            &destination,
            OAuthError::new(
                ErrorCode::AccessDenied,
                "User did not authorize the request",
            ),
        );
    }
    let audience = consent::audience(request.api.as_ref(), &app.settings.issuer);
    let approval = consent::Request {
        client: &client,
        user_id: &user.user_id,
        audience: &audience,
        scope: &request.scopes,
        forced: false,
    };
    if let Err(error) = consent::approve(app.store.as_ref(), app.clock.as_ref(), &approval).await {
        return deliver_error(&app, &destination, OAuthError::internal(error));
    }
    tracing::info!(user_id = %user.user_id, client_id = %client.client_id, "consent given");
    // Without `prompt`: `prompt=consent` has just been honoured.
    again(&format!(
        "/authorize?{}",
        without_prompt(&form.authorize_query)
    ))
}

/// The authorization request the form carries, checked again as `/authorize` checks it (the
/// form is the user's to change): failures before the client and redirect URI are known are
/// shown on our page, later ones go to the client.
async fn carried(
    app: &AppState,
    query: &str,
) -> Result<(Client, Destination, ValidRequest), Response> {
    let params = parse_params(query).map_err(|message| {
        let title = "Something went wrong";
        app.templates
            .message(StatusCode::BAD_REQUEST, title, &message, None)
    })?;
    let (client, destination) = resolve_destination(app, &params).await?;
    let request = validate(app, &client, &destination, &params)
        .await
        .map_err(|error| deliver_error(app, &destination, error))?;
    Ok((client, destination, request))
}

/// 303 to `location`, never cached.
fn again(location: &str) -> Response {
    let mut response = Redirect::to(location).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
