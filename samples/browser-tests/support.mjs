// What the browser test files share: the stack's manifest, Debian's Chromium launched the one
// way the suite allows, pages that log and take numbered screenshots, Management API calls
// with the stack's management client, and the mailbox the stack's SMTP server fills.

import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const stack = JSON.parse(readFileSync(process.env.PORTCULLIS_STACK, 'utf8'));

/** The artifacts folder of one test file, created. */
export function artifactsFor(name) {
  const folder = join(process.env.ARTIFACTS_DIR || join(process.cwd(), 'artifacts'), name);
  mkdirSync(folder, { recursive: true });
  return folder;
}

/** Debian's Chromium, headless, with a fresh profile: never a downloaded browser. */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A fresh context and page whose console, errors and responses go to `artifacts/browser.log`,
 * with `shot(label)` taking numbered full-page screenshots named after `name`.
 */
export async function newPage(browser, artifacts, name) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const log = (line) => appendFileSync(join(artifacts, 'browser.log'), `${name}: ${line}\n`);
  page.on('console', (m) => log(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    const url = new URL(r.url());
    if (!url.pathname.startsWith('/node_modules/')) log(`${r.status()} ${r.request().method()} ${url.origin}${url.pathname}`);
  });
  let shots = 0;
  const shot = async (label) => {
    shots += 1;
    await page.screenshot({ path: join(artifacts, `${name}-${String(shots).padStart(2, '0')}-${label}.png`), fullPage: true });
  };
  return { context, page, shot };
}

/**
 * The newest message the stack's SMTP server received for `to` whose subject starts with
 * `subject`, as it arrived (envelope, headers, text, HTML); waits for it to be delivered
 * (the server sends from its queue, shortly after the request that wrote it).
 */
export async function deliveredMail(to, subject, { timeoutMs = 20_000 } = {}) {
  assert.ok(stack.mail?.dir, 'the stack runs an SMTP server (cargo xtask browser)');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const messages = readdirSync(stack.mail.dir)
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => JSON.parse(readFileSync(join(stack.mail.dir, name), 'utf8')))
      .filter((message) => message.envelope.to.includes(to) && message.subject.startsWith(subject));
    if (messages.length > 0) return messages[messages.length - 1];
    assert.ok(Date.now() < deadline, `no "${subject}" message to ${to} reached the SMTP server`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The distinct links to the authorization server in a message's text. */
export function serverLinks(text) {
  const links = text.match(/https?:\/\/[^\s<>"')\]]+/g) ?? [];
  return [...new Set(links.filter((link) => link.startsWith(`${stack.domain}/`)))];
}

/** An access token from client_credentials; the answer must be 200. */
export async function clientCredentials(clientId, clientSecret, audience) {
  const response = await fetch(`${stack.domain}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, audience }),
  });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return body.access_token;
}

/** A Management API call with the stack's management client; the answer must be 2xx. */
export async function management(method, path, body) {
  const { clientId, clientSecret, audience } = stack.management;
  const token = await clientCredentials(clientId, clientSecret, audience);
  const response = await fetch(`${audience}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  const answer = response.status === 204 ? null : await response.json();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** Waits until the page is the hosted page at `pathname`. */
export function onHostedPage(page, pathname) {
  return page.waitForURL((url) => url.origin === stack.domain && url.pathname === pathname);
}

/** The claims of a JWT, read without verifying it (the API verified it). */
export function jwtClaims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

/** Turns `factors` on with the "always" policy (Auth0's `["all-applications"]`). */
export async function requireMfa(factors) {
  for (const factor of factors) await management('PUT', `guardian/factors/${factor}`, { enabled: true });
  await management('PUT', 'guardian/policies', ['all-applications']);
}

/** Puts the policy back to its default and turns `factors` off. */
export async function resetMfa(factors) {
  await management('PUT', 'guardian/policies', []);
  for (const factor of factors) await management('PUT', `guardian/factors/${factor}`, { enabled: false });
}

/**
 * A fresh page (see `newPage`) whose browser holds a DevTools virtual platform authenticator:
 * CTAP2, internal transport, resident keys, user verification, presence answered at once.
 */
export async function pageWithAuthenticator(browser, artifacts, name) {
  const opened = await newPage(browser, artifacts, name);
  const cdp = await opened.context.newCDPSession(opened.page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { ...opened, cdp, authenticatorId };
}

/** Signs `page` in to the dashboard as the stack's administrator. */
export async function signInToDashboard(page) {
  await page.goto(`${stack.domain}/dashboard/signin`);
  await page.fill('#email', stack.admin.email);
  await page.fill('#password', stack.admin.password);
  await page.click('button[type=submit]');
  await page.waitForURL((url) => url.pathname !== '/dashboard/signin');
}
