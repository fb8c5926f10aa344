//! The parameters of a declarative tool: the JSON Schema the host sees, and the check every
//! call's input passes before anything runs (types, enum, pattern, bounds, required, and no
//! leading `-` unless the tool allows it), so a template only ever receives checked values.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    String,
    Integer,
    Number,
    Boolean,
    Array,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Integer => "integer",
            Kind::Number => "number",
            Kind::Boolean => "boolean",
            Kind::Array => "array",
        }
    }
}

/// `format: path`: the value names a file or folder inside the roots; it is resolved through
/// the path policy and the program receives the resolved absolute path.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Path,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawParam {
    #[serde(rename = "type")]
    kind: Kind,
    description: Option<String>,
    #[serde(rename = "enum", default)]
    choices: Vec<Value>,
    default: Option<Value>,
    #[serde(default)]
    required: bool,
    pattern: Option<String>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    format: Option<Format>,
    #[serde(rename = "allow_leading_dash", default)]
    allow_leading_dash: bool,
    items: Option<Box<RawParam>>,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub kind: Kind,
    pub description: Option<String>,
    pub choices: Vec<Value>,
    pub default: Option<Value>,
    pub required: bool,
    /// The pattern, and its matcher built on the first value checked (loading the folders
    /// checks only its syntax: building every tool's matcher cost start-up 2 M instructions).
    pattern: Option<(String, std::sync::OnceLock<Result<regex::Regex, String>>)>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    pub format: Option<Format>,
    pub allow_leading_dash: bool,
    pub items: Option<Box<Param>>,
}

/// Checks one parameter's declaration.
pub fn declare(name: &str, raw: RawParam) -> Result<Param, String> {
    if !is_param_name(name) {
        return Err(format!(
            "parameter name `{name}` must start with a letter and use only letters, digits and `_`"
        ));
    }
    build(name, raw, false)
}

fn build(name: &str, raw: RawParam, is_item: bool) -> Result<Param, String> {
    let what = if is_item {
        format!("`{name}` items")
    } else {
        format!("parameter `{name}`")
    };
    let kind = raw.kind;
    let only = |present: bool, key: &str, kinds: &[Kind]| -> Result<(), String> {
        if present && !kinds.contains(&kind) {
            return Err(format!(
                "{what}: `{key}` does not apply to type {}",
                kind.name()
            ));
        }
        Ok(())
    };
    only(raw.pattern.is_some(), "pattern", &[Kind::String])?;
    only(raw.format.is_some(), "format", &[Kind::String])?;
    only(
        raw.allow_leading_dash,
        "allow_leading_dash",
        &[Kind::String],
    )?;
    only(
        raw.min_length.is_some() || raw.max_length.is_some(),
        "minLength/maxLength",
        &[Kind::String],
    )?;
    only(
        raw.minimum.is_some() || raw.maximum.is_some(),
        "minimum/maximum",
        &[Kind::Integer, Kind::Number],
    )?;
    only(
        raw.min_items.is_some() || raw.max_items.is_some() || raw.items.is_some(),
        "items/minItems/maxItems",
        &[Kind::Array],
    )?;
    if is_item && (raw.default.is_some() || raw.required || raw.description.is_some()) {
        return Err(format!(
            "{what}: items take no `default`, `required` or `description`"
        ));
    }
    let items = match (kind, raw.items) {
        (Kind::Array, None) => {
            return Err(format!("{what}: an array needs `items` (their type)"));
        }
        (Kind::Array, Some(_)) if is_item => {
            return Err(format!("{what}: arrays of arrays are not supported"));
        }
        (_, Some(i)) => Some(Box::new(build(name, *i, true)?)),
        (_, None) => None,
    };
    let pattern = match raw.pattern {
        Some(p) => {
            regex_syntax::Parser::new()
                .parse(&p)
                .map_err(|e| format!("{what}: `pattern` is not a usable regex: {e}"))?;
            Some((p, std::sync::OnceLock::new()))
        }
        None => None,
    };
    if raw.required && raw.default.is_some() {
        return Err(format!(
            "{what}: a parameter with a `default` cannot be `required`"
        ));
    }
    let param = Param {
        name: name.to_owned(),
        kind,
        description: raw.description,
        choices: raw.choices,
        default: None,
        required: raw.required,
        pattern,
        minimum: raw.minimum,
        maximum: raw.maximum,
        min_length: raw.min_length,
        max_length: raw.max_length,
        min_items: raw.min_items,
        max_items: raw.max_items,
        format: raw.format,
        allow_leading_dash: raw.allow_leading_dash,
        items,
    };
    for c in &param.choices {
        param
            .check_value(c.clone())
            .map_err(|e| format!("{what}: `enum` value {c} does not fit: {e}"))?;
    }
    let default = match raw.default {
        Some(d) => Some(
            param
                .check_value(d)
                .map_err(|e| format!("{what}: the default does not fit: {e}"))?,
        ),
        None => None,
    };
    Ok(Param { default, ..param })
}

fn is_param_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 64
}

