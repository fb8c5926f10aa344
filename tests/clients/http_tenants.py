"""Two tenants and two hosts against one `switchboard serve --http`, driven by the official MCP
Python SDK (mcp 2.x) over streamable HTTP.

Usage: http_tenants.py URL TOKEN_A TOKEN_B MODE [ROOT_1 ROOT_2]   (MODE: default | legacy)

"default" is the SDK's own default (server/discover, 2026-07-28, stateless requests);
"legacy" forces the initialize handshake (a session per client). Two clients hold token A
(two hosts of one user), one holds token B (another tenant). Prints one JSON object of what
each saw, which tests/it/http.rs checks. Exits non-zero on a failure. In legacy mode, with
ROOT_1 and ROOT_2, the two hosts of token A answer `roots/list` with one folder each (roots are
a session's own; the 2026-07-28 revision has no client roots).
"""

import asyncio
import json
import os
import sys

import httpx2
from mcp import Client, types
from mcp.client.streamable_http import streamable_http_client


def text_of(result) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


def client(url: str, token: str, mode: str, root: str | None = None) -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60)
    transport = streamable_http_client(url, http_client=http)
    if mode == "default":
        return Client(transport)
    if root is None:
        return Client(transport, mode="legacy")

    async def roots(context) -> types.ListRootsResult:
        return types.ListRootsResult(roots=[types.Root(uri=f"file://{root}")])

    # The host's "model" answers with which host it is.
    who = "host one" if root.endswith("-one") else "host two"

    async def sample(context, params) -> types.CreateMessageResult:
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text=who), model="test"
        )

    return Client(transport, mode="legacy", list_roots_callback=roots, sampling_callback=sample)


async def main() -> None:
    url, token_a, token_b, mode = sys.argv[1:5]
    root_1, root_2 = (sys.argv[5:7] + [None, None])[:2]
    out: dict = {}
    marker = f"tenant-marker-{mode}"
    async with client(url, token_a, mode, root_1) as a1, client(
        url, token_a, mode, root_2
    ) as a2, client(url, token_b, mode) as b:
        # The child server starts with the server; its tools arrive once it is ready.
        for _ in range(150):
            tools_a = sorted(t.name for t in (await a1.list_tools()).tools)
            if any(n.endswith("__echo") for n in tools_a) and "asker__sample" in tools_a:
                break
            await asyncio.sleep(0.1)
        tools_b = sorted(t.name for t in (await b.list_tools()).tools)
        out["tools_a"] = len(tools_a)
        out["tools_b"] = len(tools_b)
        out["b_has_run_command"] = "run_command" in tools_b
        out["b_roots"] = text_of(await b.call_tool("list_roots", {}))
        echo = next(n for n in tools_a if n.endswith("__echo"))
        if root_1 is not None and mode == "legacy":
            # Each host's roots are fetched; then each asks again, after the other's fetch.
            for host in (a1, a2):
                await host.call_tool("list_roots", {})
            out["a1_roots"] = text_of(await a1.call_tool("list_roots", {}))
            out["a2_roots"] = text_of(await a2.call_tool("list_roots", {}))
            # The second host calls first: the child's sampling request must reach it, not
            # the host that connected first.
            out["sampled_by_2"] = text_of(await a2.call_tool("asker__sample", {}))
            # The first host's call waits in the child while the second host makes a call of
            # its own: the question still goes to the first, whose call is waiting on it.
            state = os.environ["SB_STATE"]
            gate = os.path.join(state, "gate")
            first = asyncio.create_task(a1.call_tool("asker__sample", {"gate": gate}))
            waiting = os.path.join(state, "sampler.waiting")
            for _ in range(200):
                if os.path.exists(waiting):
                    break
                await asyncio.sleep(0.05)
            await a2.call_tool(echo, {"text": "in between"})
            open(gate, "w").close()
            out["sampled_by_1"] = text_of(await first)
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
