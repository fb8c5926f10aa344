//! Markdown files with an optional YAML front matter block (`---` … `---`), as used by
//! `prompts/` and `resources/`.

/// Splits `text` into its front matter (without the fences) and the body.
pub fn split(text: &str) -> (Option<&str>, &str) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return (None, text);
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            let body = &rest[offset + line.len()..];
            return (Some(&rest[..offset]), body);
        }
        offset += line.len();
    }
    (None, text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn splits_front_matter() {
        assert_eq!(
            super::split("---\na: 1\n---\nbody\n"),
            (Some("a: 1\n"), "body\n")
        );
        assert_eq!(super::split("no front\n"), (None, "no front\n"));
        assert_eq!(super::split("---\nunclosed\n"), (None, "---\nunclosed\n"));
    }
}
