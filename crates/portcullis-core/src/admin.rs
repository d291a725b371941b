//! Creating tenant objects with their defaults and validation: shared by the CLI, the
//! Management API and the dashboard, so each object is made one way.

use portcullis_store::{
    AppType, Client, ClientGrant, Page, Permission, RefreshTokenPolicy, ResourceServer, Role,
    ScopeDefinition, Store, StoreError, User,
};

use crate::{
    password,
    secrets::{random_hex, random_token, SecretHasher},
    Clock,
};

/// Why an administrative request was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AdminError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(what) => AdminError::Conflict(what),
            StoreError::NotFound => AdminError::NotFound,
            other => AdminError::Store(other),
        }
    }
}

fn invalid(message: impl Into<String>) -> AdminError {
    AdminError::Invalid(message.into())
}

/// What it takes to create an API.
#[derive(Clone, Debug)]
pub struct NewApi {
    pub name: String,
    pub identifier: String,
    pub scopes: Vec<ScopeDefinition>,
    pub token_lifetime: Option<i64>,
    pub allow_offline_access: bool,
    pub enforce_policies: bool,
    pub token_dialect: Option<String>,
}

pub const TOKEN_DIALECTS: [&str; 4] = [
    "access_token",
    "access_token_authz",
    "rfc9068_profile",
    "rfc9068_profile_authz",
];

pub async fn create_api(
    store: &dyn Store,
    clock: &dyn Clock,
    new: NewApi,
) -> Result<ResourceServer, AdminError> {
    create_api_with(store, clock, new, ApiChanges::default()).await
}

/// Creates an API with settings [`NewApi`] does not name (`changes`, checked as an update
/// would check them) in one write.
pub async fn create_api_with(
    store: &dyn Store,
    clock: &dyn Clock,
    new: NewApi,
    changes: ApiChanges,
) -> Result<ResourceServer, AdminError> {
    if new.name.trim().is_empty() {
        return Err(invalid("name is required"));
    }
    let identifier = new.identifier.trim();
    if identifier.is_empty()
        || identifier.len() > 600
        || identifier.chars().any(char::is_whitespace)
    {
        return Err(invalid(
            "identifier must be a non-empty string without spaces",
        ));
    }
    check_scope_definitions(&new.scopes)?;
    let dialect = new.token_dialect.unwrap_or_else(|| "access_token".into());
    if !TOKEN_DIALECTS.contains(&dialect.as_str()) {
        return Err(invalid(format!(
            "token_dialect must be one of {}",
            TOKEN_DIALECTS.join(", ")
        )));
    }
    let lifetime = new.token_lifetime.unwrap_or(86_400);
    if !(60..=2_592_000).contains(&lifetime) {
        return Err(invalid(
            "token_lifetime must be between 60 and 2592000 seconds",
        ));
    }
    let mut api = ResourceServer {
        id: random_hex(12),
        name: new.name.trim().to_owned(),
        identifier: identifier.to_owned(),
        signing_alg: "RS256".into(),
        scopes: new.scopes,
        token_lifetime: lifetime,
        token_lifetime_for_web: lifetime.min(7200),
        allow_offline_access: new.allow_offline_access,
        skip_consent_for_verifiable_first_party_clients: true,
        enforce_policies: new.enforce_policies,
        token_dialect: dialect,
        is_system: false,
        created_at: clock.now(),
    };
    apply_api_changes(&mut api, changes)?;
    store
        .create_resource_server(&api)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => AdminError::Conflict(format!(
                "an API with identifier {identifier} already exists"
            )),
            other => other.into(),
        })?;
    Ok(api)
}

/// What it takes to create an application.
#[derive(Clone, Debug, Default)]
pub struct NewClient {
    pub name: String,
    pub app_type: Option<AppType>,
    pub callbacks: Vec<String>,
    pub allowed_logout_urls: Vec<String>,
    pub web_origins: Vec<String>,
    pub allowed_origins: Vec<String>,
    /// `None`: the defaults of the app type.
    pub grant_types: Option<Vec<String>>,
    pub token_endpoint_auth_method: Option<String>,
    pub refresh_token: Option<RefreshTokenPolicy>,
    pub id_token_lifetime: Option<i64>,
}

