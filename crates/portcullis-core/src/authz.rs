//! Which scopes a token carries.
//!
//! Auth0's default: a user may get any scope the API defines; scopes the API does not define
//! are dropped. OIDC scopes are always allowed. A machine client gets what its client grant
//! lists. A denied scope is simply left out, never an error.
//!
//! Access policies narrow that default for users, per API: with RBAC (`enforce_policies`) a
//! user gets only the scopes their roles' and direct permissions grant; access rules add
//! declarative conditions (verified email, a role, a listed client, an email domain). Both are
//! evaluated every time an access token is minted, so a revoked role stops at the next refresh.

use portcullis_store::{
    AccessRule, ClientGrant, ResourceServer, RuleCondition, Store, StoreError, User,
};
use portcullis_types::Scope;

/// Scopes granted to a user-facing token for `api` (or for `/userinfo` when `api` is `None`).
/// `offline_access` survives only when the API allows offline access and `refresh_allowed`.
pub fn user_token_scopes(
    requested: &Scope,
    api: Option<&ResourceServer>,
    refresh_allowed: bool,
) -> Scope {
    requested.filter(|scope| match scope.as_str() {
        "offline_access" => refresh_allowed && api.is_none_or(|api| api.allow_offline_access),
        _ if scope.is_oidc() => true,
        s => api.is_some_and(|api| api.defines_scope(s)),
    })
}

/// Scopes granted to a client_credentials token: the requested ones the grant allows, or
/// every granted scope when none is requested (Auth0's behaviour).
pub fn machine_token_scopes(
    requested: Option<&Scope>,
    grant: &ClientGrant,
    api: &ResourceServer,
) -> Scope {
    let allowed = |scope: &str| grant.scope.iter().any(|g| g == scope) && api.defines_scope(scope);
    match requested {
        Some(requested) if !requested.is_empty() => requested.filter(|s| allowed(s.as_str())),
        _ => grant
            .scope
            .iter()
            .filter(|s| allowed(s))
            .filter_map(|s| portcullis_types::ScopeToken::parse(s).ok())
            .collect(),
    }
}

/// What the access policies of one API need to know about one user, loaded once per token.
#[derive(Clone, Debug, Default)]
pub struct UserAccess {
    /// Effective permission names for the API (direct and through roles); only loaded when the
    /// API enforces RBAC.
    pub permissions: Vec<String>,
    /// Ids of the user's roles; only loaded when a rule asks for a role.
    pub role_ids: Vec<String>,
    pub rules: Vec<AccessRule>,
}

impl UserAccess {
    /// Loads what `api`'s policies need about `user` (at most three queries, fewer when the
    /// API uses neither RBAC nor role rules).
    pub async fn load(
        store: &dyn Store,
        user: &User,
        api: &ResourceServer,
    ) -> Result<Self, StoreError> {
        let rules = store.access_rules(&api.id).await?;
        let permissions = if api.enforce_policies {
            store
                .effective_permissions(&user.user_id, &api.identifier)
                .await?
        } else {
            Vec::new()
        };
        let role_ids = if rules
            .iter()
            .any(|rule| matches!(rule.condition, RuleCondition::HasRole { .. }))
        {
            store
                .user_roles(&user.user_id)
                .await?
                .into_iter()
                .map(|role| role.id)
                .collect()
        } else {
            Vec::new()
        };
        Ok(UserAccess {
            permissions,
            role_ids,
            rules,
        })
    }
}

/// Whether `condition` holds for `user` asking through `client_id`.
fn condition_holds(
    condition: &RuleCondition,
    user: &User,
    client_id: &str,
    access: &UserAccess,
) -> bool {
    match condition {
        RuleCondition::EmailVerified => user.email_verified,
        RuleCondition::HasRole { role_id } => access.role_ids.contains(role_id),
        RuleCondition::ClientIn { client_ids } => client_ids.iter().any(|c| c == client_id),
        // Anyone can sign up with any address: only a verified one proves the domain.
        RuleCondition::EmailDomainIn { domains } => {
            user.email_verified
                && user.email.rsplit_once('@').is_some_and(|(_, domain)| {
                    domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
                })
        }
    }
}

/// Whether the API's policies let `user` have the API scope `scope` through `client_id`.
pub fn policy_allows(
    api: &ResourceServer,
    access: &UserAccess,
    user: &User,
    client_id: &str,
    scope: &str,
) -> bool {
    if api.enforce_policies && !access.permissions.iter().any(|p| p == scope) {
        return false;
    }
    access
        .rules
        .iter()
        .filter(|rule| rule.scope == "*" || rule.scope == scope)
        .all(|rule| condition_holds(&rule.condition, user, client_id, access))
}

/// Narrows `scopes` (already validated against the API) by the API's policies for `user`:
/// OIDC scopes and `offline_access` pass; an API scope stays only if the policies allow it.
pub fn apply_user_policies(
    scopes: &Scope,
    api: &ResourceServer,
    access: &UserAccess,
    user: &User,
    client_id: &str,
) -> Scope {
    scopes.filter(|scope| {
        !api.defines_scope(scope.as_str())
            || policy_allows(api, access, user, client_id, scope.as_str())
    })
}

