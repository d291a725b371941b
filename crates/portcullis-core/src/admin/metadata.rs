//! Users' metadata (Auth0's `user_metadata` and `app_metadata`): JSON objects, changed with
//! Auth0's merge rules and bounded in size; and applications' (`client_metadata`): a few
//! strings.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::AdminError;

/// The largest metadata object stored, serialised, in bytes. Auth0 allows far more, but a
/// user record is read on every login: metadata is for small facts, not documents.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

/// Properties `app_metadata` may not hold (Auth0's list: they would shadow the profile's).
const RESERVED_APP_METADATA: &[&str] = &[
    "blocked",
    "clientID",
    "created_at",
    "email",
    "email_verified",
    "global_client_id",
    "globalClientID",
    "identities",
    "lastIP",
    "lastLogin",
    "loginsCount",
    "metadata",
    "user_id",
];

/// How a change treats a metadata object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetadataChange {
    /// Auth0's rules for `PATCH /users/{id}`: top-level properties are merged into the stored
    /// object, one set to `null` is deleted, nested objects are replaced whole, and an empty
    /// object clears everything.
    Merge(Map<String, Value>),
    /// The whole object is replaced (the dashboard's JSON editor).
    Replace(Map<String, Value>),
}

impl MetadataChange {
    /// The object after the change; `field` names it in errors (`user_metadata`,
    /// `app_metadata`).
    pub(crate) fn apply(
        self,
        field: &'static str,
        current: &Map<String, Value>,
    ) -> Result<Map<String, Value>, AdminError> {
        let changed = match self {
            MetadataChange::Merge(patch) if patch.is_empty() => Map::new(),
            MetadataChange::Merge(patch) => {
                let mut merged = current.clone();
                for (key, value) in patch {
                    if value.is_null() {
                        merged.remove(&key);
                    } else {
                        merged.insert(key, value);
                    }
                }
                merged
            }
            MetadataChange::Replace(object) => object,
        };
        check(field, &changed)?;
        Ok(changed)
    }
}

/// Property names hold neither `.` nor `$` (at any depth), `app_metadata` holds none of
/// Auth0's reserved names, and the object fits in [`MAX_METADATA_BYTES`].
fn check(field: &'static str, object: &Map<String, Value>) -> Result<(), AdminError> {
    if let Some(name) = bad_name(object) {
        return Err(AdminError::invalid(
            field,
            format!("{field}: the property name {name:?} must not contain '.' or '$'"),
        ));
    }
    if field == "app_metadata" {
        if let Some(name) = RESERVED_APP_METADATA
            .iter()
            .find(|name| object.contains_key(**name))
        {
            return Err(AdminError::invalid(
                field,
                format!("app_metadata: the property {name} is reserved"),
            ));
        }
    }
    let size = serde_json::to_string(object).map_or(usize::MAX, |text| text.len());
    if size > MAX_METADATA_BYTES {
        return Err(AdminError::invalid(
            field,
            format!("{field} is too large: at most {MAX_METADATA_BYTES} bytes of JSON"),
        ));
    }
    Ok(())
}

fn bad_name(object: &Map<String, Value>) -> Option<String> {
    object.iter().find_map(|(key, value)| {
        if key.contains(['.', '$']) {
            return Some(key.clone());
        }
        match value {
            Value::Object(inner) => bad_name(inner),
            Value::Array(items) => items.iter().find_map(|item| match item {
                Value::Object(inner) => bad_name(inner),
                _ => None,
            }),
            _ => None,
        }
    })
}

/// The most properties an application's `client_metadata` holds (Auth0's bound).
pub const MAX_CLIENT_METADATA_KEYS: usize = 10;
/// The longest name and value of a `client_metadata` property, in characters (Auth0's bound).
pub const MAX_CLIENT_METADATA_LENGTH: usize = 255;

