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
use portcullis_types::EventType;

use crate::state::AdminState;

const SECTION: Section = Section::Logs;

pub fn routes() -> Router<AdminState> {
    Router::new()
        .route("/logs", get(list))
        .route("/logs/{id}", get(show))
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
            label: event
                .event_type
                .label()
                .unwrap_or(event.event_type.as_str())
                .to_owned(),
            failure: event.event_type.is_failure(),
            href: format!("/dashboard/logs/{}", segment(&event.log_id)),
            who,
            event,
        }
    }
}

#[derive(Serialize)]
struct TypeChoice {
    code: String,
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
    let store = dash.app.store();
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
        event_type: Some(event_type)
            .filter(|t| !t.is_empty())
            .map(EventType::from),
        user_id,
        client_id: Some(client.to_owned()).filter(|c| !c.is_empty()),
    };
    match dash.app.store().list_logs(&filter, page).await {
        Ok((events, total)) => {
            let pager = Pager::new(
                page,
                events.len(),
                total,
                "/dashboard/logs",
                &[("type", event_type), ("user", user), ("client", client)],
            );
            let rows: Vec<Row> = events.into_iter().map(Row::of).collect();
            let types: Vec<TypeChoice> = EventType::recorded()
                .into_iter()
                .filter_map(|event_type| {
                    let label = event_type.label()?;
                    Some(TypeChoice {
                        code: event_type.as_str().to_owned(),
                        label,
                    })
                })
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
    match dash.app.store().log_by_id(&id).await {
        Ok(Some(event)) => {
            let details = serde_json::to_string_pretty(&event.details).unwrap_or_default();
            let row = Row::of(event);
            let user_href = row
                .event
                .user_id
                .as_deref()
                .filter(|id| !id.starts_with("adm_"))
                .map(|id| super::paths::user(id, "details"));
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
