//! Real third-party clients: the official Python SDK (default mode, which opens with
//! `server/discover`, and legacy `initialize` mode). `scripts/test.sh` installs it and sets
//! `SWITCHBOARD_TEST_PYTHON`; under `SWITCHBOARD_TEST_STRICT=1` (CI) a missing client fails.

use std::process::Command;

use crate::harness::Project;

fn python() -> Option<String> {
    match std::env::var("SWITCHBOARD_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            assert!(
                std::env::var("SWITCHBOARD_TEST_STRICT").is_err(),
                "SWITCHBOARD_TEST_PYTHON is not set; run scripts/test.sh, which installs the Python MCP SDK"
            );
            eprintln!("skipped: set SWITCHBOARD_TEST_PYTHON (scripts/test.sh does) to run the Python SDK client test");
            None
        }
    }
}

#[test]
fn python_sdk_lists_and_calls_every_tool() {
    let Some(py) = python() else { return };
    let p = Project::new();
    p.write("README.md", "# demo\nhello\n");
    p.write("img.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/python_client.py");
    for mode in ["default", "legacy"] {
        let out = Command::new(&py)
            .args([script, crate::harness::bin(), p.root.to_str().unwrap(), mode])
            .env("HOME", &p.base)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "python client ({mode}) failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("called 15 tools"), "{stdout}");
    }
}
