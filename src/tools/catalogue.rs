//! The built-in tools' definitions, precomputed. `catalogue.jsonl` holds every built-in tool as
//! the code generates it (one JSON object per line, in name order), so a start-up parses 120 KB
//! of text instead of generating a hundred schemas and touching the code that does it; [`list`]
//! shapes it for one configuration. The golden test keeps the file equal to what the code
//! generates: after changing a tool's description, arguments or result, run
//! `UPDATE_GOLDEN=1 cargo test --lib catalogue`.

use rmcp::model::Tool;

use super::{Shape, category_of, is_read_only};
use crate::policy::tools::{Category, Toolsets};

/// Every built-in tool as the code generates it, one JSON object per line, in name order.
const PRECOMPUTED: &str = include_str!("catalogue.jsonl");

/// Every built-in tool's definition, parsed from the precomputed file (in name order).
fn everything() -> Vec<Tool> {
    PRECOMPUTED
        .lines()
        .filter_map(|line| match serde_json::from_str(line) {
            Ok(tool) => Some(tool),
            Err(e) => {
                // Only a hand-edited file gets here (the golden test parses every line).
                tracing::error!(error = %e, "a precomputed tool definition does not parse; left out");
                None
            }
        })
        .collect()
}

/// Every built-in tool `toolsets` offers in this shape, in name order. With `read_only`, only
/// tools whose `readOnlyHint` is true.
pub fn list(shape: Shape, toolsets: &Toolsets) -> Vec<Tool> {
    shaped(everything(), shape, toolsets)
}

fn shaped(mut tools: Vec<Tool>, shape: Shape, toolsets: &Toolsets) -> Vec<Tool> {
    tools.retain(|t| {
        registered(shape, &t.name)
            && category_of(&t.name).is_none_or(|c| toolsets.admits(&t.name, c))
    });
    tools.retain_mut(|t| adjust(shape, t));
    if shape.read_only {
        tools.retain(is_read_only);
    }
    tools
}

/// Whether this shape offers the tool `name` at all (before toolsets and read-only's filter).
fn registered(shape: Shape, name: &str) -> bool {
    let category = category_of(name);
    match name {
        // Running programs can change anything, so read-only mode has none of these tools;
        // nor the browser's, as a page's scripts and forms can change things elsewhere. (Of
        // the web tools only web_search stays: the read-only filter drops http_request, as a
        // request can change things elsewhere, and download_file.)
        _ if shape.read_only && matches!(category, Some(Category::Exec | Category::Browser)) => {
            false
        }
        "run_shell" => shape.shell,
        "install_package" => shape.packages,
        "browser_evaluate" => shape.evaluate,
        // A sending tool with nothing configured to send to is not offered.
        "send_email" => shape.comms.email,
        "send_webhook" => shape.comms.webhooks,
        "send_push" => shape.comms.ntfy,
        _ => category != Some(Category::Proxy) || shape.proxy,
    }
}

/// What a shape changes in a tool's definition; false when the tool cannot be offered here.
fn adjust(shape: Shape, tool: &mut Tool) -> bool {
    match tool.name.as_ref() {
        // The agent can only read: say so, and keep it in read-only mode.
        "ai_agent" if !shape.agent_writes => {
            tool.annotations.get_or_insert_default().read_only_hint = Some(true);
        }
        // In read-only mode every tool they can reach only reads.
        "call_tool" | "run_workflow" if shape.read_only => {
            let hints = tool.annotations.get_or_insert_default();
            hints.read_only_hint = Some(true);
            hints.destructive_hint = Some(false);
        }
        "run_code" => return super::exec::run_code::fit(tool),
        _ => {}
    }
    true
}

/// The catalogue as the code generates it: what `catalogue.jsonl` must equal.
#[cfg(test)]
pub(crate) mod generated {
    use rmcp::model::{JsonObject, Tool};
    use serde_json::Value;

    use crate::tools::*;

