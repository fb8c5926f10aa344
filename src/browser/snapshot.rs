//! A page as text for the model: its accessibility tree (what a screen reader reads, so what
//! JavaScript rendered is there), one line per meaningful node, indented by depth. Elements the
//! model can act on carry a short ref (`[ref=e42]`, from the node's backend DOM id, stable
//! while the page stays loaded) that the acting tools resolve back to the element. Wrappers
//! with no role or name of their own are flattened, and text that only repeats its parent's
//! name is left out, so the snapshot is short.

use std::collections::HashMap;

use serde_json::Value;

/// Roles a model acts on, or takes a screenshot of: these get a ref.
const ACTIONABLE: &[&str] = &[
    "image",
    "img",
    "figure",
    "table",
    "button",
    "link",
    "textbox",
    "searchbox",
    "checkbox",
    "radio",
    "combobox",
    "listbox",
    "option",
    "menuitem",
    "menuitemcheckbox",
    "menuitemradio",
    "tab",
    "switch",
    "slider",
    "spinbutton",
    "treeitem",
];

/// Roles that only wrap others: shown only when they carry a name.
const WRAPPERS: &[&str] = &[
    "generic",
    "none",
    "presentation",
    "group",
    "LayoutTable",
    "LayoutTableRow",
    "LayoutTableCell",
    "InlineTextBox",
    "LineBreak",
    "Section",
    "paragraph",
    "div",
    "LabelText",
    // An item's content says what it is; the list above it says it is a list.
    "listitem",
];

/// Roles that are decoration only: never shown, nor anything below them.
const DECORATION: &[&str] = &["ListMarker"];

/// The properties worth showing, in the order shown.
const SHOWN: &[&str] = &[
    "level", "checked", "pressed", "selected", "expanded", "disabled", "required", "readonly",
];

/// The page's lines, and how many nodes the tree had.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub lines: Vec<String>,
    pub nodes: usize,
}

/// Renders `Accessibility.getFullAXTree`'s `nodes`.
pub fn render(nodes: &[Value]) -> Snapshot {
    let by_id: HashMap<&str, &Value> = nodes
        .iter()
        .filter_map(|n| Some((n.get("nodeId")?.as_str()?, n)))
        .collect();
    let mut lines = Vec::new();
    if let Some(root) = nodes.iter().find(|n| n.get("parentId").is_none()) {
        let top = Context {
            name: None,
            in_label: false,
        };
        walk(root, &by_id, 0, top, &mut lines, 0);
    }
    Snapshot {
        lines,
        nodes: nodes.len(),
    }
}

fn text<'a>(node: &'a Value, key: &str) -> &'a str {
    node.get(key)
        .and_then(|v| v.get("value"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Where a node sits: the name of its nearest named ancestor shown, and whether it is inside a
/// label (whose text is the labelled control's name, shown on the control's line).
#[derive(Clone, Copy)]
struct Context<'a> {
    name: Option<&'a str>,
    in_label: bool,
}

fn walk(
    node: &Value,
    by_id: &HashMap<&str, &Value>,
    depth: usize,
    parent: Context<'_>,
    lines: &mut Vec<String>,
    guard: usize,
) {
    // A tree is not deeper than this; a cycle in a malformed answer ends here.
    if guard > 512 {
        return;
    }
    let role = text(node, "role");
    if DECORATION.contains(&role) {
        return;
    }
    let name = text(node, "name").trim();
    let ignored = node.get("ignored").and_then(Value::as_bool) == Some(true);
    let wrapper = WRAPPERS.contains(&role) && name.is_empty();
    let shown = !(ignored || role.is_empty() || wrapper);
    let mut child_depth = depth;
    let mut context = Context {
        in_label: parent.in_label || role == "LabelText",
        ..parent
    };
    if shown {
        if role == "StaticText" {
            // Text that only repeats its parent's name, or a label's, says nothing new.
            let repeated = parent.in_label || parent.name.is_some_and(|p| p.contains(name));
            if !name.is_empty() && !repeated {
                lines.push(format!("{}- text: {}", indent(depth), quote(name)));
            }
            return;
        }
        lines.push(line(node, role, name, depth));
        child_depth = depth + 1;
        if !name.is_empty() {
            context.name = Some(name);
        }
    }
    for child in node
        .get("childIds")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|id| by_id.get(id))
    {
        walk(child, by_id, child_depth, context, lines, guard + 1);
    }
}

