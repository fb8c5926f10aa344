"""Drives switchboard with the official MCP Python SDK (mcp 2.x), as a host would.

Usage: python_client.py SWITCHBOARD_BINARY ROOT MODE   (MODE: default | legacy)

"default" is the SDK's own default (mode="auto": it opens with server/discover and uses the
2026-07-28 protocol when the server offers it); "legacy" forces the initialize handshake.
With `--exposure full`, lists every tool, calls each one with valid arguments, and checks each result. Exits non-zero
on the first failure, printing what went wrong.
"""

import asyncio
import os
import re
import subprocess
import sys

from mcp import Client
from mcp.client.stdio import StdioServerParameters


# The Ollama API to use: the test engine's (tests/ai/engine.py) when the test process runs one,
# else a closed port, where every AI call must say Ollama is not reachable.
OLLAMA = os.environ.get("SWITCHBOARD_TEST_OLLAMA", "http://127.0.0.1:9")
AI_LIVE = os.environ.get("SWITCHBOARD_TEST_AI_LIVE") == "1"
SMOL = "smollm2:135m"


def calls(root: str, victim_pid: int) -> dict:
    """One valid call per tool, in an order where each can succeed."""
    return {
        "current_time": {"timezone": "UTC"},
        "convert_time": {"time": "12:00", "from_timezone": "UTC", "to_timezone": "Asia/Tokyo"},
        "system_info": {},
        "list_processes": {"limit": 5, "sort": "memory"},
        "kill_process": {"pid": victim_pid},
        "get_environment": {"filter": "PATH"},
        "which": {"names": ["sh"]},
        "git_status": {},
        "git_log": {"max_count": 5, "paths": ["README.md"]},
        "git_diff": {"stat_only": True},
        "list_roots": {},
        "read_file": {"path": "README.md"},
        "read_media": {"path": "img.png"},
        "read_document": {"path": "table.csv"},
        "read_many": {"paths": ["README.md", "missing.txt"]},
        "write_file": {"path": "py/new.txt", "content": "from python\n", "create_parents": True},
        "edit_file": {"path": "py/new.txt", "edits": [{"old": "from python", "new": "edited by python"}]},
        "create_directory": {"path": "py/dir"},
        "copy_path": {"source": "py/new.txt", "destination": "py/copy.txt"},
        "move_path": {"source": "py/copy.txt", "destination": "py/moved.txt"},
        "delete_path": {"path": "py/moved.txt", "permanent": True},
        "list_directory": {"path": "py"},
        "directory_tree": {},
        "find_files": {"patterns": ["*.txt"]},
        "search_content": {"pattern": "edited"},
        "file_info": {"path": "py/new.txt"},
        "git_reset": {},
        "git_add": {"paths": ["py"]},
        "git_commit": {"message": "Add the python client's files"},
        "git_show": {"stat_only": True},
        "git_create_branch": {"name": "py-branch"},
        "git_checkout": {"branch": "py-branch"},
        "git_branch": {},
        "run_command": {"program": "echo", "args": ["hi"]},
        "run_shell": {"command": "echo hi | tr a-z A-Z"},
        "run_code": {"language": "python", "code": "print(6 * 7)"},
        "install_package": {"manager": "pip", "packages": ["iniconfig"]},
        "process_start": {"program": "cat"},
        "process_write": {"id": "p1", "input": "echo me", "wait_ms": 3000},
        "process_read": {"id": "p1", "offset": 0},
        "process_list": {},
        "process_kill": {"id": "p1"},
        "process_wait": {"id": "p1", "timeout_secs": 5},
        # The real requests run in tests/it/net.rs; here, the refusal of a local address.
        "http_request": {"url": "http://127.0.0.1:9/"},
        "fetch_url": {"url": "http://127.0.0.1:9/"},
        "download_file": {"url": "http://127.0.0.1:9/", "path": "py/d.bin"},
        "web_search": {"query": "rust"},
        "memory_save": {"text": "The build server is called hopper.", "tags": ["infra"]},
        "memory_search": {"query": "build server"},
        "memory_get": {"id": 1},
        "memory_update": {"id": 1, "tags": ["infra", "ci"]},
        "memory_list": {"tag": "ci"},
        "memory_delete": {"id": 1},
        "create_entities": {"entities": [{"name": "hopper", "entityType": "server", "observations": ["builds CI"]}]},
        "create_relations": {"relations": [{"from": "hopper", "to": "ci", "relationType": "runs"}]},
        "add_observations": {"observations": [{"entityName": "hopper", "contents": ["in rack 3"]}]},
        "search_nodes": {"query": "rack"},
        "open_nodes": {"names": ["hopper"]},
        "read_graph": {},
        "delete_observations": {"deletions": [{"entityName": "hopper", "observations": ["in rack 3"]}]},
        "delete_relations": {"relations": [{"from": "hopper", "to": "ci", "relationType": "runs"}]},
        "delete_entities": {"entityNames": ["hopper"]},
        "db_connections": {},
        "db_execute": {"database": "local", "sql": "CREATE TABLE IF NOT EXISTS py(a INTEGER PRIMARY KEY, b TEXT)"},
        "db_query": {"database": "local", "sql": "SELECT 1 AS one, NULL AS empty, 'x' AS t"},
        "db_tables": {"database": "local"},
        "db_describe": {"database": "local", "table": "py"},
        "db_export_csv": {"database": "local", "sql": "SELECT 1 AS one", "path": "py/out.csv", "overwrite": True},
        "ai_health": {"refresh": True},
        "ai_list_models": {},
        "ai_model_info": {"model": SMOL},
        "ai_chat": {"model": SMOL, "messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 8, "temperature": 0},
        "ai_generate": {"model": SMOL, "prompt": "Say hi.", "max_tokens": 8, "temperature": 0},
        "ai_embed": {"model": "all-minilm:latest", "texts": ["hello", "world"]},
        "ai_pull_model": {"model": SMOL},
        "ai_agent": {"model": SMOL, "task": "Which folders may you use?", "tools": ["list_roots"], "max_steps": 2},
        "notify_desktop": {"title": "Build done", "body": "42 passed"},
        "comms_outbox": {"limit": 5},
        "run_workflow": {"script": "const r = await tools.list_roots({});\nconst f = await tools.read_file({path: 'README.md'});\nreturn [r.roots.length, f.length > 0];"},
        # The browser, on a page in the roots; refs come from the page as the tools read it.
        "browser_navigate": {"url": f"file://{root}/page.html"},
        "browser_fill": lambda page: {"fields": [{"ref": ref(page, "textbox", "Name"), "value": "Ada"}]},
        "browser_hover": lambda page: {"ref": ref(page, "button", "Greet")},
        "browser_press": {"key": "Tab"},
        "browser_click": lambda page: {"ref": ref(page, "button", "Ask")},
        "browser_dialog": {"accept": True},
        "browser_wait": {"text": "answered true"},
        "browser_snapshot": {},
        "browser_screenshot": {"full_page": True},
        "browser_logs": {},
        "browser_tabs": {},
        "browser_pdf": {"path": "py/page.pdf", "overwrite": True},
        "browser_upload": lambda page: {"ref": ref(page, "button", "Attachment"), "paths": ["README.md"]},
    }


def ref(page: str, role: str, name: str) -> str:
    """The ref of the element `role "name"` in a browser tool's answer."""
    found = re.search(rf'- {role} "{name}".*?\[ref=(e\d+)\]', page)
    assert found, f'no {role} "{name}" in:\n{page}'
    return found.group(1)

# Calls that must come back as tool errors, with a word their message must contain.
REFUSED = {"http_request": "web.allow", "fetch_url": "web.allow", "download_file": "web.allow", "web_search": "web.search.providers",
           # No desktop session here: the answer says so.
           "notify_desktop": "no desktop notification service answered"}
if not AI_LIVE:
    for _tool in ("ai_list_models", "ai_model_info", "ai_chat", "ai_generate", "ai_embed", "ai_pull_model", "ai_agent"):
        REFUSED[_tool] = "ollama serve"


def check(name: str, data: dict) -> None:
    """Spot checks that the exec tools really ran."""
    expected = {
        "run_command": ("stdout", "hi\n"),
        "run_shell": ("stdout", "HI\n"),
        "run_code": ("stdout", "42\n"),
        "process_write": ("text", "echo me\n"),
        "process_read": ("text", "echo me\n"),
        "process_kill": ("running", False),
    }
    if name in expected:
        key, value = expected[name]
        assert data.get(key) == value, f"{name}: {key} is {data.get(key)!r}, not {value!r}"
    if name == "memory_search":
        assert data["hits"][0]["note"]["id"] == 1, data
    if name == "memory_list":
        assert [n["id"] for n in data["notes"]] == [1], data
    if name == "search_nodes":
        assert [e["name"] for e in data["entities"]] == ["hopper"] and data["relations"][0]["to"] == "ci", data
    if name == "delete_entities":
        assert data["deleted"] == 1, data
    if name == "db_query":
        assert data["rows"] == [[1, None, "x"]], data
    if name == "db_describe":
        assert [c["name"] for c in data["columns"]] == ["a", "b"], data
    if name == "db_export_csv":
        assert data["rows"] == 1, data
    if name == "comms_outbox":
        # The refused desktop notification is recorded as failed.
        assert data["entries"][0]["tool"] == "notify_desktop" and data["entries"][0]["status"] == "failed", data
    if name == "run_workflow":
        assert data["result"] == [1, True] and data["calls"] == 2, data
    if name == "ai_health":
        assert data["backends"][0]["ok"] == AI_LIVE, data
    if AI_LIVE and name == "ai_list_models":
        assert any(m["name"] == SMOL for m in data["models"]), data
    if AI_LIVE and name in ("ai_chat", "ai_generate"):
        assert data["content"] and data["completion_tokens"] > 0, data
    if AI_LIVE and name == "ai_embed":
        assert data["dimensions"] == 576 and len(data["embeddings"]) == 2, data
    if AI_LIVE and name == "ai_agent":
        assert data["steps"] and data["steps"][0]["tool"] == "list_roots", data


async def main() -> None:
    victim = subprocess.Popen(["sleep", "300"])
    try:
        await run(victim)
    finally:
        victim.kill()
        victim.wait()


async def run(victim: subprocess.Popen) -> None:
    binary, root, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    env = {"HOME": os.environ.get("HOME", "/tmp"), "OLLAMA_HOST": OLLAMA}
    # The sleeper is this script's, not switchboard's: kill_process reaches it only when the
    # config opens kill_process to all of the user's processes.
    config = os.path.join(os.path.dirname(root), "kill-scope.yaml")
    with open(config, "w") as f:
        f.write("exec:\n  kill_scope: user\n")
    args = ["--root", root, "--exposure", "full", "--config", config]
    params = StdioServerParameters(command=binary, args=args, env=env)
    client = Client(params) if mode == "default" else Client(params, mode="legacy")
    async with client:
        print(f"connected: protocol {client.protocol_version}, server {client.server_info}")
        tools = (await client.list_tools()).tools
        names = sorted(t.name for t in tools)
        assert names == [t.name for t in tools], "tools/list is in name order"
        again = [t.name for t in (await client.list_tools(cache_mode="bypass")).tools] if mode == "default" else [t.name for t in (await client.list_tools()).tools]
        assert again == [t.name for t in tools], "tools/list is deterministic"
        plan = calls(root, victim.pid)
        missing = set(names) - set(plan)
        assert not missing, f"no test call for {missing}"
        called = 0
        page = ""
        for name in plan:
            args = plan[name](page) if callable(plan[name]) else plan[name]
            result = await client.call_tool(name, args)
            text = " ".join(getattr(c, "text", "") or "" for c in result.content)
            if name == "browser_navigate":
                page = text
            if name == "browser_wait":
                assert "Hello" not in text and "answered true" in text, text
            if name == "browser_screenshot":
                assert any(getattr(c, "mime_type", "") == "image/png" for c in result.content), text
            if name in REFUSED:
                assert result.is_error and REFUSED[name] in text, f"{name} should be refused: {text}"
                called += 1
                print(f"ok {name} (refused)")
                continue
            assert not result.is_error, f"{name} failed: {text}"
            tool = next(t for t in tools if t.name == name)
            if tool.output_schema is not None:
                assert result.structured_content is not None, f"{name} has an outputSchema but no structuredContent"
                check(name, result.structured_content)
            called += 1
            print(f"ok {name}")
        assert victim.wait(timeout=10) == -15, "kill_process sent TERM to the sleeper"
        with open(os.path.join(root, "py/new.txt")) as f:
            assert f.read() == "edited by python\n"
        refused = await client.call_tool("read_file", {"path": "/etc/passwd"})
        assert refused.is_error, "a path outside the roots is refused"
        prompts = (await client.list_prompts()).prompts
        assert any(p.name == "code_review" for p in prompts)
        got = await client.get_prompt("code_review", {"path": "README.md"})
        assert "README.md" in got.messages[0].content.text
        resources = (await client.list_resources()).resources
        assert resources, "static resources are listed"
        read = await client.read_resource(f"file://{root}/README.md")
        assert read.contents[0].text.startswith("# demo")
        print(f"called {called} tools")


asyncio.run(main())
