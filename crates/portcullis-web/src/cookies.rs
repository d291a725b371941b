//! Reading and setting cookies.

use std::borrow::Cow;

use axum::http::{header, HeaderMap, HeaderValue};
use cookie::{Cookie, SameSite};

/// The value of cookie `name` in the request, if any.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

/// Where a cookie is sent and how long it lives.
#[derive(Clone, Copy, Debug)]
pub struct CookieOptions<'a> {
    pub path: &'a str,
    /// Only over https: set when the issuer is https.
    pub secure: bool,
    /// Seconds; `None` for a session cookie, `Some(0)` to remove it.
    pub max_age: Option<i64>,
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax (sent in the same-site iframe of silent
/// authentication and on top-level navigations back from an application).
pub fn set_cookie(name: &str, value: &str, options: CookieOptions<'_>) -> HeaderValue {
    let mut cookie = Cookie::build((name, value))
        .path(options.path)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(options.secure)
        .build();
    if let Some(seconds) = options.max_age {
        cookie.set_max_age(cookie::time::Duration::seconds(seconds));
    }
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// How a deployment names and scopes its cookies. Under https every cookie is a `__Host-`
/// cookie (Secure, `Path=/`, no `Domain`): a sibling subdomain or a plain-http page cannot set
/// or shadow it. Under http (local development) the bare names are used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cookies {
    secure: bool,
}

impl Cookies {
    /// Cookies for an issuer: `__Host-` cookies when it is https.
    pub fn for_issuer(issuer: &str) -> Self {
        Cookies {
            secure: issuer.starts_with("https://"),
        }
    }

    /// The name cookie `base` has on the wire.
    pub fn name<'a>(&self, base: &'a str) -> Cow<'a, str> {
        if self.secure {
            Cow::Owned(format!("__Host-{base}"))
        } else {
            Cow::Borrowed(base)
        }
    }

    /// The value of cookie `base` in the request, if any.
    pub fn get(&self, headers: &HeaderMap, base: &str) -> Option<String> {
        cookie_value(headers, &self.name(base))
    }

    /// A `Set-Cookie` value for cookie `base`, sent only under `path` over http; a `__Host-`
    /// cookie must have `Path=/`.
    pub fn set(&self, base: &str, value: &str, path: &str, max_age: Option<i64>) -> HeaderValue {
        let options = CookieOptions {
            path: if self.secure { "/" } else { path },
            secure: self.secure,
            max_age,
        };
        set_cookie(&self.name(base), value, options)
    }

    /// A `Set-Cookie` value that removes cookie `base`.
    pub fn clear(&self, base: &str, path: &str) -> HeaderValue {
        self.set(base, "", path, Some(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_cookies_are_host_cookies() {
        let cookies = Cookies::for_issuer("https://auth.example.com/");
        let set = cookies.set("portcullis_session", "v", "/dashboard", None);
        let text = set.to_str().unwrap();
        assert!(text.starts_with("__Host-portcullis_session=v"), "{text}");
        assert!(
            text.contains("Path=/;") || text.ends_with("Path=/"),
            "{text}"
        );
        assert!(
            text.contains("Secure") && !text.contains("Domain"),
            "{text}"
        );
        let plain = Cookies::for_issuer("http://localhost:4000/");
        let set = plain.set("portcullis_admin", "v", "/dashboard", None);
        assert!(set.to_str().unwrap().starts_with("portcullis_admin=v"));
    }
}
