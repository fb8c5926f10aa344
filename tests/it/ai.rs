//! The AI tools against a real local engine: llama.cpp's server with SmolLM2-135M on one thread
//! (OpenAI-compatible API) and Ollama's API translated in front of it (`tests/ai/engine.py`).
//! `scripts/test.sh` installs both and sets `SWITCHBOARD_TEST_ENGINE_MODEL`; the engine starts
//! once per test run and ends with it. Tests take turns on the engine (one thread generates),
//! and assert loosely on generated text, as the engine's notes advise.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard::config::{BackendKind, BackendSettings, Settings};

use crate::harness::{Project, Session, TestClient, session, session_with};

pub(crate) struct Engine {
    pub(crate) ollama: String,
    openai: String,
    openai_embed: String,
    /// Kept so the engine's stdin stays open until this process ends.
    _child: Child,
}

static ENGINE: OnceLock<Option<Engine>> = OnceLock::new();
/// One generation at a time: the engine runs on one thread.
pub(crate) static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub(crate) fn engine() -> Option<&'static Engine> {
    ENGINE
        .get_or_init(|| {
            let model = crate::clients::installed(
                "SWITCHBOARD_TEST_ENGINE_MODEL",
                "the local inference engine",
            )?;
            let python = crate::clients::installed("SWITCHBOARD_TEST_PYTHON", "Python")?;
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ai/engine.py");
            let mut child = Command::new(python)
                .args([script, "--model", &model])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("the engine starts");
            let mut line = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            let v: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("the engine did not start ({e}): {line:?}"));
            Some(Engine {
                ollama: v["ollama"].as_str().unwrap().to_owned(),
                openai: v["openai"].as_str().unwrap().to_owned(),
                openai_embed: v["openai_embed"].as_str().unwrap().to_owned(),
                _child: child,
            })
        })
        .as_ref()
}

fn backend(name: &str, kind: BackendKind, url: &str, model: Option<&str>) -> BackendSettings {
    BackendSettings {
        name: name.into(),
        kind,
        base_url: url.into(),
        default_model: model.map(Into::into),
        timeout: Duration::from_secs(120),
        headers: Vec::new(),
    }
}

/// Settings with three backends: `ollama` (the default; Ollama's API), `llama` (llama.cpp's
/// OpenAI-compatible chat server, model `chat`) and `llama_embed` (its embedding server).
fn settings(p: &Project, e: &Engine) -> Settings {
    let mut s = p.settings();
    s.ai.backends = vec![
        backend(
            "ollama",
            BackendKind::Ollama,
            &e.ollama,
            Some("smollm2:135m"),
        ),
        backend("llama", BackendKind::OpenAi, &e.openai, None),
        backend("llama_embed", BackendKind::OpenAi, &e.openai_embed, None),
    ];
    s.ai.default_backend = "ollama".into();
    s
}

const FRANCE: &str = "What is the capital of France? Answer in one sentence.";

