//! `http_request`: any HTTP method to a URL the network guard allows, with headers, query, a
//! text or JSON body and an optional named credential (its secret never passes through the
//! model). Returns status, selected headers and the body as text, JSON or base64.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};

use crate::server::Switchboard;
use crate::tools::ToolError;
pub use crate::web::request::{HttpMethod, HttpRequestArgs, HttpResponse, http_request};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "http api rest endpoint request curl get post put patch delete method headers json body status code graphql call bearer token";

#[tool_router(router = http_request_router, vis = "pub(crate)")]
impl Switchboard {
    /// Send an HTTP request (any method); returns status, key headers and the body (text, JSON or base64). A non-2xx status is a normal result. Use `credential` for configured API keys; private addresses need config.
    #[tool(annotations(
        title = "HTTP request",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub async fn http_request(
        &self,
        Parameters(args): Parameters<HttpRequestArgs>,
    ) -> Result<Json<HttpResponse>, ToolError> {
        let net = self.net()?;
        http_request(&net, &self.settings.web.credentials, args)
            .await
            .map(Json)
    }
}
