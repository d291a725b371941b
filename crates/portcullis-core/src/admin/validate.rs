//! Checks shared by several aggregates. Each error names its field as the Management API
//! spells it.

use portcullis_store::{RefreshTokenPolicy, ScopeDefinition};
use portcullis_types::ScopeToken;

use super::AdminError;

type Checked<T = ()> = Result<T, AdminError>;

/// The shortest client secret accepted from an operator.
pub const MIN_GIVEN_SECRET_LENGTH: usize = 32;

/// A name: required, trimmed.
pub(crate) fn name(field: &'static str, name: &str) -> Checked<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AdminError::invalid(field, format!("{field} is required")));
    }
    Ok(name.to_owned())
}

/// A URL given to us (a logout URL, a picture): absolute, `http` or `https`, no fragment.
pub(crate) fn url(field: &'static str, value: &str) -> Checked {
    checked_url(field, value, false)
}

pub(crate) fn urls(field: &'static str, values: &[String]) -> Checked {
    values.iter().try_for_each(|value| url(field, value))
}

/// Callback URLs: as [`url`], or a native app's private-use scheme (RFC 8252 §7.1) such as
/// `com.example.app:/callback`.
pub(crate) fn callback_urls(values: &[String]) -> Checked {
    values
        .iter()
        .try_for_each(|value| checked_url("callbacks", value, true))
}

fn checked_url(field: &'static str, value: &str, private_use_scheme: bool) -> Checked {
    let url = url::Url::parse(value).map_err(|_| {
        AdminError::invalid(field, format!("{field}: {value:?} is not an absolute URL"))
    })?;
    match url.scheme() {
        "http" | "https" => {}
        scheme if private_use_scheme && is_private_use_scheme(scheme) => {}
        _ if private_use_scheme => {
            return Err(AdminError::invalid(
                field,
                format!(
                    "{field}: {value:?} must be http, https or a native app's reverse-domain \
                     scheme such as com.example.app"
                ),
            ))
        }
        _ => {
            return Err(AdminError::invalid(
                field,
                format!("{field}: {value:?} must be http or https"),
            ))
        }
    }
    if url.fragment().is_some() {
        return Err(AdminError::invalid(
            field,
            format!("{field}: {value:?} must not contain a fragment"),
        ));
    }
    Ok(())
}

/// RFC 8252 §7.1: a native app's private-use scheme is a domain name its publisher controls,
/// in reverse order (`com.example.app`): two or more dot-separated labels of letters, digits
/// and inner hyphens. No scheme that runs script or reads local data (`javascript`, `data`,
/// `vbscript`, `file`, `blob`, `about`, ...) has that shape, so none can be registered.
fn is_private_use_scheme(scheme: &str) -> bool {
    let labels: Vec<&str> = scheme.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Origins are compared as `scheme://host[:port]` without a trailing slash.
pub(crate) fn origins(field: &'static str, origins: &[String]) -> Checked<Vec<String>> {
    origins
        .iter()
        .map(|origin| {
            let url = url::Url::parse(origin).map_err(|_| {
                AdminError::invalid(field, format!("{field}: {origin:?} is not an origin"))
            })?;
            // Any other scheme has an opaque origin, serialised as `null`: the origin of
            // sandboxed frames and local files, which must never be trusted.
            if !matches!(url.scheme(), "http" | "https") {
                return Err(AdminError::invalid(
                    field,
                    format!("{field}: {origin:?} must be an http or https origin"),
                ));
            }
            if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
                return Err(AdminError::invalid(
                    field,
                    format!("{field}: {origin:?} must be an origin, without a path"),
                ));
            }
            Ok(url.origin().ascii_serialization())
        })
        .collect()
}

/// A client id given by an operator: printable, URL-safe, of a sane length.
pub fn check_client_id(client_id: &str) -> Checked {
    let valid = !client_id.is_empty()
        && client_id.len() <= 128
        && client_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(AdminError::invalid(
            "client_id",
            "a client id must be 1 to 128 letters, digits, '-', '_' or '.'",
        ))
    }
}

