//! APIs (resource servers): creating, changing and deleting them, their scopes, and the
//! Management API's own resource server.

use portcullis_store::{ConsentFilter, Page, ResourceServer, ScopeDefinition, StoreError};
use portcullis_types::{Secret, SigningAlg, TokenDialect};
use serde_json::json;

use super::{
    conflict_as, missing, test_application, validate, Action, Actor, AdminError, Change, Context,
    KeyLifecycleError, Kind,
};
use crate::{
    keys::{self, generate_api_secret, open_api_secret, seal_api_secret, KeyCipher},
    secrets::random_hex,
};

/// The default lifetime of access tokens, in seconds.
const DEFAULT_TOKEN_LIFETIME: i64 = 86_400;

/// Browsers (the implicit flow) get at most this lifetime unless told otherwise, in seconds.
const DEFAULT_WEB_LIFETIME: i64 = 7_200;

/// The shortest signing secret accepted, in bytes: RFC 7518 §3.2 wants an HS256 key at least
/// as long as the hash (Auth0 accepts 16 characters; a guard would refuse such a key).
const MIN_SIGNING_SECRET_BYTES: usize = 32;

/// What it takes to create an API. Settings it does not name come from [`ApiChanges`].
#[derive(Clone, Debug)]
pub struct NewApi {
    pub name: String,
    pub identifier: String,
    pub scopes: Vec<ScopeDefinition>,
    pub token_lifetime: Option<i64>,
    pub allow_offline_access: bool,
    pub enforce_policies: bool,
    pub token_dialect: Option<TokenDialect>,
}

/// Changes to an API: `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct ApiChanges {
    pub name: Option<String>,
    pub signing_alg: Option<SigningAlg>,
    /// HS256 only: the secret tokens are signed with (made when an API becomes HS256 without
    /// one; giving a new one rotates it).
    pub signing_secret: Option<Secret>,
    pub scopes: Option<Vec<ScopeDefinition>>,
    pub token_lifetime: Option<i64>,
    pub token_lifetime_for_web: Option<i64>,
    pub allow_offline_access: Option<bool>,
    pub skip_consent_for_verifiable_first_party_clients: Option<bool>,
    pub enforce_policies: Option<bool>,
    pub token_dialect: Option<TokenDialect>,
}

/// Creates an API.
pub async fn create(
    cx: &Context,
    actor: &Actor,
    new: NewApi,
) -> Result<ResourceServer, AdminError> {
    create_with(cx, actor, new, ApiChanges::default()).await
}

/// Creates an API with settings [`NewApi`] does not name (`changes`, checked as an update
/// would check them) in one write.
pub async fn create_with(
    cx: &Context,
    actor: &Actor,
    new: NewApi,
    changes: ApiChanges,
) -> Result<ResourceServer, AdminError> {
    let name = validate::name("name", &new.name)?;
    let identifier = new.identifier.trim();
    if identifier.is_empty()
        || identifier.len() > 600
        || identifier.chars().any(char::is_whitespace)
    {
        return Err(AdminError::invalid(
            "identifier",
            "identifier must be a non-empty string without spaces",
        ));
    }
    validate::scope_definitions(&new.scopes)?;
    let lifetime = new.token_lifetime.unwrap_or(DEFAULT_TOKEN_LIFETIME);
    validate::token_lifetime("token_lifetime", lifetime)?;
    let mut api = ResourceServer {
        id: random_hex(12),
        name,
        identifier: identifier.to_owned(),
        signing_alg: SigningAlg::RS256,
        scopes: new.scopes,
        token_lifetime: lifetime,
        token_lifetime_for_web: lifetime.min(DEFAULT_WEB_LIFETIME),
        allow_offline_access: new.allow_offline_access,
        skip_consent_for_verifiable_first_party_clients: true,
        enforce_policies: new.enforce_policies,
        token_dialect: new.token_dialect.unwrap_or(TokenDialect::AccessToken),
        is_system: false,
        created_at: cx.now(),
        signing_secret: None,
    };
    apply(&mut api, changes, &cx.key_cipher)?;
    ensure_keys(cx, api.signing_alg).await?;
    cx.store()
        .create_resource_server(&api)
        .await
        .map_err(conflict_as(
            "identifier",
            &format!("an API with identifier {identifier} already exists"),
        ))?;
    cx.record(actor, described(Action::Create, &api)).await;
    Ok(api)
}

fn described(action: Action, api: &ResourceServer) -> Change {
    Change::new(action, Kind::Api, &api.id)
        .with(json!({ "name": api.name, "identifier": api.identifier }))
}

/// Makes sure the key ring can sign for `alg` before an API uses it.
async fn ensure_keys(cx: &Context, alg: SigningAlg) -> Result<(), AdminError> {
    keys::ensure_algorithm(cx.store(), cx.clock.as_ref(), &cx.key_cipher, alg).await?;
    Ok(())
}

