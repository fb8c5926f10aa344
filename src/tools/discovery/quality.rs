//! How well `search_tools` finds the right tool, on the query sets of `tests/discovery/`:
//! every built-in and shipped declarative tool, alone and beside the official filesystem, git,
//! memory and time servers' tools (their real definitions, captured in
//! `children_tools.json`; `tests/it/discovery.rs` runs the same sets against the live servers).
//! Fails when a set's top-3 (or top-1) falls below its recorded floor.

use rmcp::model::Tool;

use super::search_tools::{Searchable, search};
use crate::policy::tools::Toolsets;
use crate::support::queryset::{QuerySet, Scores, parse, parse_floors, score};
use crate::tools::{Shape, router};

const DEV: &str = include_str!("../../../tests/discovery/dev.txt");
const HELD_OUT: &str = include_str!("../../../tests/discovery/held_out.txt");
const BLIND: &str = include_str!("../../../tests/discovery/blind.txt");
const CHILDREN: &str = include_str!("../../../tests/discovery/children.txt");
const CHILDREN_TOOLS: &str = include_str!("../../../tests/discovery/children_tools.json");

/// The floors every set must hold (`tests/discovery/floors.txt`).
const FLOORS: &str = include_str!("../../../tests/discovery/floors.txt");

/// Every built-in tool and the enabled shipped declarative tools, as a fresh install offers
/// them (with every optional tool configured).
pub fn own_tools() -> Vec<Tool> {
    let mut tools = router(Shape::everything(), &Toolsets::everything()).list_all();
    tools.retain(|t| !crate::policy::tools::DISCOVERY.contains(&t.name.as_ref()));
    for (file, text) in crate::declared::BUILT_IN {
        let d = crate::declared::parse(text, file).expect("shipped tools parse");
        if d.enabled {
            tools.push(d.tool);
        }
    }
    tools.sort_by(|a, b| a.name.cmp(&b.name));
    tools
}

/// The official servers' tools as the proxy shows them (`{alias}__{name}`).
pub fn children_tools() -> Vec<Tool> {
    let by_alias: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(CHILDREN_TOOLS).expect("children_tools.json");
    let mut out = Vec::new();
    for (alias, tools) in by_alias {
        for t in tools.as_array().expect("a list of tools") {
            let mut tool: Tool = serde_json::from_value(t.clone()).expect("a tool");
            tool.name = crate::proxy::names::exposed(&alias, &tool.name).into();
            out.push(tool);
        }
    }
    out
}

fn set(text: &str) -> QuerySet {
    parse(text).expect("query set")
}

/// The offered tools as the server indexes them: keywords from the tools' files, a child
/// tool's server from its name's prefix.
fn searchable(tools: &[Tool]) -> Searchable {
    let declared: Vec<crate::declared::DeclaredTool> = crate::declared::BUILT_IN
        .iter()
        .map(|(file, text)| crate::declared::parse(text, file).expect("shipped tools parse"))
        .collect();
    Searchable::with(tools.to_vec(), |t| {
        let name = t.name.as_ref();
        match name.split_once("__") {
            Some((alias, _)) => (String::new(), Some(alias.to_owned())),
            None => (
                declared.iter().find(|d| d.name == name).map_or_else(
                    || crate::tools::keywords_of(name).to_owned(),
                    |d| d.keywords.clone(),
                ),
                None,
            ),
        }
    })
}

fn run(tools: &[Tool], queries: &QuerySet, same: &[Vec<String>]) -> Scores {
    let tools = searchable(tools);
    score(queries, same, |q| {
        search(&tools, q, 10, 3)
            .map(|o| o.tools.into_iter().map(|t| t.name).collect())
            .unwrap_or_default()
    })
}

