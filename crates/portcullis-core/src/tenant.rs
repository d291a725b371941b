//! The whole tenant as one JSON document (`portcullis export` / `portcullis import`): APIs,
//! applications, client grants, the database connection's settings, users (with their metadata,
//! password history and consents to applications) and signing keys,
//! to move between SQLite and PostgreSQL and for backups.
//!
//! Secrets stay as stored: client secrets as their keyed hashes, passwords as argon2id
//! hashes, private keys sealed under the master key. A document is therefore only useful
//! with the same `PORTCULLIS_MASTER_KEY`, and [`import`] checks that first. Short-lived
//! protocol state (sessions, codes, refresh tokens, throttling counters) is not part of it:
//! after a move, users sign in again.

use base64::{engine::general_purpose::STANDARD, Engine};
use portcullis_store::{
    AccessRule, Admin, Client, ClientGrant, Consent, ConsentFilter, DatabaseConnection, KeyState,
    Page, Permission, ResourceServer, Role, SigningKey, Store, StoreError, User,
};
use portcullis_types::Scope;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::keys::{KeyCipher, KeyError, KeyRing};

/// The version of the document format.
pub const FORMAT_VERSION: u32 = 1;

/// The exported tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantDocument {
    pub format: String,
    pub version: u32,
    pub resource_servers: Vec<ResourceServer>,
    pub clients: Vec<Client>,
    pub client_grants: Vec<ClientGrant>,
    pub users: Vec<UserRecord>,
    pub signing_keys: Vec<KeyRecord>,
    /// Roles with their permissions and members (absent from documents of older servers).
    #[serde(default)]
    pub roles: Vec<RoleRecord>,
    /// Permissions given to users directly.
    #[serde(default)]
    pub user_permissions: Vec<UserPermissionsRecord>,
    #[serde(default)]
    pub access_rules: Vec<AccessRule>,
    #[serde(default)]
    pub admins: Vec<AdminRecord>,
    /// Users' consents to third-party applications, so that a move does not ask every user
    /// again.
    #[serde(default)]
    pub consents: Vec<ConsentRecord>,
    /// The database connection's settings (absent from documents of older servers, which
    /// import with the defaults).
    #[serde(default)]
    pub connection: Option<DatabaseConnection>,
}

/// A user's consent to an application, its scope as a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    pub id: String,
    pub user_id: String,
    pub client_id: String,
    pub audience: String,
    pub scope: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A role, what it grants and who holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRecord {
    pub role: Role,
    pub permissions: Vec<Permission>,
    pub user_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPermissionsRecord {
    pub user_id: String,
    pub permissions: Vec<Permission>,
}

/// An administrator with the password hash (which `Admin` never serializes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminRecord {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub created_at: i64,
}

/// A user with the password hash (which [`User`]'s own serialisation leaves out).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub user_id: String,
    pub email: String,
    pub email_verified: bool,
    pub password_hash: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    pub nickname: String,
    pub picture: String,
    pub blocked: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_login: Option<i64>,
    pub logins_count: i64,
    #[serde(default)]
    pub user_metadata: Map<String, Value>,
    #[serde(default)]
    pub app_metadata: Map<String, Value>,
    /// Previous password hashes, newest first.
    #[serde(default)]
    pub password_history: Vec<String>,
}

/// A signing key that is not retired; the private half sealed, in base64.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub kid: String,
    /// Documents written before keys had algorithms hold RS256 keys.
    #[serde(default = "rs256")]
    pub alg: portcullis_types::SigningAlg,
    pub state: KeyState,
    pub sealed_private_key: String,
    pub created_at: i64,
    pub retire_after: Option<i64>,
}

fn rs256() -> portcullis_types::SigningAlg {
    portcullis_types::SigningAlg::RS256
}

/// What export or import can fail with.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("not a Portcullis tenant document of version {FORMAT_VERSION}")]
    Format,
    #[error(
        "the target store is not empty ({0}); import needs an empty store: create a new one with \
         `portcullis migrate` and import before its first `serve`, which adds keys and a \
         bootstrap client"
    )]
    NotEmpty(String),
    #[error("signing key {0}: the sealed private key is not valid base64")]
    KeyEncoding(String),
    #[error("consent {0}: {1}")]
    ConsentScope(String, portcullis_types::InvalidScope),
    #[error(
        "the document's signing keys do not open with this master key: set \
         PORTCULLIS_MASTER_KEY to the key of the exporting installation ({0})"
    )]
    Keys(KeyError),
}

