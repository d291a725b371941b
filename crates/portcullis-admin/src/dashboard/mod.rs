//! The web dashboard under `/dashboard`: administrators sign in and manage the tenant's APIs,
//! applications, users, roles and read the audit log. Server-rendered HTML forms that work
//! without JavaScript (a small script only adds copy buttons), CSRF-protected, every list
//! paginated. Every change goes through `portcullis_core::admin` (the operations the CLI and
//! the Management API share), which records it in the audit log with the administrator.
//!
//! - [`auth`]: sign-in, the administrator's session, the [`auth::Dash`] and [`auth::Posted`]
//!   extractors (session required; POSTs carry the CSRF value).
//! - [`view`]: templates, the layout, flash messages, pagination, static assets.
//! - [`form`]: reading `application/x-www-form-urlencoded` bodies and queries leniently.
//! - one module per section: [`apis`], [`applications`], [`users`] (with its Authorized
//!   Applications tab in [`authorized_apps`] and its Multi-factor tab in [`user_factors`]),
//!   [`roles`], [`database`] (Authentication → Database: sign-ups and the password policy),
//!   [`connections`] (Authentication → Social / Enterprise: other identity providers),
//!   [`logs`], [`emails`] (the outbox and the email templates), [`tenant_settings`] (the
//!   tenant's flags: dynamic client registration), [`actions`] (Actions → Library: code,
//!   secrets, deploy, a test run) and [`action_triggers`] (Actions → Triggers: the ordered
//!   bindings); [`permissions`] holds the Permissions tab roles and users share.
//! - [`admin_mfa`]: the second step of an administrator's sign-in (a code or a key, or
//!   enrolling a factor when one is mandatory); [`account`]: the administrator's own account
//!   page (enrolling an authenticator app), with their passkeys and security keys in
//!   [`account_keys`]; [`admin_keys`]: the WebAuthn ceremonies both carry; [`security`]: Security → Multi-factor (the tenant's
//!   factors and policy, the administrators' mandatory setting and resets); [`mfa_step`]:
//!   whether a sign-in owes that step.
//! - [`bootstrap`]: the first administrator on first start.

pub mod account;
pub mod account_keys;
pub mod action_triggers;
pub mod actions;
pub mod admin_keys;
pub mod admin_mfa;
pub mod apis;
pub mod applications;
pub mod auth;
pub mod authorized_apps;
pub mod bootstrap;
pub mod connections;
pub mod database;
pub mod emails;
pub mod form;
pub mod logs;
pub mod mfa_step;
pub mod paths;
pub mod permissions;
pub mod roles;
pub mod security;
pub mod tenant_settings;
pub mod user_factors;
pub mod users;
pub mod view;

use axum::{
    response::Redirect,
    routing::{get, post},
    Router,
};

pub use bootstrap::bootstrap_admin;

use crate::state::AdminState;

/// Every dashboard route, to be nested under `/dashboard`.
pub fn router() -> Router<AdminState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard/apis") }))
        .route("/signin", get(auth::signin_page).post(auth::signin))
        .route("/signout", post(auth::signout))
        .merge(admin_mfa::routes())
        .merge(account::routes())
        .merge(account_keys::routes())
        .merge(security::routes())
        .route("/static/dashboard.css", get(view::css))
        .route("/static/dashboard.js", get(view::js))
        .route("/static/webauthn.js", get(view::webauthn_js))
        .route("/static/favicon.svg", get(view::favicon))
        .merge(apis::routes())
        .merge(applications::routes())
        .merge(users::routes())
        .merge(authorized_apps::routes())
        .merge(user_factors::routes())
        .merge(roles::routes())
        .merge(database::routes())
        .merge(connections::routes())
        .merge(logs::routes())
        .merge(emails::routes())
        .merge(tenant_settings::routes())
        .merge(actions::routes())
        .merge(action_triggers::routes())
        .fallback(view::not_found)
}