impl Param {
    /// The JSON Schema of this parameter.
    pub fn schema(&self) -> Value {
        let mut s = Map::new();
        s.insert("type".into(), json!(self.kind.name()));
        let mut description = self.description.clone().unwrap_or_default();
        if self.format == Some(Format::Path) {
            if !description.is_empty() {
                description.push(' ');
            }
            description.push_str("(A path inside the allowed roots.)");
        }
        if !description.is_empty() {
            s.insert("description".into(), json!(description));
        }
        if !self.choices.is_empty() {
            s.insert("enum".into(), Value::Array(self.choices.clone()));
        }
        if let Some(d) = &self.default {
            s.insert("default".into(), d.clone());
        }
        if let Some((p, _)) = &self.pattern {
            s.insert("pattern".into(), json!(p));
        }
        let number = |v: f64| {
            if self.kind == Kind::Integer && v.fract() == 0.0 {
                json!(v as i64)
            } else {
                json!(v)
            }
        };
        for (key, v) in [("minimum", self.minimum), ("maximum", self.maximum)] {
            if let Some(v) = v {
                s.insert(key.into(), number(v));
            }
        }
        for (key, v) in [
            ("minLength", self.min_length),
            ("maxLength", self.max_length),
            ("minItems", self.min_items),
            ("maxItems", self.max_items),
        ] {
            if let Some(v) = v {
                s.insert(key.into(), json!(v));
            }
        }
        if let Some(items) = &self.items {
            s.insert("items".into(), items.schema());
        }
        Value::Object(s)
    }

    /// Checks (and lightly coerces: `"5"` for an integer) one value.
    pub fn check_value(&self, v: Value) -> Result<Value, String> {
        let v = match (self.kind, v) {
            (Kind::String, Value::String(s)) => {
                let chars = s.chars().count() as u64;
                if self.min_length.is_some_and(|m| chars < m)
                    || self.max_length.is_some_and(|m| chars > m)
                {
                    return Err(format!(
                        "must be {} characters long; it has {chars}",
                        bounds(
                            self.min_length.map(|v| v as f64),
                            self.max_length.map(|v| v as f64)
                        )
                    ));
                }
                if s.starts_with('-') && !self.allow_leading_dash {
                    return Err(
                        "may not start with `-` (it could be read as an option by the program)"
                            .into(),
                    );
                }
                if let Some((p, re)) = &self.pattern {
                    let re = re.get_or_init(|| {
                        crate::support::regex::compile(p).map_err(|e| e.to_string())
                    });
                    match re {
                        Ok(re) if re.is_match(&s) => {}
                        Ok(_) => return Err(format!("must match the pattern `{p}`")),
                        Err(e) => {
                            return Err(format!(
                                "cannot be checked: the tool's `pattern` is not usable ({e}); fix the tool's file"
                            ));
                        }
                    }
                }
                if s.contains('\0') {
                    return Err("may not contain a NUL character".into());
                }
                Value::String(s)
            }
            (Kind::Integer, v) => {
                let n = match &v {
                    Value::Number(n) => n.as_i64().or_else(|| {
                        n.as_f64()
                            .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                            .map(|f| f as i64)
                    }),
                    Value::String(s) => s.trim().parse::<i64>().ok(),
                    _ => None,
                }
                .ok_or_else(|| format!("must be an integer; got {v}"))?;
                self.in_range(n as f64)?;
                json!(n)
            }
            (Kind::Number, v) => {
                let n = match &v {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
                    _ => None,
                }
                .ok_or_else(|| format!("must be a number; got {v}"))?;
                self.in_range(n)?;
                match v {
                    Value::Number(_) => v,
                    _ => json!(n),
                }
            }
            (Kind::Boolean, Value::Bool(b)) => Value::Bool(b),
            (Kind::Boolean, Value::String(s)) if s == "true" || s == "false" => {
                Value::Bool(s == "true")
            }
            (Kind::Array, Value::Array(items)) => {
                let n = items.len() as u64;
                if self.min_items.is_some_and(|m| n < m) || self.max_items.is_some_and(|m| n > m) {
                    return Err(format!(
                        "must have {} items; it has {n}",
                        bounds(
                            self.min_items.map(|v| v as f64),
                            self.max_items.map(|v| v as f64)
                        )
                    ));
                }
                let item = self.items.as_deref().ok_or("has no item type")?;
                let checked = items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| item.check_value(v).map_err(|e| format!("item {i} {e}")))
                    .collect::<Result<Vec<_>, _>>()?;
                Value::Array(checked)
            }
            (kind, v) => return Err(format!("must be of type {}; got {v}", kind.name())),
        };
        if !self.choices.is_empty() && !self.choices.iter().any(|c| same(c, &v)) {
            let listed: Vec<String> = self.choices.iter().map(Value::to_string).collect();
            return Err(format!("must be one of {}; got {v}", listed.join(", ")));
        }
        Ok(v)
    }

    fn in_range(&self, n: f64) -> Result<(), String> {
        if self.minimum.is_some_and(|m| n < m) || self.maximum.is_some_and(|m| n > m) {
            return Err(format!(
                "must be {}; got {n}",
                bounds(self.minimum, self.maximum)
            ));
        }
        Ok(())
    }
}

