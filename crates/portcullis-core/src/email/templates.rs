//! Email templates: the defaults shipped in the binary, a tenant's customisations (checked
//! here before they are stored), and rendering.
//!
//! Templates are rendered with minijinja, whose `{{ user.email }}`, `{% if application.name %}`
//! and `{% endif %}` read as Auth0's Liquid templates do (what differs, and why minijinja:
//! [`super::liquid`]). The variables follow Auth0's: `user` (`email`, `email_verified`,
//! `name`, `nickname`, `picture`, `user_id`, `user_metadata`, `app_metadata`), `application`
//! (`name`, `clientID`), `connection.name` and `url`, the link; a users import's completion
//! message has `job` (`id`, `connection`, `connection_id`, `inserted`, `updated`, `failed`,
//! `total`) and the administrator as its `user`. A variable the template names but the
//! message lacks (no application, no link) renders as nothing. The HTML part is autoescaped;
//! the subject and the text part are not HTML. Every render runs on a fuel budget, so a
//! customisation that loops for ever is refused when it is saved.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use portcullis_store::{Client, EmailTemplate, Store, StoreError, User};
use portcullis_types::EmailKind;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{liquid, EmailError};

/// Limits of a customisation's fields, in bytes: a template's two parts fit in one
/// Management API body (64 KiB).
pub const MAX_SUBJECT: usize = 1_000;
pub const MAX_BODY: usize = 30_000;
pub const MAX_FROM: usize = 320;
pub const MAX_RESULT_URL: usize = 2_048;
/// The longest a link may be valid (Auth0's `urlLifetimeInSeconds`): 30 days.
pub const MAX_URL_LIFETIME: i64 = 30 * 86_400;

/// The rendering budget of one part (minijinja's fuel): far more than any real template
/// needs, far less than a loop that would hold a thread.
const FUEL: u64 = 200_000;

/// The connection every user belongs to.
const CONNECTION: &str = "Username-Password-Authentication";

/// The subject and parts of each kind's default template.
fn defaults(kind: EmailKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        EmailKind::VerifyEmail => (
            "Verify your email{% if application.name %} for {{ application.name }}{% endif %}",
            include_str!("../../templates/email/verify_email.html"),
            include_str!("../../templates/email/verify_email.txt"),
        ),
        EmailKind::ResetEmail => (
            "Reset your password{% if application.name %} for {{ application.name }}{% endif %}",
            include_str!("../../templates/email/reset_email.html"),
            include_str!("../../templates/email/reset_email.txt"),
        ),
        EmailKind::WelcomeEmail => (
            "Welcome{% if application.name %} to {{ application.name }}{% endif %}",
            include_str!("../../templates/email/welcome_email.html"),
            include_str!("../../templates/email/welcome_email.txt"),
        ),
        EmailKind::BlockedAccount => (
            "Your account has been blocked",
            include_str!("../../templates/email/blocked_account.html"),
            include_str!("../../templates/email/blocked_account.txt"),
        ),
        EmailKind::UsersImportCompleted => (
            "Users import {{ job.id }} completed: {{ job.inserted }} inserted, {{ job.updated }} updated, {{ job.failed }} failed",
            include_str!("../../templates/email/users_import_completed.html"),
            include_str!("../../templates/email/users_import_completed.txt"),
        ),
    }
}

/// The template of `kind` as shipped: enabled, from the server's default sender, no result
/// URL or link lifetime of its own.
pub fn default_template(kind: EmailKind) -> EmailTemplate {
    let (subject, body, text) = defaults(kind);
    EmailTemplate {
        template: kind,
        subject: subject.to_owned(),
        body: body.to_owned(),
        text: text.to_owned(),
        from: String::new(),
        enabled: true,
        result_url: None,
        url_lifetime_in_seconds: None,
        include_email_in_redirect: true,
        updated_at: 0,
    }
}

/// The template `kind` is sent with: the tenant's customisation, or the default.
pub async fn effective_template(
    store: &dyn Store,
    kind: EmailKind,
) -> Result<EmailTemplate, StoreError> {
    Ok(store
        .email_template(kind)
        .await?
        .unwrap_or_else(|| default_template(kind)))
}

/// What a message's template may name.
#[derive(Clone, Debug, Serialize)]
pub struct Variables {
    user: UserVariables,
    application: ApplicationVariables,
    connection: ConnectionVariables,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    job: Option<JobVariables>,
}

/// A finished users import, for its completion message.
#[derive(Clone, Debug, Serialize)]
pub struct JobVariables {
    pub id: String,
    /// The connection's name.
    pub connection: String,
    pub connection_id: String,
    pub inserted: u64,
    pub updated: u64,
    pub failed: u64,
    pub total: u64,
}

