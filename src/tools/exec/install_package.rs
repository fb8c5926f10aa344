//! `install_package`: add Python packages to switchboard's managed venv (which `run_code`
//! python uses) or npm packages to its managed prefix, one of each per profile. Names are
//! checked before anything runs: the registries' naming rules, a blocklist of known malicious
//! names (built in, plus `exec.packages.deny`), and a look-alike check against popular names
//! (`reqeusts`, `python3-dateutil`); `exec.packages.allow` lets a real package through.
//! The install itself runs under the execution policy, with network access.

use std::ffi::OsString;
use std::path::Path;

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::run_plan;
use crate::exec::exit_parts;
use crate::exec::interpreters::{interpreters, npm_dir, venv_dir};
use crate::policy::exec::ExecRequest;
use crate::server::Switchboard;
use crate::support::process::Exit;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "install pip npm package library dependency module add requirement venv";

const MAX_PACKAGES: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Manager {
    /// Python packages from PyPI, into the managed venv.
    Pip,
    /// npm packages, into the managed prefix (Node's NODE_PATH in run_code).
    Npm,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallPackageArgs {
    pub manager: Manager,
    /// Package names, optionally with a version: `requests`, `numpy==2.1.0`, `lodash@4`.
    pub packages: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Installed {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct InstallPackageOutput {
    pub manager: Manager,
    /// What pip or npm installed (for pip, dependencies included).
    pub installed: Vec<Installed>,
    /// The managed venv or npm prefix.
    pub location: String,
    pub duration_ms: u64,
    pub sandboxed: bool,
    /// Notes about the install.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Popular PyPI names (PEP 503 normalised) that look-alikes are compared with.
const POPULAR_PYPI: &[&str] = &[
    "requests",
    "urllib3",
    "numpy",
    "pandas",
    "python-dateutil",
    "setuptools",
    "certifi",
    "charset-normalizer",
    "idna",
    "typing-extensions",
    "packaging",
    "pyyaml",
    "botocore",
    "boto3",
    "s3transfer",
    "cryptography",
    "cffi",
    "pycparser",
    "jmespath",
    "attrs",
    "protobuf",
    "pydantic",
    "pydantic-core",
    "click",
    "jinja2",
    "markupsafe",
    "wheel",
    "platformdirs",
    "pytz",
    "rsa",
    "pyasn1",
    "colorama",
    "filelock",
    "virtualenv",
    "pyjwt",
    "jsonschema",
    "werkzeug",
    "flask",
    "django",
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "psycopg2",
    "psycopg2-binary",
    "pillow",
    "scipy",
    "matplotlib",
    "scikit-learn",
    "tensorflow",
    "torch",
    "transformers",
    "tqdm",
    "beautifulsoup4",
    "lxml",
    "aiohttp",
    "httpx",
    "httpcore",
    "anyio",
    "sniffio",
    "pytest",
    "pluggy",
    "iniconfig",
    "tomli",
    "openai",
    "anthropic",
    "selenium",
    "paramiko",
    "pyopenssl",
    "grpcio",
    "google-api-core",
    "redis",
    "pymongo",
    "celery",
    "docutils",
    "pygments",
    "rich",
    "tabulate",
    "openpyxl",
    "xlrd",
    "simplejson",
    "ujson",
    "orjson",
    "websockets",
    "networkx",
    "sympy",
    "jsonpath-ng",
    "python-dotenv",
    "mcp",
    "six",
    "decorator",
    "wrapt",
    "psutil",
    "greenlet",
    "regex",
    "pyparsing",
];

/// Popular npm names.
const POPULAR_NPM: &[&str] = &[
    "lodash",
    "react",
    "react-dom",
    "express",
    "axios",
    "chalk",
    "commander",
    "debug",
    "moment",
    "request",
    "typescript",
    "webpack",
    "vue",
    "next",
    "uuid",
    "dotenv",
    "jquery",
    "underscore",
    "async",
    "bluebird",
    "yargs",
    "minimist",
    "glob",
    "rimraf",
    "mkdirp",
    "semver",
    "fs-extra",
    "body-parser",
    "cors",
    "cross-env",
    "eslint",
    "prettier",
    "jest",
    "mocha",
    "chai",
    "babel-core",
    "@babel/core",
    "core-js",
    "rxjs",
    "tslib",
    "classnames",
    "prop-types",
    "redux",
    "react-redux",
    "styled-components",
    "socket.io",
    "mongoose",
    "mongodb",
    "mysql",
    "mysql2",
    "pg",
    "sqlite3",
    "sequelize",
    "nodemailer",
    "jsonwebtoken",
    "bcrypt",
    "bcryptjs",
    "dayjs",
    "date-fns",
    "ws",
    "node-fetch",
    "cheerio",
    "puppeteer",
    "playwright",
    "sharp",
    "zod",
    "vite",
    "esbuild",
    "rollup",
    "ora",
    "inquirer",
    "colors",
    "electron",
    "discord.js",
    "ffmpeg",
    "opencv",
    "openssl",
    "coffee-script",
    "gulp",
    "grunt",
    "grunt-cli",
    "nodemon",
    "pm2",
    "http-proxy",
    "fabric",
    "d3",
    "three",
    "@modelcontextprotocol/sdk",
];

/// Names published as malware or typo-squats on the registries (a sample; extend it with
/// `exec.packages.deny`).
const BLOCKED_PYPI: &[&str] = &[
    "colourama",
    "python3-dateutil",
    "jeilyfish",
    "urlib3",
    "urllib",
    "acqusition",
    "apidev-coop",
    "bzip",
    "crypt",
    "django-server",
    "pwd",
    "setup-tools",
    "telnet",
    "urlib",
    "libpeshnx",
    "noblesse",
    "pytagora",
    "beautfulsoup",
    "request",
];
const BLOCKED_NPM: &[&str] = &[
    "crossenv",
    "cross-env.js",
    "d3.js",
    "fabric-js",
    "ffmepg",
    "gruntcli",
    "http-proxy.js",
    "jquery.js",
    "mongose",
    "mssql.js",
    "mssql-node",
    "mysqljs",
    "node-fabric",
    "node-opencv",
    "node-opensl",
    "node-openssl",
    "node-sqlite",
    "node-tkinter",
    "nodecaffe",
    "nodefabric",
    "nodeffmpeg",
    "nodemailer-js",
    "nodemailer.js",
    "nodemssql",
    "noderequest",
    "nodesass",
    "nodesqlite",
    "opencv.js",
    "openssl.js",
    "proxy.js",
    "shadowsock",
    "smb",
    "sqlite.js",
    "sqliter",
    "sqlserver",
    "tkinter",
    "electorn",
    "discordi.js",
    "loadyaml",
];

/// PEP 503 normalisation: lower case, runs of `-_.` become `-`.
pub fn normalize_pypi(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Splits and validates one requirement; returns the normalised name.
pub fn parse_spec(manager: Manager, spec: &str) -> Result<String, String> {
    let spec = spec.trim();
    let bad = |why: &str| {
        Err(format!(
            "`{spec}` is not a valid {manager:?} package: {why}"
        ))
    };
    if spec.is_empty() || spec.len() > 214 {
        return bad("give a name of 1 to 214 characters");
    }
    if spec.starts_with('-') {
        return bad("options are not accepted, only package names");
    }
    match manager {
        Manager::Pip => {
            let end = spec
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
                .unwrap_or(spec.len());
            let (name, rest) = spec.split_at(end);
            let edges_ok = name.starts_with(|c: char| c.is_ascii_alphanumeric())
                && name.ends_with(|c: char| c.is_ascii_alphanumeric());
            if name.is_empty() || !edges_ok {
                return bad(
                    "names use letters, digits, `.`, `_` and `-`, starting and ending with a letter or digit",
                );
            }
            let rest = match rest.strip_prefix('[') {
                Some(r) => match r.split_once(']') {
                    Some((extras, after))
                        if extras.split(',').all(|e| {
                            !e.is_empty()
                                && e.chars()
                                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
                        }) =>
                    {
                        after
                    }
                    _ => return bad("extras are written `name[extra1,extra2]`"),
                },
                None => rest,
            };
            if !rest.is_empty() {
                let ok = rest.split(',').all(|clause| {
                    let v = ["===", "==", ">=", "<=", "~=", "!=", ">", "<"]
                        .iter()
                        .find_map(|op| clause.strip_prefix(op));
                    v.is_some_and(|v| {
                        !v.is_empty()
                            && v.chars()
                                .all(|c| c.is_ascii_alphanumeric() || ".*+!-".contains(c))
                    })
                });
                if !ok {
                    return bad(
                        "a version is written like `==1.2.3` or `>=2,<3` (no URLs or paths)",
                    );
                }
            }
            Ok(normalize_pypi(name))
        }
        Manager::Npm => {
            let (scope, body) = match spec.strip_prefix('@') {
                Some(r) => match r.split_once('/') {
                    Some((s, b)) => (Some(s), b),
                    None => return bad("a scoped name is written `@scope/name`"),
                },
                None => (None, spec),
            };
            let (name, version) = match body.split_once('@') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            let part_ok = |p: &str| {
                p.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                    && p.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-._~".contains(c))
            };
            if !part_ok(name) || scope.is_some_and(|s| !part_ok(s)) {
                return bad("npm names are lower case: letters, digits, `-`, `.`, `_`, `~`");
            }
            if let Some(v) = version
                && (v.is_empty()
                    || !v
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".^~<>=*|+-".contains(c)))
            {
                return bad(
                    "a version is written like `@4`, `@^4.17.0` or `@latest` (no URLs, paths or git refs)",
                );
            }
            Ok(match scope {
                Some(s) => format!("@{s}/{name}"),
                None => name.to_owned(),
            })
        }
    }
}

/// Why `name` (normalised) must not be installed, or `None`.
pub fn refusal(manager: Manager, name: &str, allow: &[String], deny: &[String]) -> Option<String> {
    let same = |list: &[String]| {
        list.iter().any(|a| match manager {
            Manager::Pip => normalize_pypi(a) == name,
            Manager::Npm => a == name,
        })
    };
    if same(deny) {
        return Some(format!(
            "`{name}` is on the blocklist in exec.packages.deny"
        ));
    }
    if same(allow) {
        return None;
    }
    let (blocked, popular) = match manager {
        Manager::Pip => (BLOCKED_PYPI, POPULAR_PYPI),
        Manager::Npm => (BLOCKED_NPM, POPULAR_NPM),
    };
    if blocked.contains(&name) {
        return Some(format!(
            "`{name}` is a known malicious or typo-squatting package name and is blocked"
        ));
    }
    if popular.contains(&name) {
        return None;
    }
    let squash = |s: &str| {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
    };
    for p in popular {
        let close = name.chars().count() >= 5 && edit_distance(name, p) == 1;
        if close || squash(name) == squash(p) {
            return Some(format!(
                "`{name}` looks like the popular package `{p}` (a common typo-squatting trick). Did you mean `{p}`? If `{name}` is really wanted, the user can add it to exec.packages.allow"
            ));
        }
    }
    None
}

/// Damerau–Levenshtein distance (optimal string alignment), for short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// Checks every requested package; all must pass before anything is installed.
pub fn check_all(
    manager: Manager,
    packages: &[String],
    allow: &[String],
    deny: &[String],
) -> Result<Vec<String>, ToolError> {
    if packages.is_empty() || packages.len() > MAX_PACKAGES {
        return Err(ToolError::invalid(format!(
            "give 1 to {MAX_PACKAGES} packages"
        )));
    }
    let mut names = Vec::new();
    for spec in packages {
        let name = parse_spec(manager, spec).map_err(ToolError::invalid)?;
        if let Some(why) = refusal(manager, &name, allow, deny) {
            return Err(ToolError::invalid(format!("{why}. Nothing was installed.")));
        }
        names.push(name);
    }
    Ok(names)
}

fn failure(what: &str, o: &crate::support::process::RunOutcome) -> ToolError {
    let (code, signal) = exit_parts(o.exit);
    let how = if o.timed_out {
        "timed out (exec.packages.timeout_secs)".to_owned()
    } else {
        match (code, signal) {
            (Some(c), _) => format!("exited with code {c}"),
            (_, Some(s)) => format!("was killed by {s}"),
            _ => "failed".to_owned(),
        }
    };
    let err = &o.stderr.text;
    let tail: String = err
        .chars()
        .skip(err.chars().count().saturating_sub(2000))
        .collect();
    ToolError::invalid(format!("{what} {how}. Its last output:\n{tail}"))
}

#[tool_router(router = install_package_router, vis = "pub(crate)")]
impl Switchboard {
    /// Install pip packages into the venv run_code python uses, or npm packages for run_code node. Names are checked against a blocklist and look-alikes first. Returns what was installed.
    #[tool(annotations(
        title = "Install package",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    pub async fn install_package(
        &self,
        Parameters(args): Parameters<InstallPackageArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<InstallPackageOutput>, ToolError> {
        let s = self.exec.settings.clone();
        let names = check_all(
            args.manager,
            &args.packages,
            &s.packages_allow,
            &s.packages_deny,
        )?;
        let specs: Vec<String> = args.packages.iter().map(|p| p.trim().to_owned()).collect();
        let data_dir = self.settings.profile.data_dir.clone();
        let location = match args.manager {
            Manager::Pip => venv_dir(&data_dir),
            Manager::Npm => npm_dir(&data_dir),
        };
        std::fs::create_dir_all(&location).map_err(|e| ToolError::io(location.display(), e))?;
        let scope = self.file_scope(&ctx).await;
        let plan_for = |network: bool| ExecRequest {
            extra_writable: vec![location.clone()],
            network,
            package_manager: true,
            ..ExecRequest::default()
        };
        let started = std::time::Instant::now();
        let sandboxed;
        let mut notes = Vec::new();
        let installed = match args.manager {
            Manager::Pip => {
                let python = venv_dir(&data_dir).join("bin/python");
                if !python.exists() {
                    let Some(system) = interpreters().iter().find(|i| i.language == "python")
                    else {
                        return Err(ToolError::invalid(
                            "no python3 is installed here, so there is no venv to install into",
                        ));
                    };
                    let mut plan = self.exec.plan(&scope, plan_for(false)).await?;
                    plan.timeout = s.packages_timeout;
                    let argv: Vec<OsString> = vec![
                        system.program.clone().into(),
                        "-m".into(),
                        "venv".into(),
                        location.clone().into(),
                    ];
                    let (o, review) = run_plan(self, &ctx, &mut plan, argv, None).await?;
                    notes.extend(review);
                    if o.exit != Exit::Code(0) {
                        return Err(failure("creating the venv", &o));
                    }
                }
                let mut plan = self.exec.plan(&scope, plan_for(true)).await?;
                plan.timeout = s.packages_timeout;
                sandboxed = plan.sandboxed();
                let report = plan.scratch.path().join("report.json");
                let mut argv: Vec<OsString> = vec![
                    python.into(),
                    "-m".into(),
                    "pip".into(),
                    "install".into(),
                    "--no-input".into(),
                    "--disable-pip-version-check".into(),
                    "--no-cache-dir".into(),
                    "--report".into(),
                    report.clone().into(),
                ];
                argv.extend(specs.iter().map(OsString::from));
                let (o, review) = run_plan(self, &ctx, &mut plan, argv, None).await?;
                notes.extend(review);
                if o.exit != Exit::Code(0) {
                    return Err(failure("pip install", &o));
                }
                pip_report(&report, &names)
            }
            Manager::Npm => {
                let mut plan = self.exec.plan(&scope, plan_for(true)).await?;
                plan.timeout = s.packages_timeout;
                sandboxed = plan.sandboxed();
                let npm = plan.resolve_program("npm").map_err(|_| {
                    ToolError::invalid("npm is not installed here (install Node.js with npm)")
                })?;
                let mut argv: Vec<OsString> = vec![
                    npm.into(),
                    "install".into(),
                    "--prefix".into(),
                    location.clone().into(),
                    "--no-audit".into(),
                    "--no-fund".into(),
                    "--no-update-notifier".into(),
                    "--cache".into(),
                    location.join(".cache").into(),
                ];
                argv.extend(specs.iter().map(OsString::from));
                let (o, review) = run_plan(self, &ctx, &mut plan, argv, None).await?;
                notes.extend(review);
                if o.exit != Exit::Code(0) {
                    return Err(failure("npm install", &o));
                }
                npm_versions(&location, &names)
            }
        };
        Ok(Json(InstallPackageOutput {
            manager: args.manager,
            installed,
            location: location.display().to_string(),
            duration_ms: started.elapsed().as_millis() as u64,
            sandboxed,
            notes,
        }))
    }
}

/// What pip's `--report` says it installed; the requested names when there is no report
/// (everything was already installed).
fn pip_report(report: &Path, names: &[String]) -> Vec<Installed> {
    let parsed: Option<Vec<Installed>> = std::fs::read(report)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| {
            v.get("install")?.as_array().map(|items| {
                items
                    .iter()
                    .filter_map(|i| {
                        let m = i.get("metadata")?;
                        Some(Installed {
                            name: m.get("name")?.as_str()?.to_owned(),
                            version: m.get("version")?.as_str()?.to_owned(),
                        })
                    })
                    .collect()
            })
        });
    match parsed {
        Some(list) if !list.is_empty() => list,
        _ => names
            .iter()
            .map(|n| Installed {
                name: n.clone(),
                version: "already installed".into(),
            })
            .collect(),
    }
}

fn npm_versions(prefix: &Path, names: &[String]) -> Vec<Installed> {
    names
        .iter()
        .map(|n| {
            let version = std::fs::read(prefix.join("node_modules").join(n).join("package.json"))
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|v| v.get("version")?.as_str().map(str::to_owned))
                .unwrap_or_else(|| "unknown".into());
            Installed {
                name: n.clone(),
                version,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_follow_the_registries_rules() {
        assert_eq!(
            parse_spec(Manager::Pip, "Requests[socks]>=2,<3").unwrap(),
            "requests"
        );
        assert_eq!(
            parse_spec(Manager::Pip, "zope.interface").unwrap(),
            "zope-interface"
        );
        for bad in [
            "-e .",
            "git+https://x/y",
            "../pkg",
            "pkg @ file:///x",
            "a;b",
            "x_",
        ] {
            assert!(parse_spec(Manager::Pip, bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_spec(Manager::Npm, "@types/node@^20").unwrap(),
            "@types/node"
        );
        assert_eq!(
            parse_spec(Manager::Npm, "lodash@4.17.21").unwrap(),
            "lodash"
        );
        for bad in [
            "Lodash",
            "--global",
            "git+ssh://x",
            "file:../x",
            "@scope",
            "x@git://y",
        ] {
            assert!(parse_spec(Manager::Npm, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn look_alikes_and_blocked_names_are_refused() {
        let none: &[String] = &[];
        let why = refusal(Manager::Pip, "reqeusts", none, none).unwrap();
        assert!(why.contains("`requests`"), "{why}");
        assert!(refusal(Manager::Pip, "python3-dateutil", none, none).is_some());
        assert!(refusal(Manager::Pip, "pythondateutil", none, none).is_some());
        assert!(refusal(Manager::Npm, "crossenv", none, none).is_some());
        assert!(refusal(Manager::Npm, "expresss", none, none).is_some());
        // Popular names themselves, and unrelated ones, pass.
        assert!(refusal(Manager::Pip, "requests", none, none).is_none());
        assert!(refusal(Manager::Pip, "iniconfig", none, none).is_none());
        assert!(refusal(Manager::Npm, "left-pad", none, none).is_none());
        // The user's allow list wins over the look-alike check, the deny list over everything.
        let allow = vec!["reqeusts".to_owned()];
        assert!(refusal(Manager::Pip, "reqeusts", &allow, none).is_none());
        let deny = vec!["left-pad".to_owned()];
        assert!(refusal(Manager::Npm, "left-pad", none, &deny).is_some());
    }

    #[test]
    fn distance_counts_transpositions_once() {
        assert_eq!(edit_distance("reqeusts", "requests"), 1);
        assert_eq!(edit_distance("abc", "abc"), 0);
        assert_eq!(edit_distance("abc", "xyz"), 3);
    }
}
