//! Emails: the outbox, every message the server wrote, newest first, filtered by status and
//! recipient; one page per message, with its rendered HTML in a sandboxed frame, its text and
//! its links; and the Templates tab ([`templates`]), where each kind's subject, sender and
//! parts are edited.
//!
//! Without an SMTP server this is where emails are read: they stay in the outbox (status
//! `outbox`). A message's frame is a `srcdoc` iframe with an empty `sandbox`: the HTML runs no
//! script, submits no form, cannot reach this page, and loads nothing from elsewhere (the
//! page's Content-Security-Policy applies to it; only inline styles are let through).

pub mod templates;

use axum::{
    extract::{Path, RawQuery},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use minijinja::context;
use portcullis_store::{Email, EmailFilter};
use portcullis_types::{EmailKind, EmailStatus};
use serde::Serialize;

use super::{
    auth::Dash,
    form::FormData,
    paths,
    view::{allow_inline_styles, requested_page, segment, Pager, Section},
};
use crate::state::AdminState;

const SECTION: Section = Section::Emails;

pub fn routes() -> Router<AdminState> {
    Router::new()
        .route("/emails", get(list))
        .route(
            "/emails/templates",
            get(|| async {
                Redirect::to(&paths::email_template(EmailKind::VerifyEmail.as_str()))
                    .into_response()
            }),
        )
        .route(
            "/emails/templates/{name}",
            get(templates::show).post(templates::save),
        )
        .route("/emails/templates/{name}/restore", post(templates::restore))
        .route("/emails/{id}", get(show))
}

/// The tabs of the section, as `ui.tabs` reads them.
const TABS: &[(&str, &str)] = &[("outbox", "Outbox"), ("templates", "Templates")];

/// A message as the list and its page show it.
#[derive(Serialize)]
struct Message {
    id: String,
    href: String,
    kind: &'static str,
    template: &'static str,
    recipient: String,
    sender: Option<String>,
    subject: String,
    status: &'static str,
    badge: &'static str,
    attempts: i64,
    created_at: i64,
    updated_at: i64,
    next_attempt_at: Option<i64>,
    sent_at: Option<i64>,
    last_error: Option<String>,
    user_href: Option<String>,
    client_id: Option<String>,
    client_href: Option<String>,
}

impl Message {
    fn of(email: &Email) -> Self {
        let badge = match email.status {
            EmailStatus::Sent => "badge-green",
            EmailStatus::Failed => "badge-red",
            EmailStatus::Queued => "badge-indigo",
            EmailStatus::Outbox => "badge-gray",
        };
        Message {
            id: email.id.clone(),
            href: format!("/dashboard/emails/{}", segment(&email.id)),
            kind: email.kind.label(),
            template: email.kind.as_str(),
            recipient: email.recipient.clone(),
            sender: email.sender.clone(),
            subject: email.subject.clone(),
            status: email.status.as_str(),
            badge,
            attempts: email.attempts,
            created_at: email.created_at,
            updated_at: email.updated_at,
            next_attempt_at: (email.status == EmailStatus::Queued && email.attempts > 0)
                .then_some(email.next_attempt_at),
            sent_at: email.sent_at,
            last_error: email.last_error.clone(),
            user_href: email
                .user_id
                .as_deref()
                .map(|id| paths::user(id, "details")),
            client_id: email.client_id.clone(),
            client_href: email
                .client_id
                .as_deref()
                .map(|id| paths::application(id, "settings")),
        }
    }
}

/// The message's links: the one it was written with, then any other the text part holds.
fn links(email: &Email) -> Vec<String> {
    let mut links: Vec<String> = email.link.iter().cloned().collect();
    for word in email.text.split_whitespace() {
        let word = word
            .trim_start_matches(['(', '<'])
            .trim_end_matches(['.', ',', ')', '>']);
        let is_link = word.starts_with("https://") || word.starts_with("http://");
        if is_link && !links.iter().any(|link| link == word) {
            links.push(word.to_owned());
        }
    }
    links
}

async fn list(dash: Dash, RawQuery(query): RawQuery) -> Response {
    let query = FormData::from_query(query.as_deref());
    let page = requested_page(&query);
    let (status, to) = (query.get("status"), query.get("to"));
    let filter = EmailFilter {
        status: status.parse().ok(),
        recipient: Some(to.to_owned()).filter(|to| !to.is_empty()),
        user_id: None,
    };
    match dash.app.store().list_emails(&filter, page).await {
        Ok((emails, total)) => {
            let pager = Pager::new(
                page,
                emails.len(),
                total,
                "/dashboard/emails",
                &[("status", status), ("to", to)],
            );
            let messages: Vec<Message> = emails.iter().map(Message::of).collect();
            let statuses: Vec<&str> = EmailStatus::ALL.iter().map(|s| s.as_str()).collect();
            let filtered = filter != EmailFilter::default();
            dash.render(
                StatusCode::OK,
                "dashboard/emails.html",
                SECTION,
                context! {
                    messages,
                    pager,
                    statuses,
                    filtered,
                    filter => context! { status, to },
                    delivering => dash.app.cx.outbox.is_delivering(),
                    tabs => TABS,
                },
            )
        }
        Err(error) => dash.fail(SECTION, error),
    }
}

async fn show(dash: Dash, Path(id): Path<String>) -> Response {
    let lookup = dash.app.store().email_by_id(&id).await;
    let email = match dash.found(lookup, SECTION, "Email", "/dashboard/emails") {
        Ok(email) => email,
        Err(page) => return page,
    };
    let mut response = dash.render(
        StatusCode::OK,
        "dashboard/email.html",
        SECTION,
        context! {
            message => Message::of(&email),
            html => email.html,
            text => email.text,
            links => links(&email),
        },
    );
    allow_inline_styles(&mut response);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_come_from_the_message_and_its_text() {
        let email = Email {
            id: "eml_1".into(),
            kind: EmailKind::ResetEmail,
            recipient: "a@example.com".into(),
            user_id: None,
            client_id: None,
            sender: None,
            subject: "s".into(),
            html: String::new(),
            text: "Open https://a.example/x?t=1. Or (https://b.example/y), not ftp://c".into(),
            link: Some("https://a.example/x?t=1".into()),
            status: EmailStatus::Outbox,
            attempts: 0,
            created_at: 0,
            updated_at: 0,
            next_attempt_at: 0,
            lease_until: None,
            sent_at: None,
            last_error: None,
        };
        assert_eq!(
            links(&email),
            ["https://a.example/x?t=1", "https://b.example/y"]
        );
    }
}
