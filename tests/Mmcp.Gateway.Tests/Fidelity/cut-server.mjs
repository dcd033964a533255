// An MCP server on the official TypeScript SDK whose tool cut cuts text to a number of UTF-16 code units, as
// JavaScript's String.slice does: cutting inside an emoji leaves half of it, which JSON.stringify writes as a lone
// surrogate escape ("\ud83d"). The text of the resource cut://emoji is cut the same way. Its tool rich answers every
// kind of content block with annotations, _meta, structured content and a field no revision defines; resources/read
// answers one too, and so do the tool's definition in tools/list and the resource in resources/list. It declares resources but,
// as the SDK's low-level Server does unless told, answers resources/templates/list with -32601.
// Usage: node cut-server.mjs SDK_DIR              over stdio
//        node cut-server.mjs SDK_DIR http [json]  stateless Streamable HTTP on a free loopback port at /mcp, printing
//                                                 "listening on PORT"; answers as SSE streams, or JSON bodies with json
//        node cut-server.mjs SDK_DIR socket PATH  newline-delimited JSON-RPC on a Unix socket (the SDK's stdio
//                                                 transport over each connection), printing "listening on PATH"
// (SDK_DIR = the @modelcontextprotocol/sdk package directory)
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const load = (p) => import(pathToFileURL(path.join(process.argv[2], 'dist', 'esm', p)).href);
const { Server } = await load('server/index.js');
const { StdioServerTransport } = await load('server/stdio.js');
const { StreamableHTTPServerTransport } = await load('server/streamableHttp.js');
const { CallToolRequestSchema, ListToolsRequestSchema, ListResourcesRequestSchema, ReadResourceRequestSchema } = await load('types.js');

// What the tool rich answers, as a client should see it through any gateway.
const rich = {
  content: [
    { type: 'text', text: 't', annotations: { audience: ['user'], priority: 0.5, lastModified: '2026-01-02T03:04:05Z' }, _meta: { 'io.example/k': 1 } },
    { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' },
    { type: 'audio', data: 'UklGRg==', mimeType: 'audio/wav' },
    { type: 'resource_link', uri: 'cut://emoji', name: 'emoji', title: 'Emoji', mimeType: 'text/plain', size: 7 },
    { type: 'resource', resource: { uri: 'cut://blob', blob: 'AAEC', mimeType: 'application/octet-stream', _meta: { 'io.example/r': true } } },
  ],
  structuredContent: { a: 1 },
  _meta: { 'io.example/trace': { deep: [1, 2, { x: null }] } },
  isError: false,
  'x-vendor': 'a field no revision defines',
};

function cutServer() {
  const server = new Server({ name: 'cut', version: '1.0.0' }, { capabilities: { tools: {}, resources: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [{
      name: 'cut',
      description: 'Cuts text to the given number of UTF-16 code units.',
      inputSchema: { type: 'object', properties: { text: { type: 'string' }, length: { type: 'number' } }, required: ['text', 'length'] },
    }, {
      name: 'rich',
      description: 'Answers a result with every kind of content block, annotations, _meta, structured content and a field no revision defines.',
      inputSchema: { type: 'object', properties: {} },
      outputSchema: { type: 'object', properties: { a: { type: 'number' } } },
      'x-vendor': 'a tool field',
    }],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => request.params.name === 'rich' ? rich : ({
    content: [{ type: 'text', text: String(request.params.arguments.text).slice(0, request.params.arguments.length) }],
  }));
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: [{ uri: 'cut://emoji', name: 'emoji', 'x-vendor': 'a resource field' }] }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request) => ({
    contents: [{ uri: request.params.uri, mimeType: 'text/plain', text: 'smile \u{1F642}'.slice(0, 7) }],
    'x-vendor': 'read',
  }));
  return server;
}

if (process.argv[3] === 'socket') {
  const listener = net.createServer((socket) => {
    const server = cutServer();
    socket.on('close', () => server.close());
    server.connect(new StdioServerTransport(socket, socket));
  });
  listener.listen(process.argv[4], () => console.log(`listening on ${process.argv[4]}`));
} else if (process.argv[3] !== 'http') {
  await cutServer().connect(new StdioServerTransport());
} else {
  const json = process.argv[4] === 'json';
  const listener = http.createServer(async (req, res) => {
    if (req.url !== '/mcp' || req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const server = cutServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: json });
    res.on('close', () => { transport.close(); server.close(); });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  });
  listener.listen(0, '127.0.0.1', () => console.log(`listening on ${listener.address().port}`));
}
