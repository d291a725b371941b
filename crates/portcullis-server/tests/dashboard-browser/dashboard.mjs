// Walks the seed tutorials' dashboard steps in headless Chromium (Debian's), with
// playwright-core from the browser suite's install (samples/browser-tests):
// sign in, Create API (name, identifier, RS256), add the scope read:messages, create a
// single-page application, open the API's Test tab and copy the token. Every dashboard page
// met on the way is saved as a screenshot. The copied token is printed as the last line of
// stdout, as JSON, for the Rust test to verify against the JWKS.
//
// Run by `dashboard::browser_walks_the_seed_steps` (crates/portcullis-server/tests/it), which
// starts the server and passes:
//   PORTCULLIS_URL            the server's base URL (http://localhost:PORT)
//   PORTCULLIS_ADMIN_EMAIL    an administrator's email
//   PORTCULLIS_ADMIN_PASSWORD and password
//   DASHBOARD_ARTIFACTS       where screenshots go
//   PLAYWRIGHT_PACKAGE        the package.json whose node_modules hold playwright-core
//   CHROMIUM                  the browser executable (default /usr/bin/chromium)

import { createRequire } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) {
    throw new Error(`${name} is not set`);
  }
  return value;
};

const base = env("PORTCULLIS_URL").replace(/\/$/, "");
const adminEmail = env("PORTCULLIS_ADMIN_EMAIL");
const adminPassword = env("PORTCULLIS_ADMIN_PASSWORD");
const artifacts = env("DASHBOARD_ARTIFACTS");
const require = createRequire(env("PLAYWRIGHT_PACKAGE"));
const { chromium } = require("playwright-core");

const API_NAME = "Quickstart API";
const API_IDENTIFIER = "https://quickstarts/api";
const SPA_NAME = "Quickstart SPA";
const SPA_ORIGIN = "http://localhost:3000";

fs.mkdirSync(artifacts, { recursive: true });
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "portcullis-dashboard-"));

const step = (text) => console.error(`dashboard.mjs: ${text}`);

