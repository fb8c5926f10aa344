//! Checks a JSON value against a JSON Schema, for `call_tool`: the arguments a model sends
//! through it are checked against the target tool's `inputSchema` before anything runs, with
//! every problem named by its place in the arguments. It covers the keywords tool schemas use
//! (types, `properties`, `required`, `additionalProperties`, `items`, `enum`, `const`, bounds,
//! `pattern`, local `$ref`, `anyOf`/`oneOf`/`allOf`); keywords it does not know pass, so a
//! child's exotic schema is left for the child to enforce.

use serde_json::{Map, Value};

/// At most this many problems are reported: enough to fix a call, short enough to read.
const MAX_PROBLEMS: usize = 8;
/// `$ref`s followed in a row at most (a schema that refers to itself stops here).
const MAX_DEPTH: usize = 32;
/// Schema nodes visited per check at most: a child's schema of nested alternatives could
/// otherwise take exponential time. Past it, what is left unchecked is the tool's to check.
const MAX_STEPS: usize = 100_000;

/// The problems of `value` against `schema`, each as "`where`: what is wrong"; empty when it
/// conforms. `root` names the value in the messages (e.g. "arguments").
pub fn check(schema: &Value, value: &Value, root: &str) -> Vec<String> {
    let steps = std::cell::Cell::new(MAX_STEPS);
    let mut c = Checker {
        root: schema,
        problems: Vec::new(),
        steps: &steps,
    };
    c.check(schema, value, &At::Root(root), 0);
    c.problems.truncate(MAX_PROBLEMS);
    c.problems
}

/// Where in the value a check is, written out only when there is a problem to report (a
/// successful check allocates nothing for it).
#[derive(Clone, Copy)]
enum At<'p> {
    Root(&'p str),
    Key(&'p At<'p>, &'p str),
    Index(&'p At<'p>, usize),
}

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Root(name) => f.write_str(name),
            At::Key(parent, key) => write!(f, "{parent}.{key}"),
            At::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// The keywords the checker reads.
#[derive(Clone, Copy)]
enum Kw {
    Ref,
    Type,
    Enum,
    Const,
    AllOf,
    AnyOf,
    OneOf,
    Properties,
    Required,
    AdditionalProperties,
    Items,
    MinItems,
    MaxItems,
    MinLength,
    MaxLength,
    Pattern,
    Minimum,
    Maximum,
    ExclusiveMinimum,
    ExclusiveMaximum,
}

const KEYWORDS: usize = Kw::ExclusiveMaximum as usize + 1;

/// One schema node's keywords, gathered in one pass over it: a tool's schema node has a
/// handful of members, and reading them once costs less than looking up every keyword.
struct Keywords<'a>([Option<&'a Value>; KEYWORDS]);

impl<'a> Keywords<'a> {
    fn of(node: &'a Map<String, Value>) -> Self {
        let mut slots = [None; KEYWORDS];
        for (key, value) in node {
            let kw = match key.as_str() {
                "$ref" => Kw::Ref,
                "type" => Kw::Type,
                "enum" => Kw::Enum,
                "const" => Kw::Const,
                "allOf" => Kw::AllOf,
                "anyOf" => Kw::AnyOf,
                "oneOf" => Kw::OneOf,
                "properties" => Kw::Properties,
                "required" => Kw::Required,
                "additionalProperties" => Kw::AdditionalProperties,
                "items" => Kw::Items,
                "minItems" => Kw::MinItems,
                "maxItems" => Kw::MaxItems,
                "minLength" => Kw::MinLength,
                "maxLength" => Kw::MaxLength,
                "pattern" => Kw::Pattern,
                "minimum" => Kw::Minimum,
                "maximum" => Kw::Maximum,
                "exclusiveMinimum" => Kw::ExclusiveMinimum,
                "exclusiveMaximum" => Kw::ExclusiveMaximum,
                _ => continue,
            };
            slots[kw as usize] = Some(value);
        }
        Self(slots)
    }

    fn get(&self, kw: Kw) -> Option<&'a Value> {
        self.0[kw as usize]
    }
}