#[derive(Clone, Debug, Serialize)]
struct UserVariables {
    user_id: String,
    email: String,
    email_verified: bool,
    name: String,
    nickname: String,
    picture: String,
    /// Auth0's templates read these, as in `{% if user.user_metadata.lang == 'fr' %}`.
    user_metadata: Map<String, Value>,
    app_metadata: Map<String, Value>,
}

/// Empty when the message is not for an application: `{{ application.name }}` renders as
/// nothing.
#[derive(Clone, Debug, Default, Serialize)]
struct ApplicationVariables {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(rename = "clientID", skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
struct ConnectionVariables {
    name: &'static str,
}

impl Variables {
    pub fn new(user: &User, application: Option<&Client>, link: Option<&str>) -> Self {
        Variables {
            user: UserVariables {
                user_id: user.user_id.clone(),
                email: user.email.clone(),
                email_verified: user.email_verified,
                name: user.name.clone(),
                nickname: user.nickname.clone(),
                picture: user.picture.clone(),
                user_metadata: user.user_metadata.clone(),
                app_metadata: user.app_metadata.clone(),
            },
            application: application
                .map(|client| ApplicationVariables {
                    name: Some(client.name.clone()),
                    client_id: Some(client.client_id.clone()),
                })
                .unwrap_or_default(),
            connection: ConnectionVariables { name: CONNECTION },
            url: link.map(str::to_owned),
            job: None,
        }
    }

    /// A message about `job` to the administrator at `email` (their address is the `user`'s).
    pub fn for_job(email: &str, job: JobVariables) -> Self {
        Variables {
            user: UserVariables {
                user_id: String::new(),
                email: email.to_owned(),
                email_verified: true,
                name: email.to_owned(),
                nickname: String::new(),
                picture: String::new(),
                user_metadata: Map::new(),
                app_metadata: Map::new(),
            },
            application: ApplicationVariables::default(),
            connection: ConnectionVariables { name: CONNECTION },
            url: None,
            job: Some(job),
        }
    }

    /// Made-up values: a customisation is tried on them before it is stored, and the
    /// dashboard previews templates with them.
    pub fn sample() -> Self {
        Variables {
            user: UserVariables {
                user_id: "auth0|0123456789abcdef01234567".into(),
                email: "jane@example.com".into(),
                email_verified: false,
                name: "Jane Doe".into(),
                nickname: "jane".into(),
                picture: String::new(),
                user_metadata: Map::new(),
                app_metadata: Map::new(),
            },
            application: ApplicationVariables {
                name: Some("Example App".into()),
                client_id: Some("exampleclientid0123456789abcdef0".into()),
            },
            connection: ConnectionVariables { name: CONNECTION },
            url: Some("https://auth.example.com/u/example?ticket=preview".into()),
            job: Some(JobVariables {
                id: "job_0123456789abcdef".into(),
                connection: CONNECTION.into(),
                connection_id: "con_0123456789abcdef".into(),
                inserted: 40,
                updated: 2,
                failed: 1,
                total: 43,
            }),
        }
    }
}

/// A rendered message.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendered {
    /// On one line.
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// The parts of a template: the Management API's field name and the name minijinja renders
/// it under (its extension chooses the escaping).
const SUBJECT: (&str, &str) = ("subject", "subject.txt");
const BODY: (&str, &str) = ("body", "body.html");
const TEXT: (&str, &str) = ("textBody", "text.txt");

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_fuel(Some(FUEL));
    liquid::add_filter_aliases(&mut env);
    env
}

/// Renders `template` with `variables`.
pub fn render(template: &EmailTemplate, variables: &Variables) -> Result<Rendered, EmailError> {
    let env = environment();
    let part = |(field, name): (&'static str, &str), source: &str| {
        env.render_named_str(name, source, variables)
            .map_err(|error| EmailError::Render {
                field,
                message: error.to_string(),
            })
    };
    let subject = part(SUBJECT, &template.subject)?;
    Ok(Rendered {
        // A header is one line: whatever the variables held, the subject has no line break.
        subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
        html: part(BODY, &template.body)?,
        text: part(TEXT, &template.text)?,
    })
}

/// A refused customisation: the field (as the Management API names it) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl Invalid {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Invalid {
            field,
            message: message.into(),
        }
    }
}

