//! BM25 ranking over a handful of short documents with weighted fields: how `search_tools`
//! finds tools by what they do. Words are split at punctuation, `_` and camelCase, lower-cased,
//! stripped of common English endings and of words that say nothing ("the", "a", "file" stays).

use std::collections::HashMap;

/// Term-frequency saturation and length normalisation, the usual values.
const K1: f64 = 1.2;
const B: f64 = 0.75;

const STOP: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "for", "from", "how", "i", "in",
    "into", "is", "it", "its", "me", "my", "of", "on", "or", "please", "some", "that", "the",
    "this", "to", "tool", "use", "want", "what", "which", "with", "you",
];

/// The words of `text` as the index compares them.
pub fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    let flush = |word: &mut String, out: &mut Vec<String>| {
        if !word.is_empty() {
            let w = std::mem::take(word);
            if !STOP.contains(&w.as_str()) {
                out.push(stem(&w));
            }
        }
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            // `readFile` is two words, like `read_file`.
            if c.is_uppercase() && prev_lower {
                flush(&mut word, &mut out);
            }
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
            word.extend(c.to_lowercase());
        } else {
            prev_lower = false;
            flush(&mut word, &mut out);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// A light suffix stripper, the same on both sides, so "files" meets "file", "searching"
/// "search", "deleted" "delete" and "directories" "directory".
fn stem(w: &str) -> String {
    if w.len() <= 3 {
        return w.to_owned();
    }
    let mut s = if let Some(x) = w.strip_suffix("ies") {
        format!("{x}y")
    } else if let Some(x) = w
        .strip_suffix("es")
        .filter(|x| x.ends_with(['s', 'x', 'z']) || x.ends_with("ch") || x.ends_with("sh"))
    {
        x.to_owned()
    } else if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w[..w.len() - 1].to_owned()
    } else {
        w.to_owned()
    };
    let verb = s
        .strip_suffix("ing")
        .filter(|x| x.len() >= 3)
        .or_else(|| s.strip_suffix("ed").filter(|x| x.len() >= 4))
        .map(undouble);
    if let Some(v) = verb {
        s = v;
    }
    if s.len() > 3 && s.ends_with('e') {
        s.pop();
    }
    s
}

/// "runn" → "run", "stopp" → "stop" (but "install" stays). Compares characters, never bytes,
/// so a word in any script is cut only at a character boundary.
fn undouble(x: &str) -> String {
    let mut chars = x.chars().rev();
    match (chars.next(), chars.next()) {
        (Some(q), Some(p))
            if p == q && q.is_ascii_alphabetic() && !matches!(q, 'l' | 's' | 'z') =>
        {
            x[..x.len() - 1].to_owned()
        }
        _ => x.to_owned(),
    }
}

/// One document: its fields' texts with a weight each (a word in the name counts more than a
/// word in the description).
pub struct Doc<'a> {
    pub fields: Vec<(f64, &'a str)>,
}

/// The documents' indexes, best first, with their scores; documents without any query word are
/// left out.
pub fn rank(docs: &[Doc<'_>], query: &str) -> Vec<(usize, f64)> {
    let mut query_terms = terms(query);
    query_terms.sort();
    query_terms.dedup();
    if query_terms.is_empty() || docs.is_empty() {
        return Vec::new();
    }
    // Weighted term frequencies and lengths.
    let tfs: Vec<(HashMap<String, f64>, f64)> = docs
        .iter()
        .map(|d| {
            let mut tf: HashMap<String, f64> = HashMap::new();
            let mut len = 0.0;
            for (weight, text) in &d.fields {
                for t in terms(text) {
                    *tf.entry(t).or_default() += weight;
                    len += weight;
                }
            }
            (tf, len)
        })
        .collect();
    let n = docs.len() as f64;
    let avg = (tfs.iter().map(|(_, l)| l).sum::<f64>() / n).max(1.0);
    let mut scores = vec![0.0; docs.len()];
    for q in &query_terms {
        let df = tfs.iter().filter(|(tf, _)| tf.contains_key(q)).count() as f64;
        if df == 0.0 {
            continue;
        }
        let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
        for (i, (tf, len)) in tfs.iter().enumerate() {
            if let Some(f) = tf.get(q) {
                scores[i] += idf * f * (K1 + 1.0) / (f + K1 * (1.0 - B + B * len / avg));
            }
        }
    }
    let mut ranked: Vec<(usize, f64)> = scores
        .into_iter()
        .enumerate()
        .filter(|(_, s)| *s > 0.0)
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_at_underscores_and_camel_case_and_meet_their_stems() {
        assert_eq!(terms("read_file"), ["read", "fil"]);
        assert_eq!(terms("getIssueComments"), ["get", "issu", "comment"]);
        assert_eq!(terms("Searching the files"), terms("search file"));
        assert_eq!(terms("running embeddings"), terms("run embed"));
        assert_eq!(terms("writing"), terms("writes"));
        assert_eq!(terms("deleted"), terms("delete"));
        assert_eq!(terms("directories"), terms("directory"));
        assert_eq!(terms("processes"), terms("process"));
        assert_eq!(terms("boxes"), ["box"]);
        assert_eq!(terms("HTTP2 request"), ["http2", "request"]);
        // Any script, any ending: never cut inside a character.
        for w in ["ꪪꪪing", "ꪪꪪed", "ééés", "日本語ies", "ßßing", "ǅǅ"] {
            assert!(!terms(w).is_empty(), "{w}");
        }
    }

    #[test]
    fn the_best_match_comes_first_and_names_count_more() {
        let docs = [
            Doc {
                fields: vec![(3.0, "read_file"), (1.0, "Read a text file from disk.")],
            },
            Doc {
                fields: vec![
                    (3.0, "write_file"),
                    (1.0, "Write text to a file, replacing it."),
                ],
            },
            Doc {
                fields: vec![(3.0, "web_search"), (1.0, "Search the web for pages.")],
            },
            Doc {
                fields: vec![
                    (3.0, "search_content"),
                    (1.0, "Search inside files for text."),
                ],
            },
        ];
        let r = rank(&docs, "read a file");
        assert_eq!(r[0].0, 0);
        assert_eq!(r.len(), 3);
        assert_eq!(rank(&docs, "search web pages")[0].0, 2);
        assert_eq!(rank(&docs, "grep inside my files")[0].0, 3);
        assert!(rank(&docs, "the a of").is_empty());
        assert!(rank(&docs, "kubernetes").is_empty());
    }
}
