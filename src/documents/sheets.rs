//! Spreadsheets: one sheet of a workbook (`calamine`: XLSX, XLSB, XLS, ODS) or a CSV/TSV file
//! as a Markdown table. Its first used row is the header, repeated on every page; a first
//! column `#` gives each row's number in the sheet, so a model can ask for a range by it.

use std::io::Cursor;

use calamine::{Data, Reader};

use super::markdown::{cell_text, table};
use super::{DocError, Kind, Request, SheetPage};

/// The longest cell shown; longer ones end with `…`.
const MAX_CELL_CHARS: usize = 500;

/// A sheet's cells: `rows[i][j]` is the cell at (`top + i`, `left + j`), 0-based.
struct Grid {
    top: u32,
    left: u32,
    rows: Vec<Vec<String>>,
}

pub fn page(bytes: &[u8], req: &Request) -> Result<SheetPage, DocError> {
    let (sheets, name, grid) = match req.kind {
        Kind::Csv | Kind::Tsv => {
            let name = if req.kind == Kind::Csv { "CSV" } else { "TSV" };
            (
                vec![name.to_owned()],
                name.to_owned(),
                delimited(bytes, req)?,
            )
        }
        kind => workbook(bytes, kind, req)?,
    };
    window(sheets, name, grid, req)
}

fn delimited(bytes: &[u8], req: &Request) -> Result<Grid, DocError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(if req.kind == Kind::Tsv { b'\t' } else { b',' })
        .from_reader(bytes);
    let mut rows = Vec::new();
    for record in reader.byte_records() {
        let record = record.map_err(|e| DocError::unreadable(req.kind, e))?;
        rows.push(
            record
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect(),
        );
    }
    Ok(Grid {
        top: 0,
        left: 0,
        rows,
    })
}

fn workbook(
    bytes: &[u8],
    kind: Kind,
    req: &Request,
) -> Result<(Vec<String>, String, Grid), DocError> {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| {
        let text = e.to_string();
        if text.to_ascii_lowercase().contains("password") || text.contains("ncrypt") {
            DocError::Encrypted
        } else {
            DocError::unreadable(kind, text)
        }
    })?;
    let names = book.sheet_names();
    if names.is_empty() {
        return Err(DocError::unreadable(kind, "it has no sheets"));
    }
    let name = match &req.sheet {
        None => names[0].clone(),
        Some(s) => pick(&names, s)?,
    };
    let range = book
        .worksheet_range(&name)
        .map_err(|e| DocError::unreadable(kind, format!("sheet `{name}`: {e}")))?;
    let (top, left) = range.start().unwrap_or((0, 0));
    let rows = range.rows().map(|r| r.iter().map(show).collect()).collect();
    Ok((names, name, Grid { top, left, rows }))
}

