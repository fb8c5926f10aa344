//! One test suite for every memory store: the same calls must give the same answers from the
//! SQLite store and from PostgreSQL (a throw-away cluster started by `tests/db/postgres.py`,
//! and a second one built with pgvector when `SWITCHBOARD_TEST_PGVECTOR_BINDIR` names its
//! binaries). Each PostgreSQL test uses a schema of its own, so they run in parallel.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::graph::*;
use super::notes::{NotesError, SqliteStore};
use super::quota::Quotas;
use super::vectors::Stale;
use super::{GraphStore, Memory, NoteStore, VectorStore, postgres::PgStore};

fn tags(t: &[&str]) -> Vec<String> {
    t.iter().map(|s| s.to_string()).collect()
}

fn entity(name: &str, ty: &str, obs: &[&str]) -> Entity {
    Entity {
        name: name.into(),
        entity_type: ty.into(),
        observations: obs.iter().map(|s| s.to_string()).collect(),
    }
}

fn rel(from: &str, to: &str, ty: &str) -> Relation {
    Relation {
        from: from.into(),
        to: to.into(),
        relation_type: ty.into(),
    }
}

/// A running throw-away cluster: its admin URL; the helper stops it when this process ends.
struct Cluster {
    url: String,
    _helper: Child,
}

fn start_cluster(bindir: Option<&str>) -> Cluster {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/db/postgres.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script);
    if let Some(dir) = bindir {
        cmd.args(["--bindir", dir]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the PostgreSQL helper starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("PostgreSQL did not start ({e}): {line:?}"));
    Cluster {
        url: v["admin"].as_str().unwrap().to_owned(),
        _helper: child,
    }
}

/// Whether a component the test needs is there; under `SWITCHBOARD_TEST_STRICT` it must be.
fn wanted(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            assert!(
                std::env::var("SWITCHBOARD_TEST_STRICT").is_err(),
                "{var} is not set; run scripts/test.sh, which installs {what}"
            );
            eprintln!("skipped: set {var} (scripts/test.sh does) to run the {what} memory tests");
            None
        }
    }
}

fn cluster() -> Option<&'static str> {
    static PLAIN: OnceLock<Option<Cluster>> = OnceLock::new();
    PLAIN
        .get_or_init(|| {
            wanted("SWITCHBOARD_TEST_POSTGRES", "PostgreSQL").map(|_| start_cluster(None))
        })
        .as_ref()
        .map(|c| c.url.as_str())
}

fn vector_cluster() -> Option<&'static str> {
    static VECTOR: OnceLock<Option<Cluster>> = OnceLock::new();
    VECTOR
        .get_or_init(|| {
            wanted(
                "SWITCHBOARD_TEST_PGVECTOR_BINDIR",
                "PostgreSQL with pgvector",
            )
            .map(|dir| start_cluster(Some(&dir)))
        })
        .as_ref()
        .map(|c| c.url.as_str())
}

/// A fresh schema name for one store of one test.
fn fresh_schema() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "switchboard_t{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The stores a test runs against: SQLite always, PostgreSQL (plain, and with pgvector) when
/// their clusters are there. The temporary folder lives as long as the stores.
fn stores(quotas: Quotas) -> (tempfile::TempDir, Vec<Box<dyn Memory>>) {
    let dir = tempfile::tempdir().unwrap();
    let mut out: Vec<Box<dyn Memory>> = vec![Box::new(
        SqliteStore::open(&dir.path().join("memory.db"))
            .unwrap()
            .with_quotas(quotas),
    )];
    for url in [cluster(), vector_cluster()].into_iter().flatten() {
        let pg = PgStore::open(url, &fresh_schema(), std::time::Duration::from_secs(10))
            .unwrap()
            .with_quotas(quotas);
        out.push(Box::new(pg));
    }
    (dir, out)
}

fn each(quotas: Quotas, test: impl Fn(&mut dyn Memory)) {
    let (_dir, stores) = stores(quotas);
    for mut m in stores {
        eprintln!("store: {:?}", m.describe());
        test(m.as_mut());
    }
}

