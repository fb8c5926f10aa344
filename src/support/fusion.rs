//! Reciprocal-rank fusion: several rankings of the same items (best first) made into one,
//! each item scoring `weight / (k + rank)` in every list it appears in. Raw scores of
//! different rankers (BM25, cosine similarity) need not be comparable; an item found by more
//! than one rises. The note search and the tool search both fuse words with meaning this way.

use std::collections::HashMap;
use std::hash::Hash;

/// The items of `lists` (each a ranking and its weight), best first; ties go to the smaller
/// item, so the result is deterministic.
pub fn reciprocal_rank<T: Copy + Eq + Hash + Ord>(lists: &[(&[T], f64)], k: f64) -> Vec<(T, f64)> {
    let mut scores: HashMap<T, f64> = HashMap::new();
    for (list, weight) in lists {
        for (rank, item) in list.iter().enumerate() {
            *scores.entry(*item).or_default() += weight / (k + rank as f64 + 1.0);
        }
    }
    let mut out: Vec<(T, f64)> = scores.into_iter().collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_found_by_both_rankings_rise_and_weights_count() {
        let f = reciprocal_rank(&[(&[1, 2, 3][..], 1.0), (&[3, 4][..], 1.0)], 60.0);
        // 3 is in both lists; 2 and 4 tie (second in one list each) and the smaller wins.
        assert_eq!(f.iter().map(|x| x.0).collect::<Vec<_>>(), [3, 1, 2, 4]);
        // A light second ranking reorders only what the first leaves close.
        let f = reciprocal_rank(&[(&[1, 2][..], 1.0), (&[2, 1][..], 0.3)], 10.0);
        assert_eq!(f[0].0, 1);
        let f = reciprocal_rank(&[(&[1, 2][..], 1.0), (&[2, 1][..], 1.0)], 10.0);
        assert_eq!(f[0].0, 1, "an exact tie goes to the smaller item");
        assert!(reciprocal_rank::<u8>(&[], 10.0).is_empty());
    }
}
