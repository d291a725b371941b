//! The tenant's data model and the storage interface.
//!
//! Handlers and protocol logic see only the traits here (one per aggregate) behind
//! `Arc<dyn Store>`; the backend crates (`portcullis-store-sqlite`, later PostgreSQL) implement
//! them. Nothing here knows SQL or HTTP. Times are Unix seconds chosen by the caller, so the
//! store never reads the clock.

mod action;
mod dpop;
mod email;
mod error;
mod federation;
mod job;
mod mfa;
mod mfa_token;
mod model;
pub mod outage;
mod repos;
mod tenant;
mod ticket;
mod webauthn;

pub use action::{Action, ActionBinding, ActionRepository, ActionVersion};
pub use dpop::DpopProofRepository;
pub use email::*;
pub use error::{StoreError, StoreResult};
pub use federation::{
    FederatedIdentity, FederationRepository, UpstreamConnection, UpstreamTransaction,
};
pub use job::{Job, JobRepository};
pub use mfa::{Authenticator, MfaOwner, MfaRepository, MfaSettings};
pub use mfa_token::{MfaTokenRepository, PendingMfaLogin};
pub use model::*;
pub use repos::*;
pub use tenant::{TenantFlags, TenantRepository};
pub use ticket::{Ticket, TicketRepository};
pub use webauthn::{WebauthnChallenge, WebauthnRepository};
