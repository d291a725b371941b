//! WebAuthn security keys and passkeys: the ceremonies, with `webauthn-rs` (no CBOR, COSE or
//! signature code of ours).
//!
//! Three ceremonies, each in two steps (options for the browser, then its answer):
//! - **registration** of a key for an owner (a second factor, or a passkey to sign in with):
//!   the key is asked for user verification and to be discoverable when it is a platform
//!   authenticator (`webauthn-platform`), so that the same key can later sign in alone;
//! - **authentication** of an owner with one of their keys (the second factor after a
//!   password);
//! - **discoverable sign-in**: the browser offers whichever passkey of this site the person
//!   picks, and the key names its credential, hence its owner.
//!
//! Every ceremony's state (its challenge) is stored server-side (`WebauthnRepository`) under
//! the hash of a random ceremony id given to the page, bound to the login session where there
//! is one, taken once (single use) and refused after [`CEREMONY_LIFETIME`]. A key's sign
//! count is checked by the library against the stored credential and moved forward by one
//! conditional UPDATE, so a count that goes back (a cloned key) is refused even when two
//! replicas race.
//!
//! This module knows nothing of HTTP: the user's hosted pages use it, and so can the
//! administrators' dashboard with an `MfaOwner::Admin`.

use aws_lc_rs::digest;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use portcullis_store::{Authenticator, MfaOwner, Store, StoreError, WebauthnChallenge};
use portcullis_types::MfaFactor;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

use super::{enrol::new_id, MfaError};
use crate::secrets::{lookup_hash, random_alphanumeric, random_token};

/// How long a ceremony's challenge stays usable: the time to touch a key, with room for a
/// PIN or a fingerprint (the browser's own timeout is shorter).
pub const CEREMONY_LIFETIME: i64 = 300;

/// Whether a factor is a WebAuthn key.
pub const fn is_webauthn(kind: MfaFactor) -> bool {
    matches!(
        kind,
        MfaFactor::WebauthnRoaming | MfaFactor::WebauthnPlatform
    )
}

/// The relying party: this server as WebAuthn sees it. Its id is the issuer's host and the
/// one origin it accepts is the issuer's origin, so a key enrolled here answers nowhere else.
#[derive(Clone, Debug)]
pub struct RelyingParty {
    webauthn: Webauthn,
}

impl RelyingParty {
    /// The relying party of `issuer` (an absolute http(s) URL whose host is a domain name:
    /// browsers refuse an IP address as a relying party id).
    pub fn for_issuer(issuer: &str) -> Result<Self, MfaError> {
        let origin = Url::parse(issuer).map_err(|e| MfaError::Webauthn(e.to_string()))?;
        let host = origin
            .domain()
            .ok_or_else(|| MfaError::Webauthn("the issuer's host is not a domain name".into()))?
            .to_owned();
        let webauthn = WebauthnBuilder::new(&host, &origin)
            .and_then(|builder| builder.rp_name(&host).build())
            .map_err(|e| MfaError::Webauthn(e.to_string()))?;
        Ok(RelyingParty { webauthn })
    }
}

/// What the page needs to run a ceremony: its id (posted back with the browser's answer)
/// and the options for `navigator.credentials` as JSON (WebAuthn's JSON encoding, which
/// `PublicKeyCredential.parseCreationOptionsFromJSON` and its request twin read).
#[derive(Debug, Serialize)]
pub struct Started {
    pub ceremony: String,
    pub options: serde_json::Value,
}

/// The browser's answer to a ceremony: the ceremony's id and the `PublicKeyCredential` as its
/// `toJSON()` gives it.
#[derive(Clone, Copy, Debug)]
pub struct Answer<'a> {
    pub ceremony: &'a str,
    pub credential: &'a str,
}

/// Why a ceremony's answer was refused; a store failure is not a refusal.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Unknown, used, expired, or started by another session or for another purpose.
    #[error("the WebAuthn ceremony is unknown or expired")]
    Ceremony,
    /// The browser's answer does not parse or does not verify (signature, origin, challenge,
    /// user verification, a sign count that went back), or names a key that is not usable.
    #[error("the security key's answer was refused: {0}")]
    Credential(String),
    /// The key is enrolled already (registration).
    #[error("this security key is enrolled already")]
    Duplicate,
    #[error(transparent)]
    Failed(#[from] MfaError),
}

