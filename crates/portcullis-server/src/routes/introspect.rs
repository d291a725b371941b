//! `POST /oauth/introspect` (RFC 7662): a confidential client (a resource server's own
//! application, typically) asks whether a token is active and what it says. The client
//! authenticates as at `/oauth/token`; the decision is `core::introspection`'s.

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    Json,
};

use super::token::request::ClientRequest;
use crate::{
    error::{ErrorCode, OAuthError},
    state::AppState,
};

pub async fn post(State(app): State<AppState>, request: ClientRequest) -> Response {
    let result = async {
        let ClientRequest { credentials, body } = request;
        let authenticated = credentials.authenticate(&app).await?;
        // RFC 7662 §2.1: the endpoint is for authenticated callers; a public client proves
        // nothing about who asks.
        if !authenticated.confidential {
            return Err(OAuthError::new(
                ErrorCode::InvalidClient,
                "Token introspection requires client authentication.",
            ));
        }
        let token = body.token()?;
        let answer = portcullis_core::introspection::introspect(
            &app.minter(),
            &authenticated.client,
            token.expose_str(),
        )
        .await?;
        Ok::<_, OAuthError>(answer)
    }
    .await;
    match result {
        Ok(answer) => ([(header::CACHE_CONTROL, "no-store")], Json(answer)).into_response(),
        Err(error) => error.into_response(),
    }
}
