//! `read_document`: a PDF, Word, PowerPoint or OpenDocument file's text, paged by line like
//! `read_file`, or a spreadsheet's sheet as a Markdown table, paged by row or read by range.
//! The file is opened through the path policy; the parsing runs in the isolated reader
//! (`documents::isolate`).

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;

use rmcp::handler::server::wrapper::Parameters;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::read_file::{Range, read_lines};
use crate::documents::isolate::{IsolateError, Limits};
use crate::documents::{FileKey, Kind, Output, Request, SheetPage};
use crate::error::reason;
use crate::server::Switchboard;
use crate::support::text;
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "pdf docx word pptx powerpoint slides presentation xlsx excel spreadsheet workbook sheet xls ods odt";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadDocumentArgs {
    /// File path: absolute, or relative to the first root.
    pub path: String,
    /// Text documents: the first line (1-based). Spreadsheets: the first data row after the header (1-based).
    pub offset: Option<u64>,
    /// Most lines (text documents) or rows (spreadsheets); default: as many as fit the size cap.
    pub limit: Option<u64>,
    /// Spreadsheets: the sheet, by name or 1-based number (default the first).
    pub sheet: Option<String>,
    /// Spreadsheets: cells in A1 notation instead of offset/limit, e.g. B2:F40, A:C or 3:10.
    pub range: Option<String>,
}

/// The file, read through the policy.
struct Opened {
    kind: Kind,
    key: FileKey,
    bytes: Vec<u8>,
}

fn open(
    scope: &crate::policy::FileScope,
    input: &str,
) -> Result<Opened, ToolError> {
    let resolved = scope.existing(input)?;
    let file = scope.open_read(&resolved.path, input)?;
    let md = file.metadata().map_err(|e| ToolError::io(input, e))?;
    let limit = scope.files.max_document_bytes;
    if md.len() > limit {
        return Err(ToolError::refused(
            reason::DOCUMENT_UNREADABLE,
            format!(
                "`{input}` is {}, over the {} limit for documents (files.max_document_bytes)",
                text::human_bytes(md.len()),
                text::human_bytes(limit)
            ),
        ));
    }
    // The format from the first bytes: a file that is no document is refused before the rest
    // of it is read.
    let mut file = file.take(limit + 1);
    let mut bytes = Vec::with_capacity(md.len().min(limit + 1) as usize);
    (&mut file)
        .take(8)
        .read_to_end(&mut bytes)
        .map_err(|e| ToolError::io(input, e))?;
    let head = bytes.clone();
    let Some(kind) = Kind::detect(&resolved.path, &head) else {
        let why = match crate::documents::unsupported_advice(&resolved.path, &head) {
            Some(advice) => advice,
            None if !text::looks_binary(&head) => "it is a text file: use read_file".to_owned(),
            None => "read_document reads PDF, DOCX, PPTX, ODT, ODP, XLSX, XLSM, XLSB, XLS, ODS, CSV and TSV files; use read_media for images and audio".to_owned(),
        };
        return Err(ToolError::invalid(format!("`{input}`: {why}")));
    };
    file.read_to_end(&mut bytes)
        .map_err(|e| ToolError::io(input, e))?;
    let modified_ns = i128::from(md.mtime()) * 1_000_000_000 + i128::from(md.mtime_nsec());
    Ok(Opened {
        kind,
        key: FileKey {
            path: resolved.path,
            size: md.len(),
            modified_ns,
            inode: md.ino(),
        },
        bytes,
    })
}

