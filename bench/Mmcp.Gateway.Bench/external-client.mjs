// An external raw MCP client for the latency phase, written against the wire only (no MCP SDK, none of the
// project's code): Node's own node:http on keep-alive sockets with Nagle off, each POST in one write, for Streamable
// HTTP targets (Node 20's fetch writes headers and body apart, and the body then waits for the server's delayed ACK:
// 40 ms a call), and a child process's stdin/stdout for the raw stdio baseline. It calls the tool `echo`-style tool given, warms up, then measures
// sequential calls and calls from N parallel sessions, and prints one JSON line.
//
// node external-client.mjs --url http://127.0.0.1:PORT/mcp --tool NAME [--warmup 3000] [--calls 3000] [--concurrency 16]
// node external-client.mjs --stdio "node /path/server.js stdio" --tool NAME [...]
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { createInterface } from 'node:readline';

const args = process.argv.slice(2);
const arg = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback; };
const url = arg('--url');
const stdio = arg('--stdio');
const tool = arg('--tool', 'echo');
const warmup = Number(arg('--warmup', 3000));
const calls = Number(arg('--calls', 3000));
const concurrency = Number(arg('--concurrency', 16));
const httpStack = arg('--http', 'raw');
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const callParams = JSON.stringify({ name: tool, arguments: { message: 'ping' } });

class HttpSession {
  constructor(endpoint) { this.endpoint = endpoint; this.session = null; this.version = '2025-06-18'; this.nextId = 0; }
  headers() {
    const h = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    if (this.session) { h['mcp-session-id'] = this.session; h['mcp-protocol-version'] = this.version; }
    return h;
  }
  post(body) {
    const payload = Buffer.from(body);
    return new Promise((resolve, reject) => {
      const request = http.request(this.endpoint, { method: 'POST', agent, headers: { ...this.headers(), 'content-length': payload.length } }, response => {
        const chunks = [];
        response.on('data', c => chunks.push(c));
        response.on('end', () => {
          this.session ??= response.headers['mcp-session-id'];
          const text = Buffer.concat(chunks).toString();
          if (response.statusCode >= 300) reject(new Error(`HTTP ${response.statusCode}: ${text}`)); else resolve(text);
        });
      });
      request.on('socket', socket => socket.setNoDelay(true));
      request.on('error', reject);
      request.end(payload);
    });
  }
  async request(method, params) {
    const id = ++this.nextId;
    const text = await this.post(`{"jsonrpc":"2.0","id":${id},"method":"${method}","params":${params}}`);
    // A JSON body, or an SSE stream whose data line carries the answer.
    const json = text.startsWith('{') ? text : text.split('\n').filter(l => l.startsWith('data:')).map(l => l.slice(5).trim()).find(l => l.includes(`"id":${id}`));
    if (!json || json.includes('"error"') && !json.includes('"result"')) throw new Error(`${method}: ${text}`);
    return json;
  }
  async open() {
    const init = JSON.parse(await this.request('initialize', '{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"external-raw-client","version":"1.0"}}'));
    this.version = init.result?.protocolVersion ?? this.version;
    await this.post('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    return this;
  }
  call() { return this.request('tools/call', callParams); }
  close() {
    if (!this.session) return Promise.resolve();
    return new Promise(resolve => {
      const request = http.request(this.endpoint, { method: 'DELETE', agent, headers: this.headers() }, response => { response.resume(); response.on('end', resolve); });
      request.on('error', resolve);
      request.end();
    });
  }
}

// The same session over a bare TCP socket: one socket per session, the request written as one buffer, the answer read
// by a small HTTP/1.1 reader (status line, headers, then a Content-Length body or chunks until the last one). node:http
// costs the client itself about 0.25 ms of CPU per call, so with 16 sessions a single-threaded client measured itself
// (about 3,000 calls/s at best) rather than the target; this reader costs a fraction of that. `--http node` uses node:http.
class RawHttpSession extends HttpSession {
  constructor(endpoint) {
    super(endpoint);
    const u = new URL(endpoint);
    this.host = u.hostname; this.port = Number(u.port || 80); this.path = u.pathname + u.search; this.authority = u.host;
    this.socket = null; this.buffer = Buffer.alloc(0); this.waiting = null;
  }
  connect() {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port, noDelay: true }, () => resolve(socket));
      socket.on('error', error => { if (this.waiting) { const w = this.waiting; this.waiting = null; w.reject(error); } else reject(error); });
      socket.on('data', chunk => { this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk; this.parse(); });
      socket.on('close', () => { this.socket = null; if (this.waiting) { const w = this.waiting; this.waiting = null; w.reject(new Error('connection closed')); } });
    });
  }
  // Returns when this.buffer holds one whole answer; leaves any bytes after it.
  parse() {
    const w = this.waiting;
    if (!w) return;
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buffer.toString('latin1', 0, end).split('\r\n');
    const status = Number(head[0].split(' ')[1]);
    const headers = {};
    for (const line of head.slice(1)) { const c = line.indexOf(':'); headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim(); }
    let at = end + 4;
    let body;
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (this.buffer.length < at + length) return;
      body = this.buffer.subarray(at, at + length); at += length;
    } else if ((headers['transfer-encoding'] ?? '').toLowerCase() === 'chunked') {
      const parts = [];
      for (;;) {
        const lineEnd = this.buffer.indexOf('\r\n', at);
        if (lineEnd < 0) return;
        const size = parseInt(this.buffer.toString('latin1', at, lineEnd), 16);
        if (this.buffer.length < lineEnd + 2 + size + 2) return;
        if (size === 0) { at = lineEnd + 4; break; }
        parts.push(this.buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else if (status === 202 || status === 204 || status === 304) {
      body = Buffer.alloc(0);
    } else {
      w.reject(new Error(`HTTP ${status} without a length: this reader reads Content-Length and chunked bodies only`)); this.waiting = null; return;
    }
    this.buffer = this.buffer.subarray(at);
    this.waiting = null;
    w.resolve({ status, headers, text: body.toString() });
  }
  async send(method, extra, body) {
    this.socket ??= await this.connect();
    const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
    let head = `${method} ${this.path} HTTP/1.1\r\nhost: ${this.authority}\r\nconnection: keep-alive\r\ncontent-length: ${payload.length}\r\n`;
    for (const [name, value] of Object.entries({ ...this.headers(), ...extra })) head += `${name}: ${value}\r\n`;
    const answer = new Promise((resolve, reject) => { this.waiting = { resolve, reject }; });
    this.socket.write(Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), payload]));
    const response = await answer;
    if (response.headers.connection?.toLowerCase() === 'close') { this.socket?.destroy(); this.socket = null; }
    return response;
  }
  async post(body) {
    const response = await this.send('POST', {}, body);
    this.session ??= response.headers['mcp-session-id'];
    if (response.status >= 300) throw new Error(`HTTP ${response.status}: ${response.text}`);
    return response.text;
  }
  async close() {
    if (this.session) await this.send('DELETE', {}, undefined).catch(() => {});
    this.socket?.destroy();
  }
}

