//! A value that must never reach a log line: its `Debug` and `Display` print `[redacted]`, it
//! has no `Serialize`, and the only way to the value is [`Secret::expose`], which a reviewer
//! can search for.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A password, client secret, authorization code, refresh token, master key or database URL.
#[derive(Clone, Default)]
pub struct Secret<T = String>(T);

impl<T> Secret<T> {
    pub const fn new(value: T) -> Self {
        Secret(value)
    }

    /// The value itself, for the one place that needs it (hashing, sealing, connecting).
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// The value, consuming the wrapper.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl Secret<String> {
    /// The value as a string slice.
    pub fn expose_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret<String> {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret<String> {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shows_the_value() {
        let secret = Secret::from("hunter2");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(format!("{secret:?}"), "Secret([redacted])");
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)] // Only its Debug output is read.
        struct Form {
            password: Secret,
        }
        let form: Form = serde_json::from_str(r#"{"password":"hunter2"}"#).unwrap();
        assert!(!format!("{form:?}").contains("hunter2"));
        assert_eq!(form.password.expose_str(), "hunter2");
    }
}
