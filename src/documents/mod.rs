//! Documents as text for a model: PDF, Word (DOCX), PowerPoint (PPTX) and OpenDocument text
//! and presentations (ODT, ODP) become Markdown-like text, paged by line like any read; a
//! spreadsheet (XLSX, XLSM, XLSB, XLS, ODS, CSV, TSV) becomes one sheet's rows as a Markdown
//! table, paged by row. Hostile files (zip bombs, deep XML, huge sheets, parser bugs) are the
//! reason for the split: the parsing here runs in a separate process with memory, CPU and
//! output limits ([`isolate`]), and every parser also stops at the caps it is given.

pub mod isolate;
mod markdown;
mod office;
mod pdf;
mod sheets;

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The document formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Pdf,
    Docx,
    Pptx,
    Odt,
    Odp,
    Xlsx,
    Xls,
    Ods,
    Csv,
    Tsv,
}

impl Kind {
    /// What the format is called in answers.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Pdf => "PDF",
            Kind::Docx => "Word document",
            Kind::Pptx => "PowerPoint presentation",
            Kind::Odt => "OpenDocument text",
            Kind::Odp => "OpenDocument presentation",
            Kind::Xlsx => "Excel workbook",
            Kind::Xls => "Excel 97-2003 workbook",
            Kind::Ods => "OpenDocument spreadsheet",
            Kind::Csv => "CSV file",
            Kind::Tsv => "TSV file",
        }
    }

    /// Spreadsheets are read by sheet and row; the others by line of their text.
    pub fn is_sheet(self) -> bool {
        matches!(
            self,
            Kind::Xlsx | Kind::Xls | Kind::Ods | Kind::Csv | Kind::Tsv
        )
    }

    /// The format of a file from its first bytes and its name: `None` for anything else. The
    /// container (zip, OLE) is checked by its magic; which zip format, by the extension.
    pub fn detect(path: &Path, head: &[u8]) -> Option<Kind> {
        if head.starts_with(b"%PDF-") {
            return Some(Kind::Pdf);
        }
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)?;
        let zip = head.starts_with(b"PK\x03\x04");
        let ole = head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
        match ext.as_str() {
            "docx" | "docm" | "dotx" if zip => Some(Kind::Docx),
            "pptx" | "pptm" | "ppsx" if zip => Some(Kind::Pptx),
            "xlsx" | "xlsm" | "xltx" | "xlsb" if zip => Some(Kind::Xlsx),
            "odt" | "ott" if zip => Some(Kind::Odt),
            "odp" | "otp" if zip => Some(Kind::Odp),
            "ods" | "ots" if zip => Some(Kind::Ods),
            "xls" if ole || zip => Some(Kind::Xls),
            "csv" => Some(Kind::Csv),
            "tsv" | "tab" => Some(Kind::Tsv),
            _ => None,
        }
    }

    /// A binary format this module does not read, named so the answer can say what to do.
    pub fn unsupported(path: &Path, head: &[u8]) -> Option<&'static str> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        let ole = head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
        match ext.as_str() {
            "doc" if ole => Some("a Word 97-2003 document (.doc)"),
            "ppt" if ole => Some("a PowerPoint 97-2003 presentation (.ppt)"),
            "rtf" => Some("an RTF document"),
            _ => None,
        }
    }
}

/// Which file a cached text came from: the same path, size, change time and inode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileKey {
    pub path: std::path::PathBuf,
    pub size: u64,
    pub modified_ns: i128,
    pub inode: u64,
}

/// Texts already extracted, so reading on through a document does not parse it again.
pub type TextCache = crate::support::cache::TtlCache<FileKey, std::sync::Arc<Output>>;

/// What to say of a binary format this module does not read: what it is and how to convert
/// it. One sentence for `read_file` and `read_document` alike.
pub fn unsupported_advice(path: &Path, head: &[u8]) -> Option<String> {
    Kind::unsupported(path, head).map(|what| {
        format!(
            "it is {what}, which switchboard does not read: convert it (e.g. `soffice --headless --convert-to docx`) and read the result with read_document"
        )
    })
}

/// What to read and the caps to stop at.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub kind: Kind,
    /// Spreadsheets: the sheet's name or 1-based number (default the first).
    pub sheet: Option<String>,
    /// Spreadsheets: an A1 range (`B2:F40`, `A:C`, `3:10`) instead of paging by row.
    pub range: Option<String>,
    /// Spreadsheets: the first data row (1-based, after the header row).
    pub offset: Option<u64>,
    /// Spreadsheets: most rows.
    pub limit: Option<u64>,
    /// Spreadsheets: the size of the table returned, in bytes.
    pub budget: usize,
    /// Most columns of a sheet shown at once.
    pub max_columns: usize,
    /// The most text extracted, and the most any compressed part may expand to.
    pub max_text_bytes: u64,
}

