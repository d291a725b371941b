//! The Settings tab of an application: its name, whether it is a third-party application,
//! URLs, grants, token lifetimes and refresh rotation; its metadata (see [`super::metadata`]);
//! and deleting it.

use axum::{extract::Path, http::StatusCode, response::Response};
use minijinja::context;
use portcullis_core::admin::applications::{self, ClientChanges};
use portcullis_store::Client;
use portcullis_types::{GrantType, RotationType};
use serde::Serialize;

use super::{href, load, tab, SECTION};
use crate::dashboard::{
    auth::{Dash, Posted},
    form::FormData,
    view::FormError,
};

/// Where core's field names differ from this form's.
const ALIASES: &[(&str, &str)] = &[
    (
        "jwt_configuration.lifetime_in_seconds",
        "lifetime_in_seconds",
    ),
    ("refresh_token", "leeway"),
    ("token_endpoint_auth_method", "grant_types"),
];

/// A change of the Application Metadata section as submitted, shown again when it is refused
/// (see [`super::metadata`]).
#[derive(Clone, Debug, Default, Serialize)]
pub(super) struct MetadataForm {
    pub key: String,
    pub value: String,
    /// From the Add row (a key typed in), not from the row of an existing key.
    pub new: bool,
}

/// The Settings form's fields, from the application or as submitted.
#[derive(Serialize)]
struct SettingsForm {
    name: String,
    /// Owned by someone else: users are asked to consent to what it requests.
    third_party: bool,
    callbacks: String,
    allowed_logout_urls: String,
    web_origins: String,
    allowed_origins: String,
    grant_types: Vec<String>,
    lifetime_in_seconds: String,
    rotation_type: String,
    leeway: String,
}

impl SettingsForm {
    fn of(client: &Client) -> Self {
        SettingsForm {
            name: client.name.clone(),
            third_party: !client.is_first_party,
            callbacks: client.callbacks.join("\n"),
            allowed_logout_urls: client.allowed_logout_urls.join("\n"),
            web_origins: client.web_origins.join("\n"),
            allowed_origins: client.allowed_origins.join("\n"),
            grant_types: client
                .grant_types
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            lifetime_in_seconds: client.id_token_lifetime.to_string(),
            rotation_type: client.refresh_token.rotation_type.as_str().to_owned(),
            leeway: client.refresh_token.leeway.to_string(),
        }
    }

    fn submitted(form: &FormData) -> Self {
        SettingsForm {
            name: form.get("name").to_owned(),
            third_party: form.checked("third_party"),
            callbacks: form.raw("callbacks").to_owned(),
            allowed_logout_urls: form.raw("allowed_logout_urls").to_owned(),
            web_origins: form.raw("web_origins").to_owned(),
            allowed_origins: form.raw("allowed_origins").to_owned(),
            grant_types: form.all("grant_types"),
            lifetime_in_seconds: form.get("lifetime_in_seconds").to_owned(),
            rotation_type: form.get("rotation_type").to_owned(),
            leeway: form.get("leeway").to_owned(),
        }
    }
}

fn settings_tab(
    dash: &Dash,
    status: StatusCode,
    client: &Client,
    form: SettingsForm,
    error: Option<FormError>,
    metadata: MetadataForm,
) -> Response {
    tab(
        dash,
        status,
        client,
        "settings",
        context! {
            form,
            error,
            metadata,
            grant_choices => GrantType::ALL.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        },
    )
}

pub(super) async fn show(dash: Dash, Path(id): Path<String>) -> Response {
    match load(&dash, &id).await {
        Ok(client) => {
            let form = SettingsForm::of(&client);
            settings_tab(
                &dash,
                StatusCode::OK,
                &client,
                form,
                None,
                MetadataForm::default(),
            )
        }
        Err(page) => page,
    }
}

pub(super) async fn save(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let client = match load(&dash, &id).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    let submitted = SettingsForm::submitted(&form);
    let parsed = parse(&form, &submitted);
    let (lifetime, leeway, rotation_type, grant_types) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            return settings_tab(
                &dash,
                StatusCode::BAD_REQUEST,
                &client,
                submitted,
                Some(error),
                MetadataForm::default(),
            );
        }
    };
    let mut refresh = client.refresh_token.clone();
    refresh.rotation_type = rotation_type;
    refresh.leeway = leeway;
    let changes = ClientChanges {
        name: Some(submitted.name.clone()),
        is_first_party: Some(!submitted.third_party),
        callbacks: Some(form.list("callbacks")),
        allowed_logout_urls: Some(form.list("allowed_logout_urls")),
        web_origins: Some(form.list("web_origins")),
        allowed_origins: Some(form.list("allowed_origins")),
        grant_types: Some(grant_types),
        id_token_lifetime: Some(lifetime),
        refresh_token: Some(refresh),
        ..ClientChanges::default()
    };
    match applications::update(&dash.app.cx, &dash.actor(), &client.client_id, changes).await {
        Ok((updated, _)) => dash.redirect(&href(&updated, "settings"), "Settings saved."),
        Err(error) => match dash.refusal(error, SECTION, ALIASES) {
            Ok((status, error)) => settings_tab(
                &dash,
                status,
                &client,
                submitted,
                Some(error),
                MetadataForm::default(),
            ),
            Err(page) => page,
        },
    }
}

/// The Settings tab again after a refused metadata change: the settings as stored, the
/// change as submitted, and the refusal in the metadata section.
pub(super) fn refused_metadata(
    dash: &Dash,
    status: StatusCode,
    client: &Client,
    submitted: MetadataForm,
    error: FormError,
) -> Response {
    let form = SettingsForm::of(client);
    settings_tab(dash, status, client, form, Some(error), submitted)
}

/// The form's numbers and closed choices, or the error to show next to the field.
fn parse(
    form: &FormData,
    submitted: &SettingsForm,
) -> Result<(i64, i64, RotationType, Vec<GrantType>), FormError> {
    let integer = |field: &str| {
        form.integer(field, field)
            .map_err(|message| FormError::at(field, message))
    };
    let lifetime = integer("lifetime_in_seconds")?;
    let leeway = integer("leeway")?;
    let rotation_type =
        submitted
            .rotation_type
            .parse()
            .map_err(|e: portcullis_types::UnknownValue| {
                FormError::at("rotation_type", e.to_string())
            })?;
    let grant_types = submitted
        .grant_types
        .iter()
        .map(|grant| grant.parse())
        .collect::<Result<_, portcullis_types::UnknownValue>>()
        .map_err(|e| FormError::at("grant_types", e.to_string()))?;
    Ok((lifetime, leeway, rotation_type, grant_types))
}

pub(super) async fn delete(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let client = match load(&dash, &id).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    if form.get("confirm") != client.name {
        let error = FormError::at(
            "confirm",
            "Type the application's name to confirm that it should be deleted.",
        );
        let form = SettingsForm::of(&client);
        return settings_tab(
            &dash,
            StatusCode::BAD_REQUEST,
            &client,
            form,
            Some(error),
            MetadataForm::default(),
        );
    }
    match applications::delete(&dash.app.cx, &dash.actor(), &client.client_id).await {
        Ok(()) => dash.redirect(
            "/dashboard/applications",
            format!("Application \u{201c}{}\u{201d} deleted.", client.name),
        ),
        Err(error) => dash.fail(SECTION, error),
    }
}
