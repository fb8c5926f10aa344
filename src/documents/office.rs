//! Word, PowerPoint and OpenDocument text and presentations: the zip's XML parts walked as a
//! stream of events into Markdown. Every part is read through a cap on its expanded size (a zip
//! bomb ends there), and elements nested deeper than [`MAX_DEPTH`] end the reading.

use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};

use super::markdown::Markdown;
use super::{DocError, Kind, Output};

/// Deeper XML than this is not a real document.
const MAX_DEPTH: usize = 512;

type Zip<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

pub fn text(kind: Kind, bytes: &[u8], max_text: u64) -> Result<Output, DocError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| match e {
        zip::result::ZipError::UnsupportedArchive(m) if m.contains("ncrypt") => DocError::Encrypted,
        e => DocError::unreadable(kind, e),
    })?;
    let mut parts = Parts {
        left: max_text.saturating_mul(4),
        cap: max_text,
    };
    let mut md = Markdown::new(max_text);
    let mut pages = None;
    match kind {
        Kind::Docx => {
            let xml = parts.required(&mut zip, "word/document.xml", kind)?;
            walk(&xml, kind, &mut md, &mut Word::default())?;
        }
        Kind::Pptx => {
            let slides = slide_names(&zip);
            if slides.is_empty() {
                return Err(DocError::unreadable(kind, "it has no slides"));
            }
            pages = Some(slides.len());
            for (i, (n, name)) in slides.iter().enumerate() {
                if md.full() {
                    break;
                }
                md.line(&format!("## Slide {}", i + 1));
                let xml = parts.required(&mut zip, name, kind)?;
                walk(&xml, kind, &mut md, &mut Slide::default())?;
                if let Some(notes) = notes_of(&mut zip, &mut parts, *n, kind)? {
                    md.line("Notes:");
                    walk(&notes, kind, &mut md, &mut Slide::default())?;
                }
            }
        }
        Kind::Odt | Kind::Odp => {
            let xml = parts.required(&mut zip, "content.xml", kind)?;
            let mut odf = Odf::default();
            walk(&xml, kind, &mut md, &mut odf)?;
            if kind == Kind::Odp {
                pages = Some(odf.pages);
            }
        }
        _ => unreachable!("office::text is called for office formats only"),
    }
    let (text, cut) = md.finish();
    Ok(Output::Text { text, pages, cut })
}

/// The expanded-size caps: each part at most `cap`, all parts together at most `left`.
struct Parts {
    left: u64,
    cap: u64,
}

impl Parts {
    fn read(&mut self, zip: &mut Zip, name: &str, kind: Kind) -> Result<Option<Vec<u8>>, DocError> {
        let file = match zip.by_name(name) {
            Ok(f) => f,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(zip::result::ZipError::UnsupportedArchive(m)) if m.contains("ncrypt") => {
                return Err(DocError::Encrypted);
            }
            Err(e) => return Err(DocError::unreadable(kind, e)),
        };
        let cap = self.cap.min(self.left);
        if file.size() > cap {
            return Err(DocError::expanded(self.cap));
        }
        let mut out = Vec::with_capacity(file.size() as usize);
        // The declared size can lie: read one byte past the cap to know.
        file.take(cap + 1)
            .read_to_end(&mut out)
            .map_err(|e| DocError::unreadable(kind, format!("{name}: {e}")))?;
        if out.len() as u64 > cap {
            return Err(DocError::expanded(self.cap));
        }
        self.left -= out.len() as u64;
        Ok(Some(out))
    }

    fn required(&mut self, zip: &mut Zip, name: &str, kind: Kind) -> Result<Vec<u8>, DocError> {
        self.read(zip, name, kind)?
            .ok_or_else(|| DocError::unreadable(kind, format!("it has no {name}")))
    }
}

/// `ppt/slides/slideN.xml` in slide order (by N), with N.
fn slide_names(zip: &Zip) -> Vec<(u32, String)> {
    let mut slides: Vec<(u32, String)> = zip
        .file_names()
        .filter_map(|n| {
            let n = n.ok()?;
            let num = n
                .strip_prefix("ppt/slides/slide")?
                .strip_suffix(".xml")?
                .parse()
                .ok()?;
            Some((num, n.into_owned()))
        })
        .collect();
    slides.sort();
    slides
}

/// The speaker notes of slide `n`, found through the slide's relationships.
fn notes_of(
    zip: &mut Zip,
    parts: &mut Parts,
    n: u32,
    kind: Kind,
) -> Result<Option<Vec<u8>>, DocError> {
    let rels = format!("ppt/slides/_rels/slide{n}.xml.rels");
    let Some(xml) = parts.read(zip, &rels, kind)? else {
        return Ok(None);
    };
    let mut reader = quick_xml::Reader::from_reader(xml.as_slice());
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == "Relationship" => {
                let ty = attr(&e, "Type").unwrap_or_default();
                if ty.ends_with("/notesSlide")
                    && let Some(target) = attr(&e, "Target")
                {
                    let name = match target.strip_prefix("../") {
                        Some(rest) => format!("ppt/{rest}"),
                        None => target.trim_start_matches('/').to_owned(),
                    };
                    return parts.read(zip, &name, kind);
                }
            }
            Ok(Event::Eof) | Err(_) => return Ok(None),
            _ => {}
        }
    }
}

