//! System and time tools: what machine this is, its processes, environment and executables,
//! and the time in any zone. They read the machine through the OS, never the file tools' roots;
//! `kill_process` is the only one that changes anything. This file is the registry.

crate::tools::registry! {
    Some(crate::policy::tools::Category::System);
    convert_time => convert_time_router,
    current_time => current_time_router,
    get_environment => get_environment_router,
    kill_process => kill_process_router,
    list_processes => list_processes_router,
    system_info => system_info_router,
    which => which_router,
}

/// An IANA zone by name, `local` (or nothing) for the machine's own zone.
pub(crate) fn zone(name: Option<&str>) -> Result<jiff::tz::TimeZone, crate::tools::ToolError> {
    match name.map(str::trim) {
        None | Some("") | Some("local") => Ok(jiff::tz::TimeZone::system()),
        Some(n) => jiff::tz::TimeZone::get(n).map_err(|_| {
            crate::tools::ToolError::invalid(format!(
                "`{n}` is not an IANA time zone; use names like Europe/Paris, America/New_York, Asia/Tokyo or UTC"
            ))
        }),
    }
}

/// The zone's IANA name, or `local` when the system zone has none.
pub(crate) fn zone_name(tz: &jiff::tz::TimeZone) -> String {
    tz.iana_name().unwrap_or("local").to_owned()
}

/// A process table with what these tools show: CPU, memory, user and command line (threads
/// are not listed as processes). With `cpu_sample`, CPU use is measured over a short window.
pub(crate) fn process_table(cpu_sample: bool) -> Result<sysinfo::System, crate::tools::ToolError> {
    use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};
    let mut sys = System::new().map_err(|e| {
        crate::tools::ToolError::Internal(format!("process information is unavailable: {e}"))
    })?;
    let kind = ProcessRefreshKind::nothing()
        .with_cpu()
        .with_memory()
        .with_user(UpdateKind::OnlyIfNotSet)
        .with_cmd(UpdateKind::OnlyIfNotSet);
    sys.refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
    if cpu_sample {
        // CPU use is a rate: it needs two samples.
        std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
        sys.refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
    }
    Ok(sys)
}