    /// Every built-in tool from its category's router, the schemas made portable, in name
    /// order.
    pub(crate) fn everything() -> Vec<Tool> {
        let router = ai::generated()
            + browser::generated()
            + comms::generated()
            + database::generated()
            + discovery::generated()
            + exec::generated()
            + files::generated()
            + memory::generated()
            + proxy::generated()
            + system::generated()
            + web::generated();
        let mut tools = router.list_all();
        for tool in &mut tools {
            tool.input_schema = std::sync::Arc::new(portable(tool.input_schema.as_ref().clone()));
            if let Some(out) = &tool.output_schema {
                let mut out = Value::Object(portable(out.as_ref().clone()));
                // A count in a result is never negative; saying so costs context and tells
                // nothing.
                drop_zero_minimum(&mut out);
                if let Value::Object(o) = out {
                    tool.output_schema = Some(std::sync::Arc::new(o));
                }
            }
        }
        tools
    }

    /// Rewrites a generated schema into the portable subset every host and model provider accepts:
    /// an optional field is simply optional (absent), never `type: [T, "null"]` or an `anyOf` with
    /// a null branch, and no `default: null`. Our arguments are never sent as null, and results
    /// leave absent fields out.
    ///
    /// It also drops what costs a model's context and tells it nothing: the `$schema` line, the
    /// generator's numeric formats (`uint64`, `double`: `type` and `minimum` say it) and defaults
    /// that are the empty value (`false`, `[]`, `""`), which an absent argument means anyway.
    pub(super) fn portable(schema: JsonObject) -> JsonObject {
        let mut v = Value::Object(schema);
        if let Value::Object(o) = &mut v {
            o.remove("$schema");
        }
        strip_null(&mut v);
        match v {
            Value::Object(o) => o,
            _ => JsonObject::new(),
        }
    }

    /// Removes `minimum: 0` from integer fields (unsigned counts, sizes and times).
    fn drop_zero_minimum(v: &mut Value) {
        match v {
            Value::Object(o) => {
                if o.get("type") == Some(&Value::String("integer".into()))
                    && o.get("minimum").and_then(Value::as_u64) == Some(0)
                {
                    o.remove("minimum");
                }
                o.values_mut().for_each(drop_zero_minimum);
            }
            Value::Array(items) => items.iter_mut().for_each(drop_zero_minimum),
            _ => {}
        }
    }

    /// The integer and float widths the schema generator writes as `format`; not JSON Schema
    /// formats, and no validator or model uses them.
    const NUMERIC_FORMATS: &[&str] = &[
        "int", "int8", "int16", "int32", "int64", "int128", "uint", "uint8", "uint16", "uint32",
        "uint64", "uint128", "float", "double",
    ];