/// Changes to a template, as the Management API (`POST`, `PATCH`, `PUT`) and the dashboard
/// give them: a field left `None` keeps the base's value.
#[derive(Clone, Debug, Default)]
pub struct TemplateChanges {
    pub subject: Option<String>,
    pub body: Option<String>,
    pub text: Option<String>,
    pub from: Option<String>,
    pub enabled: Option<bool>,
    /// Only `liquid` is accepted (the one syntax Auth0 has).
    pub syntax: Option<String>,
    /// `Some(None)` removes the result URL.
    pub result_url: Option<Option<String>>,
    /// `Some(None)` removes the link lifetime.
    pub url_lifetime_in_seconds: Option<Option<i64>>,
    pub include_email_in_redirect: Option<bool>,
}

impl TemplateChanges {
    /// `base` with these changes, checked: each part within its limit, compiling, and
    /// rendering the sample variables within its budget; a sender that is an address; a
    /// result URL that is an absolute http(s) URL.
    pub fn apply(self, base: EmailTemplate, now: i64) -> Result<EmailTemplate, Invalid> {
        if let Some(syntax) = self.syntax.as_deref() {
            if syntax != "liquid" {
                return Err(Invalid::new("syntax", "syntax must be liquid"));
            }
        }
        let template = EmailTemplate {
            subject: self.subject.unwrap_or(base.subject),
            body: self.body.unwrap_or(base.body),
            text: self.text.unwrap_or(base.text),
            from: self.from.map_or(base.from, |from| from.trim().to_owned()),
            enabled: self.enabled.unwrap_or(base.enabled),
            result_url: self.result_url.map_or(base.result_url, |url| {
                url.map(|url| url.trim().to_owned())
                    .filter(|url| !url.is_empty())
            }),
            url_lifetime_in_seconds: self
                .url_lifetime_in_seconds
                .unwrap_or(base.url_lifetime_in_seconds),
            include_email_in_redirect: self
                .include_email_in_redirect
                .unwrap_or(base.include_email_in_redirect),
            updated_at: now,
            template: base.template,
        };
        check(&template)?;
        Ok(template)
    }
}

fn check(template: &EmailTemplate) -> Result<(), Invalid> {
    let parts = [
        (SUBJECT, &template.subject, MAX_SUBJECT),
        (BODY, &template.body, MAX_BODY),
        (TEXT, &template.text, MAX_BODY),
    ];
    let env = environment();
    for ((field, name), source, limit) in parts {
        if source.trim().is_empty() {
            return Err(Invalid::new(field, format!("{field} is required")));
        }
        if source.len() > limit {
            return Err(Invalid::new(
                field,
                format!("{field} must be at most {limit} bytes"),
            ));
        }
        env.template_from_named_str(name, source).map_err(|error| {
            let hint = liquid::hint(source)
                .map(|hint| format!(" ({hint})"))
                .unwrap_or_default();
            Invalid::new(field, format!("{field}: {error}{hint}"))
        })?;
    }
    if let Err(EmailError::Render { field, message }) = render(template, &Variables::sample()) {
        return Err(Invalid::new(field, format!("{field}: {message}")));
    }
    check_from(&template.from)?;
    if let Some(url) = &template.result_url {
        let parsed = url::Url::parse(url)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some());
        if parsed.is_none() || url.len() > MAX_RESULT_URL {
            return Err(Invalid::new(
                "resultUrl",
                "resultUrl must be an absolute http or https URL",
            ));
        }
    }
    if let Some(seconds) = template.url_lifetime_in_seconds {
        if !(1..=MAX_URL_LIFETIME).contains(&seconds) {
            return Err(Invalid::new(
                "urlLifetimeInSeconds",
                format!("urlLifetimeInSeconds must be between 1 and {MAX_URL_LIFETIME}"),
            ));
        }
    }
    Ok(())
}

