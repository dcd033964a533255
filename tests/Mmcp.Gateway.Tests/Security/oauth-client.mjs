// The official TypeScript SDK client signing in to an OAuth-protected MCP endpoint with the SDK's own OAuth support
// (auth(), an OAuthClientProvider): RFC 9728 discovery from the 401, RFC 8414 metadata, dynamic registration, PKCE,
// resource indicator, and an RFC 8252 loopback redirect this script listens on.
// Usage: node oauth-client.mjs URL TOOL   (MCP_SDK_DIR = the sdk package directory; TOKENS_FILE = where every token
// the client receives is appended, so the test can look for them in the gateway's logs and audit file)
// Prints "AUTHORIZE <url>" for the browser, "PASS <check>" / "FAIL <check>: <reason>", and ends with "N passed, M failed".
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const url = new URL(process.argv[2]);
const tool = process.argv[3];
const sdkDir = process.env.MCP_SDK_DIR;
const tokensFile = process.env.TOKENS_FILE;
const load = (p) => import(pathToFileURL(path.join(sdkDir, 'dist', 'esm', p)).href);
const { Client } = await load('client/index.js');
const { StreamableHTTPClientTransport } = await load('client/streamableHttp.js');
const { UnauthorizedError } = await load('client/auth.js');

let passed = 0, failed = 0;
async function check(name, fn) {
  try {
    const note = await fn();
    passed++; console.log(`PASS ${name}${note ? ` (${note})` : ''}`);
  } catch (e) {
    failed++; console.log(`FAIL ${name}: ${e?.message ?? e}`);
  }
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }

// RFC 8252 §7.3: the redirect goes to a port this client listens on, on loopback only.
let resolveCode, rejectCode;
const codeArrived = new Promise((resolve, reject) => { resolveCode = resolve; rejectCode = reject; });
const expectedState = randomUUID();
const listener = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://127.0.0.1');
  if (u.pathname !== '/callback') { res.writeHead(404).end(); return; }
  if (u.searchParams.get('state') !== expectedState) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end('state mismatch');
    rejectCode(new Error('the redirect carried another state'));
    return;
  }
  const code = u.searchParams.get('code');
  res.writeHead(200, { 'content-type': 'text/html' }).end('<p id="done">Signed in. You can close this window.</p>');
  if (code) resolveCode(code); else rejectCode(new Error(`no code: ${u.searchParams.get('error')}`));
});
await new Promise((resolve) => listener.listen(0, '127.0.0.1', resolve));
const redirectUrl = `http://127.0.0.1:${listener.address().port}/callback`;

class Provider {
  client = undefined; saved = undefined; verifier = undefined;
  get redirectUrl() { return redirectUrl; }
  get clientMetadata() {
    return { client_name: 'mmcp-oauth-interop', redirect_uris: [redirectUrl], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  state() { return expectedState; }
  clientInformation() { return this.client; }
  saveClientInformation(info) { this.client = info; }
  tokens() { return this.saved; }
  saveTokens(tokens) {
    this.saved = tokens;
    fs.appendFileSync(tokensFile, `${tokens.access_token}\n${tokens.refresh_token ?? ''}\n`);
  }
  redirectToAuthorization(authorizationUrl) { console.log(`AUTHORIZE ${authorizationUrl.href}`); }
  saveCodeVerifier(v) { this.verifier = v; }
  codeVerifier() { return this.verifier; }
}

const provider = new Provider();
const watchdog = setTimeout(() => { console.log('FAIL watchdog: the checks did not finish within 300 s'); console.log(`${passed} passed, ${failed + 1} failed`); process.exit(1); }, 300000);

await check('first connect is refused and starts the authorization', async () => {
  const transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
  const client = new Client({ name: 'mmcp-oauth-interop', version: '1.0.0' }, { capabilities: {} });
  try {
    await client.connect(transport);
    throw new Error('connected without signing in');
  } catch (e) {
    assert(e instanceof UnauthorizedError, `expected UnauthorizedError, got ${e?.message ?? e}`);
  }
  assert(provider.client?.client_id, 'the client did not register dynamically');
  return `registered as ${provider.client.client_id}`;
});

await check('the code from the loopback redirect is exchanged for tokens', async () => {
  const code = await codeArrived;
  const transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
  await transport.finishAuth(code);
  assert(provider.saved?.access_token, 'no access token');
  assert(provider.saved?.refresh_token, 'no refresh token');
  return `token_type ${provider.saved.token_type}, scope ${provider.saved.scope}`;
});

const transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
const client = new Client({ name: 'mmcp-oauth-interop', version: '1.0.0' }, { capabilities: {} });
await check('connects with the access token', async () => { await client.connect(transport); });
await check('lists tools', async () => {
  const { tools } = await client.listTools();
  assert(tools.some((t) => t.name === tool), `${tool} is not listed`);
  return `${tools.length} tools`;
});
await check('calls a tool', async () => {
  const result = await client.callTool({ name: tool, arguments: { text: 'signed-in' } });
  assert(!result.isError, JSON.stringify(result));
  assert(JSON.stringify(result.content).includes('signed-in'), JSON.stringify(result.content));
});
await client.close().catch(() => {});
listener.close();
clearTimeout(watchdog);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
