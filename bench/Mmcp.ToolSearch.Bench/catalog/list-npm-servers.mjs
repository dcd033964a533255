// Lists the real tool definitions of the reference servers installed in eng/npm and writes one catalog file per
// server (name, description, inputSchema). Run from the repository root after ./eng/install-deps.sh:
//   node bench/Mmcp.ToolSearch.Bench/catalog/list-npm-servers.mjs
import { Client } from "../../../eng/npm/node_modules/@modelcontextprotocol/sdk/dist/esm/client/index.js";
import { StdioClientTransport } from "../../../eng/npm/node_modules/@modelcontextprotocol/sdk/dist/esm/client/stdio.js";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, "../../../eng/npm/node_modules/.bin");
const scratch = mkdtempSync(join(tmpdir(), "toolsearch-"));
const servers = [
  { id: "everything", package: "@modelcontextprotocol/server-everything", command: join(bin, "mcp-server-everything"), args: [] },
  { id: "filesystem", package: "@modelcontextprotocol/server-filesystem", command: join(bin, "mcp-server-filesystem"), args: [scratch] },
  { id: "memory", package: "@modelcontextprotocol/server-memory", command: join(bin, "mcp-server-memory"), args: [], env: { MEMORY_FILE_PATH: join(scratch, "memory.jsonl") } },
];

for (const server of servers) {
  const client = new Client({ name: "toolsearch-catalog", version: "1.0.0" });
  await client.connect(new StdioClientTransport({ command: server.command, args: server.args, env: { ...process.env, ...server.env }, stderr: "ignore" }));
  const tools = [];
  let cursor;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    tools.push(...page.tools.map(t => ({ name: t.name, description: t.description ?? "", inputSchema: t.inputSchema })));
    cursor = page.nextCursor;
  } while (cursor);
  await client.close();
  const file = { server: server.id, source: `listed live from ${server.package} (eng/npm) with list-npm-servers.mjs`, tools };
  writeFileSync(join(here, `${server.id}.json`), JSON.stringify(file, null, 2) + "\n");
  console.log(`${server.id}: ${tools.length} tools`);
}
