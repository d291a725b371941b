//! A user's identities (Auth0's `identities`): the primary one, which the user id names, and
//! those linked to it from other users. Linking moves a secondary user's identities to the
//! primary user and deletes the secondary; unlinking gives an identity a user of its own
//! again, as Auth0 does.

use portcullis_store::{FederatedIdentity, User};
use portcullis_types::Strategy;
use serde_json::{json, Map};

use super::{missing, Action, Actor, AdminError, Change, Context, Kind};
use crate::federation::{self, identity_user_id};

/// The identities linked to a user from other providers.
pub async fn linked(cx: &Context, user_id: &str) -> Result<Vec<FederatedIdentity>, AdminError> {
    Ok(federation::linked_identities(cx.store(), user_id).await?)
}

fn parse_provider(provider: &str) -> Result<Strategy, AdminError> {
    provider
        .parse()
        .map_err(|e: portcullis_types::UnknownValue| AdminError::invalid("provider", e.to_string()))
}

/// Links the user `<provider>|<user_id>` to `primary` (Auth0's `POST /users/{id}/identities`).
pub async fn link(
    cx: &Context,
    actor: &Actor,
    primary: &str,
    provider: &str,
    user_id: &str,
) -> Result<(), AdminError> {
    let provider = parse_provider(provider)?;
    let secondary = format!("{provider}|{user_id}");
    if secondary == primary {
        return Err(AdminError::invalid(
            "user_id",
            "Main identity and the new one are the same.",
        ));
    }
    let store = cx.store();
    store
        .user_by_id(primary)
        .await?
        .ok_or(AdminError::NotFound(Kind::User))?;
    store
        .user_by_id(&secondary)
        .await?
        .ok_or_else(|| AdminError::invalid("user_id", "The secondary user does not exist."))?;
    store
        .link_users(primary, &secondary)
        .await
        .map_err(missing(Kind::User))?;
    let change =
        Change::new(Action::Update, Kind::User, primary).with(json!({ "linked": secondary }));
    cx.record(actor, change).await;
    Ok(())
}

/// Unlinks identity `<provider>` `user_id` (Auth0's identity user id) from `primary`: it
/// becomes the user `<provider>|<user_id>` again, with the profile the provider last gave.
pub async fn unlink(
    cx: &Context,
    actor: &Actor,
    primary: &str,
    provider: &str,
    user_id: &str,
) -> Result<(), AdminError> {
    let provider = parse_provider(provider)?;
    let identity = linked(cx, primary)
        .await?
        .into_iter()
        .find(|i| {
            i.provider == provider
                && identity_user_id(i.provider, &i.connection, &i.upstream_id) == user_id
        })
        .ok_or(AdminError::NotFound(Kind::User))?;
    let now = cx.now();
    let text =
        |claim: &str| crate::federation::claim_text(&identity.profile, claim).unwrap_or_default();
    let email = text("email");
    let new_user = User {
        user_id: format!("{provider}|{user_id}"),
        email_verified: !email.is_empty() && text("email_verified") == "true",
        name: Some(text("name"))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| email.clone()),
        given_name: crate::profile::provider_name_part(Some(text("given_name"))),
        family_name: crate::profile::provider_name_part(Some(text("family_name"))),
        nickname: text("nickname"),
        picture: text("picture"),
        email,
        password_hash: String::new(),
        blocked: false,
        created_at: now,
        updated_at: now,
        last_login: None,
        logins_count: 0,
        user_metadata: Map::new(),
        app_metadata: Map::new(),
    };
    let moved = cx
        .store()
        .unlink_federated_identity(
            primary,
            &identity.connection,
            &identity.upstream_id,
            &new_user,
        )
        .await?;
    if !moved {
        return Err(AdminError::NotFound(Kind::User));
    }
    let change = Change::new(Action::Update, Kind::User, primary)
        .with(json!({ "unlinked": new_user.user_id }));
    cx.record(actor, change).await;
    Ok(())
}