pub const FORMAT: &str = "portcullis-tenant";
/// More previous passwords than a connection can ask to refuse (24).
const HISTORY_EXPORTED: u32 = 64;
const PAGE: u32 = 1_000;

/// Reads every page of a listing.
async fn all<T, F, Fut>(list: F) -> Result<Vec<T>, StoreError>
where
    F: Fn(Page) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, u64), StoreError>>,
{
    let mut items = Vec::new();
    for page in 0.. {
        let (batch, total) = list(Page {
            page,
            per_page: PAGE,
        })
        .await?;
        let done = batch.is_empty();
        items.extend(batch);
        if done || items.len() as u64 >= total {
            break;
        }
    }
    Ok(items)
}

/// Reads the whole tenant from `store`.
pub async fn export(store: &dyn Store) -> Result<TenantDocument, TenantError> {
    let resource_servers = all(|p| store.list_resource_servers(p)).await?;
    let clients = all(|p| store.list_clients(p)).await?;
    let client_grants = all(|p| store.list_client_grants(p)).await?;
    let users = all(|p| store.list_users(None, p)).await?;
    let connection = store.database_connection().await?;
    let mut user_records = Vec::with_capacity(users.len());
    for user in &users {
        let history = store
            .password_history(&user.user_id, HISTORY_EXPORTED)
            .await?;
        user_records.push(user_record(user.clone(), history));
    }
    let signing_keys = store.live_keys().await?;
    let mut roles = Vec::new();
    for role in all(|p| store.list_roles(None, p)).await? {
        roles.push(RoleRecord {
            permissions: store.role_permissions(&role.id).await?,
            user_ids: all(|p| store.role_users(&role.id, p)).await?,
            role,
        });
    }
    let mut user_permissions = Vec::new();
    for user in &users {
        let permissions = store.user_permissions(&user.user_id).await?;
        if !permissions.is_empty() {
            user_permissions.push(UserPermissionsRecord {
                user_id: user.user_id.clone(),
                permissions,
            });
        }
    }
    let mut access_rules = Vec::new();
    for api in &resource_servers {
        access_rules.extend(store.access_rules(&api.id).await?);
    }
    let admins = store
        .list_admins()
        .await?
        .into_iter()
        .map(|a| AdminRecord {
            id: a.id,
            email: a.email,
            password_hash: a.password_hash,
            created_at: a.created_at,
        })
        .collect();
    let every = ConsentFilter::default();
    let consents = all(|p| store.list_consents(&every, p))
        .await?
        .into_iter()
        .map(consent_record)
        .collect();
    Ok(TenantDocument {
        consents,
        roles,
        user_permissions,
        access_rules,
        admins,
        format: FORMAT.into(),
        version: FORMAT_VERSION,
        resource_servers,
        clients,
        client_grants,
        connection: Some(connection),
        users: user_records,
        signing_keys: signing_keys
            .into_iter()
            .map(|k| KeyRecord {
                sealed_private_key: STANDARD.encode(&k.private_pkcs8),
                kid: k.kid,
                alg: k.alg,
                state: k.state,
                created_at: k.created_at,
                retire_after: k.retire_after,
            })
            .collect(),
    })
}

/// What [`import`] wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    pub resource_servers: usize,
    pub clients: usize,
    pub client_grants: usize,
    pub users: usize,
    pub signing_keys: usize,
    pub roles: usize,
    pub access_rules: usize,
    pub admins: usize,
    pub consents: usize,
}

