//! The Management API v2 at `/api/v2`, with Auth0's paths, bodies, answers, paging and error
//! shape, so Auth0's SDKs (`ManagementClient`) work unchanged.
//!
//! - [`auth`]: the caller's access token (audience `ISSUER + "api/v2/"`) and scope checks.
//! - [`errors`]: Auth0's error shape; body and query extractors that answer in it.
//! - [`pagination`]: `page`/`per_page`/`include_totals`, `from`/`take`, `fields`.
//! - one module per resource: [`resource_servers`] (and their [`access_rules`], a Portcullis
//!   extension), [`clients`], [`client_grants`], [`users`], [`roles`], [`user_roles`] (users'
//!   roles and permissions), [`user_grants`] (users' consents to applications), [`user_blocks`]
//!   (brute-force blocks), [`logs`], [`connections`] (the database connection: sign-ups and
//!   the password policy), [`email_templates`].
//! - [`document`]: what the OpenAPI document says of every operation alike (400s, paged
//!   and projected answers).
//! - [`bootstrap`]: the Management API's own resource server and the first machine client.
//!
//! The OpenAPI document (`/api/v2/openapi.json`) is generated from the handlers' annotations;
//! the router is built from the same annotations, so every route is documented.

pub mod access_rules;
pub mod actions;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod client_grants;
pub mod clients;
pub mod connections;
pub mod document;
pub mod email_templates;
pub mod errors;
pub mod guardian;
pub mod jobs;
pub mod logs;
pub mod pagination;
pub mod resource_servers;
pub mod roles;
pub mod tenant_settings;
pub mod tickets;
pub mod upstream_connections;
pub mod user_blocks;
pub mod user_grants;
pub mod user_identities;
pub mod user_roles;
pub mod users;

use std::sync::Arc;

use axum::{extract::State, http::StatusCode, response::IntoResponse, routing::get, Json, Router};
use utoipa::{
    openapi::{
        security::{ClientCredentials, Flow, OAuth2, Scopes, SecurityScheme},
        OpenApi as OpenApiDocument, RefOr, Server,
    },
    Modify, OpenApi,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use self::errors::ApiError;
use crate::state::{AdminSettings, AdminState};

/// The name of the Management API's resource server.
pub const API_NAME: &str = "Portcullis Management API";

/// Every scope of the Management API, with Auth0's names.
pub const SCOPES: &[(&str, &str)] = &[
    ("read:resource_servers", "Read APIs"),
    ("create:resource_servers", "Create APIs"),
    ("update:resource_servers", "Update APIs"),
    ("delete:resource_servers", "Delete APIs"),
    ("read:clients", "Read applications"),
    ("create:clients", "Create applications"),
    ("update:clients", "Update applications"),
    ("delete:clients", "Delete applications"),
    ("update:client_keys", "Rotate application secrets"),
    ("read:client_grants", "Read client grants"),
    ("create:client_grants", "Create client grants"),
    ("update:client_grants", "Update client grants"),
    ("delete:client_grants", "Delete client grants"),
    ("read:users", "Read users"),
    ("create:users", "Create users"),
    ("update:users", "Update users"),
    ("delete:users", "Delete users"),
    ("read:roles", "Read roles"),
    ("create:roles", "Create roles"),
    ("update:roles", "Update roles"),
    ("delete:roles", "Delete roles"),
    ("read:role_members", "Read role members"),
    ("create:role_members", "Assign roles"),
    ("delete:role_members", "Remove role assignments"),
    ("read:logs", "Read the audit log"),
    ("read:grants", "Read users' grants to applications"),
    ("delete:grants", "Revoke users' grants to applications"),
    ("read:connections", "Read the database connection"),
    ("update:connections", "Update the database connection"),
    (
        "create:connections",
        "Create connections to other identity providers",
    ),
    (
        "delete:connections",
        "Delete connections to other identity providers",
    ),
    ("read:email_templates", "Read email templates"),
    ("create:email_templates", "Create email templates"),
    ("update:email_templates", "Update email templates"),
    (
        "create:user_tickets",
        "Create email-verification and password-change tickets",
    ),
    ("read:guardian_factors", "Read the MFA factors"),
    ("update:guardian_factors", "Enable or disable MFA factors"),
    ("read:mfa_policies", "Read the MFA policy"),
    ("update:mfa_policies", "Update the MFA policy"),
    (
        "read:authentication_methods",
        "Read users' enrolled factors",
    ),
    (
        "delete:authentication_methods",
        "Delete users' enrolled factors",
    ),
    ("delete:guardian_enrollments", "Reset users' MFA"),
    ("read:tenant_settings", "Read the tenant's settings"),
    ("update:tenant_settings", "Update the tenant's settings"),
    (
        "read:actions",
        "Read Actions, their versions and the triggers' bindings",
    ),
    ("create:actions", "Create Actions"),
    ("update:actions", "Update, deploy and bind Actions"),
    ("delete:actions", "Delete Actions"),
];

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Portcullis Management API",
        version = "2",
        description = "Auth0-compatible Management API v2: APIs, applications, client grants, users, roles, connections and logs. \
            Authenticate with an access token from the client-credentials grant for the audience `ISSUER/api/v2/`."
    ),
    components(schemas(errors::ErrorBody)),
    tags(
        (name = "resource-servers", description = "APIs"),
        (name = "actions", description = "Auth0 Actions: code run at the post-login and credentials-exchange triggers"),
        (name = "clients", description = "Applications"),
        (name = "client-grants", description = "Machine-to-machine grants"),
        (name = "users", description = "Users, their roles and permissions"),
        (name = "roles", description = "Roles (RBAC)"),
        (name = "grants", description = "Users' consents to applications"),
        (name = "user-blocks", description = "Logins blocked after too many failures"),
        (name = "connections", description = "The database connection: sign-ups and the password policy"),
        (name = "logs", description = "The audit log"),
        (name = "email-templates", description = "Templates of the emails the server sends"),
        (name = "tickets", description = "Links to verify an address or choose a new password"),
        (name = "jobs", description = "Verification emails"),
        (name = "guardian", description = "Multi-factor authentication: factors and policy"),
        (name = "tenants", description = "The tenant's settings"),
    )
)]
struct ApiDoc;