/// Every set's scores, named as in [`FLOORS`].
pub fn all_scores() -> Vec<(&'static str, Scores)> {
    let own = own_tools();
    let mut with_children = own.clone();
    with_children.extend(children_tools());
    let (dev, held_out, blind, children) = (set(DEV), set(HELD_OUT), set(BLIND), set(CHILDREN));
    let same = &children.same;
    vec![
        ("dev", run(&own, &dev, &[])),
        ("held_out", run(&own, &held_out, &[])),
        ("blind", run(&own, &blind, &[])),
        ("dev+children", run(&with_children, &dev, same)),
        ("held_out+children", run(&with_children, &held_out, same)),
        ("blind+children", run(&with_children, &blind, same)),
        ("children", run(&with_children, &children, same)),
    ]
}

#[test]
fn the_sets_cover_every_tool_twice_and_name_only_real_tools() {
    let own = own_tools();
    let mut with_children = own.clone();
    with_children.extend(children_tools());
    let dev = set(DEV);
    let mut all = dev.clone();
    all.queries.extend(set(HELD_OUT).queries);
    all.queries.extend(set(BLIND).queries);
    let children = set(CHILDREN);
    assert!(all.queries.len() >= 200, "{}", all.queries.len());
    for t in &own {
        let n = dev
            .queries
            .iter()
            .filter(|q| q.expected.iter().any(|e| *e == t.name))
            .count();
        assert!(n >= 2, "dev.txt asks for `{}` {n} times", t.name);
    }
    let known = |n: &String| with_children.iter().any(|t| t.name == n.as_str());
    for q in all.queries.iter().chain(&children.queries) {
        for e in &q.expected {
            assert!(known(e), "{:?} expects `{e}`, which is no tool", q.text);
        }
    }
    for g in &children.same {
        assert!(g.iter().all(known), "same: {g:?}");
    }
}

#[test]
fn search_quality_holds_its_floors() {
    let floors = parse_floors(FLOORS).expect("floors.txt");
    let scores = all_scores();
    let mut failed = Vec::new();
    for (name, s) in &scores {
        eprintln!("{}", s.summary(name));
        let floor = floors.iter().find(|f| f.set == *name).expect("a floor");
        if !s.holds(floor) {
            failed.push(format!(
                "{name}: top-1 {} (floor {}), top-3 {} (floor {}); misses:\n{}",
                s.top1,
                floor.top1,
                s.top3,
                floor.top3,
                s.report()
            ));
        }
    }
    assert_eq!(floors.len(), scores.len(), "one floor per set");
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

/// Prints every miss: `cargo test --lib search_quality_report -- --ignored --nocapture`.
#[test]
#[ignore = "a report for tuning, not a check"]
fn search_quality_report() {
    for (name, s) in all_scores() {
        eprintln!("== {}\n{}\n", s.summary(name), s.report());
    }
}

/// What the compact core costs with more tools listed beside the discovery tools, and what a
/// `search_tools` answer costs (the price of not listing a tool): `cargo test --lib
/// compact_core_report -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement for the README, not a check"]
fn compact_core_report() {
    use crate::support::tokens::count;
    let all = router(Shape::everything(), &Toolsets::everything()).list_all();
    let pick = |names: &[&str]| -> Vec<Tool> {
        names
            .iter()
            .filter_map(|n| all.iter().find(|t| t.name == *n).cloned())
            .collect()
    };
    let core = ["search_tools", "call_tool", "list_roots"];
    eprintln!(
        "compact core {core:?}: {} tokens",
        super::list_tokens(&pick(&core))
    );
    for extra in [
        "read_file",
        "search_content",
        "edit_file",
        "write_file",
        "list_directory",
        "run_command",
        "find_files",
    ] {
        eprintln!(
            "  + {extra}: {} tokens",
            super::list_tokens(&pick(&[extra])) - 12
        );
    }
    let tools = searchable(&own_tools());
    for (query, limit) in [
        ("read a file", 5),
        ("read a file", 3),
        ("grep for TODO", 5),
        ("edit lines in a file", 5),
        ("run the tests", 5),
    ] {
        let out = search(&tools, query, limit, 3).unwrap();
        let text = serde_json::to_string(&out).unwrap();
        eprintln!(
            "search_tools {query:?} limit {limit}: {} tokens",
            count(&text)
        );
    }
}