/// The signing secret of an HS256 API, opened (Auth0 shows it with the API); `None` for the
/// other algorithms.
pub fn signing_secret(cx: &Context, api: &ResourceServer) -> Result<Option<Secret>, AdminError> {
    match (&api.signing_alg, &api.signing_secret) {
        (SigningAlg::HS256, Some(sealed)) => Ok(Some(
            open_api_secret(&cx.key_cipher, &api.id, sealed).map_err(KeyLifecycleError::from)?,
        )),
        _ => Ok(None),
    }
}

/// Gives an HS256 API a new random signing secret; tokens signed with the old one no longer
/// verify.
pub async fn rotate_signing_secret(
    cx: &Context,
    actor: &Actor,
    id: &str,
) -> Result<ResourceServer, AdminError> {
    let api = by_id(cx, id).await?;
    if api.signing_alg != SigningAlg::HS256 {
        return Err(AdminError::invalid(
            "signing_secret",
            "only an API signing with HS256 has a signing secret",
        ));
    }
    let changes = ApiChanges {
        signing_secret: Some(generate_api_secret()),
        ..ApiChanges::default()
    };
    update_as(cx, actor, id, changes, Action::Update, false).await
}

/// The sealed secret `api` should hold after a change: for HS256 the given one, else the one
/// it has, else a new one; none for the other algorithms.
fn next_secret(
    api: &ResourceServer,
    given: Option<Secret>,
    cipher: &KeyCipher,
) -> Result<Option<Vec<u8>>, AdminError> {
    // Auth0 accepts a secret with any algorithm; only HS256 signs with one, so for the others
    // it is ignored (and nothing is kept).
    if api.signing_alg != SigningAlg::HS256 {
        return Ok(None);
    }
    let secret = match given {
        Some(secret) => {
            if secret.expose_str().len() < MIN_SIGNING_SECRET_BYTES {
                return Err(AdminError::invalid(
                    "signing_secret",
                    format!("signing_secret must be at least {MIN_SIGNING_SECRET_BYTES} bytes"),
                ));
            }
            secret
        }
        None if api.signing_secret.is_some() => return Ok(api.signing_secret.clone()),
        None => generate_api_secret(),
    };
    let sealed = seal_api_secret(cipher, &api.id, &secret).map_err(KeyLifecycleError::from)?;
    Ok(Some(sealed))
}

/// Applies `changes` to `api` after checking each of them; `api` is untouched on error.
fn apply(
    api: &mut ResourceServer,
    changes: ApiChanges,
    cipher: &KeyCipher,
) -> Result<(), AdminError> {
    let mut next = api.clone();
    if let Some(name) = changes.name {
        next.name = validate::name("name", &name)?;
    }
    if let Some(alg) = changes.signing_alg {
        next.signing_alg = alg;
    }
    next.signing_secret = next_secret(&next, changes.signing_secret, cipher)?;
    if let Some(scopes) = changes.scopes {
        validate::scope_definitions(&scopes)?;
        next.scopes = scopes;
    }
    if let Some(lifetime) = changes.token_lifetime {
        validate::token_lifetime("token_lifetime", lifetime)?;
        next.token_lifetime = lifetime;
    }
    match changes.token_lifetime_for_web {
        Some(lifetime) => {
            validate::token_lifetime("token_lifetime_for_web", lifetime)?;
            if lifetime > next.token_lifetime {
                return Err(AdminError::invalid(
                    "token_lifetime_for_web",
                    "token_lifetime_for_web must not exceed token_lifetime",
                ));
            }
            next.token_lifetime_for_web = lifetime;
        }
        None => next.token_lifetime_for_web = next.token_lifetime_for_web.min(next.token_lifetime),
    }
    if let Some(offline) = changes.allow_offline_access {
        next.allow_offline_access = offline;
    }
    if let Some(skip) = changes.skip_consent_for_verifiable_first_party_clients {
        next.skip_consent_for_verifiable_first_party_clients = skip;
    }
    if let Some(enforce) = changes.enforce_policies {
        next.enforce_policies = enforce;
    }
    if let Some(dialect) = changes.token_dialect {
        next.token_dialect = dialect;
    }
    *api = next;
    Ok(())
}

/// The API with this id, or, as Auth0 allows, this identifier.
pub async fn find(cx: &Context, id_or_identifier: &str) -> Result<ResourceServer, AdminError> {
    if let Some(api) = cx.store().resource_server_by_id(id_or_identifier).await? {
        return Ok(api);
    }
    cx.store()
        .resource_server_by_identifier(id_or_identifier)
        .await?
        .ok_or(AdminError::NotFound(Kind::Api))
}

/// The API with this id (not its identifier).
async fn by_id(cx: &Context, id: &str) -> Result<ResourceServer, AdminError> {
    cx.store()
        .resource_server_by_id(id)
        .await?
        .ok_or(AdminError::NotFound(Kind::Api))
}

fn refuse_system(api: &ResourceServer, verb: &str) -> Result<(), AdminError> {
    if api.is_system {
        return Err(AdminError::invalid(
            "id",
            format!("the system API cannot be {verb}"),
        ));
    }
    Ok(())
}

/// Updates an API. The system API (the Management API itself) cannot be changed. When the
/// scopes change, the API's test application is granted every scope again.
pub async fn update(
    cx: &Context,
    actor: &Actor,
    id: &str,
    changes: ApiChanges,
) -> Result<ResourceServer, AdminError> {
    let scopes_change = changes.scopes.is_some();
    update_as(cx, actor, id, changes, Action::Update, scopes_change).await
}

