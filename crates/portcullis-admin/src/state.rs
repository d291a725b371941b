//! What the administration surfaces work with: the administrative [`Context`] of core, the
//! server's signing keys (to verify Management API callers and to mint the Test tab's token),
//! and the settings they need.

use std::{ops::Deref, sync::Arc};

use portcullis_core::{admin::Context, keys::KeyCache, sign_in::SignIn, tokens::Minter, Clock};
use portcullis_store::Store;

/// The state every administration handler gets.
#[derive(Clone)]
pub struct AdminState(Arc<AdminInner>);

pub struct AdminInner {
    /// Administrative operations: store, clock, secret hashing, passwords, audit log.
    pub cx: Context,
    /// The replica's signing keys (shared with the protocol endpoints).
    pub keys: Arc<KeyCache>,
    pub settings: AdminSettings,
    /// Administrators' sign-in, throttled like the hosted login page.
    pub sign_in: SignIn,
}

/// Settings of the administration surfaces.
#[derive(Clone, Debug)]
pub struct AdminSettings {
    /// The issuer, with its trailing slash.
    pub issuer: String,
}

impl AdminSettings {
    /// An absolute URL under the issuer: `endpoint("oauth/token")`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path.trim_start_matches('/'))
    }

    /// How cookies are named and scoped: `__Host-` cookies under https.
    pub fn cookies(&self) -> portcullis_web::Cookies {
        portcullis_web::Cookies::for_issuer(&self.issuer)
    }

    /// The Management API's audience (and resource server identifier): `ISSUER + "api/v2/"`.
    pub fn management_audience(&self) -> String {
        self.endpoint("api/v2/")
    }
}

impl Deref for AdminState {
    type Target = AdminInner;
    fn deref(&self) -> &AdminInner {
        &self.0
    }
}

impl AdminState {
    pub fn new(inner: AdminInner) -> Self {
        AdminState(Arc::new(inner))
    }

    pub fn store(&self) -> &dyn Store {
        self.cx.store.as_ref()
    }

    pub fn clock(&self) -> &dyn Clock {
        self.cx.clock.as_ref()
    }

    /// Appends an audit entry (sign-ins, sign-outs, the Test tab's token; changes are
    /// recorded by the administrative operations themselves).
    pub async fn audit(&self, entry: portcullis_core::audit::Entry) {
        self.cx.audit.record(entry).await;
    }

    /// Mints tokens the way the token endpoint does (the Test tab).
    pub fn minter(&self) -> Minter<'_> {
        Minter {
            store: self.store(),
            clock: self.clock(),
            keys: &self.keys,
            cipher: &self.cx.key_cipher,
            issuer: &self.settings.issuer,
        }
    }
}
