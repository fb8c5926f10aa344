"""One scenario list, run by the official MCP Python SDK (mcp 2.x) against switchboard.

Usage: generations.py SWITCHBOARD_BINARY CONFIG ROOT MODE   (MODE: default | legacy)

"default" is the SDK's own default (it opens with server/discover and speaks 2026-07-28);
"legacy" forces the initialize handshake. The scenarios are the same in both; where the
revisions differ (resources/subscribe and unsolicited list changes against
subscriptions/listen; elicitation requests against input_required), each uses its own
mechanism. Prints one JSON object of outcomes, which the Rust test compares across clients
and modes (tests/it/generations.rs). Exits non-zero on the first failure.
"""

import asyncio
import json
import os
import sys

from mcp import Client, types
from mcp.client.stdio import StdioServerParameters

WAIT = 15.0


def reason_of(result):
    """The stable reason code of a failed result (`_meta["switchboard/reason"]`)."""
    return (result.meta or {}).get("switchboard/reason")


def text_of(result) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


async def main() -> None:
    binary, config, root, mode = sys.argv[1:5]
    cfg_dir = os.path.dirname(config)
    events: asyncio.Queue = asyncio.Queue()
    asked: list[str] = []
    progress: list[float] = []

    async def on_message(message) -> None:
        m = getattr(message, "root", message)
        method = getattr(m, "method", None)
        if method == "notifications/tools/list_changed":
            await events.put("tools")
        elif method == "notifications/prompts/list_changed":
            await events.put("prompts")
        elif method == "notifications/resources/list_changed":
            await events.put("resources")
        elif method == "notifications/resources/updated":
            await events.put(("updated", m.params.uri))

    async def on_elicit(context, params) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"send": True})

    # SB_LAUNCH (a JSON list) replaces the arguments: `connect URL` runs the same scenarios
    # through the stdio bridge to a shared `serve --http`.
    launch = json.loads(os.environ["SB_LAUNCH"]) if os.environ.get("SB_LAUNCH") else ["--config", config]
    params = StdioServerParameters(command=binary, args=launch, env=dict(os.environ))
    kwargs = dict(message_handler=on_message, elicitation_callback=on_elicit)
    client = Client(params, **kwargs) if mode == "default" else Client(params, mode="legacy", **kwargs)
    out: dict = {}
    watched = f"file://{root}/watched.txt"

    async def wait_for(pred) -> bool:
        try:
            async with asyncio.timeout(WAIT):
                while True:
                    e = await events.get()
                    if pred(e):
                        return True
        except TimeoutError:
            return False

    async with client:
        listener = None
        if mode == "default":
            ready = asyncio.Event()

            async def listen() -> None:
                async with client.listen(
                    tools_list_changed=True,
                    prompts_list_changed=True,
                    resources_list_changed=True,
                    resource_subscriptions=[watched],
                ) as sub:
                    ready.set()
                    async for ev in sub:
                        name = type(ev).__name__
                        if name == "ToolsListChanged":
                            await events.put("tools")
                        elif name == "PromptsListChanged":
                            await events.put("prompts")
                        elif name == "ResourcesListChanged":
                            await events.put("resources")
                        elif name == "ResourceUpdated":
                            await events.put(("updated", ev.uri))

            listener = asyncio.create_task(listen())
            async with asyncio.timeout(WAIT):
                await ready.wait()
        else:
            await client.subscribe_resource(watched)

        out["tools"] = sorted(t.name for t in (await client.list_tools()).tools)
        out["read"] = text_of(await client.call_tool("read_file", {"path": "README.md"}))
        bad = await client.call_tool("run_command", {"program": "ls", "args": "-la"})
        out["bad_arg"] = [bool(bad.is_error), text_of(bad).split("\n")[:2], reason_of(bad)]
        via = await client.call_tool(
            "call_tool", {"name": "run_command", "arguments": {"program": "ls", "args": "-la"}}
        )
        out["bad_arg_via_call_tool"] = [bool(via.is_error), reason_of(via)]
        out["call_tool_read"] = text_of(
            await client.call_tool("call_tool", {"name": "read_file", "arguments": {"path": "README.md"}})
        )
        try:
            await client.call_tool("no_such_tool", {})
            out["unknown"] = "answered"
        except Exception as e:  # an MCP error, as the protocol says for an unknown tool
            out["unknown"] = ["no tool named `no_such_tool`" in str(e)]
        await client.send_ping()
        await client.send_ping()
        out["ping"] = "ok"
        out["prompts_have_fixture"] = "hello" in [p.name for p in (await client.list_prompts()).prompts]
        prompt = await client.get_prompt("hello", {"who": "both"})
        out["prompt"] = [m.content.text for m in prompt.messages]
        res = [r for r in (await client.list_resources()).resources if r.uri.endswith("notes.txt")]
        out["resource"] = [c.text for c in (await client.read_resource(res[0].uri)).contents]

        with open(os.path.join(root, "watched.txt"), "w") as f:
            f.write("changed\n")
        out["updated"] = await wait_for(lambda e: e == ("updated", watched))

        with open(os.path.join(cfg_dir, "prompts", "added.md"), "w") as f:
            f.write("---\ndescription: Added while running.\n---\nAdded.\n")
        out["prompt_list_changed"] = await wait_for(lambda e: e == "prompts")
        out["prompt_added"] = "added" in [p.name for p in (await client.list_prompts()).prompts]

        with open(os.path.join(cfg_dir, "tools", "shout.yaml"), "w") as f:
            f.write(
                "description: Print the text in capitals.\nkind: command\nannotations: {read_only: true}\n"
                "parameters:\n  text: {type: string, required: true}\nprogram: printf\nargs: ['%s!', '{text}']\n"
            )
        out["tool_list_changed"] = await wait_for(lambda e: e == "tools")
        out["tool_added"] = text_of(
            await client.call_tool("call_tool", {"name": "shout", "arguments": {"text": "hey"}})
        )

        async def on_progress(p: float, total, message) -> None:
            progress.append(p)

        slow = await client.call_tool(
            "call_tool",
            {"name": "run_shell", "arguments": {"command": "sleep 2.5; echo done"}},
            progress_callback=on_progress,
        )
        out["slow"] = slow.structured_content["stdout"] if slow.structured_content else text_of(slow)
        out["heartbeats"] = len(progress) >= 1 and progress == sorted(progress)

        sent = await client.call_tool(
            "call_tool", {"name": "send_webhook", "arguments": {"webhook": "hook", "text": "hi"}}
        )
        out["confirmed_send"] = [not sent.is_error, len(asked) == 1, (sent.structured_content or {}).get("sent")]
        # A send inside a workflow script asks the user through the workflow's own call.
        flow = await client.call_tool("run_workflow", {"script": WORKFLOW})
        out["workflow_send"] = [not flow.is_error, len(asked) == 2, (flow.structured_content or {}).get("result")]
        if listener is not None:
            listener.cancel()
    print(json.dumps(out, sort_keys=True))


WORKFLOW = (
    "const r = await tools.send_webhook({webhook: 'hook', text: 'from a script'});\n"
    "const t = await tools.read_file({path: 'README.md'});\n"
    "return [r.sent, t.length > 0];"
)

asyncio.run(main())