/// A sheet by name (exact, then ignoring case) or 1-based number.
fn pick(names: &[String], wanted: &str) -> Result<String, DocError> {
    if let Some(n) = names.iter().find(|n| *n == wanted) {
        return Ok(n.clone());
    }
    if let Some(n) = names.iter().find(|n| n.eq_ignore_ascii_case(wanted)) {
        return Ok(n.clone());
    }
    if let Ok(i) = wanted.trim().parse::<usize>()
        && (1..=names.len()).contains(&i)
    {
        return Ok(names[i - 1].clone());
    }
    Err(DocError::UnknownSheet {
        name: wanted.to_owned(),
        names: names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// A cell's value as text: whole numbers without `.0`, dates as ISO dates.
fn show(d: &Data) -> String {
    match d {
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::DateTime(dt) => {
            if dt.is_duration() {
                return match dt.as_duration() {
                    Some(dur) => {
                        let s = dur.num_seconds();
                        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
                    }
                    None => d.to_string(),
                };
            }
            match dt.as_datetime() {
                Some(t) if t.time() == chrono::NaiveTime::MIN => t.format("%Y-%m-%d").to_string(),
                Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
                None => d.to_string(),
            }
        }
        Data::Error(e) => format!("#{e:?}"),
        _ => d.to_string(),
    }
}

/// Column letters of a 0-based index: 0 → A, 26 → AA.
pub fn letters(mut col: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// A column's 0-based index from its letters.
fn column(letters: &str) -> Option<u32> {
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    letters
        .bytes()
        .try_fold(0u32, |acc, b| {
            b.is_ascii_alphabetic()
                .then(|| acc * 26 + u32::from(b.to_ascii_uppercase() - b'A') + 1)
        })
        .map(|n| n - 1)
}

/// An A1 range: (first row, first column, last row, last column), 0-based and inclusive, each
/// `None` when open (`A:C` has no rows, `3:10` no columns).
type Bounds = (Option<u32>, Option<u32>, Option<u32>, Option<u32>);

fn parse_range(range: &str) -> Option<Bounds> {
    let cell = |s: &str| -> Option<(Option<u32>, Option<u32>)> {
        let s = s.trim().replace('$', "");
        let split = s.find(|c: char| c.is_ascii_digit()).unwrap_or(s.len());
        let (col, row) = s.split_at(split);
        let col = if col.is_empty() {
            None
        } else {
            Some(column(col)?)
        };
        let row = if row.is_empty() {
            None
        } else {
            Some(row.parse::<u32>().ok()?.checked_sub(1)?)
        };
        (col.is_some() || row.is_some()).then_some((row, col))
    };
    let (a, b) = range.split_once(':').unwrap_or((range, range));
    let ((r0, c0), (r1, c1)) = (cell(a)?, cell(b)?);
    Some((r0, c0, r1, c1))
}

fn window(
    sheets: Vec<String>,
    sheet: String,
    grid: Grid,
    req: &Request,
) -> Result<SheetPage, DocError> {
    let height = grid.rows.len() as u32;
    let width = grid.rows.iter().map(Vec::len).max().unwrap_or(0) as u32;
    let used = (height > 0 && width > 0).then(|| {
        format!(
            "{}{}:{}{}",
            letters(grid.left),
            grid.top + 1,
            letters(grid.left + width - 1),
            grid.top + height
        )
    });
    let empty = SheetPage {
        sheets: sheets.clone(),
        sheet: sheet.clone(),
        used: used.clone(),
        table: String::new(),
        first: 0,
        last: 0,
        total: 0,
        hidden_columns: None,
        capped: false,
    };
    if used.is_none() {
        return Ok(empty);
    }
    // Which sheet rows (0-based, absolute) and columns to show, and the header.
    let (rows, cols, header): (Vec<u32>, (u32, u32), Option<u32>) = match &req.range {
        Some(r) => {
            let (r0, c0, r1, c1) =
                parse_range(r).ok_or_else(|| DocError::BadRange { range: r.clone() })?;
            let first = r0.unwrap_or(grid.top).max(grid.top);
            let last = r1
                .unwrap_or(grid.top + height - 1)
                .min(grid.top + height - 1);
            let c0 = c0.unwrap_or(grid.left).max(grid.left);
            let c1 = c1
                .unwrap_or(grid.left + width - 1)
                .min(grid.left + width - 1);
            ((first..=last).collect(), (c0, c1), None)
        }
        None => {
            let start = req.offset.unwrap_or(1).max(1);
            let first = grid.top + 1 + u32::try_from(start - 1).unwrap_or(u32::MAX - 1);
            let last = grid.top + height - 1;
            let rows = if first <= last {
                (first..=last).collect()
            } else {
                Vec::new()
            };
            (rows, (grid.left, grid.left + width - 1), Some(grid.top))
        }
    };
    let (c0, c1) = cols;
    if c0 > c1 {
        return Ok(empty);
    }
    let shown_last = c1.min(c0 + req.max_columns.max(1) as u32 - 1);
    let hidden_columns =
        (shown_last < c1).then(|| format!("{}-{}", letters(shown_last + 1), letters(c1)));
    let cell = |row: u32, col: u32| -> String {
        let r = grid.rows.get((row - grid.top) as usize);
        let text = r
            .and_then(|r| r.get((col - grid.left) as usize))
            .map(String::as_str)
            .unwrap_or("");
        let mut t = cell_text(text);
        if t.chars().count() > MAX_CELL_CHARS {
            t = t.chars().take(MAX_CELL_CHARS).collect::<String>() + "…";
        }
        t
    };
    let mut head = vec!["#".to_owned()];
    for col in c0..=shown_last {
        let name = header.map(|h| cell(h, col)).unwrap_or_default();
        head.push(if name.is_empty() { letters(col) } else { name });
    }
    let mut out = vec![head];
    let mut used_bytes = table(&out).len();
    let limit = req.limit.unwrap_or(u64::MAX);
    let mut capped = false;
    for &row in &rows {
        if out.len() as u64 > limit {
            break;
        }
        let mut line = vec![(row + 1).to_string()];
        line.extend((c0..=shown_last).map(|c| cell(row, c)));
        let cost = line.iter().map(|c| c.len() + 3).sum::<usize>() + 2;
        if used_bytes + cost > req.budget && out.len() > 1 {
            capped = req.limit.is_none_or(|l| (out.len() as u64) <= l);
            break;
        }
        used_bytes += cost;
        out.push(line);
    }
    let shown = out.len() as u64 - 1;
    // Data rows are numbered from 1 after the header when paging; by sheet row with a range.
    let (first, total) = match (&req.range, header) {
        (None, Some(h)) => (
            rows.first().map(|r| u64::from(r - h)).unwrap_or(0),
            u64::from(height - 1),
        ),
        _ => (
            rows.first().map(|r| u64::from(r + 1)).unwrap_or(0),
            rows.len() as u64,
        ),
    };
    Ok(SheetPage {
        sheets,
        sheet,
        used,
        table: table(&out),
        first,
        last: if shown == 0 {
            first.saturating_sub(1)
        } else {
            first + shown - 1
        },
        total,
        hidden_columns,
        capped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(kind: Kind) -> Request {
        Request {
            kind,
            sheet: None,
            range: None,
            offset: None,
            limit: None,
            budget: 10_000,
            max_columns: 50,
            max_text_bytes: 1 << 20,
        }
    }

    #[test]
    fn columns_and_ranges_in_a1_notation() {
        assert_eq!(letters(0), "A");
        assert_eq!(letters(25), "Z");
        assert_eq!(letters(26), "AA");
        assert_eq!(letters(701), "ZZ");
        assert_eq!(letters(702), "AAA");
        for c in [0, 25, 26, 701, 702, 16383] {
            assert_eq!(column(&letters(c)), Some(c));
        }
        assert_eq!(
            parse_range("B2:D10"),
            Some((Some(1), Some(1), Some(9), Some(3)))
        );
        assert_eq!(parse_range("A:C"), Some((None, Some(0), None, Some(2))));
        assert_eq!(parse_range("3:10"), Some((Some(2), None, Some(9), None)));
        assert_eq!(
            parse_range("$A$1"),
            Some((Some(0), Some(0), Some(0), Some(0)))
        );
        assert_eq!(parse_range("hello world"), None);
        assert_eq!(parse_range("A0"), None);
    }

    #[test]
    fn a_csv_pages_by_row_with_its_header_on_every_page() {
        let csv = "name,qty\n\"a, b\",1\nc,2\nd|e,3\n";
        let mut r = req(Kind::Csv);
        let p = page(csv.as_bytes(), &r).unwrap();
        assert_eq!(p.used.as_deref(), Some("A1:B4"));
        assert_eq!((p.first, p.last, p.total), (1, 3, 3));
        assert_eq!(
            p.table,
            "| # | name | qty |\n| --- | --- | --- |\n| 2 | a, b | 1 |\n| 3 | c | 2 |\n| 4 | d\\|e | 3 |\n"
        );
        r.offset = Some(3);
        let p = page(csv.as_bytes(), &r).unwrap();
        assert_eq!((p.first, p.last), (3, 3));
        assert!(p.table.starts_with("| # | name | qty |"), "{}", p.table);
        r.offset = None;
        r.range = Some("B3:B4".into());
        let p = page(csv.as_bytes(), &r).unwrap();
        assert_eq!(p.table, "| # | B |\n| --- | --- |\n| 3 | 2 |\n| 4 | 3 |\n");
    }

    #[test]
    fn the_budget_and_the_column_cap_hold() {
        let mut csv = String::from("a,b,c,d\n");
        for i in 0..1000 {
            csv.push_str(&format!("{i},{i},{i},{i}\n"));
        }
        let mut r = req(Kind::Csv);
        r.budget = 300;
        r.max_columns = 2;
        let p = page(csv.as_bytes(), &r).unwrap();
        assert!(p.table.len() <= 300 && p.capped, "{}", p.table.len());
        assert_eq!(p.hidden_columns.as_deref(), Some("C-D"));
        assert_eq!(p.total, 1000);
    }
}
