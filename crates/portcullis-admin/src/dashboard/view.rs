//! Rendering: the dashboard's templates (compiled into the binary), the layout every page
//! shares, flash messages, pagination and the static stylesheet and scripts.
//!
//! Pages carry a strict Content-Security-Policy: styles and scripts only from this server
//! (the one script tag also carries the page's nonce), forms only to this server, no framing.

use std::sync::LazyLock;

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{Html, IntoResponse, Response},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use minijinja::{context, Environment, Value};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use portcullis_core::{claims::rfc3339, secrets::random_token};
use portcullis_store::Page;
use serde::{Deserialize, Serialize};

use super::form::FormData;

const TEMPLATES: &[(&str, &str)] = &[
    (
        "dashboard/layout.html",
        include_str!("../../templates/layout.html"),
    ),
    (
        "dashboard/bare.html",
        include_str!("../../templates/bare.html"),
    ),
    ("dashboard/ui.html", include_str!("../../templates/ui.html")),
    (
        "dashboard/signin.html",
        include_str!("../../templates/signin.html"),
    ),
    (
        "dashboard/message.html",
        include_str!("../../templates/message.html"),
    ),
    (
        "dashboard/apis.html",
        include_str!("../../templates/apis.html"),
    ),
    (
        "dashboard/api_new.html",
        include_str!("../../templates/api_new.html"),
    ),
    (
        "dashboard/api.html",
        include_str!("../../templates/api.html"),
    ),
    (
        "dashboard/applications.html",
        include_str!("../../templates/applications.html"),
    ),
    (
        "dashboard/application_new.html",
        include_str!("../../templates/application_new.html"),
    ),
    (
        "dashboard/application.html",
        include_str!("../../templates/application.html"),
    ),
    (
        "dashboard/users.html",
        include_str!("../../templates/users.html"),
    ),
    (
        "dashboard/user_new.html",
        include_str!("../../templates/user_new.html"),
    ),
    (
        "dashboard/user.html",
        include_str!("../../templates/user.html"),
    ),
    (
        "dashboard/roles.html",
        include_str!("../../templates/roles.html"),
    ),
    (
        "dashboard/role_new.html",
        include_str!("../../templates/role_new.html"),
    ),
    (
        "dashboard/role.html",
        include_str!("../../templates/role.html"),
    ),
    (
        "dashboard/permissions.html",
        include_str!("../../templates/permissions.html"),
    ),
    (
        "dashboard/user_applications.html",
        include_str!("../../templates/user_applications.html"),
    ),
    (
        "dashboard/user_factors.html",
        include_str!("../../templates/user_factors.html"),
    ),
    (
        "dashboard/database.html",
        include_str!("../../templates/database.html"),
    ),
    (
        "dashboard/connections.html",
        include_str!("../../templates/connections.html"),
    ),
    (
        "dashboard/connection_new.html",
        include_str!("../../templates/connection_new.html"),
    ),
    (
        "dashboard/connection.html",
        include_str!("../../templates/connection.html"),
    ),
    (
        "dashboard/connection_fields.html",
        include_str!("../../templates/connection_fields.html"),
    ),
    (
        "dashboard/tenant_settings.html",
        include_str!("../../templates/tenant_settings.html"),
    ),
    (
        "dashboard/logs.html",
        include_str!("../../templates/logs.html"),
    ),
    (
        "dashboard/log.html",
        include_str!("../../templates/log.html"),
    ),
    (
        "dashboard/emails.html",
        include_str!("../../templates/emails.html"),
    ),
    (
        "dashboard/email.html",
        include_str!("../../templates/email.html"),
    ),
    (
        "dashboard/email_templates.html",
        include_str!("../../templates/email_templates.html"),
    ),
    (
        "dashboard/factors_table.html",
        include_str!("../../templates/factors_table.html"),
    ),
    (
        "dashboard/totp_enrol.html",
        include_str!("../../templates/totp_enrol.html"),
    ),
    (
        "dashboard/recovery_codes.html",
        include_str!("../../templates/recovery_codes.html"),
    ),
    (
        "dashboard/mfa.html",
        include_str!("../../templates/mfa.html"),
    ),
    (
        "dashboard/signout_form.html",
        include_str!("../../templates/signout_form.html"),
    ),
    (
        "dashboard/mfa_enrol.html",
        include_str!("../../templates/mfa_enrol.html"),
    ),
    (
        "dashboard/mfa_recovery.html",
        include_str!("../../templates/mfa_recovery.html"),
    ),
    (
        "dashboard/account.html",
        include_str!("../../templates/account.html"),
    ),
    (
        "dashboard/account_mfa.html",
        include_str!("../../templates/account_mfa.html"),
    ),
    (
        "dashboard/security.html",
        include_str!("../../templates/security.html"),
    ),
    (
        "dashboard/key_enrol.html",
        include_str!("../../templates/key_enrol.html"),
    ),
    (
        "dashboard/account_key.html",
        include_str!("../../templates/account_key.html"),
    ),
    (
        "dashboard/actions.html",
        include_str!("../../templates/actions.html"),
    ),
    (
        "dashboard/action_new.html",
        include_str!("../../templates/action_new.html"),
    ),
    (
        "dashboard/action.html",
        include_str!("../../templates/action.html"),
    ),
    (
        "dashboard/action_triggers.html",
        include_str!("../../templates/action_triggers.html"),
    ),
];

