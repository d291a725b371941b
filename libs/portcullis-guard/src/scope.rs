//! Scopes granted by a token and the scopes a route requires.

use std::{collections::BTreeSet, fmt, sync::Arc};

use serde::{
    de::{self, SeqAccess, Visitor},
    Deserialize, Deserializer,
};

/// A set of scope tokens, read from a space-delimited `scope` string (RFC 8693 §4.2, the form
/// Auth0 issues) or from a JSON array of strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(BTreeSet<String>);

impl ScopeSet {
    /// Whether `scope` is in the set.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    /// The scopes, in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// How many scopes the set holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn insert_delimited(&mut self, text: &str) {
        self.0
            .extend(text.split_ascii_whitespace().map(str::to_owned));
    }

    pub(crate) fn insert(&mut self, scope: &str) {
        self.0.insert(scope.to_owned());
    }
}

impl<S: AsRef<str>> FromIterator<S> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut set = Self::default();
        for scope in iter {
            set.insert_delimited(scope.as_ref());
        }
        set
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
                let mut set = ScopeSet::default();
                set.insert_delimited(text);
                Ok(set)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ScopeSet, A::Error> {
                let mut set = ScopeSet::default();
                while let Some(scope) = seq.next_element::<String>()? {
                    set.insert(&scope);
                }
                Ok(set)
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
        Ok(())
    }
}