async fn update_as(
    cx: &Context,
    actor: &Actor,
    id: &str,
    changes: ApiChanges,
    action: Action,
    scopes_change: bool,
) -> Result<ResourceServer, AdminError> {
    let mut api = by_id(cx, id).await?;
    refuse_system(&api, "changed")?;
    apply(&mut api, changes, &cx.key_cipher)?;
    ensure_keys(cx, api.signing_alg).await?;
    cx.store()
        .update_resource_server(&api)
        .await
        .map_err(missing(Kind::Api))?;
    cx.record(actor, described(action, &api)).await;
    if scopes_change {
        test_application::grant_every_scope(cx, actor, &api).await?;
    }
    Ok(api)
}

/// Defines one more scope on the API.
pub async fn add_scope(
    cx: &Context,
    actor: &Actor,
    id: &str,
    scope: ScopeDefinition,
) -> Result<ResourceServer, AdminError> {
    let api = by_id(cx, id).await?;
    let mut scopes = api.scopes.clone();
    scopes.push(scope);
    // Checked here to name the one field a form has for it.
    validate::scope_definitions(&scopes).map_err(|e| match e {
        AdminError::Invalid { message, .. } => AdminError::invalid("value", message),
        other => other,
    })?;
    let changes = ApiChanges {
        scopes: Some(scopes),
        ..ApiChanges::default()
    };
    update_as(cx, actor, id, changes, Action::AddScope, true).await
}

/// Removes `scope` from the API; `NotFound` when the API does not define it.
pub async fn remove_scope(
    cx: &Context,
    actor: &Actor,
    id: &str,
    scope: &str,
) -> Result<ResourceServer, AdminError> {
    let api = by_id(cx, id).await?;
    if !api.defines_scope(scope) {
        return Err(AdminError::invalid(
            "value",
            format!("{} has no scope {scope}", api.identifier),
        ));
    }
    let scopes = api
        .scopes
        .iter()
        .filter(|s| s.value != scope)
        .cloned()
        .collect();
    let changes = ApiChanges {
        scopes: Some(scopes),
        ..ApiChanges::default()
    };
    update_as(cx, actor, id, changes, Action::RemoveScope, true).await
}

/// Deletes an API, the client grants for it and the consents to it. The system API cannot be
/// deleted.
pub async fn delete(cx: &Context, actor: &Actor, id: &str) -> Result<(), AdminError> {
    let api = by_id(cx, id).await?;
    refuse_system(&api, "deleted")?;
    cx.store()
        .delete_resource_server(id)
        .await
        .map_err(missing(Kind::Api))?;
    let (grants, _) = cx.store().list_client_grants(Page::ALL).await?;
    for grant in grants.iter().filter(|g| g.audience == api.identifier) {
        match cx.store().delete_client_grant(&grant.id).await {
            Ok(()) | Err(StoreError::NotFound) => {}
            Err(other) => return Err(other.into()),
        }
    }
    // Users' consents to the API go with it: an API made later with the same identifier
    // starts without them.
    let consents = ConsentFilter {
        audience: Some(api.identifier.clone()),
        ..ConsentFilter::default()
    };
    cx.store().delete_consents(&consents).await?;
    cx.record(actor, described(Action::Delete, &api)).await;
    Ok(())
}

/// Makes sure the system API `identifier` exists and defines at least `scopes` (added when a
/// new version defines more). Safe when several processes run it at once.
pub async fn ensure_system_api(
    cx: &Context,
    name: &str,
    identifier: &str,
    scopes: &[ScopeDefinition],
) -> Result<ResourceServer, AdminError> {
    let store = cx.store();
    if let Some(mut api) = store.resource_server_by_identifier(identifier).await? {
        let missing: Vec<ScopeDefinition> = scopes
            .iter()
            .filter(|s| !api.defines_scope(&s.value))
            .cloned()
            .collect();
        if !missing.is_empty() {
            api.scopes.extend(missing);
            store.update_resource_server(&api).await?;
        }
        return Ok(api);
    }
    let api = ResourceServer {
        id: random_hex(12),
        name: name.to_owned(),
        identifier: identifier.to_owned(),
        signing_alg: SigningAlg::RS256,
        scopes: scopes.to_vec(),
        token_lifetime: DEFAULT_TOKEN_LIFETIME,
        token_lifetime_for_web: DEFAULT_WEB_LIFETIME,
        allow_offline_access: false,
        skip_consent_for_verifiable_first_party_clients: false,
        enforce_policies: false,
        token_dialect: TokenDialect::AccessToken,
        is_system: true,
        created_at: cx.now(),
        signing_secret: None,
    };
    match store.create_resource_server(&api).await {
        Ok(()) => Ok(api),
        // Another process created it first.
        Err(StoreError::Conflict(_)) => store
            .resource_server_by_identifier(identifier)
            .await?
            .ok_or(AdminError::NotFound(Kind::Api)),
        Err(other) => Err(other.into()),
    }
}
