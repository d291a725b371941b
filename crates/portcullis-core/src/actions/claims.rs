//! Auth0's rules for the claims an Action sets: a restricted claim is left out (the login goes
//! on without it, as at Auth0), and the custom claims of one token fit in 100 KB.

use serde_json::{Map, Value};

/// Claims no Action may set (Auth0's list of restricted claims, with `scope`, which only
/// `addScope`/`removeScope` change).
const RESTRICTED: &[&str] = &[
    "acr",
    "act",
    "active",
    "amr",
    "at_hash",
    "ath",
    "attest",
    "aud",
    "auth_time",
    "authorization_details",
    "azp",
    "c_hash",
    "client_id",
    "cnf",
    "cty",
    "dest",
    "entitlements",
    "events",
    "exp",
    "groups",
    "gty",
    "htm",
    "htu",
    "iat",
    "internalService",
    "iss",
    "jcard",
    "jku",
    "jti",
    "jwe",
    "jwk",
    "kid",
    "may_act",
    "mky",
    "nbf",
    "nonce",
    "object_id",
    "org_id",
    "org_name",
    "orig",
    "origid",
    "permissions",
    "roles",
    "rph",
    "s_hash",
    "scope",
    "sid",
    "sip_callid",
    "sip_cseq_num",
    "sip_date",
    "sip_from_tag",
    "sip_via_branch",
    "sub",
    "sub_jwk",
    "toe",
    "txn",
    "typ",
    "uuid",
    "vot",
    "vtm",
    "x5t#S256",
];

/// OpenID Connect's standard profile claims: the ID token carries the user's own, so an
/// Action cannot change them there.
const OIDC_PROFILE: &[&str] = &[
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "email_verified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
    "updated_at",
];

/// The most the custom claims of one token may hold, serialised (Auth0's limit).
pub const MAX_CUSTOM_CLAIMS_BYTES: usize = 100 * 1024;

/// Which token a claim is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Id,
}

/// Why a claim was left out, or `None` when it may be set.
pub fn refusal(token: TokenKind, name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a claim needs a name".to_owned());
    }
    if RESTRICTED.contains(&name) {
        return Some(format!("the claim {name:?} is restricted and was not set"));
    }
    if token == TokenKind::Id && OIDC_PROFILE.contains(&name) {
        return Some(format!(
            "the claim {name:?} is a standard profile claim of the ID token and was not set"
        ));
    }
    None
}

/// Whether `claims` fit in [`MAX_CUSTOM_CLAIMS_BYTES`].
pub fn fits(claims: &Map<String, Value>) -> bool {
    serde_json::to_vec(claims).is_ok_and(|bytes| bytes.len() <= MAX_CUSTOM_CLAIMS_BYTES)
}

/// `claims` with `custom` added, each only where the token does not already carry the name:
/// a signed claim of ours is never replaced.
pub fn merged(claims: Value, custom: &Map<String, Value>) -> Value {
    match claims {
        Value::Object(mut object) => {
            for (name, value) in custom {
                object.entry(name.clone()).or_insert_with(|| value.clone());
            }
            Value::Object(object)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn restricted_and_profile_claims_are_refused() {
        for name in [
            "sub",
            "iss",
            "aud",
            "exp",
            "scope",
            "permissions",
            "gty",
            "cnf",
            "amr",
        ] {
            assert!(refusal(TokenKind::Access, name).is_some(), "{name}");
            assert!(refusal(TokenKind::Id, name).is_some(), "{name}");
        }
        assert!(refusal(TokenKind::Id, "email").is_some());
        assert!(refusal(TokenKind::Access, "email").is_none());
        assert!(refusal(TokenKind::Access, "https://example.com/roles").is_none());
        assert!(refusal(TokenKind::Access, "").is_some());
    }

    #[test]
    fn merging_never_replaces_a_signed_claim() {
        let custom = json!({"sub": "forged", "https://x/a": 1});
        let merged = merged(json!({"sub": "auth0|1"}), custom.as_object().unwrap());
        assert_eq!(merged, json!({"sub": "auth0|1", "https://x/a": 1}));
    }
}
