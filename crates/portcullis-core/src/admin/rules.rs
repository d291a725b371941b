//! Access rules: declarative conditions on an API's scopes (see [`crate::authz`] for how they
//! are evaluated). Creating one checks that everything it names exists, so a typo cannot
//! silently deny a scope to everyone.

use portcullis_store::{AccessRule, RuleCondition};
use serde_json::json;

use super::{missing, Action, Actor, AdminError, Change, Context, Kind};
use crate::secrets::random_hex;

fn invalid(message: impl Into<String>) -> AdminError {
    AdminError::invalid("condition", message)
}

/// Parses the command-line and form spelling of a condition: `email_verified`,
/// `has_role:ROLE_ID`, `client_in:ID1,ID2`, `email_domain_in:example.com,example.org`.
pub fn parse_condition(text: &str) -> Result<RuleCondition, AdminError> {
    let (kind, argument) = text.split_once(':').unwrap_or((text, ""));
    let list = || -> Vec<String> {
        argument
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    match kind.trim() {
        "email_verified" => Ok(RuleCondition::EmailVerified),
        "has_role" => Ok(RuleCondition::HasRole {
            role_id: argument.trim().to_owned(),
        }),
        "client_in" => Ok(RuleCondition::ClientIn { client_ids: list() }),
        "email_domain_in" => Ok(RuleCondition::EmailDomainIn { domains: list() }),
        other => Err(invalid(format!(
            "unknown condition {other:?}: use email_verified, has_role:ROLE_ID, \
             client_in:CLIENT_ID,... or email_domain_in:DOMAIN,..."
        ))),
    }
}

/// The spelling [`parse_condition`] reads, for display.
pub fn describe_condition(condition: &RuleCondition) -> String {
    match condition {
        RuleCondition::EmailVerified => "email_verified".into(),
        RuleCondition::HasRole { role_id } => format!("has_role:{role_id}"),
        RuleCondition::ClientIn { client_ids } => format!("client_in:{}", client_ids.join(",")),
        RuleCondition::EmailDomainIn { domains } => {
            format!("email_domain_in:{}", domains.join(","))
        }
    }
}

fn described(action: Action, rule: &AccessRule) -> Change {
    Change::new(action, Kind::AccessRule, &rule.id).with(json!({
        "resource_server_id": rule.resource_server_id,
        "scope": rule.scope,
        "condition": describe_condition(&rule.condition),
    }))
}

/// Adds a rule to the API `resource_server_id`: `scope` must be one it defines, or `*`, and
/// everything the condition names must exist.
pub async fn create(
    cx: &Context,
    actor: &Actor,
    resource_server_id: &str,
    scope: &str,
    condition: RuleCondition,
) -> Result<AccessRule, AdminError> {
    let store = cx.store();
    let api = store
        .resource_server_by_id(resource_server_id)
        .await?
        .ok_or(AdminError::NotFound(Kind::Api))?;
    let scope = scope.trim();
    if scope != "*" && !api.defines_scope(scope) {
        return Err(AdminError::invalid(
            "scope",
            format!(
                "the API {} does not define the scope {scope:?} (use * for every scope)",
                api.identifier
            ),
        ));
    }
    match &condition {
        RuleCondition::EmailVerified => {}
        RuleCondition::HasRole { role_id } => {
            if store.role_by_id(role_id).await?.is_none() {
                return Err(invalid(format!("no role has the id {role_id:?}")));
            }
        }
        RuleCondition::ClientIn { client_ids } => {
            if client_ids.is_empty() {
                return Err(invalid("client_in needs at least one client id"));
            }
            for client_id in client_ids {
                if store.client_by_id(client_id).await?.is_none() {
                    return Err(invalid(format!("no application has the id {client_id:?}")));
                }
            }
        }
        RuleCondition::EmailDomainIn { domains } => {
            if domains.is_empty() || domains.iter().any(|d| d.contains('@') || d.contains(' ')) {
                return Err(invalid(
                    "email_domain_in needs one or more domains such as example.com",
                ));
            }
        }
    }
    let rule = AccessRule {
        id: format!("rul_{}", random_hex(12)),
        resource_server_id: api.id,
        scope: scope.to_owned(),
        condition,
        created_at: cx.now(),
    };
    store
        .create_access_rule(&rule)
        .await
        .map_err(missing(Kind::Api))?;
    cx.record(actor, described(Action::Create, &rule)).await;
    Ok(rule)
}

/// The rule `rule_id` of the API `resource_server_id`.
pub async fn find(
    cx: &Context,
    resource_server_id: &str,
    rule_id: &str,
) -> Result<AccessRule, AdminError> {
    cx.store()
        .access_rules(resource_server_id)
        .await?
        .into_iter()
        .find(|rule| rule.id == rule_id)
        .ok_or(AdminError::NotFound(Kind::AccessRule))
}

/// Deletes the rule `rule_id`; with `resource_server_id`, only a rule of that API.
pub async fn delete(
    cx: &Context,
    actor: &Actor,
    resource_server_id: Option<&str>,
    rule_id: &str,
) -> Result<(), AdminError> {
    let change = match resource_server_id {
        Some(api_id) => described(Action::Delete, &find(cx, api_id, rule_id).await?),
        None => Change::new(Action::Delete, Kind::AccessRule, rule_id),
    };
    cx.store()
        .delete_access_rule(rule_id)
        .await
        .map_err(missing(Kind::AccessRule))?;
    cx.record(actor, change).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_read_back_as_written() {
        for text in [
            "email_verified",
            "has_role:rol_1",
            "client_in:a,b",
            "email_domain_in:example.com",
        ] {
            assert_eq!(describe_condition(&parse_condition(text).unwrap()), text);
        }
        assert!(parse_condition("run_code:rm -rf").is_err());
    }
}
