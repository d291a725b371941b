//! Form bodies and queries, read leniently: a missing field is empty, a repeated one (check
//! boxes, multiple selects) is a list. The dashboard never answers a malformed form with an
//! extractor's rejection; the handler says what is wrong next to the field.

/// The pairs of an `application/x-www-form-urlencoded` body or query string.
#[derive(Clone, Debug, Default)]
pub struct FormData(Vec<(String, String)>);

impl FormData {
    pub fn parse(bytes: &[u8]) -> Self {
        FormData(url::form_urlencoded::parse(bytes).into_owned().collect())
    }

    pub fn from_query(query: Option<&str>) -> Self {
        Self::parse(query.unwrap_or_default().as_bytes())
    }

    /// The first value of `name`, untrimmed, or "".
    pub fn raw(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    }

    /// Whether the form has a field `name` at all (even empty).
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(key, _)| key == name)
    }

    /// The first value of `name`, trimmed, or "".
    pub fn get(&self, name: &str) -> &str {
        self.raw(name).trim()
    }

    /// The first value of `name`, trimmed, when not empty.
    pub fn opt(&self, name: &str) -> Option<&str> {
        Some(self.get(name)).filter(|value| !value.is_empty())
    }

    /// Every non-empty value of `name` (check boxes, multiple selects).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(key, value)| key == name && !value.trim().is_empty())
            .map(|(_, value)| value.trim().to_owned())
            .collect()
    }

    /// Whether a check box named `name` was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.0
            .iter()
            .any(|(key, value)| key == name && value != "off")
    }

    /// A list typed into one field: entries separated by commas or new lines.
    pub fn list(&self, name: &str) -> Vec<String> {
        split_list(self.raw(name))
    }

    /// `name` as an integer, or the message to show next to the field.
    pub fn integer(&self, name: &str, label: &str) -> Result<i64, String> {
        self.get(name)
            .parse()
            .map_err(|_| format!("{label} must be a whole number"))
    }
}

/// Entries separated by commas or new lines, trimmed, without empty ones.
pub fn split_list(text: &str) -> Vec<String> {
    text.split([',', '\n', '\r'])
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_leniently() {
        let form = FormData::parse(
            b"name=+My+API+&grant=a&grant=b&grant=&on=on&urls=http%3A%2F%2Fa%2C+http%3A%2F%2Fb%0D%0Ahttp%3A%2F%2Fc",
        );
        assert_eq!(form.get("name"), "My API");
        assert_eq!(form.raw("name"), " My API ");
        assert_eq!(form.all("grant"), ["a", "b"]);
        assert!(form.checked("on"));
        assert!(!form.checked("off"));
        assert_eq!(form.opt("missing"), None);
        assert_eq!(form.list("urls"), ["http://a", "http://b", "http://c"]);
        assert!(form.integer("name", "Name").is_err());
    }
}
