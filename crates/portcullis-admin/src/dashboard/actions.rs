//! Actions → Library: the tenant's Auth0 Actions. The list, Create Action (a name and a
//! trigger; the code starts as core's empty handler), and one page per Action: its code in an
//! editor, saved as a draft, deployed (core compiles it first: a syntax error comes back at the
//! editor), tested on a sample event (core's, per trigger) with what the code asked of the
//! `api` and its logs; its secrets, whose values are sealed and never shown back; and its
//! deletion, which core refuses while the Action is bound to its trigger.

use axum::{
    extract::Path,
    http::StatusCode,
    response::{Redirect, Response},
    routing::{get, post},
    Router,
};
use minijinja::context;
use portcullis_core::{
    actions::{describe_calls, event},
    admin::{
        actions::{self, ActionPatch, ActionView, NewAction, SecretInput},
        AdminError,
    },
};
use portcullis_types::ActionTrigger;
use serde::Serialize;
use serde_json::Value;

use super::{
    auth::{Dash, Posted},
    view::{segment, FormError, Section},
};
use crate::state::AdminState;

const SECTION: Section = Section::Actions;
const PATH: &str = "/dashboard/actions/library";

pub fn routes() -> Router<AdminState> {
    Router::new()
        .route("/actions", get(|| async { Redirect::to(PATH) }))
        .route("/actions/library", get(list).post(create))
        .route("/actions/library/new", get(new))
        .route("/actions/library/{id}", get(show).post(save))
        .route("/actions/library/{id}/secrets", post(add_secret))
        .route("/actions/library/{id}/secrets/remove", post(remove_secret))
        .route("/actions/library/{id}/delete", post(delete))
}

/// The words the pages show for a trigger.
pub fn trigger_label(trigger: ActionTrigger) -> &'static str {
    match trigger {
        ActionTrigger::PostLogin => "Post Login",
        ActionTrigger::CredentialsExchange => "Credentials Exchange",
    }
}

pub fn href(id: &str) -> String {
    format!("{PATH}/{}", segment(id))
}

/// An Action as the pages show it: never its secrets' values.
#[derive(Serialize)]
pub struct ActionRow {
    pub id: String,
    pub href: String,
    pub name: String,
    pub trigger: &'static str,
    pub trigger_label: &'static str,
    /// `Deployed`, `Draft`, or deployed with later changes not yet deployed.
    pub status: &'static str,
    pub badge: &'static str,
    pub version: Option<i64>,
    pub updated_at: i64,
}

impl ActionRow {
    pub fn of(view: &ActionView) -> Self {
        let (status, badge) = match &view.deployed {
            None => ("Draft", "badge-gray"),
            Some(_) if view.all_changes_deployed() => ("Deployed", "badge-green"),
            Some(_) => ("Deployed · changes not deployed", "badge-indigo"),
        };
        ActionRow {
            id: view.action.id.clone(),
            href: href(&view.action.id),
            name: view.action.name.clone(),
            trigger: view.action.trigger.as_str(),
            trigger_label: trigger_label(view.action.trigger),
            status,
            badge,
            version: view.deployed.as_ref().map(|v| v.number),
            updated_at: view.action.updated_at,
        }
    }
}

fn triggers() -> Vec<(&'static str, &'static str)> {
    ActionTrigger::ALL
        .iter()
        .map(|t| (t.as_str(), trigger_label(*t)))
        .collect()
}

async fn list(dash: Dash) -> Response {
    match actions::list(&dash.app.cx, None).await {
        Ok(views) => {
            let rows: Vec<ActionRow> = views.iter().map(ActionRow::of).collect();
            dash.render(
                StatusCode::OK,
                "dashboard/actions.html",
                SECTION,
                context! { rows },
            )
        }
        Err(error) => dash.fail(SECTION, error),
    }
}

fn new_page(
    dash: &Dash,
    status: StatusCode,
    name: &str,
    trigger: &str,
    error: Option<FormError>,
) -> Response {
    dash.render(
        status,
        "dashboard/action_new.html",
        SECTION,
        context! { name, trigger, error, triggers => triggers() },
    )
}

async fn new(dash: Dash) -> Response {
    new_page(&dash, StatusCode::OK, "", "post-login", None)
}

