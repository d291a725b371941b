//! Protocol and domain logic of the Portcullis authorization server, free of HTTP and SQL.
//!
//! - [`clock`]: time as a parameter ([`Clock`]), so tests control it.
//! - [`secrets`]: random tokens, hashes of stored secrets, keyed client-secret hashes.
//! - [`password`]: argon2id hashing off the async threads ([`password::Passwords`]);
//!   [`password_policy`]: the database connection's rules for new passwords.
//! - [`sign_in`]: checking an email and password under throttling (login page, dashboard).
//! - [`mfa`]: second factors: what a login needs, enrolling TOTP, checking codes.
//! - [`keys`]: RSA signing keys, the [`KeyRing`] that signs JWTs and publishes the JWKS, the
//!   replica's [`keys::KeyCache`] and the one verifier of our own tokens.
//! - [`claims`]: the access-token and ID-token claim sets; [`tokens`]: minting them.
//! - [`pkce`]: PKCE S256.
//! - [`profile`]: a user's given and family names, with Auth0's bounds.
//! - [`authz`]: which scopes a user or a machine client gets for an API (RBAC, access rules).
//! - [`admin`]: administering the tenant, one module per aggregate, every change audited;
//!   [`accounts`]: the end user's own sign-up; [`consent`]: the user's consent to third-party
//!   applications.
//! - [`email`]: rendering a kind's template for a user and queueing the message in the
//!   store's outbox (delivered by the server's sender).
//! - [`audit`]: audit log entries and where they go.
//! - [`tenant`]: the whole tenant as one JSON document (export and import).

pub mod accounts;
pub mod actions;
pub mod admin;
pub mod audit;
pub mod authz;
pub mod claims;
pub mod clock;
pub mod consent;
pub mod dpop;
pub mod email;
pub mod federation;
pub mod introspection;
pub mod keys;
pub mod mfa;
pub mod passkey_signup;
pub mod password;
pub mod password_policy;
pub mod pkce;
pub mod profile;
pub mod registration;
pub mod secrets;
pub mod sign_in;
pub mod tenant;
pub mod tickets;
pub mod tokens;

pub use clock::{Clock, SystemClock};
pub use keys::KeyRing;
