//! Users' consent to third-party applications, the way Auth0 asks for it.
//!
//! An application that is not first party (`is_first_party: false`) is owned by someone else:
//! before it gets a code or tokens for a user, the user approves the scopes it asks for on a
//! consent page. Approvals are remembered per user, application and audience (Auth0's user
//! grants) and widened by later ones, so the page comes back only when the application asks for
//! a scope not approved yet, or after the consent was revoked. First-party applications skip
//! the page, as in Auth0, unless the request says `prompt=consent`.
//!
//! A request without an API is recorded under the userinfo endpoint as its audience, which is
//! where Auth0 records the consent to OpenID Connect scopes alone.

use portcullis_store::{Client, Consent, ConsentRepository, ResourceServer, StoreError};
use portcullis_types::Scope;
use serde::Serialize;

use crate::{secrets::random_hex, Clock};

/// The audience a consent is recorded under: the API's identifier, or the userinfo endpoint
/// under `issuer` (which ends with a slash) when the request names no API.
pub fn audience(api: Option<&ResourceServer>, issuer: &str) -> String {
    match api {
        Some(api) => api.identifier.clone(),
        None => format!("{issuer}userinfo"),
    }
}

/// What an authorization request would have a user approve.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub client: &'a Client,
    pub user_id: &'a str,
    /// See [`audience`].
    pub audience: &'a str,
    /// The scopes the request would grant.
    pub scope: &'a Scope,
    /// `prompt=consent`: ask even when the user approved before, whoever owns the application.
    pub forced: bool,
}

/// The scopes of `request` the user still has to approve: every one when forced, none for a
/// first-party application, and otherwise those the user has not approved before. Empty means
/// the request goes on without the consent page.
pub async fn pending(
    store: &dyn ConsentRepository,
    request: &Request<'_>,
) -> Result<Scope, StoreError> {
    if request.forced {
        return Ok(request.scope.clone());
    }
    if request.client.is_first_party || request.scope.is_empty() {
        return Ok(Scope::empty());
    }
    let approved = store
        .consent_for(request.user_id, &request.client.client_id, request.audience)
        .await?;
    Ok(not_yet_approved(
        approved.as_ref().map(|c| &c.scope),
        request.scope,
    ))
}

/// The scopes of `requested` that `approved` lacks.
fn not_yet_approved(approved: Option<&Scope>, requested: &Scope) -> Scope {
    requested.filter(|token| approved.is_none_or(|held| !held.contains(token.as_str())))
}

/// Records that the user approved every scope of `request`, added to what they approved
/// before for the application and audience.
///
/// Two approvals racing for one user, application and audience may both read the old scopes,
/// and the later write wins: the scopes only the earlier one added are asked for again next
/// time, which is the cost of keeping this a single-statement write on both backends.
pub async fn approve(
    store: &dyn ConsentRepository,
    clock: &dyn Clock,
    request: &Request<'_>,
) -> Result<Consent, StoreError> {
    let previous = store
        .consent_for(request.user_id, &request.client.client_id, request.audience)
        .await?;
    let now = clock.now();
    let mut scope = previous
        .as_ref()
        .map_or_else(Scope::empty, |c| c.scope.clone());
    for token in request.scope.tokens() {
        scope.insert(token.clone());
    }
    store
        .upsert_consent(&Consent {
            id: previous
                .as_ref()
                .map_or_else(|| format!("ugr_{}", random_hex(12)), |c| c.id.clone()),
            user_id: request.user_id.to_owned(),
            client_id: request.client.client_id.clone(),
            audience: request.audience.to_owned(),
            scope,
            created_at: previous.as_ref().map_or(now, |c| c.created_at),
            updated_at: now,
        })
        .await
}

/// One line of the consent page: a scope and what it lets the application do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScopeDescription {
    pub scope: String,
    pub description: String,
}

/// What each OpenID Connect scope lets an application do, in the consent page's words.
fn oidc_description(scope: &str) -> Option<&'static str> {
    Some(match scope {
        "openid" => "Know who you are (your user id)",
        "profile" => "Read your profile: names, nickname and picture",
        "email" => "Read your email address",
        "address" => "Read your postal address",
        "offline_access" => "Keep access while you are not using it",
        _ => return None,
    })
}

/// The scopes of `scope`, in order, as the consent page lists them: an OpenID Connect scope
/// with its standard meaning, an API scope with the description its API gives it (or its own
/// name when the API gives none).
pub fn describe(scope: &Scope, api: Option<&ResourceServer>) -> Vec<ScopeDescription> {
    scope
        .iter()
        .map(|value| {
            let defined = api
                .and_then(|api| api.scopes.iter().find(|s| s.value == value))
                .map(|s| s.description.trim())
                .filter(|d| !d.is_empty());
            let description = oidc_description(value)
                .or(defined)
                .unwrap_or(value)
                .to_owned();
            ScopeDescription {
                scope: value.to_owned(),
                description,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use portcullis_store::ScopeDefinition;
    use portcullis_types::{SigningAlg, TokenDialect};

    use super::*;

    fn scope(text: &str) -> Scope {
        Scope::parse(text).unwrap()
    }

    #[test]
    fn only_scopes_not_approved_before_are_pending() {
        let requested = scope("openid profile read:messages");
        assert_eq!(not_yet_approved(None, &requested), requested);
        assert_eq!(
            not_yet_approved(Some(&scope("openid read:messages")), &requested).to_string(),
            "profile"
        );
        assert!(
            not_yet_approved(Some(&scope("read:messages profile openid x")), &requested).is_empty()
        );
    }

    #[test]
    fn the_page_describes_oidc_and_api_scopes() {
        let api = ResourceServer {
            id: "api".into(),
            name: "Messages".into(),
            identifier: "https://messages".into(),
            signing_alg: SigningAlg::RS256,
            scopes: vec![
                ScopeDefinition {
                    value: "read:messages".into(),
                    description: "Read your messages".into(),
                },
                ScopeDefinition {
                    value: "write:messages".into(),
                    description: " ".into(),
                },
            ],
            token_lifetime: 60,
            token_lifetime_for_web: 60,
            allow_offline_access: false,
            skip_consent_for_verifiable_first_party_clients: false,
            enforce_policies: false,
            token_dialect: TokenDialect::AccessToken,
            is_system: false,
            created_at: 0,
            signing_secret: None,
        };
        let lines = describe(&scope("email read:messages write:messages"), Some(&api));
        let texts: Vec<(&str, &str)> = lines
            .iter()
            .map(|l| (l.scope.as_str(), l.description.as_str()))
            .collect();
        assert_eq!(
            texts,
            [
                ("email", "Read your email address"),
                ("read:messages", "Read your messages"),
                ("write:messages", "write:messages"),
            ]
        );
        assert_eq!(audience(Some(&api), "https://id/"), "https://messages");
        assert_eq!(audience(None, "https://id/"), "https://id/userinfo");
    }
}
