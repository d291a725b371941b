//! What the OpenAPI document says of every operation alike, filled in on the generated
//! document so that it tells the truth about the answers (schemathesis checks it against the
//! real server: `crates/portcullis/tests/schema.rs`):
//!
//! - every operation may answer 400 in Auth0's error shape (a malformed query string, path or
//!   body is refused before the handler runs);
//! - a paged list answers an array, or with `include_totals` or `from` an object holding the
//!   array under the resource's name (with `start`, `limit`, `length`, `total`, or `next`);
//! - with `fields` an object carries only the fields asked for, so the answer's objects have
//!   no required property (a `<Name>Fields` schema, the same properties, none required).

use serde_json::{json, Map, Value};

/// Completes the document (as JSON) in place.
pub fn complete(document: &mut Value) {
    let mut partial = Vec::new();
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for operation in item.values_mut().filter_map(Value::as_object_mut) {
                complete_operation(path, operation, &mut partial);
            }
        }
    }
    let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for name in partial {
        let fields = format!("{name}Fields");
        if schemas.contains_key(&fields) {
            continue;
        }
        if let Some(mut schema) = schemas.get(&name).cloned() {
            if let Some(schema) = schema.as_object_mut() {
                schema.remove("required");
            }
            schemas.insert(fields, schema);
        }
    }
}

fn complete_operation(path: &str, operation: &mut Map<String, Value>, partial: &mut Vec<String>) {
    let parameters: Vec<String> = operation
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    let has = |name: &str| parameters.iter().any(|p| p == name);
    let (fields, paged) = (has("fields"), has("include_totals") || has("from"));
    let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    responses.entry("400").or_insert_with(|| {
        json!({
            "description": "Invalid body, path or query string",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        })
    });
    let Some(schema) = responses
        .get_mut("200")
        .and_then(|r| r.pointer_mut("/content/application~1json/schema"))
    else {
        return;
    };
    if fields {
        // `$ref` of the object, or of the items of an array.
        let at = if schema.get("$ref").is_some() {
            "/$ref"
        } else {
            "/items/$ref"
        };
        if let Some(reference) = schema.pointer_mut(at) {
            if let Some(name) = reference
                .as_str()
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .map(str::to_owned)
            {
                *reference = Value::String(format!("#/components/schemas/{name}Fields"));
                partial.push(name);
            }
        }
    }
    if paged && schema["type"] == "array" {
        let key = path
            .rsplit('/')
            .find(|segment| !segment.starts_with('{'))
            .unwrap_or_default()
            .replace('-', "_");
        let list = schema.clone();
        *schema = json!({
            "oneOf": [
                list.clone(),
                {
                    "type": "object",
                    "required": [key],
                    "properties": {
                        key.clone(): list,
                        "start": {"type": "integer"},
                        "limit": {"type": "integer"},
                        "length": {"type": "integer"},
                        "total": {"type": "integer"},
                        "next": {"type": "string"},
                    }
                }
            ]
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_documented_paged_and_projected_and_every_operation_answers_400() {
        let array = json!({"type": "array", "items": {"$ref": "#/components/schemas/User"}});
        let mut document = json!({
            "paths": {
                "/users": {"get": {
                    "parameters": [{"name": "include_totals"}, {"name": "fields"}],
                    "responses": {"200": {"description": "Users",
                        "content": {"application/json": {"schema": array}}}}
                }},
                "/users/{id}": {"delete": {"responses": {"204": {"description": "Gone"}}}}
            },
            "components": {"schemas": {"User": {
                "type": "object", "required": ["user_id"],
                "properties": {"user_id": {"type": "string"}}
            }}}
        });
        complete(&mut document);
        let schema = &document["paths"]["/users"]["get"]["responses"]["200"]["content"]
            ["application/json"]["schema"];
        let partial = json!({"$ref": "#/components/schemas/UserFields"});
        assert_eq!(schema["oneOf"][0]["items"], partial);
        assert_eq!(schema["oneOf"][1]["required"], json!(["users"]));
        assert_eq!(schema["oneOf"][1]["properties"]["users"]["items"], partial);
        let fields = &document["components"]["schemas"]["UserFields"];
        assert!(fields.get("required").is_none());
        assert!(fields["properties"]["user_id"].is_object());
        for (path, method) in [("/users", "get"), ("/users/{id}", "delete")] {
            assert!(
                document["paths"][path][method]["responses"]["400"].is_object(),
                "{method} {path}"
            );
        }
    }
}
