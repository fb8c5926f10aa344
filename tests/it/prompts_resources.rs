//! Prompts, resources, the file resource template, subscriptions and completion, through the
//! real protocol.

use rmcp::model::{
    ArgumentInfo, CompleteRequestParams, ContentBlock, GetPromptRequestParams,
    ReadResourceRequestParams, Reference, ResourceContents, ResourceTemplateReference,
    SubscribeRequestParams,
};
use serde_json::json;

use crate::harness::{Project, session};

#[tokio::test]
async fn prompts_list_and_render() {
    let p = Project::new();
    let s = session(p.settings()).await;
    let prompts = s.client.list_all_prompts().await.unwrap();
    let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert!(
        names.len() >= 3 && names.contains(&"code_review"),
        "{names:?}"
    );
    let mut args = serde_json::Map::new();
    args.insert("path".into(), json!("src/lib.rs"));
    let got = s
        .client
        .get_prompt(GetPromptRequestParams::new("code_review").with_arguments(args))
        .await
        .unwrap();
    let ContentBlock::Text(t) = &got.messages[0].content else {
        panic!("text message")
    };
    let text = &t.text;
    assert!(text.contains("`src/lib.rs`"), "{text}");
    let err = s
        .client
        .get_prompt(GetPromptRequestParams::new("code_review"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("needs the argument `path`"),
        "{err}"
    );
    let err = s
        .client
        .get_prompt(GetPromptRequestParams::new("nope"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown prompt"), "{err}");
}

#[tokio::test]
async fn prompt_folders_extend_the_built_ins() {
    let p = Project::new();
    let dir = p.base.join("prompts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("greet.md"), "---\ndescription: Greet\narguments:\n  - name: who\n    required: true\n---\nSay hello to {{who}}.").unwrap();
    let mut settings = p.settings();
    settings.prompt_dirs = vec![dir];
    let s = session(settings).await;
    let mut args = serde_json::Map::new();
    args.insert("who".into(), json!("Ada"));
    let got = s
        .client
        .get_prompt(GetPromptRequestParams::new("greet").with_arguments(args))
        .await
        .unwrap();
    let ContentBlock::Text(t) = &got.messages[0].content else {
        panic!()
    };
    assert_eq!(t.text, "Say hello to Ada.");
}

#[tokio::test]
async fn broken_prompt_files_are_reported_to_the_client() {
    let p = Project::new();
    let dir = p.base.join("prompts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("broken.md"), "---\nname: [unclosed\n---\nx").unwrap();
    let mut settings = p.settings();
    settings.prompt_dirs = vec![dir];
    let client = crate::harness::TestClient::default();
    let log = client.log.clone();
    let s = crate::harness::session_with(settings, client).await;
    let seen = crate::harness::eventually(|| async {
        log.lock().unwrap().iter().any(|m| m.contains("broken.md"))
    })
    .await;
    assert!(
        seen,
        "a notifications/message names the skipped file: {:?}",
        log.lock().unwrap()
    );
    let names: Vec<String> = s
        .client
        .list_all_prompts()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert!(
        names.contains(&"code_review".to_owned()),
        "the other prompts still load"
    );
}

#[tokio::test]
async fn static_and_file_resources() {
    let p = Project::new();
    p.write("notes.txt", "hello resource\n");
    p.write("pic.png", b"\x89PNG\r\n\x1a\n\0\0");
    let s = session(p.settings()).await;
    let list = s.client.list_all_resources().await.unwrap();
    let guide = list
        .iter()
        .find(|r| r.uri == "switchboard://resources/switchboard-guide.md")
        .expect("the guide is listed");
    assert_eq!(guide.mime_type.as_deref(), Some("text/markdown"));
    let read = s
        .client
        .read_resource(ReadResourceRequestParams::new(&guide.uri))
        .await
        .unwrap();
    assert!(
        matches!(&read.contents[0], ResourceContents::TextResourceContents { text, .. } if text.starts_with("# Using switchboard"))
    );

    let templates = s.client.list_all_resource_templates().await.unwrap();
    assert_eq!(templates[0].uri_template, "file:///{path}");
    let uri = format!("file://{}", p.root.join("notes.txt").display());
    let read = s
        .client
        .read_resource(ReadResourceRequestParams::new(&uri))
        .await
        .unwrap();
    assert!(
        matches!(&read.contents[0], ResourceContents::TextResourceContents { text, .. } if text == "hello resource\n")
    );
    let uri = format!("file://{}", p.root.join("pic.png").display());
    let read = s
        .client
        .read_resource(ReadResourceRequestParams::new(&uri))
        .await
        .unwrap();
    assert!(
        matches!(&read.contents[0], ResourceContents::BlobResourceContents { mime_type: Some(m), .. } if m == "image/png")
    );
    let outside = format!("file://{}", p.outside.join("secret.txt").display());
    let err = s
        .client
        .read_resource(ReadResourceRequestParams::new(&outside))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("outside the allowed roots"),
        "{err}"
    );
    let err = s
        .client
        .read_resource(ReadResourceRequestParams::new("nope://x"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no resource"), "{err}");
}

#[tokio::test]
#[allow(deprecated)]
async fn subscriptions_deliver_updates() {
    let p = Project::new();
    let file = p.write("watched.txt", "v1\n");
    let s = session(p.settings()).await;
    let uri = format!("file://{}", file.display());
    s.client
        .subscribe(SubscribeRequestParams::new(&uri))
        .await
        .unwrap();
    // The watch is in place when subscribe answers.
    s.ok(
        "write_file",
        json!({"path": "watched.txt", "content": "version two\n"}),
    )
    .await;
    let got =
        crate::harness::eventually(|| async { s.updates.lock().unwrap().contains(&uri) }).await;
    assert!(got, "an update notification arrives");
    s.client
        .unsubscribe(rmcp::model::UnsubscribeRequestParams::new(&uri))
        .await
        .unwrap();
    let err = s
        .client
        .subscribe(SubscribeRequestParams::new(format!(
            "file://{}",
            p.outside.join("secret.txt").display()
        )))
        .await;
    assert!(err.is_err(), "subscribing outside the roots is refused");
}

#[tokio::test]
async fn file_paths_complete_inside_the_roots() {
    let p = Project::new();
    p.write("src/main.rs", "");
    p.write("src/mod.rs", "");
    p.write("README.md", "");
    let s = session(p.settings()).await;
    let prefix = format!("{}/src/m", p.root.display());
    let reference = Reference::Resource(ResourceTemplateReference::new("file:///{path}"));
    let got = s
        .client
        .complete(CompleteRequestParams::new(
            reference,
            ArgumentInfo::new("path", prefix.clone()),
        ))
        .await
        .unwrap();
    assert_eq!(
        got.completion.values,
        vec![format!("{prefix}ain.rs"), format!("{prefix}od.rs")]
    );
    let reference = Reference::Resource(ResourceTemplateReference::new("file:///{path}"));
    let got = s
        .client
        .complete(CompleteRequestParams::new(
            reference,
            ArgumentInfo::new("path", format!("{}/", p.outside.display())),
        ))
        .await
        .unwrap();
    assert!(
        got.completion.values.is_empty(),
        "nothing outside the roots is listed"
    );
}