struct Checker<'a> {
    root: &'a Value,
    problems: Vec<String>,
    /// Visits left, shared with the checkers of alternatives.
    steps: &'a std::cell::Cell<usize>,
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_type(v: &Value, t: &str) -> bool {
    match (t, v) {
        ("integer", Value::Number(n)) => n.as_f64().is_some_and(|f| f.fract() == 0.0),
        ("number", Value::Number(_)) => true,
        _ => kind(v) == t,
    }
}

/// A short rendering of a value for a message.
fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

impl<'a> Checker<'a> {
    fn resolve(&self, reference: &str) -> Option<&'a Value> {
        let pointer = reference.strip_prefix('#')?;
        self.root.pointer(pointer)
    }

    fn problem(&mut self, at: &At<'_>, msg: String) {
        self.problems.push(format!("`{at}`: {msg}"));
    }

    fn check(&mut self, schema: &'a Value, v: &Value, at: &At<'_>, depth: usize) {
        if self.problems.len() >= MAX_PROBLEMS || depth > MAX_DEPTH || self.steps.get() == 0 {
            return;
        }
        self.steps.set(self.steps.get() - 1);
        let k = &match schema {
            Value::Bool(false) => return self.problem(at, "no value is allowed here".into()),
            Value::Object(node) => Keywords::of(node),
            _ => return,
        };
        if let Some(Value::String(r)) = k.get(Kw::Ref)
            && let Some(target) = self.resolve(r)
        {
            self.check(target, v, at, depth + 1);
        }
        if let Some(t) = k.get(Kw::Type) {
            // `"type": "string"` or `"type": ["string", "null"]`; no names at all puts no limit.
            let names = || {
                t.as_str()
                    .into_iter()
                    .chain(t.as_array().into_iter().flatten().filter_map(Value::as_str))
            };
            if names().next().is_some() && !names().any(|t| is_type(v, t)) {
                let types: Vec<&str> = names().collect();
                return self.problem(
                    at,
                    format!(
                        "expected {}, got {} {}",
                        types.join(" or "),
                        kind(v),
                        show(v)
                    ),
                );
            }
        }
        if let Some(Value::Array(choices)) = k.get(Kw::Enum)
            && !choices.contains(v)
        {
            let list: Vec<String> = choices.iter().map(show).collect();
            return self.problem(at, format!("{} is not one of {}", show(v), list.join(", ")));
        }
        if let Some(c) = k.get(Kw::Const)
            && c != v
        {
            return self.problem(at, format!("must be {}", show(c)));
        }
        self.alternatives(k, v, at, depth);
        match v {
            Value::Object(o) => self.object(k, o, at, depth),
            Value::Array(items) => self.array(k, items, at, depth),
            Value::String(text) => self.string(k, text, at),
            Value::Number(n) => {
                if let Some(f) = n.as_f64() {
                    self.number(k, f, at)
                }
            }
            _ => {}
        }
    }

    fn alternatives(&mut self, k: &Keywords<'a>, v: &Value, at: &At<'_>, depth: usize) {
        if let Some(Value::Array(all)) = k.get(Kw::AllOf) {
            for branch in all {
                self.check(branch, v, at, depth + 1);
            }
        }
        for (key, kw) in [("anyOf", Kw::AnyOf), ("oneOf", Kw::OneOf)] {
            let Some(Value::Array(branches)) = k.get(kw) else {
                continue;
            };
            let fits: Vec<Vec<String>> = branches
                .iter()
                .map(|b| {
                    let mut c = Checker {
                        root: self.root,
                        problems: Vec::new(),
                        steps: self.steps,
                    };
                    c.check(b, v, at, depth + 1);
                    c.problems
                })
                .collect();
            let passing = fits.iter().filter(|p| p.is_empty()).count();
            if passing == 0 {
                // Branches that are only constants (how an enum with documented values comes
                // out) read best as one list.
                let consts: Vec<String> = branches
                    .iter()
                    .flat_map(|b| {
                        let b = b
                            .get("$ref")
                            .and_then(Value::as_str)
                            .and_then(|r| self.resolve(r))
                            .unwrap_or(b);
                        b.get("const")
                            .into_iter()
                            .chain(
                                b.get("enum")
                                    .and_then(Value::as_array)
                                    .into_iter()
                                    .flatten(),
                            )
                            .map(show)
                            .collect::<Vec<_>>()
                    })
                    .collect();
                if !consts.is_empty() && consts.len() >= branches.len() {
                    self.problem(
                        at,
                        format!("{} is not one of {}", show(v), consts.join(", ")),
                    );
                } else {
                    let first = fits.into_iter().flatten().next().unwrap_or_default();
                    self.problem(
                        at,
                        format!(
                            "matches none of the {} allowed forms (the first says: {first})",
                            branches.len()
                        ),
                    );
                }
            } else if key == "oneOf" && passing > 1 {
                self.problem(
                    at,
                    format!("matches {passing} of the allowed forms; it must match exactly one"),
                );
            }
        }
    }

    fn object(&mut self, k: &Keywords<'a>, o: &Map<String, Value>, at: &At<'_>, d: usize) {
        let props = k.get(Kw::Properties).and_then(Value::as_object);
        if let Some(Value::Array(required)) = k.get(Kw::Required) {
            for r in required.iter().filter_map(Value::as_str) {
                if !o.contains_key(r) {
                    self.problem(at, format!("missing required property `{r}`"));
                }
            }
        }
        for (key, val) in o {
            let here = At::Key(at, key);
            if let Some(p) = props.and_then(|p| p.get(key)) {
                self.check(p, val, &here, d + 1);
                continue;
            }
            match k.get(Kw::AdditionalProperties) {
                Some(Value::Bool(false)) => {
                    let known: Vec<&str> = props
                        .map(|p| p.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    let msg = if known.is_empty() {
                        "no properties are allowed here".to_owned()
                    } else {
                        format!("unknown property; the known ones are {}", known.join(", "))
                    };
                    self.problem(&here, msg);
                }
                Some(extra @ Value::Object(_)) => self.check(extra, val, &here, d + 1),
                _ => {}
            }
        }
    }

    fn array(&mut self, k: &Keywords<'a>, items: &[Value], at: &At<'_>, d: usize) {
        let n = items.len() as u64;
        if let Some(min) = k.get(Kw::MinItems).and_then(Value::as_u64)
            && n < min
        {
            self.problem(at, format!("has {n} item(s); at least {min} are needed"));
        }
        if let Some(max) = k.get(Kw::MaxItems).and_then(Value::as_u64)
            && n > max
        {
            self.problem(at, format!("has {n} items; at most {max} are allowed"));
        }
        if let Some(item) = k.get(Kw::Items).filter(|i| i.is_object() || i.is_boolean()) {
            for (i, v) in items.iter().enumerate() {
                self.check(item, v, &At::Index(at, i), d + 1);
            }
        }
    }

    fn string(&mut self, k: &Keywords<'_>, text: &str, at: &At<'_>) {
        let n = text.chars().count() as u64;
        if let Some(min) = k.get(Kw::MinLength).and_then(Value::as_u64)
            && n < min
        {
            self.problem(
                at,
                format!("is {n} character(s) long; at least {min} are needed"),
            );
        }
        if let Some(max) = k.get(Kw::MaxLength).and_then(Value::as_u64)
            && n > max
        {
            self.problem(
                at,
                format!("is {n} characters long; at most {max} are allowed"),
            );
        }
        // A pattern this engine cannot compile (look-arounds) is left to the tool itself.
        if let Some(Value::String(p)) = k.get(Kw::Pattern)
            && let Ok(re) = crate::support::regex::compile(p)
            && !re.is_match(text)
        {
            self.problem(
                at,
                format!(
                    "{} does not match the pattern {p}",
                    show(&Value::String(text.into()))
                ),
            );
        }
    }

    fn number(&mut self, k: &Keywords<'_>, f: f64, at: &At<'_>) {
        let bound = |kw: Kw| k.get(kw).and_then(Value::as_f64);
        if let Some(min) = bound(Kw::Minimum)
            && f < min
        {
            self.problem(at, format!("{f} is less than the minimum {min}"));
        }
        if let Some(max) = bound(Kw::Maximum)
            && f > max
        {
            self.problem(at, format!("{f} is more than the maximum {max}"));
        }
        if let Some(min) = bound(Kw::ExclusiveMinimum)
            && f <= min
        {
            self.problem(at, format!("{f} must be more than {min}"));
        }
        if let Some(max) = bound(Kw::ExclusiveMaximum)
            && f >= max
        {
            self.problem(at, format!("{f} must be less than {max}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::check;

    fn schema() -> serde_json::Value {
        json!({
            "type": "object",
            "$defs": {"Case": {"oneOf": [
                {"type": "string", "enum": ["sensitive", "insensitive"]},
                {"type": "string", "const": "smart", "description": "d"}
            ]}},
            "properties": {
                "path": {"type": "string", "minLength": 1},
                "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                "case": {"$ref": "#/$defs/Case"},
                "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}, "maxItems": 2},
                "mode": {"enum": ["a", "b"]},
                "any": {}
            },
            "required": ["path"],
            "additionalProperties": false
        })
    }

    #[test]
    fn a_conforming_value_has_no_problems() {
        let v = json!({"path": "a", "limit": 5, "case": "smart", "tags": ["x"], "mode": "b", "any": [1]});
        assert!(check(&schema(), &v, "arguments").is_empty());
        assert!(check(&schema(), &json!({"path": "a", "limit": 5.0}), "arguments").is_empty());
    }

    #[test]
    fn every_problem_is_named_by_its_place() {
        let v = json!({"limit": "5", "case": "loud", "tags": ["ok", "B", "c"], "mode": "z", "extra": 1});
        let p = check(&schema(), &v, "arguments");
        let text = p.join("\n");
        assert!(
            text.contains("`arguments`: missing required property `path`"),
            "{text}"
        );
        assert!(
            text.contains("`arguments.limit`: expected integer, got string \"5\""),
            "{text}"
        );
        assert!(
            text.contains(
                "`arguments.case`: \"loud\" is not one of \"sensitive\", \"insensitive\", \"smart\""
            ),
            "{text}"
        );
        assert!(
            text.contains("`arguments.tags`: has 3 items; at most 2"),
            "{text}"
        );
        assert!(
            text.contains("`arguments.tags[1]`: \"B\" does not match the pattern ^[a-z]+$"),
            "{text}"
        );
        assert!(
            text.contains("`arguments.mode`: \"z\" is not one of \"a\", \"b\""),
            "{text}"
        );
        assert!(
            text.contains("`arguments.extra`: unknown property; the known ones are"),
            "{text}"
        );
        let p = check(&schema(), &json!({"path": "", "limit": 0}), "arguments");
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(check(&schema(), &json!([]), "arguments")[0].contains("expected object"));
    }

    #[test]
    fn nested_alternatives_cannot_take_exponential_time() {
        // Each level offers six ways to the level below: 6^15 paths within the depth limit.
        let mut defs = serde_json::Map::new();
        defs.insert("d0".into(), json!({"type": "string"}));
        for i in 1..=30 {
            let below = format!("#/$defs/d{}", i - 1);
            defs.insert(
                format!("d{i}"),
                json!({"anyOf": vec![json!({"$ref": below}); 6]}),
            );
        }
        let s = json!({"$defs": defs, "$ref": "#/$defs/d30"});
        let started = std::time::Instant::now();
        let _ = check(&s, &json!(1), "v");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn a_schema_that_refers_to_itself_ends() {
        let s = json!({"$ref": "#"});
        assert!(check(&s, &json!(1), "v").is_empty());
        let unknown =
            json!({"type": "string", "format": "email", "x-custom": true, "pattern": "(?=a)"});
        assert!(check(&unknown, &json!("b"), "v").is_empty());
    }
}
