//! Query sets that measure tool search: task phrasings as models write them, each with the
//! tools that answer it (`tests/discovery/*.txt`), and the scores a ranking gets on them
//! (top-1, top-3, mean reciprocal rank). The floor test and the benchmark program both read
//! the sets through this module, so they count the same way.

/// One task phrasing and the tools that answer it (any one of them is right).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub text: String,
    pub expected: Vec<String>,
}

/// A parsed set: its queries, and `same:` groups of tools that do the same job (a child
/// server's tool beside switchboard's own).
#[derive(Debug, Clone, Default)]
pub struct QuerySet {
    pub queries: Vec<Query>,
    pub same: Vec<Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct QuerySetError {
    pub line: usize,
    pub message: String,
}

/// Reads a set: `query => tool|tool` lines, `same: a b c` lines, `#` comments.
pub fn parse(text: &str) -> Result<QuerySet, QuerySetError> {
    let mut set = QuerySet::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        let err = |message: &str| QuerySetError {
            line: i + 1,
            message: message.to_owned(),
        };
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(group) = line.strip_prefix("same:") {
            let names: Vec<String> = group.split_whitespace().map(str::to_owned).collect();
            if names.len() < 2 {
                return Err(err("`same:` needs two tool names or more"));
            }
            set.same.push(names);
            continue;
        }
        let Some((query, tools)) = line.rsplit_once("=>") else {
            return Err(err("expected `query => tool|tool`"));
        };
        let expected: Vec<String> = tools
            .split('|')
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
        if query.trim().is_empty() || expected.is_empty() {
            return Err(err("expected `query => tool|tool`"));
        }
        set.queries.push(Query {
            text: query.trim().to_owned(),
            expected,
        });
    }
    Ok(set)
}

/// A floor: the fewest queries of a set that must come first, and in the first three.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Floor {
    pub set: String,
    pub top1: usize,
    pub top3: usize,
}

/// Reads floors: `set top-1 top-3` lines, `#` comments.
pub fn parse_floors(text: &str) -> Result<Vec<Floor>, QuerySetError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        let floor = match parts[..] {
            [set, top1, top3] => top1
                .parse()
                .ok()
                .zip(top3.parse().ok())
                .map(|(top1, top3)| Floor {
                    set: set.to_owned(),
                    top1,
                    top3,
                }),
            _ => None,
        };
        out.push(floor.ok_or_else(|| QuerySetError {
            line: i + 1,
            message: "expected `set top-1 top-3`".into(),
        })?);
    }
    Ok(out)
}

impl Scores {
    /// Whether these scores hold `floor`.
    pub fn holds(&self, floor: &Floor) -> bool {
        self.top1 >= floor.top1 && self.top3 >= floor.top3
    }
}