/// An attribute's value by local name (any prefix).
fn attr(e: &BytesStart, local: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// What a format does with the elements it knows. Text goes to the Markdown unless `skip`.
trait Walker {
    fn start(&mut self, e: &BytesStart, md: &mut Markdown);
    fn end(&mut self, local: &str, md: &mut Markdown);
    /// Whether text is to be left out here (field codes, deleted text, fallbacks).
    fn skip(&self) -> bool;
    /// `<x/>`: by default a start and an end.
    fn empty(&mut self, e: &BytesStart, md: &mut Markdown) {
        self.start(e, md);
        self.end(e.local_name().as_ref(), md);
    }
}

fn walk(xml: &[u8], kind: Kind, md: &mut Markdown, w: &mut impl Walker) -> Result<(), DocError> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut depth = 0usize;
    loop {
        if md.full() {
            return Ok(());
        }
        let event = reader
            .read_event()
            .map_err(|e| DocError::unreadable(kind, format!("its XML is broken: {e}")))?;
        match event {
            Event::Start(e) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(DocError::unreadable(
                        kind,
                        format!("its XML is nested deeper than {MAX_DEPTH} levels"),
                    ));
                }
                w.start(&e, md);
            }
            Event::Empty(e) => w.empty(&e, md),
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                w.end(e.local_name().as_ref(), md);
            }
            Event::Text(t) if !w.skip() => md.text(&t.xml10_content()),
            Event::CData(t) if !w.skip() => md.text(&t.into_inner()),
            Event::GeneralRef(r) if !w.skip() => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    md.text(c.encode_utf8(&mut [0; 4]));
                } else if let Some(s) =
                    quick_xml::escape::resolve_predefined_entity(&r.xml10_content())
                {
                    md.text(s);
                }
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// `word/document.xml`.
#[derive(Default)]
struct Word {
    /// Inside `w:t` (text is only taken there: other elements hold no document text).
    in_text: bool,
    /// Inside a field code, deleted text or a fallback, at this depth count.
    hidden: usize,
}

impl Walker for Word {
    fn start(&mut self, e: &BytesStart, md: &mut Markdown) {
        match e.local_name().as_ref() {
            "t" => self.in_text = true,
            "instrText" | "delText" | "Fallback" => self.hidden += 1,
            "pStyle" => {
                let style = attr(e, "val").unwrap_or_default().to_ascii_lowercase();
                if style == "title" {
                    md.heading(1);
                } else if style.starts_with("list") {
                    // List Bullet, List Number, List Paragraph: numbered by their style.
                    md.list_item(0);
                } else if let Some(n) = style.strip_prefix("heading")
                    && let Ok(level) = n.trim().parse::<usize>()
                {
                    md.heading(level);
                }
            }
            "ilvl" => {
                let depth = attr(e, "val").and_then(|v| v.parse().ok()).unwrap_or(0);
                md.list_item(depth);
            }
            "tbl" => md.start_table(),
            _ => {}
        }
    }

    fn empty(&mut self, e: &BytesStart, md: &mut Markdown) {
        match e.local_name().as_ref() {
            "tab" if self.hidden == 0 => md.text("\t"),
            "br" | "cr" if self.hidden == 0 => md.text("\n"),
            "t" => {}
            _ => {
                self.start(e, md);
                self.end(e.local_name().as_ref(), md);
            }
        }
    }

    fn end(&mut self, local: &str, md: &mut Markdown) {
        match local {
            "t" => self.in_text = false,
            "instrText" | "delText" | "Fallback" => self.hidden = self.hidden.saturating_sub(1),
            "p" => md.end_paragraph(),
            "tc" => md.end_cell(),
            "tr" => md.end_row(),
            "tbl" => md.end_table(),
            _ => {}
        }
    }

    fn skip(&self) -> bool {
        !self.in_text || self.hidden > 0
    }
}

/// A slide or a notes page: `a:t` text in `a:p` paragraphs, tables, titles as headings.
#[derive(Default)]
struct Slide {
    in_text: bool,
    /// The shape being read is a title placeholder.
    title: bool,
    /// Inside a notes page's slide-image or slide-number placeholder: not notes.
    hidden: bool,
}

impl Walker for Slide {
    fn start(&mut self, e: &BytesStart, md: &mut Markdown) {
        match e.local_name().as_ref() {
            "t" => self.in_text = true,
            "sp" => {
                self.title = false;
                self.hidden = false;
            }
            "ph" => {
                let ty = attr(e, "type").unwrap_or_default();
                self.title = matches!(ty.as_str(), "title" | "ctrTitle");
                self.hidden = matches!(ty.as_str(), "sldImg" | "sldNum" | "dt" | "ftr" | "hdr");
            }
            "p" if self.title => md.heading(3),
            "tbl" => md.start_table(),
            _ => {}
        }
    }

