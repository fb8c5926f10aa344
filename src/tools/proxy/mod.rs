//! Tools about the child servers themselves: their state, a restart, and approving a tool whose
//! definition changed. Registered only when a servers file is configured. This file is the
//! registry.

crate::tools::registry! {
    Some(crate::policy::tools::Category::Proxy);
    proxy_approve => proxy_approve_router,
    proxy_restart => proxy_restart_router,
    proxy_status => proxy_status_router,
}

use std::sync::Arc;

use crate::proxy::Hub;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// The running proxy, or an error saying how to configure one.
pub(crate) fn hub(sb: &Switchboard) -> Result<&Arc<Hub>, ToolError> {
    sb.hub().ok_or_else(|| {
        ToolError::invalid(
            "no child servers are running: give a servers_config.json with --servers or proxy.servers_config",
        )
    })
}

/// The child named `server` (its name in the servers file, or its alias).
pub(crate) fn child(hub: &Hub, server: &str) -> Result<Arc<crate::proxy::child::Child>, ToolError> {
    hub.child(server)
        .or_else(|| hub.children().into_iter().find(|c| c.alias == server))
        .ok_or_else(|| {
            let names: Vec<String> = hub.children().iter().map(|c| c.name.clone()).collect();
            ToolError::invalid(format!(
                "no server `{server}`; the servers are: {}",
                names.join(", ")
            ))
        })
}
