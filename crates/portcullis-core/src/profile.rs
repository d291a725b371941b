//! A user's given and family names (Auth0's `given_name` and `family_name`, OIDC Core §5.1's
//! standard claims): what a user record keeps of them, whichever surface gives them — the
//! Management API, a sign-up, a bulk import, the dashboard or a provider's sign-in.

use thiserror::Error;

/// The most characters Auth0 keeps in a `given_name` or a `family_name`.
pub const MAX_NAME_PART_CHARS: usize = 150;

/// Which part of a user's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamePart {
    Given,
    Family,
}

impl NamePart {
    /// The property's name, as Auth0 and OIDC spell it.
    pub const fn field(self) -> &'static str {
        match self {
            NamePart::Given => "given_name",
            NamePart::Family => "family_name",
        }
    }
}

/// A given or family name longer than Auth0 keeps.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("{} must be at most {MAX_NAME_PART_CHARS} characters (it has {chars})", part.field())]
pub struct NameTooLong {
    pub part: NamePart,
    pub chars: usize,
}

/// `value` as a user record keeps it: an empty name is no name (as `null`); one of more than
/// [`MAX_NAME_PART_CHARS`] characters is refused.
pub fn name_part(part: NamePart, value: Option<String>) -> Result<Option<String>, NameTooLong> {
    let Some(value) = value.filter(|value| !value.is_empty()) else {
        return Ok(None);
    };
    let chars = value.chars().count();
    if chars > MAX_NAME_PART_CHARS {
        return Err(NameTooLong { part, chars });
    }
    Ok(Some(value))
}

/// A provider's value as a user record keeps it: cut at [`MAX_NAME_PART_CHARS`] characters
/// (a sign-in is never refused over its profile), and an empty one is no name.
pub fn provider_name_part(value: Option<String>) -> Option<String> {
    value
        .filter(|value| !value.is_empty())
        .map(|value| value.chars().take(MAX_NAME_PART_CHARS).collect())
}

/// The full name a given and a family name make (`"Ada Lovelace"`), for a profile that has no
/// `name` of its own; `None` when it has neither.
pub fn composed_name(given: Option<&str>, family: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = [given, family]
        .into_iter()
        .flatten()
        .filter(|part| !part.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_part_is_kept_up_to_the_bound_in_characters() {
        let at_bound = "é".repeat(MAX_NAME_PART_CHARS);
        assert_eq!(
            name_part(NamePart::Given, Some(at_bound.clone())),
            Ok(Some(at_bound))
        );
        let error = name_part(NamePart::Family, Some("x".repeat(151))).unwrap_err();
        assert_eq!(
            error.to_string(),
            "family_name must be at most 150 characters (it has 151)"
        );
        assert_eq!(name_part(NamePart::Given, Some(String::new())), Ok(None));
        assert_eq!(name_part(NamePart::Given, None), Ok(None));
    }

    #[test]
    fn a_providers_name_part_is_cut_never_refused() {
        let long = "ß".repeat(200);
        let kept = provider_name_part(Some(long)).unwrap();
        assert_eq!(kept.chars().count(), MAX_NAME_PART_CHARS);
        assert_eq!(provider_name_part(Some(String::new())), None);
    }

    #[test]
    fn names_compose_from_what_is_there() {
        assert_eq!(
            composed_name(Some("Ada"), Some("Lovelace")).as_deref(),
            Some("Ada Lovelace")
        );
        assert_eq!(
            composed_name(None, Some("Lovelace")).as_deref(),
            Some("Lovelace")
        );
        assert_eq!(composed_name(Some(""), None), None);
    }
}
