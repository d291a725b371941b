//! Scopes (RFC 6749 §3.3): a scope is a list of distinct scope tokens, written separated by
//! spaces. Order is kept (the token response and the consent page show what was asked for, in
//! that order); a token repeated is kept once; a token that is not `1*NQCHAR` (appendix A.4)
//! makes the whole scope invalid instead of being dropped, so a client learns of its mistake.

use std::fmt;

/// The OpenID Connect scopes: granted to any client that asks, never checked against an API.
pub const OIDC_SCOPES: [&str; 5] = ["openid", "profile", "email", "offline_access", "address"];

/// The longest scope token accepted.
const MAX_TOKEN_LEN: usize = 256;

/// A scope string held an invalid token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("The scope {token:?} is not a valid scope token.")]
pub struct InvalidScope {
    /// The offending token, as sent.
    pub token: String,
}

/// One scope token, such as `read:messages`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopeToken(String);

impl ScopeToken {
    /// Checks `token` against RFC 6749 appendix A.4 (`1*NQCHAR`, at most 256 bytes).
    pub fn parse(token: &str) -> Result<Self, InvalidScope> {
        let valid = !token.is_empty()
            && token.len() <= MAX_TOKEN_LEN
            && token
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
        if valid {
            Ok(ScopeToken(token.to_owned()))
        } else {
            Err(InvalidScope {
                token: token.to_owned(),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is one of the OpenID Connect scopes.
    pub fn is_oidc(&self) -> bool {
        OIDC_SCOPES.contains(&self.0.as_str())
    }
}

impl fmt::Display for ScopeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ScopeToken {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Distinct scope tokens, in the order first given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope(Vec<ScopeToken>);

impl Scope {
    /// An empty scope.
    pub const fn empty() -> Self {
        Scope(Vec::new())
    }

    /// Parses a scope string. Tokens are separated by spaces (tabs and newlines are tolerated);
    /// an invalid token fails the whole scope.
    pub fn parse(scope: &str) -> Result<Self, InvalidScope> {
        scope
            .split([' ', '\t', '\n'])
            .filter(|token| !token.is_empty())
            .map(ScopeToken::parse)
            .collect()
    }

    /// A scope from tokens already checked, each kept once.
    pub fn from_tokens(tokens: impl IntoIterator<Item = ScopeToken>) -> Self {
        tokens.into_iter().collect()
    }

    /// The tokens, in order.
    pub fn tokens(&self) -> &[ScopeToken] {
        &self.0
    }

    /// The tokens as strings, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        self.0.iter().map(ScopeToken::as_str)
    }

    pub fn contains(&self, token: &str) -> bool {
        self.iter().any(|held| held == token)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The tokens for which `keep` holds, in order.
    pub fn filter(&self, mut keep: impl FnMut(&ScopeToken) -> bool) -> Scope {
        Scope(self.0.iter().filter(|token| keep(token)).cloned().collect())
    }

    /// Whether every token of `self` is in `other`.
    pub fn is_subset_of(&self, other: &Scope) -> bool {
        self.iter().all(|token| other.contains(token))
    }

    /// Adds `token` at the end unless it is already there.
    pub fn insert(&mut self, token: ScopeToken) {
        if !self.0.contains(&token) {
            self.0.push(token);
        }
    }
}

impl<const N: usize> PartialEq<[&str; N]> for Scope {
    fn eq(&self, other: &[&str; N]) -> bool {
        self.iter().eq(other.iter().copied())
    }
}

impl FromIterator<ScopeToken> for Scope {
    fn from_iter<I: IntoIterator<Item = ScopeToken>>(tokens: I) -> Self {
        let mut scope = Scope::empty();
        for token in tokens {
            scope.insert(token);
        }
        scope
    }
}

impl fmt::Display for Scope {
    /// The scope string: tokens separated by single spaces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, token) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(token.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_dedups_and_keeps_order() {
        let scope = Scope::parse("openid  read:messages openid\tprofile").unwrap();
        assert_eq!(
            scope.iter().collect::<Vec<_>>(),
            ["openid", "read:messages", "profile"]
        );
        assert_eq!(scope.to_string(), "openid read:messages profile");
        assert!(Scope::parse("").unwrap().is_empty());
    }

    #[test]
    fn an_invalid_token_fails_the_whole_scope() {
        assert_eq!(
            Scope::parse("a \"b c"),
            Err(InvalidScope {
                token: "\"b".into()
            })
        );
        assert!(Scope::parse("read\\x").is_err());
        assert!(ScopeToken::parse(&"x".repeat(257)).is_err());
        assert!(ScopeToken::parse(&"x".repeat(256)).is_ok());
    }

    #[test]
    fn subsets_and_filters() {
        let granted = Scope::parse("openid read write").unwrap();
        let asked = Scope::parse("write openid").unwrap();
        assert!(asked.is_subset_of(&granted));
        assert!(!granted.is_subset_of(&asked));
        assert_eq!(granted.filter(|t| !t.is_oidc()).to_string(), "read write");
    }
}

#[cfg(test)]
mod properties {
    //! The scope algebra as the server uses it: parsing normalises (one of each token, first
    //! order kept), `insert` is the union, `filter` by membership the intersection, and
    //! `is_subset_of` the order between them.

    use proptest::prelude::*;

    use super::*;

    /// A valid scope token (NQCHAR, short, from a small alphabet so that tokens repeat).
    fn token() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-c]{1,2}",
            "(read|write):[a-c]{1,2}",
            Just("openid".to_owned()),
            "[!#-\\[\\]-~]{1,6}",
        ]
    }

    fn scope() -> impl Strategy<Value = Scope> {
        prop::collection::vec(token(), 0..8).prop_map(|tokens| {
            Scope::parse(&tokens.join(" ")).expect("valid tokens make a valid scope")
        })
    }

    fn union(a: &Scope, b: &Scope) -> Scope {
        let mut union = a.clone();
        for token in b.tokens() {
            union.insert(token.clone());
        }
        union
    }

    fn intersection(a: &Scope, b: &Scope) -> Scope {
        a.filter(|token| b.contains(token.as_str()))
    }

    proptest! {
        #[test]
        fn parsing_keeps_each_token_once_in_first_order(
            tokens in prop::collection::vec(token(), 0..12),
            separators in prop::collection::vec(prop_oneof![Just(" "), Just("  "), Just("\t"), Just("\n")], 12),
        ) {
            let text: String = tokens
                .iter()
                .zip(&separators)
                .map(|(token, separator)| format!("{token}{separator}"))
                .collect();
            let scope = Scope::parse(&text).unwrap();
            let mut expected: Vec<&str> = Vec::new();
            for token in &tokens {
                if !expected.contains(&token.as_str()) {
                    expected.push(token);
                }
            }
            prop_assert_eq!(scope.iter().collect::<Vec<_>>(), expected);
            // The written form parses back to the same scope.
            prop_assert_eq!(Scope::parse(&scope.to_string()).unwrap(), scope);
        }

        #[test]
        fn one_invalid_token_fails_the_whole_scope(
            before in prop::collection::vec(token(), 0..4),
            bad in prop_oneof!["[a-z]{0,3}[\"\\\\\u{0}-\u{1f}\u{7f}-\u{ff}][a-z]{0,3}", "[a-z]{257,300}"],
            after in prop::collection::vec(token(), 0..4),
        ) {
            let bad = bad.replace([' ', '\t', '\n'], "\"");
            let text = [before.join(" "), bad.clone(), after.join(" ")].join(" ");
            prop_assert!(Scope::parse(&text).is_err(), "{text:?} parsed");
        }

        #[test]
        fn union_and_intersection_bound_each_other(a in scope(), b in scope(), c in scope()) {
            let (both, either) = (intersection(&a, &b), union(&a, &b));
            prop_assert!(both.is_subset_of(&a) && both.is_subset_of(&b));
            prop_assert!(a.is_subset_of(&either) && b.is_subset_of(&either));
            prop_assert_eq!(either.len() + both.len(), a.len() + b.len());
            // Membership is exactly the set operation's.
            for token in a.iter().chain(b.iter()) {
                prop_assert_eq!(both.contains(token), a.contains(token) && b.contains(token));
                prop_assert!(either.contains(token));
            }
            // The subset order: reflexive and transitive; mutual subsets hold the same tokens.
            prop_assert!(a.is_subset_of(&a));
            if a.is_subset_of(&b) && b.is_subset_of(&c) {
                prop_assert!(a.is_subset_of(&c));
            }
            if a.is_subset_of(&b) && b.is_subset_of(&a) {
                prop_assert_eq!(a.len(), b.len());
                prop_assert_eq!(intersection(&a, &b), a.clone());
            }
            // Union keeps the left operand's order and appends what is new.
            prop_assert_eq!(&either.tokens()[..a.len()], a.tokens());
        }
    }
}
