//! Users' consents to applications (Auth0's user grants): listed, and revoked one at a time
//! or all of a user's at once. Revoking a consent also revokes the refresh tokens the user
//! holds at its application, as Auth0 does, so that the application's access ends with the
//! consent and the user is asked again at its next request.

use portcullis_store::{Consent, ConsentFilter, Page};
use serde_json::json;

use super::{missing, Action, Actor, AdminError, Change, Context, Kind};

fn described(action: Action, consent: &Consent) -> Change {
    Change::new(action, Kind::UserGrant, &consent.id).with(json!({
        "user_id": consent.user_id,
        "client_id": consent.client_id,
        "audience": consent.audience,
        "scope": consent.scope.iter().collect::<Vec<_>>(),
    }))
}

/// The consents matching `filter`, oldest first, and how many match.
pub async fn list(
    cx: &Context,
    filter: &ConsentFilter,
    page: Page,
) -> Result<(Vec<Consent>, u64), AdminError> {
    Ok(cx.store().list_consents(filter, page).await?)
}

/// The consent with this id.
pub async fn find(cx: &Context, id: &str) -> Result<Consent, AdminError> {
    cx.store()
        .consent_by_id(id)
        .await?
        .ok_or(AdminError::NotFound(Kind::UserGrant))
}

/// Revokes one consent.
pub async fn revoke(cx: &Context, actor: &Actor, id: &str) -> Result<(), AdminError> {
    let consent = find(cx, id).await?;
    cx.store()
        .delete_consent(id)
        .await
        .map_err(missing(Kind::UserGrant))?;
    end_access(cx, &consent).await?;
    cx.record(actor, described(Action::Delete, &consent)).await;
    Ok(())
}

/// Revokes every consent of a user; returns how many there were. A user without consents, or
/// one that does not exist, has none to revoke.
pub async fn revoke_all(cx: &Context, actor: &Actor, user_id: &str) -> Result<usize, AdminError> {
    if user_id.trim().is_empty() {
        return Err(AdminError::invalid("user_id", "user_id is required"));
    }
    let filter = ConsentFilter {
        user_id: Some(user_id.to_owned()),
        ..ConsentFilter::default()
    };
    let (consents, _) = cx.store().list_consents(&filter, Page::ALL).await?;
    cx.store().delete_consents(&filter).await?;
    for consent in &consents {
        end_access(cx, consent).await?;
        cx.record(actor, described(Action::Delete, consent)).await;
    }
    Ok(consents.len())
}

/// Revokes the refresh tokens the consent's user holds at its application.
async fn end_access(cx: &Context, consent: &Consent) -> Result<(), AdminError> {
    Ok(cx
        .store()
        .revoke_user_client_families(&consent.user_id, &consent.client_id)
        .await?)
}
