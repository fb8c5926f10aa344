//! How many SQL statements a text holds, counted with SQLite's lexical rules (quotes, bracketed
//! names, comments), so a second statement is refused with a clear message before anything is
//! prepared.

/// The number of non-empty statements in `sql`.
pub fn statements(sql: &str) -> usize {
    let b = sql.as_bytes();
    let mut count = 0;
    let mut has_content = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' | b'`' => {
                let q = b[i];
                has_content = true;
                i += 1;
                while i < b.len() {
                    if b[i] == q {
                        // A doubled quote is an escaped one.
                        if b.get(i + 1) == Some(&q) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
            }
            b'[' => {
                has_content = true;
                while i < b.len() && b[i] != b']' {
                    i += 1;
                }
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b';' => {
                if has_content {
                    count += 1;
                }
                has_content = false;
            }
            c if c.is_ascii_whitespace() => {}
            _ => has_content = true,
        }
        i += 1;
    }
    count + usize::from(has_content)
}

#[cfg(test)]
mod tests {
    use super::statements;

    #[test]
    fn statements_are_counted_like_sqlite_reads_them() {
        for (sql, n) in [
            ("SELECT 1", 1),
            ("SELECT 1;", 1),
            ("  SELECT 1 ;  -- done\n", 1),
            ("SELECT 1; COMMIT; DROP TABLE t;", 3),
            ("SELECT ';' AS a", 1),
            ("SELECT 'it''s; fine'", 1),
            ("SELECT \"a;b\" FROM [x;y]", 1),
            ("SELECT 1 /* ; */", 1),
            ("SELECT 1 -- ; DROP TABLE t\n", 1),
            ("SELECT 1; /* trailing */ ; ;", 1),
            ("", 0),
            ("SELECT 1;\nSELECT 2", 2),
        ] {
            assert_eq!(statements(sql), n, "{sql}");
        }
    }
}
