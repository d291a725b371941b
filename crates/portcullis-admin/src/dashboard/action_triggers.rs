//! Actions → Triggers: for each trigger, the Actions bound to it in the order they run; a
//! deployed Action added at the end, one removed, one moved up or down. Each change is the
//! whole new order handed to core's `set_bindings`, which checks it as for the Management API
//! and the CLI (the Action's trigger, deployed, bound once).

use axum::{
    extract::Path,
    http::StatusCode,
    response::{Redirect, Response},
    routing::get,
    Router,
};
use minijinja::context;
use portcullis_core::admin::actions::{self, ActionRef, BindingInput};
use portcullis_store::ActionBinding;
use portcullis_types::ActionTrigger;

use super::{
    actions::{trigger_label, ActionRow},
    auth::{Dash, Posted},
    view::{FormError, Section},
};
use crate::state::AdminState;

const SECTION: Section = Section::Triggers;
const PATH: &str = "/dashboard/actions/triggers";

pub fn routes() -> Router<AdminState> {
    Router::new()
        .route(
            "/actions/triggers",
            get(|| async { Redirect::to(&format!("{PATH}/post-login")) }),
        )
        .route("/actions/triggers/{trigger}", get(show).post(change))
}

fn href(trigger: ActionTrigger) -> String {
    format!("{PATH}/{}", trigger.as_str())
}

async fn page(
    dash: &Dash,
    status: StatusCode,
    trigger: ActionTrigger,
    error: Option<FormError>,
) -> Response {
    let (bindings, views) = match (
        actions::bindings(&dash.app.cx, trigger).await,
        actions::list(&dash.app.cx, Some(trigger)).await,
    ) {
        (Ok(bindings), Ok(views)) => (bindings, views),
        (Err(error), _) | (_, Err(error)) => return dash.fail(SECTION, error),
    };
    let bound: Vec<_> = bindings
        .iter()
        .filter_map(|binding| {
            let view = views.iter().find(|v| v.action.id == binding.action_id)?;
            Some(context! { display_name => binding.display_name, action => ActionRow::of(view) })
        })
        .collect();
    let available: Vec<ActionRow> = views
        .iter()
        .filter(|v| v.deployed.is_some() && bindings.iter().all(|b| b.action_id != v.action.id))
        .map(ActionRow::of)
        .collect();
    let undeployed = views.iter().filter(|v| v.deployed.is_none()).count();
    let tabs: Vec<_> = ActionTrigger::ALL
        .iter()
        .map(|t| (t.as_str(), trigger_label(*t)))
        .collect();
    dash.render(
        status,
        "dashboard/action_triggers.html",
        SECTION,
        context! {
            trigger => trigger.as_str(),
            label => trigger_label(trigger),
            handler => trigger.handler(),
            tabs, bound, available, undeployed, error,
            base => href(trigger),
        },
    )
}

async fn show(dash: Dash, Path(trigger): Path<String>) -> Response {
    match trigger.parse::<ActionTrigger>() {
        Ok(trigger) => page(&dash, StatusCode::OK, trigger, None).await,
        Err(_) => dash.not_found(SECTION, "Trigger", PATH),
    }
}

/// The order after `op` on the Action `id`, or `None` when it changes nothing.
fn reordered(current: &[ActionBinding], op: &str, id: &str) -> Option<Vec<BindingInput>> {
    let mut order: Vec<(String, Option<String>)> = current
        .iter()
        .map(|b| (b.action_id.clone(), Some(b.display_name.clone())))
        .collect();
    let at = order.iter().position(|(action, _)| action == id);
    match (op, at) {
        ("add", None) => order.push((id.to_owned(), None)),
        ("remove", Some(at)) => {
            order.remove(at);
        }
        ("up", Some(at)) if at > 0 => order.swap(at, at - 1),
        ("down", Some(at)) if at + 1 < order.len() => order.swap(at, at + 1),
        _ => return None,
    }
    Some(
        order
            .into_iter()
            .map(|(id, display_name)| BindingInput {
                action: ActionRef::Id(id),
                display_name,
            })
            .collect(),
    )
}

async fn change(Path(trigger): Path<String>, Posted { dash, form }: Posted) -> Response {
    let Ok(trigger) = trigger.parse::<ActionTrigger>() else {
        return dash.not_found(SECTION, "Trigger", PATH);
    };
    let (op, id) = (form.get("op"), form.get("action"));
    let current = match actions::bindings(&dash.app.cx, trigger).await {
        Ok(current) => current,
        Err(error) => return dash.fail(SECTION, error),
    };
    if id.is_empty() {
        let error = FormError::at("action", "Choose a deployed Action to add.");
        return page(&dash, StatusCode::BAD_REQUEST, trigger, Some(error)).await;
    }
    let Some(inputs) = reordered(&current, op, id) else {
        return dash.redirect(&href(trigger), "Nothing to change.");
    };
    match actions::set_bindings(&dash.app.cx, &dash.actor(), trigger, inputs).await {
        Ok(_) => {
            let done = match op {
                "add" => "Action added: it runs at the end of the flow.",
                "remove" => "Action removed from the flow.",
                _ => "Order saved.",
            };
            dash.redirect(&href(trigger), done)
        }
        Err(error) => match dash.refusal(error, SECTION, &[("bindings", "action")]) {
            Ok((status, error)) => page(&dash, status, trigger, Some(error)).await,
            Err(page) => page,
        },
    }
}