async fn create(Posted { dash, form }: Posted) -> Response {
    let (name, chosen) = (form.get("name"), form.get("trigger"));
    let Ok(trigger) = chosen.parse::<ActionTrigger>() else {
        let error = FormError::at("trigger", "Choose a trigger.");
        return new_page(&dash, StatusCode::BAD_REQUEST, name, chosen, Some(error));
    };
    let new = NewAction {
        name: name.to_owned(),
        trigger,
        code: actions::starter_code(trigger),
        runtime: None,
        secrets: Vec::new(),
    };
    match actions::create(&dash.app.cx, &dash.actor(), new).await {
        Ok(view) => dash.redirect(
            &href(&view.action.id),
            format!("Action \u{201c}{}\u{201d} created.", view.action.name),
        ),
        Err(error) => match dash.refusal(error, SECTION, &[]) {
            Ok((status, error)) => new_page(&dash, status, name, chosen, Some(error)),
            Err(page) => page,
        },
    }
}

/// What the editor shows besides the stored Action: the code and event as typed, a test
/// run's result, a refusal.
struct Editor {
    code: String,
    event: String,
    result: Option<TestResult>,
    error: Option<FormError>,
}

impl Editor {
    fn of(dash: &Dash, view: &ActionView) -> Self {
        Editor {
            code: view.action.code.clone(),
            event: sample_event(dash, view.action.trigger),
            result: None,
            error: None,
        }
    }
}

/// A test run as the Test panel shows it.
#[derive(Serialize)]
struct TestResult {
    /// Why the code failed (a throw, a timeout...), when it did.
    error: Option<String>,
    denied: Option<String>,
    /// The `api` calls, in Auth0's test answer's shape (`{api: ..., ...}`).
    commands: Vec<Value>,
    logs: Vec<portcullis_core::actions::LogLine>,
}

fn sample_event(dash: &Dash, trigger: ActionTrigger) -> String {
    let tenant = url::Url::parse(&dash.app.settings.issuer)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_default();
    serde_json::to_string_pretty(&event::sample(trigger, &tenant)).unwrap_or_default()
}

fn page(dash: &Dash, status: StatusCode, view: &ActionView, editor: Editor) -> Response {
    let action = ActionRow::of(view);
    let secrets: Vec<_> = view
        .secrets
        .iter()
        .map(|(name, updated_at)| context! { name, updated_at })
        .collect();
    dash.render(
        status,
        "dashboard/action.html",
        SECTION,
        context! {
            action,
            handler => view.action.trigger.handler(),
            secrets,
            code => editor.code,
            event => editor.event,
            result => editor.result,
            error => editor.error,
            base => href(&view.action.id),
        },
    )
}

fn refused(dash: &Dash, view: &ActionView, mut editor: Editor, error: AdminError) -> Response {
    let aliases = [("secrets", "secret_name"), ("force", "confirm")];
    match dash.refusal(error, SECTION, &aliases) {
        Ok((status, error)) => {
            editor.error = Some(error);
            page(dash, status, view, editor)
        }
        Err(page) => page,
    }
}

async fn load(dash: &Dash, id: &str) -> Result<ActionView, Response> {
    match actions::find(&dash.app.cx, id).await {
        Ok(view) => Ok(view),
        Err(AdminError::NotFound(_)) => Err(dash.not_found(SECTION, "Action", PATH)),
        Err(error) => Err(dash.fail(SECTION, error)),
    }
}

async fn show(dash: Dash, Path(id): Path<String>) -> Response {
    match load(&dash, &id).await {
        Ok(view) => {
            let editor = Editor::of(&dash, &view);
            page(&dash, StatusCode::OK, &view, editor)
        }
        Err(page) => page,
    }
}

