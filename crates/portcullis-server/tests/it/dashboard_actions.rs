//! The dashboard's Actions: Library (create, the code saved as a draft, deploy refused with the
//! compiler's message for a bad script, a test run on core's sample event, secrets never shown
//! back, delete refused while bound) and Triggers (bindings added, reordered and removed).

use portcullis_core::admin::actions;
use portcullis_types::ActionTrigger;
use reqwest::StatusCode;

use crate::{dashboard::Admin, helpers::TestApp};

const LIBRARY: &str = "/dashboard/actions/library";
const NEW: &str = "/dashboard/actions/library/new";
const POST_LOGIN: &str = "/dashboard/actions/triggers/post-login";

const CLAIM_CODE: &str = "exports.onExecutePostLogin = async (event, api) => {\r\n  console.log('team for', event.user.email);\r\n  api.idToken.setCustomClaim('https://example.com/team', event.secrets.TEAM);\r\n};\r\n";

/// Creates an Action through the form; returns its page.
async fn create(app: &TestApp, admin: &Admin, name: &str, trigger: &str) -> String {
    admin
        .post_ok(app, NEW, LIBRARY, &[("name", name), ("trigger", trigger)])
        .await
}

async fn bound_names(app: &TestApp) -> Vec<String> {
    actions::bindings(&app.cx, ActionTrigger::PostLogin)
        .await
        .expect("bindings")
        .into_iter()
        .map(|b| b.display_name)
        .collect()
}

/// The text of the page's text area `id` (the page already unescaped).
fn textarea(html: &str, id: &str) -> String {
    let start = html
        .find(&format!("<textarea id=\"{id}\""))
        .expect("text area");
    let open = start + html[start..].find('>').expect(">") + 1;
    let close = open + html[open..].find("</textarea>").expect("end");
    html[open..close].to_owned()
}

fn id_of(page: &str) -> &str {
    page.rsplit('/').next().expect("id")
}

