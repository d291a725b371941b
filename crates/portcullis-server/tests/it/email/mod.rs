//! Email delivery: messages written by `portcullis_core::email::send` reach a real SMTP server
//! on 127.0.0.1 (plain, and STARTTLS with credentials), survive an SMTP outage, are sent once
//! by two replicas, stay in the outbox without SMTP (the dashboard's Emails page), and their
//! templates are edited in the dashboard and through the Management API in Auth0's shapes.

mod liquid;
mod logs;
mod outage;
pub(crate) mod sink;
mod timeout;

use std::{collections::HashSet, net::TcpListener, time::Duration};

use portcullis_core::{admin::applications, email};
use portcullis_server::{
    settings::{EmailSettings, SmtpSettings},
    Application, Settings,
};
use portcullis_store::{Client, Email, EmailFilter, LogFilter, Page, User};
use portcullis_types::{EmailKind, EmailStatus, Secret};
use reqwest::{header, StatusCode};
use serde_json::json;

use self::sink::{Received, Sink};
use crate::{helpers::*, management_support::*};

/// A port nothing listens on (yet): an SMTP outage.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Email settings for tests: the SMTP server at `url`, short waits between attempts.
pub(crate) fn email_settings(url: &str, issuer: &str) -> EmailSettings {
    EmailSettings {
        smtp: Some(SmtpSettings::new(&Secret::from(url), None, issuer).expect("smtp settings")),
        retry_base_seconds: 2,
        retry_max_seconds: 10,
        poll_interval: Duration::from_millis(50),
        ..EmailSettings::default()
    }
}

/// A server that sends through the plain sink on `port`.
pub(crate) async fn spawn_with_smtp(port: u16) -> TestApp {
    spawn_app_with(|settings| {
        settings.email = email_settings(
            &format!("smtp://127.0.0.1:{port}?tls=none"),
            &settings.issuer,
        );
    })
    .await
}

const LINK: &str = "https://auth.example.test/u/email-verification?ticket=t1ck3t&lang=en";

impl TestApp {
    async fn user_and_spa(&self, email: &str) -> (User, Client) {
        let user_id = self.create_user(email).await;
        let user = self.store.user_by_id(&user_id).await.unwrap().unwrap();
        let spa = self.create_spa(false).await;
        let client = applications::find(&self.cx, &spa.client_id).await.unwrap();
        (user, client)
    }

    /// Writes a message with `email::send`; the kind's template is enabled.
    async fn written(
        &self,
        kind: EmailKind,
        user: &User,
        application: Option<&Client>,
        link: Option<&str>,
    ) -> Email {
        email::send(&self.cx, kind, user, application, link)
            .await
            .expect("send")
            .expect("the template is enabled")
    }

    async fn email(&self, id: &str) -> Email {
        self.store.email_by_id(id).await.unwrap().expect("stored")
    }