/// The default reuse interval of rotating refresh tokens: long enough for two tabs that
/// refresh at the same moment, short enough that a stolen token is caught.
pub const DEFAULT_REFRESH_LEEWAY: i64 = 10;

pub const GRANT_TYPES: [&str; 4] = [
    "authorization_code",
    "implicit",
    "refresh_token",
    "client_credentials",
];

/// Checks a URL list entry: absolute http(s) URL, no fragment.
fn check_url(kind: &str, value: &str) -> Result<(), AdminError> {
    let url = url::Url::parse(value)
        .map_err(|_| invalid(format!("{kind}: {value:?} is not an absolute URL")))?;
    if !matches!(url.scheme(), "http" | "https") && kind != "callbacks" {
        return Err(invalid(format!("{kind}: {value:?} must be http or https")));
    }
    if url.fragment().is_some() {
        return Err(invalid(format!(
            "{kind}: {value:?} must not contain a fragment"
        )));
    }
    Ok(())
}

/// Creates an application; returns it and, for confidential clients, the secret (shown once).
pub async fn create_client(
    store: &dyn Store,
    hasher: &SecretHasher,
    clock: &dyn Clock,
    new: NewClient,
) -> Result<(Client, Option<String>), AdminError> {
    let (client, secret) = build_client(hasher, clock, new, random_token(24), None)?;
    store.create_client(&client).await?;
    Ok((client, secret))
}

/// Creates a confidential application with the given id and secret (the bootstrap client,
/// whose credentials may come from the environment). `Conflict` when the id is taken.
pub async fn create_client_with_credentials(
    store: &dyn Store,
    hasher: &SecretHasher,
    clock: &dyn Clock,
    new: NewClient,
    client_id: &str,
    secret: &str,
) -> Result<Client, AdminError> {
    check_client_id(client_id)?;
    if secret.len() < MIN_GIVEN_SECRET_LENGTH {
        return Err(invalid(format!(
            "a client secret must have at least {MIN_GIVEN_SECRET_LENGTH} characters"
        )));
    }
    let (client, _) = build_client(hasher, clock, new, client_id.to_owned(), Some(secret))?;
    if client.client_secret_hash.is_none() {
        return Err(invalid("a client with a secret must be confidential"));
    }
    store.create_client(&client).await?;
    Ok(client)
}

/// The shortest client secret accepted from an operator.
pub const MIN_GIVEN_SECRET_LENGTH: usize = 32;

/// A client id given by an operator: printable, URL-safe, of a sane length.
pub fn check_client_id(client_id: &str) -> Result<(), AdminError> {
    let valid = !client_id.is_empty()
        && client_id.len() <= 128
        && client_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(invalid(
            "a client id must be 1 to 128 letters, digits, '-', '_' or '.'",
        ))
    }
}

