//! What a verified token says, in the forms handlers use.

use std::{
    fmt,
    ops::Deref,
    sync::{Arc, OnceLock},
};

use serde::{
    de::{self, DeserializeOwned, SeqAccess, Visitor},
    Deserialize, Deserializer,
};
use serde_json::{Map, Value};

use crate::{scope::ScopeSet, verify::CheckedClaims};

/// A token that passed every check. Cheap to clone; the layer stores one in the request's
/// extensions, where handlers can take it with `Extension<VerifiedToken>`.
#[derive(Clone)]
pub struct VerifiedToken(Arc<VerifiedInner>);

struct VerifiedInner {
    /// The payload's JSON text (an object), as the issuer signed it.
    json: Box<str>,
    /// The payload as JSON values, parsed the first time a handler asks.
    parsed: OnceLock<Map<String, Value>>,
    scopes: ScopeSet,
    expires_at: u64,
    dpop_jkt: Option<Box<str>>,
    /// Which guard verified it, so a layer of one guard never vouches for another's audience.
    guard_id: u64,
}

impl VerifiedToken {
    pub(crate) fn new(claims: CheckedClaims, guard_id: u64) -> Self {
        Self(Arc::new(VerifiedInner {
            json: claims.json,
            parsed: OnceLock::new(),
            scopes: claims.scopes,
            expires_at: claims.expires_at,
            dpop_jkt: claims.dpop_jkt,
            guard_id,
        }))
    }

    #[cfg(test)]
    pub(crate) fn for_tests() -> Self {
        Self::new(
            CheckedClaims {
                json: "{}".into(),
                scopes: ScopeSet::default(),
                expires_at: 0,
                dpop_jkt: None,
            },
            0,
        )
    }

    pub(crate) fn guard_id(&self) -> u64 {
        self.0.guard_id
    }

    /// The `cnf.jkt` a DPoP-bound token is bound to.
    pub(crate) fn dpop_jkt(&self) -> Option<&str> {
        self.0.dpop_jkt.as_deref()
    }

    /// All claims of the payload, parsed on the first call (the guard itself reads only the
    /// claims it checks).
    pub fn claims(&self) -> &Map<String, Value> {
        // The text was parsed as a JSON object when the token was checked, so this never
        // falls back to the empty map.
        self.0
            .parsed
            .get_or_init(|| serde_json::from_str(&self.0.json).unwrap_or_default())
    }

    /// One claim of the payload.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims().get(name)
    }

    /// The payload's JSON text, exactly as signed.
    pub fn claims_json(&self) -> &str {
        &self.0.json
    }

    /// The `sub` claim, if it is a string.
    pub fn subject(&self) -> Option<&str> {
        self.claim("sub").and_then(Value::as_str)
    }

    /// The scopes the token grants, read from the claims chosen with
    /// [`GuardBuilder::scope_claims`](crate::GuardBuilder::scope_claims).
    pub fn scopes(&self) -> &ScopeSet {
        &self.0.scopes
    }

    /// The `exp` claim, in seconds since the Unix epoch.
    pub fn expires_at(&self) -> u64 {
        self.0.expires_at
    }

    /// The claims as the application's own type.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.0.json)
    }
}

impl fmt::Debug for VerifiedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedToken")
            .field("sub", &self.subject())
            .field("scopes", &self.0.scopes)
            .field("expires_at", &self.0.expires_at)
            .finish_non_exhaustive()
    }
}

/// The claims of an Auth0-style access token (RFC 9068 plus Auth0's `azp`, `scope` and
/// `permissions`). Any other claim lands in [`extra`](Self::extra); for typed custom claims,
/// use your own struct with `Claims<MyClaims>`.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct DefaultClaims {
    /// The issuer (already checked against the configuration).
    pub iss: String,
    /// The subject: a user id such as `auth0|…`, or `CLIENT_ID@clients` for machine tokens.
    pub sub: String,
    /// The audiences (one of them is ours).
    pub aud: Audiences,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Issue time, seconds since the Unix epoch.
    #[serde(default)]
    pub iat: Option<u64>,
    /// The client the token was issued to.
    #[serde(default)]
    pub azp: Option<String>,
    /// The `scope` claim as a set.
    #[serde(default)]
    pub scope: ScopeSet,
    /// Auth0 RBAC permissions.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Every other claim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `aud` claim: a single string or an array of strings (RFC 7519 §4.1.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audiences(Vec<String>);

impl Audiences {
    /// Whether `audience` is one of them.
    pub fn contains(&self, audience: &str) -> bool {
        self.0.iter().any(|candidate| candidate == audience)
    }
}

impl Deref for Audiences {
    type Target = [String];

    fn deref(&self) -> &[String] {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Audiences {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AudienceVisitor;

        impl<'de> Visitor<'de> for AudienceVisitor {
            type Value = Audiences;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }

            fn visit_str<E: de::Error>(self, audience: &str) -> Result<Audiences, E> {
                Ok(Audiences(vec![audience.to_owned()]))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Audiences, A::Error> {
                let mut audiences = Vec::new();
                while let Some(audience) = seq.next_element::<String>()? {
                    audiences.push(audience);
                }
                Ok(Audiences(audiences))
            }
        }

        deserializer.deserialize_any(AudienceVisitor)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn default_claims_from_an_auth0_token() -> Result<(), serde_json::Error> {
        let json = json!({
            "iss": "https://tenant.example.com/",
            "sub": "auth0|42",
            "aud": ["https://api.example.com", "https://tenant.example.com/userinfo"],
            "exp": 2_000_000_000u64,
            "azp": "client",
            "scope": "openid read:messages",
            "permissions": ["read:messages"],
            "https://example.com/roles": ["admin"],
        });
        let token = VerifiedToken::new(
            CheckedClaims {
                json: json.to_string().into(),
                scopes: ScopeSet::default(),
                expires_at: 2_000_000_000,
                dpop_jkt: None,
            },
            1,
        );
        let claims: DefaultClaims = token.deserialize()?;
        assert_eq!(token.subject(), Some("auth0|42"));
        assert_eq!(Some(token.claims()), json.as_object());
        assert_eq!(claims.sub, "auth0|42");
        assert!(claims.aud.contains("https://api.example.com"));
        assert!(claims.scope.contains("read:messages"));
        assert_eq!(claims.permissions, ["read:messages"]);
        assert!(claims.extra.contains_key("https://example.com/roles"));
        Ok(())
    }
}