    /// Waits until the message's status is `status`.
    async fn wait_for_status(&self, id: &str, status: EmailStatus) -> Email {
        for _ in 0..200 {
            let email = self.email(id).await;
            if email.status == status {
                return email;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{id} never became {status}: {:?}", self.email(id).await);
    }
}

/// A received message, parsed.
pub(crate) fn parse(received: &Received) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(&received.data)
        .expect("a MIME message")
}

#[tokio::test]
async fn a_sent_email_arrives_with_its_subject_parts_and_link() {
    let sink = Sink::start();
    let app = spawn_with_smtp(sink.port).await;
    let (user, client) = app.user_and_spa("reader@example.com").await;

    let written = app
        .written(EmailKind::VerifyEmail, &user, Some(&client), Some(LINK))
        .await;
    assert_eq!(written.status, EmailStatus::Queued);

    let received = sink.wait_for(1).await;
    assert_eq!(received[0].from, "no-reply@localhost");
    assert_eq!(received[0].to, ["reader@example.com"]);
    let message = parse(&received[0]);
    assert_eq!(
        message.subject(),
        Some("Verify your email for Quickstart SPA")
    );
    let to = message.to().and_then(|to| to.first()).expect("To");
    assert_eq!(to.address(), Some("reader@example.com"));
    let text = message.body_text(0).expect("a text part");
    assert!(text.contains(LINK), "{text}");
    assert!(text.contains("reader@example.com"), "{text}");
    let html = message.body_html(0).expect("an HTML part");
    assert!(
        html.contains(&minijinja::HtmlEscape(LINK).to_string()),
        "the link, escaped, in the HTML: {html}"
    );
    assert!(html.contains("Quickstart SPA"));
    assert_eq!(
        message.message_id(),
        Some(format!("{}@localhost", written.id).as_str())
    );

    let sent = app.wait_for_status(&written.id, EmailStatus::Sent).await;
    assert_eq!(sent.attempts, 1);
    assert!(sent.sent_at.is_some());
    assert_eq!(sink.messages().len(), 1, "sent once");
}

#[tokio::test]
async fn starttls_and_credentials_reach_a_private_relay() {
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let sink = Sink::with_starttls(&cert, &key);
    let app = spawn_app_with(|settings| {
        // The password holds characters a URL must percent-encode.
        let url = format!("smtp://mailer:s3cret%3A%20p%40ss@localhost:{}", sink.port);
        settings.email = email_settings(&url, &settings.issuer);
        let smtp = settings.email.smtp.as_mut().unwrap();
        smtp.from = "Acme Accounts <accounts@acme.test>".parse().unwrap();
        smtp.ca_file = Some(cert.clone());
    })
    .await;
    let (user, _) = app.user_and_spa("tls@example.com").await;

    let written = app
        .written(EmailKind::ResetEmail, &user, None, Some(LINK))
        .await;
    let received = sink.wait_for(1).await;
    assert_eq!(received[0].from, "accounts@acme.test");
    let message = parse(&received[0]);
    assert_eq!(message.subject(), Some("Reset your password"));
    let from = message.from().and_then(|from| from.first()).expect("From");
    assert_eq!(from.name(), Some("Acme Accounts"));
    assert_eq!(
        sink.logins(),
        [("mailer".to_owned(), "s3cret: p@ss".to_owned())]
    );
    app.wait_for_status(&written.id, EmailStatus::Sent).await;
}

#[tokio::test]
async fn implicit_tls_and_credentials_reach_a_private_relay() {
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der());
    let sink = Sink::with_implicit_tls(certified.cert.der().clone(), key.into());
    let app = spawn_app_with(|settings| {
        let url = format!("smtps://mailer:s3cret%3A%20p%40ss@localhost:{}", sink.port);
        settings.email = email_settings(&url, &settings.issuer);
        settings.email.smtp.as_mut().unwrap().ca_file = Some(cert.clone());
    })
    .await;
    let (user, _) = app.user_and_spa("smtps@example.com").await;

    let written = app
        .written(EmailKind::ResetEmail, &user, None, Some(LINK))
        .await;
    let received = sink.wait_for(1).await;
    assert_eq!(received[0].to, ["smtps@example.com"]);
    let message = parse(&received[0]);
    assert_eq!(message.subject(), Some("Reset your password"));
    assert!(message.body_text(0).unwrap().contains(LINK));
    assert_eq!(
        sink.logins(),
        [("mailer".to_owned(), "s3cret: p@ss".to_owned())]
    );
    app.wait_for_status(&written.id, EmailStatus::Sent).await;
}

