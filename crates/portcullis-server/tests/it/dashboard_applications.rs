//! The Application Metadata section of an application's Settings tab: keys added, changed and
//! removed as a browser posts them, core's limits shown on the page (never a 500), and the
//! Settings form leaving the metadata alone.

use std::collections::BTreeMap;

use reqwest::StatusCode;

use crate::helpers::{hidden_field, TestApp};

async fn metadata(app: &TestApp, client_id: &str) -> BTreeMap<String, String> {
    app.store
        .client_by_id(client_id)
        .await
        .expect("read")
        .expect("application")
        .client_metadata
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn application_metadata_is_added_changed_and_removed_on_the_settings_tab() {
    let app = crate::helpers::spawn_app().await;
    let spa = app.create_spa(false).await;
    let admin = app.dashboard_admin().await;
    let base = format!("/dashboard/applications/{}", spa.client_id);
    let settings = format!("{base}/settings");
    let save = format!("{base}/metadata");
    let remove = format!("{base}/metadata/remove");

    let (status, html) = admin.get(&app, &settings).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Application Metadata"), "{html}");
    assert!(html.contains("No metadata yet."), "{html}");

    // Added from the Add row; the answer goes back to the section.
    let to = admin
        .post_ok(
            &app,
            &settings,
            &save,
            &[("new_key", " region "), ("value", "eu-west")],
        )
        .await;
    assert_eq!(to, format!("{settings}#metadata"));
    admin
        .post_ok(
            &app,
            &settings,
            &save,
            &[("new_key", "tier"), ("value", "gold")],
        )
        .await;
    assert_eq!(
        metadata(&app, &spa.client_id).await,
        map(&[("region", "eu-west"), ("tier", "gold")])
    );
    let (_, html) = admin.get(&app, &settings).await;
    assert!(html.contains("Metadata key “tier” saved."), "{html}");
    assert!(
        html.contains(r#"<input type="hidden" name="key" value="region">"#),
        "{html}"
    );
    assert!(html.contains(r#"value="eu-west""#), "{html}");
    assert!(!html.contains("No metadata yet."));

    // Changed from its row, then removed from another.
    admin
        .post_ok(
            &app,
            &settings,
            &save,
            &[("key", "region"), ("value", "us-east")],
        )
        .await;
    admin
        .post_ok(
            &app,
            &settings,
            &remove,
            &[("key", "tier"), ("value", "gold")],
        )
        .await;
    assert_eq!(
        metadata(&app, &spa.client_id).await,
        map(&[("region", "us-east")])
    );
    let (_, html) = admin.get(&app, &settings).await;
    assert!(html.contains("Metadata key “tier” removed."), "{html}");
    assert!(!html.contains(r#"value="tier""#), "{html}");

    // Saving the Settings form keeps the metadata.
    admin
        .post_ok(
            &app,
            &settings,
            &settings,
            &[
                ("name", "Renamed SPA"),
                ("grant_types", "authorization_code"),
                ("lifetime_in_seconds", "36000"),
                ("rotation_type", "rotating"),
                ("leeway", "0"),
            ],
        )
        .await;
    assert_eq!(
        metadata(&app, &spa.client_id).await,
        map(&[("region", "us-east")])
    );

    // A key made of the characters Auth0 allows in names, `<>"` among them, is escaped.
    admin
        .post_ok(
            &app,
            &settings,
            &save,
            &[("new_key", r#"a<b>"c"#), ("value", "<i>x</i>")],
        )
        .await;
    let response = admin.browser.get(app.url(&settings)).send().await.unwrap();
    let raw = response.text().await.unwrap();
    assert!(!raw.contains("<b>") && !raw.contains("<i>x"), "{raw}");
    assert!(raw.contains("a&lt;b&gt;"), "{raw}");
    let csrf = hidden_field(&raw, "csrf");
    let removed = admin
        .browser
        .post(app.url(&remove))
        .form(&[("csrf", csrf.as_str()), ("key", r#"a<b>"c"#)])
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        metadata(&app, &spa.client_id).await,
        map(&[("region", "us-east")])
    );
}

#[tokio::test]
async fn refused_metadata_shows_cores_rule_on_the_page() {
    let app = crate::helpers::spawn_app().await;
    let spa = app.create_spa(false).await;
    let admin = app.dashboard_admin().await;
    let base = format!("/dashboard/applications/{}", spa.client_id);
    let settings = format!("{base}/settings");
    let save = format!("{base}/metadata");
    let long = "x".repeat(256);

    // A value over 255 characters, from the Add row: the typed key and value come back.
    let response = admin
        .post(
            &app,
            &settings,
            &save,
            &[("new_key", "home"), ("value", long.as_str())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = crate::dashboard::unescape(&response.text().await.unwrap());
    assert!(
        html.contains("client_metadata.home must be a string of at most 255 characters"),
        "{html}"
    );
    assert!(html.contains(r#"id="client_metadata-error""#), "{html}");
    assert!(
        html.contains(&format!(
            r#"name="value" class="mono" autocomplete="off" value="{long}" aria-invalid="true""#
        )),
        "{html}"
    );
    assert!(
        html.contains(
            r#"name="new_key" class="mono" autocomplete="off" value="home" aria-invalid="true""#
        ),
        "{html}"
    );
    // No top-of-page banner besides the section's message.
    assert!(!html.contains("alert alert-error"), "{html}");

    // Names: empty, or with characters Auth0 refuses.
    for key in ["", "dot.ted", "semi;colon"] {
        admin
            .post_refused(
                &app,
                &settings,
                &save,
                &[("new_key", key), ("value", "v")],
                StatusCode::BAD_REQUEST,
                "must be 1 to 255 letters, digits, spaces or",
            )
            .await;
    }

    // Ten keys at most: the eleventh is refused, a change to one of the ten is not.
    for n in 0..10 {
        let key = format!("k{n}");
        admin
            .post_ok(
                &app,
                &settings,
                &save,
                &[("new_key", key.as_str()), ("value", "v")],
            )
            .await;
    }
    admin
        .post_refused(
            &app,
            &settings,
            &save,
            &[("new_key", "k10"), ("value", "v")],
            StatusCode::BAD_REQUEST,
            "client_metadata holds at most 10 properties",
        )
        .await;
    admin
        .post_ok(&app, &settings, &save, &[("key", "k3"), ("value", "three")])
        .await;

    // A refused change of an existing key's row marks that row.
    let response = admin
        .post(
            &app,
            &settings,
            &save,
            &[("key", "k3"), ("value", long.as_str())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = crate::dashboard::unescape(&response.text().await.unwrap());
    assert!(
        html.contains(&format!(r#"name="value" value="{long}" aria-label="Value of k3" class="mono" aria-invalid="true""#)),
        "{html}"
    );
    let stored = metadata(&app, &spa.client_id).await;
    assert_eq!(stored.len(), 10);
    assert_eq!(stored["k3"], "three");

    // An application that does not exist: the dashboard's not-found page.
    let response = admin
        .post(
            &app,
            &settings,
            "/dashboard/applications/no-such-app/metadata",
            &[("new_key", "a"), ("value", "b")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // Without the page's CSRF value, nothing changes.
    let response = admin
        .browser
        .post(app.url(&save))
        .form(&[("new_key", "sneaky"), ("value", "v")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(!metadata(&app, &spa.client_id).await.contains_key("sneaky"));
}
