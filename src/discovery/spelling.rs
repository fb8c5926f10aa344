//! Names a mistyped tool name was probably meant to be: `raed_file` → `read_file`. Words
//! rank tools by what they do; a typo is a matter of letters, measured by edit distance with
//! swapped neighbours counted as one edit (optimal string alignment).

/// The positions in `names` within a few edits of `typed` (about one edit per four
/// characters, at least two), closest first.
pub fn close_names(names: &[&str], typed: &str) -> Vec<usize> {
    let typed: Vec<char> = typed.to_lowercase().chars().collect();
    let limit = (typed.len() / 4).max(2);
    let mut close: Vec<(usize, usize)> = names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            let n: Vec<char> = n.to_lowercase().chars().collect();
            // Lengths further apart than the limit cannot be within it.
            if n.len().abs_diff(typed.len()) > limit {
                return None;
            }
            let d = distance(&typed, &n);
            (d <= limit).then_some((d, i))
        })
        .collect();
    close.sort();
    close.into_iter().map(|(_, i)| i).collect()
}

/// Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`.
fn distance(a: &[char], b: &[char]) -> usize {
    let w = b.len() + 1;
    // Three rows: two back (for swaps), one back, and this one.
    let mut rows = vec![0usize; 3 * w];
    for (j, cell) in rows[w..2 * w].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        let (older, rest) = rows.split_at_mut(w);
        let (prev, cur) = rest.split_at_mut(w);
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(older[j - 2] + 1);
            }
            cur[j] = d;
        }
        rows.rotate_left(w);
    }
    rows[w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_the_name_they_meant() {
        let d = |a: &str, b: &str| {
            distance(
                &a.chars().collect::<Vec<_>>(),
                &b.chars().collect::<Vec<_>>(),
            )
        };
        assert_eq!(d("raed_file", "read_file"), 1);
        assert_eq!(d("read_fil", "read_file"), 1);
        assert_eq!(d("", "abc"), 3);
        assert_eq!(d("kitten", "sitting"), 3);
        assert_eq!(d("same", "same"), 0);
        let names = ["write_file", "read_file", "read_many", "find_files"];
        assert_eq!(close_names(&names, "raed_file"), [1]);
        // Closest first.
        assert_eq!(close_names(&["abce", "abcd", "zzzz"], "abdc"), [1, 0]);
        assert_eq!(close_names(&names, "READ_FILE"), [1]);
        assert!(close_names(&names, "kubernetes").is_empty());
    }
}