fn indent(depth: usize) -> String {
    "  ".repeat(depth.min(40))
}

/// A name as the snapshot shows it: quoted, on one line, at most 200 characters.
fn quote(s: &str) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut: String = one_line.chars().take(200).collect();
    let more = if cut.len() < one_line.len() {
        "…"
    } else {
        ""
    };
    serde_json::to_string(&format!("{cut}{more}")).unwrap_or_default()
}

fn line(node: &Value, role: &str, name: &str, depth: usize) -> String {
    let role = if role == "RootWebArea" {
        "document"
    } else {
        role
    };
    let mut out = format!("{}- {role}", indent(depth));
    if !name.is_empty() {
        out.push(' ');
        out.push_str(&quote(name));
    }
    let props: HashMap<&str, &Value> = node
        .get("properties")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p.get("name")?.as_str()?, p.get("value")?.get("value")?)))
        .collect();
    for key in SHOWN {
        // A level says something for a heading; on list items and rows it is noise.
        if *key == "level" && role != "heading" {
            continue;
        }
        match props.get(key) {
            Some(Value::Bool(true)) => out.push_str(&format!(" [{key}]")),
            Some(Value::String(s)) if s == "true" || s == "mixed" => {
                out.push_str(&format!(" [{key}={s}]"))
            }
            Some(Value::Number(n)) => out.push_str(&format!(" [{key}={n}]")),
            _ => {}
        }
    }
    if ACTIONABLE.contains(&role)
        && let Some(id) = node.get("backendDOMNodeId").and_then(Value::as_u64)
    {
        out.push_str(&format!(" [ref=e{id}]"));
    }
    let value = text(node, "value");
    if !value.is_empty() {
        out.push_str(": ");
        out.push_str(&quote(value));
    }
    out
}

/// The backend DOM node id a ref names (`e42` → 42).
pub fn parse_ref(r: &str) -> Option<u64> {
    r.trim().strip_prefix('e')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn node(id: &str, role: &str, name: &str, children: &[&str], backend: u64) -> Value {
        json!({
            "nodeId": id,
            "role": {"type": "role", "value": role},
            "name": {"type": "computedString", "value": name},
            "childIds": children,
            "backendDOMNodeId": backend,
        })
    }

    #[test]
    fn a_form_reads_as_lines_with_refs_and_wrappers_flattened() {
        let mut root = node("1", "RootWebArea", "Sign in", &["2"], 1);
        root.as_object_mut().unwrap().remove("parentId");
        let mut nodes = vec![
            root,
            node("2", "generic", "", &["3", "4", "6", "8"], 2),
            node("3", "heading", "Welcome back", &[], 3),
            node("4", "textbox", "Email", &[], 4),
            node("6", "link", "Forgot password?", &["7"], 6),
            node("7", "StaticText", "Forgot password?", &[], 7),
            node("8", "checkbox", "Remember me", &[], 8),
        ];
        nodes[2]["properties"] =
            json!([{"name": "level", "value": {"type": "integer", "value": 1}}]);
        nodes[3]["value"] = json!({"type": "string", "value": "ann@example.com"});
        nodes[6]["properties"] =
            json!([{"name": "checked", "value": {"type": "tristate", "value": "true"}}]);
        for n in &mut nodes[1..] {
            n["parentId"] = json!("x");
        }
        let s = render(&nodes);
        assert_eq!(
            s.lines,
            [
                "- document \"Sign in\"",
                "  - heading \"Welcome back\" [level=1]",
                "  - textbox \"Email\" [ref=e4]: \"ann@example.com\"",
                "  - link \"Forgot password?\" [ref=e6]",
                "  - checkbox \"Remember me\" [checked=true] [ref=e8]",
            ]
        );
        assert_eq!(parse_ref("e42"), Some(42));
        assert_eq!(parse_ref("42"), None);
    }
}
