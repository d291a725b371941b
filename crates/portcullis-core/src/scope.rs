//! Scope strings (RFC 6749 §3.3): space-separated tokens, order kept, duplicates dropped.

/// Splits a scope string into its distinct tokens, in order.
pub fn parse(scope: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    for token in scope.split([' ', '\t', '\n']).filter(|t| !t.is_empty()) {
        if is_valid_token(token) && !tokens.iter().any(|t| t == token) {
            tokens.push(token.to_owned());
        }
    }
    tokens
}

/// RFC 6749 appendix A.4: `scope-token = 1*NQCHAR`.
pub fn is_valid_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 256
        && token
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// Joins tokens back into a scope string.
pub fn join(tokens: &[String]) -> String {
    tokens.join(" ")
}

/// The OpenID Connect scopes: granted to any client that asks, never checked against an API.
pub const OIDC_SCOPES: [&str; 5] = ["openid", "profile", "email", "offline_access", "address"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_dedups_and_keeps_order() {
        assert_eq!(
            parse("openid  read:messages openid\tprofile"),
            ["openid", "read:messages", "profile"]
        );
        assert!(parse("").is_empty());
        assert_eq!(parse("a \"b c"), ["a", "c"]);
    }
}