let shots = 0;
async function shot(page, name) {
  shots += 1;
  const file = path.join(artifacts, `${String(shots).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  step(`screenshot ${file}`);
}

/// Fails when the page shows an error the test did not expect.
async function expectNoError(page) {
  const alerts = await page.locator('[role="alert"]').allTextContents();
  if (alerts.length > 0) {
    throw new Error(`unexpected error on ${page.url()}: ${alerts.join(" | ")}`);
  }
}

async function expectFlash(page, text) {
  const flash = page.locator("#flash");
  await flash.waitFor();
  const shown = await flash.textContent();
  if (!shown.includes(text)) {
    throw new Error(`expected the message "${text}", got "${shown.trim()}"`);
  }
}

const context = await chromium.launchPersistentContext(profile, {
  executablePath: env("CHROMIUM", "/usr/bin/chromium"),
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
  viewport: { width: 1360, height: 900 },
  deviceScaleFactor: 1,
});

try {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  // Failed loads are judged by their responses below (the wrong password's 401 is expected).
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  // Refusals the walk provokes on purpose, each expected once: "STATUS PATH".
  const refusals = [];
  page.on("response", (response) => {
    if (response.status() < 400) {
      return;
    }
    const seen = `${response.status()} ${new URL(response.url()).pathname}`;
    const index = refusals.indexOf(seen);
    if (index >= 0) {
      refusals.splice(index, 1);
    } else {
      problems.push(`${seen} (unexpected)`);
    }
  });

  // Sign in: the dashboard sends a stranger to the sign-in page.
  step("sign in");
  await page.goto(`${base}/dashboard`);
  await page.waitForURL(/\/dashboard\/signin/);
  await shot(page, "signin");
  await page.getByLabel("Email address").fill(adminEmail);
  await page.getByLabel("Password").fill("not the password");
  refusals.push("401 /dashboard/signin");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#signin-error").waitFor();
  await shot(page, "signin-error");
  await page.getByLabel("Password").fill(adminPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${base}/dashboard/apis`);
  await expectNoError(page);
  const shownAdmin = await page.locator("#admin-email").textContent();
  if (shownAdmin.trim() !== adminEmail) {
    throw new Error(`the header shows ${shownAdmin}, not the administrator's email`);
  }
  await shot(page, "apis");

  // Create API: name, identifier, signing algorithm RS256.
  step("create the API");
  await page.getByRole("link", { name: "Create API" }).click();
  await page.getByLabel("Identifier").fill("has spaces");
  refusals.push("400 /dashboard/apis");
  await page.getByRole("button", { name: "Create" }).click();
  await page.locator(".field-error").first().waitFor();
  await shot(page, "api-new-invalid");
  await page.getByLabel("Name").fill(API_NAME);
  await page.getByLabel("Identifier").fill(API_IDENTIFIER);
  await page.getByLabel("Signing Algorithm").selectOption("RS256");
  await shot(page, "api-new");
  await page.getByRole("button", { name: "Create" }).click();
  await page.waitForURL(/\/dashboard\/apis\/[^/]+\/settings$/);
  await expectFlash(page, "created");
  await expectNoError(page);
  await shot(page, "api-settings");

  // The Scopes tab: add read:messages.
  step("add the scope read:messages");
  await page.getByRole("link", { name: "Scopes", exact: true }).click();
  await page.getByLabel("Scope", { exact: true }).fill("read:messages");
  await page.getByLabel("Description").fill("Read messages");
  await page.getByRole("button", { name: "Add" }).click();
  await expectFlash(page, "read:messages");
  await page.locator("#scopes-table").getByText("read:messages").waitFor();
  await expectNoError(page);
  await shot(page, "api-scopes");

  await page.getByRole("link", { name: "Access rules" }).click();
  await expectNoError(page);
  await shot(page, "api-rules");

  // Create a single-page application, registered for the sample's origin.
  step("create the SPA");
  await page.getByRole("navigation", { name: "Sections", exact: true }).getByRole("link", { name: "Applications" }).click();
  await shot(page, "applications");
  await page.getByRole("link", { name: "Create Application" }).click();
  await page.getByLabel("Name").fill(SPA_NAME);
  await page.getByLabel("Single Page Web Application").check();
  await shot(page, "application-new");
  await page.getByRole("button", { name: "Create" }).click();
  await page.waitForURL(/\/dashboard\/applications\/[^/]+\/settings$/);
  await expectFlash(page, "created");
  await page.getByLabel("Allowed Callback URLs").fill(SPA_ORIGIN);
  await page.getByLabel("Allowed Logout URLs").fill(SPA_ORIGIN);
  await page.getByLabel("Allowed Web Origins").fill(SPA_ORIGIN);
  await page.getByRole("button", { name: "Save Changes" }).click();
  await expectFlash(page, "saved");
  await expectNoError(page);
  await shot(page, "application-settings");
  await page.getByRole("link", { name: "Credentials" }).click();
  await expectNoError(page);
  await shot(page, "application-credentials");

  // The API's Test tab: a test application, then a token to copy.
  step("open the Test tab");
  await page.getByRole("navigation", { name: "Sections", exact: true }).getByRole("link", { name: "APIs" }).click();
  await page.getByRole("link", { name: API_NAME }).click();
  await page.getByRole("link", { name: "Test", exact: true }).click();
  await shot(page, "api-test-empty");
  await page.getByRole("button", { name: /test application/ }).click();
  await page.locator("#access-token").waitFor();
  await expectNoError(page);
  const shownToken = (await page.locator("#access-token").inputValue()).trim();
  const copyButton = page.getByRole("button", { name: "Copy token" });
  await copyButton.click();
  await page.getByRole("button", { name: "Copied" }).first().waitFor();
  const copied = (await page.evaluate(() => navigator.clipboard.readText())).trim();
  if (copied !== shownToken) {
    throw new Error("the clipboard does not hold the token the page shows");
  }
  const curl = await page.locator("#api-curl").textContent();
  if (!curl.includes(`authorization: Bearer ${copied}`) || !curl.includes("curl --request GET")) {
    throw new Error(`the curl line does not carry the token: ${curl}`);
  }
  await shot(page, "api-test");

  // The test application: a machine-to-machine client with a grant, and its secret rotated.
  step("the test application");
  await page.getByRole("link", { name: `${API_NAME} (Test Application)` }).click();
  await page.getByRole("link", { name: "APIs", exact: true }).last().click();
  await expectNoError(page);
  await shot(page, "application-apis");
  await page.getByRole("link", { name: "Credentials" }).click();
  await page.getByRole("button", { name: "Rotate secret" }).click();
  await page.locator("#client-secret").waitFor();
  await shot(page, "application-secret");

  // The other sections, for their screenshots (and that they render without errors).
  step("users, roles, logs");
  await page.getByRole("link", { name: "Users", exact: true }).click();
  await page.getByRole("link", { name: "Create User" }).click();
  await page.getByLabel("Email", { exact: true }).fill("jane@example.com");
  await page.getByLabel("Password", { exact: true }).fill("a long password");
  await page.getByLabel("Mark the email address as verified").check();
  await shot(page, "user-new");
  await page.getByRole("button", { name: "Create" }).click();
  await expectFlash(page, "created");
  await shot(page, "user-details");
  await page.getByRole("navigation", { name: "Sections", exact: true }).getByRole("link", { name: "Users" }).click();
  await shot(page, "users");

  await page.getByRole("link", { name: "Roles", exact: true }).click();
  await page.getByRole("link", { name: "Create Role" }).click();
  await page.getByLabel("Name").fill("Message reader");
  await page.getByLabel("Description").fill("Reads the messages of the quickstart API");
  await shot(page, "role-new");
  await page.getByRole("button", { name: "Create" }).click();
  await expectFlash(page, "created");
  await page.getByRole("checkbox", { name: /read:messages/ }).check();
  await shot(page, "role-permissions-add");
  await page.getByRole("button", { name: "Add permissions" }).click();
  await expectFlash(page, "read:messages");
  await shot(page, "role-permissions");
  await page.getByRole("link", { name: "Users", exact: true }).last().click();
  await page.getByLabel("User's email").fill("jane@example.com");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await expectFlash(page, "added");
  await shot(page, "role-users");
  await page.getByRole("navigation", { name: "Sections", exact: true }).getByRole("link", { name: "Roles" }).click();
  await shot(page, "roles");
  await page.getByRole("link", { name: "Message reader" }).click();
  await expectNoError(page);
  await shot(page, "role-settings");

  await page.getByRole("navigation", { name: "Sections", exact: true }).getByRole("link", { name: "Users" }).click();
  await page.getByRole("link", { name: "jane@example.com" }).click();
  await page.getByRole("link", { name: "Roles", exact: true }).last().click();
  await expectNoError(page);
  await shot(page, "user-roles");
  await page.getByRole("link", { name: "Permissions", exact: true }).last().click();
  await page.getByRole("checkbox", { name: /read:messages/ }).check();
  await page.getByRole("button", { name: "Add permissions" }).click();
  await expectFlash(page, "read:messages");
  await shot(page, "user-permissions");

  await page.getByRole("link", { name: "Logs", exact: true }).click();
  await expectNoError(page);
  await shot(page, "logs");
  await page.getByLabel("Type").selectOption("sapi");
  await page.getByLabel("User").fill(adminEmail);
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL(/type=sapi/);
  await shot(page, "logs-filtered");
  await page.locator("#logs-table a.cell-title").first().click();
  await expectNoError(page);
  await shot(page, "log");

  problems.push(...refusals.map((refusal) => `${refusal} was expected and did not happen`));
  if (problems.length > 0) {
    throw new Error(problems.join("\n"));
  }
  console.log(JSON.stringify({ token: copied, screenshots: shots }));
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
