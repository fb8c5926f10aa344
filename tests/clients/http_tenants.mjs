// Two tenants and two hosts against one `switchboard serve --http`, driven by the official MCP
// TypeScript SDK (@modelcontextprotocol/client 2.x) over streamable HTTP: the same scenario as
// http_tenants.py, with the same printed outcomes.
//
// Usage: node http_tenants.mjs URL TOKEN_A TOKEN_B MODE   (MODE: auto | legacy)
//
// The module path of the SDK comes from SWITCHBOARD_TEST_TS_SDK.

import { join } from 'node:path';

const sdk = process.env.SWITCHBOARD_TEST_TS_SDK;
const { Client, StreamableHTTPClientTransport } = await import(join(sdk, 'dist/index.mjs'));

const [url, tokenA, tokenB, mode] = process.argv.slice(2);
const textOf = (r) => r.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');

async function connect(token) {
    const client = new Client(
        { name: 'http-tenants', version: '1.0.0' },
        { versionNegotiation: { mode: mode === 'auto' ? 'auto' : 'legacy' } },
    );
    const transport = new StreamableHTTPClientTransport(new URL(url), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
    });
    await client.connect(transport);
    return client;
}

const marker = `tenant-marker-ts-${mode}`;
const a1 = await connect(tokenA);
const a2 = await connect(tokenA);
const b = await connect(tokenB);
const out = {};
// The child server starts with the server; its tools arrive once it is ready.
let toolsA = [];
for (let i = 0; i < 150; i++) {
    toolsA = (await a1.listTools()).tools.map((t) => t.name);
    if (toolsA.some((n) => n.endsWith('__echo'))) break;
    await new Promise((r) => setTimeout(r, 100));
}
const toolsB = (await b.listTools()).tools.map((t) => t.name);
out.tools_a = toolsA.length;
out.tools_b = toolsB.length;
out.b_has_run_command = toolsB.includes('run_command');
out.b_roots = textOf(await b.callTool({ name: 'list_roots', arguments: {} }));
const echo = toolsA.find((n) => n.endsWith('__echo'));
out.echo_host1 = textOf(await a1.callTool({ name: echo, arguments: { text: 'one' } }));
out.echo_host2 = textOf(await a2.callTool({ name: echo, arguments: { text: 'two' } }));
const saved = await a1.callTool({ name: 'memory_save', arguments: { text: `alpha ${marker}` } });
out.saved = !saved.isError;
const find = async (c) => textOf(await c.callTool({ name: 'memory_search', arguments: { query: marker } })).includes(marker);
out.a2_finds = await find(a2);
out.b_finds = await find(b);
try {
    const wrote = await b.callTool({ name: 'memory_save', arguments: { text: `bravo ${marker}` } });
    out.b_write_refused = Boolean(wrote.isError);
} catch {
    out.b_write_refused = true; // read-only: the tool is not there at all
}
for (const c of [a1, a2, b]) await c.close();
const sorted = Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]]));
console.log(JSON.stringify(sorted));
