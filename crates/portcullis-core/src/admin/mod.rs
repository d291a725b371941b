//! Administering the tenant: one module per aggregate, each operation a function of a
//! [`Context`] and an [`Actor`]. The Management API, the dashboard and the CLI are adapters
//! over these functions, so an object is made, checked and changed one way whoever asks, every
//! change writes its own audit entry (from a typed [`Change`]), and rules that span objects (an
//! API's test application is granted every scope of the API) hold on every surface.
//!
//! Validation errors name the field that failed ([`AdminError::Invalid`]), with the
//! Management API's field names, so a form can mark that one field.

pub mod action_secrets;
pub mod actions;
pub mod administrators;
pub mod apis;
pub mod applications;
mod change;
pub mod connection;
pub mod consents;
mod custom_password_hash;
pub mod email_templates;
pub mod grants;
pub mod identities;
pub mod jobs;
pub mod keys;
mod metadata;
pub mod mfa;
pub mod roles;
pub mod rules;
pub mod tenant_settings;
pub mod test_application;
pub mod tickets;
pub mod upstream;
pub mod user_import;
pub mod users;
mod validate;

use std::sync::Arc;

use portcullis_store::{Store, StoreError};

pub use self::{
    change::{Action, Change, Kind},
    metadata::{MetadataChange, MAX_METADATA_BYTES},
    validate::{check_client_id, check_email, MIN_GIVEN_SECRET_LENGTH},
};
use crate::{
    audit::{AuditSink, RequestOrigin, StoreAudit},
    email::{EmailError, MailContext, Outbox},
    keys::KeyLifecycleError,
    password::{PasswordError, Passwords},
    secrets::SecretHasher,
    sign_in::ThrottleLimits,
    Clock,
};

/// What every administrative operation works with.
#[derive(Clone)]
pub struct Context {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// Keys the client-secret hashes.
    pub secrets: SecretHasher,
    pub passwords: Passwords,
    pub audit: Arc<dyn AuditSink>,
    /// The login page's brute-force limits: which of a user's login blocks are in force.
    pub throttle: ThrottleLimits,
    /// Where emails go: queued for this process's sender, or kept in the outbox.
    pub outbox: Outbox,
    /// Where the links of account emails point, and whether a sign-up asks for a
    /// verification.
    pub accounts: crate::tickets::AccountSettings,
    /// Seals what the store keeps but must not hold in the clear: signing keys and the
    /// signing secrets of HS256 APIs.
    pub key_cipher: Arc<crate::keys::KeyCipher>,
    /// Whether administrators must pass a second factor, when the server's configuration
    /// says (it then wins over the tenant's setting); `None` leaves it to the tenant.
    pub admin_mfa_required: Option<bool>,
    /// Runs Actions' code (test runs) and checks that it compiles (deployments).
    pub actions: portcullis_actions::Engine,
}

impl Context {
    /// A context that writes its audit entries straight to `store`, with client secrets
    /// keyed by `master_key` (the CLI's and the tests' way; the server passes its own sink).
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, master_key: &[u8]) -> Self {
        Context {
            audit: Arc::new(StoreAudit::new(store.clone(), clock.clone())),
            store,
            clock,
            secrets: SecretHasher::new(master_key),
            passwords: Passwords::new(),
            throttle: ThrottleLimits::default(),
            outbox: Outbox::keeping(),
            accounts: crate::tickets::AccountSettings::default(),
            // The AES key is the 32 bytes of an HMAC-SHA-256, which AES-256 always accepts.
            key_cipher: Arc::new(
                crate::keys::KeyCipher::new(master_key)
                    .expect("AES-256 accepts a 32-byte derived key"),
            ),
            admin_mfa_required: None,
            actions: portcullis_actions::Engine::new(portcullis_actions::Limits::default(), 2),
        }
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Writes the audit entry of `change`, made by `actor`. What the server provisions for
    /// itself at first start is not a change anyone made: the server's own log says what it
    /// created, and the audit log starts with the tenant's first real change.
    pub(crate) async fn record(&self, actor: &Actor, change: Change) {
        if *actor != Actor::System {
            self.audit.record(change.entry(actor)).await;
        }
    }
}

impl MailContext for Context {
    fn mail_store(&self) -> &dyn Store {
        self.store()
    }

    fn mail_now(&self) -> i64 {
        self.now()
    }

    fn outbox(&self) -> &Outbox {
        &self.outbox
    }
}

/// Who makes a change: recorded with it in the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// The command line, on the store directly.
    Cli,
    /// The server itself at first start (the Management API's resource server, the bootstrap
    /// client, the first administrator): not recorded in the audit log.
    System,
    /// A dashboard administrator.
    Dashboard {
        admin_id: String,
        email: String,
        origin: RequestOrigin,
    },
    /// A Management API caller (a machine-to-machine client).
    ManagementApi {
        client_id: String,
        client_name: String,
        origin: RequestOrigin,
    },
    /// Anyone registering an application at `/oidc/register` (RFC 7591), known only by where
    /// the request came from.
    Registration { origin: RequestOrigin },
}

/// Why an administrative request was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// A value is not acceptable; `field` names it as the Management API spells it.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The change conflicts with an existing object (a taken identifier, email or name).
    #[error("{message}")]
    Conflict {
        field: &'static str,
        message: String,
    },
    /// The object of this kind the request names does not exist.
    #[error("no such {}", .0.label())]
    NotFound(Kind),
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Keys(#[from] KeyLifecycleError),
}

impl AdminError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        AdminError::Invalid {
            field,
            message: message.into(),
        }
    }

    pub fn conflict(field: &'static str, message: impl Into<String>) -> Self {
        AdminError::Conflict {
            field,
            message: message.into(),
        }
    }

    /// The field a validation error or conflict is about.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            AdminError::Invalid { field, .. } | AdminError::Conflict { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl From<EmailError> for AdminError {
    fn from(error: EmailError) -> Self {
        match error {
            EmailError::Render { field, message } => AdminError::invalid(field, message),
            EmailError::Store(error) => error.into(),
        }
    }
}

impl From<crate::profile::NameTooLong> for AdminError {
    fn from(error: crate::profile::NameTooLong) -> Self {
        AdminError::invalid(error.part.field(), error.to_string())
    }
}

impl From<crate::federation::settings::Invalid> for AdminError {
    fn from(error: crate::federation::settings::Invalid) -> Self {
        AdminError::invalid("options", error.0)
    }
}

impl From<StoreError> for AdminError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(what) => AdminError::conflict("id", what),
            other => AdminError::Store(other),
        }
    }
}

/// Maps the store's `NotFound` (an object deleted meanwhile, or an assignment naming one
/// that does not exist) to the kind the operation is about.
pub(crate) fn missing(kind: Kind) -> impl FnOnce(StoreError) -> AdminError {
    move |error| match error {
        StoreError::NotFound => AdminError::NotFound(kind),
        other => other.into(),
    }
}

/// Maps the store's conflict on a write to a conflict on `field` with `message`.
pub(crate) fn conflict_as<'a>(
    field: &'static str,
    message: &'a str,
) -> impl FnOnce(StoreError) -> AdminError + 'a {
    move |error| match error {
        StoreError::Conflict(_) => AdminError::conflict(field, message),
        other => other.into(),
    }
}
