// Drives Portcullis's Management API with Auth0's official ManagementClient, as a tenant's
// provisioning script would: create an API with a scope, an SPA and a user; read them back
// the ways apps do (lists, paging, search, by email); the database connection, tickets (the
// password-change link's page is fetched) and users' metadata; RBAC; logs; errors. Prints what the Rust
// test needs to log the user in. Run by tests/it/management_sdk.rs, never by hand: it expects
// PORTCULLIS_DOMAIN, PORTCULLIS_CLIENT_ID, PORTCULLIS_CLIENT_SECRET, SPA_ORIGIN, API_IDENTIFIER,
// USER_EMAIL, USER_PASSWORD and NODE_EXTRA_CA_CERTS (the test's throwaway CA).
import { ManagementClient, ManagementError } from "auth0";

const env = (name) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
};
const check = (condition, message) => {
    if (!condition) throw new Error(`check failed: ${message}`);
};
const rejects = async (promise, statusCode, errorCode) => {
    try {
        await promise;
    } catch (error) {
        check(error instanceof ManagementError, `a ManagementError, got ${error}`);
        check(error.statusCode === statusCode, `status ${statusCode}, got ${error.statusCode}`);
        check(error.body?.errorCode === errorCode, `errorCode ${errorCode}, got ${JSON.stringify(error.body)}`);
        return;
    }
    throw new Error(`expected a ${statusCode} ${errorCode}`);
};

const origin = env("SPA_ORIGIN");
const identifier = env("API_IDENTIFIER");
const email = env("USER_EMAIL");
const management = new ManagementClient({
    domain: env("PORTCULLIS_DOMAIN"),
    clientId: env("PORTCULLIS_CLIENT_ID"),
    clientSecret: env("PORTCULLIS_CLIENT_SECRET"),
});

// The quickstart's set-up: an API with a scope, an SPA, a user.
const api = await management.resourceServers.create({
    name: "Quickstart API",
    identifier,
    signing_alg: "RS256",
    scopes: [{ value: "read:messages", description: "Read messages" }],
    allow_offline_access: true,
});
check(api.identifier === identifier && api.scopes[0].value === "read:messages", "API created");
const spa = await management.clients.create({
    name: "Quickstart SPA",
    app_type: "spa",
    callbacks: [origin],
    allowed_logout_urls: [origin],
    web_origins: [origin],
    grant_types: ["authorization_code", "refresh_token"],
    token_endpoint_auth_method: "none",
    oidc_conformant: true,
});
check(spa.client_id && spa.client_secret === undefined, "SPA created, public");
const user = await management.users.create({
    connection: "Username-Password-Authentication",
    email,
    password: env("USER_PASSWORD"),
    email_verified: true,
    name: "Jane Doe",
});
check(user.user_id.startsWith("auth0|") && user.email === email, "user created");

// Reads: lists with the SDK's default totals, auto-paging, by id, by email, search.
const apis = await management.resourceServers.list();
check(apis.data.some((a) => a.identifier === identifier), "API listed");
check(apis.data.some((a) => a.is_system), "the Management API listed");
const byIdentifier = await management.resourceServers.get(identifier);
check(byIdentifier.id === api.id, "API by identifier");
const clients = [];
for await (const client of await management.clients.list({ per_page: 1 })) clients.push(client);
check(clients.length === 2 && clients.some((c) => c.client_id === spa.client_id), `auto-paged clients: ${clients.length}`);
const fetched = await management.clients.get(spa.client_id);
check(fetched.callbacks[0] === origin && fetched.client_secret === undefined, "SPA by id");
const byEmail = await management.users.listUsersByEmail({ email: email.toUpperCase() });
check(byEmail.length === 1 && byEmail[0].user_id === user.user_id, "user by email");
const searched = await management.users.list({ q: `email:"${email}"`, search_engine: "v3" });
check(searched.data.length === 1 && searched.data[0].user_id === user.user_id, "user search");
const grants = await management.clientGrants.list({ client_id: env("PORTCULLIS_CLIENT_ID") });
check(grants.data.length === 1 && grants.data[0].scope.includes("create:users"), "own grant listed");

// Updates.
const updated = await management.resourceServers.update(api.id, { token_lifetime: 3600 });
check(updated.token_lifetime === 3600, "API updated");
const renamed = await management.users.update(user.user_id, { name: "Jane Q. Doe" });
check(renamed.name === "Jane Q. Doe", "user updated");

