//! Which scopes a token carries.
//!
//! Auth0's default: a user may get any scope the API defines; scopes the API does not define
//! are dropped. OIDC scopes are always allowed. A machine client gets what its client grant
//! lists. A denied scope is simply left out, never an error.

use portcullis_store::{ClientGrant, ResourceServer};

use crate::scope::OIDC_SCOPES;

/// Scopes granted to a user-facing token for `api` (or for `/userinfo` when `api` is `None`).
/// `offline_access` survives only when the API allows offline access and `refresh_allowed`.
pub fn user_token_scopes(
    requested: &[String],
    api: Option<&ResourceServer>,
    refresh_allowed: bool,
) -> Vec<String> {
    requested
        .iter()
        .filter(|scope| match scope.as_str() {
            "offline_access" => refresh_allowed && api.is_none_or(|api| api.allow_offline_access),
            s if OIDC_SCOPES.contains(&s) => true,
            s => api.is_some_and(|api| api.defines_scope(s)),
        })
        .cloned()
        .collect()
}

/// Scopes granted to a client_credentials token: the requested ones the grant allows, or
/// every granted scope when none is requested (Auth0's behaviour).
pub fn machine_token_scopes(
    requested: Option<&[String]>,
    grant: &ClientGrant,
    api: &ResourceServer,
) -> Vec<String> {
    let allowed = |scope: &String| grant.scope.contains(scope) && api.defines_scope(scope);
    match requested {
        Some(requested) if !requested.is_empty() => {
            requested.iter().filter(|s| allowed(s)).cloned().collect()
        }
        _ => grant.scope.iter().filter(|s| allowed(s)).cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use portcullis_store::ScopeDefinition;

    use super::*;

    fn api(offline: bool) -> ResourceServer {
        ResourceServer {
            id: "1".into(),
            name: "API".into(),
            identifier: "https://api".into(),
            signing_alg: "RS256".into(),
            scopes: vec![ScopeDefinition {
                value: "read:messages".into(),
                description: String::new(),
            }],
            token_lifetime: 86400,
            token_lifetime_for_web: 7200,
            allow_offline_access: offline,
            skip_consent_for_verifiable_first_party_clients: true,
            enforce_policies: false,
            token_dialect: "access_token".into(),
            is_system: false,
            created_at: 0,
        }
    }

    #[test]
    fn unknown_scopes_are_dropped() {
        let requested: Vec<String> = [
            "openid",
            "profile",
            "read:messages",
            "write:messages",
            "offline_access",
        ]
        .map(String::from)
        .into();
        assert_eq!(
            user_token_scopes(&requested, Some(&api(false)), true),
            ["openid", "profile", "read:messages"]
        );
        assert_eq!(
            user_token_scopes(&requested, Some(&api(true)), true),
            ["openid", "profile", "read:messages", "offline_access"]
        );
        assert_eq!(
            user_token_scopes(&requested, None, false),
            ["openid", "profile"]
        );
    }
}
