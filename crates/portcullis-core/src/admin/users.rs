//! Users of the database connection: created by an administrator or by sign-up, changed,
//! blocked and deleted. A new password, a block or a deletion ends the user's sessions,
//! revokes their refresh tokens and deletes their opaque tokens.

use portcullis_store::User;
use portcullis_types::Secret;
use serde_json::{json, Map, Value};

use super::{
    conflict_as, connection, missing, validate, Action, Actor, AdminError, Change, Context, Kind,
    MetadataChange,
};
use crate::{
    profile::{self, NamePart},
    secrets::random_hex,
    sign_in::{self, LoginBlock},
};

/// What it takes to create a user.
#[derive(Clone, Debug, Default)]
pub struct NewUser {
    pub email: String,
    pub password: Secret,
    pub email_verified: bool,
    pub name: Option<String>,
    /// At most 150 characters ([`crate::profile`]); empty is none.
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub nickname: Option<String>,
    pub picture: Option<String>,
    pub blocked: bool,
    pub user_metadata: Map<String, Value>,
    pub app_metadata: Map<String, Value>,
}

/// Changes to a user: `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct UserChanges {
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub password: Option<Secret>,
    pub name: Option<String>,
    /// `Some(None)` clears the given name.
    pub given_name: Option<Option<String>>,
    /// `Some(None)` clears the family name.
    pub family_name: Option<Option<String>>,
    pub nickname: Option<String>,
    pub picture: Option<String>,
    pub blocked: Option<bool>,
    pub user_metadata: Option<MetadataChange>,
    pub app_metadata: Option<MetadataChange>,
}

impl UserChanges {
    /// The names of the fields the change sets (for the log; never their values).
    fn fields(&self) -> Vec<&'static str> {
        [
            ("blocked", self.blocked.is_some()),
            ("email_verified", self.email_verified.is_some()),
            ("email", self.email.is_some()),
            ("password", self.password.is_some()),
            ("name", self.name.is_some()),
            ("given_name", self.given_name.is_some()),
            ("family_name", self.family_name.is_some()),
            ("nickname", self.nickname.is_some()),
            ("picture", self.picture.is_some()),
            ("user_metadata", self.user_metadata.is_some()),
            ("app_metadata", self.app_metadata.is_some()),
        ]
        .into_iter()
        .filter_map(|(field, set)| set.then_some(field))
        .collect()
    }

    /// What the change does, for the log: blocking or unblocking when that is all it does.
    fn action(&self) -> Action {
        let only_blocked = self.email.is_none()
            && self.email_verified.is_none()
            && self.password.is_none()
            && self.name.is_none()
            && self.given_name.is_none()
            && self.family_name.is_none()
            && self.nickname.is_none()
            && self.picture.is_none()
            && self.user_metadata.is_none()
            && self.app_metadata.is_none();
        match (only_blocked, self.blocked) {
            (true, Some(true)) => Action::Block,
            (true, Some(false)) => Action::Unblock,
            _ => Action::Update,
        }
    }
}

const EMAIL_TAKEN: &str = "The user already exists.";
const NEW_EMAIL_TAKEN: &str = "The specified new email already exists";

fn described(action: Action, user: &User) -> Change {
    Change::new(action, Kind::User, &user.user_id).with(json!({
        "email": user.email,
        "name": user.name,
        "email_verified": user.email_verified,
        "blocked": user.blocked,
    }))
}

/// Checks `new` and makes the user record, its password checked against the connection's
/// policy and hashed; nothing is stored.
pub(crate) async fn build(cx: &Context, new: NewUser) -> Result<User, AdminError> {
    let password = new.password.clone();
    let mut user = user_record(cx, new)?;
    connection::check_password(cx, &user, &password).await?;
    refuse_taken(cx, &user.email).await?;
    user.password_hash = cx.passwords.hash(&password).await?;
    Ok(user)
}

