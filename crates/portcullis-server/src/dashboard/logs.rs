//! Logs: the audit log, newest first, filtered by event type, user and application, and one
//! page per event.

use axum::{
    extract::{Path, RawQuery},
    http::StatusCode,
    response::Response,
    routing::get,
    Router,
};
use minijinja::context;
use portcullis_store::{LogEvent, LogFilter};
use serde::Serialize;

use super::{
    auth::Dash,
    form::FormData,
    view::{requested_page, segment, Pager, Section},
};
use crate::{audit::codes, state::AppState};

const SECTION: Section = Section::Logs;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/logs", get(list))
        .route("/logs/{id}", get(show))
}

/// Auth0's names for the event types we record.
const TYPES: &[(&str, &str)] = &[
    (codes::LOGIN, "Success Login"),
    (codes::FAILED_LOGIN, "Failed Login"),
    (codes::FAILED_LOGIN_BLOCKED, "Blocked Account"),
    (codes::LOGIN_THROTTLED, "Too Many Calls to /login"),
    (codes::SIGNUP, "Success Signup"),
    (codes::FAILED_SIGNUP, "Failed Signup"),
    (codes::LOGOUT, "Success Logout"),
    (
        codes::CODE_EXCHANGE,
        "Success Exchange (Authorization Code for Access Token)",
    ),
    (
        codes::FAILED_CODE_EXCHANGE,
        "Failed Exchange (Authorization Code for Access Token)",
    ),
    (
        codes::CLIENT_CREDENTIALS,
        "Success Exchange (Client Credentials for Access Token)",
    ),
    (
        codes::FAILED_CLIENT_CREDENTIALS,
        "Failed Exchange (Client Credentials for Access Token)",
    ),
    (
        codes::REFRESH,
        "Success Exchange (Refresh Token for Access Token)",
    ),
    (
        codes::FAILED_REFRESH,
        "Failed Exchange (Refresh Token for Access Token)",
    ),
    (codes::REFRESH_REUSE, "Refresh Token Reuse Detected"),
    (codes::MANAGEMENT_OPERATION, "Success API Operation"),
    (codes::FAILED_MANAGEMENT_OPERATION, "Failed API Operation"),
];

fn type_label(code: &str) -> &str {
    TYPES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, label)| label)
}

/// Whether the event type is a failure (shown in red).
fn is_failure(code: &str) -> bool {
    code.starts_with('f') || code.starts_with("limit") || code == codes::REFRESH_REUSE
}

/// An event as the list and the detail page show it.
#[derive(Serialize)]
struct Row {
    event: LogEvent,
    label: String,
    failure: bool,
    /// Who: the user's email, or the administrator's for dashboard changes.
    who: Option<String>,
    /// What an administrative change changed: `type id`.
    target: Option<String>,
    href: String,
}

impl Row {
    fn of(event: LogEvent) -> Self {
        let who = event.user_name.clone().or_else(|| {
            event
                .details
                .pointer("/admin/email")
                .and_then(|email| email.as_str())
                .map(str::to_owned)
        });
        let target = event.details.get("target").and_then(|target| {
            let kind = target.get("type").and_then(|v| v.as_str())?;
            let id = target.get("id").and_then(|v| v.as_str())?;
            Some(format!("{kind} {id}"))
        });
        Row {
            target,
            label: type_label(&event.event_type).to_owned(),
            failure: is_failure(&event.event_type),
            href: format!("/dashboard/logs/{}", segment(&event.log_id)),
            who,
            event,
        }
    }
}

#[derive(Serialize)]
struct TypeChoice {
    code: &'static str,
    label: &'static str,
}

/// The user filter takes an id, or an email address of a user or an administrator.
async fn user_filter(
    dash: &Dash,
    text: &str,
) -> Result<Option<String>, portcullis_store::StoreError> {
    if text.is_empty() {
        return Ok(None);
    }
    if !text.contains('@') || text.starts_with("auth0|") {
        return Ok(Some(text.to_owned()));
    }
    let store = dash.app.store.as_ref();
    if let Some(user) = store.user_by_email(text).await? {
        return Ok(Some(user.user_id));
    }
    if let Some(admin) = store.admin_by_email(text).await? {
        return Ok(Some(admin.id));
    }
    // Nobody has that address: a filter that matches nothing.
    Ok(Some(text.to_owned()))
}

async fn list(dash: Dash, RawQuery(query): RawQuery) -> Response {
    let query = FormData::from_query(query.as_deref());
    let page = requested_page(&query);
    let (event_type, user, client) = (query.get("type"), query.get("user"), query.get("client"));
    let user_id = match user_filter(&dash, user).await {
        Ok(user_id) => user_id,
        Err(error) => return dash.fail(SECTION, error),
    };
    let filter = LogFilter {
        event_type: Some(event_type.to_owned()).filter(|t| !t.is_empty()),
        user_id,
        client_id: Some(client.to_owned()).filter(|c| !c.is_empty()),
    };
    match dash.app.store.list_logs(&filter, page).await {
        Ok((events, total)) => {
            let pager = Pager::new(
                page,
                events.len(),
                total,
                "/dashboard/logs",
                &[("type", event_type), ("user", user), ("client", client)],
            );
            let rows: Vec<Row> = events.into_iter().map(Row::of).collect();
            let types: Vec<TypeChoice> = TYPES
                .iter()
                .map(|(code, label)| TypeChoice { code, label })
                .collect();
            let filtered = filter != LogFilter::default();
            dash.render(
                StatusCode::OK,
                "dashboard/logs.html",
                SECTION,
                context! {
                    rows,
                    pager,
                    types,
                    filtered,
                    filter => context! { kind => event_type, user, client },
                },
            )
        }
        Err(error) => dash.fail(SECTION, error),
    }
}

async fn show(dash: Dash, Path(id): Path<String>) -> Response {
    match dash.app.store.log_by_id(&id).await {
        Ok(Some(event)) => {
            let details = serde_json::to_string_pretty(&event.details).unwrap_or_default();
            let row = Row::of(event);
            let user_href = row
                .event
                .user_id
                .as_deref()
                .filter(|id| !id.starts_with("adm_"))
                .map(|id| super::users::href(id, "details"));
            let client_href = row
                .event
                .client_id
                .as_deref()
                .map(|id| format!("/dashboard/applications/{}/settings", segment(id)));
            dash.render(
                StatusCode::OK,
                "dashboard/log.html",
                SECTION,
                context! { row, details, user_href, client_href },
            )
        }
        Ok(None) => dash.not_found(SECTION, "Log event", "/dashboard/logs"),
        Err(error) => dash.fail(SECTION, error),
    }
}
