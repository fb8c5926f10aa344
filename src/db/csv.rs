//! CSV for `db_export_csv` (RFC 4180): fields quoted only when they must be, values written as
//! their text (JSON for structured ones, empty for NULL), rows ended by CRLF. The writer stops
//! at the row and byte caps and says which one ended the file.

use std::io::Write;

use serde_json::Value;

use super::Item;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub columns: Vec<String>,
    pub rows: u64,
    pub bytes: u64,
    /// Which cap ended the file early, with its config key.
    pub cut: Option<String>,
}

/// One field, quoted when it holds a comma, a quote, CR or LF (or starts or ends with a
/// space, which some readers trim).
fn field(out: &mut Vec<u8>, v: &Value) {
    let text = match v {
        Value::Null => return,
        Value::String(s) => std::borrow::Cow::Borrowed(s.as_str()),
        other => std::borrow::Cow::Owned(other.to_string()),
    };
    let quote =
        text.contains([',', '"', '\r', '\n']) || text.starts_with(' ') || text.ends_with(' ');
    if quote {
        out.push(b'"');
        out.extend_from_slice(text.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

fn line(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        field(&mut out, v);
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Writes the header and rows received until the sender is done or a cap is reached (then the
/// receiver is dropped, which stops the producer).
pub fn write(
    out: &mut impl Write,
    mut rx: tokio::sync::mpsc::Receiver<Item>,
    max_rows: u64,
    max_bytes: u64,
) -> std::io::Result<Written> {
    let mut w = Written {
        columns: Vec::new(),
        rows: 0,
        bytes: 0,
        cut: None,
    };
    while let Some(item) = rx.blocking_recv() {
        let bytes = match item {
            Item::Columns(cols) => {
                w.columns = cols.into_iter().map(|c| c.name).collect();
                let names: Vec<Value> = w.columns.iter().cloned().map(Value::String).collect();
                line(&names)
            }
            Item::Row(values) => {
                if w.rows == max_rows {
                    w.cut = Some(format!("{max_rows} rows (database.max_export_rows)"));
                    break;
                }
                w.rows += 1;
                line(&values)
            }
        };
        if w.bytes + bytes.len() as u64 > max_bytes {
            w.rows = w.rows.saturating_sub(1);
            w.cut = Some(format!("{max_bytes} bytes (database.max_export_bytes)"));
            break;
        }
        out.write_all(&bytes)?;
        w.bytes += bytes.len() as u64;
    }
    out.flush()?;
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Column;
    use serde_json::json;

    fn run(items: Vec<Item>, max_rows: u64, max_bytes: u64) -> (String, Written) {
        let (tx, rx) = tokio::sync::mpsc::channel(items.len().max(1));
        for i in items {
            tx.try_send(i).unwrap();
        }
        drop(tx);
        let mut buf = Vec::new();
        let w = write(&mut buf, rx, max_rows, max_bytes).unwrap();
        (String::from_utf8(buf).unwrap(), w)
    }

    fn col(n: &str) -> Column {
        Column {
            name: n.into(),
            decl_type: None,
        }
    }

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        let (text, w) = run(
            vec![
                Item::Columns(vec![col("id"), col("note")]),
                Item::Row(vec![json!(1), json!("plain")]),
                Item::Row(vec![json!(2), json!("a, \"quoted\"\nline")]),
                Item::Row(vec![Value::Null, json!({"k": [1]})]),
            ],
            10,
            1 << 20,
        );
        assert_eq!(
            text,
            "id,note\r\n1,plain\r\n2,\"a, \"\"quoted\"\"\nline\"\r\n,\"{\"\"k\"\":[1]}\"\r\n"
        );
        assert_eq!(w.rows, 3);
        assert!(w.cut.is_none());
    }

    #[test]
    fn caps_end_the_file_and_say_which() {
        let rows = || {
            let mut v = vec![Item::Columns(vec![col("n")])];
            v.extend((0..10).map(|i| Item::Row(vec![json!(i)])));
            v
        };
        let (text, w) = run(rows(), 3, 1 << 20);
        assert_eq!(text, "n\r\n0\r\n1\r\n2\r\n");
        assert!(w.cut.unwrap().contains("max_export_rows"));
        let (text, w) = run(rows(), 100, 12);
        assert_eq!(text, "n\r\n0\r\n1\r\n2\r\n");
        assert_eq!(w.rows, 3);
        assert!(w.cut.unwrap().contains("max_export_bytes"));
    }
}