/// The editor's form: saves the code as the draft when it changed, then deploys it or runs
/// the test on the event, as the button pressed (`intent`) asks.
async fn save(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let mut view = match load(&dash, &id).await {
        Ok(view) => view,
        Err(page) => return page,
    };
    // Browsers send a text area's lines ended by CR LF.
    let code = form.raw("code").replace("\r\n", "\n");
    let mut editor = Editor {
        code: code.clone(),
        event: form.raw("event").replace("\r\n", "\n"),
        result: None,
        error: None,
    };
    if editor.event.trim().is_empty() {
        editor.event = sample_event(&dash, view.action.trigger);
    }
    if code != view.action.code {
        let patch = ActionPatch {
            code: Some(code),
            ..ActionPatch::default()
        };
        view = match actions::update(&dash.app.cx, &dash.actor(), &id, patch).await {
            Ok(saved) => saved,
            Err(error) => return refused(&dash, &view, editor, error),
        };
    }
    match form.get("intent") {
        "deploy" => match actions::deploy(&dash.app.cx, &dash.actor(), &id).await {
            Ok(version) => dash.redirect(
                &href(&id),
                format!(
                    "Version {} deployed: bound to its trigger, it runs from now on.",
                    version.number
                ),
            ),
            Err(error) => refused(&dash, &view, editor, error),
        },
        "test" => {
            let event: Value = match serde_json::from_str(&editor.event) {
                Ok(event) => event,
                Err(error) => {
                    let message = format!("The event is not JSON: {error}.");
                    editor.error = Some(FormError::at("event", message));
                    return page(&dash, StatusCode::BAD_REQUEST, &view, editor);
                }
            };
            let result = match actions::test(&dash.app.cx, &id, event).await {
                Ok(outcome) => TestResult {
                    error: None,
                    denied: outcome.denied().map(str::to_owned),
                    commands: describe_calls(&outcome.calls),
                    logs: outcome.logs,
                },
                // The code's own failure is the test's result, not a refusal of the form.
                Err(AdminError::Invalid {
                    field: "code",
                    message,
                }) => TestResult {
                    error: Some(message),
                    denied: None,
                    commands: Vec::new(),
                    logs: Vec::new(),
                },
                Err(error) => return refused(&dash, &view, editor, error),
            };
            editor.result = Some(result);
            page(&dash, StatusCode::OK, &view, editor)
        }
        _ => dash.redirect(&href(&id), "Draft saved."),
    }
}

/// Every secret kept as it is (no value: core keeps the sealed one), but `except`.
fn kept_secrets(view: &ActionView, except: &str) -> Vec<SecretInput> {
    view.secrets
        .iter()
        .filter(|(name, _)| name != except)
        .map(|(name, _)| SecretInput {
            name: name.clone(),
            value: None,
        })
        .collect()
}

async fn change_secrets(
    dash: &Dash,
    view: &ActionView,
    secrets: Vec<SecretInput>,
    done: String,
) -> Response {
    let patch = ActionPatch {
        secrets: Some(secrets),
        ..ActionPatch::default()
    };
    match actions::update(&dash.app.cx, &dash.actor(), &view.action.id, patch).await {
        Ok(_) => dash.redirect(&href(&view.action.id), done),
        Err(error) => refused(dash, view, Editor::of(dash, view), error),
    }
}

async fn add_secret(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let view = match load(&dash, &id).await {
        Ok(view) => view,
        Err(page) => return page,
    };
    let (name, value) = (form.get("secret_name"), form.raw("secret_value"));
    if value.is_empty() {
        let mut editor = Editor::of(&dash, &view);
        editor.error = Some(FormError::at("secret_value", "Type the secret's value."));
        return page(&dash, StatusCode::BAD_REQUEST, &view, editor);
    }
    let mut secrets = kept_secrets(&view, name);
    secrets.push(SecretInput {
        name: name.to_owned(),
        value: Some(value.to_owned()),
    });
    let done = format!("Secret {name} saved: deploy the Action for it to take effect.");
    change_secrets(&dash, &view, secrets, done).await
}

async fn remove_secret(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let view = match load(&dash, &id).await {
        Ok(view) => view,
        Err(page) => return page,
    };
    let name = form.get("name");
    let secrets = kept_secrets(&view, name);
    let done = format!("Secret {name} removed: deploy the Action for it to take effect.");
    change_secrets(&dash, &view, secrets, done).await
}

async fn delete(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let view = match load(&dash, &id).await {
        Ok(view) => view,
        Err(page) => return page,
    };
    if form.get("confirm") != view.action.name {
        let mut editor = Editor::of(&dash, &view);
        editor.error = Some(FormError::at(
            "confirm",
            "Type the Action's name to delete it.",
        ));
        return page(&dash, StatusCode::BAD_REQUEST, &view, editor);
    }
    match actions::delete(&dash.app.cx, &dash.actor(), &id, false).await {
        Ok(()) => dash.redirect(
            PATH,
            format!("Action \u{201c}{}\u{201d} deleted.", view.action.name),
        ),
        Err(error) => refused(&dash, &view, Editor::of(&dash, &view), error),
    }
}
