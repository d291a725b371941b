//! Protocol and domain logic of the Portcullis authorization server, free of HTTP and SQL.
//!
//! - [`clock`]: time as a parameter ([`Clock`]), so tests control it.
//! - [`secrets`]: random tokens, hashes of stored secrets, keyed client-secret hashes.
//! - [`password`]: argon2id password hashing.
//! - [`keys`]: RSA signing keys, the [`KeyRing`] that signs JWTs and publishes the JWKS.
//! - [`claims`]: the access-token and ID-token claim sets.
//! - [`pkce`], [`scope`]: PKCE S256 and scope strings.
//! - [`authz`]: which scopes a user or a machine client gets for an API (RBAC, access rules);
//!   [`rules`]: creating access rules.
//! - [`admin`], [`administrators`]: creating and changing tenant objects with validation; dashboard administrators.
//! - [`tenant`]: the whole tenant as one JSON document (export and import).

pub mod admin;
pub mod administrators;
pub mod authz;
pub mod claims;
pub mod clock;
pub mod keys;
pub mod password;
pub mod pkce;
pub mod rules;
pub mod scope;
pub mod secrets;
pub mod tenant;

pub use clock::{Clock, SystemClock};
pub use keys::KeyRing;