const CSS: &str = include_str!("../../static/dashboard.css");
const JS: &str = include_str!("../../static/dashboard.js");
const FAVICON: &str = include_str!("../../static/favicon.svg");

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        // Compiled in; a syntax error is caught by the unit test below.
        if let Err(error) = env.add_template(name, source) {
            tracing::error!(%error, name, "dashboard template does not compile");
        }
    }
    env.add_filter("datetime", datetime);
    env.add_filter("segment", segment);
    env
});

/// `unix seconds` as `2025-01-31 14:05 UTC`.
fn datetime(seconds: i64) -> String {
    let text = rfc3339(seconds);
    format!("{} {} UTC", &text[..10], &text[11..16])
}

/// What a path segment may not hold as is: everything but RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A value as one percent-encoded path segment (user ids hold `|`).
pub fn segment(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT).to_string()
}

/// The sections of the left navigation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Apis,
    Applications,
    Users,
    Roles,
    Database,
    /// Authentication → Social / Enterprise: connections to other identity providers.
    Connections,
    /// Actions → Library: the Actions, their code, secrets, deployment and test runs.
    Actions,
    /// Actions → Triggers: the Actions bound to each trigger, in order.
    Triggers,
    Logs,
    Emails,
    Settings,
    Security,
    /// The signed-in administrator's own account (no entry in the navigation).
    Account,
}

/// What the layout shows around every page.
pub struct Frame<'a> {
    pub issuer: &'a str,
    pub admin_email: &'a str,
    pub csrf: &'a str,
    pub flash: Option<&'a Flash>,
}