/// Writes `document` into an empty `store`. The signing keys are checked against `cipher`
/// (the master key) before anything is written.
pub async fn import(
    store: &dyn Store,
    cipher: &KeyCipher,
    document: &TenantDocument,
    now: i64,
) -> Result<ImportCounts, TenantError> {
    if document.format != FORMAT || document.version != FORMAT_VERSION {
        return Err(TenantError::Format);
    }
    let keys = document
        .signing_keys
        .iter()
        .map(|k| {
            Ok(SigningKey {
                kid: k.kid.clone(),
                alg: k.alg,
                state: k.state,
                private_pkcs8: STANDARD
                    .decode(&k.sealed_private_key)
                    .map_err(|_| TenantError::KeyEncoding(k.kid.clone()))?,
                created_at: k.created_at,
                retire_after: k.retire_after,
            })
        })
        .collect::<Result<Vec<_>, TenantError>>()?;
    let consents = document
        .consents
        .iter()
        .map(consent_from_record)
        .collect::<Result<Vec<_>, TenantError>>()?;
    if !keys.is_empty() {
        KeyRing::from_keys(&keys, cipher, now).map_err(TenantError::Keys)?;
    }
    let one = Page {
        page: 0,
        per_page: 1,
    };
    for (what, count) in [
        ("APIs", store.list_resource_servers(one).await?.1),
        ("applications", store.list_clients(one).await?.1),
        ("users", store.list_users(None, one).await?.1),
        ("signing keys", store.live_keys().await?.len() as u64),
    ] {
        if count > 0 {
            return Err(TenantError::NotEmpty(format!("{count} {what}")));
        }
    }
    for api in &document.resource_servers {
        store.create_resource_server(api).await?;
    }
    for client in &document.clients {
        store.create_client(client).await?;
    }
    for grant in &document.client_grants {
        store.create_client_grant(grant).await?;
    }
    if let Some(connection) = &document.connection {
        store.update_database_connection(connection).await?;
    }
    for user in &document.users {
        store.create_user(&user_from_record(user)).await?;
        // Oldest first, so that the newest stays newest.
        let keep = u32::try_from(user.password_history.len()).unwrap_or(u32::MAX);
        for hash in user.password_history.iter().rev() {
            store
                .add_password_history(&user.user_id, hash, keep)
                .await?;
        }
    }
    for key in &keys {
        store.insert_key(key).await?;
    }
    for record in &document.roles {
        store.create_role(&record.role).await?;
        store
            .add_role_permissions(&record.role.id, &record.permissions)
            .await?;
        for user_id in &record.user_ids {
            store
                .assign_user_roles(user_id, std::slice::from_ref(&record.role.id))
                .await?;
        }
    }
    for record in &document.user_permissions {
        store
            .add_user_permissions(&record.user_id, &record.permissions)
            .await?;
    }
    for rule in &document.access_rules {
        store.create_access_rule(rule).await?;
    }
    for admin in &document.admins {
        store
            .create_admin(&Admin {
                id: admin.id.clone(),
                email: admin.email.clone(),
                password_hash: admin.password_hash.clone(),
                created_at: admin.created_at,
            })
            .await?;
    }
    for consent in &consents {
        store.upsert_consent(consent).await?;
    }
    Ok(ImportCounts {
        consents: consents.len(),
        roles: document.roles.len(),
        access_rules: document.access_rules.len(),
        admins: document.admins.len(),
        resource_servers: document.resource_servers.len(),
        clients: document.clients.len(),
        client_grants: document.client_grants.len(),
        users: document.users.len(),
        signing_keys: keys.len(),
    })
}

fn consent_record(c: Consent) -> ConsentRecord {
    ConsentRecord {
        scope: c.scope.iter().map(str::to_owned).collect(),
        id: c.id,
        user_id: c.user_id,
        client_id: c.client_id,
        audience: c.audience,
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

fn consent_from_record(c: &ConsentRecord) -> Result<Consent, TenantError> {
    Ok(Consent {
        id: c.id.clone(),
        user_id: c.user_id.clone(),
        client_id: c.client_id.clone(),
        audience: c.audience.clone(),
        scope: Scope::parse(&c.scope.join(" "))
            .map_err(|error| TenantError::ConsentScope(c.id.clone(), error))?,
        created_at: c.created_at,
        updated_at: c.updated_at,
    })
}

fn user_record(u: User, password_history: Vec<String>) -> UserRecord {
    UserRecord {
        password_history,
        user_metadata: u.user_metadata,
        app_metadata: u.app_metadata,
        user_id: u.user_id,
        email: u.email,
        email_verified: u.email_verified,
        password_hash: u.password_hash,
        name: u.name,
        given_name: u.given_name,
        family_name: u.family_name,
        nickname: u.nickname,
        picture: u.picture,
        blocked: u.blocked,
        created_at: u.created_at,
        updated_at: u.updated_at,
        last_login: u.last_login,
        logins_count: u.logins_count,
    }
}

fn user_from_record(u: &UserRecord) -> User {
    User {
        user_id: u.user_id.clone(),
        email: u.email.clone(),
        email_verified: u.email_verified,
        password_hash: u.password_hash.clone(),
        name: u.name.clone(),
        given_name: u.given_name.clone(),
        family_name: u.family_name.clone(),
        nickname: u.nickname.clone(),
        picture: u.picture.clone(),
        blocked: u.blocked,
        created_at: u.created_at,
        updated_at: u.updated_at,
        last_login: u.last_login,
        logins_count: u.logins_count,
        user_metadata: u.user_metadata.clone(),
        app_metadata: u.app_metadata.clone(),
    }
}