#[test]
fn notes_are_saved_found_updated_and_deleted() {
    each(Quotas::default(), |n| {
        let a = n
            .save(
                "The deploy script needs AWS_PROFILE=staging.",
                &tags(&["Deploy", "aws"]),
                "global",
            )
            .unwrap();
        n.save("Lunch is at noon on Fridays.", &tags(&["office"]), "global")
            .unwrap();
        n.save(
            "Run cargo test before pushing.",
            &tags(&["deploy"]),
            "project:/src/app",
        )
        .unwrap();
        assert_eq!(a.tags, ["aws", "deploy"]);

        let hits = n.search("how do I deploy to staging?", None, 10).unwrap();
        assert_eq!(hits[0].note.id, a.id, "{hits:?}");
        assert!(hits[0].snippet.contains("[staging]"), "{}", hits[0].snippet);
        assert!(hits.iter().all(|h| !h.note.text.contains("Lunch")));
        let scoped = n
            .search("deploy", Some(&["project:/src/app".to_owned()]), 10)
            .unwrap();
        assert_eq!(scoped.len(), 1);
        // FTS syntax in the text is not obeyed.
        assert!(n.search("NEAR( \"x", None, 10).unwrap().is_empty());
        assert!(n.search("   ", None, 10).unwrap().is_empty());

        let u = n
            .update(
                a.id,
                Some("The deploy script needs AWS_PROFILE=prod."),
                None,
            )
            .unwrap();
        assert_eq!(u.tags, ["aws", "deploy"]);
        assert!(
            n.search("staging", None, 10).unwrap().is_empty(),
            "the index follows updates"
        );
        assert_eq!(n.search("prod", None, 10).unwrap()[0].note.id, a.id);

        let (page, next) = n.list(None, None, 0, 2).unwrap();
        assert_eq!(page.len(), 2);
        assert_eq!(next, Some(2));
        let (tagged, _) = n.list(None, Some("DEPLOY"), 0, 10).unwrap();
        assert_eq!(tagged.len(), 2);

        n.delete(a.id).unwrap();
        assert!(matches!(n.get(a.id), Err(NotesError::NotFound(_))));
        assert!(n.search("prod", None, 10).unwrap().is_empty());
        assert!(matches!(n.delete(a.id), Err(NotesError::NotFound(_))));
    });
}

#[test]
fn the_graph_follows_the_official_semantics() {
    each(Quotas::default(), |m| {
        let v0 = m.graph_version().unwrap();
        let made = m
            .create_entities(&[
                entity("Ada", "person", &["writes Rust", "likes tea"]),
                entity("Acme", "company", &[]),
            ])
            .unwrap();
        assert_eq!(made.len(), 2);
        assert!(m.graph_version().unwrap() > v0, "writes move the version");
        // An existing name is not created again.
        assert!(
            m.create_entities(&[entity("Ada", "robot", &[])])
                .unwrap()
                .is_empty()
        );
        let rels = m
            .create_relations(&[
                rel("Ada", "Acme", "works_at"),
                rel("Ada", "Acme", "works_at"),
            ])
            .unwrap();
        assert_eq!(rels.len(), 1);
        let added = m
            .add_observations(&[ObservationAdd {
                entity_name: "Ada".into(),
                contents: vec!["likes tea".into(), "lives in Oslo".into()],
            }])
            .unwrap();
        assert_eq!(added[0].added_observations, ["lives in Oslo"]);
        let err = m
            .add_observations(&[ObservationAdd {
                entity_name: "Nobody".into(),
                contents: vec!["x".into()],
            }])
            .unwrap_err();
        assert!(err.to_string().contains("not found"), "{err}");

        let found = m.search_nodes("OSLO", 0, 10).unwrap().0;
        assert_eq!(found.entities[0].name, "Ada");
        assert_eq!(
            found.entities[0].observations,
            ["writes Rust", "likes tea", "lives in Oslo"]
        );
        assert_eq!(found.relations, [rel("Ada", "Acme", "works_at")]);
        assert_eq!(
            m.search_nodes("compan", 0, 10).unwrap().0.entities[0].name,
            "Acme"
        );
        assert!(m.search_nodes("100%", 0, 10).unwrap().0.entities.is_empty());
        let opened = m.open_nodes(&["Acme".into(), "Ghost".into()]).unwrap();
        assert_eq!(opened.entities.len(), 1);
        assert_eq!(opened.relations.len(), 1, "relations touching either end");

        let (page, next) = m.read_graph(0, 1).unwrap();
        assert_eq!(page.entities[0].name, "Acme");
        assert_eq!(next, Some(1));
        let (page, next) = m.read_graph(1, 1).unwrap();
        assert_eq!(page.entities[0].name, "Ada");
        assert_eq!(page.relations.len(), 1);
        assert_eq!(next, None);

        m.delete_observations(&[ObservationDelete {
            entity_name: "Ada".into(),
            observations: vec!["likes tea".into(), "never said".into()],
        }])
        .unwrap();
        assert_eq!(
            m.open_nodes(&["Ada".into()]).unwrap().entities[0]
                .observations
                .len(),
            2
        );
        assert_eq!(
            m.delete_relations(&[rel("Ada", "Acme", "works_at")])
                .unwrap(),
            1
        );
        m.create_relations(&[rel("Ada", "Acme", "owns")]).unwrap();
        assert_eq!(
            m.delete_entities(&["Acme".into(), "Ghost".into()]).unwrap(),
            1
        );
        let left = m.open_nodes(&["Ada".into()]).unwrap();
        assert!(left.relations.is_empty(), "relations went with the entity");
        assert_eq!(
            m.graph_counts().unwrap(),
            GraphCounts {
                entities: 1,
                relations: 0,
                observations: 2
            }
        );
    });
}