#[tokio::test]
async fn an_smtp_outage_keeps_the_message_and_it_is_sent_once_the_server_is_back() {
    let port = free_port();
    let app = spawn_with_smtp(port).await;
    let (user, client) = app.user_and_spa("patient@example.com").await;
    let written = app
        .written(EmailKind::ResetEmail, &user, Some(&client), Some(LINK))
        .await;

    // Nothing listens: the attempt fails and the message waits for its next attempt.
    let mut waiting = app.email(&written.id).await;
    for _ in 0..200 {
        if waiting.attempts >= 1 && waiting.lease_until.is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        waiting = app.email(&written.id).await;
    }
    assert_eq!(waiting.status, EmailStatus::Queued);
    assert_eq!(waiting.attempts, 1);
    assert!(waiting.last_error.is_some());
    assert_eq!(waiting.next_attempt_at, waiting.updated_at + 2, "backoff");
    // Not due yet: nothing is tried again before its time.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.email(&written.id).await.attempts, 1);

    // The SMTP server is back, and the next attempt is due.
    let sink = Sink::on_port(port);
    app.clock.advance(2);
    let received = sink.wait_for(1).await;
    let message = parse(&received[0]);
    assert!(message.body_text(0).unwrap().contains(LINK));
    let sent = app.wait_for_status(&written.id, EmailStatus::Sent).await;
    assert_eq!((sent.attempts, sent.last_error), (2, None));
}