fn ask(model: &str, extra: Value) -> Value {
    let mut args = json!({
        "model": model,
        "messages": [{"role": "user", "content": FRANCE}],
        "temperature": 0,
        "seed": 42,
        "max_tokens": 40,
    });
    for (k, v) in extra.as_object().unwrap() {
        args[k] = v.clone();
    }
    args
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn models_health_and_details_from_both_backend_types() {
    let Some(e) = engine() else { return };
    let _turn = TURN.lock().await;
    let p = Project::new();
    let s = session(settings(&p, e)).await;

    let list = s.ok("ai_list_models", json!({})).await;
    let models = list["models"].as_array().unwrap();
    let find = |name: &str| {
        models
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing from {list}"))
    };
    let smol = find("smollm2:135m");
    assert_eq!(smol["backend"], "ollama");
    assert_eq!(smol["family"], "llama");
    assert_eq!(smol["quantization"], "Q4_1");
    assert_eq!(smol["loaded"], true);
    assert!(smol["size_bytes"].as_u64().unwrap() > 50_000_000, "{smol}");
    let chat = find("llama/chat");
    assert_eq!(chat["parameters"], "134.5M", "{chat}");
    // What a request gets: llama.cpp's slot (4096 over two slots), not the trained 8192.
    assert_eq!(chat["context_length"], 2048, "{chat}");
    assert_eq!(smol["context_length"], 2048, "{smol}");
    assert_eq!(find("smollm2:135m-8k")["context_length"], 8192);
    find("llama_embed/embed");
    assert_eq!(list["default_backend"], "ollama");

    let only = s.ok("ai_list_models", json!({"backend": "llama"})).await;
    assert_eq!(only["models"].as_array().unwrap().len(), 1, "{only}");

    let info = s
        .ok("ai_model_info", json!({"model": "smollm2:135m"}))
        .await;
    // The same number as the list, with the trained length beside it.
    assert_eq!(info["context_length"], 2048, "{info}");
    assert_eq!(info["context_source"], "server", "{info}");
    assert_eq!(info["trained_context_length"], 8192, "{info}");
    assert_eq!(info["embedding_length"], 576);
    assert!(info["capabilities"].to_string().contains("completion"));
    let info = s.ok("ai_model_info", json!({"model": "llama/chat"})).await;
    assert_eq!(info["embedding_length"], 576, "{info}");
    assert_eq!(info["context_length"], 2048, "{info}");
    let info = s
        .ok("ai_model_info", json!({"model": "smollm2:135m-8k"}))
        .await;
    assert_eq!(info["context_length"], 8192, "{info}");

    let health = s.ok("ai_health", json!({"refresh": true})).await;
    let backends = health["backends"].as_array().unwrap();
    assert_eq!(backends.len(), 3, "{health}");
    assert!(backends.iter().all(|b| b["ok"] == true), "{health}");
    assert_eq!(backends[0]["version"], "0.12.6");
    // A second look within the TTL reuses the result: no latency, an age instead.
    let again = s.ok("ai_health", json!({"backend": "ollama"})).await;
    assert_eq!(again["backends"][0]["ok"], true, "{again}");
    assert!(again["backends"][0].get("latency_ms").is_none(), "{again}");
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn chat_and_generate_on_both_backend_types() {
    let Some(e) = engine() else { return };
    let _turn = TURN.lock().await;
    let p = Project::new();
    let s = session(settings(&p, e)).await;
    for (model, backend) in [("smollm2:135m", "ollama"), ("llama/chat", "llama")] {
        let out = s.ok("ai_chat", ask(model, json!({}))).await;
        assert!(
            out["content"].as_str().unwrap().contains("Paris"),
            "{model}: {out}"
        );
        assert_eq!(out["backend"], backend);
        assert_eq!(out["model"], model);
        assert!(out["prompt_tokens"].as_u64().unwrap() > 5, "{out}");
        assert!(out["completion_tokens"].as_u64().unwrap() > 0, "{out}");
        assert!(out["tokens_per_second"].as_f64().unwrap() > 0.0, "{out}");
        assert!(out["generation_ms"].as_u64().is_some(), "{out}");

        let out = s
            .ok(
                "ai_generate",
                json!({"model": model, "prompt": FRANCE, "temperature": 0, "seed": 42, "max_tokens": 40}),
            )
            .await;
        assert!(
            out["content"].as_str().unwrap().contains("Paris"),
            "{model}: {out}"
        );
    }
    // The default model of the default backend, and a raw completion without the template.
    let out = s
        .ok(
            "ai_chat",
            json!({"messages": [{"role": "user", "content": FRANCE}], "temperature": 0, "max_tokens": 40}),
        )
        .await;
    assert_eq!(out["model"], "smollm2:135m", "{out}");
    let out = s
        .ok(
            "ai_generate",
            json!({"model": "llama/chat", "prompt": "1, 2, 3, 4, 5,", "raw": true, "temperature": 0, "max_tokens": 8}),
        )
        .await;
    assert!(out["content"].as_str().unwrap().contains('6'), "{out}");
    assert_eq!(out["done_reason"], "length", "{out}");
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn structured_output_as_json_and_as_a_schema() {
    let Some(e) = engine() else { return };
    let _turn = TURN.lock().await;
    let p = Project::new();
    let s = session(settings(&p, e)).await;
    let schema = json!({
        "type": "object",
        "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
        "required": ["city", "country"],
    });
    for model in ["smollm2:135m", "llama/chat"] {
        let out = s
            .ok(
                "ai_chat",
                ask(model, json!({"format": "json", "max_tokens": 60})),
            )
            .await;
        assert!(out["json"].is_object(), "{model}: {out}");
        let out = s
            .ok(
                "ai_chat",
                ask(model, json!({"format": schema, "max_tokens": 60})),
            )
            .await;
        assert!(out["json"]["city"].is_string(), "{model}: {out}");
        assert!(out["json"]["country"].is_string(), "{model}: {out}");
    }
    let err = s
        .err("ai_chat", ask("llama/chat", json!({"format": "yaml"})))
        .await;
    assert!(
        err.contains("`arguments.format`") && err.contains("\"yaml\" is not one of \"json\""),
        "{err}"
    );
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn streaming_sends_the_text_as_progress() {
    let Some(e) = engine() else { return };
    let _turn = TURN.lock().await;
    let p = Project::new();
    for model in ["smollm2:135m", "llama/chat"] {
        // From a fresh cache, as at start: a slot that kept an earlier test's prompt can make
        // the model end the list early (the cached state changes the numbers slightly).
        erase_slots(e).await;
        let client = TestClient::default();
        let progress = client.progress.clone();
        let s = session_with(settings(&p, e), client).await;
        let result = s
            .call_with_progress("ai_chat", ask(model, json!({})), 11)
            .await;
        let content = result.structured_content.unwrap()["content"]
            .as_str()
            .unwrap()
            .to_owned();
        let seen = progress.lock().unwrap().clone();
        assert!(!seen.is_empty(), "{model}: no progress");
        assert!(
            seen.windows(2).all(|w| w[0].0 < w[1].0),
            "progress increases: {seen:?}"
        );
        let streamed: String = seen.iter().filter_map(|(_, m)| m.clone()).collect();
        assert_eq!(
            streamed, content,
            "{model}: the streamed pieces make up the answer"
        );
    }
}

/// Empties the prompt cache of each of llama.cpp's chat slots.
async fn erase_slots(e: &Engine) {
    let base = e.openai.trim_end_matches("/v1");
    let http = reqwest::Client::new();
    for id in 0..2 {
        let r = http
            .post(format!("{base}/slots/{id}?action=erase"))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "erase slot {id}: {}", r.status());
    }
}

/// Whether llama.cpp's chat server is generating anything now.
async fn busy(e: &Engine) -> bool {
    let base = e.openai.trim_end_matches("/v1");
    let slots: Value = reqwest::get(format!("{base}/slots"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    slots
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["is_processing"] == true)
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn cancelling_a_stream_stops_the_generation_upstream() {
    let Some(e) = engine() else { return };
    let _turn = TURN.lock().await;
    let p = Project::new();
    for model in ["smollm2:135m", "llama/chat"] {
        // From a fresh cache, as at start: a slot that kept an earlier test's prompt can make
        // the model end the list early (the cached state changes the numbers slightly).
        erase_slots(e).await;
        let client = TestClient::default();
        let progress = client.progress.clone();
        let s = session_with(settings(&p, e), client).await;
        // About 90 s of output if nothing stopped it.
        let args = json!({
            "model": model,
            "messages": [{"role": "user", "content": "Continue this list forever: 1, 2, 3, 4, 5, 6, 7,"}],
            "temperature": 0,
            "max_tokens": 4000,
        });
        let handle = s.start_with_progress("ai_chat", args, 12).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        while progress.lock().unwrap().len() < 3 {
            assert!(Instant::now() < deadline, "{model}: no progress in 60 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(busy(e).await, "{model}: the engine should be generating");
        handle.cancel(Some("test".into())).await.unwrap();
        let stopped = Instant::now();
        while busy(e).await {
            assert!(
                stopped.elapsed() < Duration::from_secs(10),
                "{model}: still generating 10 s after cancellation"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        drop(s);
    }
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn embeddings_on_both_backend_types() {
    let Some(e) = engine() else { return };
    let _turn = TURN.lock().await;
    let p = Project::new();
    let s = session(settings(&p, e)).await;
    for model in ["all-minilm:latest", "llama_embed/embed"] {
        let out = s
            .ok(
                "ai_embed",
                json!({"model": model, "texts": ["a cat", "a dog", "the bond market"]}),
            )
            .await;
        assert_eq!(out["dimensions"], 576, "{model}");
        let vectors = out["embeddings"].as_array().unwrap();
        assert_eq!(vectors.len(), 3);
        assert!(vectors.iter().all(|v| v.as_array().unwrap().len() == 576));
        assert_ne!(
            vectors[0], vectors[2],
            "{model}: different texts, different vectors"
        );
    }
    let err = s.err("ai_embed", json!({"texts": []})).await;
    assert!(err.contains("at least one"), "{err}");
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn errors_say_what_to_do() {
    let Some(e) = engine() else { return };
    let _turn = TURN.lock().await;
    let p = Project::new();
    let s = session(settings(&p, e)).await;
    let err = s.err("ai_chat", ask("nope:1b", json!({}))).await;
    assert!(
        err.contains("model `nope:1b` not found on backend `ollama`")
            && err.contains("ai_pull_model"),
        "{err}"
    );
    let err = s.err("ai_chat", ask("llama/nope", json!({}))).await;
    assert!(
        err.contains("model `nope` not found on backend `llama`") && err.contains("serves: chat"),
        "{err}"
    );
    let err = s
        .err("ai_embed", json!({"model": "nope:1b", "texts": ["x"]}))
        .await;
    assert!(err.contains("not found"), "{err}");
    let err = s.err("ai_model_info", json!({"model": "nope:1b"})).await;
    assert!(err.contains("not found"), "{err}");

    // Nothing listens on a port just freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut dead = settings(&p, e);
    dead.ai.backends = vec![
        backend(
            "ollama",
            BackendKind::Ollama,
            &format!("http://127.0.0.1:{port}"),
            Some("m"),
        ),
        backend(
            "lm",
            BackendKind::OpenAi,
            &format!("http://127.0.0.1:{port}/v1"),
            Some("m"),
        ),
    ];
    let s = session(dead).await;
    let err = s.err("ai_chat", ask("m", json!({}))).await;
    assert!(
        err.contains(&format!(
            "Ollama is not reachable at http://127.0.0.1:{port}"
        )) && err.contains("ollama serve"),
        "{err}"
    );
    let err = s.err("ai_chat", ask("lm/m", json!({}))).await;
    assert!(
        err.contains("backend `lm` (OpenAI-compatible) is not reachable"),
        "{err}"
    );
    let err = s.err("ai_list_models", json!({})).await;
    assert!(err.contains("not reachable"), "{err}");
    let health = s.ok("ai_health", json!({})).await;
    assert_eq!(health["backends"][0]["ok"], false, "{health}");
    assert!(
        health["backends"][0]["error"]
            .as_str()
            .unwrap()
            .contains("ollama serve")
    );
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn pulls_report_progress_and_unknown_models_fail() {
    let Some(e) = engine() else { return };
    let _turn = TURN.lock().await;
    let p = Project::new();
    let client = TestClient::default();
    let progress = client.progress.clone();
    let s = session_with(settings(&p, e), client).await;
    let result = s
        .call_with_progress("ai_pull_model", json!({"model": "smollm2:135m"}), 13)
        .await;
    let out = result.structured_content.unwrap();
    assert_eq!(out["status"], "success", "{out}");
    assert!(out["total_bytes"].as_u64().unwrap() > 50_000_000, "{out}");
    let seen = progress.lock().unwrap().clone();
    assert!(
        seen.iter()
            .any(|(_, m)| m.as_deref().is_some_and(|m| m.contains('%'))),
        "{seen:?}"
    );
    let err = s.err("ai_pull_model", json!({"model": "nope:1b"})).await;
    assert!(err.contains("not found"), "{err}");
    let err = s.err("ai_pull_model", json!({"model": "llama/chat"})).await;
    assert!(err.contains("cannot pull models"), "{err}");
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn the_agent_completes_a_task_with_a_read_only_tool() {
    let Some(e) = engine() else { return };
    let _turn = TURN.lock().await;
    let p = Project::new();
    p.write("notes.txt", "The secret word is: pineapple\n");
    let s = session(settings(&p, e)).await;
    for model in ["smollm2:135m", "llama/chat"] {
        let out = s
            .ok(
                "ai_agent",
                json!({
                    "task": "What is the secret word in the file notes.txt?",
                    "tools": ["read_many"],
                    "model": model,
                    "seed": 42,
                }),
            )
            .await;
        let steps = out["steps"].as_array().unwrap();
        assert!(!steps.is_empty(), "{model}: no tool call: {out}");
        assert_eq!(steps[0]["tool"], "read_many", "{out}");
        assert_eq!(steps[0]["ok"], true, "{out}");
        assert!(
            steps[0]["arguments"]["paths"]
                .to_string()
                .contains("notes.txt"),
            "{out}"
        );
        assert!(
            steps[0]["summary"].as_str().unwrap().contains("pineapple"),
            "{out}"
        );
        assert_eq!(out["finished"], true, "{out}");
        assert!(
            out["answer"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("pineapple"),
            "{model}: {out}"
        );
    }
    // Tools that change things need ai.agent.allow; AI tools are never handed over.
    let err = s
        .err("ai_agent", json!({"task": "x", "tools": ["write_file"]}))
        .await;
    assert!(err.contains("ai.agent.allow"), "{err}");
    let err = s
        .err("ai_agent", json!({"task": "x", "tools": ["ai_chat"]}))
        .await;
    assert!(err.contains("never offered"), "{err}");
}

/// A declarative tool is the agent's to use like a built-in one, under the same rules: a
/// read-only one may be handed over, one that changes things needs ai.agent.allow.
#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn the_agent_uses_a_declarative_tool() {
    let Some(e) = engine() else { return };
    let _turn = TURN.lock().await;
    let p = Project::new();
    p.write("notes.txt", "The secret word is: pineapple\n");
    let dir = p.base.join("tools");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("show_file.yaml"),
        "description: Show the text of a file.\nkind: command\nannotations: {read_only: true}\nparameters:\n  path: {type: string, format: path, required: true, description: The file to show.}\nprogram: cat\nargs: [\"{path}\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("touch_file.yaml"),
        "description: Create an empty file.\nkind: command\nparameters:\n  path: {type: string, required: true}\nprogram: touch\nargs: [\"{path}\"]\n",
    )
    .unwrap();
    let mut settings = settings(&p, e);
    settings.tools.dirs = vec![dir];
    let s = session(settings).await;
    let out = s
        .ok(
            "ai_agent",
            json!({
                "task": "What is the secret word in the file notes.txt?",
                "tools": ["show_file"],
                "seed": 42,
            }),
        )
        .await;
    let steps = out["steps"].as_array().unwrap();
    assert!(!steps.is_empty(), "no tool call: {out}");
    assert_eq!(steps[0]["tool"], "show_file", "{out}");
    assert_eq!(steps[0]["ok"], true, "{out}");
    assert!(
        steps[0]["summary"].as_str().unwrap().contains("pineapple"),
        "{out}"
    );
    let err = s
        .err("ai_agent", json!({"task": "x", "tools": ["touch_file"]}))
        .await;
    assert!(err.contains("ai.agent.allow"), "{err}");
}

/// The agent's calls go through the same policy: a path outside the roots is refused, and the
/// trace shows the refusal.
#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn the_agents_calls_meet_the_same_policy() {
    let Some(e) = engine() else { return };
    let _turn = TURN.lock().await;
    let p = Project::new();
    let secret = p.outside.join("secret.txt");
    let s = session(settings(&p, e)).await;
    let out = s
        .ok(
            "ai_agent",
            json!({
                "task": format!("Read the file {} and tell me what it says.", secret.display()),
                "tools": ["read_file"],
                "max_steps": 3,
            }),
        )
        .await;
    let steps = out["steps"].as_array().unwrap();
    assert!(!steps.is_empty(), "{out}");
    assert!(steps.iter().all(|s| s["ok"] == false), "{out}");
    assert!(!out.to_string().contains("TOP-SECRET"), "{out}");
}

#[tokio::test]
async fn read_only_mode_keeps_the_agent_and_drops_the_pull() {
    let p = Project::new();
    let mut settings = p.settings();
    settings.read_only = true;
    let s: Session = session(settings).await;
    let tools = s.client.peer().list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert!(names.contains(&"ai_agent"), "{names:?}");
    assert!(names.contains(&"ai_chat"), "{names:?}");
    assert!(!names.contains(&"ai_pull_model"), "{names:?}");
}

fn prompt_text(got: &rmcp::model::GetPromptResult, i: usize) -> String {
    match &got.messages[i].content {
        rmcp::model::ContentBlock::Text(t) => t.text.clone(),
        other => panic!("text message expected: {other:?}"),
    }
}

/// The prompt that shows the feature off: the file goes to the local model, only its summary
/// comes back.
#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn a_local_model_summarizes_a_file_for_the_prompt() {
    let Some(e) = engine() else { return };
    let _turn = TURN.lock().await;
    let p = Project::new();
    p.write(
        "meeting.txt",
        "Minutes of the garden club, 3 May.\nThe club agreed to plant tulips in the park in October.\nMaria will buy 200 bulbs before 1 October.\n",
    );
    let s = session(settings(&p, e)).await;
    let args = |path: &str| {
        json!({"path": path, "model": "llama/chat"})
            .as_object()
            .unwrap()
            .clone()
    };
    let got = s
        .client
        .peer()
        .get_prompt(
            rmcp::model::GetPromptRequestParams::new("summarize_with_local_model")
                .with_arguments(args("meeting.txt")),
        )
        .await
        .unwrap();
    assert_eq!(got.messages.len(), 2);
    assert!(prompt_text(&got, 0).contains("`meeting.txt`"));
    let summary = prompt_text(&got, 1);
    assert!(summary.contains("— llama/chat (llama)"), "{summary}");
    assert!(!summary.contains("could not"), "{summary}");
    assert!(summary.len() > 60, "{summary}");

    // Outside the roots: the policy refuses, and the message says so.
    let outside = p.outside.join("secret.txt");
    let got = s
        .client
        .peer()
        .get_prompt(
            rmcp::model::GetPromptRequestParams::new("summarize_with_local_model")
                .with_arguments(args(&outside.display().to_string())),
        )
        .await
        .unwrap();
    // One message that says what happened, not the prompt's "summarized for you" and then an
    // error that contradicts it.
    assert_eq!(got.messages.len(), 1);
    let msg = prompt_text(&got, 0);
    assert!(
        msg.starts_with("No summary") && msg.contains("could not summarize"),
        "{msg}"
    );
    assert!(!msg.contains("TOP-SECRET"), "{msg}");
}

/// A file larger than the model's context (2048 tokens a request) is read in parts, each
/// summarized, then the parts' summaries together; the answer says so. Without the parts the
/// server refuses the request (llama.cpp) or drops its start (Ollama).
#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn a_file_larger_than_the_context_is_summarized_in_parts() {
    let Some(e) = engine() else { return };
    let _turn = TURN.lock().await;
    let p = Project::new();
    let mut text = String::from("# The garden club handbook\n\n");
    for i in 0..80 {
        text.push_str(&format!(
            "Section {i}. Members water the tulip beds on day {i} of the season and write down how much water each bed got, so the club can plan next year.\n\n"
        ));
    }
    assert!(text.len() > 9000);
    p.write("handbook.md", &text);
    let s = session(settings(&p, e)).await;
    let got = s
        .client
        .peer()
        .get_prompt(
            rmcp::model::GetPromptRequestParams::new("summarize_with_local_model").with_arguments(
                json!({"path": "handbook.md", "model": "smollm2:135m"})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(got.messages.len(), 2, "{got:?}");
    let summary = prompt_text(&got, 1);
    assert!(summary.contains("— smollm2:135m (ollama)"), "{summary}");
    assert!(
        summary.contains("parts, each summarized") && summary.contains("2048 tokens"),
        "{summary}"
    );
}

/// The agent fits its work into the model's context: the task ("count the .rs files in src
/// and name the largest") finishes on a model with 2048 tokens a request and on one with 8192.
/// With 2048, only the tools most relevant to the task are listed (all read-only tools do not
/// fit), and older results shrink as new ones come. An overflow would fail the call.
#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn the_agent_finishes_a_task_within_small_and_larger_contexts() {
    let Some(e) = engine() else { return };
    let _turn = TURN.lock().await;
    let p = Project::new();
    p.write("src/main.rs", "fn main() {}\n");
    p.write("src/lib.rs", "pub fn f() {}\n".repeat(400));
    p.write("src/util.rs", "pub fn u() {}\n");
    p.write("README.md", "# demo\n");
    let s = session(settings(&p, e)).await;
    for (model, window) in [("smollm2:135m", 2048), ("smollm2:135m-8k", 8192)] {
        let out = s
            .ok(
                "ai_agent",
                json!({
                    "task": "count the .rs files in src and name the largest",
                    "model": model,
                    "seed": 42,
                    "max_steps": 5,
                }),
            )
            .await;
        assert_eq!(out["finished"], true, "{model}: {out}");
        assert_eq!(out["context_tokens"], window, "{model}: {out}");
        assert_eq!(out["context_source"], "server", "{model}: {out}");
        assert!(out["prompt_tokens"].as_u64().unwrap() > 0, "{model}: {out}");
        let steps = out["steps"].as_array().unwrap();
        assert!(!steps.is_empty(), "{model}: no tool call: {out}");
        if window == 2048 {
            let cut = out["cut"].to_string();
            assert!(cut.contains("most relevant to the task"), "{out}");
        }
    }
}

/// Images for a vision model are read through the file policy, checked to be images, and only
/// then sent (here to a backend that is down, which the answer says).
#[tokio::test]
async fn chat_images_come_from_inside_the_roots() {
    let p = Project::new();
    p.write("notes.txt", "not an image\n");
    p.write("pic.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut settings = p.settings();
    settings.ai.backends = vec![backend(
        "ollama",
        BackendKind::Ollama,
        &format!("http://127.0.0.1:{port}"),
        Some("llava"),
    )];
    let s = session(settings).await;
    let with_image = |path: &str| json!({"messages": [{"role": "user", "content": "What is in it?", "images": [path]}]});
    let outside = p.outside.join("secret.txt").display().to_string();
    let err = s.err("ai_chat", with_image(&outside)).await;
    assert!(err.contains("outside"), "{err}");
    let err = s.err("ai_chat", with_image("notes.txt")).await;
    assert!(err.contains("not an image"), "{err}");
    let err = s.err("ai_chat", with_image("pic.png")).await;
    assert!(err.contains("Ollama is not reachable"), "{err}");
    let err = s
        .err(
            "ai_generate",
            json!({"prompt": "x", "images": ["missing.png"]}),
        )
        .await;
    assert!(err.contains("missing.png"), "{err}");
}

/// Notes searched by meaning with a real embedding model: vectors are made lazily on search,
/// stored in the memory database, dropped when a note changes and made again; a note with no
/// word in common with the query is still found; an unreachable model leaves word search.
#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn memory_search_ranks_by_meaning_with_an_embedding_model() {
    let Some(e) = engine() else { return };
    let _turn = TURN.lock().await;
    let p = Project::new();
    let mut settings = settings(&p, e);
    settings.memory.embed_model = Some("llama_embed/embed".into());
    settings.memory.embed_per_search = 2;
    let db = settings.memory.db.clone();
    let s = session(settings).await;
    for text in [
        "The staging database password rotates every Monday.",
        "Our cat Miso eats tuna at noon.",
        "Deploys go out through the release pipeline.",
    ] {
        s.ok("memory_save", json!({"text": text})).await;
    }
    let vectors = || {
        rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT count(*) FROM note_vectors", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap()
    };
    assert_eq!(vectors(), 0, "nothing is embedded before a search");
    let first = s
        .ok(
            "memory_search",
            json!({"query": "feline lunch", "limit": 3}),
        )
        .await;
    assert_eq!(first["mode"], "hybrid", "{first}");
    assert!(
        first["semantic"]
            .as_str()
            .unwrap()
            .contains("embed_per_search"),
        "two of three were embedded: {first}"
    );
    assert_eq!(vectors(), 2);
    let second = s
        .ok(
            "memory_search",
            json!({"query": "feline lunch", "limit": 3}),
        )
        .await;
    assert!(second.get("semantic").is_none(), "{second}");
    assert_eq!(vectors(), 3);
    // No word of the query is in any note, yet the meaning side finds notes.
    assert_eq!(second["hits"].as_array().unwrap().len(), 3, "{second}");
    assert!(second["hits"][0]["snippet"].as_str().unwrap().len() > 10);
    // A changed note loses its vector and gets a new one on the next search.
    let id = second["hits"][0]["note"]["id"].clone();
    s.ok(
        "memory_update",
        json!({"id": id, "text": "Miso now prefers salmon."}),
    )
    .await;
    assert_eq!(vectors(), 2);
    s.ok("memory_search", json!({"query": "salmon"})).await;
    assert_eq!(vectors(), 3);

    // The model unreachable: word search, and why.
    let p2 = Project::new();
    let mut off = p2.settings();
    off.ai.backends = vec![backend(
        "ollama",
        BackendKind::Ollama,
        "http://127.0.0.1:9",
        None,
    )];
    off.memory.embed_model = Some("all-minilm".into());
    let s2 = session(off).await;
    s2.ok("memory_save", json!({"text": "Miso the cat likes tuna."}))
        .await;
    let r = s2.ok("memory_search", json!({"query": "tuna"})).await;
    assert_eq!(r["mode"], "words");
    assert_eq!(r["hits"].as_array().unwrap().len(), 1);
    assert!(
        r["semantic"]
            .as_str()
            .unwrap()
            .contains("meaning search skipped"),
        "{r}"
    );
}

/// `search_tools` until its answer says `mode: hybrid` or `semantic` contains `until`, within
/// two minutes (the engine embeds every tool on one thread): the readiness signal is the
/// answer itself.
async fn search_until(s: &Session, query: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let found = s.ok("search_tools", json!({"query": query})).await;
        if done(&found) {
            return found;
        }
        assert!(Instant::now() < deadline, "still not done: {found}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// With an embedding model, `search_tools` ranks by meaning too: the tools' vectors are made in
/// the background (words only until then, and the answer says so), then searches are hybrid,
/// and a query no word of any tool matches still finds tools. A query whose embedding is slower
/// than the timeout, or a model that cannot be reached, leaves words only, and says why.
#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn search_tools_ranks_by_meaning_with_an_embedding_model() {
    use switchboard::config::tools::SearchEmbed;
    let Some(e) = engine() else { return };
    let _turn = TURN.lock().await;
    let p = Project::new();
    let mut settings = settings(&p, e);
    settings.tools.exposure = switchboard::policy::tools::Exposure::Compact;
    let embed = SearchEmbed {
        model: "llama_embed/embed".into(),
        weight: 0.3,
        timeout: Duration::from_secs(30),
    };
    settings.tools.search_embed = Some(embed.clone());
    let s = session(settings.clone()).await;
    let first = s.ok("search_tools", json!({"query": "read_file"})).await;
    assert_eq!(first["mode"], "words", "{first}");
    assert!(
        first["semantic"].as_str().unwrap().contains("being made"),
        "{first}"
    );
    assert_eq!(first["tools"][0]["name"], "read_file");
    let hybrid = search_until(&s, "read_file", |f| f["mode"] == "hybrid").await;
    assert!(hybrid.get("semantic").is_none(), "{hybrid}");
    // A tool named exactly stays first; words still carry an ordinary query.
    assert_eq!(hybrid["tools"][0]["name"], "read_file", "{hybrid}");
    let answer = s
        .ok("search_tools", json!({"query": "read a text file"}))
        .await;
    let names = crate::harness::found(&answer, "name");
    assert!(names[..3].contains(&"read_file".to_owned()), "{answer}");
    // No word of this query is in any tool: only meaning finds something.
    let meaning_only = s.ok("search_tools", json!({"query": "qwzx vbnm"})).await;
    assert_eq!(meaning_only["mode"], "hybrid");
    assert!(
        !meaning_only["tools"].as_array().unwrap().is_empty(),
        "{meaning_only}"
    );
    drop(s);

    // The query's embedding slower than the timeout: words, and why.
    let mut slow = settings.clone();
    slow.tools.search_embed = Some(SearchEmbed {
        timeout: Duration::from_millis(1),
        ..embed
    });
    let s = session(slow).await;
    let timed_out = search_until(&s, "read a file", |f| {
        f["semantic"]
            .as_str()
            .is_some_and(|m| !m.contains("being made"))
    })
    .await;
    assert_eq!(timed_out["mode"], "words");
    assert!(
        timed_out["semantic"]
            .as_str()
            .unwrap()
            .contains("tools.search_embed_timeout_ms"),
        "{timed_out}"
    );
    assert_eq!(timed_out["tools"][0]["name"], "read_file");
    drop(s);

    // The model unreachable: words, and why.
    let p2 = Project::new();
    let mut off = p2.settings();
    off.ai.backends = vec![backend(
        "ollama",
        BackendKind::Ollama,
        "http://127.0.0.1:9",
        None,
    )];
    off.tools.search_embed = Some(SearchEmbed {
        model: "all-minilm".into(),
        weight: 0.3,
        timeout: Duration::from_secs(2),
    });
    let s = session(off).await;
    let down = search_until(&s, "read a file", |f| {
        f["semantic"]
            .as_str()
            .is_some_and(|m| m.contains("meaning search skipped"))
    })
    .await;
    assert_eq!(down["mode"], "words");
    assert_eq!(down["tools"][0]["name"], "read_file", "{down}");
}

/// A loopback stand-in for Ollama's API that records what reaches it: `/api/tags` lists
/// `m:latest`, `/api/generate` answers one done line.
struct Recorder {
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
}

impl Recorder {
    fn start() -> Self {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for sock in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || {
                    let mut sock = sock;
                    let mut data = Vec::new();
                    let mut buf = [0u8; 65536];
                    let (head, body) = loop {
                        let Ok(n) = sock.read(&mut buf) else { return };
                        if n == 0 {
                            return;
                        }
                        data.extend_from_slice(&buf[..n]);
                        let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
                            continue;
                        };
                        let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        if data.len() >= end + 4 + len {
                            let body = String::from_utf8_lossy(&data[end + 4..end + 4 + len]);
                            break (head, body.into_owned());
                        }
                    };
                    let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
                    log.lock().unwrap().push((path.clone(), body));
                    let reply = if path.ends_with("/api/tags") {
                        r#"{"models":[{"name":"m:latest","model":"m:latest","size":1}]}"#
                    } else {
                        r#"{"model":"m:latest","response":"ok","done":true,"done_reason":"stop"}"#
                    };
                    let _ = write!(
                        sock,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                        reply.len()
                    );
                });
            }
        });
        Self { port, seen }
    }

    fn generations(&self) -> Vec<serde_json::Value> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p.ends_with("/api/generate"))
            .map(|(_, b)| serde_json::from_str(b).unwrap())
            .collect()
    }
}

/// Through the real binary: a model name that is not one never reaches the backend, nor one
/// the backend does not list; the tokens to generate are clamped to `ai.max_tokens` (and set
/// when the call gives none); a prompt over `ai.max_prompt_bytes` is refused before sending.
#[test]
fn inference_inputs_are_checked_before_they_reach_the_backend() {
    use crate::harness::Proc;
    let rec = Recorder::start();
    let p = Project::new();
    let cfg = p.base.join("config.yaml");
    std::fs::write(
        &cfg,
        format!(
            "ai:\n  max_tokens: 512\n  max_prompt_bytes: 100000\n  backends:\n    ollama:\n      type: ollama\n      base_url: http://127.0.0.1:{}\n",
            rec.port
        ),
    )
    .unwrap();
    let mut proc = Proc::spawn(&["--config", cfg.to_str().unwrap()]);
    proc.initialize();
    let mut generate = |id: i64, args: Value| {
        proc.request(
            id,
            "tools/call",
            json!({"name": "ai_generate", "arguments": args}),
        )
    };
    let reason = |r: &Value| r["result"]["_meta"]["switchboard/reason"].clone();
    for (i, bad) in ["../../etc/passwd", "m/../../x", "m?x=1", "%2e%2e"]
        .iter()
        .enumerate()
    {
        let r = generate(10 + i as i64, json!({"model": bad, "prompt": "hi"}));
        assert_eq!(r["result"]["isError"], true, "{r}");
        assert_eq!(reason(&r), "model_name_invalid", "{r}");
    }
    let r = generate(20, json!({"model": "other", "prompt": "hi"}));
    assert_eq!(reason(&r), "model_name_invalid", "{r}");
    assert!(r.to_string().contains("serves: m:latest"), "{r}");
    assert!(rec.generations().is_empty(), "nothing unlisted was sent");
    let r = generate(
        30,
        json!({"model": "m", "prompt": "hi", "max_tokens": 4294967295u64}),
    );
    assert_ne!(r["result"]["isError"], true, "{r}");
    let r = generate(31, json!({"model": "m:latest", "prompt": "hi"}));
    assert_ne!(r["result"]["isError"], true, "{r}");
    let sent = rec.generations();
    assert_eq!(sent.len(), 2, "{sent:?}");
    for g in &sent {
        assert_eq!(g["options"]["num_predict"], 512, "{g}");
    }
    let r = generate(40, json!({"model": "m", "prompt": "x".repeat(200_000)}));
    assert_eq!(reason(&r), "prompt_too_large", "{r}");
    assert!(r.to_string().contains("ai.max_prompt_bytes"), "{r}");
    assert_eq!(rec.generations().len(), 2);
}