/// What a document holds, as text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum Output {
    /// The whole text (up to `max_text_bytes`); paged by the caller.
    Text {
        text: String,
        /// Pages (PDF) or slides (presentations).
        pages: Option<usize>,
        /// The text was longer than `max_text_bytes` and was cut there.
        cut: bool,
    },
    /// One window of one sheet.
    Sheet(SheetPage),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SheetPage {
    /// Every sheet's name, in workbook order.
    pub sheets: Vec<String>,
    /// The sheet shown, and its used range (`A1:F1200`; `None` when empty).
    pub sheet: String,
    pub used: Option<String>,
    /// The Markdown table.
    pub table: String,
    /// Data rows shown (1-based, after the header), and how many there are.
    pub first: u64,
    pub last: u64,
    pub total: u64,
    /// Columns left out (past `max_columns`), as a range of letters.
    pub hidden_columns: Option<String>,
    /// Whether fewer rows than asked fit the budget.
    pub capped: bool,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Serialize, Deserialize)]
pub enum DocError {
    #[error("it cannot be read: {why}")]
    Unreadable { kind: String, why: String },
    #[error(
        "it holds no text: its {pages} page(s) are probably scanned images. read_media does not read text from images either; an OCR program run with run_command can"
    )]
    NoText { pages: usize },
    #[error("it is encrypted with a password, which switchboard does not take")]
    Encrypted,
    #[error("{what} is larger than {limit} bytes ({key}){hint}")]
    TooLarge {
        what: String,
        limit: u64,
        key: String,
        hint: String,
    },
    #[error("it has no sheet `{name}`; its sheets are {names}")]
    UnknownSheet { name: String, names: String },
    #[error("`{range}` is not a range: give it as A1 references, e.g. B2:F40, A:C or 3:10")]
    BadRange { range: String },
}

impl DocError {
    fn unreadable(kind: Kind, why: impl std::fmt::Display) -> Self {
        DocError::Unreadable {
            kind: kind.name().to_owned(),
            why: why.to_string(),
        }
    }

    fn expanded(limit: u64) -> Self {
        DocError::TooLarge {
            what: "a compressed part of it, expanded,".into(),
            limit,
            key: "files.max_document_text_bytes".into(),
            hint: "; a part that large is usually a zip bomb".into(),
        }
    }
}

/// Reads `bytes` as `req.kind`. This is what the isolated process runs.
pub fn extract(bytes: &[u8], req: &Request) -> Result<Output, DocError> {
    match req.kind {
        Kind::Pdf => pdf::text(bytes, req.max_text_bytes),
        Kind::Docx | Kind::Pptx | Kind::Odt | Kind::Odp => {
            office::text(req.kind, bytes, req.max_text_bytes)
        }
        Kind::Xlsx | Kind::Xls | Kind::Ods | Kind::Csv | Kind::Tsv => {
            sheets::page(bytes, req).map(Output::Sheet)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_magic_and_name() {
        let zip = b"PK\x03\x04rest";
        let ole = [0xD0, 0xCF, 0x11, 0xE0, 0xA1];
        let k = |name: &str, head: &[u8]| Kind::detect(Path::new(name), head);
        assert_eq!(k("a.pdf", b"%PDF-1.7"), Some(Kind::Pdf));
        assert_eq!(k("no-extension", b"%PDF-1.4"), Some(Kind::Pdf));
        assert_eq!(k("Report.DOCX", zip), Some(Kind::Docx));
        assert_eq!(k("deck.pptx", zip), Some(Kind::Pptx));
        assert_eq!(k("book.xlsx", zip), Some(Kind::Xlsx));
        assert_eq!(k("old.xls", &ole), Some(Kind::Xls));
        assert_eq!(k("t.odt", zip), Some(Kind::Odt));
        assert_eq!(k("t.ods", zip), Some(Kind::Ods));
        assert_eq!(k("t.csv", b"a,b\n"), Some(Kind::Csv));
        // A name without the container it promises is not taken for that format.
        assert_eq!(k("fake.docx", b"hello"), None);
        assert_eq!(k("archive.zip", zip), None);
        assert_eq!(
            Kind::unsupported(Path::new("old.doc"), &ole),
            Some("a Word 97-2003 document (.doc)")
        );
    }
}
