//! `portcullis logs`: the audit log, newest first.

use clap::Args;
use portcullis_admin::shapes;
use portcullis_store::{LogFilter, Page};
use portcullis_types::EventType;
use serde_json::Value;

use super::{open, print_json, print_table};
use crate::config::StoreArgs;

#[derive(Args)]
pub struct LogsCommand {
    #[command(flatten)]
    store: StoreArgs,
    /// Only events of this type code (s, f, ss, seacft, seccft, sertft, ferrt, sapi, ...).
    #[arg(long = "type")]
    event_type: Option<String>,
    /// Only events of this user id.
    #[arg(long)]
    user: Option<String>,
    /// Only events of this application.
    #[arg(long, allow_hyphen_values = true)]
    client: Option<String>,
    /// How many, newest first.
    #[arg(long, default_value_t = 50)]
    limit: u32,
}

pub async fn run(command: LogsCommand) -> anyhow::Result<()> {
    let cx = open(&command.store).await?;
    let filter = LogFilter {
        // Any code is a valid filter: Auth0 has more types than Portcullis writes.
        event_type: command.event_type.as_deref().map(EventType::from_code),
        user_id: command.user,
        client_id: command.client,
    };
    let page = Page {
        page: 0,
        per_page: command.limit.clamp(1, 10_000),
    };
    let (events, total) = cx.store().list_logs(&filter, page).await?;
    if cx.json {
        print_json(&Value::Array(
            events.iter().map(shapes::log_event).collect(),
        ));
        return Ok(());
    }
    print_table(
        &["date", "type", "description", "user", "client", "ip"],
        events
            .iter()
            .map(|e| {
                vec![
                    portcullis_core::claims::rfc3339(e.date / 1000),
                    e.event_type.as_str().to_owned(),
                    e.description.clone(),
                    e.user_name
                        .clone()
                        .or(e.user_id.clone())
                        .unwrap_or_default(),
                    e.client_name
                        .clone()
                        .or(e.client_id.clone())
                        .unwrap_or_default(),
                    e.ip.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    );
    eprintln!("{} of {total} event(s)", events.len());
    Ok(())
}