#[test]
fn jsonl_imports_merge_and_export_round_trips() {
    let (_dir, stores) = stores(Quotas::default());
    let (_dir2, others) = stores_again();
    for (mut m, mut other) in stores.into_iter().zip(others) {
        let (m, other) = (m.as_mut(), other.as_mut());
        let file = concat!(
            r#"{"type":"entity","name":"Ada","entityType":"person","observations":["writes Rust"]}"#,
            "\n",
            r#"{"type":"entity","name":"Acme","entityType":"company","observations":[]}"#,
            "\n",
            r#"{"type":"relation","from":"Ada","to":"Acme","relationType":"works_at"}"#,
            "\n",
            r#"{"type":"relation","from":"Ada","to":"Elsewhere","relationType":"visited"}"#,
        );
        let done = m.import_jsonl(file).unwrap();
        assert_eq!(
            done,
            Imported {
                entities: 2,
                observations: 1,
                relations: 2
            }
        );
        // Importing again adds nothing; a new observation merges in.
        let again = m
            .import_jsonl(r#"{"type":"entity","name":"Ada","entityType":"person","observations":["writes Rust","plays go"]}"#)
            .unwrap();
        assert_eq!(
            again,
            Imported {
                entities: 0,
                observations: 1,
                relations: 0
            }
        );
        let mut out = Vec::new();
        m.export_jsonl(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        other.import_jsonl(&text).unwrap();
        let mut out2 = Vec::new();
        other.export_jsonl(&mut out2).unwrap();
        assert_eq!(text, String::from_utf8(out2).unwrap());
        assert!(
            text.contains(r#""observations":["writes Rust","plays go"]"#),
            "{text}"
        );
        let err = m.import_jsonl("{\"type\":\"entity\"}\n").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}

fn stores_again() -> (tempfile::TempDir, Vec<Box<dyn Memory>>) {
    stores(Quotas::default())
}

#[test]
fn vectors_are_kept_fresh_and_ranked_by_cosine() {
    each(Quotas::default(), |m| {
        let a = m.save("cats purr", &[], "global").unwrap();
        let b = m.save("dogs bark", &["pets".into()], "global").unwrap();
        m.save("elsewhere", &[], "project:/x").unwrap();
        let stale = m.stale_vectors("e", Some(&["global".into()]), 10).unwrap();
        assert_eq!(stale.len(), 2);
        assert_eq!(stale[0].input, "dogs bark\n\ntags: pets");
        let with: Vec<(Stale, Vec<f32>)> = stale
            .into_iter()
            .map(|s| {
                let v = if s.id == a.id {
                    vec![1.0, 0.0]
                } else {
                    vec![0.0, 2.0]
                };
                (s, v)
            })
            .collect();
        m.store_vectors("e", &with).unwrap();
        assert!(
            m.stale_vectors("e", Some(&["global".into()]), 10)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            m.stale_vectors("other", None, 10).unwrap().len(),
            3,
            "per model"
        );
        let near = m.nearest("e", &[0.1, 0.9], None, 5).unwrap();
        assert_eq!(near[0].0, b.id);
        assert!((near[0].1 - 0.9939).abs() < 1e-3, "{near:?}");
        assert_eq!(near.len(), 2);
        // A changed note needs a new vector; a deleted one loses its vector.
        let old = m.stale_vectors("other", None, 10).unwrap();
        m.update(a.id, Some("cats sleep"), None).unwrap();
        let stale = m.stale_vectors("e", None, 10).unwrap();
        assert!(stale.iter().any(|s| s.id == a.id));
        assert_eq!(m.nearest("e", &[1.0, 0.0], None, 5).unwrap().len(), 1);
        // A vector made from the text before the change is not stored.
        let before = old.into_iter().find(|s| s.id == a.id).unwrap();
        m.store_vectors("e", &[(before, vec![1.0, 0.0])]).unwrap();
        assert_eq!(m.nearest("e", &[1.0, 0.0], None, 5).unwrap().len(), 1);
        m.delete(b.id).unwrap();
        assert!(m.nearest("e", &[0.0, 1.0], None, 5).unwrap().is_empty());
    });
}

#[test]
fn quotas_refuse_growth_whole_and_deletes_always_pass() {
    let caps = Quotas {
        notes: 2,
        graph_items: 3,
        bytes: 10_000,
    };
    each(caps, |n| {
        let a = n.save("first ünïcode", &tags(&["t"]), "global").unwrap();
        n.save("second", &[], "global").unwrap();
        let err = n.save("third", &[], "global").unwrap_err();
        assert!(matches!(err, NotesError::QuotaFull(_)), "{err}");
        assert!(err.to_string().contains("memory.max_notes"));
        assert_eq!(n.count().unwrap(), 2, "the refused write left nothing");
        n.create_entities(&[entity("a", "thing", &["x"]), entity("b", "thing", &[])])
            .unwrap();
        let err = n
            .create_relations(&[rel("a", "b", "r"), rel("b", "a", "r")])
            .unwrap_err();
        assert!(err.to_string().contains("memory.max_graph_items"), "{err}");
        assert_eq!(n.graph_counts().unwrap().relations, 0, "rolled back whole");
        n.delete(a.id).unwrap();
        n.save("third", &[], "global").unwrap();
        let big = "x".repeat(10_000);
        let err = n.update(a.id + 1, Some(&big), None).unwrap_err();
        assert!(err.to_string().contains("memory.max_bytes"), "{err}");
    });
}

/// Ranking: a rare word outweighs a common one, in every store.
#[test]
fn rare_words_rank_above_common_ones() {
    each(Quotas::default(), |n| {
        for i in 0..20 {
            n.save(&format!("the weekly report number {i}"), &[], "global")
                .unwrap();
        }
        let rare = n
            .save("the kubernetes cluster upgrade", &[], "global")
            .unwrap();
        let hits = n.search("the report on kubernetes", None, 5).unwrap();
        assert_eq!(hits[0].note.id, rare.id, "{hits:?}");
        assert!(
            hits[0].snippet.contains("[kubernetes]"),
            "{}",
            hits[0].snippet
        );
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    });
}

/// The writer half of the test below, run in its own process (this test binary again).
#[test]
#[ignore = "run by postgres_writers_in_four_processes_lose_nothing"]
fn postgres_writer_process() {
    let (Ok(url), Ok(schema), Ok(w)) = (
        std::env::var("SWITCHBOARD_MEMORY_PG_URL"),
        std::env::var("SWITCHBOARD_MEMORY_PG_SCHEMA"),
        std::env::var("SWITCHBOARD_MEMORY_PG_WRITER"),
    ) else {
        return;
    };
    let mut n = PgStore::open(&url, &schema, std::time::Duration::from_secs(10)).unwrap();
    for i in 0..500 {
        n.save(&format!("process {w} note {i}"), &[], "global")
            .unwrap();
        if i % 50 == 0 {
            n.create_entities(&[entity(&format!("p{w}-{i}"), "t", &["o"])])
                .unwrap();
        }
    }
}

/// Four processes (as four machines would) saving 500 notes each into one PostgreSQL memory
/// at once: all 2000 are there, with the counters right.
#[test]
fn postgres_writers_in_four_processes_lose_nothing() {
    let Some(url) = cluster() else { return };
    let schema = fresh_schema();
    PgStore::open(url, &schema, std::time::Duration::from_secs(10)).unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..4)
        .map(|w| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "memory::suite::postgres_writer_process",
                    "--ignored",
                ])
                .env("SWITCHBOARD_MEMORY_PG_URL", url)
                .env("SWITCHBOARD_MEMORY_PG_SCHEMA", &schema)
                .env("SWITCHBOARD_MEMORY_PG_WRITER", w.to_string())
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let mut n = PgStore::open(url, &schema, std::time::Duration::from_secs(10)).unwrap();
    assert_eq!(n.count().unwrap(), 2000);
    let (all, _) = n.list(None, None, 0, 5000).unwrap();
    for w in 0..4 {
        let mine = all
            .iter()
            .filter(|x| x.text.starts_with(&format!("process {w} ")))
            .count();
        assert_eq!(mine, 500, "writer {w}");
    }
    assert_eq!(n.graph_counts().unwrap().entities, 40);
    // The quota counters agree with what is there.
    let err = n
        .with_quotas(Quotas {
            notes: 2000,
            ..Quotas::default()
        })
        .save("one more", &[], "global")
        .unwrap_err();
    assert!(err.to_string().contains("2001 notes"), "{err}");
}

/// Two profiles in one database see nothing of each other.
#[test]
fn postgres_profiles_are_isolated() {
    let Some(url) = cluster() else { return };
    let timeout = std::time::Duration::from_secs(10);
    let mut a = PgStore::open(url, &fresh_schema(), timeout).unwrap();
    let mut b = PgStore::open(url, &fresh_schema(), timeout).unwrap();
    let note = a.save("alpha secret", &[], "global").unwrap();
    a.create_entities(&[entity("Alpha", "t", &[])]).unwrap();
    assert_eq!(b.count().unwrap(), 0);
    assert!(b.search("alpha", None, 10).unwrap().is_empty());
    assert!(matches!(b.get(note.id), Err(NotesError::NotFound(_))));
    assert_eq!(b.graph_counts().unwrap().entities, 0);
}

/// A change committed by one connection (another process) is announced to a listener.
#[test]
fn postgres_changes_are_announced_to_listeners() {
    let Some(url) = cluster() else { return };
    let schema = fresh_schema();
    let timeout = std::time::Duration::from_secs(10);
    let mut writer = PgStore::open(url, &schema, timeout).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let stop = tokio_util::sync::CancellationToken::new();
        let tx = super::postgres::listen::start(url.to_owned(), schema.clone(), stop.clone());
        let mut rx = tx.subscribe();
        // Listening has begun once the first lapse arrives.
        let first = tokio::time::timeout(timeout, rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first, super::postgres::listen::LAPSE);
        let note = tokio::task::spawn_blocking(move || {
            let n = writer.save("announced", &[], "global").unwrap();
            writer.create_entities(&[entity("E", "t", &[])]).unwrap();
            n
        })
        .await
        .unwrap();
        let mut got = Vec::new();
        while got.len() < 2 {
            got.push(
                tokio::time::timeout(timeout, rx.recv())
                    .await
                    .unwrap()
                    .unwrap(),
            );
        }
        assert_eq!(got, [format!("note:{}", note.id), "graph".to_owned()]);
        stop.cancel();
    });
}

