//! The first dashboard administrator. On start, when the store has no administrator:
//! `PORTCULLIS_ADMIN_EMAIL` and `PORTCULLIS_ADMIN_PASSWORD` name one, or else one is generated
//! (`admin@<issuer host>`, a random password) and its credentials are printed once to stderr.
//!
//! Replicas starting together on an empty database race here; the store's unique email
//! decides, so exactly one creates the administrator (and only that one prints).

use anyhow::Context as _;
use portcullis_core::{
    admin::{administrators, Actor, AdminError, Context},
    secrets::random_token,
};
use portcullis_types::Secret;

use crate::state::AdminState;

/// The credentials the environment names, if any: both variables or neither.
fn from_env() -> anyhow::Result<Option<(String, Secret)>> {
    let read = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    match (
        read("PORTCULLIS_ADMIN_EMAIL"),
        read("PORTCULLIS_ADMIN_PASSWORD"),
    ) {
        (Some(email), Some(password)) => Ok(Some((email, Secret::new(password)))),
        (None, None) => Ok(None),
        _ => anyhow::bail!(
            "set both PORTCULLIS_ADMIN_EMAIL and PORTCULLIS_ADMIN_PASSWORD, or neither"
        ),
    }
}

/// What bootstrapping did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// There already was an administrator.
    Skipped,
    /// Created from the given credentials.
    Given { email: String },
    /// Generated; `password` is to be shown once.
    Generated { email: String, password: String },
    /// Another process created one first.
    CreatedElsewhere,
}

/// Creates the first administrator when there is none (see the module documentation).
pub async fn bootstrap_admin(state: &AdminState) -> anyhow::Result<()> {
    let given = from_env()?;
    let outcome = ensure_admin(&state.cx, &state.settings.issuer, given).await?;
    match outcome {
        Outcome::Given { email } => {
            tracing::info!(%email, "created the first dashboard administrator (from the environment)");
        }
        Outcome::Generated { email, password } => {
            // Printed once, to the operator's terminal: never through tracing, whose output may
            // be shipped elsewhere.
            eprintln!(
                "\nPortcullis created the first dashboard administrator.\n\
                 Sign in at {issuer}dashboard and keep these credentials now: the password is not shown again.\n\
                 \n  email:    {email}\n  password: {password}\n\n\
                 Set PORTCULLIS_ADMIN_EMAIL and PORTCULLIS_ADMIN_PASSWORD to choose them instead, \
                 or use `portcullis admins create`.\n",
                issuer = state.settings.issuer
            );
        }
        Outcome::Skipped | Outcome::CreatedElsewhere => {}
    }
    Ok(())
}

/// The decision, without the environment and the terminal (tested on its own).
pub async fn ensure_admin(
    cx: &Context,
    issuer: &str,
    given: Option<(String, Secret)>,
) -> anyhow::Result<Outcome> {
    if !cx
        .store()
        .list_admins()
        .await
        .context("listing administrators")?
        .is_empty()
    {
        return Ok(Outcome::Skipped);
    }
    let (email, password, generated) = match given {
        Some((email, password)) => (email, password, false),
        None => {
            let host = url::Url::parse(issuer)
                .ok()
                .and_then(|url| url.host_str().map(str::to_owned))
                .unwrap_or_else(|| "localhost".into());
            (format!("admin@{host}"), Secret::new(random_token(18)), true)
        }
    };
    match administrators::create(cx, &Actor::System, &email, &password).await {
        Ok(admin) if generated => Ok(Outcome::Generated {
            email: admin.email,
            password: password.into_inner(),
        }),
        Ok(admin) => Ok(Outcome::Given { email: admin.email }),
        Err(AdminError::Conflict { .. }) => Ok(Outcome::CreatedElsewhere),
        Err(AdminError::Invalid { message, .. }) => {
            anyhow::bail!("PORTCULLIS_ADMIN_EMAIL / PORTCULLIS_ADMIN_PASSWORD: {message}")
        }
        Err(other) => Err(other).context("creating the first dashboard administrator"),
    }
}