impl From<StoreError> for Refusal {
    fn from(error: StoreError) -> Self {
        Refusal::Failed(MfaError::Store(error))
    }
}

/// A ceremony's state as stored with its challenge.
#[derive(Serialize, Deserialize)]
#[serde(tag = "ceremony", rename_all = "snake_case")]
enum Ceremony {
    Register {
        owner: String,
        kind: MfaFactor,
        state: PasskeyRegistration,
    },
    Authenticate {
        owner: String,
        state: PasskeyAuthentication,
    },
    SignIn {
        state: DiscoverableAuthentication,
    },
    /// A new account's first key: the account is created only once the key's answer
    /// verifies, with the id whose user handle the key holds.
    SignUp {
        user_id: String,
        email: String,
        state: PasskeyRegistration,
    },
}

impl Refusal {
    /// A browser's answer that does not parse or verify, with the reason.
    fn credential(error: impl std::fmt::Display) -> Self {
        Refusal::Credential(error.to_string())
    }

    /// The refusal as the brute-force counters (`SignIn::check_code`) take it: a refused
    /// answer is a wrong attempt (`Ok(None)`), a failure of ours is reported as the store's.
    pub fn counted<T>(self) -> Result<Option<T>, StoreError> {
        match self {
            Refusal::Failed(MfaError::Store(error)) => Err(error),
            Refusal::Failed(error) => Err(StoreError::Backend(error.to_string())),
            refusal => {
                tracing::info!(%refusal, "a WebAuthn answer was refused");
                Ok(None)
            }
        }
    }
}

/// The longest name a key's owner may give it, in characters.
pub const KEY_NAME_MAX: usize = 60;

/// The name a key is listed under: the one its owner typed (trimmed, without control
/// characters, at most [`KEY_NAME_MAX`] characters), or the kind's label when none was.
pub fn key_name(kind: MfaFactor, typed: Option<&str>) -> String {
    let typed: String = typed
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(KEY_NAME_MAX)
        .collect();
    match typed.trim() {
        "" => kind.label().to_owned(),
        name => name.to_owned(),
    }
}

/// The browser's answer to a ceremony, parsed.
fn parse_answer<T: serde::de::DeserializeOwned>(answer: &Answer<'_>) -> Result<T, Refusal> {
    serde_json::from_str(answer.credential).map_err(Refusal::credential)
}

/// Refuses to finish a ceremony for someone other than the owner it was started for.
fn same_owner(started_for: &str, owner: &MfaOwner) -> Result<(), Refusal> {
    if started_for == owner_key(owner) {
        Ok(())
    } else {
        Err(Refusal::Ceremony)
    }
}

/// An owner as a ceremony records it: the kind of owner and the id, which cannot be confused
/// (a user id never starts with `admin:`).
fn owner_key(owner: &MfaOwner) -> String {
    match owner {
        MfaOwner::User(id) => format!("user:{id}"),
        MfaOwner::Admin(id) => format!("admin:{id}"),
    }
}

/// The WebAuthn user handle of an owner: stable, and no personal data (a hash of the id).
fn user_handle(owner: &MfaOwner) -> Uuid {
    let hash = digest::digest(&digest::SHA256, owner_key(owner).as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash.as_ref()[..16]);
    Uuid::from_bytes(bytes)
}

/// A credential id as the authenticators table stores it: base64url, unpadded.
pub(super) fn credential_key(raw: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(raw)
}