/// The security headers of every dashboard page, with `nonce` for its script tag.
fn secure(response: &mut Response, nonce: &str) {
    let csp = format!(
        "default-src 'none'; style-src 'self'; script-src 'self' 'nonce-{nonce}'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    );
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// Lets the page's `srcdoc` frames (an email's HTML, sandboxed) use inline styles, which
/// emails are made of: such a frame inherits the page's policy. Scripts, other origins and
/// framing stay refused, in the frame and on the page.
pub fn allow_inline_styles(response: &mut Response) {
    let headers = response.headers_mut();
    let policy = headers
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|value| value.to_str().ok())
        .map(|policy| policy.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"));
    if let Some(value) = policy.and_then(|policy| HeaderValue::from_str(&policy).ok()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Renders `template` inside the layout.
pub fn render(
    status: StatusCode,
    template: &str,
    section: Option<Section>,
    frame: &Frame<'_>,
    page: impl Serialize,
) -> Response {
    let layout = context! {
        issuer => frame.issuer,
        admin_email => frame.admin_email,
        csrf => frame.csrf,
        flash => frame.flash,
        section => section,
    };
    finish(
        status,
        template,
        context! { ..layout, ..Value::from_serialize(&page) },
    )
}

/// A page outside the signed-in layout (sign-in, errors before sign-in).
pub fn bare(status: StatusCode, template: &str, page: impl Serialize) -> Response {
    finish(status, template, Value::from_serialize(&page))
}

fn finish(status: StatusCode, template: &str, values: Value) -> Response {
    let nonce = random_token(16);
    let rendered = ENV
        .get_template(template)
        .and_then(|template| template.render(context! { csp_nonce => nonce, ..values }));
    let mut response = match rendered {
        Ok(body) => (status, Html(body)).into_response(),
        Err(error) => {
            tracing::error!(%error, template, "dashboard template rendering failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be rendered.",
            )
                .into_response()
        }
    };
    secure(&mut response, &nonce);
    response
}

/// A short page that says what went wrong, outside the layout.
pub fn message(status: StatusCode, title: &str, text: &str) -> Response {
    bare(
        status,
        "dashboard/message.html",
        context! { title, text, back => "/dashboard" },
    )
}

pub async fn not_found() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is no dashboard page at this address.",
    )
}

pub async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

pub async fn js() -> Response {
    asset(JS, "text/javascript; charset=utf-8")
}

/// The WebAuthn script the hosted login pages carry too (`portcullis_web::WEBAUTHN_SCRIPT`).
pub async fn webauthn_js() -> Response {
    asset(
        portcullis_web::WEBAUTHN_SCRIPT,
        "text/javascript; charset=utf-8",
    )
}

pub async fn favicon() -> Response {
    asset(FAVICON, "image/svg+xml")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// A one-time message shown on the next page (after a redirect).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    /// `success` or `error`.
    pub kind: String,
    pub text: String,
}

impl Flash {
    pub fn success(text: impl Into<String>) -> Self {
        Flash {
            kind: "success".into(),
            text: text.into(),
        }
    }

    /// The cookie value: base64url of the JSON (cookie values cannot hold spaces).
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(value: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
        let flash: Flash = serde_json::from_slice(&bytes).ok()?;
        (flash.text.len() <= 500).then_some(flash)
    }
}

/// A refused form: the message (from core's validation) and, when it names one, the field it
/// belongs to, so the page can show it next to that field.
#[derive(Clone, Debug, Serialize)]
pub struct FormError {
    pub field: Option<String>,
    pub message: String,
}

impl FormError {
    /// A refused change at the field core named. `aliases` maps the Management API's field
    /// names to this form's, where they differ.
    pub fn named(field: &str, message: impl Into<String>, aliases: &[(&str, &str)]) -> Self {
        let field = aliases
            .iter()
            .find(|(api, _)| *api == field)
            .map_or(field, |(_, form)| *form);
        FormError::at(field, message)
    }

    /// A message for `field`, written by the dashboard.
    pub fn at(field: &str, message: impl Into<String>) -> Self {
        FormError {
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }
}

/// Rows per page of every list.
pub const PER_PAGE: u32 = 20;

/// The page a list query asks for (`?page=N`, counting from 1 in URLs).
pub fn requested_page(query: &FormData) -> Page {
    let page = query
        .get("page")
        .parse::<u32>()
        .ok()
        .filter(|page| (1..=100_000).contains(page))
        .map_or(0, |page| page - 1);
    Page {
        page,
        per_page: PER_PAGE,
    }
}

/// The pagination bar under a list.
#[derive(Clone, Debug, Serialize)]
pub struct Pager {
    /// Counting from 1.
    pub page: u64,
    pub pages: u64,
    pub total: u64,
    /// Rank of the first and last row shown, counting from 1 (0 when none).
    pub first: u64,
    pub last: u64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `params` are the list's other query parameters (filters), kept on the page links.
    pub fn new(page: Page, shown: usize, total: u64, base: &str, params: &[(&str, &str)]) -> Self {
        let per_page = u64::from(page.per_page.max(1));
        let current = u64::from(page.page) + 1;
        let pages = total.div_ceil(per_page).max(1);
        let first = if shown == 0 {
            0
        } else {
            u64::from(page.page) * per_page + 1
        };
        let link = |number: u64| {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (key, value) in params.iter().filter(|(_, value)| !value.is_empty()) {
                query.append_pair(key, value);
            }
            if number > 1 {
                query.append_pair("page", &number.to_string());
            }
            let query = query.finish();
            if query.is_empty() {
                base.to_owned()
            } else {
                format!("{base}?{query}")
            }
        };
        Pager {
            page: current,
            pages,
            total,
            first,
            last: if shown == 0 {
                0
            } else {
                first + shown as u64 - 1
            },
            prev: (current > 1).then(|| link((current - 1).min(pages))),
            next: (current < pages).then(|| link(current + 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        for (name, _) in TEMPLATES {
            assert!(ENV.get_template(name).is_ok(), "{name} does not compile");
        }
    }

    #[test]
    fn pager_links_keep_filters() {
        let page = Page {
            page: 1,
            per_page: 20,
        };
        let pager = Pager::new(page, 20, 45, "/dashboard/users", &[("q", "a b"), ("x", "")]);
        assert_eq!(pager.page, 2);
        assert_eq!(pager.pages, 3);
        assert_eq!((pager.first, pager.last), (21, 40));
        assert_eq!(pager.prev.as_deref(), Some("/dashboard/users?q=a+b"));
        assert_eq!(pager.next.as_deref(), Some("/dashboard/users?q=a+b&page=3"));
        let empty = Pager::new(
            Page {
                page: 0,
                per_page: 20,
            },
            0,
            0,
            "/d",
            &[],
        );
        assert_eq!((empty.pages, empty.first, empty.last), (1, 0, 0));
        assert!(empty.prev.is_none() && empty.next.is_none());
    }

    #[test]
    fn flash_round_trips_and_dates_read_well() {
        let flash = Flash::success("API \"Quickstart\" created");
        assert_eq!(Flash::decode(&flash.encode()), Some(flash));
        assert_eq!(Flash::decode("not base64!"), None);
        assert_eq!(datetime(0), "1970-01-01 00:00 UTC");
        assert_eq!(segment("auth0|abc"), "auth0%7Cabc");
        assert_eq!(segment("rol_a-b.c~"), "rol_a-b.c~");
    }
}