/// Fills in what every operation shares: a unique `operationId` in Auth0's style
/// (`get_users_by_id`) and the descriptions of the error answers.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, document: &mut OpenApiDocument) {
        for (path, item) in document.paths.paths.iter_mut() {
            let name = path
                .trim_start_matches('/')
                .replace("{id}", "by_id")
                .replace("{rule_id}", "by_rule_id")
                .replace("{method_id}", "by_method_id")
                .replace("{templateName}", "by_template_name")
                .replace(['/', '-'], "_");
            let operations = [
                ("get", item.get.as_mut()),
                ("post", item.post.as_mut()),
                ("patch", item.patch.as_mut()),
                ("put", item.put.as_mut()),
                ("delete", item.delete.as_mut()),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                operation.operation_id = Some(format!("{method}_{name}"));
                for (status, response) in operation.responses.responses.iter_mut() {
                    let RefOr::T(response) = response else {
                        continue;
                    };
                    if response.description.is_empty() {
                        response.description = match status.as_str() {
                            "400" => "Invalid body or query string",
                            "401" => "Missing or invalid access token",
                            "403" => "The access token lacks the scope",
                            "404" => "No such object",
                            "409" => "Conflicts with an existing object",
                            _ => "",
                        }
                        .to_owned();
                    }
                }
            }
        }
    }
}