/// Validates `new` and makes the client record; `secret` replaces the generated one.
fn build_client(
    hasher: &SecretHasher,
    clock: &dyn Clock,
    new: NewClient,
    client_id: String,
    secret: Option<&str>,
) -> Result<(Client, Option<String>), AdminError> {
    if new.name.trim().is_empty() {
        return Err(invalid("name is required"));
    }
    let app_type = new.app_type.unwrap_or(AppType::RegularWeb);
    for url in &new.callbacks {
        check_url("callbacks", url)?;
    }
    for url in &new.allowed_logout_urls {
        check_url("allowed_logout_urls", url)?;
    }
    let web_origins = normalize_origins("web_origins", &new.web_origins)?;
    let allowed_origins = normalize_origins("allowed_origins", &new.allowed_origins)?;
    let grant_types = match new.grant_types {
        Some(list) => list,
        None => match app_type {
            AppType::Spa => vec!["authorization_code".into(), "refresh_token".into()],
            AppType::NonInteractive => vec!["client_credentials".into()],
            AppType::RegularWeb | AppType::Native => {
                vec!["authorization_code".into(), "refresh_token".into()]
            }
        },
    };
    let auth_method = new.token_endpoint_auth_method.unwrap_or_else(|| {
        if app_type.is_public() {
            "none"
        } else {
            "client_secret_post"
        }
        .into()
    });
    check_grants_and_auth_method(&grant_types, &auth_method)?;
    let id_token_lifetime = new.id_token_lifetime.unwrap_or(36_000);
    check_id_token_lifetime(id_token_lifetime)?;
    let refresh_token = new.refresh_token.unwrap_or(RefreshTokenPolicy {
        leeway: DEFAULT_REFRESH_LEEWAY,
        ..RefreshTokenPolicy::default()
    });
    check_refresh_policy(&refresh_token)?;
    let secret =
        (auth_method != "none").then(|| secret.map_or_else(|| random_token(48), str::to_owned));
    let client = Client {
        client_id,
        name: new.name.trim().to_owned(),
        app_type,
        client_secret_hash: secret.as_deref().map(|s| hasher.hash(s)),
        token_endpoint_auth_method: auth_method,
        callbacks: new.callbacks,
        allowed_logout_urls: new.allowed_logout_urls,
        web_origins,
        allowed_origins,
        grant_types,
        id_token_lifetime,
        refresh_token,
        is_first_party: true,
        created_at: clock.now(),
    };
    Ok((client, secret))
}

fn check_grants_and_auth_method(
    grant_types: &[String],
    auth_method: &str,
) -> Result<(), AdminError> {
    for grant in grant_types {
        if !GRANT_TYPES.contains(&grant.as_str()) {
            return Err(invalid(format!("unsupported grant type {grant:?}")));
        }
    }
    if !matches!(
        auth_method,
        "none" | "client_secret_post" | "client_secret_basic"
    ) {
        return Err(invalid(
            "token_endpoint_auth_method must be none, client_secret_post or client_secret_basic",
        ));
    }
    if auth_method == "none" && grant_types.iter().any(|g| g == "client_credentials") {
        return Err(invalid("client_credentials needs a confidential client"));
    }
    Ok(())
}

fn check_id_token_lifetime(seconds: i64) -> Result<(), AdminError> {
    if (60..=2_592_000).contains(&seconds) {
        Ok(())
    } else {
        Err(invalid(
            "jwt_configuration.lifetime_in_seconds must be between 60 and 2592000",
        ))
    }
}

/// Checks a client's refresh-token policy.
pub fn check_refresh_policy(policy: &RefreshTokenPolicy) -> Result<(), AdminError> {
    if !matches!(policy.rotation_type.as_str(), "rotating" | "non-rotating") {
        return Err(invalid(
            "refresh_token.rotation_type must be rotating or non-rotating",
        ));
    }
    if !(0..=60).contains(&policy.leeway) {
        return Err(invalid("refresh_token.leeway must be between 0 and 60"));
    }
    if !(1..=31_557_600).contains(&policy.token_lifetime) {
        return Err(invalid(
            "refresh_token.token_lifetime must be between 1 and 31557600",
        ));
    }
    if !(1..=policy.token_lifetime).contains(&policy.idle_token_lifetime) {
        return Err(invalid(
            "refresh_token.idle_token_lifetime must be between 1 and token_lifetime",
        ));
    }
    Ok(())
}

/// Origins are compared as `scheme://host[:port]` without a trailing slash.
fn normalize_origins(kind: &str, origins: &[String]) -> Result<Vec<String>, AdminError> {
    origins
        .iter()
        .map(|origin| {
            let url = url::Url::parse(origin)
                .map_err(|_| invalid(format!("{kind}: {origin:?} is not an origin")))?;
            if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
                return Err(invalid(format!(
                    "{kind}: {origin:?} must be an origin, without a path"
                )));
            }
            Ok(url.origin().ascii_serialization())
        })
        .collect()
}

