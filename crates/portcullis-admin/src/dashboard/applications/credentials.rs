//! The Credentials tab of an application: how it authenticates, and its secret.

use axum::{extract::Path, http::StatusCode, response::Response};
use minijinja::context;
use portcullis_core::admin::applications::{self, ClientChanges};
use portcullis_store::Client;
use portcullis_types::ClientAuthMethod;

use super::{href, load, SECTION};
use crate::dashboard::{
    auth::{Dash, Posted},
    view::FormError,
};

pub(super) fn tab(
    dash: &Dash,
    status: StatusCode,
    client: &Client,
    secret: Option<&str>,
    notice: Option<&str>,
    error: Option<FormError>,
) -> Response {
    super::tab(
        dash,
        status,
        client,
        "credentials",
        context! {
            secret,
            notice,
            error,
            has_secret => client.client_secret_hash.is_some(),
            token_endpoint => dash.app.settings.endpoint("oauth/token"),
        },
    )
}

pub(super) async fn show(dash: Dash, Path(id): Path<String>) -> Response {
    match load(&dash, &id).await {
        Ok(client) => tab(&dash, StatusCode::OK, &client, None, None, None),
        Err(page) => page,
    }
}

pub(super) async fn save(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let client = match load(&dash, &id).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    let method = match form
        .get("token_endpoint_auth_method")
        .parse::<ClientAuthMethod>()
    {
        Ok(method) => method,
        Err(error) => {
            let error = FormError::at("token_endpoint_auth_method", error.to_string());
            return tab(
                &dash,
                StatusCode::BAD_REQUEST,
                &client,
                None,
                None,
                Some(error),
            );
        }
    };
    let changes = ClientChanges {
        token_endpoint_auth_method: Some(method),
        ..ClientChanges::default()
    };
    match applications::update(&dash.app.cx, &dash.actor(), &client.client_id, changes).await {
        Ok((updated, secret)) => match secret {
            Some(secret) => tab(
                &dash,
                StatusCode::OK,
                &updated,
                Some(secret.expose_str()),
                Some("Authentication method saved. The application now has a secret."),
                None,
            ),
            None => dash.redirect(
                &href(&updated, "credentials"),
                "Authentication method saved.",
            ),
        },
        Err(error) => match dash.refusal(
            error,
            SECTION,
            &[("grant_types", "token_endpoint_auth_method")],
        ) {
            Ok((status, error)) => tab(&dash, status, &client, None, None, Some(error)),
            Err(page) => page,
        },
    }
}

pub(super) async fn rotate(Path(id): Path<String>, Posted { dash, .. }: Posted) -> Response {
    let client = match load(&dash, &id).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    match applications::rotate_secret(&dash.app.cx, &dash.actor(), &client.client_id).await {
        Ok((client, secret)) => tab(
            &dash,
            StatusCode::OK,
            &client,
            Some(secret.expose_str()),
            Some("Secret rotated. The previous secret no longer works."),
            None,
        ),
        Err(error) => {
            match dash.refusal(error, SECTION, &[("token_endpoint_auth_method", "rotate")]) {
                Ok((status, error)) => tab(&dash, status, &client, None, None, Some(error)),
                Err(page) => page,
            }
        }
    }
}
