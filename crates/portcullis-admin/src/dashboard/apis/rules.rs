//! The Access rules tab of an API: declarative conditions on its scopes.

use axum::{extract::Path, http::StatusCode, response::Response};
use minijinja::context;
use portcullis_core::admin::{rules, AdminError, Kind};
use portcullis_store::{Page, ResourceServer, RuleCondition};
use serde::Serialize;

use super::{href, load, tab, SECTION};
use crate::dashboard::{
    auth::{Dash, Posted},
    view::FormError,
};

/// Lists in selects (roles, applications) show at most this many entries.
const SELECT_LIMIT: Page = Page {
    page: 0,
    per_page: 200,
};

/// An access rule as the Access rules tab lists it.
#[derive(Serialize)]
struct RuleRow {
    id: String,
    scope: String,
    kind: &'static str,
    text: String,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

async fn rules_tab(
    dash: &Dash,
    status: StatusCode,
    api: &ResourceServer,
    error: Option<FormError>,
) -> Response {
    let store = dash.app.store();
    let loaded = async {
        let rules = store.access_rules(&api.id).await?;
        let (roles, _) = store.list_roles(None, SELECT_LIMIT).await?;
        let (clients, _) = store.list_clients(SELECT_LIMIT).await?;
        Ok::<_, portcullis_store::StoreError>((rules, roles, clients))
    }
    .await;
    let (rules, roles, clients) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return dash.fail(SECTION, error),
    };
    let role_name = |id: &str| {
        roles
            .iter()
            .find(|role| role.id == id)
            .map_or_else(|| id.to_owned(), |role| role.name.clone())
    };
    let client_name = |id: &str| {
        clients
            .iter()
            .find(|client| client.client_id == id)
            .map_or_else(|| id.to_owned(), |client| client.name.clone())
    };
    let rows: Vec<RuleRow> = rules
        .iter()
        .map(|rule| {
            let (kind, text) = match &rule.condition {
                RuleCondition::EmailVerified => (
                    "email_verified",
                    "the user's email address is verified".to_owned(),
                ),
                RuleCondition::HasRole { role_id } => (
                    "has_role",
                    format!("the user has the role {}", role_name(role_id)),
                ),
                RuleCondition::ClientIn { client_ids } => (
                    "client_in",
                    format!(
                        "the token is requested by {}",
                        client_ids
                            .iter()
                            .map(|id| client_name(id))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                RuleCondition::EmailDomainIn { domains } => (
                    "email_domain_in",
                    format!("the user's verified email domain is {}", domains.join(", ")),
                ),
            };
            RuleRow {
                id: rule.id.clone(),
                scope: rule.scope.clone(),
                kind,
                text,
            }
        })
        .collect();
    let roles: Vec<Choice> = roles
        .into_iter()
        .map(|role| Choice {
            value: role.id,
            label: role.name,
        })
        .collect();
    let clients: Vec<Choice> = clients
        .into_iter()
        .map(|client| Choice {
            label: format!("{} ({})", client.name, client.client_id),
            value: client.client_id,
        })
        .collect();
    tab(
        dash,
        status,
        api,
        "rules",
        context! { rules => rows, roles, clients, error },
    )
}

pub(super) async fn show(dash: Dash, Path(id): Path<String>) -> Response {
    match load(&dash, &id).await {
        Ok(api) => rules_tab(&dash, StatusCode::OK, &api, None).await,
        Err(page) => page,
    }
}

pub(super) async fn add(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let api = match load(&dash, &id).await {
        Ok(api) => api,
        Err(page) => return page,
    };
    let kind = form.get("kind");
    let condition = match kind {
        "email_verified" => RuleCondition::EmailVerified,
        "has_role" => RuleCondition::HasRole {
            role_id: form.get("role_id").to_owned(),
        },
        "client_in" => RuleCondition::ClientIn {
            client_ids: form.all("client_ids"),
        },
        "email_domain_in" => RuleCondition::EmailDomainIn {
            domains: form.list("domains"),
        },
        _ => {
            let error = FormError::at("kind", "Choose one of the four kinds of rule.");
            return rules_tab(&dash, StatusCode::BAD_REQUEST, &api, Some(error)).await;
        }
    };
    let scope = form.get("scope");
    match rules::create(&dash.app.cx, &dash.actor(), &api.id, scope, condition).await {
        Ok(_) => dash.redirect(&href(&api, "rules"), "Access rule added."),
        Err(error) => match dash.refusal(error, SECTION, &[("condition", kind)]) {
            Ok((status, error)) => rules_tab(&dash, status, &api, Some(error)).await,
            Err(page) => page,
        },
    }
}

pub(super) async fn remove(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let api = match load(&dash, &id).await {
        Ok(api) => api,
        Err(page) => return page,
    };
    let rule_id = form.get("rule_id");
    // Only a rule of this API is removed from this API's page; one already gone is fine.
    match rules::delete(&dash.app.cx, &dash.actor(), Some(&api.id), rule_id).await {
        Ok(()) | Err(AdminError::NotFound(Kind::AccessRule)) => {
            dash.redirect(&href(&api, "rules"), "Access rule removed.")
        }
        Err(error) => dash.fail(SECTION, error),
    }
}