// The database connection: found by strategy, read by id, its password policy raised (the
// options sent back whole, as Auth0 expects).
const connections = await management.connections.list({ strategy: ["auth0"] });
const database = connections.data.find((c) => c.name === "Username-Password-Authentication");
check(database && database.strategy === "auth0" && database.id.startsWith("con_"), "database connection listed");
const connection = await management.connections.get(database.id);
check(connection.options.passwordPolicy === "low" && connection.options.password_complexity_options.min_length === 8, "connection by id");
const stricter = await management.connections.update(connection.id, {
    options: { ...connection.options, passwordPolicy: "good", password_history: { enable: true, size: 5 } },
});
check(stricter.options.passwordPolicy === "good" && stricter.options.password_history.size === 5, "connection updated");
await rejects(
    management.users.create({ connection: "Username-Password-Authentication", email: "weak@example.com", password: "weakpassword" }),
    400,
    "invalid_body",
);
await rejects(management.connections.update(connection.id, { options: { bogus: true } }), 400, "invalid_body");

// Tickets: a password-change link (by user id, and by email with the connection) whose page is
// the reset form under the policy just set; an email-verification link; the verification-email job.
const domain = env("PORTCULLIS_DOMAIN");
const resetTicket = await management.tickets.changePassword({ user_id: user.user_id, result_url: origin, ttl_sec: 3600 });
check(resetTicket.ticket.startsWith(`https://${domain}/u/reset-password?ticket=`), `password-change ticket: ${resetTicket.ticket}`);
const resetPage = await fetch(resetTicket.ticket);
const resetHtml = await resetPage.text();
check(resetPage.status === 200 && resetPage.headers.get("content-type").startsWith("text/html"), `reset page: ${resetPage.status}`);
check(resetHtml.includes('action="/u/reset-password"') && resetHtml.includes(email), "the reset form for the user");
check(/<ul class="rules" id="password-rules">\s*<li>/.test(resetHtml), "the reset form shows the policy's rules");
const resetByEmail = await management.tickets.changePassword({ connection_id: connection.id, email });
check(resetByEmail.ticket.includes("/u/reset-password?ticket=") && resetByEmail.ticket !== resetTicket.ticket, "password-change ticket by email");
await rejects(management.tickets.changePassword({ user_id: "auth0|nobody" }), 404, "inexistent_user");
const verifyTicket = await management.tickets.verifyEmail({ user_id: user.user_id, result_url: origin });
check(verifyTicket.ticket.startsWith(`https://${domain}/u/email-verification?ticket=`), `email-verification ticket: ${verifyTicket.ticket}`);
const job = await management.jobs.verificationEmail.create({ user_id: user.user_id });
check(job.type === "verification_email" && job.status === "completed" && job.id, `verification-email job: ${JSON.stringify(job)}`);

// Metadata: set, then merged (a null deletes a property).
const withMetadata = await management.users.update(user.user_id, {
    user_metadata: { theme: "dark", address: { city: "Paris" } },
    app_metadata: { plan: "gold" },
});
check(withMetadata.user_metadata.theme === "dark" && withMetadata.app_metadata.plan === "gold", "metadata set");
const merged = await management.users.update(user.user_id, { user_metadata: { theme: null, lang: "fr" } });
check(
    merged.user_metadata.lang === "fr" && merged.user_metadata.theme === undefined && merged.user_metadata.address.city === "Paris",
    `metadata merged: ${JSON.stringify(merged.user_metadata)}`,
);
const reread = await management.users.get(user.user_id);
check(reread.app_metadata.plan === "gold" && reread.user_metadata.lang === "fr", "metadata read back");

// Roles and permissions.
const role = await management.roles.create({ name: "Reader", description: "Reads messages" });
await management.roles.permissions.add(role.id, {
    permissions: [{ resource_server_identifier: identifier, permission_name: "read:messages" }],
});
await management.users.roles.assign(user.user_id, { roles: [role.id] });
const userRoles = await management.users.roles.list(user.user_id);
check(userRoles.data.length === 1 && userRoles.data[0].id === role.id, "user's roles");
const members = await management.roles.users.list(role.id);
check(members.data.length === 1 && members.data[0].user_id === user.user_id, "role members");
const permissions = await management.users.permissions.list(user.user_id);
check(permissions.data.length === 1 && permissions.data[0].permission_name === "read:messages", "user's permissions");

// The audit log saw all of it.
const logs = await management.logs.list({ search: "type:sapi" });
check(logs.data.length >= 8 && logs.data.every((l) => l.type === "sapi"), `logs: ${logs.data.length}`);
const oneLog = await management.logs.get(logs.data[0].log_id);
check(oneLog.log_id === logs.data[0].log_id, "one log");

// Errors arrive as the SDK's typed errors.
await rejects(management.users.get("auth0|nobody"), 404, "inexistent_user");
await rejects(management.resourceServers.create({ identifier }), 409, "conflict");
await rejects(management.clients.create({ name: "" }), 400, "invalid_body");
await rejects(management.roles.create({ name: "Extra", bogus: true }), 400, "invalid_body");

console.log(JSON.stringify({ client_id: spa.client_id, user_id: user.user_id, api_id: api.id, connection_id: connection.id }));
