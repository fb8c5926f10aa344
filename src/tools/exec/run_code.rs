//! `run_code`: run source code in one of the interpreters found on PATH at start-up (the
//! tool's schema lists exactly those). The source is written to the call's scratch dir and run
//! with every limit of `run_command`. Python uses switchboard's managed venv once
//! `install_package` has created it, and Node finds the managed npm packages.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{EnvArgs, run_planned};
use crate::policy::exec::ExecRequest;
use crate::server::Switchboard;
use crate::support::process::find_on_path;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "code snippet script python node javascript js typescript ruby inline evaluate expression compute calculate interpreter";

/// Languages switchboard knows: name, programs to look for (first found wins), arguments
/// before the file, file extension.
const KNOWN: &[(&str, &[&str], &[&str], &str)] = &[
    ("python", &["python3", "python"], &[], "py"),
    ("node", &["node"], &[], "js"),
    ("deno", &["deno"], &["run", "--quiet", "--allow-all"], "ts"),
    ("bash", &["bash"], &[], "sh"),
    ("sh", &["sh"], &[], "sh"),
    ("ruby", &["ruby"], &[], "rb"),
    ("perl", &["perl"], &[], "pl"),
    ("php", &["php"], &[], "php"),
    ("lua", &["lua", "lua5.4", "lua5.3"], &[], "lua"),
    ("r", &["Rscript"], &[], "R"),
];

#[derive(Debug, Clone)]
pub struct Interpreter {
    pub language: &'static str,
    pub program: PathBuf,
    pub args: &'static [&'static str],
    pub ext: &'static str,
}

/// The interpreters on switchboard's PATH, found once per process.
pub fn interpreters() -> &'static [Interpreter] {
    static FOUND: OnceLock<Vec<Interpreter>> = OnceLock::new();
    FOUND.get_or_init(|| detect(&std::env::var_os("PATH").unwrap_or_default()))
}

pub fn detect(path_var: &std::ffi::OsStr) -> Vec<Interpreter> {
    KNOWN
        .iter()
        .filter_map(|(language, programs, args, ext)| {
            let program = programs.iter().find_map(|p| find_on_path(p, path_var))?;
            Some(Interpreter {
                language,
                program,
                args,
                ext,
            })
        })
        .collect()
}

/// Lists the found languages in the schema, or removes the tool when there are none.
pub(crate) fn fit_schema(router: &mut ToolRouter<Switchboard>) {
    let languages: Vec<Value> = interpreters()
        .iter()
        .map(|i| Value::String(i.language.into()))
        .collect();
    if languages.is_empty() {
        router.remove_route("run_code");
        return;
    }
    if let Some(route) = router.map.get_mut("run_code") {
        let mut schema = route.attr.input_schema.as_ref().clone();
        if let Some(Value::Object(props)) = schema.get_mut("properties")
            && let Some(Value::Object(lang)) = props.get_mut("language")
        {
            lang.insert("enum".into(), json!(languages));
        }
        route.attr.input_schema = std::sync::Arc::new(schema);
    }
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

/// The managed Python venv and npm prefix of a profile (created by `install_package`).
pub fn venv_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("venv")
}

pub fn npm_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("npm")
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

#[cfg(test)]
mod tests {
    #[test]
    fn detects_only_what_is_on_path() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("ruby");
        std::fs::write(&fake, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let found = super::detect(dir.path().as_os_str());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].language, "ruby");
        assert_eq!(found[0].program, fake);
    }
}
