//! Signing in at another identity provider (Auth0's social and enterprise connections): a
//! connection's settings ([`settings`]), and what the provider's checked answer makes of a
//! user ([`sign_in`]): found by its identity, linked to a database user with the same verified
//! email when the connection allows it, or created as `<provider>|...` with its identity. The
//! protocol side (discovery, the code exchange, the ID token's checks) is the server's, with
//! the `openidconnect` and `oauth2` crates; this module sees only the verified claims.

pub mod settings;

use portcullis_store::{FederatedIdentity, Store, StoreError, UpstreamConnection, User};
use portcullis_types::{AuthMethod, Secret, Strategy};
use serde_json::{Map, Value};

use crate::keys::{KeyCipher, KeyError};
pub use settings::{tenant_issuer, Issuer, Protocol, Settings};

/// The longest a sign-in at a provider may take, from our redirect to its callback.
pub const TRANSACTION_SECONDS: i64 = 600;

/// What a provider said of the user, once checked: its id for the user and its claims (the
/// ID token's, or the profile endpoint's).
#[derive(Debug)]
pub struct Answer {
    pub upstream_id: String,
    pub claims: Map<String, Value>,
    /// The provider's tokens as JSON, kept (sealed) only when the connection asks.
    pub tokens: Secret,
}

#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// The provider named no user (an empty `sub`).
    #[error("the provider's answer names no user")]
    NoSubject,
    /// The user the answer names is blocked: no session, as for a password.
    #[error("user is blocked")]
    Blocked,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keys(#[from] KeyError),
}

/// The methods (`amr`) of a session started by a provider's answer: those the provider's ID
/// token lists (the RFC 8176 values; others are not ours to interpret), or `fed` when it says
/// nothing we know, as for a plain OAuth 2 provider, whose profile is not a statement about
/// the sign-in. Our own second factor still applies: it is asked for by the session's
/// `mfa_time`, never by these methods.
pub fn session_amr(settings: &Settings, claims: &Map<String, Value>) -> Vec<AuthMethod> {
    let mut amr: Vec<AuthMethod> = Vec::new();
    if matches!(settings.protocol, Protocol::OpenId { .. }) {
        let listed = claims.get("amr").and_then(Value::as_array);
        for method in listed.into_iter().flatten().filter_map(Value::as_str) {
            match method.parse() {
                Ok(method) if !amr.contains(&method) => amr.push(method),
                _ => {}
            }
        }
    }
    if amr.is_empty() {
        amr.push(AuthMethod::Fed);
    }
    amr
}

/// The user id Auth0 gives a user of this connection: `oidc|<connection>|<sub>`,
/// `oauth2|<connection>|<sub>`, or `<strategy>|<sub>` for a social preset.
pub fn user_id(connection: &UpstreamConnection, upstream_id: &str) -> String {
    format!(
        "{}|{}",
        connection.strategy,
        identity_user_id(connection.strategy, &connection.name, upstream_id)
    )
}

/// The `user_id` of an identity in Auth0's shape: the user id without its provider.
pub fn identity_user_id(provider: Strategy, connection: &str, upstream_id: &str) -> String {
    if provider.is_social() {
        upstream_id.to_owned()
    } else {
        format!("{connection}|{upstream_id}")
    }
}

/// The name Auth0 gives the database connection, the identity of every `auth0|...` user.
pub const DATABASE_CONNECTION: &str = "Username-Password-Authentication";

/// An identity in Auth0's shape (an `identities[]` entry).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Identity {
    /// `auth0`, or the connection's strategy.
    pub provider: String,
    /// The user id without its provider.
    pub user_id: String,
    /// The connection's name.
    pub connection: String,
    #[serde(rename = "isSocial")]
    pub is_social: bool,
}

impl Identity {
    /// An identity stored for a user at another provider.
    pub fn of(identity: &FederatedIdentity) -> Self {
        Identity {
            provider: identity.provider.as_str().to_owned(),
            user_id: identity_user_id(
                identity.provider,
                &identity.connection,
                &identity.upstream_id,
            ),
            connection: identity.connection.clone(),
            is_social: identity.provider.is_social(),
        }
    }

