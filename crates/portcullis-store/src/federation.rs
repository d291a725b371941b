//! Connections to other identity providers (Auth0's social and enterprise connections), the
//! sign-ins to them under way, and the identities users have at them.
//!
//! A connection's options are a JSON object without its client secret, which is a column of
//! its own, sealed under the master key by the domain. A sign-in under way (a transaction) is
//! stored under the SHA-256 of its `state` and taken once, by one DELETE ... RETURNING, so
//! that any replica can finish what another started and none can finish it twice.

use async_trait::async_trait;
use portcullis_types::Strategy;
use serde_json::{Map, Value};

use crate::{StoreResult, User};

/// A connection to another identity provider.
#[derive(Clone, Debug, PartialEq)]
pub struct UpstreamConnection {
    /// `con_<hex>`.
    pub id: String,
    /// Unique among connections; `connection=` of `/authorize` names it.
    pub name: String,
    /// What the login page's button says after "Continue with".
    pub display_name: Option<String>,
    pub strategy: Strategy,
    /// Auth0's `options`, without `client_secret`.
    pub options: Map<String, Value>,
    /// The client secret at the provider, sealed (`None`: a public client, PKCE only).
    pub sealed_client_secret: Option<Vec<u8>>,
    /// The client ids of the applications whose users may use it.
    pub enabled_clients: Vec<String>,
    pub created_at: i64,
}

/// A sign-in at a provider under way: what the callback checks the answer against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamTransaction {
    /// SHA-256 of the `state` sent to the provider.
    pub state_hash: Vec<u8>,
    pub connection_id: String,
    /// The `nonce` the ID token must carry (empty for OAuth 2).
    pub nonce: String,
    /// The PKCE verifier (S256) of the code the provider will give.
    pub pkce_verifier: String,
    /// The application's authorization request, resumed after the sign-in.
    pub authorize_query: String,
    pub expires_at: i64,
}

/// An identity of a user at a connection (Auth0's `identities[]` entry).
#[derive(Clone, Debug, PartialEq)]
pub struct FederatedIdentity {
    pub user_id: String,
    /// `oidc`, `oauth2`, `google-oauth2`, ...
    pub provider: Strategy,
    /// The connection's name.
    pub connection: String,
    /// The user's id at the provider (Auth0's identity `user_id`).
    pub upstream_id: String,
    /// What the provider said of the user at the last sign-in (Auth0's `profileData`).
    pub profile: Map<String, Value>,
    /// The provider's tokens, sealed, when the connection keeps them.
    pub sealed_tokens: Option<Vec<u8>>,
    pub created_at: i64,
}

#[async_trait]
pub trait FederationRepository: Send + Sync {
    /// Stores a new connection; a conflict when its name is taken.
    async fn insert_upstream_connection(&self, connection: &UpstreamConnection) -> StoreResult<()>;
    /// Replaces a connection (by id); `NotFound` when there is none, a conflict on the name.
    async fn update_upstream_connection(&self, connection: &UpstreamConnection) -> StoreResult<()>;
    /// Deletes a connection and its transactions; false when there was none.
    async fn delete_upstream_connection(&self, id: &str) -> StoreResult<bool>;
    /// Every connection, by name.
    async fn upstream_connections(&self) -> StoreResult<Vec<UpstreamConnection>>;
    async fn upstream_connection_by_id(&self, id: &str) -> StoreResult<Option<UpstreamConnection>>;
    async fn upstream_connection_by_name(
        &self,
        name: &str,
    ) -> StoreResult<Option<UpstreamConnection>>;

    /// Stores a sign-in under way, and deletes the ones expired at `now`.
    async fn insert_upstream_transaction(
        &self,
        transaction: &UpstreamTransaction,
        now: i64,
    ) -> StoreResult<()>;
    /// Takes the transaction of this state hash, once: deleted whether or not it is still
    /// live; `None` when there is none or it expired at `now`.
    async fn take_upstream_transaction(
        &self,
        state_hash: &[u8],
        now: i64,
    ) -> StoreResult<Option<UpstreamTransaction>>;

    /// The identity of this id at this connection.
    async fn federated_identity(
        &self,
        connection: &str,
        upstream_id: &str,
    ) -> StoreResult<Option<FederatedIdentity>>;
    /// A user's identities at other providers, oldest first.
    async fn federated_identities(&self, user_id: &str) -> StoreResult<Vec<FederatedIdentity>>;
    /// Creates a user whose first identity is `identity`, in one transaction.
    async fn create_federated_user(
        &self,
        user: &User,
        identity: &FederatedIdentity,
    ) -> StoreResult<()>;
    /// Adds an identity to an existing user (a link); a conflict when the identity belongs
    /// to someone already.
    async fn insert_federated_identity(&self, identity: &FederatedIdentity) -> StoreResult<()>;
    /// Replaces what the provider said at the last sign-in, and the kept tokens.
    async fn update_federated_identity(&self, identity: &FederatedIdentity) -> StoreResult<()>;
    /// Links two users (Auth0's account linking): the identities of `secondary` move to
    /// `primary`, and `secondary` is deleted, in one transaction. `NotFound` when either is
    /// missing.
    async fn link_users(&self, primary: &str, secondary: &str) -> StoreResult<()>;
    /// Unlinks an identity: it leaves `user_id` for a user of its own, `new_user` (created
    /// here), in one transaction; false, with nothing changed, when the user had no such
    /// identity.
    async fn unlink_federated_identity(
        &self,
        user_id: &str,
        connection: &str,
        upstream_id: &str,
        new_user: &User,
    ) -> StoreResult<bool>;
}