/// The routes and their OpenAPI document, from the handlers' annotations.
pub fn routes() -> (Router<AdminState>, OpenApiDocument) {
    let router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(resource_servers::list, resource_servers::create))
        .routes(routes!(
            resource_servers::get,
            resource_servers::update,
            resource_servers::delete
        ))
        .routes(routes!(access_rules::list, access_rules::create))
        .routes(routes!(access_rules::delete))
        .routes(routes!(clients::list, clients::create))
        .routes(routes!(clients::get, clients::update, clients::delete))
        .routes(routes!(clients::rotate_secret))
        .routes(routes!(client_grants::list, client_grants::create))
        .routes(routes!(
            client_grants::get,
            client_grants::update,
            client_grants::delete
        ))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::update, users::delete))
        .routes(routes!(users::by_email))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(jobs::import_users))
                .layer(axum::extract::DefaultBodyLimit::max(
                    jobs::IMPORT_BODY_BYTES,
                )),
        )
        .routes(routes!(jobs::export_users))
        .routes(routes!(jobs::get))
        .routes(routes!(jobs::errors))
        .routes(routes!(user_identities::link))
        .routes(routes!(user_identities::unlink))
        .routes(routes!(user_blocks::list, user_blocks::clear))
        .routes(routes!(
            user_blocks::list_of_user,
            user_blocks::clear_of_user
        ))
        .routes(routes!(roles::list, roles::create))
        .routes(routes!(roles::get, roles::update, roles::delete))
        .routes(routes!(
            roles::list_permissions,
            roles::add_permissions,
            roles::remove_permissions
        ))
        .routes(routes!(roles::list_users, roles::assign_users))
        .routes(routes!(
            user_roles::list_roles,
            user_roles::assign_roles,
            user_roles::remove_roles
        ))
        .routes(routes!(
            user_roles::list_permissions,
            user_roles::add_permissions,
            user_roles::remove_permissions
        ))
        .routes(routes!(user_grants::list, user_grants::delete_by_user))
        .routes(routes!(user_grants::delete))
        .routes(routes!(connections::list, upstream_connections::create))
        .routes(routes!(
            connections::get,
            connections::update,
            upstream_connections::delete
        ))
        .routes(routes!(logs::list))
        .routes(routes!(logs::get))
        .routes(routes!(email_templates::create))
        .routes(routes!(guardian::list_factors))
        .routes(routes!(guardian::update_factor))
        .routes(routes!(guardian::get_policies, guardian::set_policies))
        .routes(routes!(guardian::list_methods))
        .routes(routes!(guardian::delete_method))
        .routes(routes!(guardian::reset))
        .routes(routes!(tenant_settings::get, tenant_settings::patch))
        .routes(routes!(actions::list, actions::create))
        .routes(routes!(actions::get, actions::update, actions::delete))
        .routes(routes!(actions::deploy))
        .routes(routes!(actions::versions))
        .routes(routes!(actions::test))
        .routes(routes!(actions::triggers))
        .routes(routes!(actions::bindings, actions::update_bindings))
        .routes(routes!(tickets::email_verification))
        .routes(routes!(tickets::password_change))
        .routes(routes!(tickets::verification_email))
        .routes(routes!(
            email_templates::get,
            email_templates::update,
            email_templates::replace
        ));
    let (router, mut document) = router.split_for_parts();
    Conventions.modify(&mut document);
    (router, document)
}

/// The Management API router, to mount at `/api/v2`.
pub fn router() -> Router<AdminState> {
    let (router, document) = routes();
    let document = Arc::new(document);
    router
        .route(
            "/openapi.json",
            get(move |State(app): State<AdminState>| {
                let document = document.clone();
                async move {
                    let mut value = serde_json::to_value(for_issuer(&document, &app.settings))
                        .unwrap_or_default();
                    document::complete(&mut value);
                    Json(value)
                }
            }),
        )
        .route("/jobs/{id}/file", get(jobs::file))
        .fallback(|| async { ApiError::not_found("not_found", "Not Found").into_response() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method Not Allowed",
            )
            .into_response()
        })
}

/// The document with this server's address and token endpoint.
fn for_issuer(document: &OpenApiDocument, settings: &AdminSettings) -> OpenApiDocument {
    let mut document = document.clone();
    document.servers = Some(vec![Server::new(settings.endpoint("api/v2"))]);
    let scopes = Scopes::from_iter(
        SCOPES
            .iter()
            .map(|(scope, description)| ((*scope).to_owned(), (*description).to_owned())),
    );
    let flow = Flow::ClientCredentials(ClientCredentials::new(
        settings.endpoint("oauth/token"),
        scopes,
    ));
    document
        .components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            "management_api",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [flow],
                format!(
                    "Client-credentials tokens for the audience {}",
                    settings.management_audience()
                ),
            )),
        );
    document
}