/// A sender: empty (the server's default), an address, or `Name <address>`, as the SMTP
/// client parses it when it sends (so a stored sender never makes a message undeliverable).
fn check_from(from: &str) -> Result<(), Invalid> {
    if from.is_empty() {
        return Ok(());
    }
    // A header is one line: no control character may reach it, whatever the parser accepts.
    let well_formed = from.len() <= MAX_FROM
        && !from.chars().any(char::is_control)
        && from.parse::<lettre::message::Mailbox>().is_ok();
    if well_formed {
        Ok(())
    } else {
        Err(Invalid::new(
            "from",
            "from must be an email address, or a name and an address: Name <address@example.com>",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User {
            user_id: "auth0|1".into(),
            email: "ann@example.com".into(),
            email_verified: false,
            password_hash: String::new(),
            name: "Ann <b>".into(),
            given_name: None,
            family_name: None,
            nickname: "ann".into(),
            picture: String::new(),
            blocked: false,
            created_at: 0,
            updated_at: 0,
            last_login: None,
            logins_count: 0,
            user_metadata: Default::default(),
            app_metadata: Default::default(),
        }
    }

    #[test]
    fn every_default_renders_with_and_without_an_application() {
        for kind in EmailKind::ALL
            .iter()
            .filter(|kind| **kind != EmailKind::UsersImportCompleted)
        {
            let template = default_template(*kind);
            let link = "https://auth.example/u/x?ticket=abc&next=1";
            let rendered = render(&template, &Variables::new(&user(), None, Some(link))).unwrap();
            assert!(!rendered.subject.contains("for ") || kind == &EmailKind::BlockedAccount);
            assert!(
                rendered.html.contains("Ann &lt;b&gt;"),
                "{kind}: escaped name"
            );
            assert!(
                rendered.text.contains("Ann <b>"),
                "{kind}: text is not HTML"
            );
            if *kind != EmailKind::WelcomeEmail {
                assert!(rendered.text.contains(link), "{kind}: the link in the text");
                assert!(
                    rendered.html.contains("ticket=abc&amp;next=1"),
                    "{kind}: the link in the HTML"
                );
            }
            assert!(
                check(&template).is_ok(),
                "{kind}: the default passes its checks"
            );
        }
    }

    #[test]
    fn an_import_completion_names_the_job_and_its_counts() {
        let template = default_template(EmailKind::UsersImportCompleted);
        assert!(check(&template).is_ok());
        let job = JobVariables {
            id: "job_abc".into(),
            connection: CONNECTION.into(),
            connection_id: "con_1".into(),
            inserted: 3,
            updated: 1,
            failed: 2,
            total: 6,
        };
        let rendered = render(&template, &Variables::for_job("admin@example.com", job)).unwrap();
        assert_eq!(
            rendered.subject,
            "Users import job_abc completed: 3 inserted, 1 updated, 2 failed"
        );
        for part in [&rendered.text, &rendered.html] {
            for expected in ["job_abc", CONNECTION, "con_1", "Inserted", "6"] {
                assert!(part.contains(expected), "{expected} in {part}");
            }
        }
    }

    #[test]
    fn applications_fill_the_subject() {
        let template = default_template(EmailKind::VerifyEmail);
        let rendered = render(&template, &Variables::sample()).unwrap();
        assert_eq!(rendered.subject, "Verify your email for Example App");
    }

    #[test]
    fn customisations_are_checked() {
        let base = default_template(EmailKind::ResetEmail);
        let refuse = |changes: TemplateChanges| changes.apply(base.clone(), 1).unwrap_err().field;
        let body = |text: &str| TemplateChanges {
            body: Some(text.into()),
            ..TemplateChanges::default()
        };
        assert_eq!(refuse(body("{% if user.email %}unclosed")), "body");
        assert_eq!(refuse(body("")), "body");
        assert_eq!(
            refuse(body("{% for i in range(1000000) %}{{ i }}{% endfor %}")),
            "body"
        );
        let from = |text: &str| TemplateChanges {
            from: Some(text.into()),
            ..TemplateChanges::default()
        };
        assert_eq!(refuse(from("not an address")), "from");
        assert_eq!(refuse(from("A <a@b.example>\r\nBcc: x@y")), "from");
        assert_eq!(refuse(from("a@b@c")), "from");
        for good in ["", "a@b.example", "Support Team <support@b.example>"] {
            assert!(from(good).apply(base.clone(), 1).is_ok(), "{good}");
        }
        let syntax = TemplateChanges {
            syntax: Some("handlebars".into()),
            ..TemplateChanges::default()
        };
        assert_eq!(refuse(syntax), "syntax");
        let url = TemplateChanges {
            result_url: Some(Some("javascript:alert(1)".into())),
            ..TemplateChanges::default()
        };
        assert_eq!(refuse(url), "resultUrl");
        let lifetime = TemplateChanges {
            url_lifetime_in_seconds: Some(Some(0)),
            ..TemplateChanges::default()
        };
        assert_eq!(refuse(lifetime), "urlLifetimeInSeconds");
        let changed = TemplateChanges {
            subject: Some("Hi {{ user.nickname }}".into()),
            enabled: Some(false),
            ..TemplateChanges::default()
        }
        .apply(base.clone(), 7)
        .unwrap();
        assert_eq!((changed.enabled, changed.updated_at), (false, 7));
        assert_eq!(changed.body, base.body);
    }

    #[test]
    fn subjects_stay_on_one_line() {
        let mut template = default_template(EmailKind::WelcomeEmail);
        template.subject = "Hello\r\n{{ user.email }}\nBcc: x".into();
        let rendered = render(&template, &Variables::sample()).unwrap();
        assert_eq!(rendered.subject, "Hello jane@example.com Bcc: x");
    }
}
