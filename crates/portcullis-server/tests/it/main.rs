//! Black-box tests: the real server on 127.0.0.1:0 with a fresh store per test, driven over
//! HTTP the way browsers and SDKs drive it. The store is a SQLite file, or with
//! `PORTCULLIS_TEST_BACKEND=postgres` a fresh database on a throwaway PostgreSQL cluster
//! (`cargo xtask ci` runs the suite both ways).

mod helpers;

mod actions;
mod actions_event;
mod actions_mfa;
mod admin_mfa;
mod admin_passkeys;
mod authorize_errors;
mod brute_force;
mod client_credentials;
mod client_policies;
mod code_flow;
mod connection;
mod connections;
mod connections_access;
mod connections_login;
mod connections_patch;
mod connections_rules;
mod consent;
mod dashboard;
mod dashboard_actions;
mod dashboard_connections;
mod dbconnections;
mod dpop;
mod dpop_code;
mod edge;
mod email;
mod fuzz_findings;
mod implicit;
mod introspection;
mod key_publication;
mod keys;
mod layout_rules;
mod logout;
mod management_actions;
mod management_auth;
mod management_bootstrap;
mod management_clients;
mod management_logs;
mod management_openapi;
mod management_resource_servers;
mod management_roles;
mod management_sdk;
mod management_support;
mod management_users;
mod metadata;
mod mfa;
mod mfa_api;
mod operations;
mod passkey_signup;
mod password_grant;
mod policies;
mod refresh;
mod registration;
mod sessions;
mod signing_algorithms;
mod silent_auth;
mod store_outage;
mod tickets;
mod tls;
mod token_errors;
mod users_import;
mod webauthn;