/// Options as the browser's JSON parsers read them: absent members left out rather than
/// `null`, which WebIDL refuses where it expects a list or a string.
fn options_json(options: &impl Serialize) -> Result<serde_json::Value, MfaError> {
    fn without_nulls(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                map.retain(|_, member| !member.is_null());
                map.values_mut().for_each(without_nulls);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(without_nulls),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(options).map_err(|e| MfaError::Webauthn(e.to_string()))?;
    without_nulls(&mut value);
    Ok(value)
}

async fn store_ceremony(
    store: &dyn Store,
    ceremony: &Ceremony,
    session_hash: Option<&[u8]>,
    now: i64,
) -> Result<String, MfaError> {
    let id = random_token(32);
    let state = serde_json::to_string(ceremony).map_err(|e| MfaError::Webauthn(e.to_string()))?;
    store
        .insert_webauthn_challenge(
            &WebauthnChallenge {
                id_hash: lookup_hash(&id),
                session_hash: session_hash.map(<[u8]>::to_vec),
                state,
                expires_at: now + CEREMONY_LIFETIME,
            },
            now,
        )
        .await?;
    Ok(id)
}

/// Takes the ceremony `id` once; refused unless it is live and bound to `session_hash`.
async fn take_ceremony(
    store: &dyn Store,
    id: &str,
    session_hash: Option<&[u8]>,
    now: i64,
) -> Result<Ceremony, Refusal> {
    let taken = store.take_webauthn_challenge(&lookup_hash(id), now).await?;
    let Some(challenge) = taken else {
        return Err(Refusal::Ceremony);
    };
    if challenge.session_hash.as_deref() != session_hash {
        return Err(Refusal::Ceremony);
    }
    serde_json::from_str(&challenge.state).map_err(|_| Refusal::Ceremony)
}

/// The credential an authenticator of a WebAuthn kind stores.
pub(super) fn stored_passkey(authenticator: &Authenticator) -> Option<Passkey> {
    serde_json::from_slice(authenticator.secret.as_deref()?).ok()
}

/// Who is registering a key: the owner and the names the browser shows.
#[derive(Clone, Copy, Debug)]
pub struct Registrant<'a> {
    pub owner: &'a MfaOwner,
    /// The account's name (an email address).
    pub name: &'a str,
    pub display_name: &'a str,
}

/// Starts registering a key of `kind` for the registrant, bound to `session_hash`. Keys the
/// owner has already are excluded (the browser says so instead of enrolling one twice). A
/// platform key is asked to be discoverable (a passkey), a roaming one only if it can.
pub async fn start_registration(
    rp: &RelyingParty,
    store: &dyn Store,
    who: Registrant<'_>,
    kind: MfaFactor,
    session_hash: Option<&[u8]>,
    now: i64,
) -> Result<Started, MfaError> {
    let existing: Vec<_> = store
        .authenticators(who.owner)
        .await?
        .iter()
        .filter(|a| is_webauthn(a.kind))
        .filter_map(stored_passkey)
        .map(|passkey| passkey.cred_id().clone())
        .collect();
    let (options, state) = rp
        .webauthn
        .start_passkey_registration(
            user_handle(who.owner),
            who.name,
            who.display_name,
            Some(existing),
        )
        .map_err(|e| MfaError::Webauthn(e.to_string()))?;
    let mut options = options_json(&options)?;
    // The library leaves the kind of authenticator and discoverability to the browser; the
    // factors the tenant enables tell them apart (the library's verification does not depend
    // on either).
    let (attachment, resident_key) = match kind {
        MfaFactor::WebauthnPlatform => ("platform", "required"),
        _ => ("cross-platform", "preferred"),
    };
    if let Some(selection) = options
        .pointer_mut("/publicKey/authenticatorSelection")
        .and_then(serde_json::Value::as_object_mut)
    {
        selection.insert("authenticatorAttachment".into(), attachment.into());
        selection.insert("residentKey".into(), resident_key.into());
        selection.insert(
            "requireResidentKey".into(),
            (resident_key == "required").into(),
        );
    }
    let ceremony = Ceremony::Register {
        owner: owner_key(who.owner),
        kind,
        state,
    };
    let id = store_ceremony(store, &ceremony, session_hash, now).await?;
    Ok(Started {
        ceremony: id,
        options,
    })
}

