//! Scopes granted by a token and the scopes a route requires.

use std::{fmt, sync::Arc};

use serde::{
    de::{self, SeqAccess, Visitor},
    Deserialize, Deserializer,
};

/// A set of scope tokens, read from a space-delimited `scope` string (RFC 8693 §4.2, the form
/// Auth0 issues) or from a JSON array of strings.
///
/// Held as one string, the tokens sorted, deduplicated and joined by single spaces: a cached
/// token's scopes are one allocation. An array item that is empty or holds whitespace is not a
/// scope token (RFC 6749 §3.3) and grants nothing.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(Box<str>);

impl ScopeSet {
    /// The set of `tokens`, each one scope token.
    pub(crate) fn of<'a>(tokens: impl IntoIterator<Item = &'a str>) -> Self {
        let mut tokens: Vec<&str> = tokens
            .into_iter()
            .filter(|token| !token.is_empty() && !token.contains(|c: char| c.is_ascii_whitespace()))
            .collect();
        tokens.sort_unstable();
        tokens.dedup();
        Self(tokens.join(" ").into_boxed_str())
    }

    /// Whether `scope` is in the set.
    pub fn contains(&self, scope: &str) -> bool {
        self.iter().any(|granted| granted == scope)
    }

    /// The scopes, in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.split(' ').filter(|token| !token.is_empty())
    }

    /// How many scopes the set holds.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<S: AsRef<str>> FromIterator<S> for ScopeSet {
    /// The scopes of space-delimited strings.
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let texts: Vec<S> = iter.into_iter().collect();
        Self::of(
            texts
                .iter()
                .flat_map(|text| text.as_ref().split_ascii_whitespace()),
        )
    }
}

impl<'de> Deserialize<'de> for ScopeSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScopeVisitor;

        impl<'de> Visitor<'de> for ScopeVisitor {
            type Value = ScopeSet;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a space-delimited string or an array of strings")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<ScopeSet, E> {
                Ok(ScopeSet::of(text.split_ascii_whitespace()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ScopeSet, A::Error> {
                let mut items = Vec::new();
                while let Some(scope) = seq.next_element::<String>()? {
                    items.push(scope);
                }
                Ok(ScopeSet::of(items.iter().map(String::as_str)))
            }

            fn visit_unit<E: de::Error>(self) -> Result<ScopeSet, E> {
                Ok(ScopeSet::default())
            }
        }

        deserializer.deserialize_any(ScopeVisitor)
    }
}

/// Which claims grant scopes. Auth0 puts OAuth scopes in `scope` and, when RBAC is on, API
/// permissions in a `permissions` array; express-jwt-authz reads the former.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScopeClaims {
    /// Only the `scope` claim.
    Scope,
    /// Only the `permissions` claim.
    Permissions,
    /// The union of `scope` and `permissions`: both are grants the issuer signed for this
    /// audience.
    #[default]
    ScopeAndPermissions,
}

/// What a route requires of the token's scopes: all of a list, or any one of it
/// (express-jwt-authz's `checkAllScopes` switch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopePolicy(Arc<PolicyInner>);

#[derive(Debug, PartialEq, Eq)]
struct PolicyInner {
    scopes: Vec<String>,
    all_required: bool,
}

impl ScopePolicy {
    /// Every listed scope must be granted.
    pub fn all_of<S: Into<String>>(scopes: impl IntoIterator<Item = S>) -> Self {
        Self::new(scopes, true)
    }

    /// At least one listed scope must be granted. An empty list is never satisfied.
    pub fn any_of<S: Into<String>>(scopes: impl IntoIterator<Item = S>) -> Self {
        Self::new(scopes, false)
    }

    fn new<S: Into<String>>(scopes: impl IntoIterator<Item = S>, all_required: bool) -> Self {
        Self(Arc::new(PolicyInner {
            scopes: scopes.into_iter().map(Into::into).collect(),
            all_required,
        }))
    }

    /// The scopes the policy names.
    pub fn scopes(&self) -> &[String] {
        &self.0.scopes
    }

    /// Whether `granted` satisfies the policy.
    pub fn is_satisfied_by(&self, granted: &ScopeSet) -> bool {
        let mut required = self.0.scopes.iter();
        if self.0.all_required {
            required.all(|scope| granted.contains(scope))
        } else {
            required.any(|scope| granted.contains(scope))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies() {
        let granted: ScopeSet = ["openid read:messages", "profile"].into_iter().collect();
        assert!(ScopePolicy::all_of(["read:messages", "openid"]).is_satisfied_by(&granted));
        assert!(!ScopePolicy::all_of(["read:messages", "write:messages"]).is_satisfied_by(&granted));
        assert!(ScopePolicy::any_of(["write:messages", "profile"]).is_satisfied_by(&granted));
        assert!(!ScopePolicy::any_of(["write:messages"]).is_satisfied_by(&granted));
        assert!(!ScopePolicy::any_of(Vec::<String>::new()).is_satisfied_by(&granted));
    }

    #[test]
    fn deserializes_string_or_array() -> Result<(), serde_json::Error> {
        let from_string: ScopeSet = serde_json::from_str(r#""a  b c""#)?;
        let from_array: ScopeSet = serde_json::from_str(r#"["a","b","c"]"#)?;
        assert_eq!(from_string, from_array);
        assert_eq!(from_string.len(), 3);
        let items: ScopeSet = serde_json::from_str(r#"["b", "a", "b", "", "c d", "e\t"]"#)?;
        assert_eq!(items.iter().collect::<Vec<_>>(), ["a", "b"]);
        assert!(!items.contains("c") && !items.contains("c d") && !items.contains(""));
        assert_eq!(format!("{items:?}"), r#"{"a", "b"}"#);
        Ok(())
    }
}