#[tokio::test]
async fn actions_are_written_tested_deployed_bound_and_deleted_in_the_dashboard() {
    let app = crate::helpers::spawn_app().await;
    let admin = app.dashboard_admin().await;
    let (status, html) = admin.get(&app, LIBRARY).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No Actions yet"), "{html}");
    let (_, nav) = admin.get(&app, "/dashboard/apis").await;
    assert!(nav.contains(r#"href="/dashboard/actions/library""#));

    // Create: a name and a trigger; the code starts as the trigger's empty handler.
    admin
        .post_refused(
            &app,
            NEW,
            LIBRARY,
            &[("name", ""), ("trigger", "post-login")],
            StatusCode::BAD_REQUEST,
            "name must hold 1 to 100 characters",
        )
        .await;
    let team = create(&app, &admin, "Team claim", "post-login").await;
    let (status, page) = admin.get(&app, &team).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("exports.onExecutePostLogin = async (event, api) => {"));
    assert!(page.contains("j+smith@example.com"), "the sample event");
    assert!(page.contains(">Draft<"));
    admin
        .post_refused(
            &app,
            NEW,
            LIBRARY,
            &[("name", "Team claim"), ("trigger", "post-login")],
            StatusCode::CONFLICT,
            "an action with this name already exists",
        )
        .await;

    // A secret: its value is sealed and never shown back.
    let saved = admin
        .post_ok(
            &app,
            &team,
            &format!("{team}/secrets"),
            &[("secret_name", "TEAM"), ("secret_value", "blue-team-7")],
        )
        .await;
    assert_eq!(saved, team);
    let (_, page) = admin.get(&app, &team).await;
    assert!(page.contains("TEAM") && !page.contains("blue-team-7"));

    // Deploying a script that does not compile: the compiler's message at the editor, the
    // draft kept, no version.
    let broken = "exports.onExecutePostLogin = async (event, api) => {\n  api.idToken.setCustomClaim('x',\n};\n";
    admin
        .post_refused(
            &app,
            &team,
            &team,
            &[("code", broken), ("event", ""), ("intent", "deploy")],
            StatusCode::BAD_REQUEST,
            "the code does not compile",
        )
        .await;
    let view = actions::find(&app.cx, id_of(&team)).await.expect("find");
    assert_eq!(view.action.code, broken);
    assert!(view.deployed.is_none());

    // A test run of the draft on the sample event: the claim, the log line.
    let (_, page) = admin.get(&app, &team).await;
    let sample = textarea(&page, "event");
    let response = admin
        .post(
            &app,
            &team,
            &team,
            &[("code", CLAIM_CODE), ("event", &sample), ("intent", "test")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let result = crate::dashboard::unescape(&response.text().await.expect("html"));
    assert!(
        result
            .contains("ID token claim <code class=\"code-inline\">https://example.com/team</code>"),
        "{result}"
    );
    assert!(
        result.contains("\"blue-team-7\""),
        "the secret reached the code"
    );
    assert!(result.contains("log: team for j+smith@example.com"));
    // A throw is the test's result; an event that is not JSON is refused at its field.
    let throwing = "exports.onExecutePostLogin = async () => { throw new Error('no team'); };";
    let response = admin
        .post(
            &app,
            &team,
            &team,
            &[("code", throwing), ("event", "{}"), ("intent", "test")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.expect("html").contains("no team"));
    admin
        .post_refused(
            &app,
            &team,
            &team,
            &[
                ("code", CLAIM_CODE),
                ("event", "{not json"),
                ("intent", "test"),
            ],
            StatusCode::BAD_REQUEST,
            "The event is not JSON",
        )
        .await;

    // Deploy: version 1.
    admin
        .post_ok(
            &app,
            &team,
            &team,
            &[("code", CLAIM_CODE), ("intent", "deploy")],
        )
        .await;
    let (_, page) = admin.get(&app, &team).await;
    assert!(
        page.contains(">Deployed<") && page.contains("version 1"),
        "{page}"
    );
    let (_, listed) = admin.get(&app, LIBRARY).await;
    assert!(listed.contains("Team claim") && listed.contains(">Deployed<"));

    // Triggers: a draft cannot be bound; deployed ones are added, reordered, removed.
    let audit = create(&app, &admin, "Audit", "post-login").await;
    let (status, page) = admin.get(&app, POST_LOGIN).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("No Action runs at this trigger"));
    assert!(page.contains("1 Action of this trigger not deployed yet"));
    admin
        .post_refused(
            &app,
            POST_LOGIN,
            POST_LOGIN,
            &[("op", "add"), ("action", id_of(&audit))],
            StatusCode::BAD_REQUEST,
            "the action Audit has not been deployed",
        )
        .await;
    admin
        .post_ok(
            &app,
            &audit,
            &audit,
            &[
                ("code", "exports.onExecutePostLogin = async () => {};"),
                ("intent", "deploy"),
            ],
        )
        .await;
    for id in [id_of(&team), id_of(&audit)] {
        admin
            .post_ok(
                &app,
                POST_LOGIN,
                POST_LOGIN,
                &[("op", "add"), ("action", id)],
            )
            .await;
    }
    assert_eq!(bound_names(&app).await, ["Team claim", "Audit"]);
    admin
        .post_ok(
            &app,
            POST_LOGIN,
            POST_LOGIN,
            &[("op", "up"), ("action", id_of(&audit))],
        )
        .await;
    assert_eq!(bound_names(&app).await, ["Audit", "Team claim"]);
    let (_, page) = admin.get(&app, POST_LOGIN).await;
    let (first, second) = (
        page.find(">Audit<").unwrap(),
        page.find(">Team claim<").unwrap(),
    );
    assert!(first < second, "the page shows the order");
    // The other trigger's page and starter code.
    let m2m = create(&app, &admin, "M2M", "credentials-exchange").await;
    let (_, page) = admin.get(&app, &m2m).await;
    assert!(page.contains("exports.onExecuteCredentialsExchange = async (event, api) => {"));
    assert!(
        page.contains(r#""protocol": "oauth2-client-credentials""#),
        "its sample event"
    );
    let (status, page) = admin
        .get(&app, "/dashboard/actions/triggers/credentials-exchange")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("onExecuteCredentialsExchange")
            && page.contains("No Action runs at this trigger")
    );
    // A secret removed.
    admin
        .post_ok(
            &app,
            &team,
            &format!("{team}/secrets/remove"),
            &[("name", "TEAM")],
        )
        .await;
    let view = actions::find(&app.cx, id_of(&team)).await.expect("find");
    assert!(view.secrets.is_empty());
    let (status, _) = admin
        .get(&app, "/dashboard/actions/triggers/pre-user-registration")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Delete: refused while bound, with the reason; done once removed from the trigger.
    admin
        .post_refused(
            &app,
            &team,
            &format!("{team}/delete"),
            &[("confirm", "Team claim")],
            StatusCode::BAD_REQUEST,
            "the action is bound to the post-login trigger: remove it from the trigger first",
        )
        .await;
    admin
        .post_ok(
            &app,
            POST_LOGIN,
            POST_LOGIN,
            &[("op", "remove"), ("action", id_of(&team))],
        )
        .await;
    assert_eq!(bound_names(&app).await, ["Audit"]);
    let gone = admin
        .post_ok(
            &app,
            &team,
            &format!("{team}/delete"),
            &[("confirm", "Team claim")],
        )
        .await;
    assert_eq!(gone, LIBRARY);
    let (status, _) = admin.get(&app, &team).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
