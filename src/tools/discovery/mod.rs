//! Discovery tools: how a model reaches the whole catalogue when `tools/list` shows only a
//! small core (`tools.exposure: compact`, or `auto` over its budget). `search_tools` finds
//! tools by what they do; `call_tool` runs one by name exactly as a direct call would;
//! `run_workflow` runs a script of many such calls. All see only the tools this configuration
//! offers. This file is the registry.

crate::tools::registry! {
    None;
    call_tool => call_tool_router,
    run_workflow => run_workflow_router,
    search_tools => search_tools_router,
}

#[cfg(test)]
mod quality;

use rmcp::model::Tool;

/// What a `tools/list` answer holding `tools` costs a model's context, in cl100k tokens.
pub fn list_tokens(tools: &[Tool]) -> usize {
    crate::support::tokens::count(&payload(tools))
}

/// [`list_tokens`] estimated from the size, without the encoder or a copy of the text: what
/// `auto` exposure compares with `tools.auto_budget_tokens`.
pub fn list_tokens_estimate(tools: &[Tool]) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut n = Count(0);
    let _ = serde_json::to_writer(&mut n, &Payload { tools });
    crate::support::tokens::estimate_bytes(n.0)
}

/// A `tools/list` result as it goes on the wire.
#[derive(serde::Serialize)]
struct Payload<'a> {
    tools: &'a [Tool],
}

fn payload(tools: &[Tool]) -> String {
    serde_json::to_string(&Payload { tools }).unwrap_or_default()
}
