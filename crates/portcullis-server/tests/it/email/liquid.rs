//! Auth0's email templates are Liquid; ours are rendered by minijinja. A template written in
//! their common subset, saved through the Management API, renders in the email a reset sends;
//! one that uses a tag only Liquid has is refused with the Jinja spelling of it.

use portcullis_store::{EmailFilter, Page};
use portcullis_types::EmailKind;
use reqwest::StatusCode;
use serde_json::json;

use crate::{connection::DB, management_support::*};

/// Written as in Auth0's dashboard: variables, a condition on the user, one on their
/// `user_metadata`, and Liquid's filter names.
const BODY: &str = r#"<p>{% if user.name %}Hello {{ user.name }},{% endif %}</p>
<p>{% if user.user_metadata.lang == 'fr' %}Réinitialisez le mot de passe de {{ user.email }} pour {{ application.name }}.{% else %}Reset the password of {{ user.email }}.{% endif %}</p>
<p><a href="{{ url }}">{{ application.name | upcase }}</a></p>"#;
const TEXT: &str = "{% if user.name %}Hello {{ user.name }}, {% endif %}open {{ url }} ({{ user.app_metadata.plan | downcase }})";
const SUBJECT: &str = "{{ application.name }}: reset for {{ user.email }}";

#[tokio::test]
async fn a_template_in_auth0s_liquid_subset_renders_in_the_email_sent() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let spa = app.create_spa(false).await;
    let user_id = app.create_user("liquid@example.com").await;
    let (status, user) = mgmt
        .patch(
            &format!("/users/{user_id}"),
            json!({
                "name": "Jeanne <Dupont>",
                "user_metadata": {"lang": "fr"},
                "app_metadata": {"plan": "GOLD"},
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    let (status, template) = mgmt
        .post(
            "/email-templates",
            json!({
                "template": "reset_email",
                "syntax": "liquid",
                "subject": SUBJECT,
                "body": BODY,
                "textBody": TEXT,
                "enabled": true,
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{template}");

    let answer = app
        .browser
        .post(app.url("/dbconnections/change_password"))
        .json(&json!({"client_id": spa.client_id, "connection": DB, "email": "liquid@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let (emails, _) = app
        .store
        .list_emails(&EmailFilter::default(), Page::ALL)
        .await
        .unwrap();
    let email = emails
        .iter()
        .find(|email| email.kind == EmailKind::ResetEmail)
        .expect("the reset email, in the outbox");
    let link = email.link.as_deref().expect("a link");
    let name = app
        .store
        .client_by_id(&spa.client_id)
        .await
        .unwrap()
        .unwrap()
        .name;

    assert_eq!(
        email.subject,
        format!("{name}: reset for liquid@example.com")
    );
    let escaped_link = minijinja::HtmlEscape(link).to_string();
    assert_eq!(
        email.html,
        format!(
            "<p>Hello Jeanne &lt;Dupont&gt;,</p>\n<p>Réinitialisez le mot de passe de liquid@example.com pour {name}.</p>\n<p><a href=\"{escaped_link}\">{}</a></p>",
            name.to_uppercase()
        )
    );
    assert_eq!(
        email.text,
        format!("Hello Jeanne <Dupont>, open {link} (gold)")
    );
}

#[tokio::test]
async fn liquid_only_tags_are_refused_with_their_jinja_spelling() {
    let mgmt = spawn_mgmt().await;
    for (body, hint) in [
        (
            "{% if user.name %}a{% elsif user.email %}b{% endif %} {{ url }}",
            "{% elif ... %}",
        ),
        (
            "{{ user.name | default: 'friend' }} {{ url }}",
            "default('x')",
        ),
    ] {
        let refused = mgmt
            .post(
                "/email-templates",
                json!({"template": "verify_email", "syntax": "liquid", "body": body}),
            )
            .await;
        assert_error(&refused, StatusCode::BAD_REQUEST, "invalid_body");
        let message = refused.1["message"].as_str().unwrap();
        assert!(message.contains(hint), "{message}");
    }
}