/// Grants a machine-to-machine client scopes of an API.
pub async fn create_client_grant(
    store: &dyn Store,
    client_id: &str,
    audience: &str,
    scope: Vec<String>,
) -> Result<ClientGrant, AdminError> {
    if store.client_by_id(client_id).await?.is_none() {
        return Err(invalid(format!("client {client_id} does not exist")));
    }
    let Some(api) = store.resource_server_by_identifier(audience).await? else {
        return Err(invalid(format!("no API has the identifier {audience}")));
    };
    if let Some(unknown) = scope.iter().find(|s| !api.defines_scope(s)) {
        return Err(invalid(format!(
            "the API does not define the scope {unknown}"
        )));
    }
    let grant = ClientGrant {
        id: format!("cgr_{}", random_token(12)),
        client_id: client_id.into(),
        audience: audience.into(),
        scope,
    };
    store
        .create_client_grant(&grant)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                AdminError::Conflict("this client already has a grant for this API".into())
            }
            other => other.into(),
        })?;
    Ok(grant)
}

/// What it takes to create a user.
#[derive(Clone, Debug, Default)]
pub struct NewUser {
    pub email: String,
    pub password: String,
    pub email_verified: bool,
    pub name: Option<String>,
    pub picture: Option<String>,
}

pub fn check_email(email: &str) -> Result<(), AdminError> {
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.starts_with('.')
                && !email.chars().any(char::is_whitespace)
        });
    if valid {
        Ok(())
    } else {
        Err(invalid("a valid email address is required"))
    }
}

/// Creates a database user. Hashing is CPU-heavy: it runs on a blocking thread.
pub async fn create_user(
    store: &dyn Store,
    clock: &dyn Clock,
    new: NewUser,
) -> Result<User, AdminError> {
    let email = new.email.trim().to_owned();
    check_email(&email)?;
    password::check_password_policy(&new.password).map_err(invalid)?;
    if store.user_by_email(&email).await?.is_some() {
        return Err(AdminError::Conflict("The user already exists.".into()));
    }
    let password = new.password;
    let password_hash = tokio::task::spawn_blocking(move || password::hash_password(&password))
        .await
        .map_err(|e| AdminError::Store(StoreError::Backend(e.to_string())))?
        .map_err(|e| AdminError::Store(StoreError::Backend(e.to_string())))?;
    let now = clock.now();
    let nickname = email.split('@').next().unwrap_or_default().to_owned();
    let user = User {
        user_id: format!("auth0|{}", random_hex(12)),
        name: new.name.unwrap_or_else(|| email.clone()),
        nickname,
        picture: new.picture.unwrap_or_default(),
        email,
        email_verified: new.email_verified,
        password_hash,
        blocked: false,
        created_at: now,
        updated_at: now,
        last_login: None,
        logins_count: 0,
    };
    store.create_user(&user).await.map_err(|e| match e {
        StoreError::Conflict(_) => AdminError::Conflict("The user already exists.".into()),
        other => other.into(),
    })?;
    Ok(user)
}

/// Changes to an API: `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct ApiChanges {
    pub name: Option<String>,
    pub signing_alg: Option<String>,
    pub scopes: Option<Vec<ScopeDefinition>>,
    pub token_lifetime: Option<i64>,
    pub token_lifetime_for_web: Option<i64>,
    pub allow_offline_access: Option<bool>,
    pub skip_consent_for_verifiable_first_party_clients: Option<bool>,
    pub enforce_policies: Option<bool>,
    pub token_dialect: Option<String>,
}

impl ApiChanges {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.signing_alg.is_none()
            && self.scopes.is_none()
            && self.token_lifetime.is_none()
            && self.token_lifetime_for_web.is_none()
            && self.allow_offline_access.is_none()
            && self
                .skip_consent_for_verifiable_first_party_clients
                .is_none()
            && self.enforce_policies.is_none()
            && self.token_dialect.is_none()
    }
}

