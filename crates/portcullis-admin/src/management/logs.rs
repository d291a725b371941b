//! `/logs`: the audit log (Auth0's "Logs"), newest first.

use axum::{extract::State, response::Response, Json};
use portcullis_store::LogFilter;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{
    auth::{Authorized, ReadLogs},
    errors::{ApiError, ErrorBody, Id, Query},
    pagination::{FieldsParams, PageParams},
};
use crate::{shapes::LogShape, state::AdminState};

/// Search parameters of `GET /logs`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogSearch {
    /// `type:s`, `user_id:"auth0|..."`, `client_id:"..."`, joined with `AND`.
    pub q: Option<String>,
    /// The same as `q` (the name the SDKs use).
    pub search: Option<String>,
    /// Accepted for compatibility; events come newest first.
    pub sort: Option<String>,
}

fn parse_filter(q: &str) -> Result<LogFilter, ApiError> {
    let mut filter = LogFilter::default();
    for term in q.split_whitespace().filter(|t| *t != "AND") {
        let (field, value) = term.split_once(':').ok_or_else(|| {
            ApiError::invalid_query(format!(
                "Query validation error: '{term}' is not a field:value term"
            ))
        })?;
        let value = value.trim_matches('"').to_owned();
        match field {
            "type" => filter.event_type = Some(value.as_str().into()),
            "user_id" => filter.user_id = Some(value),
            "client_id" => filter.client_id = Some(value),
            other => {
                return Err(ApiError::invalid_query(format!(
                    "Query validation error: searching logs by '{other}' is not supported (type, user_id, client_id)"
                )))
            }
        }
    }
    Ok(filter)
}

/// Search the audit log.
#[utoipa::path(
    get, path = "/logs", tag = "logs",
    params(PageParams, FieldsParams, LogSearch),
    responses(
        (status = 200, description = "A page of events, newest first: an array, or with `include_totals` an object with `logs`", body = Vec<LogShape>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["read:logs"]))
)]
pub async fn list(
    State(app): State<AdminState>,
    _auth: Authorized<ReadLogs>,
    Query(page): Query<PageParams>,
    Query(fields): Query<FieldsParams>,
    Query(search): Query<LogSearch>,
) -> Result<Response, ApiError> {
    let paging = page.paging()?;
    let q = search.q.or(search.search).unwrap_or_default();
    let filter = parse_filter(&q)?;
    let (events, total) = app.store().list_logs(&filter, paging.store_page()).await?;
    let items = fields.project_all(events.iter().map(LogShape::from));
    Ok(paging.respond("logs", items, total))
}

/// Get one audit log event.
#[utoipa::path(
    get, path = "/logs/{id}", tag = "logs",
    params(("id" = String, Path, description = "The event's log_id")),
    responses(
        (status = 200, description = "The event", body = LogShape),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["read:logs"]))
)]
pub async fn get(
    State(app): State<AdminState>,
    _auth: Authorized<ReadLogs>,
    Id(id): Id,
) -> Result<Json<LogShape>, ApiError> {
    let event = app
        .store()
        .log_by_id(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("inexistent_log", "The log event does not exist"))?;
    Ok(Json(LogShape::from(&event)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_queries() {
        let filter = parse_filter("type:sapi AND client_id:\"abc\"").unwrap();
        assert_eq!(filter.event_type.as_ref().map(|t| t.as_str()), Some("sapi"));
        assert_eq!(filter.client_id.as_deref(), Some("abc"));
        assert!(parse_filter("ip:1.2.3.4").is_err());
        assert_eq!(parse_filter("").unwrap(), LogFilter::default());
    }
}
