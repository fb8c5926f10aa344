//! `edit_file`: targeted replacements with a unified diff. Each edit matches exactly first, then
//! line by line ignoring indentation and trailing spaces; all edits apply or none do, and the
//! file is replaced atomically.

use std::io::Read;

use rmcp::handler::server::wrapper::Parameters;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::common::{display, write_atomic};
use crate::policy::FileScope;
use crate::server::Switchboard;
use crate::support::text::{decode_lossy, human_bytes, looks_binary};
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "change modify edit replace rename variable fix typo patch update line insert remove text in a file refactor substitute sed find and replace";

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    /// The exact text to replace, with enough surrounding lines to be unique.
    pub old: String,
    /// The replacement text.
    pub new: String,
    /// How many occurrences `old` must have; all of them are replaced (default 1).
    pub expected_count: Option<usize>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EditFileArgs {
    /// File path: absolute, or relative to the first root.
    pub path: String,
    /// Replacements, applied in order to the result of the previous one.
    pub edits: Vec<Edit>,
    /// Only show the diff; change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Applies `edits` to `text`; returns the new text and the number of replacements. The text
/// never grows past `cap` bytes (`files.max_write_bytes`), not even in between: a replacement
/// that would pass it is refused before it is made.
pub fn apply_edits(text: &str, edits: &[Edit], cap: u64) -> Result<(String, usize), ToolError> {
    let too_big = |n: usize, size: u64| {
        ToolError::invalid(format!(
            "edit {n}: the file would grow to {} or more, over the {} limit (files.max_write_bytes); make fewer or smaller replacements. Nothing was changed.",
            human_bytes(size),
            human_bytes(cap)
        ))
    };
    let crlf = text.contains("\r\n");
    let mut current = text.to_owned();
    let mut replaced = 0;
    for (i, edit) in edits.iter().enumerate() {
        let n = i + 1;
        if edit.old.is_empty() {
            return Err(ToolError::invalid(format!(
                "edit {n}: `old` is empty; to add text, include a neighbouring line in `old` and `new`"
            )));
        }
        let (old, new) = if crlf && !edit.old.contains('\r') {
            (
                edit.old.replace('\n', "\r\n"),
                edit.new.replace('\n', "\r\n"),
            )
        } else {
            (edit.old.clone(), edit.new.clone())
        };
        let expected = edit.expected_count.unwrap_or(1);
        if expected == 0 {
            return Err(ToolError::invalid(format!(
                "edit {n}: expected_count must be at least 1"
            )));
        }
        let exact = current.matches(&old).count();
        if exact == expected {
            let size = (current.len() - exact * old.len()) as u64
                + (exact as u64).saturating_mul(new.len() as u64);
            if size > cap {
                return Err(too_big(n, size));
            }
            current = current.replace(&old, &new);
            replaced += exact;
            continue;
        }
        if exact > 0 {
            return Err(ToolError::invalid(format!(
                "edit {n}: `old` occurs {exact} times but {expected} expected; add surrounding lines to make it unique, or set expected_count: {exact} to replace every one. Nothing was changed."
            )));
        }
        match fuzzy_replace(&current, &old, &new, crlf, cap) {
            Some(Err(size)) => return Err(too_big(n, size)),
            Some(Ok((next, count))) if count == expected => {
                current = next;
                replaced += count;
            }
            Some(Ok((_, count))) if count > 0 => {
                return Err(ToolError::invalid(format!(
                    "edit {n}: `old` matches {count} places when whitespace is ignored but {expected} expected; add surrounding lines to make it unique. Nothing was changed."
                )));
            }
            _ => {
                return Err(ToolError::invalid(format!(
                    "edit {n}: `old` was not found, not even ignoring indentation. Read the file again (read_file) and copy the exact lines. Nothing was changed."
                )));
            }
        }
    }
    Ok((current, replaced))
}

/// Matches `old` line by line with leading and trailing whitespace ignored, and replaces each
/// match with `new` re-indented to the matched block's indentation. `Err(size)` when the result
/// would pass `cap` bytes (it stops there).
fn fuzzy_replace(
    text: &str,
    old: &str,
    new: &str,
    crlf: bool,
    cap: u64,
) -> Option<Result<(String, usize), u64>> {
    let old_lines: Vec<&str> = old.lines().map(str::trim).collect();
    let first = old_lines.iter().position(|l| !l.is_empty())?;
    let last = old_lines.iter().rposition(|l| !l.is_empty())?;
    let old_lines = &old_lines[first..=last];
    // `new` keeps its own relative indentation, rebased onto the matched block's first line.
    let new_base = new
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent(l).len())
        .min()
        .unwrap_or(0);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = String::with_capacity(text.len());
    let mut count = 0;
    let mut i = 0;
    let eol = if crlf { "\r\n" } else { "\n" };
    while i < lines.len() {
        let fits = i + old_lines.len() <= lines.len()
            && old_lines
                .iter()
                .enumerate()
                .all(|(k, o)| lines[i + k].trim() == *o);
        if !fits {
            out.push_str(lines[i]);
            i += 1;
            continue;
        }
        count += 1;
        let file_indent = indent(lines[i]);
        let ends_with_eol = lines[i + old_lines.len() - 1].ends_with('\n');
        let new_lines: Vec<String> = new
            .lines()
            .map(|l| {
                if l.trim().is_empty() {
                    String::new()
                } else {
                    format!(
                        "{file_indent}{}",
                        l.get(new_base..).unwrap_or(l.trim_start())
                    )
                }
            })
            .collect();
        out.push_str(&new_lines.join(eol));
        if ends_with_eol && !new_lines.is_empty() {
            out.push_str(eol);
        }
        if out.len() as u64 > cap {
            return Some(Err(out.len() as u64));
        }
        i += old_lines.len();
    }
    Some(Ok((out, count)))
}