/// Numbers compare by value (`1` and `1.0` are the same choice).
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn bounds(min: Option<f64>, max: Option<f64>) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!("between {a} and {b}"),
        (Some(a), None) => format!("at least {a}"),
        (None, Some(b)) => format!("at most {b}"),
        (None, None) => "valid".into(),
    }
}

/// The input schema of a tool with these parameters.
pub fn input_schema(params: &[Param]) -> Map<String, Value> {
    let properties: Map<String, Value> = params
        .iter()
        .map(|p| (p.name.clone(), p.schema()))
        .collect();
    let required: Vec<&str> = params
        .iter()
        .filter(|p| p.required)
        .map(|p| p.name.as_str())
        .collect();
    let mut s = Map::new();
    s.insert("type".into(), json!("object"));
    s.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        s.insert("required".into(), json!(required));
    }
    s.insert("additionalProperties".into(), json!(false));
    s
}

/// Checks a call's arguments: no unknown names, required ones present, every value valid;
/// defaults filled in. Parameters neither given nor defaulted are absent from the result.
pub fn check_input(
    params: &[Param],
    args: Map<String, Value>,
) -> Result<BTreeMap<String, Value>, String> {
    for k in args.keys() {
        if !params.iter().any(|p| &p.name == k) {
            let known: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
            return Err(if known.is_empty() {
                format!("unknown argument `{k}`: this tool takes no arguments")
            } else {
                format!(
                    "unknown argument `{k}`; the arguments are: {}",
                    known.join(", ")
                )
            });
        }
    }
    let mut args = args;
    let mut out = BTreeMap::new();
    for p in params {
        match args.remove(&p.name) {
            Some(Value::Null) | None => {
                if p.required {
                    return Err(format!("the argument `{}` is required", p.name));
                }
                if let Some(d) = &p.default {
                    out.insert(p.name.clone(), d.clone());
                }
            }
            Some(v) => {
                let v = p
                    .check_value(v)
                    .map_err(|e| format!("the argument `{}` {e}", p.name))?;
                out.insert(p.name.clone(), v);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str, yaml: &str) -> Result<Param, String> {
        declare(
            name,
            serde_norway::from_str(yaml).map_err(|e| e.to_string())?,
        )
    }

    #[test]
    fn declarations_are_checked() {
        assert!(param("n", "type: integer\nminimum: 1\ndefault: 0").is_err());
        assert!(param("n", "type: integer\npattern: x").is_err());
        assert!(param("xs", "type: array").is_err());
        assert!(param("s", "type: string\nrequired: true\ndefault: a").is_err());
        assert!(param("s", "type: string\nenum: [a, 1]").is_err());
        assert!(param("1s", "type: string").is_err());
        assert!(param("s", "type: string\nbogus: 1").is_err());
        assert!(param("s", "type: string\npattern: '('").is_err());
    }

    #[test]
    fn input_is_checked_and_defaults_filled() {
        let params = vec![
            param("rev", "type: string\nrequired: true").unwrap(),
            param("n", "type: integer\nminimum: 1\nmaximum: 50\ndefault: 10").unwrap(),
            param("mode", "type: string\nenum: [short, full]").unwrap(),
            param("paths", "type: array\nitems: {type: string}\nmaxItems: 2").unwrap(),
            param("grep", "type: string\nallow_leading_dash: true").unwrap(),
        ];
        let run = |v: Value| check_input(&params, v.as_object().unwrap().clone());
        let ok = run(json!({"rev": "HEAD", "n": "5"})).unwrap();
        assert_eq!(ok["n"], json!(5));
        assert!(!ok.contains_key("mode"));
        assert_eq!(run(json!({"rev": "HEAD"})).unwrap()["n"], json!(10));
        let err = |v| run(v).unwrap_err();
        assert!(err(json!({})).contains("`rev` is required"));
        assert!(err(json!({"rev": "--output=/x"})).contains("may not start with `-`"));
        assert!(err(json!({"rev": "a", "n": 51})).contains("between 1 and 50"));
        assert!(err(json!({"rev": "a", "mode": "x"})).contains("one of"));
        assert!(err(json!({"rev": "a", "paths": ["a", "-b"]})).contains("item 1"));
        assert!(err(json!({"rev": "a", "paths": ["a", "b", "c"]})).contains("items"));
        assert!(err(json!({"rev": "a", "x": 1})).contains("unknown argument `x`"));
        assert!(err(json!({"rev": 1})).contains("type string"));
        assert!(run(json!({"rev": "a", "grep": "-x"})).is_ok());
        let schema = input_schema(&params);
        assert_eq!(schema["required"], json!(["rev"]));
        assert_eq!(schema["properties"]["n"]["maximum"], json!(50));
        assert_eq!(schema["additionalProperties"], json!(false));
    }
}