/// `memory migrate`: a SQLite memory copied whole, ids and vectors kept; a second run into the
/// same schema is refused.
#[test]
fn sqlite_memory_migrates_to_postgres() {
    let Some(url) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut src = SqliteStore::open(&dir.path().join("memory.db")).unwrap();
    src.save("gone", &[], "global").unwrap();
    let kept = src
        .save("deploy with care", &tags(&["ops"]), "project:/x")
        .unwrap();
    src.delete(kept.id - 1).unwrap();
    let stale = src.stale_vectors("m", None, 10).unwrap();
    let with: Vec<(Stale, Vec<f32>)> = stale.into_iter().map(|s| (s, vec![0.6, 0.8])).collect();
    src.store_vectors("m", &with).unwrap();
    src.create_entities(&[entity("Ada", "person", &["a", "b"])])
        .unwrap();
    src.create_relations(&[rel("Ada", "Nowhere", "visited")])
        .unwrap();
    let schema = fresh_schema();
    let mut pg = PgStore::open(url, &schema, std::time::Duration::from_secs(10)).unwrap();
    let done = pg.copy_from(&mut src).unwrap();
    assert_eq!(
        (
            done.notes,
            done.vectors,
            done.entities,
            done.observations,
            done.relations
        ),
        (1, 1, 1, 2, 1)
    );
    assert_eq!(
        pg.get(kept.id).unwrap(),
        src.get(kept.id).unwrap(),
        "ids are kept"
    );
    assert_eq!(pg.nearest("m", &[0.6, 0.8], None, 3).unwrap()[0].0, kept.id);
    assert!(
        pg.stale_vectors("m", None, 10).unwrap().is_empty(),
        "no re-embedding"
    );
    let next = pg.save("after", &[], "global").unwrap();
    assert!(next.id > kept.id, "new ids continue after the copied ones");
    let err = pg.copy_from(&mut src).unwrap_err();
    assert!(err.to_string().contains("already holds"), "{err}");
}

/// The PostgreSQL store may be dropped inside async code (the server's last handle can go
/// there) without tokio refusing to drop the client's runtime.
#[test]
fn a_postgres_store_dropped_in_async_code_closes_quietly() {
    let Some(url) = cluster() else { return };
    let store = PgStore::open(url, &fresh_schema(), std::time::Duration::from_secs(10)).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move { drop(store) });
}