fn indent(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

pub fn edit_file(scope: &FileScope, args: &EditFileArgs) -> Result<String, ToolError> {
    let input = &args.path;
    if args.edits.is_empty() {
        return Err(ToolError::invalid(
            "give at least one edit: {\"old\": \"exact text\", \"new\": \"replacement\"}",
        ));
    }
    if args.edits.len() > scope.files.max_edits {
        return Err(ToolError::invalid(format!(
            "{} edits in one call; at most {} are taken (files.max_edits). Split them over several calls, or use expected_count to replace every occurrence of one text.",
            args.edits.len(),
            scope.files.max_edits
        )));
    }
    let target = scope.for_write(input)?;
    if target.existing.is_none() {
        return Err(ToolError::invalid(format!(
            "`{input}` does not exist; create it with write_file"
        )));
    }
    let resolved = scope.existing(input)?;
    let file = scope.open_read(&resolved.path, input)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > scope.files.max_write_bytes {
        return Err(ToolError::invalid(format!(
            "`{input}` is {}, over the editing limit (files.max_write_bytes)",
            human_bytes(size)
        )));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(scope.files.max_write_bytes)
        .read_to_end(&mut bytes)
        .map_err(|e| ToolError::io(input, e))?;
    if looks_binary(&bytes) {
        return Err(ToolError::invalid(format!(
            "`{input}` is a binary file; edit_file changes text files only"
        )));
    }
    let (original, lossy) = decode_lossy(&bytes);
    if lossy {
        return Err(ToolError::invalid(format!(
            "`{input}` is not valid UTF-8; editing it would corrupt the invalid bytes, so it is refused"
        )));
    }
    let (updated, replaced) = apply_edits(&original, &args.edits, scope.files.max_write_bytes)?;
    let name = display(&target.path);
    if updated == original {
        return Ok(format!("No change: the edits leave {name} as it is."));
    }
    // The diff of a large file with many changes is bounded in time (past the deadline it is
    // less minimal, never wrong) and in size (the answer is about the edit, not the file).
    let diff = similar::TextDiff::configure()
        .timeout(DIFF_TIME)
        .diff_lines(&original, &updated)
        .unified_diff()
        .context_radius(3)
        .header(&name, &name)
        .to_string();
    let diff = cut_diff(diff, scope.files.max_read_bytes as usize);
    let n = args.edits.len();
    let head = if args.dry_run {
        format!(
            "Dry run: {n} edit(s) would change {name} ({replaced} replacement(s)); nothing was written."
        )
    } else {
        write_atomic(scope, &target, updated.as_bytes(), input)?;
        format!("Applied {n} edit(s) to {name} ({replaced} replacement(s)).")
    };
    Ok(format!("{head}\n```diff\n{diff}```"))
}

/// How long the diff of one edit may take to compute.
const DIFF_TIME: std::time::Duration = std::time::Duration::from_secs(2);

/// The diff, cut on a line boundary at `max` bytes with a note saying what was left out.
fn cut_diff(diff: String, max: usize) -> String {
    if diff.len() <= max {
        return diff;
    }
    let cut = diff[..crate::support::text::floor_char_boundary(&diff, max)]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let left = diff[cut..].lines().count();
    format!(
        "{}... {left} more diff line(s) not shown (the diff is cut at files.max_read_bytes); read the file to see the result\n",
        &diff[..cut]
    )
}

#[tool_router(router = edit_file_router, vis = "pub(crate)")]
impl Switchboard {
    /// Change part of a text file: each edit replaces exact `old` text with `new` (indentation may differ). All edits apply or none. Returns the unified diff; dry_run only shows it.
    #[tool(annotations(
        title = "Edit file",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    pub async fn edit_file(
        &self,
        Parameters(args): Parameters<EditFileArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<String, ToolError> {
        let scope = self.file_scope(&ctx).await;
        blocking(move || edit_file(&scope, &args)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_diff_is_cut_on_a_line_with_a_note() {
        let diff: String = (0..100).map(|i| format!("+line {i}\n")).collect();
        assert_eq!(cut_diff(diff.clone(), 10_000), diff);
        let cut = cut_diff(diff, 50);
        assert!(cut.starts_with("+line 0\n"), "{cut}");
        assert!(cut.contains("more diff line(s) not shown"), "{cut}");
        assert!(cut.lines().all(|l| l.starts_with("+line") || l.starts_with("...")));
    }

    fn apply_edits_t(text: &str, edits: &[Edit]) -> Result<(String, usize), ToolError> {
        apply_edits(text, edits, 1 << 20)
    }

    /// A replacement count or a fan of edits cannot grow a file past the write limit, not even
    /// in memory: it is refused before the text is built.
    #[test]
    fn edits_never_grow_a_file_past_the_cap() {
        let text = "x\n".repeat(10_000);
        let grow = Edit {
            expected_count: Some(10_000),
            ..edit("x", &"y".repeat(1000))
        };
        let e = apply_edits(&text, &[grow], 1 << 20).unwrap_err().to_string();
        assert!(e.contains("files.max_write_bytes"), "{e}");
        // The indentation-tolerant matcher stops at the cap too.
        let text = "  a\n".repeat(10_000);
        let fuzzy = Edit {
            expected_count: Some(10_000),
            ..edit("a  ", &"b".repeat(1000))
        };
        let e = apply_edits(&text, &[fuzzy], 1 << 20).unwrap_err().to_string();
        assert!(e.contains("files.max_write_bytes"), "{e}");
        // Under the cap, the same edits apply.
        assert!(apply_edits("x\nx\n", &[edit("x\nx", "yy")], 1 << 20).is_ok());
    }

    fn edit(old: &str, new: &str) -> Edit {
        Edit {
            old: old.into(),
            new: new.into(),
            expected_count: None,
        }
    }

    #[test]
    fn exact_then_counted() {
        let (t, n) = apply_edits_t(
            "a b a",
            &[Edit {
                expected_count: Some(2),
                ..edit("a", "x")
            }],
        )
        .unwrap();
        assert_eq!((t.as_str(), n), ("x b x", 2));
        assert!(
            apply_edits_t("a b a", &[edit("a", "x")])
                .unwrap_err()
                .to_string()
                .contains("occurs 2 times")
        );
    }

    #[test]
    fn whitespace_tolerant_reindents() {
        let text = "fn f() {\n        let x = 1;\n        let y = 2;\n}\n";
        let (t, _) = apply_edits_t(
            text,
            &[edit("let x = 1;\n  let y = 2;", "let x = 10;\nlet y = 20;")],
        )
        .unwrap();
        assert_eq!(t, "fn f() {\n        let x = 10;\n        let y = 20;\n}\n");
    }

    #[test]
    fn all_or_nothing() {
        let err =
            apply_edits_t("one\ntwo\n", &[edit("one", "1"), edit("three", "3")]).unwrap_err();
        assert!(err.to_string().contains("edit 2"));
    }

    #[test]
    fn crlf_is_kept() {
        let (t, _) = apply_edits_t("a\r\nb\r\n", &[edit("a\nb", "c\nd")]).unwrap();
        assert_eq!(t, "c\r\nd\r\n");
    }
}
