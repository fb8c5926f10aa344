"""Two tenants and two hosts against one `switchboard serve --http`, driven by the official MCP
Python SDK (mcp 2.x) over streamable HTTP.

Usage: http_tenants.py URL TOKEN_A TOKEN_B MODE   (MODE: default | legacy)

"default" is the SDK's own default (server/discover, 2026-07-28, stateless requests);
"legacy" forces the initialize handshake (a session per client). Two clients hold token A
(two hosts of one user), one holds token B (another tenant). Prints one JSON object of what
each saw, which tests/it/http.rs checks. Exits non-zero on a failure.
"""

import asyncio
import json
import sys

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


def text_of(result) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


def client(url: str, token: str, mode: str) -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60)
    transport = streamable_http_client(url, http_client=http)
    return Client(transport) if mode == "default" else Client(transport, mode="legacy")


async def main() -> None:
    url, token_a, token_b, mode = sys.argv[1:5]
    out: dict = {}
    marker = f"tenant-marker-{mode}"
    async with client(url, token_a, mode) as a1, client(url, token_a, mode) as a2, client(
        url, token_b, mode
    ) as b:
        # The child server starts with the server; its tools arrive once it is ready.
        for _ in range(150):
            tools_a = sorted(t.name for t in (await a1.list_tools()).tools)
            if any(n.endswith("__echo") for n in tools_a):
                break
            await asyncio.sleep(0.1)
        tools_b = sorted(t.name for t in (await b.list_tools()).tools)
        out["tools_a"] = len(tools_a)
        out["tools_b"] = len(tools_b)
        out["b_has_run_command"] = "run_command" in tools_b
        out["b_roots"] = text_of(await b.call_tool("list_roots", {}))
        echo = next(n for n in tools_a if n.endswith("__echo"))
        out["echo_host1"] = text_of(await a1.call_tool(echo, {"text": "one"}))
        out["echo_host2"] = text_of(await a2.call_tool(echo, {"text": "two"}))
        saved = await a1.call_tool("memory_save", {"text": f"alpha {marker}"})
        out["saved"] = not saved.is_error
        out["a2_finds"] = text_of(await a2.call_tool("memory_search", {"query": marker})).count(marker) > 0
        out["b_finds"] = text_of(await b.call_tool("memory_search", {"query": marker})).count(marker) > 0
        try:
            wrote = await b.call_tool("memory_save", {"text": f"bravo {marker}"})
            out["b_write_refused"] = bool(wrote.is_error)
        except Exception:  # read-only: the tool is not there at all
            out["b_write_refused"] = True
    print(json.dumps(out, sort_keys=True))


asyncio.run(main())
