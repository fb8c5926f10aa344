//! Prompts as the protocol shows them: the folder prompts as `prompts/list` entries, rendered
//! messages with embedded resources, and the two built-in prompts that do work first.
#![allow(deprecated)]

use std::collections::BTreeMap;

use rmcp::model::*;
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};

use super::resource_reads::*;

use super::Switchboard;
use crate::folders::Folders;
use crate::prompts::{Piece, Speaker};

impl Switchboard {
    /// The built-in `fetch` prompt's messages: the prompt's text, then the page (or why it
    /// could not be fetched). The user asked for it, so robots.txt is not consulted.
    pub(crate) async fn fetch_prompt(
        &self,
        intro: String,
        args: &BTreeMap<String, String>,
    ) -> Vec<PromptMessage> {
        use crate::web::page as fetch_url;
        let url = args.get("url").map(|u| u.trim()).unwrap_or_default();
        let web = &self.settings.web;
        let max = args
            .get("max_length")
            .and_then(|m| m.trim().parse::<usize>().ok())
            .unwrap_or(web.fetch_max_length)
            .max(1);
        let options = fetch_url::FetchOptions {
            robots: false,
            max_image_bytes: web.fetch_max_image_bytes,
        };
        let fetched = async {
            let net = self.net()?;
            let (page, _) = fetch_url::fetch_page(&net, &self.pages, url, false, options).await?;
            fetch_url::render(&page, url, 0, max)
        }
        .await;
        let mut messages = vec![PromptMessage::new_text(Role::User, intro)];
        match fetched {
            Ok(blocks) => messages.extend(
                blocks
                    .into_iter()
                    .map(|b| PromptMessage::new(Role::User, crate::mcp::page_content(b))),
            ),
            Err(e) => messages.push(PromptMessage::new_text(
                Role::User,
                format!("Fetching {url} failed: {e}"),
            )),
        }
        messages
    }

    /// The built-in `summarize_with_local_model` prompt's messages: the prompt's text, then the
    /// local model's summary of the file (or why there is none).
    pub(crate) async fn summarize_prompt(
        &self,
        intro: String,
        args: &BTreeMap<String, String>,
        ctx: &RequestContext<RoleServer>,
    ) -> Vec<PromptMessage> {
        let path = args
            .get("path")
            .map(|p| p.trim().to_owned())
            .unwrap_or_default();
        let arg = |k: &str| args.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let summary = async {
            let ai = self.ai().map_err(|e| e.to_string())?;
            let scope = self.file_scope(ctx).await;
            let max = ai.settings.summary_max_input_chars;
            let p = path.clone();
            let (content, cut) = tokio::task::spawn_blocking(move || {
                crate::ai::summarize::read_text(&scope, &p, max)
            })
            .await
            .map_err(|e| e.to_string())??;
            crate::ai::summarize::summarize(&ai, &path, &content, cut, arg("model"), arg("focus"))
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        match summary {
            Ok(s) => vec![
                PromptMessage::new_text(Role::User, intro),
                PromptMessage::new_text(Role::User, s),
            ],
            // One message, saying what happened: the prompt's text ("a local model summarized
            // it for you") would contradict it.
            Err(e) => vec![PromptMessage::new_text(
                Role::User,
                format!(
                    "No summary: the local model could not summarize `{path}`: {e}. Read the file with read_file instead if it is needed."
                ),
            )],
        }
    }

    /// The prompts as `prompts/list` shows them (without the child servers').
    pub(crate) fn prompt_list(folders: &Folders) -> Vec<Prompt> {
        folders
            .prompts
            .list()
            .map(|p| {
                let args = p
                    .arguments
                    .iter()
                    .map(|a| {
                        let mut arg = PromptArgument::new(&a.name).with_required(a.required);
                        let mut d = a.description.clone().unwrap_or_default();
                        if !a.choices.is_empty() {
                            if !d.is_empty() {
                                d.push(' ');
                            }
                            d.push_str(&format!("(one of: {})", a.choices.join(", ")));
                        }
                        if !d.is_empty() {
                            arg = arg.with_description(d);
                        }
                        arg
                    })
                    .collect::<Vec<_>>();
                let mut prompt = Prompt::new(&p.name, p.description.clone(), Some(args));
                if let Some(t) = &p.title {
                    prompt = prompt.with_title(t);
                }
                prompt
            })
            .collect()
    }

    /// A rendered prompt as messages: each piece of text one message, each
    /// `{{resource:URI}}` one embedded resource (a URI without a scheme is a path in the roots).
    pub(crate) async fn prompt_messages(
        &self,
        rendered: Vec<crate::prompts::Message>,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<Vec<PromptMessage>, McpError> {
        let mut out = Vec::new();
        for (who, pieces) in rendered {
            let role = match who {
                Speaker::User => Role::User,
                Speaker::Assistant => Role::Assistant,
            };
            for piece in pieces {
                match piece {
                    Piece::Text(t) => out.push(PromptMessage::new_text(role.clone(), t)),
                    Piece::Resource(uri) => {
                        let uri = if uri.contains("://") {
                            uri
                        } else {
                            let scope = self.file_scope(ctx).await;
                            let path = uri.clone();
                            let (resolved, size) = tokio::task::spawn_blocking(move || {
                                let r = scope.existing(&path)?;
                                let size = std::fs::metadata(&r.path).map(|m| m.len()).unwrap_or(0);
                                Ok::<_, crate::policy::PolicyError>((r, size))
                            })
                            .await
                            .map_err(|e| McpError::internal_error(e.to_string(), None))?
                            .map_err(|e| McpError::invalid_params(e.to_string(), None))?;
                            let limit = self.settings.files.max_media_bytes;
                            if size > limit {
                                out.push(PromptMessage::new_text(
                                    role.clone(),
                                    format!(
                                        "(`{uri}` is {size} bytes, too large to attach (files.max_media_bytes is {limit}); read it in parts with read_file)"
                                    ),
                                ));
                                continue;
                            }
                            crate::support::uri::path_to_file_uri(&resolved.path)
                        };
                        let (mime, body) = self.read_own(&uri, ctx).await.map_err(|e| {
                            McpError::invalid_params(
                                format!(
                                    "the prompt embeds `{uri}`, which cannot be read: {}",
                                    e.message
                                ),
                                None,
                            )
                        })?;
                        out.push(PromptMessage::new(
                            role.clone(),
                            rmcp::model::ContentBlock::resource(to_contents(&uri, mime, body)),
                        ));
                    }
                }
            }
        }
        Ok(out)
    }
}
