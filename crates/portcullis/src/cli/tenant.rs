//! `portcullis export` and `portcullis import`: the whole tenant as one JSON document.

use std::{io::Read, path::PathBuf};

use anyhow::Context as _;
use clap::Args;
use portcullis_core::tenant;

use super::{open, print_json};
use crate::config::StoreArgs;

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Write the document here instead of to standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

#[derive(Args)]
pub struct ImportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The document to import (`-` for standard input).
    file: PathBuf,
}

pub async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let cx = open(&args.store).await?;
    let document = tenant::export(cx.store()).await?;
    let text = serde_json::to_string_pretty(&document)?;
    match &args.output {
        Some(path) => crate::private_file::replace(path, &format!("{text}\n"))
            .with_context(|| format!("writing {}", path.display()))?,
        None => println!("{text}"),
    }
    Ok(())
}

/// Importing is not an administrative change of an existing tenant: it fills an empty store,
/// which core refuses to do on any other, so it writes no audit entries.
pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let text = if args.file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        text
    } else {
        std::fs::read_to_string(&args.file)
            .with_context(|| format!("reading {}", args.file.display()))?
    };
    let document: tenant::TenantDocument =
        serde_json::from_str(&text).context("parsing the tenant document")?;
    let cx = open(&args.store).await?;
    let cipher = cx.key_cipher()?;
    let counts = tenant::import(cx.store(), &cipher, &document, cx.cx.now()).await?;
    if cx.json {
        print_json(&serde_json::to_value(counts)?);
    } else {
        println!(
            "imported {} APIs, {} applications, {} client grants, {} users, {} signing keys",
            counts.resource_servers,
            counts.clients,
            counts.client_grants,
            counts.users,
            counts.signing_keys
        );
    }
    Ok(())
}
