//! The Markdown the document readers write: paragraphs as lines, headings and list items
//! marked, tables as Markdown tables (a table inside a cell flattened into its text), and a
//! cap on the text's size. The XML walkers call it; it knows no format.

/// A Markdown document being written, up to `cap` bytes.
pub struct Markdown {
    pub out: String,
    cap: usize,
    /// The text was cut at the cap.
    pub cut: bool,
    para: String,
    /// Put before the paragraph when it ends (`## `, `- `).
    prefix: String,
    tables: Vec<Table>,
}

#[derive(Default)]
struct Table {
    rows: Vec<Vec<String>>,
    row: Vec<String>,
    cell: String,
}

/// A table cell's text on one line of a Markdown table.
pub fn cell_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.trim().lines().enumerate() {
        if i > 0 {
            out.push_str("<br>");
        }
        out.push_str(&line.trim().replace('|', "\\|"));
    }
    out
}

/// `rows` as a Markdown table, the first row the header.
pub fn table(rows: &[Vec<String>]) -> String {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let line = |row: &[String], out: &mut String| {
        out.push('|');
        for i in 0..width {
            out.push(' ');
            out.push_str(row.get(i).map(String::as_str).unwrap_or(""));
            out.push_str(" |");
        }
        out.push('\n');
    };
    line(&rows[0], &mut out);
    out.push('|');
    out.push_str(&" --- |".repeat(width));
    out.push('\n');
    for row in &rows[1..] {
        line(row, &mut out);
    }
    out
}

impl Markdown {
    pub fn new(cap: u64) -> Self {
        Self {
            out: String::new(),
            cap: usize::try_from(cap).unwrap_or(usize::MAX),
            cut: false,
            para: String::new(),
            prefix: String::new(),
            tables: Vec::new(),
        }
    }

    /// Whether the cap was reached (the walker can stop).
    pub fn full(&self) -> bool {
        self.cut
    }

    pub fn text(&mut self, s: &str) {
        if self.cut {
            return;
        }
        match self.tables.last_mut() {
            Some(t) => t.cell.push_str(s),
            None => self.para.push_str(s),
        }
        if self.para.len() > self.cap {
            self.cut = true;
        }
    }

    /// The current paragraph will be a heading of `level` (1-6) or a list item at `depth`.
    pub fn heading(&mut self, level: usize) {
        if self.tables.is_empty() {
            self.prefix = format!("{} ", "#".repeat(level.clamp(1, 6)));
        }
    }

    pub fn list_item(&mut self, depth: usize) {
        if self.tables.is_empty() {
            self.prefix = format!("{}- ", "  ".repeat(depth.min(8)));
        }
    }

    /// A line of its own (`--- page 3 ---`, `## Slide 2`), between paragraphs.
    pub fn line(&mut self, s: &str) {
        self.end_paragraph();
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
        self.push_out(s);
        self.push_out("\n");
    }

    pub fn end_paragraph(&mut self) {
        let para = std::mem::take(&mut self.para);
        let prefix = std::mem::take(&mut self.prefix);
        if let Some(t) = self.tables.last_mut() {
            // Paragraphs in a cell are lines of the cell.
            if !t.cell.is_empty() && !t.cell.ends_with('\n') {
                t.cell.push('\n');
            }
            return;
        }
        let trimmed = para.trim_end();
        if trimmed.trim().is_empty() {
            return;
        }
        self.push_out(&prefix);
        self.push_out(trimmed);
        self.push_out("\n");
    }

    pub fn start_table(&mut self) {
        self.end_paragraph();
        self.tables.push(Table::default());
    }

    pub fn end_cell(&mut self) {
        if let Some(t) = self.tables.last_mut() {
            let cell = std::mem::take(&mut t.cell);
            t.row.push(cell_text(&cell));
        }
    }

    pub fn end_row(&mut self) {
        if let Some(t) = self.tables.last_mut() {
            let row = std::mem::take(&mut t.row);
            if !row.is_empty() {
                t.rows.push(row);
            }
        }
    }

    pub fn end_table(&mut self) {
        let Some(t) = self.tables.pop() else { return };
        match self.tables.last_mut() {
            // A table inside a cell: its cells become text of the outer cell.
            Some(outer) => {
                for row in &t.rows {
                    outer.cell.push_str(&row.join("; "));
                    outer.cell.push('\n');
                }
            }
            None => {
                let text = table(&t.rows);
                if !text.is_empty() {
                    if !self.out.is_empty() && !self.out.ends_with("\n\n") {
                        self.out.push('\n');
                    }
                    self.push_out(&text);
                    self.push_out("\n");
                }
            }
        }
    }

    fn push_out(&mut self, s: &str) {
        if self.cut {
            return;
        }
        let room = self.cap.saturating_sub(self.out.len());
        if s.len() > room {
            let end = crate::support::text::floor_char_boundary(s, room);
            self.out.push_str(&s[..end]);
            self.cut = true;
        } else {
            self.out.push_str(s);
        }
    }

    /// The text written, tables still open closed first.
    pub fn finish(mut self) -> (String, bool) {
        while !self.tables.is_empty() {
            self.end_cell();
            self.end_row();
            self.end_table();
        }
        self.end_paragraph();
        let text = self.out.trim_end().to_owned();
        (text, self.cut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_headings_lists_and_tables() {
        let mut md = Markdown::new(10_000);
        md.heading(1);
        md.text("Title");
        md.end_paragraph();
        md.text("A paragraph.");
        md.end_paragraph();
        md.list_item(0);
        md.text("one");
        md.end_paragraph();
        md.start_table();
        for row in [["Name", "Qty"], ["a|b", "2"]] {
            for c in row {
                md.text(c);
                md.end_paragraph();
                md.end_cell();
            }
            md.end_row();
        }
        md.end_table();
        let (text, cut) = md.finish();
        assert!(!cut);
        assert_eq!(
            text,
            "# Title\nA paragraph.\n- one\n\n| Name | Qty |\n| --- | --- |\n| a\\|b | 2 |"
        );
    }

    #[test]
    fn the_cap_cuts_the_text() {
        let mut md = Markdown::new(10);
        for _ in 0..5 {
            md.text("abcdef");
            md.end_paragraph();
        }
        let (text, cut) = md.finish();
        assert!(cut && text.len() <= 10, "{text}");
    }
}
