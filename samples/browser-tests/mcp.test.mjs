// The MCP sample server (samples/mcp-server) with the official MCP TypeScript SDK as its client:
// from the 401 of an unauthenticated call, the SDK's OAuth client provider reads the RFC 9728
// document the server names, discovers Portcullis (RFC 8414), registers itself (RFC 7591), sends
// the browser to /authorize with PKCE and `resource` (RFC 8707), and exchanges the code the
// loopback redirect URI receives for a token, with which the tools answer. The browser part
// (login page, consent page) is Chromium driven by the provider's `redirectToAuthorization`.
// Dynamic registration is turned on for this file only.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import {
  artifactsFor, clientCredentials, jwtClaims, launch, management, newPage, onHostedPage, stack,
} from './support.mjs';

const artifacts = artifactsFor('mcp');
const mcpUrl = new URL(stack.mcp.url);
let browser;
const registered = [];

before(async () => {
  await management('PATCH', 'tenants/settings', { flags: { enable_dynamic_client_registration: true } });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await management('PATCH', 'tenants/settings', { flags: { enable_dynamic_client_registration: false } });
  for (const clientId of registered) await management('DELETE', `clients/${clientId}`);
});

/** A loopback redirect URI (RFC 8252 §7.3) whose listener hands over the first code it gets. */
async function loopbackRedirect() {
  let deliver;
  const received = new Promise((resolve) => { deliver = resolve; });
  const server = createServer((request, response) => {
    const url = new URL(request.url, 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><title>MCP client</title><h1>Signed in</h1><p>You can close this window.</p>');
    deliver(url.searchParams);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/callback`, received, close: () => server.close() };
}

/**
 * The SDK's `OAuthClientProvider`, kept in memory: what an MCP client such as an IDE stores,
 * and a `redirectToAuthorization` that opens the URL in Chromium and signs `credentials` in.
 */
class BrowserProvider {
  constructor({ redirectUrl, signIn }) {
    this.redirectUrl = redirectUrl;
    this.signIn = signIn;
    this.saved = {};
    this.authorizationUrls = [];
  }

  get clientMetadata() {
    return {
      client_name: 'Portcullis browser suite (MCP SDK)',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  clientInformation() { return this.saved.client; }
  saveClientInformation(client) { this.saved.client = client; }
  tokens() { return this.saved.tokens; }
  saveTokens(tokens) { this.saved.tokens = tokens; }
  saveCodeVerifier(verifier) { this.saved.verifier = verifier; }
  codeVerifier() { return this.saved.verifier; }

  async redirectToAuthorization(url) {
    this.authorizationUrls.push(url);
    await this.signIn(url);
  }
}

/**
 * Connects the SDK's client to the MCP sample as `credentials`, the way an MCP host does: the
 * first connection fails with the 401 and sends the user to sign in; `finishAuth` exchanges
 * the code; the second connection carries the token. `label` names the screenshots.
 */
async function connectAs(credentials, label) {
  const redirect = await loopbackRedirect();
  const { context, page, shot } = await newPage(browser, artifacts, label);
  try {
    const provider = new BrowserProvider({
      redirectUrl: redirect.url,
      signIn: async (url) => {
        await page.goto(url.href);
        await onHostedPage(page, '/u/login');
        await shot('login');
        await page.fill('#email', credentials.email);
        await page.fill('#password', credentials.password);
        await page.click('button[type=submit]');
        // A dynamically registered application is third-party: the user approves its scopes.
        await page.waitForSelector('#accept');
        assert.match(await page.textContent('body'), /read:messages/);
        await shot('consent');
        await page.click('#accept');
        await page.waitForURL((landed) => landed.href.startsWith(redirect.url));
        await shot('redirected');
      },
    });
    const first = new Client({ name: 'portcullis-browser-suite', version: '1.0.0' });
    await assert.rejects(
      first.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider })),
      UnauthorizedError,
    );
    const params = await redirect.received;
    assert.equal(params.get('error'), null, params.get('error_description') ?? '');
    const transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
    await transport.finishAuth(params.get('code'));
    const client = new Client({ name: 'portcullis-browser-suite', version: '1.0.0' });
    await client.connect(transport);
    registered.push(provider.saved.client.client_id);
    return { client, provider };
  } finally {
    redirect.close();
    await context.close();
  }
}

async function userId(email) {
  const [user] = await management('GET', `users-by-email?email=${encodeURIComponent(email)}`);
  return user.user_id;
}

/** The structured answer of a tool call. */
async function callTool(client, name) {
  const result = await client.callTool({ name, arguments: {} });
  assert.notEqual(result.isError, true, JSON.stringify(result));
  return result.structuredContent;
}

test('an unauthenticated call gets the RFC 9728 challenge, and the document names Portcullis', async () => {
  const response = await fetch(mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  assert.equal(response.status, 401);
  const challenge = response.headers.get('www-authenticate');
  const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
  assert.equal(metadataUrl, `${mcpUrl.origin}/.well-known/oauth-protected-resource/mcp`, challenge);
  const metadata = await (await fetch(metadataUrl)).json();
  assert.equal(metadata.resource, stack.mcp.url);
  assert.deepEqual(metadata.authorization_servers, [stack.issuer]);
  assert.deepEqual(metadata.scopes_supported, [stack.scope]);
});

test('the MCP SDK discovers, registers, signs in with PKCE and resource, and calls the tools', { timeout: 90_000 }, async () => {
  const { client, provider } = await connectAs(stack.user, 'reader');
  try {
    // Registered at Portcullis as a public client with the loopback redirect URI.
    assert.match(provider.saved.client.client_id, /\S+/);
    assert.equal(provider.saved.client.token_endpoint_auth_method, 'none');
    const [authorization] = provider.authorizationUrls;
    assert.equal(authorization.origin + authorization.pathname, `${stack.domain}/authorize`);
    assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorization.searchParams.get('resource'), stack.mcp.url);
    assert.equal(authorization.searchParams.get('scope'), stack.scope);
    const claims = jwtClaims(provider.saved.tokens.access_token);
    assert.equal(claims.aud, stack.mcp.url);

    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((tool) => tool.name).sort(), ['read_messages', 'whoami']);
    const sub = await userId(stack.user.email);
    const answer = await callTool(client, 'read_messages');
    assert.equal(answer.sub, sub);
    assert.deepEqual(answer.scopes, [stack.scope]);
    assert.match(answer.messages[0], new RegExp(`Hello ${sub}`));
  } finally {
    await client.close();
  }
});

test('a token without read:messages is refused by read_messages', { timeout: 90_000 }, async () => {
  // The denied user holds no role: under the API's RBAC the token has no scope at all.
  const { client } = await connectAs(stack.deniedUser, 'denied');
  try {
    const who = await callTool(client, 'whoami');
    assert.equal(who.sub, await userId(stack.deniedUser.email));
    assert.deepEqual(who.scopes, []);
    await assert.rejects(client.callTool({ name: 'read_messages', arguments: {} }), (error) => {
      assert.ok(error instanceof McpError, String(error));
      assert.match(error.message, /insufficient_scope/);
      assert.equal(error.data?.error, 'insufficient_scope');
      return true;
    });
  } finally {
    await client.close();
  }
});

test('a token for another audience is refused', async () => {
  // A valid token of the same issuer, for the Management API: not this server's audience.
  const { clientId, clientSecret, audience } = stack.management;
  const token = await clientCredentials(clientId, clientSecret, audience);
  const transport = new StreamableHTTPClientTransport(mcpUrl, {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'portcullis-browser-suite', version: '1.0.0' });
  await assert.rejects(client.connect(transport), (error) => {
    assert.ok(error instanceof StreamableHTTPError, String(error));
    assert.equal(error.code, 401);
    return true;
  });
  const response = await fetch(mcpUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  assert.equal(response.status, 401);
  assert.match(response.headers.get('www-authenticate'), /error="invalid_token"/);
});
