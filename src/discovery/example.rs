//! One example call for a tool, made from its input schema, so a model that found the tool
//! sees the shape of a call before it makes one: every required argument with a value of its
//! type (the schema's own example, default or first enum value where it has one, else a
//! placeholder naming what goes there).

use serde_json::{Map, Value, json};

/// Example arguments for an input schema: its required properties only.
pub fn arguments(schema: &Map<String, Value>) -> Map<String, Value> {
    object(schema, schema, 0)
}

/// The required properties of `schema`, a part of `root` (where `$ref`s point).
fn object(
    root: &Map<String, Value>,
    schema: &Map<String, Value>,
    depth: usize,
) -> Map<String, Value> {
    let props = schema.get("properties").and_then(Value::as_object);
    let required = schema.get("required").and_then(Value::as_array);
    let mut out = Map::new();
    let (Some(props), Some(required)) = (props, required) else {
        return out;
    };
    for name in required.iter().filter_map(Value::as_str) {
        let prop = props.get(name).unwrap_or(&Value::Null);
        out.insert(name.to_owned(), value(root, name, prop, depth));
    }
    out
}

fn value(root: &Map<String, Value>, name: &str, prop: &Value, depth: usize) -> Value {
    if depth > 3 {
        return json!(format!("<{name}>"));
    }
    if let Some(target) = prop.get("$ref").and_then(Value::as_str) {
        let found = ["#/$defs/", "#/definitions/"].iter().find_map(|prefix| {
            let key = target.strip_prefix(prefix)?;
            root.get(&prefix[2..prefix.len() - 1])?.get(key)
        });
        return match found {
            Some(def) => value(root, name, def, depth + 1),
            None => json!(format!("<{name}>")),
        };
    }
    let own = |key: &str| prop.get(key).filter(|v| !v.is_null());
    if let Some(v) = own("examples")
        .and_then(|e| e.get(0))
        .or_else(|| own("example"))
    {
        return v.clone();
    }
    if let Some(v) = own("default").or_else(|| own("const")) {
        return v.clone();
    }
    if let Some(v) = own("enum").and_then(|e| e.get(0)) {
        return v.clone();
    }
    if let Some(first) = ["anyOf", "oneOf"]
        .iter()
        .find_map(|k| own(k).and_then(|a| a.get(0)))
    {
        return value(root, name, first, depth + 1);
    }
    let ty = match prop.get("type") {
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null"),
        Some(Value::String(t)) => Some(t.as_str()),
        _ => None,
    };
    match ty {
        Some("integer") => json!(prop.get("minimum").and_then(Value::as_i64).unwrap_or(1)),
        Some("number") => json!(prop.get("minimum").and_then(Value::as_f64).unwrap_or(1.0)),
        Some("boolean") => json!(true),
        Some("array") => {
            let item = prop.get("items").unwrap_or(&Value::Null);
            json!([value(root, name, item, depth + 1)])
        }
        Some("object") => {
            let inner = prop.as_object().map(|o| object(root, o, depth + 1));
            Value::Object(inner.unwrap_or_default())
        }
        _ => json!(format!("<{name}>")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_arguments_get_a_value_of_their_type() {
        let schema = json!({
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "mode": {"type": "string", "enum": ["create", "append"]},
                "limit": {"type": ["integer", "null"], "minimum": 1},
                "edits": {"type": "array", "items": {"$ref": "#/$defs/Edit"}},
                "zone": {"type": "string", "examples": ["Europe/Paris"]},
                "optional": {"type": "string"}
            },
            "required": ["path", "mode", "limit", "edits", "zone"],
            "$defs": {"Edit": {"type": "object",
                "properties": {"old": {"type": "string"}, "new": {"type": "string"}},
                "required": ["old", "new"]}}
        });
        let args = arguments(schema.as_object().unwrap());
        assert_eq!(
            Value::Object(args),
            json!({"path": "<path>", "mode": "create", "limit": 1,
                   "edits": [{"old": "<old>", "new": "<new>"}], "zone": "Europe/Paris"})
        );
        assert!(arguments(json!({"type": "object"}).as_object().unwrap()).is_empty());
    }
}
