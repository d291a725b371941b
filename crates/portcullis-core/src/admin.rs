//! Creating tenant objects with their defaults and validation: shared by the CLI, the
//! Management API and the dashboard, so each object is made one way.

use portcullis_store::{
    AppType, Client, ClientGrant, RefreshTokenPolicy, ResourceServer, ScopeDefinition, Store,
    StoreError, User,
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
    for scope in &new.scopes {
        if !crate::scope::is_valid_token(&scope.value) {
            return Err(invalid(format!("invalid scope value: {:?}", scope.value)));
        }
    }
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
    let api = ResourceServer {
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
    for grant in &grant_types {
        if !GRANT_TYPES.contains(&grant.as_str()) {
            return Err(invalid(format!("unsupported grant type {grant:?}")));
        }
    }
    let auth_method = new.token_endpoint_auth_method.unwrap_or_else(|| {
        if app_type.is_public() {
            "none"
        } else {
            "client_secret_post"
        }
        .into()
    });
    if !matches!(
        auth_method.as_str(),
        "none" | "client_secret_post" | "client_secret_basic"
    ) {
        return Err(invalid(
            "token_endpoint_auth_method must be none, client_secret_post or client_secret_basic",
        ));
    }
    if auth_method == "none" && grant_types.iter().any(|g| g == "client_credentials") {
        return Err(invalid("client_credentials needs a confidential client"));
    }
    let secret = (auth_method != "none").then(|| random_token(48));
    let client = Client {
        client_id: random_token(24),
        name: new.name.trim().to_owned(),
        app_type,
        client_secret_hash: secret.as_deref().map(|s| hasher.hash(s)),
        token_endpoint_auth_method: auth_method,
        callbacks: new.callbacks,
        allowed_logout_urls: new.allowed_logout_urls,
        web_origins,
        allowed_origins,
        grant_types,
        id_token_lifetime: new.id_token_lifetime.unwrap_or(36_000),
        refresh_token: new.refresh_token.unwrap_or(RefreshTokenPolicy {
            leeway: DEFAULT_REFRESH_LEEWAY,
            ..RefreshTokenPolicy::default()
        }),
        is_first_party: true,
        created_at: clock.now(),
    };
    store.create_client(&client).await?;
    Ok((client, secret))
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
