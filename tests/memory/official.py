"""Writes and reads a knowledge graph with the official memory server (npm
@modelcontextprotocol/server-memory), driven by the official MCP Python SDK, so the import and
export tests use a file the real server wrote and check that it reads ours.

Usage: official.py SERVER_BINARY write FILE   builds a graph in FILE (its MEMORY_FILE_PATH)
       official.py SERVER_BINARY read FILE    prints the server's read_graph of FILE as JSON
"""

import asyncio
import json
import os
import sys

from mcp import Client
from mcp.client.stdio import StdioServerParameters


async def main() -> None:
    binary, mode, path = sys.argv[1], sys.argv[2], sys.argv[3]
    # The server's `node` is the one installed beside it (npm's node@22), else the system's.
    bindir = os.path.dirname(os.path.abspath(binary))
    env = {"PATH": bindir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"), "MEMORY_FILE_PATH": path}
    async with Client(StdioServerParameters(command=binary, args=[], env=env)) as client:
        if mode == "write":
            calls = [
                ("create_entities", {"entities": [
                    {"name": "Ada Lovelace", "entityType": "person", "observations": ["wrote the first program", "née Byron"]},
                    {"name": "Analytical Engine", "entityType": "machine", "observations": []},
                    {"name": "Babbage", "entityType": "person", "observations": ["said \"no\" to \\n escapes"]},
                ]}),
                ("create_relations", {"relations": [
                    {"from": "Ada Lovelace", "to": "Analytical Engine", "relationType": "programmed"},
                    {"from": "Babbage", "to": "Analytical Engine", "relationType": "designed"},
                    {"from": "Ada Lovelace", "to": "Royal Society", "relationType": "wrote_to"},
                ]}),
                ("add_observations", {"observations": [
                    {"entityName": "Analytical Engine", "contents": ["never finished", "steam powered"]},
                ]}),
            ]
            for name, args in calls:
                result = await client.call_tool(name, args)
                assert not result.is_error, f"{name}: {result.content}"
        else:
            result = await client.call_tool("read_graph", {})
            assert not result.is_error, result.content
            print(json.dumps(result.structured_content))


asyncio.run(main())
