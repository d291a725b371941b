//! The hosted pages. Templates are compiled into the binary; every page is rendered from a
//! typed context, and every page carries a fresh CSP nonce for its inline style or script.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{Html, IntoResponse, Response},
};
use minijinja::Environment;
use portcullis_core::secrets::random_token;
use serde::Serialize;

pub struct Templates {
    env: Environment<'static>,
}

const PAGES: [(&str, &str); 13] = [
    (
        "webauthn_script.html",
        include_str!("../templates/webauthn_script.html"),
    ),
    ("base.html", include_str!("../templates/base.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("signup.html", include_str!("../templates/signup.html")),
    ("consent.html", include_str!("../templates/consent.html")),
    ("forgot.html", include_str!("../templates/forgot.html")),
    ("reset.html", include_str!("../templates/reset.html")),
    ("message.html", include_str!("../templates/message.html")),
    ("mfa.html", include_str!("../templates/mfa.html")),
    (
        "mfa_enrol.html",
        include_str!("../templates/mfa_enrol.html"),
    ),
    (
        "mfa_recovery.html",
        include_str!("../templates/mfa_recovery.html"),
    ),
    (
        "web_message.html",
        include_str!("../templates/web_message.html"),
    ),
    (
        "form_post.html",
        include_str!("../templates/form_post.html"),
    ),
];

/// The login and sign-up forms.
#[derive(Serialize)]
pub struct CredentialsPage<'a> {
    pub client_name: &'a str,
    pub csrf: &'a str,
    pub authorize_query: &'a str,
    pub email: &'a str,
    pub error: Option<&'a str>,
    /// Whether the database connection lets users sign up (the login page links to sign-up).
    pub signup_allowed: bool,
    /// The password policy in short sentences (the sign-up page lists them).
    pub password_rules: &'a [String],
    pub min_length: u32,
    /// Whether the page offers passkeys (signing in with one, or signing up with one): its
    /// script fetches a ceremony's options when it needs them, so showing the page stores
    /// nothing.
    pub passkey: bool,
    /// "Continue with ..." for each connection enabled for the application.
    pub connections: &'a [ConnectionButton],
}

/// A connection's button on the login page: "Continue with <label>".
#[derive(Clone, Debug, Serialize)]
pub struct ConnectionButton {
    pub label: String,
    pub href: String,
}

/// The "Forgot password?" form: the email to send a reset link to.
#[derive(Serialize)]
pub struct ForgotPage<'a> {
    pub client_name: &'a str,
    pub csrf: &'a str,
    pub authorize_query: &'a str,
    pub email: &'a str,
    pub error: Option<&'a str>,
}

/// The form behind a reset link: the new password, under the connection's rules.
#[derive(Serialize)]
pub struct ResetPage<'a> {
    pub email: &'a str,
    pub csrf: &'a str,
    pub ticket: &'a str,
    pub error: Option<&'a str>,
    pub password_rules: &'a [String],
    pub min_length: u32,
}

/// A page that only says something: errors, logout.
#[derive(Serialize)]
pub struct MessagePage<'a> {
    pub title: &'a str,
    pub message: &'a str,
    pub detail: Option<&'a str>,
}

#[derive(Serialize)]
struct WithNonce<'a, T: Serialize> {
    csp_nonce: &'a str,
    #[serde(flatten)]
    page: T,
}

/// Who may frame a page.
pub enum Framing<'a> {
    Nobody,
    /// The web_message page, framed by the registered web origin that asked.
    Origin(&'a str),
}

impl Templates {
    pub fn new() -> Self {
        let mut env = Environment::new();
        // The script is shared with the dashboard; as a safe string it is not HTML-escaped.
        env.add_global(
            "webauthn_js",
            minijinja::Value::from_safe_string(portcullis_web::WEBAUTHN_SCRIPT.to_owned()),
        );
        for (name, source) in PAGES {
            // Templates are compiled in; a syntax error is caught by the unit test below.
            if let Err(error) = env.add_template(name, source) {
                tracing::error!(%error, name, "template does not compile");
            }
        }
        Templates { env }
    }

    /// Renders `name` into a response with the security headers of hosted pages.
    pub fn page<T: Serialize>(
        &self,
        status: StatusCode,
        name: &str,
        page: T,
        framing: Framing<'_>,
    ) -> Response {
        let nonce = random_token(16);
        let rendered = self.env.get_template(name).and_then(|template| {
            template.render(WithNonce {
                csp_nonce: &nonce,
                page,
            })
        });
        let body = match rendered {
            Ok(body) => body,
            Err(error) => {
                tracing::error!(%error, name, "template rendering failed");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The page could not be rendered.",
                )
                    .into_response();
            }
        };
        let frame_ancestors = match framing {
            Framing::Nobody => "'none'".to_owned(),
            Framing::Origin(origin) => origin.to_owned(),
        };
        let csp = format!(
            "default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; connect-src 'self'; img-src 'self' data:; \
             base-uri 'none'; frame-ancestors {frame_ancestors}"
        );
        let mut response = (status, Html(body)).into_response();
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&csp) {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
        if matches!(framing, Framing::Nobody) {
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }

    /// The page a hosted form answers when the store fails under it: a 500 that tells the
    /// person to try again and nothing of the cause.
    pub fn something_went_wrong(&self) -> Response {
        self.message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "Please try again in a moment.",
            None,
        )
    }

    /// A message page.
    pub fn message(
        &self,
        status: StatusCode,
        title: &str,
        message: &str,
        detail: Option<&str>,
    ) -> Response {
        self.page(
            status,
            "message.html",
            MessagePage {
                title,
                message,
                detail,
            },
            Framing::Nobody,
        )
    }
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_renders_samples() {
        let templates = Templates::new();
        for (name, _) in PAGES {
            assert!(
                templates.env.get_template(name).is_ok(),
                "{name} does not compile"
            );
        }
        let page = CredentialsPage {
            client_name: "<b>App</b>",
            csrf: "c",
            authorize_query: "a=1&b=2",
            email: "",
            error: Some("bad"),
            signup_allowed: true,
            password_rules: &["At least 8 characters".to_owned()],
            min_length: 8,
            passkey: false,
            connections: &[],
        };
        let response = templates.page(StatusCode::OK, "login.html", page, Framing::Nobody);
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
    }
}