/// Checks `new` and makes the record of a user without a password (who signs in with a
/// passkey, and can choose a password later through a reset); nothing is stored.
pub(crate) async fn build_passwordless(cx: &Context, new: NewUser) -> Result<User, AdminError> {
    let user = user_record(cx, new)?;
    refuse_taken(cx, &user.email).await?;
    Ok(user)
}

/// `Conflict` on `email` when a user has it.
async fn refuse_taken(cx: &Context, email: &str) -> Result<(), AdminError> {
    if cx.store().user_by_email(email).await?.is_some() {
        return Err(AdminError::conflict("email", EMAIL_TAKEN));
    }
    Ok(())
}

/// The user record `new` describes, its fields checked, without a password hash.
fn user_record(cx: &Context, new: NewUser) -> Result<User, AdminError> {
    let email = new.email.trim().to_owned();
    validate::check_email(&email)?;
    if let Some(picture) = new.picture.as_deref().filter(|p| !p.is_empty()) {
        validate::url("picture", picture)?;
    }
    let empty = Map::new();
    let user_metadata = MetadataChange::Merge(new.user_metadata).apply("user_metadata", &empty)?;
    let app_metadata = MetadataChange::Merge(new.app_metadata).apply("app_metadata", &empty)?;
    let given_name = profile::name_part(NamePart::Given, new.given_name)?;
    let family_name = profile::name_part(NamePart::Family, new.family_name)?;
    let now = cx.now();
    let local_part = email.split('@').next().unwrap_or_default().to_owned();
    Ok(User {
        user_id: format!("auth0|{}", random_hex(12)),
        name: new.name.unwrap_or_else(|| email.clone()),
        given_name,
        family_name,
        nickname: new.nickname.unwrap_or(local_part),
        picture: new.picture.unwrap_or_default(),
        email,
        email_verified: new.email_verified,
        password_hash: String::new(),
        blocked: new.blocked,
        created_at: now,
        updated_at: now,
        last_login: None,
        logins_count: 0,
        user_metadata,
        app_metadata,
    })
}

/// Stores a user [`build`] made. `Conflict` on `email` when it is taken.
pub(crate) async fn insert(cx: &Context, user: &User) -> Result<(), AdminError> {
    cx.store()
        .create_user(user)
        .await
        .map_err(conflict_as("email", EMAIL_TAKEN))
}

/// Creates a database user.
pub async fn create(cx: &Context, actor: &Actor, new: NewUser) -> Result<User, AdminError> {
    let user = build(cx, new).await?;
    insert(cx, &user).await?;
    cx.record(actor, described(Action::Create, &user)).await;
    Ok(user)
}

/// Updates a user; metadata changes follow [`MetadataChange`]; a new password is checked
/// against the connection's policy (its history included) and hashed, and the old one joins
/// the history. `Conflict` when the new email belongs to another user.
pub async fn update(
    cx: &Context,
    actor: &Actor,
    user_id: &str,
    changes: UserChanges,
) -> Result<User, AdminError> {
    let action = changes.action();
    let fields = changes.fields();
    // A new password or a block ends what the old credentials or the user had opened.
    let ends_sessions = changes.password.is_some() || changes.blocked == Some(true);
    let mut user = cx
        .store()
        .user_by_id(user_id)
        .await?
        .ok_or(AdminError::NotFound(Kind::User))?;
    if let Some(email) = changes.email {
        let email = email.trim().to_owned();
        validate::check_email(&email)?;
        if !email.eq_ignore_ascii_case(&user.email) {
            if cx.store().user_by_email(&email).await?.is_some() {
                return Err(AdminError::conflict("email", NEW_EMAIL_TAKEN));
            }
            // A new address is not verified unless the change says so.
            user.email_verified = false;
        }
        user.email = email;
    }
    if let Some(verified) = changes.email_verified {
        user.email_verified = verified;
    }
    if let Some(name) = changes.name {
        user.name = name;
    }
    if let Some(given_name) = changes.given_name {
        user.given_name = profile::name_part(NamePart::Given, given_name)?;
    }
    if let Some(family_name) = changes.family_name {
        user.family_name = profile::name_part(NamePart::Family, family_name)?;
    }
    if let Some(nickname) = changes.nickname {
        user.nickname = nickname;
    }
    if let Some(picture) = changes.picture {
        if !picture.is_empty() {
            validate::url("picture", &picture)?;
        }
        user.picture = picture;
    }
    if let Some(blocked) = changes.blocked {
        user.blocked = blocked;
    }
    if let Some(change) = changes.user_metadata {
        user.user_metadata = change.apply("user_metadata", &user.user_metadata)?;
    }
    if let Some(change) = changes.app_metadata {
        user.app_metadata = change.apply("app_metadata", &user.app_metadata)?;
    }
    if let Some(password) = changes.password {
        // Checked against the profile as changed, and against the password it replaces.
        connection::check_password(cx, &user, &password).await?;
        let new_hash = cx.passwords.hash(&password).await?;
        connection::remember_password(cx, &user).await?;
        user.password_hash = new_hash;
    }
    user.updated_at = cx.now();
    cx.store()
        .update_user(&user)
        .await
        .map_err(conflict_as("email", NEW_EMAIL_TAKEN))?;
    if ends_sessions {
        cx.store().end_user_sessions(&user.user_id).await?;
    }
    let change = described(action, &user).with(json!({ "fields": fields }));
    cx.record(actor, change).await;
    Ok(user)
}