/// Applies `changes` to `api` after checking each of them; `api` is untouched on error.
pub fn apply_api_changes(api: &mut ResourceServer, changes: ApiChanges) -> Result<(), AdminError> {
    let mut next = api.clone();
    if let Some(name) = changes.name {
        if name.trim().is_empty() {
            return Err(invalid("name must not be empty"));
        }
        next.name = name.trim().to_owned();
    }
    if let Some(alg) = changes.signing_alg {
        if alg != "RS256" {
            return Err(invalid("signing_alg must be RS256"));
        }
        next.signing_alg = alg;
    }
    if let Some(scopes) = changes.scopes {
        check_scope_definitions(&scopes)?;
        next.scopes = scopes;
    }
    if let Some(lifetime) = changes.token_lifetime {
        check_token_lifetime("token_lifetime", lifetime)?;
        next.token_lifetime = lifetime;
    }
    match changes.token_lifetime_for_web {
        Some(lifetime) => {
            check_token_lifetime("token_lifetime_for_web", lifetime)?;
            if lifetime > next.token_lifetime {
                return Err(invalid(
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
        if !TOKEN_DIALECTS.contains(&dialect.as_str()) {
            return Err(invalid(format!(
                "token_dialect must be one of {}",
                TOKEN_DIALECTS.join(", ")
            )));
        }
        next.token_dialect = dialect;
    }
    *api = next;
    Ok(())
}

fn check_token_lifetime(field: &str, seconds: i64) -> Result<(), AdminError> {
    if (60..=2_592_000).contains(&seconds) {
        Ok(())
    } else {
        Err(invalid(format!(
            "{field} must be between 60 and 2592000 seconds"
        )))
    }
}

/// Scope values are RFC 6749 scope tokens, each defined once.
pub fn check_scope_definitions(scopes: &[ScopeDefinition]) -> Result<(), AdminError> {
    for (i, scope) in scopes.iter().enumerate() {
        if !crate::scope::is_valid_token(&scope.value) {
            return Err(invalid(format!("invalid scope value: {:?}", scope.value)));
        }
        if scopes[..i].iter().any(|s| s.value == scope.value) {
            return Err(invalid(format!("scope {} is defined twice", scope.value)));
        }
    }
    Ok(())
}

/// Updates an API. The system API (the Management API itself) cannot be changed.
pub async fn update_api(
    store: &dyn Store,
    id: &str,
    changes: ApiChanges,
) -> Result<ResourceServer, AdminError> {
    let mut api = store
        .resource_server_by_id(id)
        .await?
        .ok_or(AdminError::NotFound)?;
    if api.is_system {
        return Err(invalid("the system API cannot be changed"));
    }
    apply_api_changes(&mut api, changes)?;
    store.update_resource_server(&api).await?;
    Ok(api)
}

/// Deletes an API and the client grants for it. The system API cannot be deleted.
pub async fn delete_api(store: &dyn Store, id: &str) -> Result<(), AdminError> {
    let api = store
        .resource_server_by_id(id)
        .await?
        .ok_or(AdminError::NotFound)?;
    if api.is_system {
        return Err(invalid("the system API cannot be deleted"));
    }
    store.delete_resource_server(id).await?;
    let (grants, _) = store.list_client_grants(Page::ALL).await?;
    for grant in grants.iter().filter(|g| g.audience == api.identifier) {
        match store.delete_client_grant(&grant.id).await {
            Ok(()) | Err(StoreError::NotFound) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(())
}

/// Makes sure the system API `identifier` exists and defines at least `scopes` (added when a
/// new version defines more). Safe when several processes run it at once.
pub async fn ensure_system_api(
    store: &dyn Store,
    clock: &dyn Clock,
    name: &str,
    identifier: &str,
    scopes: &[ScopeDefinition],
) -> Result<ResourceServer, AdminError> {
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
        signing_alg: "RS256".into(),
        scopes: scopes.to_vec(),
        token_lifetime: 86_400,
        token_lifetime_for_web: 7_200,
        allow_offline_access: false,
        skip_consent_for_verifiable_first_party_clients: false,
        enforce_policies: false,
        token_dialect: "access_token".into(),
        is_system: true,
        created_at: clock.now(),
    };
    match store.create_resource_server(&api).await {
        Ok(()) => Ok(api),
        // Another process created it first.
        Err(StoreError::Conflict(_)) => store
            .resource_server_by_identifier(identifier)
            .await?
            .ok_or(AdminError::NotFound),
        Err(other) => Err(other.into()),
    }
}

/// Changes to an application: `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct ClientChanges {
    pub name: Option<String>,
    pub app_type: Option<AppType>,
    pub callbacks: Option<Vec<String>>,
    pub allowed_logout_urls: Option<Vec<String>>,
    pub web_origins: Option<Vec<String>>,
    pub allowed_origins: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub token_endpoint_auth_method: Option<String>,
    pub id_token_lifetime: Option<i64>,
    pub refresh_token: Option<RefreshTokenPolicy>,
    pub is_first_party: Option<bool>,
}

/// Updates an application. A public client made confidential gets a secret, returned once;
/// a confidential client made public loses its secret.
pub async fn update_client(
    store: &dyn Store,
    hasher: &SecretHasher,
    client_id: &str,
    changes: ClientChanges,
) -> Result<(Client, Option<String>), AdminError> {
    let mut client = store
        .client_by_id(client_id)
        .await?
        .ok_or(AdminError::NotFound)?;
    if let Some(name) = changes.name {
        if name.trim().is_empty() {
            return Err(invalid("name must not be empty"));
        }
        client.name = name.trim().to_owned();
    }
    if let Some(app_type) = changes.app_type {
        client.app_type = app_type;
    }
    if let Some(callbacks) = changes.callbacks {
        for url in &callbacks {
            check_url("callbacks", url)?;
        }
        client.callbacks = callbacks;
    }
    if let Some(urls) = changes.allowed_logout_urls {
        for url in &urls {
            check_url("allowed_logout_urls", url)?;
        }
        client.allowed_logout_urls = urls;
    }
    if let Some(origins) = changes.web_origins {
        client.web_origins = normalize_origins("web_origins", &origins)?;
    }
    if let Some(origins) = changes.allowed_origins {
        client.allowed_origins = normalize_origins("allowed_origins", &origins)?;
    }
    if let Some(grant_types) = changes.grant_types {
        client.grant_types = grant_types;
    }
    if let Some(method) = changes.token_endpoint_auth_method {
        client.token_endpoint_auth_method = method;
    }
    check_grants_and_auth_method(&client.grant_types, &client.token_endpoint_auth_method)?;
    if let Some(lifetime) = changes.id_token_lifetime {
        check_id_token_lifetime(lifetime)?;
        client.id_token_lifetime = lifetime;
    }
    if let Some(policy) = changes.refresh_token {
        check_refresh_policy(&policy)?;
        client.refresh_token = policy;
    }
    if let Some(first_party) = changes.is_first_party {
        client.is_first_party = first_party;
    }
    let mut secret = None;
    match (
        client.token_endpoint_auth_method.as_str(),
        client.client_secret_hash.is_some(),
    ) {
        ("none", true) => client.client_secret_hash = None,
        ("none", false) | (_, true) => {}
        (_, false) => {
            let new_secret = random_token(48);
            client.client_secret_hash = Some(hasher.hash(&new_secret));
            secret = Some(new_secret);
        }
    }
    store.update_client(&client).await?;
    Ok((client, secret))
}

/// Gives a confidential client a new secret, returned once; the old one stops working.
pub async fn rotate_client_secret(
    store: &dyn Store,
    hasher: &SecretHasher,
    client_id: &str,
) -> Result<(Client, String), AdminError> {
    let mut client = store
        .client_by_id(client_id)
        .await?
        .ok_or(AdminError::NotFound)?;
    if client.token_endpoint_auth_method == "none" {
        return Err(invalid("a public client has no secret to rotate"));
    }
    let secret = random_token(48);
    client.client_secret_hash = Some(hasher.hash(&secret));
    store.update_client(&client).await?;
    Ok((client, secret))
}

/// Replaces the scopes of a client grant; each must be defined by the grant's API.
pub async fn update_client_grant(
    store: &dyn Store,
    id: &str,
    scope: Vec<String>,
) -> Result<ClientGrant, AdminError> {
    let (grants, _) = store.list_client_grants(Page::ALL).await?;
    let mut grant = grants
        .into_iter()
        .find(|g| g.id == id)
        .ok_or(AdminError::NotFound)?;
    if let Some(api) = store.resource_server_by_identifier(&grant.audience).await? {
        if let Some(unknown) = scope.iter().find(|s| !api.defines_scope(s)) {
            return Err(invalid(format!(
                "the API does not define the scope {unknown}"
            )));
        }
    }
    grant.scope = scope;
    store.update_client_grant(&grant).await?;
    Ok(grant)
}

/// Changes to a user: `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct UserChanges {
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub password: Option<String>,
    pub name: Option<String>,
    pub nickname: Option<String>,
    pub picture: Option<String>,
    pub blocked: Option<bool>,
}

/// Updates a user; a new password is checked against the policy and hashed on a blocking
/// thread. `Conflict` when the new email belongs to another user.
pub async fn update_user(
    store: &dyn Store,
    clock: &dyn Clock,
    user_id: &str,
    changes: UserChanges,
) -> Result<User, AdminError> {
    let mut user = store
        .user_by_id(user_id)
        .await?
        .ok_or(AdminError::NotFound)?;
    if let Some(email) = changes.email {
        let email = email.trim().to_owned();
        check_email(&email)?;
        if !email.eq_ignore_ascii_case(&user.email) {
            if store.user_by_email(&email).await?.is_some() {
                return Err(AdminError::Conflict(
                    "The specified new email already exists".into(),
                ));
            }
            // A new address is not verified unless the change says so.
            user.email_verified = false;
        }
        user.email = email;
    }
    if let Some(verified) = changes.email_verified {
        user.email_verified = verified;
    }
    if let Some(name) = changes.name {
        user.name = name;
    }
    if let Some(nickname) = changes.nickname {
        user.nickname = nickname;
    }
    if let Some(picture) = changes.picture {
        if !picture.is_empty() {
            check_url("picture", &picture)?;
        }
        user.picture = picture;
    }
    if let Some(blocked) = changes.blocked {
        user.blocked = blocked;
    }
    if let Some(password) = changes.password {
        password::check_password_policy(&password).map_err(invalid)?;
        user.password_hash =
            tokio::task::spawn_blocking(move || password::hash_password(&password))
                .await
                .map_err(|e| AdminError::Store(StoreError::Backend(e.to_string())))?
                .map_err(|e| AdminError::Store(StoreError::Backend(e.to_string())))?;
    }
    user.updated_at = clock.now();
    store.update_user(&user).await.map_err(|e| match e {
        StoreError::Conflict(_) => {
            AdminError::Conflict("The specified new email already exists".into())
        }
        other => other.into(),
    })?;
    Ok(user)
}

/// What it takes to create a role.
#[derive(Clone, Debug, Default)]
pub struct NewRole {
    pub name: String,
    pub description: String,
}

fn check_role_name(name: &str) -> Result<String, AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid("a role name must have 1 to 100 characters"));
    }
    Ok(name.to_owned())
}

