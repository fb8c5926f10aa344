//! `run_code`: run source code in one of the interpreters found on PATH at start-up (the
//! tool's schema lists exactly those). The source is written to the call's scratch dir and run
//! with every limit of `run_command`. Python uses switchboard's managed venv once
//! `install_package` has created it, and Node finds the managed npm packages.

use std::ffi::OsString;

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::run_planned;
use crate::exec::EnvArgs;
use crate::exec::interpreters::{interpreters, npm_dir, venv_dir};
use crate::policy::exec::ExecRequest;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "code snippet script python node javascript js typescript ruby inline evaluate expression compute calculate interpreter";

/// Lists the languages found on this machine in the tool's schema; false when there are none
/// (the tool is not offered).
pub(crate) fn fit(tool: &mut rmcp::model::Tool) -> bool {
    let languages: Vec<Value> = interpreters()
        .iter()
        .map(|i| Value::String(i.language.into()))
        .collect();
    if languages.is_empty() {
        return false;
    }
    let schema = std::sync::Arc::make_mut(&mut tool.input_schema);
    if let Some(Value::Object(props)) = schema.get_mut("properties")
        && let Some(Value::Object(lang)) = props.get_mut("language")
    {
        lang.insert("enum".into(), json!(languages));
    }
    true
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunCodeArgs {
    /// The language; one of the interpreters installed here.
    pub language: String,
    /// The source code.
    pub code: String,
    /// Arguments passed to the script.
    #[serde(default)]
    pub args: Vec<String>,
    /// Working directory inside the roots; default: the first root.
    pub cwd: Option<String>,
    /// Extra environment variables.
    #[serde(default)]
    pub env: EnvArgs,
    /// Text sent to stdin.
    pub stdin: Option<String>,
    /// Seconds before the process tree is killed (default 30).
    pub timeout_secs: Option<u64>,
}

#[tool_router(router = run_code_router, vis = "pub(crate)")]
impl Switchboard {
    /// Run source code (Python, Node, ...) and wait for it; Python sees packages added with install_package. Same limits and result as run_command.
    #[tool(
        annotations(
            title = "Run code",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = true
        ),
        output_schema = super::run_output_schema()
    )]
    pub async fn run_code(
        &self,
        Parameters(args): Parameters<RunCodeArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let lang = args.language.trim().to_ascii_lowercase();
        let lang = match lang.as_str() {
            "python3" | "py" => "python",
            "javascript" | "js" | "nodejs" => "node",
            "typescript" | "ts" => "deno",
            "shell" => "sh",
            other => other,
        };
        let Some(interp) = interpreters().iter().find(|i| i.language == lang).cloned() else {
            let have: Vec<&str> = interpreters().iter().map(|i| i.language).collect();
            return Err(ToolError::invalid(format!(
                "no `{}` interpreter is installed here; available: {}",
                args.language,
                have.join(", ")
            )));
        };
        let data_dir = self.settings.profile.data_dir.clone();
        let mut env = args.env;
        let mut program = interp.program.clone();
        match interp.language {
            "python" => {
                let venv_python = venv_dir(&data_dir).join("bin/python");
                if venv_python.exists() {
                    program = venv_python;
                }
                env.entry("PYTHONDONTWRITEBYTECODE".into())
                    .or_insert("1".into());
            }
            "node" => {
                let modules = npm_dir(&data_dir).join("node_modules");
                if modules.is_dir() {
                    env.entry("NODE_PATH".into())
                        .or_insert(modules.display().to_string());
                }
            }
            _ => {}
        }
        let req = ExecRequest {
            cwd: args.cwd,
            env,
            timeout_secs: args.timeout_secs,
            ..ExecRequest::default()
        };
        let (code, script_args) = (args.code, args.args);
        run_planned(self, &ctx, req, args.stdin, move |plan| {
            let file = plan.scratch.path().join(format!("main.{}", interp.ext));
            std::fs::write(&file, code).map_err(|e| ToolError::io(file.display(), e))?;
            let mut argv: Vec<OsString> = vec![program.into_os_string()];
            argv.extend(interp.args.iter().map(OsString::from));
            argv.push(file.into_os_string());
            argv.extend(script_args.into_iter().map(OsString::from));
            Ok(argv)
        })
        .await
    }
}