/// The user with this id.
pub async fn find(cx: &Context, user_id: &str) -> Result<User, AdminError> {
    cx.store()
        .user_by_id(user_id)
        .await?
        .ok_or(AdminError::NotFound(Kind::User))
}

/// Deletes a user, their roles and their permissions, and ends their sessions and tokens.
pub async fn delete(cx: &Context, actor: &Actor, user_id: &str) -> Result<(), AdminError> {
    let user = cx
        .store()
        .user_by_id(user_id)
        .await?
        .ok_or(AdminError::NotFound(Kind::User))?;
    cx.store().end_user_sessions(user_id).await?;
    cx.store()
        .delete_user(user_id)
        .await
        .map_err(missing(Kind::User))?;
    cx.record(actor, described(Action::Delete, &user)).await;
    Ok(())
}

/// The addresses `identifier` (an email) is blocked for on the login page after too many
/// failed logins (Auth0's user blocks).
pub async fn login_blocks(cx: &Context, identifier: &str) -> Result<Vec<LoginBlock>, AdminError> {
    Ok(sign_in::login_blocks(cx.store(), &cx.throttle, identifier, cx.now()).await?)
}

/// The login blocks of a user's email; `NotFound` when there is no such user.
pub async fn login_blocks_of(cx: &Context, user_id: &str) -> Result<Vec<LoginBlock>, AdminError> {
    let user = find(cx, user_id).await?;
    login_blocks(cx, &user.email).await
}

/// Unblocks `identifier` (an email) from every address: its failed logins are forgotten.
/// Blocking a user (`blocked`) is another thing, which this leaves as it is.
pub async fn clear_login_blocks(
    cx: &Context,
    actor: &Actor,
    identifier: &str,
) -> Result<(), AdminError> {
    let identifier = identifier.trim();
    let user = cx.store().user_by_email(identifier).await?;
    let id = user.map_or_else(|| identifier.to_owned(), |user| user.user_id);
    record_cleared(cx, actor, &id, identifier).await
}

/// [`clear_login_blocks`] for a user's email; `NotFound` when there is no such user.
pub async fn clear_login_blocks_of(
    cx: &Context,
    actor: &Actor,
    user_id: &str,
) -> Result<(), AdminError> {
    let user = find(cx, user_id).await?;
    record_cleared(cx, actor, &user.user_id, &user.email).await
}

async fn record_cleared(
    cx: &Context,
    actor: &Actor,
    id: &str,
    identifier: &str,
) -> Result<(), AdminError> {
    let addresses = sign_in::clear_login_blocks(cx.store(), identifier).await?;
    let change = Change::new(Action::RemoveLoginBlocks, Kind::User, id)
        .with(json!({ "identifier": identifier, "addresses": addresses }));
    cx.record(actor, change).await;
    Ok(())
}
