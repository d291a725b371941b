//! Auth0 Actions: drafts, immutable versions and the triggers' ordered bindings.

use portcullis_store::{Action, ActionBinding, ActionVersion, Store};
use portcullis_types::ActionTrigger;

use super::{is_conflict, is_not_found, NOW};

fn action(n: u32, trigger: ActionTrigger) -> Action {
    Action {
        id: format!("act{n:03}"),
        name: format!("Action {n}"),
        trigger,
        code: format!("exports.onExecutePostLogin = async () => {{}}; // {n}"),
        runtime: "node18".into(),
        sealed_secrets: Some(vec![1, 2, 3, u8::try_from(n).unwrap_or(0)]),
        created_at: NOW,
        updated_at: NOW,
    }
}

fn version(action: &Action, number: i64) -> ActionVersion {
    ActionVersion {
        id: format!("{}-v{number}", action.id),
        action_id: action.id.clone(),
        number,
        code: format!("{} /* v{number} */", action.code),
        runtime: action.runtime.clone(),
        sealed_secrets: action.sealed_secrets.clone(),
        created_at: NOW + number,
    }
}

fn binding(action: &Action, n: u32) -> ActionBinding {
    ActionBinding {
        id: format!("bnd{n:03}"),
        trigger: action.trigger,
        action_id: action.id.clone(),
        display_name: action.name.clone(),
        created_at: NOW,
    }
}

/// Actions: unique names, update, versions newest first, bindings replaced in order, the
/// deployed (highest) version of each bound Action, and everything gone with the Action.
pub async fn actions_versions_and_bindings(store: &dyn Store) {
    let mut one = action(1, ActionTrigger::PostLogin);
    let two = action(2, ActionTrigger::PostLogin);
    let other = action(3, ActionTrigger::CredentialsExchange);
    for a in [&one, &two, &other] {
        store.insert_action(a).await.expect("insert");
    }
    let mut twin = action(4, ActionTrigger::PostLogin);
    twin.name = one.name.clone();
    assert!(is_conflict(store.insert_action(&twin).await));
    one.code = "exports.onExecutePostLogin = async (e, api) => {};".into();
    one.sealed_secrets = None;
    one.updated_at = NOW + 5;
    store.update_action(&one).await.expect("update");
    assert_eq!(
        store.action_by_id("act001").await.expect("get"),
        Some(one.clone())
    );
    assert!(is_not_found(
        store
            .update_action(&action(9, ActionTrigger::PostLogin))
            .await
    ));
    let mut renamed = two.clone();
    renamed.name = one.name.clone();
    assert!(is_conflict(store.update_action(&renamed).await));
    assert_eq!(store.actions().await.expect("list").len(), 3);

    store
        .insert_action_version(&version(&one, 1))
        .await
        .expect("v1");
    store
        .insert_action_version(&version(&one, 2))
        .await
        .expect("v2");
    assert!(is_conflict(
        store.insert_action_version(&version(&one, 2)).await
    ));
    store
        .insert_action_version(&version(&two, 1))
        .await
        .expect("v1 of two");
    let numbers: Vec<i64> = store
        .action_versions("act001")
        .await
        .expect("versions")
        .iter()
        .map(|v| v.number)
        .collect();
    assert_eq!(numbers, [2, 1]);

    // `two` runs before `one`; an Action without a version is bound but not run.
    let three = action(5, ActionTrigger::PostLogin);
    store.insert_action(&three).await.expect("insert");
    let bindings = [binding(&two, 1), binding(&one, 2), binding(&three, 3)];
    store
        .replace_action_bindings(ActionTrigger::PostLogin, &bindings)
        .await
        .expect("bind");
    assert_eq!(
        store
            .action_bindings(ActionTrigger::PostLogin)
            .await
            .expect("bindings"),
        bindings
    );
    let bound = store
        .bound_action_versions(ActionTrigger::PostLogin)
        .await
        .expect("bound");
    let run: Vec<(&str, i64)> = bound
        .iter()
        .map(|(b, v)| (b.action_id.as_str(), v.number))
        .collect();
    assert_eq!(run, [("act002", 1), ("act001", 2)]);
    assert_eq!(bound[1].1, version(&one, 2));
    assert!(store
        .action_bindings(ActionTrigger::CredentialsExchange)
        .await
        .expect("none")
        .is_empty());

    // Replacing is all or nothing: a binding naming a missing Action changes nothing.
    let ghost = ActionBinding {
        action_id: "nope".into(),
        ..binding(&one, 9)
    };
    assert!(store
        .replace_action_bindings(ActionTrigger::PostLogin, &[binding(&one, 8), ghost])
        .await
        .is_err());
    assert_eq!(
        store
            .action_bindings(ActionTrigger::PostLogin)
            .await
            .expect("kept")
            .len(),
        3
    );

    store.delete_action("act001").await.expect("delete");
    assert!(is_not_found(store.delete_action("act001").await));
    assert!(store
        .action_versions("act001")
        .await
        .expect("versions")
        .is_empty());
    let left: Vec<String> = store
        .action_bindings(ActionTrigger::PostLogin)
        .await
        .expect("bindings")
        .into_iter()
        .map(|b| b.action_id)
        .collect();
    assert_eq!(left, ["act002", "act005"]);
}
