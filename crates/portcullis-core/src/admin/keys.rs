//! Rotating the signing keys, as an administrative change.

use serde_json::json;

use super::{Action, Actor, AdminError, Change, Context, Kind};
use crate::keys::{self, KeyCipher};

/// Rotates: the waiting `next` key starts signing, the current one stays published for
/// `keep_previous_for` seconds, a new `next` key is published. Returns the kid that now signs.
pub async fn rotate(
    cx: &Context,
    actor: &Actor,
    cipher: &KeyCipher,
    keep_previous_for: i64,
) -> Result<String, AdminError> {
    let kid = keys::rotate(cx.store(), cx.clock.as_ref(), cipher, keep_previous_for).await?;
    let change =
        Change::new(Action::Rotate, Kind::SigningKeys, &kid).with(json!({ "current_kid": kid }));
    cx.record(actor, change).await;
    Ok(kid)
}
