//! `browser_fill`: fills several form fields at once, each as its kind takes a value (text
//! typed, an option selected, a checkbox set), optionally submitting with Enter, then answers
//! with the page.

use serde::Serialize;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "type text input form fields login username password select option dropdown checkbox radio web page fill in";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserFillArgs {
    /// The fields, in order.
    pub fields: Vec<Field>,
    /// Press Enter in the last field afterwards (submits most forms).
    #[serde(default)]
    pub submit: bool,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The field's ref from the last snapshot, e.g. "e12".
    #[serde(rename = "ref")]
    pub element: String,
    /// Text to type; for a select the option's value or label; for a checkbox or radio true or false.
    pub value: String,
}

#[tool_router(router = browser_fill_router, vis = "pub(crate)")]
impl Switchboard {
    /// Fill form fields of the browser's page by ref: type into text fields, pick select options, set checkboxes; submit presses Enter. Answers with the page after.
    #[tool(annotations(
        title = "Fill a form in the browser",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub async fn browser_fill(
        &self,
        Parameters(args): Parameters<BrowserFillArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        if args.fields.is_empty() {
            return Err(ToolError::invalid(
                "fields is empty: give each field's ref (from browser_snapshot) and value",
            ));
        }
        let timeout = self.browser_timeout();
        let mut running = self.browser_for(&ctx).await?;
        let page = running.ready(timeout).await?;
        let mut done = Vec::new();
        for f in &args.fields {
            if page.dialog().is_some() {
                done.push(format!("stopped before {}: a dialog opened", f.element));
                break;
            }
            match page.set_field(&f.element, &f.value).await {
                Ok(d) => done.push(d),
                Err(e) if done.is_empty() => return Err(e.into()),
                Err(e) => {
                    done.push(format!("{}: {}", f.element, ToolError::from(e)));
                    break;
                }
            }
        }
        if args.submit && page.dialog().is_none() && done.len() == args.fields.len() {
            if let Some(last) = args.fields.last() {
                page.focus(&last.element).await?;
            }
            page.press("Enter").await?;
            done.push("submitted with Enter".into());
        }
        super::settle(page, timeout).await;
        let done = format!("Filled: {}.", done.join("; "));
        super::report(self, &mut running, &done, 0).await
    }
}