/// Finishes a registration: the new key, confirmed, of the kind the ceremony was started for,
/// named `name` when its owner gave one ([`key_name`]).
pub async fn finish_registration(
    rp: &RelyingParty,
    store: &dyn Store,
    (owner, name): (&MfaOwner, Option<&str>),
    answer: Answer<'_>,
    session_hash: Option<&[u8]>,
    now: i64,
) -> Result<Authenticator, Refusal> {
    let Ceremony::Register {
        owner: started_for,
        kind,
        state,
    } = take_ceremony(store, answer.ceremony, session_hash, now).await?
    else {
        return Err(Refusal::Ceremony);
    };
    same_owner(&started_for, owner)?;
    let credential: RegisterPublicKeyCredential = parse_answer(&answer)?;
    let passkey = rp
        .webauthn
        .finish_passkey_registration(&credential, &state)
        .map_err(Refusal::credential)?;
    let name = key_name(kind, name);
    let (authenticator, credential_id) = new_key(new_id(kind), owner, kind, &name, &passkey, now)?;
    if !store
        .insert_webauthn_authenticator(&authenticator, &credential_id)
        .await?
    {
        return Err(Refusal::Duplicate);
    }
    Ok(authenticator)
}

/// A verified new key as the authenticators table stores it, and its credential id.
fn new_key(
    id: String,
    owner: &MfaOwner,
    kind: MfaFactor,
    name: &str,
    passkey: &Passkey,
    now: i64,
) -> Result<(Authenticator, String), MfaError> {
    let secret = serde_json::to_vec(passkey).map_err(|e| MfaError::Webauthn(e.to_string()))?;
    let authenticator = Authenticator {
        id,
        owner: owner.clone(),
        kind,
        name: Some(name.to_owned()),
        confirmed: true,
        secret: Some(secret),
        counter: 0,
        created_at: now,
        last_used_at: None,
    };
    Ok((authenticator, credential_key(passkey.cred_id())))
}