fn check_role_description(description: &str) -> Result<(), AdminError> {
    if description.chars().count() > 1000 {
        return Err(invalid(
            "a role description must have at most 1000 characters",
        ));
    }
    Ok(())
}

/// Creates a role. `Conflict` when the name (case-insensitive) is taken.
pub async fn create_role(
    store: &dyn Store,
    clock: &dyn Clock,
    new: NewRole,
) -> Result<Role, AdminError> {
    let name = check_role_name(&new.name)?;
    check_role_description(&new.description)?;
    let role = Role {
        id: format!("rol_{}", random_token(12)),
        name,
        description: new.description,
        created_at: clock.now(),
    };
    store.create_role(&role).await.map_err(|e| match e {
        StoreError::Conflict(_) => {
            AdminError::Conflict("A role with this name already exists".into())
        }
        other => other.into(),
    })?;
    Ok(role)
}

/// Renames a role or changes its description (`None` leaves a field as it is).
pub async fn update_role(
    store: &dyn Store,
    id: &str,
    name: Option<String>,
    description: Option<String>,
) -> Result<Role, AdminError> {
    let mut role = store.role_by_id(id).await?.ok_or(AdminError::NotFound)?;
    if let Some(name) = name {
        role.name = check_role_name(&name)?;
    }
    if let Some(description) = description {
        check_role_description(&description)?;
        role.description = description;
    }
    store.update_role(&role).await.map_err(|e| match e {
        StoreError::Conflict(_) => {
            AdminError::Conflict("A role with this name already exists".into())
        }
        other => other.into(),
    })?;
    Ok(role)
}

