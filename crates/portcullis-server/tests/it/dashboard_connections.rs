//! The dashboard's Authentication → Social / Enterprise: connections to other providers
//! created from a preset or as generic OpenID Connect, changed, enabled per application and
//! deleted; the client secret is never shown back.

use portcullis_store::UpstreamConnection;
use reqwest::StatusCode;
use serde_json::json;

use crate::{connections_login::login_page, helpers::TestApp};

const LIST: &str = "/dashboard/connections";
const NEW: &str = "/dashboard/connections/new";

async fn stored(app: &TestApp, name: &str) -> Option<UpstreamConnection> {
    app.store
        .upstream_connection_by_name(name)
        .await
        .expect("read")
}

/// Auth0's attribute map, as the "Other Options" field takes it.
const MAP: &str =
    r#"{"attribute_map": {"mapping_mode": "use_map", "attributes": {"name": "display_name"}}}"#;

#[tokio::test]
async fn connections_are_created_edited_enabled_and_deleted_in_the_dashboard() {
    let app = crate::helpers::spawn_app().await;
    let spa = app.create_spa(false).await;
    let admin = app.dashboard_admin().await;
    let (status, html) = admin.get(&app, LIST).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No connections yet"), "{html}");

    // Core's rules, shown at the form.
    admin
        .post_refused(
            &app,
            NEW,
            LIST,
            &[
                ("strategy", "oidc"),
                ("name", "-bad-"),
                ("client_id", "a"),
                ("issuer", "https://idp.example.com"),
            ],
            StatusCode::BAD_REQUEST,
            "letters, digits and single hyphens",
        )
        .await;
    admin
        .post_refused(
            &app,
            NEW,
            LIST,
            &[
                ("strategy", "oidc"),
                ("name", "corp"),
                ("client_id", "a"),
                ("client_secret", "typed-secret-1"),
            ],
            StatusCode::BAD_REQUEST,
            "options.discovery_url or options.issuer is required",
        )
        .await;
    let refused = admin
        .post(
            &app,
            NEW,
            LIST,
            &[
                ("strategy", "oidc"),
                ("name", "corp"),
                ("client_id", "a"),
                ("client_secret", "typed-secret-1"),
            ],
        )
        .await;
    assert!(
        !refused
            .text()
            .await
            .expect("html")
            .contains("typed-secret-1"),
        "a refused form does not send the secret back"
    );
    assert!(stored(&app, "corp").await.is_none());

    // A preset: GitHub, enabled for the application.
    let github = admin
        .post_ok(
            &app,
            NEW,
            LIST,
            &[
                ("strategy", "github"),
                ("name", "github"),
                ("display_name", "GitHub"),
                ("client_id", "gh-id"),
                ("client_secret", "gh-secret-value"),
                ("scope", ""),
                ("enabled_clients", &spa.client_id),
            ],
        )
        .await;
    let connection = stored(&app, "github").await.expect("created");
    assert_eq!(github, format!("{LIST}/{}", connection.id));
    assert_eq!(connection.strategy.as_str(), "github");
    assert_eq!(
        connection.options,
        *json!({ "client_id": "gh-id" }).as_object().unwrap()
    );
    assert!(connection.sealed_client_secret.is_some());
    assert_eq!(
        connection.enabled_clients,
        std::slice::from_ref(&spa.client_id)
    );
    let (status, page) = admin.get(&app, &github).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("gh-id") && page.contains("Set: type a new one"));
    assert!(
        !page.contains("gh-secret-value"),
        "the secret is never shown"
    );
    let (_, listed) = admin.get(&app, LIST).await;
    assert!(listed.contains("Continue with GitHub"), "{listed}");
    assert!(
        login_page(&app, &spa)
            .await
            .contains("Continue with GitHub"),
        "the application's login page shows it at once"
    );

    // Generic OpenID Connect, with an option of its own.
    let corp = admin
        .post_ok(
            &app,
            NEW,
            LIST,
            &[
                ("strategy", "oidc"),
                ("name", "corp"),
                ("client_id", "corp-id"),
                ("client_secret", "corp-secret"),
                ("issuer", "https://idp.example.com"),
                ("scope", "openid email"),
                ("link_verified_email", "on"),
                ("other", MAP),
            ],
        )
        .await;
    let created = stored(&app, "corp").await.expect("created");
    assert_eq!(
        created.options["attribute_map"]["attributes"]["name"],
        "display_name"
    );
    assert_eq!(created.options["link_verified_email"], true);
    assert!(created.enabled_clients.is_empty());

    // Edited: the options are the form's, the secret left empty stays, and the application
    // is turned on.
    admin
        .post_ok(
            &app,
            &corp,
            &corp,
            &[
                ("display_name", "Corporate"),
                ("client_id", "corp-id-2"),
                ("client_secret", ""),
                (
                    "discovery_url",
                    "https://login.example.org/.well-known/openid-configuration",
                ),
                ("other", MAP),
                ("enabled_clients", &spa.client_id),
            ],
        )
        .await;
    let edited = stored(&app, "corp").await.expect("kept");
    assert_eq!(
        edited.options,
        *json!({
            "client_id": "corp-id-2",
            "discovery_url": "https://login.example.org/.well-known/openid-configuration",
            "attribute_map": { "mapping_mode": "use_map", "attributes": { "name": "display_name" } },
        })
        .as_object()
        .unwrap()
    );
    assert_eq!(edited.sealed_client_secret, created.sealed_client_secret);
    assert_eq!(edited.display_name.as_deref(), Some("Corporate"));
    assert!(login_page(&app, &spa)
        .await
        .contains("Continue with Corporate"));

    // Refused edits change nothing and never echo a typed secret.
    admin
        .post_refused(
            &app,
            &corp,
            &corp,
            &[
                ("client_id", "x"),
                ("issuer", "https://idp.example.com"),
                ("other", "not json"),
            ],
            StatusCode::BAD_REQUEST,
            "Other options must be a JSON object",
        )
        .await;
    // The flat attribute map the hint once suggested is refused, not silently ignored.
    admin
        .post_refused(
            &app,
            &corp,
            &corp,
            &[
                ("client_id", "x"),
                ("issuer", "https://idp.example.com"),
                ("other", r#"{"attribute_map": {"name": "display_name"}}"#),
            ],
            StatusCode::BAD_REQUEST,
            "options.attribute_map.name is not a member of attribute_map",
        )
        .await;
    let refused = admin
        .post(
            &app,
            &corp,
            &corp,
            &[
                ("client_id", "x"),
                ("issuer", "http://idp.example.com"),
                ("client_secret", "typed-secret-2"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let html = refused.text().await.expect("html");
    assert!(html.contains("must be an https URL"), "{html}");
    assert!(!html.contains("typed-secret-2"));
    assert_eq!(
        stored(&app, "corp").await.expect("kept").options,
        edited.options
    );

    // Turned off for the application, then deleted.
    admin
        .post_ok(&app, &github, &github, &[("client_id", "gh-id")])
        .await;
    assert!(stored(&app, "github")
        .await
        .expect("kept")
        .enabled_clients
        .is_empty());
    assert!(!login_page(&app, &spa)
        .await
        .contains("Continue with GitHub"));
    let delete = format!("{github}/delete");
    admin
        .post_refused(
            &app,
            &github,
            &delete,
            &[("confirm", "nope")],
            StatusCode::BAD_REQUEST,
            "Type the connection's name",
        )
        .await;
    let back = admin
        .post_ok(&app, &github, &delete, &[("confirm", "github")])
        .await;
    assert_eq!(back, LIST);
    assert!(stored(&app, "github").await.is_none());
}
