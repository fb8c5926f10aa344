//! TypeScript declarations of tools, made from their JSON Schemas, so a model writes a
//! workflow's calls right the first time: `name(args: {...}): Promise<...>` with each
//! description as a doc comment. The types are what the script receives: a tool with an
//! output schema resolves to that object, any other to its text.

use serde_json::Value;

/// How deep nested schemas are spelled out; deeper ones are `any`.
const MAX_DEPTH: usize = 6;

/// The declaration of one tool as a member of `tools`.
pub fn declaration(name: &str, description: &str, input: &Value, output: Option<&Value>) -> String {
    let mut out = String::new();
    doc(&mut out, description, "");
    out.push_str(&member(name));
    out.push_str("(args");
    let args = object(input, input, 0, "");
    let required = input
        .get("required")
        .and_then(Value::as_array)
        .is_some_and(|r| !r.is_empty());
    if !required {
        out.push('?');
    }
    out.push_str(": ");
    out.push_str(&args);
    out.push_str("): Promise<");
    match output {
        Some(o) => out.push_str(&ts(o, o, 0, "")),
        None => out.push_str("string"),
    }
    out.push_str(">;");
    out
}

/// A property or member name: bare when it is an identifier, else quoted.
fn member(name: &str) -> String {
    let mut chars = name.chars();
    let ident = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if ident {
        name.to_owned()
    } else {
        serde_json::to_string(name).unwrap_or_default()
    }
}

/// A doc comment of `text` at `indent` (nothing for an empty text).
fn doc(out: &mut String, text: &str, indent: &str) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    let text = text.replace("*/", "* /");
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    if lines.len() == 1 {
        out.push_str(&format!("{indent}/** {} */\n", lines[0]));
    } else {
        out.push_str(&format!("{indent}/**\n"));
        for l in lines {
            out.push_str(&format!("{indent} * {l}\n"));
        }
        out.push_str(&format!("{indent} */\n"));
    }
}

/// An object schema as a TypeScript object type, its properties one per line.
fn object(schema: &Value, root: &Value, depth: usize, indent: &str) -> String {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return match schema.get("additionalProperties") {
            Some(Value::Object(_)) => format!(
                "Record<string, {}>",
                ts(&schema["additionalProperties"], root, depth + 1, indent)
            ),
            _ => "Record<string, any>".to_owned(),
        };
    };
    if props.is_empty() {
        return "{}".to_owned();
    }
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let inner = format!("{indent}  ");
    let mut out = String::from("{\n");
    for (k, v) in props {
        let v = resolve(v, root);
        if let Some(d) = v.get("description").and_then(Value::as_str) {
            doc(&mut out, d, &inner);
        }
        let optional = if required.contains(&k.as_str()) {
            ""
        } else {
            "?"
        };
        out.push_str(&format!(
            "{inner}{}{optional}: {};\n",
            member(k),
            ts(v, root, depth + 1, &inner)
        ));
    }
    out.push_str(indent);
    out.push('}');
    out
}

/// `$ref` to `#/$defs/X` or `#/definitions/X`, followed once.
fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    let Some(r) = schema.get("$ref").and_then(Value::as_str) else {
        return schema;
    };
    let path = r.trim_start_matches("#/");
    let mut at = root;
    for part in path.split('/') {
        match at.get(part) {
            Some(v) => at = v,
            None => return schema,
        }
    }
    at
}

/// Any schema as a TypeScript type.
fn ts(schema: &Value, root: &Value, depth: usize, indent: &str) -> String {
    if depth > MAX_DEPTH {
        return "any".into();
    }
    let schema = resolve(schema, root);
    let Value::Object(o) = schema else {
        // `true` (anything) or a malformed schema.
        return "any".into();
    };
    if let Some(c) = o.get("const") {
        return c.to_string();
    }
    if let Some(Value::Array(values)) = o.get("enum") {
        let parts: Vec<String> = values.iter().map(Value::to_string).collect();
        return parts.join(" | ");
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = o.get(key) {
            let mut parts: Vec<String> = branches
                .iter()
                .map(|b| ts(b, root, depth + 1, indent))
                .collect();
            parts.dedup();
            return parts.join(" | ");
        }
    }
    if let Some(Value::Array(all)) = o.get("allOf")
        && all.len() == 1
    {
        return ts(&all[0], root, depth + 1, indent);
    }
    match o.get("type") {
        Some(Value::String(t)) => named(t, schema, root, depth, indent),
        Some(Value::Array(types)) => {
            let parts: Vec<String> = types
                .iter()
                .filter_map(Value::as_str)
                .map(|t| named(t, schema, root, depth, indent))
                .collect();
            parts.join(" | ")
        }
        _ if o.contains_key("properties") => object(schema, root, depth, indent),
        _ => "any".into(),
    }
}

fn named(t: &str, schema: &Value, root: &Value, depth: usize, indent: &str) -> String {
    match t {
        "string" => "string".into(),
        "integer" | "number" => "number".into(),
        "boolean" => "boolean".into(),
        "null" => "null".into(),
        "array" => match schema.get("items") {
            Some(items) => {
                let inner = ts(items, root, depth + 1, indent);
                if inner.contains(' ') && !inner.starts_with('{') {
                    format!("({inner})[]")
                } else {
                    format!("{inner}[]")
                }
            }
            None => "any[]".into(),
        },
        "object" => object(schema, root, depth, indent),
        _ => "any".into(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::declaration;

    #[test]
    fn a_declaration_spells_out_arguments_results_and_docs() {
        let input = json!({
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "The file."},
                "mode": {"enum": ["a", "b"]},
                "lines": {"type": "array", "items": {"type": ["integer", "null"]}},
                "opts": {"$ref": "#/$defs/Opts"}
            },
            "required": ["path"],
            "$defs": {"Opts": {"type": "object", "properties": {"deep": {"type": "boolean"}}}}
        });
        let output =
            json!({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]});
        let d = declaration("read_it", "Reads it.", &input, Some(&output));
        assert!(d.starts_with("/** Reads it. */\nread_it(args: {\n"), "{d}");
        assert!(d.contains("  /** The file. */\n  path: string;\n"), "{d}");
        assert!(d.contains("  mode?: \"a\" | \"b\";\n"), "{d}");
        assert!(d.contains("  lines?: (number | null)[];\n"), "{d}");
        assert!(d.contains("  opts?: {\n    deep?: boolean;\n  };\n"), "{d}");
        assert!(d.ends_with("}): Promise<{\n  n: number;\n}>;"), "{d}");
        let none = declaration(
            "srv__do-it",
            "",
            &json!({"type": "object", "properties": {}}),
            None,
        );
        assert_eq!(none, "\"srv__do-it\"(args?: {}): Promise<string>;");
    }
}