/// Checks that every permission names an existing API and a scope it defines.
pub async fn check_permissions(
    store: &dyn Store,
    permissions: &[Permission],
) -> Result<(), AdminError> {
    if permissions.is_empty() {
        return Err(invalid("permissions must not be empty"));
    }
    for permission in permissions {
        let api = store
            .resource_server_by_identifier(&permission.resource_server_identifier)
            .await?
            .ok_or_else(|| {
                invalid(format!(
                    "no API has the identifier {}",
                    permission.resource_server_identifier
                ))
            })?;
        if !api.defines_scope(&permission.permission_name) {
            return Err(invalid(format!(
                "the API {} does not define the scope {}",
                api.identifier, permission.permission_name
            )));
        }
    }
    Ok(())
}

/// What an API's test application is called after: `"<API name> (Test Application)"`, as Auth0.
pub const TEST_APPLICATION_SUFFIX: &str = " (Test Application)";

/// The API's test application and its grant: the machine-to-machine application the dashboard's
/// Test tab and `portcullis token` mint tokens through, if one exists.
pub async fn test_application(
    store: &dyn Store,
    api: &ResourceServer,
) -> Result<Option<(Client, ClientGrant)>, StoreError> {
    let (grants, _) = store.list_client_grants(Page::ALL).await?;
    for grant in grants.into_iter().filter(|g| g.audience == api.identifier) {
        if let Some(client) = store.client_by_id(&grant.client_id).await? {
            if client.app_type == AppType::NonInteractive
                && client.name.ends_with(TEST_APPLICATION_SUFFIX)
            {
                return Ok(Some((client, grant)));
            }
        }
    }
    Ok(None)
}

/// Creates the API's test application with a grant for every scope of the API.
pub async fn create_test_application(
    store: &dyn Store,
    hasher: &SecretHasher,
    clock: &dyn Clock,
    api: &ResourceServer,
) -> Result<(Client, ClientGrant), AdminError> {
    let new = NewClient {
        name: format!("{}{TEST_APPLICATION_SUFFIX}", api.name),
        app_type: Some(AppType::NonInteractive),
        grant_types: Some(vec!["client_credentials".into()]),
        ..NewClient::default()
    };
    let (client, _secret) = create_client(store, hasher, clock, new).await?;
    let every = api.scopes.iter().map(|s| s.value.clone()).collect();
    let grant = create_client_grant(store, &client.client_id, &api.identifier, every).await?;
    Ok((client, grant))
}
