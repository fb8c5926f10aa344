"""Child servers through switchboard, seen by the official MCP Python SDK (mcp 2.x).

Usage: python_proxy.py SWITCHBOARD_BINARY SERVERS_FILE MODE   (MODE: default | legacy)

The servers file names one child, aliased `kid`, running tests/children/child_server.py in
"good" mode. Checks that its tools are listed with their prefixed names, that a call works,
and that the child's progress reaches the SDK's progress callback.
"""

import asyncio
import os
import sys

from mcp import Client
from mcp.client.stdio import StdioServerParameters


async def main() -> None:
    binary, servers, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    params = StdioServerParameters(
        command=binary,
        args=["--servers", servers],
        env={"HOME": os.environ.get("HOME", "/tmp"), "PATH": os.environ.get("PATH", "")},
    )
    client = Client(params) if mode == "default" else Client(params, mode="legacy")
    async with client:
        print(f"connected: protocol {client.protocol_version}")
        names = [t.name for t in (await client.list_tools()).tools]
        for wanted in ["kid__echo", "kid__slow", "kid__boom", "proxy_status"]:
            assert wanted in names, f"{wanted} not in {names}"
        result = await client.call_tool("kid__echo", {"text": "from python"})
        text = " ".join(getattr(c, "text", "") or "" for c in result.content)
        assert not result.is_error and text == "echo: from python", text
        seen = []

        async def progress(value, total, message):
            seen.append(value)

        result = await client.call_tool("kid__slow", {"seconds": 1}, progress_callback=progress)
        assert not result.is_error, result
        assert len(seen) >= 3 and seen == sorted(seen), f"progress relayed: {seen}"
        failed = await client.call_tool("kid__boom", {})
        assert failed.is_error, "a child's tool error stays a tool error"
        print(f"proxied ok ({len(seen)} progress notifications)")


asyncio.run(main())
