//! Dynamic client registration (RFC 7591), Auth0's "OIDC Dynamic Application Registration":
//! anyone the tenant lets in registers an application with its metadata and gets a client id
//! (and a secret, for a confidential client) back.
//!
//! Registered applications are third-party (`is_first_party: false`): their users see the
//! consent page before any token. Their redirect URIs are held to a stricter rule than an
//! operator's callbacks, because nobody reviewed them: `https`, `http` only on a loopback host
//! (RFC 8252 §7.3), or a native app's private-use scheme; never a fragment, userinfo or a
//! wildcard. Only the authorization code grant (with refresh tokens) can be registered: the
//! client credentials grant would need an operator's client grant anyway, and the implicit
//! grant is not offered to applications nobody reviewed.

use portcullis_store::{AppType, Client};
use portcullis_types::{ClientAuthMethod, GrantType, Secret};
use serde::{Deserialize, Serialize};

use crate::admin::{self, applications::NewClient, Actor, AdminError, Context};

/// At most this many redirect URIs per registration.
pub const MAX_REDIRECT_URIS: usize = 10;
/// The longest redirect URI or client name accepted.
const MAX_URI_LENGTH: usize = 2048;
const MAX_NAME_LENGTH: usize = 128;
/// The name of an application registered without one.
const DEFAULT_NAME: &str = "Dynamically registered application";

/// The client metadata of a registration request (RFC 7591 §2). Metadata this server does not
/// use (`client_uri`, `logo_uri`, `contacts`, `software_id`, ...) is ignored, as §2 asks.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ClientMetadata {
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    pub client_name: Option<String>,
    pub token_endpoint_auth_method: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
}

/// The registration response (RFC 7591 §3.2.1).
#[derive(Clone, Debug, Serialize)]
pub struct ClientInformation {
    pub client_id: String,
    /// Only for a confidential client; shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// 0: the secret does not expire. Only with a secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
    pub client_id_issued_at: i64,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub token_endpoint_auth_method: &'static str,
    pub grant_types: Vec<&'static str>,
    pub response_types: Vec<&'static str>,
}

/// Why a registration was refused, as RFC 7591 §3.2.2 names it.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    #[error("{0}")]
    InvalidRedirectUri(String),
    #[error("{0}")]
    InvalidClientMetadata(String),
    #[error(transparent)]
    Admin(AdminError),
}

impl RegistrationError {
    /// The RFC's error code.
    pub fn code(&self) -> &'static str {
        match self {
            RegistrationError::InvalidRedirectUri(_) => "invalid_redirect_uri",
            RegistrationError::InvalidClientMetadata(_) | RegistrationError::Admin(_) => {
                "invalid_client_metadata"
            }
        }
    }
}

type Checked<T> = Result<T, RegistrationError>;

fn metadata_error(message: impl Into<String>) -> RegistrationError {
    RegistrationError::InvalidClientMetadata(message.into())
}

/// Registers an application from `metadata` (the caller has checked that registration is on,
/// the initial access token and the rate limit). `actor` is recorded in the audit log.
pub async fn register(
    cx: &Context,
    actor: &Actor,
    metadata: ClientMetadata,
) -> Checked<(Client, ClientInformation)> {
    let new = checked(metadata)?;
    let (client, secret) = admin::applications::create(cx, actor, new)
        .await
        .map_err(|error| match error {
            AdminError::Invalid { message, .. } => metadata_error(message),
            other => RegistrationError::Admin(other),
        })?;
    let information = information(&client, secret);
    Ok((client, information))
}

/// The metadata checked and turned into an application to create.
fn checked(metadata: ClientMetadata) -> Checked<NewClient> {
    if metadata.redirect_uris.is_empty() {
        return Err(RegistrationError::InvalidRedirectUri(
            "redirect_uris is required".into(),
        ));
    }
    if metadata.redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(RegistrationError::InvalidRedirectUri(format!(
            "at most {MAX_REDIRECT_URIS} redirect_uris"
        )));
    }
    for uri in &metadata.redirect_uris {
        redirect_uri(uri)?;
    }
    let name = match metadata.client_name.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_NAME.to_owned(),
        Some(name) if name.chars().count() > MAX_NAME_LENGTH => {
            return Err(metadata_error(format!(
                "client_name must have at most {MAX_NAME_LENGTH} characters"
            )))
        }
        Some(name) => name.to_owned(),
    };
    // RFC 7591 §2: client_secret_basic when the client names no method.
    let method = match metadata.token_endpoint_auth_method.as_deref() {
        None => ClientAuthMethod::ClientSecretBasic,
        Some(value) => value.parse::<ClientAuthMethod>().map_err(|_| {
            metadata_error(format!("unsupported token_endpoint_auth_method: {value:?}"))
        })?,
    };
    let grant_types = grant_types(metadata.grant_types.as_deref())?;
    if let Some(response_types) = &metadata.response_types {
        if response_types.iter().any(|t| t != "code") {
            return Err(metadata_error(
                "only the code response type can be registered",
            ));
        }
    }
    Ok(NewClient {
        name,
        app_type: Some(if method.is_confidential() {
            AppType::RegularWeb
        } else {
            AppType::Native
        }),
        callbacks: metadata.redirect_uris,
        grant_types: Some(grant_types),
        token_endpoint_auth_method: Some(method),
        is_first_party: Some(false),
        ..NewClient::default()
    })
}

