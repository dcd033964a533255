// The official TypeScript SDK client (@modelcontextprotocol/sdk) against the desktop's /mcp with a device session.
// Usage: node ts-client.mjs URL   (MCP_SDK_DIR = the sdk package; MCP_TOKEN = the session token; NODE_EXTRA_CA_CERTS = the
// desktop's certificate). Prints one JSON line: {"tools":[names], "echo": text} or {"error": message}.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const load = (p) => import(pathToFileURL(path.join(process.env.MCP_SDK_DIR, 'dist', 'esm', p)).href);
const { Client } = await load('client/index.js');
const { StreamableHTTPClientTransport } = await load('client/streamableHttp.js');
const transport = new StreamableHTTPClientTransport(new URL(process.argv[2]), {
  requestInit: { headers: { Authorization: `Bearer ${process.env.MCP_TOKEN}` } },
});
const client = new Client({ name: 'atlas-ts-peer', version: '1.0.0' }, { capabilities: {} });
try {
  await client.connect(transport, { timeout: 60000 });
  const { tools } = await client.listTools({}, { timeout: 60000 });
  const echo = tools.find(t => t.name.endsWith('__echo'));
  const result = echo ? await client.callTool({ name: echo.name, arguments: { message: 'from the ts sdk' } }, undefined, { timeout: 60000 }) : null;
  console.log(JSON.stringify({ tools: tools.map(t => t.name), echo: (result?.content ?? []).map(c => c.text ?? '').join('') }));
} catch (e) {
  console.log(JSON.stringify({ error: String(e?.message ?? e) }));
}
await client.close().catch(() => {});
process.exit(0);