/// An email address, roughly: one `@` with something on each side, no spaces.
pub fn check_email(email: &str) -> Checked {
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.starts_with('.')
                && !email.chars().any(char::is_whitespace)
        });
    if valid {
        Ok(())
    } else {
        Err(AdminError::invalid(
            "email",
            "a valid email address is required",
        ))
    }
}

/// A token lifetime in seconds: a minute to thirty days.
pub(crate) fn token_lifetime(field: &'static str, seconds: i64) -> Checked {
    if (60..=2_592_000).contains(&seconds) {
        Ok(())
    } else {
        Err(AdminError::invalid(
            field,
            format!("{field} must be between 60 and 2592000 seconds"),
        ))
    }
}

pub(crate) fn id_token_lifetime(seconds: i64) -> Checked {
    if (60..=2_592_000).contains(&seconds) {
        Ok(())
    } else {
        Err(AdminError::invalid(
            "jwt_configuration.lifetime_in_seconds",
            "jwt_configuration.lifetime_in_seconds must be between 60 and 2592000",
        ))
    }
}

/// Scope values are RFC 6749 scope tokens, each defined once.
pub(crate) fn scope_definitions(scopes: &[ScopeDefinition]) -> Checked {
    for (i, scope) in scopes.iter().enumerate() {
        if ScopeToken::parse(&scope.value).is_err() {
            return Err(AdminError::invalid(
                "scopes",
                format!("invalid scope value: {:?}", scope.value),
            ));
        }
        if scopes[..i].iter().any(|s| s.value == scope.value) {
            return Err(AdminError::invalid(
                "scopes",
                format!("scope {} is defined twice", scope.value),
            ));
        }
    }
    Ok(())
}

/// A client's refresh-token policy.
pub(crate) fn refresh_policy(policy: &RefreshTokenPolicy) -> Checked {
    let invalid = |message: &str| Err(AdminError::invalid("refresh_token", message));
    if !(0..=60).contains(&policy.leeway) {
        return invalid("refresh_token.leeway must be between 0 and 60");
    }
    if !(1..=31_557_600).contains(&policy.token_lifetime) {
        return invalid("refresh_token.token_lifetime must be between 1 and 31557600");
    }
    if !(1..=policy.token_lifetime).contains(&policy.idle_token_lifetime) {
        return invalid("refresh_token.idle_token_lifetime must be between 1 and token_lifetime");
    }
    Ok(())
}

/// A role name: 1 to 100 characters, trimmed.
pub(crate) fn role_name(name: &str) -> Checked<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AdminError::invalid(
            "name",
            "a role name must have 1 to 100 characters",
        ));
    }
    Ok(name.to_owned())
}

pub(crate) fn role_description(description: &str) -> Checked {
    if description.chars().count() > 1000 {
        return Err(AdminError::invalid(
            "description",
            "a role description must have at most 1000 characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_are_web_urls_or_reverse_domain_schemes() {
        for good in [
            "https://app.example/callback",
            "http://localhost:3000",
            "com.example.app:/callback",
            "com.example.app://callback",
            "io.my-app.ios:/oauth2redirect",
        ] {
            assert!(callback_urls(&[good.to_owned()]).is_ok(), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "JavaScript://%0aalert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)",
            "file:///etc/passwd",
            "blob:https://app.example/1234",
            "about:blank",
            "myapp://callback",
            "com..example:/cb",
            "com.-example:/cb",
            "https://app.example/#fragment",
            "/relative",
        ] {
            assert!(callback_urls(&[bad.to_owned()]).is_err(), "{bad}");
        }
        assert!(urls(
            "allowed_logout_urls",
            &["com.example.app:/logout".to_owned()]
        )
        .is_err());
    }

    #[test]
    fn origins_are_http_or_https() {
        assert_eq!(
            origins("web_origins", &["https://app.example/".to_owned()]).unwrap(),
            ["https://app.example"]
        );
        for bad in [
            "file:///",
            "com.example.app:/",
            "data:,",
            "https://app.example/path",
        ] {
            assert!(origins("web_origins", &[bad.to_owned()]).is_err(), "{bad}");
        }
    }
}