/// `authorization_code` (the default) and `refresh_token`, nothing else.
fn grant_types(requested: Option<&[String]>) -> Checked<Vec<GrantType>> {
    let Some(requested) = requested else {
        return Ok(vec![GrantType::AuthorizationCode]);
    };
    let mut grants = Vec::new();
    for value in requested {
        let grant = match value.parse::<GrantType>() {
            Ok(grant @ (GrantType::AuthorizationCode | GrantType::RefreshToken)) => grant,
            _ => {
                return Err(metadata_error(format!(
                    "grant type {value:?} cannot be registered"
                )))
            }
        };
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    }
    if !grants.contains(&GrantType::AuthorizationCode) {
        return Err(metadata_error(
            "grant_types must include authorization_code",
        ));
    }
    Ok(grants)
}

/// A redirect URI nobody reviewed: `https`; `http` only on a loopback host; or a native app's
/// private-use scheme (`com.example.app:/callback`). No fragment, no userinfo, no wildcard.
pub fn redirect_uri(value: &str) -> Checked<()> {
    let refuse = |why: &str| {
        Err(RegistrationError::InvalidRedirectUri(format!(
            "redirect URI {value:?} {why}"
        )))
    };
    if value.len() > MAX_URI_LENGTH {
        return refuse("is too long");
    }
    let Ok(url) = url::Url::parse(value) else {
        return refuse("is not an absolute URL");
    };
    if url.fragment().is_some() {
        return refuse("must not contain a fragment");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return refuse("must not contain userinfo");
    }
    if value.contains('*') {
        return refuse("must not contain a wildcard");
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        "http" => refuse("must use https (http only on a loopback host)"),
        // An operator's callback rule accepts a native app's reverse-domain scheme; it refuses
        // everything else (`javascript:`, `data:`, `file:`).
        _ => admin::applications::check_callback(value)
            .map_err(|error| RegistrationError::InvalidRedirectUri(error.to_string())),
    }
}

/// Whether the URL's host is the loopback interface (`localhost`, 127.0.0.0/8, `[::1]`).
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn information(client: &Client, secret: Option<Secret>) -> ClientInformation {
    let has_secret = secret.is_some();
    ClientInformation {
        client_id: client.client_id.clone(),
        client_secret: secret.map(|s| s.expose_str().to_owned()),
        client_secret_expires_at: has_secret.then_some(0),
        client_id_issued_at: client.created_at,
        client_name: client.name.clone(),
        redirect_uris: client.callbacks.clone(),
        token_endpoint_auth_method: client.token_endpoint_auth_method.as_str(),
        grant_types: client.grant_types.iter().map(|g| g.as_str()).collect(),
        response_types: vec!["code"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_nobody_reviewed_are_held_strictly() {
        for good in [
            "https://app.example/callback",
            "http://localhost:3000/callback",
            "http://127.0.0.1:8080/cb",
            "http://[::1]/cb",
            "com.example.app:/callback",
        ] {
            assert!(redirect_uri(good).is_ok(), "{good}");
        }
        for bad in [
            "http://app.example/callback",
            "https://app.example/cb#fragment",
            "https://user:pass@app.example/cb",
            "https://*.example/cb",
            "javascript:alert(1)",
            "data:text/html,hi",
            "/relative",
            "http://localhost.evil.example/cb",
        ] {
            assert!(
                matches!(
                    redirect_uri(bad),
                    Err(RegistrationError::InvalidRedirectUri(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn only_the_code_flow_can_be_registered() {
        assert!(grant_types(Some(&["client_credentials".into()])).is_err());
        assert!(grant_types(Some(&["implicit".into()])).is_err());
        assert!(grant_types(Some(&["refresh_token".into()])).is_err());
        assert_eq!(
            grant_types(Some(&["authorization_code".into(), "refresh_token".into()])).unwrap(),
            vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
        );
    }
}