/// The owner's usable keys: confirmed WebAuthn authenticators of an `accepted` kind.
fn usable_keys<'a>(
    authenticators: &'a [Authenticator],
    accepted: &'a [MfaFactor],
) -> impl Iterator<Item = (&'a Authenticator, Passkey)> + 'a {
    authenticators
        .iter()
        .filter(|a| a.confirmed && is_webauthn(a.kind) && accepted.contains(&a.kind))
        .filter_map(|a| stored_passkey(a).map(|passkey| (a, passkey)))
}

/// Whether the owner has a usable key of an `accepted` kind.
pub fn has_key(authenticators: &[Authenticator], accepted: &[MfaFactor]) -> bool {
    usable_keys(authenticators, accepted).next().is_some()
}

/// Starts authenticating the owner with one of their keys of an `accepted` kind (the second
/// factor), bound to `session_hash`; `None` when they have none.
pub async fn start_authentication(
    rp: &RelyingParty,
    store: &dyn Store,
    owner: &MfaOwner,
    accepted: &[MfaFactor],
    session_hash: Option<&[u8]>,
    now: i64,
) -> Result<Option<Started>, MfaError> {
    let authenticators = store.authenticators(owner).await?;
    let keys: Vec<Passkey> = usable_keys(&authenticators, accepted)
        .map(|(_, passkey)| passkey)
        .collect();
    if keys.is_empty() {
        return Ok(None);
    }
    let (options, state) = rp
        .webauthn
        .start_passkey_authentication(&keys)
        .map_err(|e| MfaError::Webauthn(e.to_string()))?;
    let ceremony = Ceremony::Authenticate {
        owner: owner_key(owner),
        state,
    };
    let id = store_ceremony(store, &ceremony, session_hash, now).await?;
    Ok(Some(Started {
        ceremony: id,
        options: options_json(&options)?,
    }))
}

/// Checks the assertion, then records the key's use: its sign count must move forward (or
/// stay at zero for a key that keeps none), decided by one conditional UPDATE.
async fn record_use(
    store: &dyn Store,
    authenticator: &Authenticator,
    mut passkey: Passkey,
    result: &webauthn_rs::prelude::AuthenticationResult,
    now: i64,
) -> Result<(), Refusal> {
    passkey.update_credential(result);
    let secret = serde_json::to_vec(&passkey).map_err(|e| MfaError::Webauthn(e.to_string()))?;
    let counter = i64::from(result.counter());
    if store
        .use_webauthn_credential(&authenticator.id, counter, &secret, now)
        .await?
    {
        Ok(())
    } else {
        Err(Refusal::Credential(
            "the sign count did not move forward".into(),
        ))
    }
}

/// Finishes authenticating the owner: the factor (the key's kind) they passed.
pub async fn finish_authentication(
    rp: &RelyingParty,
    store: &dyn Store,
    owner: &MfaOwner,
    accepted: &[MfaFactor],
    answer: Answer<'_>,
    session_hash: Option<&[u8]>,
    now: i64,
) -> Result<MfaFactor, Refusal> {
    let Ceremony::Authenticate {
        owner: started_for,
        state,
    } = take_ceremony(store, answer.ceremony, session_hash, now).await?
    else {
        return Err(Refusal::Ceremony);
    };
    same_owner(&started_for, owner)?;
    let credential: PublicKeyCredential = parse_answer(&answer)?;
    let result = rp
        .webauthn
        .finish_passkey_authentication(&credential, &state)
        .map_err(Refusal::credential)?;
    let authenticators = store.authenticators(owner).await?;
    let (authenticator, passkey) = usable_keys(&authenticators, accepted)
        .find(|(_, passkey)| passkey.cred_id() == result.cred_id())
        .ok_or_else(|| Refusal::Credential("the key is not usable".into()))?;
    record_use(store, authenticator, passkey, &result, now).await?;
    Ok(authenticator.kind)
}

/// Starts a passkey sign-in: no owner yet, the browser lets the person pick a passkey.
pub async fn start_sign_in(
    rp: &RelyingParty,
    store: &dyn Store,
    now: i64,
) -> Result<Started, MfaError> {
    let (options, state) = rp
        .webauthn
        .start_discoverable_authentication()
        .map_err(|e| MfaError::Webauthn(e.to_string()))?;
    let mut options = options_json(&options)?;
    // The library asks for conditional mediation (the autofill prompt); the page chooses
    // it, or the modal prompt of the button, itself.
    if let Some(object) = options.as_object_mut() {
        object.remove("mediation");
    }
    let id = store_ceremony(store, &Ceremony::SignIn { state }, None, now).await?;
    Ok(Started {
        ceremony: id,
        options,
    })
}

/// A passkey sign-in that verified: whose key, and which.
#[derive(Debug)]
pub struct SignedIn {
    pub owner: MfaOwner,
    pub kind: MfaFactor,
}

/// Finishes a passkey sign-in: the key's owner, found by the credential the key names and
/// checked against the user handle it returned. With user verification (which the ceremony
/// requires) a passkey is two factors at once: something the person has (the key) and
/// something they know or are (its PIN or biometrics).
pub async fn finish_sign_in(
    rp: &RelyingParty,
    store: &dyn Store,
    accepted: &[MfaFactor],
    answer: Answer<'_>,
    now: i64,
) -> Result<SignedIn, Refusal> {
    let Ceremony::SignIn { state } = take_ceremony(store, answer.ceremony, None, now).await? else {
        return Err(Refusal::Ceremony);
    };
    let credential: PublicKeyCredential = parse_answer(&answer)?;
    let (handle, raw_id) = rp
        .webauthn
        .identify_discoverable_authentication(&credential)
        .map_err(Refusal::credential)?;
    let unknown = || Refusal::Credential("no usable key of this credential".into());
    let authenticator = store
        .authenticator_by_credential(&credential_key(raw_id))
        .await?
        .filter(|a| is_webauthn(a.kind) && accepted.contains(&a.kind))
        .filter(|a| user_handle(&a.owner) == handle)
        .ok_or_else(unknown)?;
    let passkey = stored_passkey(&authenticator).ok_or_else(unknown)?;
    let result = rp
        .webauthn
        .finish_discoverable_authentication_v2(&credential, state, &passkey)
        .map_err(Refusal::credential)?;
    record_use(store, &authenticator, passkey, &result, now).await?;
    Ok(SignedIn {
        owner: authenticator.owner,
        kind: authenticator.kind,
    })
}

/// Auth0's authentication method type of a passkey a person signed up with (the prefix of
/// its id): a key of the `webauthn-platform` kind that is also the account's first way in.
pub const PASSKEY_TYPE: &str = "passkey";

/// Whether an authenticator is the passkey its owner signed up with.
pub fn is_signup_passkey(authenticator: &Authenticator) -> bool {
    authenticator
        .id
        .strip_prefix(PASSKEY_TYPE)
        .is_some_and(|rest| rest.starts_with('|'))
}

/// Starts registering the first passkey of an account that does not exist yet: `user_id` is
/// the id it will have (the key holds its user handle) and `email` its name. The key must be
/// discoverable, since it is the account's only way in; any kind of authenticator will do.
pub async fn start_sign_up(
    rp: &RelyingParty,
    store: &dyn Store,
    user_id: &str,
    email: &str,
    now: i64,
) -> Result<Started, MfaError> {
    let owner = MfaOwner::User(user_id.to_owned());
    let (options, state) = rp
        .webauthn
        .start_passkey_registration(user_handle(&owner), email, email, None)
        .map_err(|e| MfaError::Webauthn(e.to_string()))?;
    let mut options = options_json(&options)?;
    if let Some(selection) = options
        .pointer_mut("/publicKey/authenticatorSelection")
        .and_then(serde_json::Value::as_object_mut)
    {
        selection.insert("residentKey".into(), "required".into());
        selection.insert("requireResidentKey".into(), true.into());
    }
    let ceremony = Ceremony::SignUp {
        user_id: user_id.to_owned(),
        email: email.to_owned(),
        state,
    };
    let id = store_ceremony(store, &ceremony, None, now).await?;
    Ok(Started {
        ceremony: id,
        options,
    })
}

/// A sign-up's key that verified: the account to create (its id and email) and the key,
/// neither stored yet.
#[derive(Debug)]
pub struct SignedUp {
    pub user_id: String,
    pub email: String,
    pub authenticator: Authenticator,
    pub credential_id: String,
}

/// Checks the browser's answer to a sign-up's registration; nothing is stored but the
/// ceremony's use, so a refused or abandoned ceremony leaves no account behind.
pub async fn finish_sign_up(
    rp: &RelyingParty,
    store: &dyn Store,
    answer: Answer<'_>,
    now: i64,
) -> Result<SignedUp, Refusal> {
    let Ceremony::SignUp {
        user_id,
        email,
        state,
    } = take_ceremony(store, answer.ceremony, None, now).await?
    else {
        return Err(Refusal::Ceremony);
    };
    let credential: RegisterPublicKeyCredential = parse_answer(&answer)?;
    let passkey = rp
        .webauthn
        .finish_passkey_registration(&credential, &state)
        .map_err(Refusal::credential)?;
    let owner = MfaOwner::User(user_id.clone());
    let id = format!("{PASSKEY_TYPE}|dev_{}", random_alphanumeric(16));
    let (authenticator, credential_id) = new_key(
        id,
        &owner,
        MfaFactor::WebauthnPlatform,
        "Passkey",
        &passkey,
        now,
    )?;
    Ok(SignedUp {
        user_id,
        email,
        authenticator,
        credential_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_issuers_host() {
        assert!(RelyingParty::for_issuer("https://login.example.com/").is_ok());
        assert!(RelyingParty::for_issuer("http://localhost:4000/").is_ok());
        // Browsers refuse an IP address as a relying party id.
        assert!(RelyingParty::for_issuer("http://127.0.0.1:4000/").is_err());
    }

    #[test]
    fn a_keys_name_is_what_its_owner_typed_or_its_kind() {
        assert_eq!(
            key_name(MfaFactor::WebauthnPlatform, Some("  Laptop ")),
            "Laptop"
        );
        assert_eq!(
            key_name(MfaFactor::WebauthnRoaming, Some(" \u{7} ")),
            MfaFactor::WebauthnRoaming.label()
        );
        assert_eq!(
            key_name(MfaFactor::WebauthnRoaming, None),
            MfaFactor::WebauthnRoaming.label()
        );
        let long = "k".repeat(200);
        assert_eq!(
            key_name(MfaFactor::WebauthnPlatform, Some(&long))
                .chars()
                .count(),
            KEY_NAME_MAX
        );
    }

    #[test]
    fn user_handles_are_stable_and_distinct() {
        let user = MfaOwner::User("auth0|1".into());
        assert_eq!(user_handle(&user), user_handle(&user.clone()));
        assert_ne!(
            user_handle(&user),
            user_handle(&MfaOwner::Admin("auth0|1".into()))
        );
    }
}
