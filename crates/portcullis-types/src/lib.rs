//! Protocol values as types, shared by the store's data model, the domain logic and the
//! server: what OAuth 2.0, OpenID Connect and Auth0 spell as strings is parsed once, at the
//! edge, into one of these, and an invalid value never gets further.
//!
//! - [`GrantType`], [`ClientAuthMethod`]: an application's grants and how it authenticates.
//! - [`RotationType`]: refresh-token rotation.
//! - [`PasswordStrength`]: the password policy level of the database connection.
//! - [`SigningAlg`], [`TokenDialect`]: how an API's access tokens are signed and shaped.
//! - [`ScopeToken`], [`Scope`]: RFC 6749 scopes; an invalid token is refused, never dropped.
//! - [`EventType`]: Auth0's audit log type codes.
//! - [`EmailKind`], [`EmailStatus`]: the emails the server sends and where each one is.
//! - [`MfaFactor`], [`MfaPolicy`], [`AuthMethod`]: second factors, the tenant's MFA policy,
//!   and the `amr` values of a login.
//! - [`ActionTrigger`]: where Auth0 Actions run (post-login, credentials-exchange).
//! - [`Secret`]: a value that never shows in `Debug` or `Display` (passwords, client secrets,
//!   codes, refresh tokens, the master key, database URLs).
//!
//! No IO, no HTTP, no SQL.

mod action;
mod closed;
mod email;
mod event;
mod mfa;
mod scope;
mod secret;
mod strategy;

pub use action::ActionTrigger;
pub use closed::{
    ClientAuthMethod, GrantType, PasswordStrength, RotationType, SigningAlg, TokenDialect,
    UnknownValue,
};
pub use email::{EmailKind, EmailStatus, TicketKind};
pub use event::EventType;
pub use mfa::{AuthMethod, MfaFactor, MfaPolicy, ACR_MULTI_FACTOR};
pub use scope::{InvalidScope, Scope, ScopeToken, OIDC_SCOPES};
pub use secret::Secret;
pub use strategy::Strategy;