    fn strip_null(v: &mut Value) {
        match v {
            Value::Object(o) => {
                // `[T, "null"]` (or two `anyOf` branches) is how an `Option<T>` comes out; a
                // longer list that includes null (a database cell) means it.
                if let Some(Value::Array(types)) = o.get("type")
                    && types.len() == 2
                {
                    let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
                    o.insert(
                        "type".into(),
                        if kept.len() == 1 {
                            kept[0].clone()
                        } else {
                            Value::Array(kept)
                        },
                    );
                }
                if let Some(d) = o.get("default")
                    && (d.is_null()
                        || d == &Value::Bool(false)
                        || d.as_array().is_some_and(Vec::is_empty)
                        || d.as_str() == Some(""))
                {
                    o.remove("default");
                }
                if let Some(Value::String(f)) = o.get("format")
                    && NUMERIC_FORMATS.contains(&f.as_str())
                {
                    o.remove("format");
                }
                if let Some(Value::Array(any)) = o.get_mut("anyOf")
                    && any.len() == 2
                {
                    any.retain(|b| b.get("type") != Some(&Value::String("null".into())));
                    if any.len() == 1 {
                        let only = any.remove(0);
                        o.remove("anyOf");
                        if let Value::Object(inner) = only {
                            for (k, val) in inner {
                                o.entry(k).or_insert(val);
                            }
                        }
                    }
                }
                for child in o.values_mut() {
                    strip_null(child);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(strip_null),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{PRECOMPUTED, everything, generated, list};
    use crate::policy::tools::Toolsets;
    use crate::tools::{Shape, built_in_table};

    #[test]
    fn the_precomputed_catalogue_is_what_the_code_generates() {
        let tools = generated::everything();
        let text: String = tools
            .iter()
            .map(|t| serde_json::to_string(t).unwrap() + "\n")
            .collect();
        if crate::support::golden(
            "src/tools/catalogue.jsonl",
            PRECOMPUTED,
            &text,
            "after changing a tool, run `UPDATE_GOLDEN=1 cargo test --lib catalogue`",
        ) {
            return;
        }
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        let table: Vec<&str> = built_in_table().iter().map(|t| t.name).collect();
        assert_eq!(names, table, "one line per built-in tool, in name order");
        assert_eq!(everything(), tools, "every line parses back to its tool");
    }

    #[test]
    fn a_shape_changes_what_is_offered_and_the_hints() {
        let names = |shape: Shape| -> Vec<String> {
            list(shape, &Toolsets::everything())
                .iter()
                .map(|t| t.name.to_string())
                .collect()
        };
        let all = names(Shape::everything());
        assert_eq!(
            all.len(),
            built_in_table().len()
                - usize::from(crate::exec::interpreters::interpreters().is_empty())
        );
        let mut bare = Shape::everything();
        bare.shell = false;
        bare.packages = false;
        bare.proxy = false;
        bare.evaluate = false;
        bare.comms = crate::tools::comms::Configured {
            email: false,
            webhooks: false,
            ntfy: false,
        };
        let gone: Vec<&String> = all.iter().filter(|n| !names(bare).contains(n)).collect();
        assert_eq!(
            gone,
            [
                "browser_evaluate",
                "install_package",
                "proxy_approve",
                "proxy_restart",
                "proxy_status",
                "run_shell",
                "send_email",
                "send_push",
                "send_webhook"
            ]
        );
        let read_only = Shape {
            read_only: true,
            agent_writes: false,
            ..Shape::everything()
        };
        let tools = list(read_only, &Toolsets::everything());
        assert!(tools.iter().all(crate::tools::is_read_only));
        let hint = |name: &str| {
            let t = tools.iter().find(|t| t.name == name).unwrap();
            json!(t.annotations)
        };
        assert_eq!(hint("ai_agent")["readOnlyHint"], true);
        assert_eq!(hint("call_tool")["destructiveHint"], false);
        assert!(
            !tools
                .iter()
                .any(|t| t.name.starts_with("browser_") || t.name == "run_command")
        );
        assert!(tools.iter().any(|t| t.name == "web_search"));
        assert!(!tools.iter().any(|t| t.name == "http_request"));
    }

    #[test]
    fn nullable_fields_become_plain_optional_ones() {
        let schema = json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": {
            "a": {"type": ["integer", "null"], "default": null, "format": "uint64", "minimum": 0},
            "b": {"anyOf": [{"$ref": "#/$defs/Mode"}, {"type": "null"}], "description": "d"},
            "c": {"type": "boolean", "default": false},
            "d": {"type": "array", "default": [], "items": {"type": "string", "format": "uri"}},
            "e": {"type": "integer", "default": 0},
            "format": {"type": "string", "default": "csv"},
        }});
        let out = generated::portable(schema.as_object().unwrap().clone());
        assert_eq!(
            serde_json::Value::Object(out),
            json!({"type": "object", "properties": {
                "a": {"type": "integer", "minimum": 0},
                "b": {"$ref": "#/$defs/Mode", "description": "d"},
                "c": {"type": "boolean"},
                "d": {"type": "array", "items": {"type": "string", "format": "uri"}},
                "e": {"type": "integer", "default": 0},
                "format": {"type": "string", "default": "csv"},
            }})
        );
    }
}
