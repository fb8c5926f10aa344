//! The `workflow` section validated: the limits of one `run_workflow` script, each non-zero and
//! within what the engine can honour.

use std::path::Path;
use std::time::Duration;

use super::raw::RawWorkflow;
use super::{ConfigError, nonzero};

/// The limits of one run, and the longest script accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowSettings {
    pub limits: crate::workflow::Limits,
    pub max_script_bytes: usize,
    /// `workflow.max_runs`: runs at once in a session.
    pub max_runs: usize,
}

pub(super) fn workflow_settings(
    raw: &RawWorkflow,
    file: Option<&Path>,
) -> Result<WorkflowSettings, ConfigError> {
    nonzero(
        file,
        &[
            ("workflow.timeout_secs", raw.timeout_secs),
            ("workflow.max_memory_bytes", raw.max_memory_bytes),
            ("workflow.max_stack_bytes", raw.max_stack_bytes),
            ("workflow.max_calls", u64::from(raw.max_calls)),
            ("workflow.max_parallel", raw.max_parallel as u64),
            ("workflow.max_result_bytes", raw.max_result_bytes),
            ("workflow.max_output_bytes", raw.max_output_bytes),
            ("workflow.max_console_bytes", raw.max_console_bytes),
            ("workflow.max_script_bytes", raw.max_script_bytes),
            ("workflow.max_runs", raw.max_runs as u64),
        ],
    )?;
    // The engine needs some room to start; its thread's stack is sized from the stack limit.
    if raw.max_memory_bytes < 1024 * 1024 {
        return Err(ConfigError::new(
            file,
            "workflow.max_memory_bytes",
            "must be at least 1048576 (1 MiB)",
        ));
    }
    if raw.max_stack_bytes < 64 * 1024 || raw.max_stack_bytes > 256 * 1024 * 1024 {
        return Err(ConfigError::new(
            file,
            "workflow.max_stack_bytes",
            "must be between 65536 and 268435456",
        ));
    }
    let size = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    Ok(WorkflowSettings {
        limits: crate::workflow::Limits {
            timeout: Duration::from_secs(raw.timeout_secs),
            max_memory: size(raw.max_memory_bytes),
            max_stack: size(raw.max_stack_bytes),
            max_calls: raw.max_calls,
            max_parallel: raw.max_parallel,
            max_result_bytes: raw.max_result_bytes,
            max_output_bytes: size(raw.max_output_bytes),
            max_console_bytes: size(raw.max_console_bytes),
        },
        max_script_bytes: size(raw.max_script_bytes),
        max_runs: raw.max_runs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_engine_defaults_and_bad_values_name_their_key() {
        let s = workflow_settings(&RawWorkflow::default(), None).unwrap();
        assert_eq!(s.limits, crate::workflow::Limits::default());
        let e = workflow_settings(
            &RawWorkflow {
                max_parallel: 0,
                ..RawWorkflow::default()
            },
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("workflow.max_parallel"), "{e}");
        let e = workflow_settings(
            &RawWorkflow {
                max_stack_bytes: 10,
                ..RawWorkflow::default()
            },
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("workflow.max_stack_bytes"), "{e}");
    }
}