impl Query {
    /// The tools that answer this query when the tools of `same` are all offered: a tool's
    /// equivalents count too, unless the query is exactly a tool's name (then it wants that
    /// one).
    pub fn answers(&self, same: &[Vec<String>]) -> Vec<String> {
        let mut out = self.expected.clone();
        if self.expected.contains(&self.text) {
            return out;
        }
        for group in same {
            if self.expected.iter().any(|e| group.contains(e)) {
                out.extend(group.iter().cloned());
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// A query whose right tool did not come first.
#[derive(Debug, Clone)]
pub struct Miss {
    pub query: String,
    pub expected: Vec<String>,
    /// Where the first right tool came (1-based), if in the ranking at all.
    pub rank: Option<usize>,
    /// The first names of the ranking.
    pub got: Vec<String>,
}

/// How a ranking did on a set.
#[derive(Debug, Clone, Default)]
pub struct Scores {
    pub queries: usize,
    pub top1: usize,
    pub top3: usize,
    /// Sum of 1/rank of the first right tool (0 when missing); divided by `queries` in
    /// [`Scores::mrr`].
    pub reciprocal: f64,
    pub misses: Vec<Miss>,
}

impl Scores {
    pub fn top1_rate(&self) -> f64 {
        self.top1 as f64 / self.queries.max(1) as f64
    }
    pub fn top3_rate(&self) -> f64 {
        self.top3 as f64 / self.queries.max(1) as f64
    }
    pub fn mrr(&self) -> f64 {
        self.reciprocal / self.queries.max(1) as f64
    }

    /// One line: `name: N queries, top-1 …% (n), top-3 …% (n), MRR …`.
    pub fn summary(&self, name: &str) -> String {
        format!(
            "{name}: {} queries, top-1 {:.1}% ({}), top-3 {:.1}% ({}), MRR {:.3}",
            self.queries,
            100.0 * self.top1_rate(),
            self.top1,
            100.0 * self.top3_rate(),
            self.top3,
            self.mrr()
        )
    }

    /// The misses, one line each, for a failing test or a tuning session.
    pub fn report(&self) -> String {
        self.misses
            .iter()
            .map(|m| {
                format!(
                    "{:?} wants {} — rank {} — got {}",
                    m.query,
                    m.expected.join("|"),
                    m.rank.map_or("none".to_owned(), |r| r.to_string()),
                    m.got.join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Scores `set`: `search` returns tool names best first for a query's text. With `same`
/// (children configured), equivalent tools count as right.
pub fn score(
    set: &QuerySet,
    same: &[Vec<String>],
    mut search: impl FnMut(&str) -> Vec<String>,
) -> Scores {
    let mut s = Scores::default();
    for q in &set.queries {
        let answers = q.answers(same);
        let ranked = search(&q.text);
        let rank = ranked
            .iter()
            .position(|n| answers.contains(n))
            .map(|p| p + 1);
        s.queries += 1;
        s.top1 += usize::from(rank == Some(1));
        s.top3 += usize::from(rank.is_some_and(|r| r <= 3));
        if let Some(r) = rank {
            s.reciprocal += 1.0 / r as f64;
        }
        if rank != Some(1) {
            s.misses.push(Miss {
                query: q.text.clone(),
                expected: q.expected.clone(),
                rank,
                got: ranked.into_iter().take(5).collect(),
            });
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_parse_and_score() {
        let set = parse(
            "# c\nsame: read_file fs__read\n\nread a file => read_file\nls => list_directory|directory_tree\nread_file => read_file\n",
        )
        .unwrap();
        assert_eq!(set.queries.len(), 3);
        assert_eq!(
            set.queries[1].expected,
            ["list_directory", "directory_tree"]
        );
        assert_eq!(set.same, [["read_file", "fs__read"]]);
        // Equivalents count, except for a query that names the tool.
        assert!(
            set.queries[0]
                .answers(&set.same)
                .contains(&"fs__read".into())
        );
        assert_eq!(set.queries[2].answers(&set.same), ["read_file"]);

        let s = score(&set, &set.same, |q| match q {
            "read a file" => vec!["fs__read".into()],
            "ls" => vec!["find_files".into(), "x".into(), "directory_tree".into()],
            _ => vec!["fs__read".into(), "read_file".into()],
        });
        assert_eq!((s.queries, s.top1, s.top3), (3, 1, 3));
        assert!((s.mrr() - (1.0 + 1.0 / 3.0 + 0.5) / 3.0).abs() < 1e-9);
        assert_eq!(s.misses.len(), 2);
        assert!(
            s.report()
                .contains("\"ls\" wants list_directory|directory_tree — rank 3")
        );

        let floors = parse_floors("# x\ndev 2 3\n").unwrap();
        assert_eq!(
            floors[0],
            Floor {
                set: "dev".into(),
                top1: 2,
                top3: 3
            }
        );
        assert!(s.holds(&Floor {
            set: "x".into(),
            top1: 1,
            top3: 3
        }));
        assert!(!s.holds(&Floor {
            set: "x".into(),
            top1: 2,
            top3: 3
        }));
        assert!(parse_floors("dev 2").is_err() && parse_floors("dev a 3").is_err());

        assert_eq!(parse("no arrow").unwrap_err().line, 1);
        assert!(parse("q => ").is_err());
        assert!(parse("same: one").is_err());
    }
}
