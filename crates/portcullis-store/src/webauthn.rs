//! WebAuthn: the credentials of security keys and passkeys, and the ceremonies under way.
//!
//! A WebAuthn authenticator is a row of the authenticators table (`crate::Authenticator`,
//! kind `webauthn-roaming` or `webauthn-platform`) whose `secret` holds the credential as the
//! WebAuthn library serialises it (a public key: nothing to seal) and whose `counter` is the
//! key's sign count. Its credential id is a unique column of its own, so that a passkey
//! sign-in, which names only the credential, finds its owner, and so that one key is never
//! enrolled twice. A ceremony's challenge is stored here rather than in a replica's memory,
//! so that any replica can finish what another started; it is taken once, by one DELETE.

use async_trait::async_trait;

use crate::{Authenticator, StoreResult, User};

/// A WebAuthn ceremony under way: its challenge and what the library needs to finish it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebauthnChallenge {
    /// SHA-256 of the ceremony's random id, which only the page that started it knows.
    pub id_hash: Vec<u8>,
    /// The login session the ceremony is bound to (a second factor, an enrolment), or `None`
    /// for a passkey sign-in, which starts without one.
    pub session_hash: Option<Vec<u8>>,
    /// The ceremony's state as the domain serialises it (it holds the challenge).
    pub state: String,
    pub expires_at: i64,
}

#[async_trait]
pub trait WebauthnRepository: Send + Sync {
    /// Stores a WebAuthn authenticator with its credential id; false, with nothing stored,
    /// when a credential of this id is enrolled already (by anyone).
    async fn insert_webauthn_authenticator(
        &self,
        authenticator: &Authenticator,
        credential_id: &str,
    ) -> StoreResult<bool>;
    /// Creates a user together with their first key (a sign-up with a passkey), in one
    /// transaction: neither is stored without the other. `Conflict` when the email is taken;
    /// false, with nothing stored, when the credential is enrolled already.
    async fn create_user_with_passkey(
        &self,
        user: &User,
        authenticator: &Authenticator,
        credential_id: &str,
    ) -> StoreResult<bool>;
    /// The confirmed authenticator of this credential id, whoever owns it.
    async fn authenticator_by_credential(
        &self,
        credential_id: &str,
    ) -> StoreResult<Option<Authenticator>>;
    /// Records a use of a WebAuthn authenticator: its sign count becomes `counter` and its
    /// stored credential `credential`, if, and only if, the count moved forward, or the key
    /// keeps no count (zero, before and now). False otherwise: a count that did not move
    /// forward is a cloned key's, or a replayed assertion's, and is refused.
    async fn use_webauthn_credential(
        &self,
        id: &str,
        counter: i64,
        credential: &[u8],
        now: i64,
    ) -> StoreResult<bool>;
    /// Stores a ceremony's challenge, and deletes the ones expired at `now`.
    async fn insert_webauthn_challenge(
        &self,
        challenge: &WebauthnChallenge,
        now: i64,
    ) -> StoreResult<()>;
    /// How many ceremonies are live at `now` (what the table holds that may still be used).
    async fn live_webauthn_challenges(&self, now: i64) -> StoreResult<i64>;
    /// Takes the ceremony of this id, once: it is deleted whether or not it is still live;
    /// `None` when there is none or it expired at `now`.
    async fn take_webauthn_challenge(
        &self,
        id_hash: &[u8],
        now: i64,
    ) -> StoreResult<Option<WebauthnChallenge>>;
}
