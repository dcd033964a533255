// Interop check of an MCP Streamable HTTP endpoint with the official TypeScript SDK client (@modelcontextprotocol/sdk).
// Usage: node interop.mjs URL   (MCP_SDK_DIR = the sdk package directory; MCP_HEADERS = JSON object of extra headers)
// Prints "PASS <check>" / "FAIL <check>: <reason>" and ends with "N passed, M failed"; exit code 1 when any failed.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const url = process.argv[2];
const sdkDir = process.env.MCP_SDK_DIR;
const headers = process.env.MCP_HEADERS ? JSON.parse(process.env.MCP_HEADERS) : {};
const load = (p) => import(pathToFileURL(path.join(sdkDir, 'dist', 'esm', p)).href);
const { Client } = await load('client/index.js');
const { StreamableHTTPClientTransport } = await load('client/streamableHttp.js');

let passed = 0, failed = 0;
const results = [];
async function check(name, fn) {
  try {
    const note = await fn();
    passed++; results.push(`PASS ${name}${note ? ` (${note})` : ''}`);
  } catch (e) {
    failed++; results.push(`FAIL ${name}: ${e?.message ?? e}`);
  }
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }
const timeout = { timeout: 30000 };
const watchdog = setTimeout(() => { console.log('FAIL watchdog: the checks did not finish within 120 s'); console.log(`${passed} passed, ${failed + 1} failed`); process.exit(1); }, 120000);

const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
const client = new Client({ name: 'mmcp-interop', version: '1.0.0' }, { capabilities: {} });
let tools = [];
await check('initialize', async () => {
  await client.connect(transport, timeout);
  const info = client.getServerVersion();
  assert(info?.name, 'no serverInfo');
  assert(client.getServerCapabilities()?.tools, 'no tools capability');
  assert(transport.sessionId, 'no Mcp-Session-Id from a 2025-era initialize');
  return `${info.name}, protocol ${transport.protocolVersion ?? '?'}, session ${transport.sessionId.slice(0, 8)}…`;
});
await check('ping', async () => { await client.ping(timeout); });
await check('tools/list (all pages, unique names, object schemas)', async () => {
  let cursor;
  let pages = 0;
  do {
    const page = await client.listTools(cursor ? { cursor } : {}, timeout);
    tools.push(...page.tools);
    cursor = page.nextCursor;
    pages++;
  } while (cursor && pages < 100);
  const names = new Set(tools.map(t => t.name));
  assert(tools.length > 0, 'no tools');
  assert(names.size === tools.length, 'duplicate tool names');
  for (const t of tools) assert(t.inputSchema?.type === 'object', `tool ${t.name} has no object inputSchema`);
  return `${tools.length} tools in ${pages} page(s)`;
});
const echo = tools.find(t => t.name === 'echo' || t.name.endsWith('__echo'));
await check('tools/call echo', async () => {
  assert(echo, 'no echo tool');
  const r = await client.callTool({ name: echo.name, arguments: { message: 'interop-payload' } }, undefined, timeout);
  const text = (r.content ?? []).map(c => c.text ?? '').join('');
  assert(text.includes('interop-payload'), `unexpected result ${JSON.stringify(r)}`);
});
await check('unknown tool is an error', async () => {
  try {
    const r = await client.callTool({ name: 'no_such_tool__at_all', arguments: {} }, undefined, timeout);
    assert(r.isError === true, `expected an error, got ${JSON.stringify(r)}`);
  } catch (e) {
    if (e.message?.startsWith('expected an error')) throw e;
  }
});
await check('8 concurrent calls, correctly correlated', async () => {
  assert(echo, 'no echo tool');
  const payloads = Array.from({ length: 8 }, (_, i) => `concurrent-${i}-${Math.random().toString(36).slice(2)}`);
  const answers = await Promise.all(payloads.map(p => client.callTool({ name: echo.name, arguments: { message: p } }, undefined, timeout)));
  answers.forEach((r, i) => {
    const text = (r.content ?? []).map(c => c.text ?? '').join('');
    assert(text.includes(payloads[i]), `call ${i} got ${text}`);
  });
});
if (client.getServerCapabilities()?.resources) {
  await check('resources/list (all pages) and read', async () => {
    let cursor, all = [], pages = 0;
    do {
      const page = await client.listResources(cursor ? { cursor } : {}, timeout);
      all.push(...page.resources);
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 100);
    assert(all.length > 0, 'no resources');
    const read = await client.readResource({ uri: all[0].uri }, timeout);
    assert(read.contents?.length > 0, 'empty read');
    return `${all.length} resources`;
  });
}
if (client.getServerCapabilities()?.prompts) {
  await check('prompts/list', async () => {
    const r = await client.listPrompts({}, timeout);
    assert(Array.isArray(r.prompts), 'no prompts array');
    return `${r.prompts.length} prompts`;
  });
}
await check('DELETE session, then 404 for that session', async () => {
  const sessionId = transport.sessionId;
  assert(sessionId, 'no session');
  await transport.terminateSession();
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': transport.protocolVersion ?? '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/list', params: {} }),
  });
  assert(response.status === 404, `expected 404 for the terminated session, got ${response.status}`);
});
await client.close().catch(() => {});
clearTimeout(watchdog);
for (const line of results) console.log(line);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
