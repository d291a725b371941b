//! `portcullis keys`: the signing keys, and rotating them.

use clap::{Args, Subcommand};
use portcullis_core::admin::{self, Actor};
use portcullis_store::{Page, Store};
use serde_json::{json, Value};

use super::{open, print_json, print_table, Tenant};
use crate::config::StoreArgs;

/// Opaque tokens are not signed, and a day covers the default lifetimes, so a rotated-out key
/// stays published at least this long (seconds).
const MIN_KEEP_PREVIOUS: i64 = 86_400;

#[derive(Args)]
pub struct KeysCommand {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    action: KeysAction,
}

#[derive(Subcommand)]
enum KeysAction {
    /// Start signing with the published next key, publish a new next key, and keep the
    /// previous key published until the tokens it signed have expired.
    Rotate,
    /// List the published keys.
    List,
}

pub async fn run(command: KeysCommand) -> anyhow::Result<()> {
    let cx = open(&command.store).await?;
    match command.action {
        KeysAction::Rotate => {
            let keep = longest_token_lifetime(cx.store()).await?;
            let cipher = cx.key_cipher()?;
            let kid = admin::keys::rotate(&cx.cx, &Actor::Cli, &cipher, keep).await?;
            if cx.json {
                print_json(&json!({"kid": kid, "previous_published_for_seconds": keep}));
            } else {
                println!("now signing with {kid}; the previous key stays published for {keep} s");
            }
        }
        KeysAction::List => list(&cx).await?,
    }
    Ok(())
}

/// How long a rotated-out key stays published: the longest lifetime of any token it signed.
async fn longest_token_lifetime(store: &dyn Store) -> anyhow::Result<i64> {
    let (apis, _) = store.list_resource_servers(Page::ALL).await?;
    let (clients, _) = store.list_clients(Page::ALL).await?;
    let longest = apis
        .iter()
        .map(|a| a.token_lifetime)
        .chain(clients.iter().map(|c| c.id_token_lifetime))
        .max()
        .unwrap_or(0);
    Ok(longest.max(MIN_KEEP_PREVIOUS))
}

/// Lists the live keys; a new store gets its first keys, as a server would make them.
async fn list(cx: &Tenant) -> anyhow::Result<()> {
    let cipher = cx.key_cipher()?;
    portcullis_core::keys::ensure_initialized(cx.store(), cx.cx.clock.as_ref(), &cipher).await?;
    let keys = cx.store().live_keys().await?;
    let now = cx.cx.now();
    if cx.json {
        print_json(&Value::Array(
            keys.iter()
                .map(|k| {
                    json!({
                        "kid": k.kid,
                        "alg": k.alg.as_str(),
                        "state": k.state.as_str(),
                        "created_at": k.created_at,
                        "retire_after": k.retire_after,
                    })
                })
                .collect(),
        ));
    } else {
        let rows = keys
            .iter()
            .map(|k| {
                vec![
                    k.kid.clone(),
                    k.state.as_str().to_owned(),
                    k.retire_after
                        .map(|t| format!("in {} s", t - now))
                        .unwrap_or_default(),
                ]
            })
            .collect();
        print_table(&["kid", "state", "retires"], rows);
    }
    Ok(())
}