/// The `permissions` claim of an `access_token_authz` token: every permission the user holds
/// for the API that the API still defines and its rules allow. `None` for other dialects.
pub fn token_permissions(
    api: &ResourceServer,
    access: &UserAccess,
    user: &User,
    client_id: &str,
) -> Option<Vec<String>> {
    (api.enforce_policies && api.token_dialect.adds_permissions()).then(|| {
        access
            .permissions
            .iter()
            .filter(|p| api.defines_scope(p) && policy_allows(api, access, user, client_id, p))
            .cloned()
            .collect()
    })
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
            signing_alg: portcullis_types::SigningAlg::RS256,
            scopes: vec![ScopeDefinition {
                value: "read:messages".into(),
                description: String::new(),
            }],
            token_lifetime: 86400,
            token_lifetime_for_web: 7200,
            allow_offline_access: offline,
            skip_consent_for_verifiable_first_party_clients: true,
            enforce_policies: false,
            token_dialect: portcullis_types::TokenDialect::AccessToken,
            is_system: false,
            created_at: 0,
            signing_secret: None,
        }
    }

    fn user(verified: bool, email: &str) -> User {
        User {
            user_id: "auth0|1".into(),
            email: email.into(),
            email_verified: verified,
            password_hash: String::new(),
            name: String::new(),
            given_name: None,
            family_name: None,
            nickname: String::new(),
            picture: String::new(),
            blocked: false,
            created_at: 0,
            updated_at: 0,
            last_login: None,
            logins_count: 0,
            user_metadata: Default::default(),
            app_metadata: Default::default(),
        }
    }

    fn rule(scope: &str, condition: RuleCondition) -> AccessRule {
        AccessRule {
            id: "rul_1".into(),
            resource_server_id: "1".into(),
            scope: scope.into(),
            condition,
            created_at: 0,
        }
    }

    fn scopes(list: &[&str]) -> Scope {
        Scope::parse(&list.join(" ")).unwrap()
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn without_policies_every_defined_scope_passes() {
        let api = api(false);
        let requested = scopes(&["openid", "read:messages"]);
        let out = apply_user_policies(
            &requested,
            &api,
            &UserAccess::default(),
            &user(false, "a@x.example"),
            "c",
        );
        assert_eq!(out, requested);
        assert_eq!(
            token_permissions(&api, &UserAccess::default(), &user(false, "a@x"), "c"),
            None
        );
    }

    #[test]
    fn rbac_grants_only_held_permissions_and_lists_them_in_the_authz_dialect() {
        let mut api = api(false);
        api.enforce_policies = true;
        let requested = scopes(&["openid", "read:messages"]);
        let someone = user(true, "a@x.example");
        let none = UserAccess::default();
        assert_eq!(
            apply_user_policies(&requested, &api, &none, &someone, "c"),
            ["openid"]
        );
        let holder = UserAccess {
            permissions: strings(&["read:messages", "gone:scope"]),
            ..UserAccess::default()
        };
        assert_eq!(
            apply_user_policies(&requested, &api, &holder, &someone, "c"),
            requested
        );
        assert_eq!(token_permissions(&api, &holder, &someone, "c"), None);
        api.token_dialect = portcullis_types::TokenDialect::AccessTokenAuthz;
        assert_eq!(
            token_permissions(&api, &holder, &someone, "c"),
            Some(strings(&["read:messages"]))
        );
    }

    #[test]
    fn each_rule_kind_allows_and_denies() {
        let api = api(false);
        let requested = scopes(&["read:messages"]);
        let check = |condition: RuleCondition, access: UserAccess, user: &User, client: &str| {
            let access = UserAccess {
                rules: vec![rule("read:messages", condition)],
                ..access
            };
            !apply_user_policies(&requested, &api, &access, user, client).is_empty()
        };
        let verified = user(true, "a@corp.example");
        let unverified = user(false, "a@other.example");
        assert!(check(
            RuleCondition::EmailVerified,
            UserAccess::default(),
            &verified,
            "c"
        ));
        assert!(!check(
            RuleCondition::EmailVerified,
            UserAccess::default(),
            &unverified,
            "c"
        ));
        let role = RuleCondition::HasRole {
            role_id: "rol_1".into(),
        };
        let member = UserAccess {
            role_ids: strings(&["rol_1"]),
            ..UserAccess::default()
        };
        assert!(check(role.clone(), member, &verified, "c"));
        assert!(!check(role, UserAccess::default(), &verified, "c"));
        let clients = RuleCondition::ClientIn {
            client_ids: strings(&["spa"]),
        };
        assert!(check(
            clients.clone(),
            UserAccess::default(),
            &verified,
            "spa"
        ));
        assert!(!check(clients, UserAccess::default(), &verified, "other"));
        let domains = RuleCondition::EmailDomainIn {
            domains: strings(&["CORP.example"]),
        };
        assert!(check(
            domains.clone(),
            UserAccess::default(),
            &verified,
            "c"
        ));
        assert!(!check(
            domains.clone(),
            UserAccess::default(),
            &unverified,
            "c"
        ));
        // The right domain, unverified: anyone could have signed up with it.
        assert!(!check(
            domains,
            UserAccess::default(),
            &user(false, "eve@corp.example"),
            "c"
        ));
        // A wildcard rule covers every scope of the API; rules on other scopes do not apply.
        let wildcard = UserAccess {
            rules: vec![rule("*", RuleCondition::EmailVerified)],
            ..UserAccess::default()
        };
        assert!(apply_user_policies(&requested, &api, &wildcard, &unverified, "c").is_empty());
        let unrelated = UserAccess {
            rules: vec![rule("write:messages", RuleCondition::EmailVerified)],
            ..UserAccess::default()
        };
        assert_eq!(
            apply_user_policies(&requested, &api, &unrelated, &unverified, "c"),
            requested
        );
    }

    #[test]
    fn unknown_scopes_are_dropped() {
        let requested = scopes(&[
            "openid",
            "profile",
            "read:messages",
            "write:messages",
            "offline_access",
        ]);
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
