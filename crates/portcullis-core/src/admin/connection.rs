//! The database connection (Auth0's `Username-Password-Authentication`): its settings, changed
//! by administrators, and the two questions every surface that lets a user in asks of it:
//! may users sign themselves up ([`signup_allowed`]), and may this user choose this password
//! ([`check_password`], with [`remember_password`] after a change for the history).

use portcullis_store::{DatabaseConnection, PasswordDictionary, PasswordHistory, User};
use portcullis_types::{PasswordStrength, Secret};
use serde_json::json;

use super::{Action, Actor, AdminError, Change, Context, Kind};
use crate::password_policy::{self, Owner, MIN_LENGTH_RANGE};

/// The most words a custom password dictionary holds, and the longest word (Auth0's bounds).
pub const MAX_DICTIONARY_ENTRIES: usize = 200;
pub const MAX_DICTIONARY_WORD: usize = 50;

/// The bounds of the password history's size (Auth0's). Checking a password against the
/// history costs one argon2 verification per remembered password.
pub const HISTORY_SIZE_RANGE: std::ops::RangeInclusive<u32> = 1..=24;

/// The refusal of a password among the user's recent ones.
pub const PREVIOUSLY_USED: &str = "Password has previously been used.";

/// Changes to the connection: `None` leaves a setting as it is.
#[derive(Clone, Debug, Default)]
pub struct ConnectionChanges {
    pub disable_signup: Option<bool>,
    pub password_policy: Option<PasswordStrength>,
    /// `Some(None)` goes back to the level's own minimum length.
    pub min_length: Option<Option<u32>>,
    pub dictionary: Option<PasswordDictionary>,
    pub no_personal_info: Option<bool>,
    pub history: Option<PasswordHistory>,
}

impl ConnectionChanges {
    /// The names of the settings the change sets, as the Management API spells them.
    fn fields(&self) -> Vec<&'static str> {
        [
            ("disable_signup", self.disable_signup.is_some()),
            ("passwordPolicy", self.password_policy.is_some()),
            ("password_complexity_options", self.min_length.is_some()),
            ("password_dictionary", self.dictionary.is_some()),
            ("password_no_personal_info", self.no_personal_info.is_some()),
            ("password_history", self.history.is_some()),
        ]
        .into_iter()
        .filter_map(|(field, set)| set.then_some(field))
        .collect()
    }
}

/// The connection's settings.
pub async fn find(cx: &Context) -> Result<DatabaseConnection, AdminError> {
    Ok(cx.store().database_connection().await?)
}

/// Whether users may sign themselves up (the hosted sign-up page, `/dbconnections/signup`).
pub async fn signup_allowed(cx: &Context) -> Result<bool, AdminError> {
    Ok(!find(cx).await?.disable_signup)
}

/// Changes the connection's settings.
pub async fn update(
    cx: &Context,
    actor: &Actor,
    changes: ConnectionChanges,
) -> Result<DatabaseConnection, AdminError> {
    let fields = changes.fields();
    let mut connection = find(cx).await?;
    if let Some(disable) = changes.disable_signup {
        connection.disable_signup = disable;
    }
    if let Some(level) = changes.password_policy {
        connection.password_policy = level;
    }
    if let Some(min_length) = changes.min_length {
        if min_length.is_some_and(|length| !MIN_LENGTH_RANGE.contains(&length)) {
            return Err(AdminError::invalid(
                "password_complexity_options",
                format!(
                    "password_complexity_options.min_length must be between {} and {}",
                    MIN_LENGTH_RANGE.start(),
                    MIN_LENGTH_RANGE.end()
                ),
            ));
        }
        connection.min_length = min_length;
    }
    if let Some(dictionary) = changes.dictionary {
        connection.dictionary = checked_dictionary(dictionary)?;
    }
    if let Some(refuse) = changes.no_personal_info {
        connection.no_personal_info = refuse;
    }
    if let Some(history) = changes.history {
        if !HISTORY_SIZE_RANGE.contains(&history.size) {
            return Err(AdminError::invalid(
                "password_history",
                format!(
                    "password_history.size must be between {} and {}",
                    HISTORY_SIZE_RANGE.start(),
                    HISTORY_SIZE_RANGE.end()
                ),
            ));
        }
        connection.history = history;
    }
    cx.store().update_database_connection(&connection).await?;
    let change = Change::new(Action::Update, Kind::Connection, &connection.id).with(json!({
        "name": connection.name,
        "fields": fields,
        "disable_signup": connection.disable_signup,
        "passwordPolicy": connection.password_policy.as_str(),
    }));
    cx.record(actor, change).await;
    Ok(connection)
}

/// Trims the words, drops empty and repeated ones, and keeps within Auth0's bounds.
fn checked_dictionary(dictionary: PasswordDictionary) -> Result<PasswordDictionary, AdminError> {
    let mut entries: Vec<String> = Vec::new();
    for word in dictionary.entries {
        let word = word.trim().to_owned();
        if word.chars().count() > MAX_DICTIONARY_WORD {
            return Err(AdminError::invalid(
                "password_dictionary",
                format!("password_dictionary.dictionary: a word has more than {MAX_DICTIONARY_WORD} characters"),
            ));
        }
        if !word.is_empty() && !entries.contains(&word) {
            entries.push(word);
        }
    }
    if entries.len() > MAX_DICTIONARY_ENTRIES {
        return Err(AdminError::invalid(
            "password_dictionary",
            format!("password_dictionary.dictionary holds at most {MAX_DICTIONARY_ENTRIES} words"),
        ));
    }
    Ok(PasswordDictionary {
        enable: dictionary.enable,
        entries,
    })
}

/// Whether `user` may choose `password` under the connection's policy: its level and length,
/// the dictionary, the personal-information check against the user's profile, and (for a user
/// who exists) the history, which includes the current password. A refusal names the field
/// `password`. `user` may be the record of a user not stored yet (sign-up, creation).
pub async fn check_password(
    cx: &Context,
    user: &User,
    password: &Secret,
) -> Result<(), AdminError> {
    let connection = find(cx).await?;
    let owner = Owner {
        email: &user.email,
        name: &user.name,
        nickname: &user.nickname,
        user_metadata: Some(&user.user_metadata),
    };
    password_policy::check(&connection, password.expose_str(), &owner)
        .map_err(|refused| AdminError::invalid("password", refused.0))?;
    if connection.history.enable {
        let mut recent = vec![user.password_hash.clone()];
        let previous = connection.history.size.saturating_sub(1);
        if previous > 0 {
            recent.extend(cx.store().password_history(&user.user_id, previous).await?);
        }
        recent.retain(|hash| !hash.is_empty());
        if cx.passwords.matches_any(password, recent).await? {
            return Err(AdminError::invalid("password", PREVIOUSLY_USED));
        }
    }
    Ok(())
}

/// Remembers the password `user` had before a change, when the connection keeps a history:
/// with the current one, `size` passwords are refused.
pub async fn remember_password(cx: &Context, user: &User) -> Result<(), AdminError> {
    let connection = find(cx).await?;
    let keep = connection.history.size.saturating_sub(1);
    if connection.history.enable && keep > 0 && !user.password_hash.is_empty() {
        cx.store()
            .add_password_history(&user.user_id, &user.password_hash, keep)
            .await?;
    }
    Ok(())
}