    fn empty(&mut self, e: &BytesStart, md: &mut Markdown) {
        match e.local_name().as_ref() {
            "br" => md.text("\n"),
            "ph" => self.start(e, md),
            _ => {}
        }
    }

    fn end(&mut self, local: &str, md: &mut Markdown) {
        match local {
            "t" => self.in_text = false,
            "p" => md.end_paragraph(),
            "tc" => md.end_cell(),
            "tr" => md.end_row(),
            "tbl" => md.end_table(),
            _ => {}
        }
    }

    fn skip(&self) -> bool {
        !self.in_text || self.hidden
    }
}

/// OpenDocument `content.xml` (text and presentations).
#[derive(Default)]
struct Odf {
    /// Inside the document body (styles and forms hold no text).
    in_body: bool,
    lists: usize,
    pages: usize,
    /// Inside notes, annotations or a table of contents' source.
    hidden: usize,
}

impl Walker for Odf {
    fn start(&mut self, e: &BytesStart, md: &mut Markdown) {
        match e.local_name().as_ref() {
            "body" => self.in_body = true,
            "h" => {
                let level = attr(e, "outline-level")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1);
                md.heading(level);
            }
            "list" => self.lists += 1,
            "list-item" => md.list_item(self.lists.saturating_sub(1)),
            "page" => {
                self.pages += 1;
                md.line(&format!("## Slide {}", self.pages));
            }
            "notes" | "annotation" | "tracked-changes" => self.hidden += 1,
            "table" => md.start_table(),
            _ => {}
        }
    }

    fn empty(&mut self, e: &BytesStart, md: &mut Markdown) {
        if self.skip() {
            return;
        }
        match e.local_name().as_ref() {
            "s" => {
                let n = attr(e, "c").and_then(|v| v.parse().ok()).unwrap_or(1usize);
                md.text(&" ".repeat(n.min(64)));
            }
            "tab" => md.text("\t"),
            "line-break" => md.text("\n"),
            "table-cell" => md.end_cell(),
            _ => {}
        }
    }

    fn end(&mut self, local: &str, md: &mut Markdown) {
        match local {
            "body" => self.in_body = false,
            "p" | "h" => md.end_paragraph(),
            "list" => self.lists = self.lists.saturating_sub(1),
            "notes" | "annotation" | "tracked-changes" => {
                self.hidden = self.hidden.saturating_sub(1)
            }
            "table-cell" => md.end_cell(),
            "table-row" => md.end_row(),
            "table" => md.end_table(),
            _ => {}
        }
    }

    fn skip(&self) -> bool {
        !self.in_body || self.hidden > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(parts: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut z = zip::ZipWriter::new(&mut out);
        for (name, text) in parts {
            z.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(text.as_bytes()).unwrap();
        }
        z.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn a_word_document_becomes_markdown() {
        let doc = r#"<w:document xmlns:w="w"><w:body>
<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Plan</w:t></w:r></w:p>
<w:p><w:r><w:t xml:space="preserve">Fish &amp; chips </w:t></w:r><w:r><w:instrText>PAGE</w:instrText></w:r><w:r><w:t>today</w:t></w:r></w:p>
<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/></w:numPr></w:pPr><w:r><w:t>first</w:t></w:r></w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>A</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>B</w:t></w:r></w:p></w:tc></w:tr>
<w:tr><w:tc><w:p><w:r><w:t>1</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>2</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
</w:body></w:document>"#;
        let bytes = zip_of(&[("word/document.xml", doc)]);
        let Output::Text { text, .. } = super::text(Kind::Docx, &bytes, 1 << 20).unwrap() else {
            panic!()
        };
        assert_eq!(
            text,
            "# Plan\nFish & chips today\n- first\n\n| A | B |\n| --- | --- |\n| 1 | 2 |"
        );
    }

    #[test]
    fn a_part_that_expands_past_the_cap_is_refused() {
        let big = format!("<w:document>{}</w:document>", "a".repeat(100_000));
        let bytes = zip_of(&[("word/document.xml", &big)]);
        let err = super::text(Kind::Docx, &bytes, 10_000).unwrap_err();
        assert!(matches!(err, DocError::TooLarge { .. }), "{err}");
    }

    #[test]
    fn deep_xml_ends_the_reading() {
        let deep = format!(
            "{}{}",
            "<a>".repeat(MAX_DEPTH + 10),
            "</a>".repeat(MAX_DEPTH + 10)
        );
        let bytes = zip_of(&[("content.xml", &deep)]);
        let err = super::text(Kind::Odt, &bytes, 1 << 20).unwrap_err();
        assert!(err.to_string().contains("nested deeper"), "{err}");
    }
}
