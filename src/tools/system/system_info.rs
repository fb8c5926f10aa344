//! `system_info`: the machine switchboard runs on: OS, kernel, CPU, memory, disks, uptime, and
//! switchboard's own version, profile and data folder.

use rmcp::handler::server::wrapper::Json;
use rmcp::{tool, tool_router};

use crate::server::Switchboard;
pub use crate::system::{Disk, SystemInfoOutput, system_info};
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "machine computer system os operating version kernel cpu cores ram memory disk space free uptime load hardware specs";

#[tool_router(router = system_info_router, vis = "pub(crate)")]
impl Switchboard {
    /// Describe this machine: OS, CPU, load, memory, disks and uptime, and switchboard's version.
    #[tool(annotations(
        title = "System information",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn system_info(&self) -> Result<Json<SystemInfoOutput>, ToolError> {
        let profile = self.settings.profile.clone();
        blocking(move || system_info(&profile.name, &profile.data_dir).map(Json)).await
    }
}