    /// Whether this is the identity `user_id` names.
    fn is_named_by(&self, user_id: &str) -> bool {
        user_id
            .split_once('|')
            .is_some_and(|(provider, rest)| provider == self.provider && rest == self.user_id)
    }
}

/// The identities linked to `user_id` from other users: its stored identities but the one its
/// id names.
pub async fn linked_identities(
    store: &dyn Store,
    user_id: &str,
) -> Result<Vec<FederatedIdentity>, StoreError> {
    Ok(store
        .federated_identities(user_id)
        .await?
        .into_iter()
        .filter(|identity| !Identity::of(identity).is_named_by(user_id))
        .collect())
}

/// A user's `identities` as Auth0 shows them — to the Management API and to Actions
/// (`event.user.identities`): first the one its id names, then those `linked` to it.
pub fn identities(user_id: &str, linked: &[FederatedIdentity]) -> Vec<Identity> {
    std::iter::once(primary_identity(user_id))
        .chain(linked.iter().map(Identity::of))
        .collect()
}

/// The identity a user id names: `auth0|<id>` the database connection's,
/// `oidc|<connection>|<sub>` (and `oauth2|...`) a connection's, `<strategy>|<sub>` a social
/// preset's (whose connection Auth0 names after the strategy).
pub fn primary_identity(user_id: &str) -> Identity {
    let (provider, rest) = user_id.split_once('|').unwrap_or(("auth0", user_id));
    let strategy: Option<Strategy> = provider.parse().ok();
    let connection = match strategy {
        None => DATABASE_CONNECTION,
        Some(strategy) if strategy.is_social() => provider,
        Some(_) => rest
            .split_once('|')
            .map_or(rest, |(connection, _)| connection),
    };
    Identity {
        provider: provider.to_owned(),
        user_id: rest.to_owned(),
        connection: connection.to_owned(),
        is_social: strategy.is_some_and(Strategy::is_social),
    }
}