pub async fn read_document(
    sb: &Switchboard,
    ctx: &RequestContext<RoleServer>,
    args: ReadDocumentArgs,
) -> Result<String, ToolError> {
    let scope = sb.file_scope(ctx).await;
    let files = scope.files.clone();
    if args.offset == Some(0) {
        return Err(ToolError::invalid("offset is 1-based: the first is offset 1"));
    }
    let input = args.path.clone();
    let opened = blocking(move || open(&scope, &input)).await?;
    let kind = opened.kind;
    if !kind.is_sheet() && (args.sheet.is_some() || args.range.is_some()) {
        return Err(ToolError::invalid(format!(
            "sheet and range apply to spreadsheets; `{}` is a {}: page it with offset and limit",
            args.path,
            kind.name()
        )));
    }
    if args.range.is_some() && (args.offset.is_some() || args.limit.is_some()) {
        return Err(ToolError::invalid(
            "give a range, or offset/limit, not both",
        ));
    }
    let req = Request {
        kind,
        sheet: args.sheet.clone(),
        range: args.range.clone(),
        offset: args.offset,
        limit: args.limit,
        budget: files.max_read_bytes as usize,
        max_columns: files.max_sheet_columns,
        max_text_bytes: files.max_document_text_bytes,
    };
    let limits = Limits {
        memory: files.document_memory_mib.saturating_mul(1024 * 1024),
        timeout: files.document_timeout,
    };
    let cached = if kind.is_sheet() {
        None
    } else {
        sb.documents.get(&opened.key)
    };
    let output = match cached {
        Some(o) => o,
        None => {
            let exe = sb.settings.supervisor_exe.clone();
            let output = crate::documents::isolate::read(&exe, opened.bytes, &req, &limits)
                .await
                .map_err(|e| unreadable(&args.path, kind, e))?;
            let output = Arc::new(output);
            if let Output::Text { text, .. } = output.as_ref() {
                sb.documents
                    .put(opened.key.clone(), output.clone(), text.len());
            }
            output
        }
    };
    match output.as_ref() {
        Output::Text { text, pages, cut } => {
            let mut head = format!("{}: {}", args.path, kind.name());
            if let Some(n) = pages {
                let what = if kind == Kind::Pdf { "page" } else { "slide" };
                head.push_str(&format!(", {n} {what}{}", if *n == 1 { "" } else { "s" }));
            }
            let range = Range::From {
                start: args.offset.unwrap_or(1),
                column: 0,
                limit: args.limit,
            };
            let budget = (files.max_read_bytes as usize).saturating_sub(head.len() + 1);
            let body = read_lines(text.as_bytes(), &args.path, range, false, budget)?;
            let mut out = format!("{head}\n{body}");
            if *cut {
                out.push_str(&format!(
                    "\n[the text stops at {} (files.max_document_text_bytes)]",
                    text::human_bytes(files.max_document_text_bytes)
                ));
            }
            Ok(out)
        }
        Output::Sheet(page) => Ok(sheet_answer(&args.path, kind, page)),
    }
}

fn sheet_answer(input: &str, kind: Kind, p: &SheetPage) -> String {
    let sheets = p
        .sheets
        .iter()
        .map(|s| {
            if *s == p.sheet {
                format!(
                    "`{s}` (shown, {})",
                    p.used.as_deref().unwrap_or("empty")
                )
            } else {
                format!("`{s}`")
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut out = if kind.is_sheet() && p.sheets.len() > 1 {
        format!("{input}: {}; sheets: {sheets}\n", kind.name())
    } else {
        format!(
            "{input}: {}, {}\n",
            kind.name(),
            p.used.as_deref().unwrap_or("empty")
        )
    };
    if p.used.is_none() {
        out.push_str("[the sheet is empty]");
        return out;
    }
    out.push_str(&p.table);
    if p.last < p.first {
        out.push_str(&format!("[no rows there: the sheet has {} data rows]", p.total));
        return out;
    }
    let mut note = format!("[rows {}-{} of {}", p.first, p.last, p.total);
    if p.capped {
        note.push_str(", fewer than asked: the table is capped by files.max_read_bytes");
    }
    if p.last < p.total && !p.sheets.is_empty() {
        note.push_str(&format!("; continue with offset {}", p.last + 1));
    }
    note.push(']');
    out.push_str(&note);
    if let Some(cols) = &p.hidden_columns {
        out.push_str(&format!(
            "\n[columns {cols} are not shown (files.max_sheet_columns): read them with a range, e.g. {}]",
            cols.replace('-', ":")
        ));
    }
    out
}

fn unreadable(input: &str, kind: Kind, e: IsolateError) -> ToolError {
    ToolError::refused(
        reason::DOCUMENT_UNREADABLE,
        format!("`{input}` ({}): {e}", kind.name()),
    )
}

#[tool_router(router = read_document_router, vis = "pub(crate)")]
impl Switchboard {
    /// Read a document as text: PDF, Word (DOCX), PowerPoint (PPTX), OpenDocument (ODT, ODP); or a spreadsheet (XLSX, XLS, ODS, CSV, TSV), one sheet at a time in Markdown, by row or A1 range. The answer names the sheets and where to continue.
    #[tool(annotations(
        title = "Read document",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn read_document(
        &self,
        Parameters(args): Parameters<ReadDocumentArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<String, ToolError> {
        read_document(self, &ctx, args).await
    }
}
