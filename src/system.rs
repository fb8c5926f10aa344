//! The machine switchboard runs on, read through the OS without protocol types: what
//! `system_info` and the `switchboard://system` resource report.

use schemars::JsonSchema;
use serde::Serialize;

use crate::error::ToolError;

#[derive(Debug, Serialize, JsonSchema)]
pub struct Disk {
    pub mount_point: String,
    pub file_system: String,
    pub total_bytes: u64,
    pub available_bytes: u64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SystemInfoOutput {
    pub os: String,
    pub os_version: String,
    pub kernel: String,
    pub hostname: String,
    pub arch: String,
    pub cpu_model: String,
    pub logical_cpus: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physical_cores: Option<usize>,
    /// 1, 5 and 15 minute load averages.
    pub load_average: [f64; 3],
    pub memory_total_bytes: u64,
    pub memory_available_bytes: u64,
    pub swap_total_bytes: u64,
    pub swap_used_bytes: u64,
    pub disks: Vec<Disk>,
    pub uptime_seconds: u64,
    pub switchboard_version: String,
    pub profile: String,
    pub data_dir: String,
}

/// Gathers the facts. Anything the OS will not tell is reported as empty or zero.
pub fn system_info(
    profile: &str,
    data_dir: &std::path::Path,
) -> Result<SystemInfoOutput, ToolError> {
    use sysinfo::System;
    let mut sys = System::new()
        .map_err(|e| ToolError::Internal(format!("system information is unavailable: {e}")))?;
    sys.refresh_memory();
    sys.refresh_cpu_all();
    let cpu_model = sys
        .cpus()
        .first()
        .map(|c| c.brand().trim().to_owned())
        .unwrap_or_default();
    let load = System::load_average().ok();
    let mut disks: Vec<Disk> = sysinfo::Disks::new_with_refreshed_list()
        .map(|d| {
            d.iter()
                .map(|d| Disk {
                    mount_point: d.mount_point().display().to_string(),
                    file_system: d.file_system().to_string_lossy().into_owned(),
                    total_bytes: d.total_space(),
                    available_bytes: d.available_space(),
                })
                .collect()
        })
        .unwrap_or_default();
    disks.sort_by(|a, b| a.mount_point.cmp(&b.mount_point));
    disks.dedup_by(|a, b| a.mount_point == b.mount_point);
    Ok(SystemInfoOutput {
        os: System::name().unwrap_or_default(),
        os_version: System::long_os_version()
            .or_else(|_| System::os_version())
            .unwrap_or_default(),
        kernel: System::kernel_version().unwrap_or_default(),
        hostname: System::host_name().unwrap_or_default(),
        arch: System::cpu_arch(),
        cpu_model,
        logical_cpus: sys
            .cpus()
            .len()
            .max(std::thread::available_parallelism().map_or(1, |n| n.get())),
        physical_cores: System::physical_core_count().ok(),
        load_average: load.map_or([0.0; 3], |l| [l.one, l.five, l.fifteen]),
        memory_total_bytes: sys.total_memory(),
        memory_available_bytes: sys.available_memory(),
        swap_total_bytes: sys.total_swap(),
        swap_used_bytes: sys.used_swap(),
        disks,
        uptime_seconds: System::uptime().unwrap_or_default(),
        switchboard_version: env!("CARGO_PKG_VERSION").to_owned(),
        profile: profile.to_owned(),
        data_dir: data_dir.display().to_string(),
    })
}
