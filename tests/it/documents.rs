//! Documents through MCP: real files of every format `read_document` reads, written by the
//! libraries people make them with (tests/documents/make.py), read as text and tables, paged;
//! `read_file` on a document reads it the same way; hostile files (a zip bomb, a sheet of
//! millions of cells, broken and truncated files) end at the caps with an answer, and the
//! session goes on.

use serde_json::json;

use crate::harness::{Project, session};

fn make(p: &Project) -> bool {
    let Some(py) =
        crate::clients::installed("SWITCHBOARD_TEST_PYTHON", "the Python document libraries")
    else {
        return false;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/documents/make.py");
    let out = std::process::Command::new(py)
        .arg(script)
        .arg(&p.root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "make.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn documents_of_every_format_read_as_text_and_tables() {
    let p = Project::new();
    if !make(&p) {
        return;
    }
    let s = session(p.settings()).await;
    let read = |args: serde_json::Value| {
        let s = &s;
        async move { s.ok_text("read_document", args).await }
    };

    let docx = read(json!({"path": "plan.docx", "limit": 8})).await;
    assert!(
        docx.starts_with("plan.docx: Word document\n# Quarterly plan\nRevenue grew & costs fell.\n- Hire two engineers\n\n| Region | Sales |\n| --- | --- |\n| North | 42 |"),
        "{docx}"
    );
    assert!(docx.contains("Continue with offset=9"), "{docx}");
    // Paging goes on where it stopped, from the cached text.
    let on = read(json!({"path": "plan.docx", "offset": 9, "limit": 2})).await;
    assert!(
        on.contains("Filler paragraph 0.\nFiller paragraph 1."),
        "{on}"
    );

    let pptx = read(json!({"path": "deck.pptx"})).await;
    for want in [
        "PowerPoint presentation, 2 slides",
        "## Slide 1\n### Roadmap\nShip documents\nShip git",
        "Notes:\nMention the browser",
        "## Slide 2\n### Risks\nZip bombs",
    ] {
        assert!(pptx.contains(want), "{want:?} in {pptx}");
    }

    let xlsx = read(json!({"path": "book.xlsx", "limit": 3})).await;
    assert!(
        xlsx.contains("sheets: `Sales` (shown, A1:C501), `Costs`")
            && xlsx.contains("| # | Region | Amount | Date |\n| --- | --- | --- | --- |\n| 2 | R0 | 0 | 2026-01-01 |\n| 3 | R1 | 1.5 | 2026-01-02 |")
            && xlsx.contains("[rows 1-3 of 500; continue with offset 4]"),
        "{xlsx}"
    );
    // Later rows keep the header; a range reads cells by their A1 address.
    let later = read(json!({"path": "book.xlsx", "offset": 250, "limit": 1})).await;
    assert!(
        later.contains("| # | Region | Amount | Date |")
            && later.contains("| 251 | R249 | 373.5 |"),
        "{later}"
    );
    let range = read(json!({"path": "book.xlsx", "range": "B10:C11"})).await;
    assert!(
        range.contains("| # | B | C |\n| --- | --- | --- |\n| 10 | 12 | 2026-01-09 |\n| 11 | 13.5 | 2026-01-10 |"),
        "{range}"
    );
    let costs = read(json!({"path": "book.xlsx", "sheet": "costs"})).await;
    assert!(costs.contains("| 2 | Rent | 1200 |"), "{costs}");
    let err = s
        .err(
            "read_document",
            json!({"path": "book.xlsx", "sheet": "Nope"}),
        )
        .await;
    assert!(
        err.contains("no sheet `Nope`") && err.contains("`Sales`, `Costs`"),
        "{err}"
    );

    let xls = read(json!({"path": "old.xls"})).await;
    assert!(xls.contains("| 2 | bolts | 7 |"), "{xls}");
    let odt = read(json!({"path": "minutes.odt"})).await;
    assert!(
        odt.contains("# Minutes\nDecided to ship.\n- Alice owns it"),
        "{odt}"
    );
    let ods = read(json!({"path": "budget.ods"})).await;
    assert!(ods.contains("| 2 | Travel | 300 |"), "{ods}");
    let csv = read(json!({"path": "people.csv"})).await;
    assert!(csv.contains("| 2 | Smith, Ann | Berlin |"), "{csv}");

    let pdf = read(json!({"path": "three.pdf"})).await;
    assert!(
        pdf.starts_with("three.pdf: PDF, 3 pages\n--- page 1 of 3 ---\nPage 1 says hello")
            && pdf.contains("--- page 3 of 3 ---\nPage 3 says hello"),
        "{pdf}"
    );
    let scan = s.err("read_document", json!({"path": "scan.pdf"})).await;
    assert!(
        scan.contains("holds no text") && scan.contains("scanned"),
        "{scan}"
    );

    // read_file reads a document as read_document does (head is a limit).
    let via_read_file = s
        .ok_text("read_file", json!({"path": "three.pdf", "head": 2}))
        .await;
    assert!(
        via_read_file
            .starts_with("three.pdf: PDF, 3 pages\n--- page 1 of 3 ---\nPage 1 says hello"),
        "{via_read_file}"
    );
    let err = s
        .err("read_file", json!({"path": "three.pdf", "tail": 2}))
        .await;
    assert!(err.contains("offset and limit"), "{err}");
    // read_many points to read_document instead of reading a document's bytes.
    let many = s.err("read_many", json!({"paths": ["deck.pptx"]})).await;
    assert!(many.contains("read_document reads its text"), "{many}");

    // Spreadsheet options on a text document, and formats switchboard does not read.
    let err = s
        .err("read_document", json!({"path": "plan.docx", "sheet": "1"}))
        .await;
    assert!(err.contains("apply to spreadsheets"), "{err}");
    let err = s.err("read_document", json!({"path": "old.doc"})).await;
    assert!(
        err.contains("Word 97-2003") && err.contains("convert"),
        "{err}"
    );
    let err = s.err("read_document", json!({"path": "../x.pdf"})).await;
    assert!(err.contains("outside"), "{err}");
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn hostile_documents_end_at_the_caps_and_the_session_goes_on() {
    let p = Project::new();
    if !make(&p) {
        return;
    }
    let mut settings = p.settings();
    settings.files.document_memory_mib = 256;
    let s = session(settings).await;
    // 300 MB of XML behind 300 KB of zip: refused as it expands, before it is held.
    let err = s.err("read_document", json!({"path": "bomb.docx"})).await;
    assert!(
        err.contains("files.max_document_text_bytes") && err.contains("zip bomb"),
        "{err}"
    );
    // Four million cells: the reader process reaches its memory limit and is stopped.
    let err = s.err("read_document", json!({"path": "huge.xlsx"})).await;
    assert!(
        err.contains("more than 256 MiB") && err.contains("files.document_memory_mib"),
        "{err}"
    );
    for (file, want) in [
        ("broken.pdf", "cannot be read"),
        ("truncated.xlsx", "cannot be read"),
    ] {
        let err = s.err("read_document", json!({"path": file})).await;
        assert!(err.contains(want), "{file}: {err}");
    }
    // The file-size cap, before anything is read.
    let mut settings = p.settings();
    settings.files.max_document_bytes = 1000;
    let small = session(settings).await;
    let err = small
        .err("read_document", json!({"path": "plan.docx"}))
        .await;
    assert!(err.contains("files.max_document_bytes"), "{err}");
    // The session that read the hostile files still answers.
    let ok = s
        .ok_text("read_document", json!({"path": "people.csv"}))
        .await;
    assert!(ok.contains("Smith, Ann"), "{ok}");
}
