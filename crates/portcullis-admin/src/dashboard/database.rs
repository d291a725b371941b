//! Authentication → Database: the database connection's settings (sign-ups and the password
//! policy), the same ones as the Management API's `/connections`.

use axum::{http::StatusCode, response::Response, routing::get, Router};
use minijinja::context;
use portcullis_core::{
    admin::connection::{self, ConnectionChanges},
    password_policy,
};
use portcullis_store::{DatabaseConnection, PasswordDictionary, PasswordHistory};
use portcullis_types::PasswordStrength;
use serde::Serialize;

use super::{
    auth::{Dash, Posted},
    form::{split_list, FormData},
    view::{FormError, Section},
};
use crate::state::AdminState;

const SECTION: Section = Section::Database;
const PATH: &str = "/dashboard/database";

/// The strengths, with the words the page shows.
const LEVELS: [(&str, &str); 5] = [
    ("none", "None: at least 1 character"),
    ("low", "Low: at least 6 characters"),
    (
        "fair",
        "Fair: letters of both cases and digits, 8 characters",
    ),
    ("good", "Good: 3 kinds of characters, 8 characters"),
    (
        "excellent",
        "Excellent: 3 kinds, 10 characters, no 3 identical in a row",
    ),
];

pub fn routes() -> Router<AdminState> {
    // Nested under `/dashboard`.
    Router::new().route("/database", get(show).post(save))
}

/// The form's fields, from the connection or as submitted.
#[derive(Serialize)]
struct DatabaseForm {
    disable_signup: bool,
    password_policy: String,
    min_length: String,
    dictionary_enable: bool,
    dictionary: String,
    no_personal_info: bool,
    history_enable: bool,
    history_size: String,
}

impl DatabaseForm {
    fn of(connection: &DatabaseConnection) -> Self {
        DatabaseForm {
            disable_signup: connection.disable_signup,
            password_policy: connection.password_policy.as_str().to_owned(),
            min_length: connection
                .min_length
                .map(|length| length.to_string())
                .unwrap_or_default(),
            dictionary_enable: connection.dictionary.enable,
            dictionary: connection.dictionary.entries.join("\n"),
            no_personal_info: connection.no_personal_info,
            history_enable: connection.history.enable,
            history_size: connection.history.size.to_string(),
        }
    }

    fn submitted(form: &FormData) -> Self {
        DatabaseForm {
            disable_signup: form.checked("disable_signup"),
            password_policy: form.get("password_policy").to_owned(),
            min_length: form.get("min_length").to_owned(),
            dictionary_enable: form.checked("dictionary_enable"),
            dictionary: form.raw("dictionary").to_owned(),
            no_personal_info: form.checked("no_personal_info"),
            history_enable: form.checked("history_enable"),
            history_size: form.get("history_size").to_owned(),
        }
    }

    /// The change the form asks for, or the message to show at the field.
    fn changes(&self) -> Result<ConnectionChanges, FormError> {
        let level: PasswordStrength = self
            .password_policy
            .parse()
            .map_err(|_| FormError::at("password_policy", "Choose a password strength."))?;
        let whole = |text: &str, field: &str, label: &str| {
            text.parse::<u32>()
                .map_err(|_| FormError::at(field, format!("{label} must be a whole number")))
        };
        let min_length = match self.min_length.as_str() {
            "" => None,
            text => Some(whole(
                text,
                "password_complexity_options",
                "The minimum length",
            )?),
        };
        let size = whole(
            &self.history_size,
            "password_history",
            "The number of passwords remembered",
        )?;
        Ok(ConnectionChanges {
            disable_signup: Some(self.disable_signup),
            password_policy: Some(level),
            min_length: Some(min_length),
            dictionary: Some(PasswordDictionary {
                enable: self.dictionary_enable,
                entries: split_list(&self.dictionary),
            }),
            no_personal_info: Some(self.no_personal_info),
            history: Some(PasswordHistory {
                enable: self.history_enable,
                size,
            }),
        })
    }
}

fn page(
    dash: &Dash,
    status: StatusCode,
    connection: &DatabaseConnection,
    form: DatabaseForm,
    error: Option<FormError>,
) -> Response {
    let rules = password_policy::rules(connection);
    dash.render(
        status,
        "dashboard/database.html",
        SECTION,
        context! { connection, form, error, rules, levels => LEVELS },
    )
}

async fn show(dash: Dash) -> Response {
    match connection::find(&dash.app.cx).await {
        Ok(connection) => {
            let form = DatabaseForm::of(&connection);
            page(&dash, StatusCode::OK, &connection, form, None)
        }
        Err(error) => dash.fail(SECTION, error),
    }
}

async fn save(Posted { dash, form }: Posted) -> Response {
    let current = match connection::find(&dash.app.cx).await {
        Ok(connection) => connection,
        Err(error) => return dash.fail(SECTION, error),
    };
    let submitted = DatabaseForm::submitted(&form);
    let changes = match submitted.changes() {
        Ok(changes) => changes,
        Err(error) => {
            return page(
                &dash,
                StatusCode::BAD_REQUEST,
                &current,
                submitted,
                Some(error),
            )
        }
    };
    match connection::update(&dash.app.cx, &dash.actor(), changes).await {
        Ok(_) => dash.redirect(PATH, "Database settings saved."),
        Err(error) => match dash.refusal(error, SECTION, &[]) {
            Ok((status, error)) => page(&dash, status, &current, submitted, Some(error)),
            Err(page) => page,
        },
    }
}
