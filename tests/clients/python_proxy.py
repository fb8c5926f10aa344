"""Child servers through switchboard, seen by the official MCP Python SDK (mcp 2.x).

Usage: python_proxy.py SWITCHBOARD_BINARY SERVERS_FILE MODE   (MODE: default | legacy)

The servers file names one child, aliased `kid`, running tests/children/child_server.py in
"good" mode.

"default" opens as the SDK does by default and leaves switchboard's exposure at its default
(`auto`, which turns compact with the whole catalogue): tools/list shows the compact core, and
the child's tools are found with search_tools and run with call_tool, progress included.
"legacy" forces the initialize handshake and runs switchboard with `--exposure full`: the
child's tools are listed with their prefixed names and called directly.
"""

import asyncio
import os
import sys

from mcp import Client
from mcp.client.stdio import StdioServerParameters


def text_of(result) -> str:
    return " ".join(getattr(c, "text", "") or "" for c in result.content)


async def main() -> None:
    binary, servers, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    args = ["--servers", servers]
    if mode == "legacy":
        args += ["--exposure", "full"]
    params = StdioServerParameters(
        command=binary,
        args=args,
        env={"HOME": os.environ.get("HOME", "/tmp"), "PATH": os.environ.get("PATH", "")},
    )
    client = Client(params) if mode == "default" else Client(params, mode="legacy")
    async with client:
        print(f"connected: protocol {client.protocol_version}")
        names = [t.name for t in (await client.list_tools()).tools]
        seen = []

        async def progress(value, total, message):
            seen.append(value)

        if mode == "legacy":
            for wanted in ["kid__echo", "kid__slow", "kid__boom", "proxy_status"]:
                assert wanted in names, f"{wanted} not in {names}"
            result = await client.call_tool("kid__echo", {"text": "from python"})
            assert not result.is_error and text_of(result) == "echo: from python", text_of(result)
            result = await client.call_tool("kid__slow", {"seconds": 1}, progress_callback=progress)
            failed = await client.call_tool("kid__boom", {})
        else:
            assert names == ["search_tools", "call_tool", "run_workflow", "list_roots", "read_file", "edit_file"], names
            found = await client.call_tool("search_tools", {"query": "echo text back"})
            assert not found.is_error, text_of(found)
            hits = found.structured_content["tools"]
            assert hits[0]["name"] == "kid__echo", hits
            assert "text" in hits[0]["input_schema"]["properties"], hits[0]
            result = await client.call_tool(
                "call_tool", {"name": "kid__echo", "arguments": {"text": "from python"}}
            )
            assert not result.is_error and text_of(result) == "echo: from python", text_of(result)
            wrong = await client.call_tool("call_tool", {"name": "kid__echo", "arguments": {"text": 5}})
            assert wrong.is_error and "arguments.text" in text_of(wrong), text_of(wrong)
            result = await client.call_tool(
                "call_tool", {"name": "kid__slow", "arguments": {"seconds": 1}}, progress_callback=progress
            )
            failed = await client.call_tool("call_tool", {"name": "kid__boom", "arguments": {}})
        assert not result.is_error, result
        assert len(seen) >= 3 and seen == sorted(seen), f"progress relayed: {seen}"
        assert failed.is_error, "a child's tool error stays a tool error"
        print(f"proxied ok ({len(seen)} progress notifications, {mode})")


asyncio.run(main())
