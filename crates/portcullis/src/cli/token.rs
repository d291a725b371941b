//! `portcullis token`: the dashboard's "Test" tab in the shell. Gets an access token for an
//! API through the running server's token endpoint, with the client_credentials grant of a
//! machine-to-machine application, and prints it with a ready curl line.

use anyhow::Context as _;
use clap::Args;
use portcullis_core::admin::{applications, test_application, Actor};
use portcullis_store::{Client, ResourceServer};
use portcullis_types::Secret;
use serde_json::Value;

use super::{find_api, open_with_issuer, print_json, Tenant};
use crate::config::StoreArgs;

#[derive(Args)]
pub struct TokenArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The API (its identifier, the audience).
    #[arg(long)]
    audience: String,
    /// Scopes to ask for (comma-separated); default: every scope the client is granted.
    #[arg(long, value_delimiter = ',')]
    scope: Vec<String>,
    /// A machine-to-machine application to use; default: the API's test application, created
    /// (with a grant for all the API's scopes) when missing, and given a fresh secret.
    #[arg(long, requires = "client_secret", allow_hyphen_values = true)]
    client_id: Option<String>,
    #[arg(
        long,
        allow_hyphen_values = true,
        env = "PORTCULLIS_CLIENT_SECRET",
        hide_env_values = true,
        requires = "client_id"
    )]
    client_secret: Option<Secret>,
    /// Where the server answers (its issuer URL).
    #[arg(long, env = "PORTCULLIS_ISSUER")]
    issuer: Option<String>,
}

/// The API's test application and a secret it can use. A new one comes with its secret; an
/// existing one is given a fresh secret, because only hashes are stored.
async fn test_application(cx: &Tenant, api: &ResourceServer) -> anyhow::Result<(Client, Secret)> {
    match test_application::find(&cx.cx, api).await? {
        Some((client, _)) => {
            Ok(applications::rotate_secret(&cx.cx, &Actor::Cli, &client.client_id).await?)
        }
        None => {
            let (client, _, secret) = test_application::create(&cx.cx, &Actor::Cli, api).await?;
            Ok((client, secret))
        }
    }
}

pub async fn run(args: TokenArgs) -> anyhow::Result<()> {
    let cx = open_with_issuer(&args.store, args.issuer.as_deref()).await?;
    let api = find_api(&cx, &args.audience).await?;
    let (client_id, client_secret) = match (args.client_id, args.client_secret) {
        (Some(id), Some(secret)) => (id, secret),
        _ => {
            let (client, secret) = test_application(&cx, &api).await?;
            (client.client_id, secret)
        }
    };
    let mut form = vec![
        ("grant_type", "client_credentials".to_owned()),
        ("client_id", client_id.clone()),
        ("client_secret", client_secret.expose_str().to_owned()),
        ("audience", api.identifier.clone()),
    ];
    if !args.scope.is_empty() {
        form.push(("scope", args.scope.join(" ")));
    }
    let url = cx.settings.endpoint("oauth/token");
    let response = reqwest::Client::new()
        .post(&url)
        .form(&form)
        .send()
        .await
        .with_context(|| {
            format!("no server answers at {url}: start `portcullis serve` (or pass --issuer)")
        })?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .with_context(|| format!("{url} did not answer JSON"))?;
    if !status.is_success() {
        anyhow::bail!(
            "the token endpoint refused ({status}): {} {}",
            body["error"].as_str().unwrap_or_default(),
            body["error_description"].as_str().unwrap_or_default()
        );
    }
    if cx.json {
        print_json(&body);
        return Ok(());
    }
    let token = body["access_token"].as_str().unwrap_or_default();
    let target = if api.identifier.starts_with("http://") || api.identifier.starts_with("https://")
    {
        api.identifier.clone()
    } else {
        "http://path_to_your_api/".to_owned()
    };
    println!("{token}");
    eprintln!(
        "client {client_id}, scope \"{}\", expires in {} s",
        body["scope"].as_str().unwrap_or_default(),
        body["expires_in"]
    );
    eprintln!("curl --request GET --url {target} --header 'authorization: Bearer {token}'");
    Ok(())
}
