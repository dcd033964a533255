// An MCP stdio server on the official TypeScript SDK whose one tool cuts text to a number of UTF-16 code units, as
// JavaScript's String.slice does: cutting inside an emoji leaves half of it, which JSON.stringify writes as a lone
// surrogate escape ("\ud83d"). The text of the resource cut://emoji is cut the same way.
// Usage: node cut-server.mjs SDK_DIR   (SDK_DIR = the @modelcontextprotocol/sdk package directory)
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const load = (p) => import(pathToFileURL(path.join(process.argv[2], 'dist', 'esm', p)).href);
const { Server } = await load('server/index.js');
const { StdioServerTransport } = await load('server/stdio.js');
const { CallToolRequestSchema, ListToolsRequestSchema, ListResourcesRequestSchema, ReadResourceRequestSchema } = await load('types.js');

const server = new Server({ name: 'cut', version: '1.0.0' }, { capabilities: { tools: {}, resources: {} } });
server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: [{
    name: 'cut',
    description: 'Cuts text to the given number of UTF-16 code units.',
    inputSchema: { type: 'object', properties: { text: { type: 'string' }, length: { type: 'number' } }, required: ['text', 'length'] },
  }],
}));
server.setRequestHandler(CallToolRequestSchema, async (request) => ({
  content: [{ type: 'text', text: String(request.params.arguments.text).slice(0, request.params.arguments.length) }],
}));
server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: [{ uri: 'cut://emoji', name: 'emoji' }] }));
server.setRequestHandler(ReadResourceRequestSchema, async (request) => ({
  contents: [{ uri: request.params.uri, mimeType: 'text/plain', text: 'smile \u{1F642}'.slice(0, 7) }],
}));
await server.connect(new StdioServerTransport());