#[tokio::test]
async fn messages_out_of_attempts_or_refused_for_good_fail() {
    let port = free_port();
    let app = spawn_app_with(|settings| {
        settings.email = email_settings(
            &format!("smtp://127.0.0.1:{port}?tls=none"),
            &settings.issuer,
        );
        settings.email.max_attempts = 2;
    })
    .await;
    let (user, _) = app.user_and_spa("unlucky@example.com").await;
    let written = app
        .written(EmailKind::WelcomeEmail, &user, None, None)
        .await;
    for _ in 0..200 {
        let email = app.email(&written.id).await;
        if email.status != EmailStatus::Queued {
            break;
        }
        if email.attempts == 1 && email.lease_until.is_none() {
            app.clock.advance(2);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failed = app.email(&written.id).await;
    assert_eq!((failed.status, failed.attempts), (EmailStatus::Failed, 2));
    assert!(failed.last_error.is_some());
}

#[tokio::test]
async fn two_replicas_send_each_message_once() {
    let sink = Sink::start();
    let app = spawn_with_smtp(sink.port).await;
    // A second replica on the same store, sending through the same SMTP server.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut settings = Settings::new(app.master_key.clone());
    settings.issuer = app.issuer.clone();
    settings.listen = listener.local_addr().unwrap();
    settings.email = email_settings(
        &format!("smtp://127.0.0.1:{}?tls=none", sink.port),
        &app.issuer,
    );
    let replica = Application::build_on(listener, settings, app.store.clone(), app.clock.clone())
        .await
        .expect("second replica");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let second = tokio::spawn(replica.run_until(async move {
        let _ = stopped.await;
    }));

    let (user, _) = app.user_and_spa("many@example.com").await;
    let mut ids = HashSet::new();
    for _ in 0..30 {
        let email = app
            .written(EmailKind::WelcomeEmail, &user, None, None)
            .await;
        ids.insert(email.id);
    }
    let received = sink.wait_for(30).await;
    // Both replicas poll a few more times: nothing is sent again.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let received_ids: Vec<String> = sink
        .messages()
        .iter()
        .map(|m| parse(m).message_id().unwrap().to_owned())
        .collect();
    assert_eq!(received_ids.len(), 30, "each message once");
    let unique: HashSet<&str> = received_ids
        .iter()
        .map(|id| id.trim_end_matches("@localhost"))
        .collect();
    assert_eq!(unique.len(), 30);
    assert!(unique.iter().all(|id| ids.contains(*id)));
    assert_eq!(received.len(), 30);
    let (sent, _) = app
        .store
        .list_emails(
            &EmailFilter {
                status: Some(EmailStatus::Sent),
                ..EmailFilter::default()
            },
            Page::ALL,
        )
        .await
        .unwrap();
    assert_eq!(sent.len(), 30);
    assert!(sent.iter().all(|email| email.attempts == 1));
    let _ = stop.send(());
    second.await.unwrap().unwrap();
}

#[tokio::test]
async fn without_smtp_emails_stay_in_the_outbox_the_dashboard_shows() {
    let app = spawn_app().await;
    let (user, client) = app.user_and_spa("outbox@example.com").await;
    let written = app
        .written(EmailKind::VerifyEmail, &user, Some(&client), Some(LINK))
        .await;
    assert_eq!(written.status, EmailStatus::Outbox);
    let admin = app.dashboard_admin().await;

    let (status, list) = admin.get(&app, "/dashboard/emails").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("id=\"outbox-notice\""), "{list}");
    assert!(list.contains("outbox@example.com"));
    assert!(list.contains("Verify your email for Quickstart SPA"));
    assert!(list.contains(">outbox</span>"));
    let href = format!("/dashboard/emails/{}", written.id);
    assert!(list.contains(&href));
    let (_, filtered) = admin
        .get(
            &app,
            "/dashboard/emails?status=sent&to=outbox%40example.com",
        )
        .await;
    assert!(!filtered.contains(&href), "a filter that matches nothing");

    let response = admin.browser.get(app.url(&href)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let policy = response.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains("style-src 'self' 'unsafe-inline'"),
        "{policy}"
    );
    assert!(policy.contains("script-src 'self' 'nonce-"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let page = response.text().await.unwrap();
    // The HTML in a sandboxed frame, escaped into its attribute.
    let frame = page
        .split("<iframe")
        .nth(1)
        .and_then(|rest| rest.split('>').next())
        .expect("a frame");
    assert!(frame.contains("sandbox=\"\""), "{frame}");
    assert!(frame.contains("srcdoc=\"&lt;!doctype html&gt;"), "{frame}");
    assert!(!frame.contains("<a "), "the HTML stays in the attribute");
    // The text and its link.
    let page = page.replace("&amp;", "&").replace("&#x2f;", "/");
    assert!(page.contains(&format!("<a href=\"{LINK}\"")), "the link");
    assert!(page.contains("Confirm that outbox@example.com is your address"));

    let (status, _) = admin.get(&app, "/dashboard/emails/eml_missing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_dashboard_edits_a_template_that_later_emails_use() {
    let app = spawn_app().await;
    let (user, client) = app.user_and_spa("edited@example.com").await;
    let admin = app.dashboard_admin().await;
    let page = "/dashboard/emails/templates/reset_email";
    let (status, html) = admin.get(&app, page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("the default template"));
    assert!(html.contains("Reset your password{% if application.name %}"));
    let index = admin
        .browser
        .get(app.url("/dashboard/emails/templates"))
        .send()
        .await
        .unwrap();
    assert_eq!(index.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&index), "/dashboard/emails/templates/verify_email");

    // A template that does not compile is refused at its field.
    let broken = [
        ("subject", "Reset"),
        ("body", "<p>{% if url %}unclosed</p>"),
        ("text_body", "{{ url }}"),
        ("enabled", "on"),
    ];
    let refused = admin.post(&app, page, page, &broken).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let refused = refused.text().await.unwrap();
    assert!(refused.contains("id=\"body-error\""), "{refused}");

    let fields = [
        ("subject", "New password for {{ user.email }}"),
        ("from", "Help Desk <help@example.com>"),
        (
            "body",
            "<p>Hi {{ user.name }}, <a href=\"{{ url }}\">reset</a> for {{ application.name }}</p>",
        ),
        ("text_body", "Reset: {{ url }}"),
        ("enabled", "on"),
        ("result_url", "https://app.example.com/done"),
        ("url_lifetime_in_seconds", "600"),
    ];
    let location = admin.post_ok(&app, page, page, &fields).await;
    assert_eq!(location, page);
    let (_, html) = admin.get(&app, page).await;
    assert!(html.contains("customised"));
    assert!(html.contains("Password reset template saved."));
    assert!(html.contains("New password for {{ user.email }}"));
    assert!(html.contains("id=\"restore-template\""));

    let written = app
        .written(EmailKind::ResetEmail, &user, Some(&client), Some(LINK))
        .await;
    assert_eq!(written.subject, "New password for edited@example.com");
    assert_eq!(
        written.sender.as_deref(),
        Some("Help Desk <help@example.com>")
    );
    assert_eq!(written.text, format!("Reset: {LINK}"));
    assert!(written.html.contains("for Quickstart SPA"));
    let template = portcullis_core::admin::email_templates::get(&app.cx, EmailKind::ResetEmail)
        .await
        .unwrap();
    assert_eq!(
        (template.url_lifetime_in_seconds, template.result_url),
        (Some(600), Some("https://app.example.com/done".into()))
    );

    // The change is in the audit log, with the administrator and the fields it changed.
    let (events, _) = app
        .store
        .list_logs(&LogFilter::default(), Page::ALL)
        .await
        .unwrap();
    let change = events
        .iter()
        .find(|event| event.details["target"]["type"] == "email_template")
        .expect("audited");
    assert_eq!(change.description, "Update an email template");
    assert_eq!(change.details["api"], "dashboard");
    assert_eq!(change.details["target"]["id"], "reset_email");
    assert_eq!(
        change.details["changed"],
        json!([
            "subject",
            "body",
            "textBody",
            "from",
            "resultUrl",
            "urlLifetimeInSeconds"
        ])
    );

    // A disabled template writes nothing.
    let disabled: Vec<(&str, &str)> = fields
        .iter()
        .copied()
        .filter(|(k, _)| *k != "enabled")
        .collect();
    admin.post_ok(&app, page, page, &disabled).await;
    let skipped = email::send(&app.cx, EmailKind::ResetEmail, &user, None, Some(LINK))
        .await
        .unwrap();
    assert!(skipped.is_none());

    let restore = format!("{page}/restore");
    admin.post_ok(&app, page, &restore, &[]).await;
    let (_, html) = admin.get(&app, page).await;
    assert!(html.contains("the default template"));
    assert!(!html.contains("id=\"restore-template\""));
    let (status, _) = admin
        .get(&app, "/dashboard/emails/templates/change_password")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_management_api_reads_and_writes_templates_in_auth0s_shape() {
    let mgmt = spawn_mgmt().await;
    let (status, template) = mgmt.get("/email-templates/verify_email").await;
    assert_eq!(status, StatusCode::OK, "{template}");
    assert_eq!(template["template"], "verify_email");
    assert_eq!(template["syntax"], "liquid");
    assert_eq!(template["from"], "");
    assert_eq!(template["enabled"], true);
    assert_eq!(template["includeEmailInRedirect"], true);
    assert!(template["body"].as_str().unwrap().contains("{{ url }}"));
    assert!(template["textBody"].as_str().unwrap().contains("{{ url }}"));
    assert!(template.get("resultUrl").is_none());

    let created = mgmt
        .post(
            "/email-templates",
            json!({
                "template": "reset_email",
                "body": "<p>{{ url }}</p>",
                "from": "Support <support@example.com>",
                "subject": "Reset for {{ user.email }}",
                "syntax": "liquid",
                "enabled": true,
                "resultUrl": "https://app.example.com/reset-done",
                "urlLifetimeInSeconds": 3600
            }),
        )
        .await;
    assert_eq!(created.0, StatusCode::OK, "{}", created.1);
    assert_eq!(created.1["subject"], "Reset for {{ user.email }}");
    assert_eq!(created.1["resultUrl"], "https://app.example.com/reset-done");
    assert_eq!(created.1["urlLifetimeInSeconds"], 3600);
    let again = mgmt
        .post("/email-templates", json!({ "template": "reset_email" }))
        .await;
    assert_error(&again, StatusCode::CONFLICT, "conflict");

    // PATCH changes what it names; null removes the result URL.
    let (status, patched) = mgmt
        .patch(
            "/email-templates/reset_email",
            json!({ "subject": "Choose a new password", "resultUrl": null }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["subject"], "Choose a new password");
    assert_eq!(patched["body"], "<p>{{ url }}</p>");
    assert!(patched.get("resultUrl").is_none());
    assert_eq!(patched["urlLifetimeInSeconds"], 3600);

    // PUT replaces: what it leaves out is the default's.
    let (status, replaced) = mgmt
        .call(
            reqwest::Method::PUT,
            "/email-templates/reset_email",
            Some(&json!({ "template": "reset_email", "subject": "Reset", "enabled": false })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["subject"], "Reset");
    assert_eq!(replaced["enabled"], false);
    assert_eq!(replaced["from"], "");
    assert!(replaced.get("urlLifetimeInSeconds").is_none());
    assert!(replaced["body"]
        .as_str()
        .unwrap()
        .contains("<!doctype html>"));
    let (_, read) = mgmt.get("/email-templates/reset_email").await;
    assert_eq!(read, replaced);

    // Refusals, each a 400 in Auth0's shape.
    for (path, body) in [
        (
            "/email-templates/reset_email",
            json!({ "template": "verify_email" }),
        ),
        (
            "/email-templates/reset_email",
            json!({ "syntax": "handlebars" }),
        ),
        (
            "/email-templates/reset_email",
            json!({ "body": "{% for %}" }),
        ),
        ("/email-templates/reset_email", json!({ "from": "nobody" })),
        (
            "/email-templates/reset_email",
            json!({ "urlLifetimeInSeconds": -1 }),
        ),
        ("/email-templates/reset_email", json!({ "colour": "blue" })),
        ("/email-templates/reset_email", json!({ "enabled": "yes" })),
    ] {
        let refused = mgmt.patch(path, body.clone()).await;
        assert_error(&refused, StatusCode::BAD_REQUEST, "invalid_body");
        assert!(!refused.1["message"].as_str().unwrap().is_empty(), "{body}");
    }
    let unknown = mgmt.get("/email-templates/change_password").await;
    assert_error(&unknown, StatusCode::BAD_REQUEST, "invalid_uri");
    let nameless = mgmt.post("/email-templates", json!({ "body": "x" })).await;
    assert_error(&nameless, StatusCode::BAD_REQUEST, "invalid_body");

    // Each route needs its scope.
    let reader = mgmt.token_with_scopes(&["read:email_templates"]).await;
    let (status, _) = mgmt
        .call_with(
            Some(&reader),
            reqwest::Method::GET,
            "/email-templates/welcome_email",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let refused = mgmt
        .call_with(
            Some(&reader),
            reqwest::Method::PATCH,
            "/email-templates/welcome_email",
            Some(&json!({ "enabled": false })),
        )
        .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "insufficient_scope");
    assert_eq!(
        refused.1["message"],
        "Insufficient scope, expected any of: update:email_templates"
    );

    // The messages use the template the API wrote.
    let user_id = mgmt.app.create_user("api@example.com").await;
    let user = mgmt.app.store.user_by_id(&user_id).await.unwrap().unwrap();
    let skipped = email::send(&mgmt.app.cx, EmailKind::ResetEmail, &user, None, Some(LINK))
        .await
        .unwrap();
    assert!(skipped.is_none(), "disabled by the PUT");
    mgmt.patch("/email-templates/reset_email", json!({ "enabled": true }))
        .await;
    let written = mgmt
        .app
        .written(EmailKind::ResetEmail, &user, None, Some(LINK))
        .await;
    assert_eq!(written.subject, "Reset");
    let actor_logged = mgmt
        .app
        .store
        .list_logs(&LogFilter::default(), Page::ALL)
        .await
        .unwrap()
        .0
        .into_iter()
        .filter(|event| event.details["target"]["type"] == "email_template")
        .count();
    assert_eq!(actor_logged, 4, "create, patch, put, patch");
}
