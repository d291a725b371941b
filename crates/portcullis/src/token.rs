//! `portcullis token`: the dashboard's "Test" tab in the shell. Gets an access token for an
//! API through the running server's token endpoint, with the client_credentials grant of a
//! machine-to-machine application, and prints it with a ready curl line.

use anyhow::Context;
use clap::Args;
use portcullis_core::{admin, secrets::SecretHasher};
use portcullis_store::{Client, ResourceServer};
use serde_json::Value;

use crate::{
    admin::{find_api, open, print_json, Tenant},
    config, StoreArgs,
};

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
    #[arg(long, requires = "client_secret")]
    client_id: Option<String>,
    #[arg(
        long,
        env = "PORTCULLIS_CLIENT_SECRET",
        hide_env_values = true,
        requires = "client_id"
    )]
    client_secret: Option<String>,
    /// Where the server answers (its issuer URL).
    #[arg(long, env = "PORTCULLIS_ISSUER")]
    issuer: Option<String>,
}

/// The API's test application (created when missing) and a usable secret: only hashes are
/// stored, so the secret is rotated.
async fn test_application(cx: &Tenant, api: &ResourceServer) -> anyhow::Result<(Client, String)> {
    let hasher = SecretHasher::new(&cx.settings.master_key);
    let client = match admin::test_application(cx.store.as_ref(), api).await? {
        Some((client, _)) => client,
        None => {
            admin::create_test_application(cx.store.as_ref(), &hasher, &cx.clock, api)
                .await?
                .0
        }
    };
    Ok(admin::rotate_client_secret(cx.store.as_ref(), &hasher, &client.client_id).await?)
}

pub async fn token(args: TokenArgs) -> anyhow::Result<()> {
    let cx = open(&args.store).await?;
    let settings = config::settings(&args.store, None, args.issuer.as_deref())?;
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
        ("client_secret", client_secret),
        ("audience", api.identifier.clone()),
    ];
    if !args.scope.is_empty() {
        form.push(("scope", args.scope.join(" ")));
    }
    let url = settings.endpoint("oauth/token");
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
