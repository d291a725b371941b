//! `portcullis apis rules`: an API's access rules, conditions on its scopes that are
//! evaluated at token issuance.

use clap::Subcommand;
use portcullis_admin::shapes;
use portcullis_core::admin::{rules, Actor};
use serde_json::Value;

use super::{find_api, print_json, print_table, refused, Tenant};

#[derive(Subcommand)]
pub enum RulesAction {
    /// List the rules of an API.
    List { api: String },
    /// Add a rule: SCOPE (or *) is granted only when CONDITION holds. CONDITION is
    /// email_verified, has_role:ROLE_ID, client_in:CLIENT_ID,... or email_domain_in:DOMAIN,...
    Add {
        api: String,
        #[arg(long)]
        scope: String,
        #[arg(long)]
        condition: String,
    },
    /// Remove a rule.
    Remove { rule_id: String },
}

pub async fn run(cx: &Tenant, action: RulesAction) -> anyhow::Result<()> {
    match action {
        RulesAction::List { api } => {
            let api = find_api(cx, &api).await?;
            let list = cx.store().access_rules(&api.id).await?;
            if cx.json {
                print_json(&Value::Array(
                    list.iter().map(shapes::access_rule).collect(),
                ));
            } else {
                print_table(
                    &["id", "scope", "condition"],
                    list.iter()
                        .map(|r| {
                            vec![
                                r.id.clone(),
                                r.scope.clone(),
                                rules::describe_condition(&r.condition),
                            ]
                        })
                        .collect(),
                );
            }
        }
        RulesAction::Add {
            api,
            scope,
            condition,
        } => {
            let api = find_api(cx, &api).await?;
            let condition = rules::parse_condition(&condition)?;
            let rule = rules::create(&cx.cx, &Actor::Cli, &api.id, &scope, condition).await?;
            if cx.json {
                print_json(&shapes::access_rule(&rule));
            } else {
                println!("created rule {}", rule.id);
            }
        }
        RulesAction::Remove { rule_id } => {
            rules::delete(&cx.cx, &Actor::Cli, None, &rule_id)
                .await
                .map_err(|e| refused(e, &rule_id))?;
            println!("deleted rule {rule_id}");
        }
    }
    Ok(())
}
