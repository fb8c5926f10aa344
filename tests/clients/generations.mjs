// One scenario list, run by the official MCP TypeScript SDK (@modelcontextprotocol/client 2.x)
// against switchboard: the same list as generations.py, with the same printed outcomes.
//
// Usage: node generations.mjs SWITCHBOARD_BINARY CONFIG ROOT MODE   (MODE: auto | legacy)
//
// "legacy" is this SDK's default (the initialize handshake); "auto" probes server/discover and
// speaks 2026-07-28. Where the revisions differ (resources/subscribe and unsolicited list
// changes against subscriptions/listen; elicitation requests against input_required), each
// uses its own mechanism. The module path of the SDK comes from SWITCHBOARD_TEST_TS_SDK.

import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const sdk = process.env.SWITCHBOARD_TEST_TS_SDK;
const { Client } = await import(join(sdk, 'dist/index.mjs'));
const { StdioClientTransport } = await import(join(sdk, 'dist/stdio.mjs'));

const [binary, config, root, mode] = process.argv.slice(2);
const cfgDir = dirname(config);
const WAIT = 15000;

const events = [];
let wake = null;
const push = (e) => {
    events.push(e);
    if (wake) wake();
};
async function waitFor(pred) {
    const deadline = Date.now() + WAIT;
    for (;;) {
        const i = events.findIndex(pred);
        if (i >= 0) {
            events.splice(0, i + 1);
            return true;
        }
        const left = deadline - Date.now();
        if (left <= 0) return false;
        await new Promise((resolve) => {
            wake = resolve;
            setTimeout(resolve, Math.min(left, 200));
        });
    }
}
const textOf = (r) => r.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');
// The stable reason code of a failed result (`_meta["switchboard/reason"]`).
const reasonOf = (r) => (r._meta ?? {})['switchboard/reason'] ?? null;

const asked = [];
const client = new Client(
    { name: 'generations', version: '1.0.0' },
    {
        capabilities: { elicitation: {} },
        versionNegotiation: { mode: mode === 'auto' ? 'auto' : 'legacy' },
    },
);
client.setRequestHandler('elicitation/create', async (request) => {
    asked.push(request.params.message);
    return { action: 'accept', content: { send: true } };
});
client.setNotificationHandler('notifications/tools/list_changed', () => push('tools'));
client.setNotificationHandler('notifications/prompts/list_changed', () => push('prompts'));
client.setNotificationHandler('notifications/resources/list_changed', () => push('resources'));
client.setNotificationHandler('notifications/resources/updated', (n) => push('updated:' + n.params.uri));

const transport = new StdioClientTransport({
    command: binary,
    // SB_LAUNCH (a JSON list) replaces the arguments: `connect URL` runs the same scenarios
    // through the stdio bridge to a shared `serve --http`.
    args: process.env.SB_LAUNCH ? JSON.parse(process.env.SB_LAUNCH) : ['--config', config],
    env: { ...process.env },
    stderr: 'ignore',
});
await client.connect(transport);

const watched = `file://${root}/watched.txt`;
let subscription = null;
if (mode === 'auto') {
    subscription = await client.listen({
        toolsListChanged: true,
        promptsListChanged: true,
        resourcesListChanged: true,
        resourceSubscriptions: [watched],
    });
} else {
    await client.subscribeResource({ uri: watched });
}

const out = {};
out.tools = (await client.listTools()).tools.map((t) => t.name).sort();
out.read = textOf(await client.callTool({ name: 'read_file', arguments: { path: 'README.md' } }));
const bad = await client.callTool({ name: 'run_command', arguments: { program: 'ls', args: '-la' } });
out.bad_arg = [Boolean(bad.isError), textOf(bad).split('\n').slice(0, 2), reasonOf(bad)];
const via = await client.callTool({
    name: 'call_tool',
    arguments: { name: 'run_command', arguments: { program: 'ls', args: '-la' } },
});
out.bad_arg_via_call_tool = [Boolean(via.isError), reasonOf(via)];
out.call_tool_read = textOf(
    await client.callTool({ name: 'call_tool', arguments: { name: 'read_file', arguments: { path: 'README.md' } } }),
);
try {
    await client.callTool({ name: 'no_such_tool', arguments: {} });
    out.unknown = 'answered';
} catch (e) {
    out.unknown = [String(e.message).includes('no tool named `no_such_tool`')];
}
try {
    await client.ping();
    await client.ping();
    out.ping = 'ok';
} catch (e) {
    // This SDK refuses to send ping on a 2026-07-28 connection (the revision dropped it);
    // the Python SDK still sends it there, and switchboard answers it in every session.
    if (e.code !== 'METHOD_NOT_SUPPORTED_BY_PROTOCOL_VERSION' && !String(e.message).includes("'ping' is not supported")) throw e;
    out.ping = 'not in this revision';
}
out.prompts_have_fixture = (await client.listPrompts()).prompts.some((p) => p.name === 'hello');
const prompt = await client.getPrompt({ name: 'hello', arguments: { who: 'both' } });
out.prompt = prompt.messages.map((m) => m.content.text);
const notes = (await client.listResources()).resources.filter((r) => r.uri.endsWith('notes.txt'));
out.resource = (await client.readResource({ uri: notes[0].uri })).contents.map((c) => c.text);

writeFileSync(join(root, 'watched.txt'), 'changed\n');
out.updated = await waitFor((e) => e === 'updated:' + watched);

writeFileSync(join(cfgDir, 'prompts', 'added.md'), '---\ndescription: Added while running.\n---\nAdded.\n');
out.prompt_list_changed = await waitFor((e) => e === 'prompts');
out.prompt_added = (await client.listPrompts()).prompts.some((p) => p.name === 'added');

writeFileSync(
    join(cfgDir, 'tools', 'shout.yaml'),
    "description: Print the text in capitals.\nkind: command\nannotations: {read_only: true}\n" +
        "parameters:\n  text: {type: string, required: true}\nprogram: printf\nargs: ['%s!', '{text}']\n",
);
out.tool_list_changed = await waitFor((e) => e === 'tools');
out.tool_added = textOf(
    await client.callTool({ name: 'call_tool', arguments: { name: 'shout', arguments: { text: 'hey' } } }),
);

const progress = [];
const slow = await client.callTool(
    { name: 'call_tool', arguments: { name: 'run_shell', arguments: { command: 'sleep 2.5; echo done' } } },
    { onprogress: (p) => progress.push(p.progress), resetTimeoutOnProgress: true },
);
out.slow = slow.structuredContent ? slow.structuredContent.stdout : textOf(slow);
out.heartbeats = progress.length >= 1 && progress.every((p, i) => i === 0 || p >= progress[i - 1]);

const sent = await client.callTool({
    name: 'call_tool',
    arguments: { name: 'send_webhook', arguments: { webhook: 'hook', text: 'hi' } },
});
out.confirmed_send = [!sent.isError, asked.length === 1, (sent.structuredContent || {}).sent ?? null];
// A send inside a workflow script asks the user through the workflow's own call.
const flow = await client.callTool({
    name: 'run_workflow',
    arguments: {
        script:
            "const r = await tools.send_webhook({webhook: 'hook', text: 'from a script'});\n" +
            "const t = await tools.read_file({path: 'README.md'});\n" +
            'return [r.sent, t.length > 0];',
    },
});
out.workflow_send = [!flow.isError, asked.length === 2, (flow.structuredContent || {}).result ?? null];

if (subscription) await subscription.close();
await client.close();
const sorted = Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]]));
console.log(JSON.stringify(sorted));
process.exit(0);
