//! Where a request carries its token: the `Authorization` header, then the opted-in cookie and
//! query parameter.

use std::borrow::Cow;

use axum::http::{header, HeaderMap, Uri};

use crate::error::{AuthError, TokenError};

/// Where tokens are looked for besides the `Authorization` header. Both are opt-in.
#[derive(Debug, Clone, Default)]
pub(crate) struct TokenSources {
    pub(crate) cookie: Option<String>,
    pub(crate) query_parameter: Option<String>,
}

impl TokenSources {
    /// The token, if the request carries one. An `Authorization` header with another scheme
    /// (Basic, say) counts as no token, which RFC 6750 §3.1 answers without an error code.
    pub(crate) fn find<'a>(
        &self,
        headers: &'a HeaderMap,
        uri: &'a Uri,
    ) -> Result<Option<Cow<'a, str>>, AuthError> {
        let mut authorization = headers.get_all(header::AUTHORIZATION).iter();
        if let Some(value) = authorization.next() {
            // Two Authorization headers leave it ambiguous which one an upstream proxy checked.
            if authorization.next().is_some() {
                return Err(TokenError::Malformed.into());
            }
            let value = value.to_str().map_err(|_| TokenError::Malformed)?;
            if let Some((scheme, credentials)) = value.split_once(' ') {
                if scheme.eq_ignore_ascii_case("bearer") {
                    let token = credentials.trim_start_matches(' ');
                    if token.is_empty() || token.contains(' ') {
                        return Err(TokenError::Malformed.into());
                    }
                    return Ok(Some(Cow::Borrowed(token)));
                }
            } else if value.eq_ignore_ascii_case("bearer") {
                return Err(TokenError::Malformed.into());
            }
        }
        if let Some(name) = &self.cookie {
            if let Some(token) = find_cookie(headers, name) {
                return Ok(Some(Cow::Borrowed(token)));
            }
        }
        if let (Some(name), Some(query)) = (&self.query_parameter, uri.query()) {
            if let Some((_, token)) =
                url::form_urlencoded::parse(query.as_bytes()).find(|(key, _)| key == name)
            {
                return Ok(Some(Cow::Owned(token.into_owned())));
            }
        }
        Ok(None)
    }
}

fn find_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name && !value.is_empty()).then_some(value))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_other_schemes_are_no_token() {
        let sources = TokenSources::default();
        let uri = Uri::from_static("/");
        for scheme in ["Bearer abc", "bearer abc", "BEARER abc"] {
            let request = headers(&[(header::AUTHORIZATION, scheme)]);
            let found = sources.find(&request, &uri);
            assert!(
                matches!(found, Ok(Some(token)) if token == "abc"),
                "{scheme}"
            );
        }
        let request = headers(&[(header::AUTHORIZATION, "Basic dXNlcg==")]);
        let basic = sources.find(&request, &uri);
        assert!(matches!(basic, Ok(None)));
        for malformed in ["Bearer", "Bearer ", "Bearer a b"] {
            let request = headers(&[(header::AUTHORIZATION, malformed)]);
            let found = sources.find(&request, &uri);
            assert!(
                matches!(found, Err(AuthError::InvalidToken(TokenError::Malformed))),
                "{malformed:?}"
            );
        }
    }

    #[test]
    fn cookie_and_query_only_when_opted_in() {
        let uri = Uri::from_static("/api?access_token=from-query");
        let cookie = headers(&[(header::COOKIE, "theme=dark; at=from-cookie")]);
        let none = TokenSources::default();
        assert!(matches!(none.find(&cookie, &uri), Ok(None)));

        let opted_in = TokenSources {
            cookie: Some("at".into()),
            query_parameter: Some("access_token".into()),
        };
        assert!(matches!(opted_in.find(&cookie, &uri), Ok(Some(t)) if t == "from-cookie"));
        assert!(matches!(opted_in.find(&HeaderMap::new(), &uri), Ok(Some(t)) if t == "from-query"));
    }
}
