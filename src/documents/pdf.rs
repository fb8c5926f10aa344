//! A PDF's text, page by page (`pdf-extract` over `lopdf`), with a line marking each page. A
//! PDF whose pages hold no text at all is a scan, and says so.

use super::markdown::Markdown;
use super::{DocError, Kind, Output};

pub fn text(bytes: &[u8], max_text: u64) -> Result<Output, DocError> {
    let mut doc = pdf_extract::Document::load_mem(bytes).map_err(|e| unreadable(&e))?;
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err(DocError::Encrypted);
    }
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    if pages.is_empty() {
        return Err(DocError::unreadable(Kind::Pdf, "it has no pages"));
    }
    let total = pages.len();
    let mut md = Markdown::new(max_text);
    let mut any = false;
    let mut failed = Vec::new();
    for n in pages {
        if md.full() {
            break;
        }
        let mut page = String::new();
        let done = {
            let mut out = pdf_extract::PlainTextOutput::new(&mut page);
            pdf_extract::output_doc_page(&doc, &mut out, n)
        };
        md.line(&format!("--- page {n} of {total} ---"));
        match done {
            Ok(()) => {
                let page = tidy(&page);
                any |= !page.is_empty();
                for line in page.lines() {
                    md.text(line);
                    md.end_paragraph();
                }
            }
            Err(e) => {
                md.line(&format!("[this page's text could not be read: {e}]"));
                failed.push(n);
            }
        }
    }
    if !any && failed.len() < total {
        return Err(DocError::NoText { pages: total });
    }
    if !any {
        return Err(DocError::unreadable(
            Kind::Pdf,
            "no page's text could be read",
        ));
    }
    let (text, cut) = md.finish();
    Ok(Output::Text {
        text,
        pages: Some(total),
        cut,
    })
}

/// Trailing spaces off, runs of blank lines down to one.
fn tidy(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    let mut blank = 0;
    for line in page.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if blank > 0 && !out.is_empty() {
            out.push('\n');
        }
        blank = 0;
        out.push_str(line);
        out.push('\n');
    }
    out.trim_end().to_owned()
}

fn unreadable(e: &pdf_extract::Error) -> DocError {
    DocError::unreadable(Kind::Pdf, e)
}
