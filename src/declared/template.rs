//! `{param}` templates of declarative tools. A template is text with placeholders; rendering
//! fills each with a checked value and never re-reads the result, so a value can never add a
//! placeholder, an argument or a URL part of its own. `{{` and `}}` are literal braces.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Lit(String),
    Var(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    lit.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    lit.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => {
                                return Err(format!(
                                    "`{text}`: a `{{` is never closed (write `{{{{` for a literal brace)"
                                ));
                            }
                        }
                    }
                    let name = name.trim().to_owned();
                    if name.is_empty() {
                        return Err(format!("`{text}`: an empty `{{}}` placeholder"));
                    }
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit)));
                    }
                    parts.push(Part::Var(name));
                }
                '}' => {
                    return Err(format!(
                        "`{text}`: a `}}` without its `{{` (write `}}}}` for a literal brace)"
                    ));
                }
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Self { parts })
    }

    /// The placeholders' names, in order.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v.as_str()),
            Part::Lit(_) => None,
        })
    }

    /// The name, when the template is exactly one placeholder and nothing else.
    pub fn only_var(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [Part::Var(v)] => Some(v),
            _ => None,
        }
    }

    /// The text before the first placeholder (all of it when there is none).
    pub fn fixed_prefix(&self) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(l) => out.push_str(l),
                Part::Var(_) => break,
            }
        }
        out
    }

    /// Fills every placeholder with `value(name)`, encoded by `encode`.
    pub fn render(
        &self,
        value: impl Fn(&str) -> String,
        encode: impl Fn(&str) -> String,
    ) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(l) => out.push_str(l),
                Part::Var(v) => out.push_str(&encode(&value(v))),
            }
        }
        out
    }
}

/// A checked value as the text a template receives.
pub fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_literal_braces() {
        let t = Template::parse("--format={fmt} {{x}}").unwrap();
        assert_eq!(t.vars().collect::<Vec<_>>(), ["fmt"]);
        let out = t.render(|_| "{evil} $(x)".into(), str::to_owned);
        assert_eq!(out, "--format={evil} $(x) {x}");
        assert_eq!(Template::parse("{a}").unwrap().only_var(), Some("a"));
        assert_eq!(Template::parse("a{a}").unwrap().only_var(), None);
        assert!(Template::parse("{a").is_err());
        assert!(Template::parse("a}").is_err());
        assert!(Template::parse("{}").is_err());
        assert_eq!(
            Template::parse("https://h/x/{a}?q={b}")
                .unwrap()
                .fixed_prefix(),
            "https://h/x/"
        );
    }
}