/// A claim as a string: providers send ids as numbers (GitHub) and flags as strings.
pub fn claim_text(claims: &Map<String, Value>, name: &str) -> Option<String> {
    match claims.get(name)? {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// GitHub's profile says nothing of its address's verification; its `/user/emails` list
/// (`[{ "email", "primary", "verified" }]`, `None` when it could not be read) does. As Auth0
/// does, the primary verified address becomes the profile's `email` with `email_verified:
/// true`; without one, the profile's public address (if any) stays, unverified.
pub fn apply_github_emails(claims: &mut Map<String, Value>, emails: Option<&Value>) {
    let primary = emails
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|entry| {
            entry.get("primary") == Some(&Value::Bool(true))
                && entry.get("verified") == Some(&Value::Bool(true))
        })
        .and_then(|entry| entry.get("email")?.as_str())
        .filter(|email| !email.is_empty());
    match primary {
        Some(email) => {
            claims.insert("email".into(), Value::String(email.to_owned()));
            claims.insert("email_verified".into(), Value::Bool(true));
        }
        None => {
            claims.insert("email_verified".into(), Value::Bool(false));
        }
    }
}

/// The profile attribute `attribute`, read from the claim the connection's map names (or
/// the claim of the same name).
fn attribute(settings: &Settings, claims: &Map<String, Value>, attribute: &str) -> Option<String> {
    let claim = settings
        .attribute_map
        .get(attribute)
        .and_then(Value::as_str)
        .unwrap_or(attribute);
    claim_text(claims, claim)
}

/// The profile the user record takes from the answer.
struct Profile {
    email: String,
    email_verified: bool,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    nickname: Option<String>,
    picture: Option<String>,
}

fn profile(settings: &Settings, claims: &Map<String, Value>) -> Profile {
    let email = attribute(settings, claims, "email").unwrap_or_default();
    let given_name = crate::profile::provider_name_part(attribute(settings, claims, "given_name"));
    let family_name =
        crate::profile::provider_name_part(attribute(settings, claims, "family_name"));
    let name = attribute(settings, claims, "name")
        .or_else(|| crate::profile::composed_name(given_name.as_deref(), family_name.as_deref()));
    Profile {
        // Only what the provider asserts: an address it did not check is not verified here.
        email_verified: !email.is_empty()
            && attribute(settings, claims, "email_verified").as_deref() == Some("true"),
        nickname: attribute(settings, claims, "nickname")
            .or_else(|| claim_text(claims, "preferred_username"))
            .or_else(|| claim_text(claims, "login")),
        picture: attribute(settings, claims, "picture")
            .or_else(|| claim_text(claims, "avatar_url")),
        name,
        given_name,
        family_name,
        email,
    }
}

/// Copies the answer's profile onto the user record.
fn apply(user: &mut User, profile: Profile, now: i64) {
    let local_part = profile
        .email
        .split('@')
        .next()
        .unwrap_or_default()
        .to_owned();
    user.name = profile.name.unwrap_or_else(|| profile.email.clone());
    user.given_name = profile.given_name;
    user.family_name = profile.family_name;
    user.nickname = profile.nickname.unwrap_or(local_part);
    user.picture = profile.picture.unwrap_or_default();
    user.email = profile.email;
    user.email_verified = profile.email_verified;
    user.updated_at = now;
}

/// What binds sealed tokens to their identity.
fn tokens_data(connection: &str, upstream_id: &str) -> String {
    format!("upstream-tokens:{connection}|{upstream_id}")
}

/// What binds a connection's sealed client secret to it.
fn secret_data(connection_id: &str) -> String {
    format!("connection-client-secret:{connection_id}")
}

/// Seals a connection's client secret for the store.
pub fn seal_client_secret(
    cipher: &KeyCipher,
    connection_id: &str,
    secret: &Secret,
) -> Result<Vec<u8>, KeyError> {
    cipher.seal(&secret_data(connection_id), secret.expose_str().as_bytes())
}

/// Opens a connection's sealed client secret.
pub fn open_client_secret(
    cipher: &KeyCipher,
    connection: &UpstreamConnection,
) -> Result<Option<Secret>, KeyError> {
    let Some(sealed) = &connection.sealed_client_secret else {
        return Ok(None);
    };
    let plain = cipher
        .open(&secret_data(&connection.id), sealed)
        .map_err(|_| {
            KeyError::Decrypt(format!("client secret of connection {}", connection.name))
        })?;
    String::from_utf8(plain)
        .map(|text| Some(Secret::new(text)))
        .map_err(|_| KeyError::Decrypt(format!("client secret of connection {}", connection.name)))
}

/// What a sign-in needs of the server: its store, its clock and its master key's cipher.
pub trait Federation: Sync {
    fn store(&self) -> &dyn portcullis_store::Store;
    fn now(&self) -> i64;
    fn cipher(&self) -> &KeyCipher;
}

/// The user the provider's answer signs in: the identity's user, with the profile copied
/// again when the connection says so; or the database user with the same verified email
/// (when the connection links, and the provider verified the address too), the identity
/// linked to them; or a new user with this identity. A blocked user is refused
/// ([`FederationError::Blocked`]) before anything of the answer is stored.
pub async fn sign_in(
    cx: &dyn Federation,
    connection: &UpstreamConnection,
    settings: &Settings,
    answer: Answer,
) -> Result<User, FederationError> {
    if answer.upstream_id.is_empty() {
        return Err(FederationError::NoSubject);
    }
    let now = cx.now();
    let sealed_tokens = settings
        .store_tokens
        .then(|| {
            cx.cipher().seal(
                &tokens_data(&connection.name, &answer.upstream_id),
                answer.tokens.expose_str().as_bytes(),
            )
        })
        .transpose()?;
    let profile = profile(settings, &answer.claims);
    let store = cx.store();
    if let Some(mut identity) = store
        .federated_identity(&connection.name, &answer.upstream_id)
        .await?
    {
        let mut user = store
            .user_by_id(&identity.user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if user.blocked {
            return Err(FederationError::Blocked);
        }
        identity.profile = answer.claims;
        identity.sealed_tokens = sealed_tokens;
        store.update_federated_identity(&identity).await?;
        // A linked identity never rewrites the database user's own profile.
        if settings.update_on_each_login && !user.is_database_user() {
            apply(&mut user, profile, now);
            store.update_user(&user).await?;
        }
        return Ok(user);
    }
    let mut identity = FederatedIdentity {
        user_id: user_id(connection, &answer.upstream_id),
        provider: connection.strategy,
        connection: connection.name.clone(),
        upstream_id: answer.upstream_id,
        profile: answer.claims,
        sealed_tokens,
        created_at: now,
    };
    if settings.link_verified_email && profile.email_verified {
        if let Some(existing) = store.user_by_email(&profile.email).await? {
            if existing.email_verified && existing.is_database_user() {
                if existing.blocked {
                    return Err(FederationError::Blocked);
                }
                identity.user_id = existing.user_id.clone();
                store.insert_federated_identity(&identity).await?;
                return Ok(existing);
            }
        }
    }
    let mut user = User {
        user_id: identity.user_id.clone(),
        email: String::new(),
        email_verified: false,
        password_hash: String::new(),
        name: String::new(),
        given_name: None,
        family_name: None,
        nickname: String::new(),
        picture: String::new(),
        blocked: false,
        created_at: now,
        updated_at: now,
        last_login: None,
        logins_count: 0,
        user_metadata: Map::new(),
        app_metadata: Map::new(),
    };
    apply(&mut user, profile, now);
    store.create_federated_user(&user, &identity).await?;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn settings_of(strategy: Strategy, options: Value) -> Settings {
        settings::read(strategy, options.as_object().expect("object")).expect("settings")
    }

    #[test]
    fn github_s_primary_verified_address_is_the_verified_email() {
        let profile = || {
            json!({ "id": 7, "email": "public@example.com", "email_verified": true })
                .as_object()
                .cloned()
                .expect("object")
        };
        let mut claims = profile();
        apply_github_emails(
            &mut claims,
            Some(&json!([
                { "email": "old@example.com", "primary": false, "verified": true },
                { "email": "main@example.com", "primary": true, "verified": true },
            ])),
        );
        assert_eq!(claims["email"], "main@example.com");
        assert_eq!(claims["email_verified"], true);
        let mut claims = profile();
        let unverified =
            json!([{ "email": "main@example.com", "primary": true, "verified": false }]);
        apply_github_emails(&mut claims, Some(&unverified));
        assert_eq!(claims["email"], "public@example.com");
        assert_eq!(
            claims["email_verified"], false,
            "never the profile's own say"
        );
        let mut claims = profile();
        apply_github_emails(&mut claims, None);
        assert_eq!(claims["email_verified"], false);
    }

    #[test]
    fn a_session_lists_the_providers_known_methods_or_fed() {
        let openid = settings_of(
            Strategy::Oidc,
            json!({ "issuer": "https://idp.example.com", "client_id": "a" }),
        );
        let claims = |value: Value| value.as_object().cloned().expect("object");
        assert_eq!(
            session_amr(
                &openid,
                &claims(json!({ "amr": ["pwd", "mfa", "pwd", "x-bank"] }))
            ),
            [AuthMethod::Pwd, AuthMethod::Mfa]
        );
        assert_eq!(session_amr(&openid, &claims(json!({}))), [AuthMethod::Fed]);
        assert_eq!(
            session_amr(&openid, &claims(json!({ "amr": ["x-bank"] }))),
            [AuthMethod::Fed]
        );
        // A profile is no statement about the sign-in.
        let oauth2 = settings_of(Strategy::Github, json!({ "client_id": "a" }));
        assert_eq!(
            session_amr(&oauth2, &claims(json!({ "amr": ["mfa"] }))),
            [AuthMethod::Fed]
        );
    }
}