class StdioSession {
  constructor(commandLine) {
    const [command, ...rest] = commandLine.split(' ');
    this.child = spawn(command, rest, { stdio: ['pipe', 'pipe', 'ignore'] });
    this.pending = new Map();
    this.nextId = 0;
    createInterface({ input: this.child.stdout }).on('line', line => {
      const m = /"id":(\d+)/.exec(line);
      if (m && !line.includes('"method"')) { const done = this.pending.get(Number(m[1])); this.pending.delete(Number(m[1])); done?.(line); }
    });
  }
  request(method, params) {
    const id = ++this.nextId;
    return new Promise(resolve => { this.pending.set(id, resolve); this.child.stdin.write(`{"jsonrpc":"2.0","id":${id},"method":"${method}","params":${params}}\n`); });
  }
  async open() {
    await this.request('initialize', '{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"external-raw-client","version":"1.0"}}');
    this.child.stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
    return this;
  }
  call() { return this.request('tools/call', callParams); }
  async close() { this.child.stdin.end(); }
}

const newSession = () => (url ? (httpStack === 'node' ? new HttpSession(url) : new RawHttpSession(url)) : new StdioSession(stdio)).open();
const p50 = samples => samples.sort((a, b) => a - b)[Math.ceil(samples.length * 0.5) - 1];

const first = await newSession();
for (let i = 0; i < warmup; i++) await first.call();

const sequential = new Array(calls);
for (let i = 0; i < calls; i++) {
  const t0 = process.hrtime.bigint();
  await first.call();
  sequential[i] = Number(process.hrtime.bigint() - t0) / 1e6;
}

// stdio has one session: the parallel callers share it, as the bench's own stdio baseline does.
const sessions = url ? await Promise.all(Array.from({ length: concurrency }, newSession)) : Array(concurrency).fill(first);
for (const s of new Set(sessions)) await s.call();
let next = -1;
const parallel = new Array(calls);
const start = process.hrtime.bigint();
await Promise.all(sessions.map(async s => {
  let i;
  while ((i = ++next) < calls) {
    const t0 = process.hrtime.bigint();
    await s.call();
    parallel[i] = Number(process.hrtime.bigint() - t0) / 1e6;
  }
}));
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
for (const s of new Set([first, ...sessions])) await s.close();
console.log(JSON.stringify({ p50: p50(sequential), parallelP50: p50(parallel), parallelRate: calls / seconds }));
process.exit(0);