/// An application's `client_metadata` as Auth0 takes it: an object of at most
/// [`MAX_CLIENT_METADATA_KEYS`] properties whose names and values are strings of at most
/// [`MAX_CLIENT_METADATA_LENGTH`] characters; names are letters, digits, spaces, tabs and
/// `:,-+=_*?"/\()<>@`. With `current`, `object` is a `PATCH`: its properties are merged into
/// `current` and one set to `null` is removed; without, it is the whole object.
pub fn client_metadata(
    current: Option<&BTreeMap<String, String>>,
    object: Map<String, Value>,
) -> Result<BTreeMap<String, String>, AdminError> {
    const FIELD: &str = "client_metadata";
    let mut metadata = current.cloned().unwrap_or_default();
    for (key, value) in object {
        if key.is_empty()
            || key.chars().count() > MAX_CLIENT_METADATA_LENGTH
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " \t:,-+=_*?\"/\\()<>@".contains(c))
        {
            return Err(AdminError::invalid(
                FIELD,
                format!(
                    "client_metadata: the property name {key:?} must be 1 to \
                     {MAX_CLIENT_METADATA_LENGTH} letters, digits, spaces or :,-+=_*?\"/\\()<>@"
                ),
            ));
        }
        match value {
            Value::Null if current.is_some() => {
                metadata.remove(&key);
            }
            Value::String(text) if text.chars().count() <= MAX_CLIENT_METADATA_LENGTH => {
                metadata.insert(key, text);
            }
            _ => {
                return Err(AdminError::invalid(
                    FIELD,
                    format!(
                        "client_metadata.{key} must be a string of at most \
                         {MAX_CLIENT_METADATA_LENGTH} characters"
                    ),
                ))
            }
        }
    }
    if metadata.len() > MAX_CLIENT_METADATA_KEYS {
        return Err(AdminError::invalid(
            FIELD,
            format!("client_metadata holds at most {MAX_CLIENT_METADATA_KEYS} properties"),
        ));
    }
    Ok(metadata)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn merges_like_auth0() {
        let current = object(json!({"color": "red", "addresses": {"home": "1 Main St"}, "n": 1}));
        let patch =
            object(json!({"color": null, "addresses": {"work": "2 Side St"}, "lang": "fr"}));
        let merged = MetadataChange::Merge(patch)
            .apply("user_metadata", &current)
            .unwrap();
        assert_eq!(
            Value::Object(merged),
            json!({"addresses": {"work": "2 Side St"}, "n": 1, "lang": "fr"})
        );
        let cleared = MetadataChange::Merge(Map::new())
            .apply("user_metadata", &current)
            .unwrap();
        assert!(cleared.is_empty());
        let replaced = MetadataChange::Replace(object(json!({"a": 1})))
            .apply("user_metadata", &current)
            .unwrap();
        assert_eq!(Value::Object(replaced), json!({"a": 1}));
    }

    #[test]
    fn client_metadata_is_a_few_strings_merged_on_patch() {
        let created = client_metadata(
            None,
            object(json!({"home": "https://a.example", "tier": "gold"})),
        )
        .unwrap();
        let patched = client_metadata(
            Some(&created),
            object(json!({"tier": null, "region": "eu", "home": "https://b.example"})),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&patched).unwrap(),
            json!({"home": "https://b.example", "region": "eu"})
        );
        let many: Map<String, Value> = (0..=MAX_CLIENT_METADATA_KEYS)
            .map(|n| (format!("k{n}"), json!("v")))
            .collect();
        let long = "x".repeat(MAX_CLIENT_METADATA_LENGTH + 1);
        for bad in [
            json!({"n": 1}),
            json!({"o": {"a": "b"}}),
            json!({"null on create": null}),
            json!({"v": long}),
            json!({ long.clone(): "v" }),
            json!({"": "v"}),
            json!({"dot.ted": "v"}),
            Value::Object(many),
        ] {
            let error = client_metadata(None, object(bad.clone())).unwrap_err();
            assert_eq!(error.field(), Some("client_metadata"), "{bad}");
        }
        let ok_name = "a:,-+=_*?\"/\\()<>@ \tZ9";
        assert!(client_metadata(None, object(json!({ ok_name: "é".repeat(255) }))).is_ok());
        let full: BTreeMap<String, String> = (0..MAX_CLIENT_METADATA_KEYS)
            .map(|n| (format!("k{n}"), "v".to_owned()))
            .collect();
        assert!(client_metadata(Some(&full), object(json!({"k0": null, "new": "v"}))).is_ok());
        assert!(client_metadata(Some(&full), object(json!({"new": "v"}))).is_err());
    }

    #[test]
    fn refuses_bad_names_reserved_names_and_large_objects() {
        let empty = Map::new();
        for (field, bad) in [
            ("user_metadata", json!({"preference.color": "pink"})),
            ("user_metadata", json!({"a": {"$set": 1}})),
            ("user_metadata", json!({"a": [{"b.c": 1}]})),
            ("app_metadata", json!({"email": "x@example.com"})),
            (
                "user_metadata",
                json!({"blob": "x".repeat(MAX_METADATA_BYTES)}),
            ),
        ] {
            let error = MetadataChange::Merge(object(bad.clone()))
                .apply(field, &empty)
                .unwrap_err();
            assert_eq!(error.field(), Some(field), "{bad}");
        }
        assert!(MetadataChange::Merge(object(json!({"email": "ok"})))
            .apply("user_metadata", &empty)
            .is_ok());
    }
}
