//! The upstream side of connections to other identity providers, with the field's crates:
//! `openidconnect` (discovery, the code exchange, the ID token's signature through the
//! provider's JWKS, issuer, audience, expiry and nonce) and `oauth2` (the code exchange of a
//! plain OAuth 2 provider, whose profile endpoint then names the user). Every sign-in uses
//! PKCE S256 (unless an OAuth 2 connection turns it off) and a fresh `state` and `nonce`,
//! stored server-side by the caller. What a provider answers is checked here; the user it
//! makes is `portcullis_core::federation`'s business.

use std::{sync::OnceLock, time::Duration};

use openidconnect::{
    core::{
        CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
        CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRevocableToken,
        CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
    },
    reqwest, AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EmptyExtraTokenFields, IdTokenFields, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse, StandardTokenResponse,
    TokenResponse,
};
use portcullis_core::federation::{
    apply_github_emails, claim_text, tenant_issuer, Answer, Issuer, Protocol, Settings,
};
use portcullis_types::Secret;
use serde_json::{json, Map, Value};

/// How long a call to a provider may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a provider's answer (or the provider itself) was refused. The message is shown to the
/// user and logged; it never holds a code or a token.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UpstreamError(pub String);

fn refused(what: &str, error: impl std::fmt::Display) -> UpstreamError {
    UpstreamError(format!("{what}: {error}"))
}

/// The one HTTP client for providers: no redirects followed (the crates' advice against
/// SSRF), a timeout, rustls.
fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .user_agent("portcullis")
            .build()
            .unwrap_or_default()
    })
}

/// The ID token's claims beyond the standard ones, kept rather than dropped: a connection's
/// attribute map may name them, and Microsoft's `tid` names the tenant of its issuer.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
struct OtherClaims {
    #[serde(flatten)]
    claims: Map<String, Value>,
}

impl AdditionalClaims for OtherClaims {}

type IdFields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// An OpenID client made from a provider's metadata: its authorization endpoint set, its
/// token and userinfo endpoints as the metadata says; `openidconnect`'s core client but for
/// the claims it keeps ([`OtherClaims`]).
type OidcClient = openidconnect::Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    StandardTokenResponse<IdFields, CoreTokenType>,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// Where the browser goes, and what the callback will check its answer against.
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// An OpenID provider's metadata with its JWKS: discovered (or given) and checked against the
/// configured issuer.
async fn provider(
    issuer: &Issuer,
    discovery_url: &str,
    given: Option<&Value>,
) -> Result<CoreProviderMetadata, UpstreamError> {
    let document = match given {
        Some(document) => document.clone(),
        None => {
            let response =
                http().get(discovery_url).send().await.map_err(|e| {
                    refused("the provider's discovery document could not be read", e)
                })?;
            if !response.status().is_success() {
                return Err(UpstreamError(format!(
                    "the provider's discovery document answered {}",
                    response.status()
                )));
            }
            response
                .json::<Value>()
                .await
                .map_err(|e| refused("the provider's discovery document is not JSON", e))?
        }
    };
    let metadata: CoreProviderMetadata = serde_json::from_value(document)
        .map_err(|e| refused("the provider's discovery document is not valid", e))?;
    let found = metadata.issuer().as_str();
    // Microsoft's multi-tenant document names a template, checked on each ID token instead.
    if let Issuer::Exact(issuer) = issuer {
        if found.trim_end_matches('/') != issuer.trim_end_matches('/') {
            return Err(UpstreamError(format!(
                "the provider's discovery document names issuer {found}, not {issuer}"
            )));
        }
    }
    let jwks = openidconnect::JsonWebKeySet::fetch_async(metadata.jwks_uri(), http())
        .await
        .map_err(|e| refused("the provider's keys could not be read", e))?;
    Ok(metadata.set_jwks(jwks))
}

fn oidc_client(
    metadata: CoreProviderMetadata,
    settings: &Settings,
    secret: Option<&Secret>,
    redirect_uri: &str,
) -> Result<OidcClient, UpstreamError> {
    let redirect =
        RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| refused("the callback URL", e))?;
    Ok(OidcClient::from_provider_metadata(
        metadata,
        ClientId::new(settings.client_id.clone()),
        secret.map(|s| ClientSecret::new(s.expose_str().to_owned())),
    )
    .set_redirect_uri(redirect))
}

fn oauth2_client(
    settings: &Settings,
    secret: Option<&Secret>,
    redirect_uri: &str,
) -> Result<
    oauth2::basic::BasicClient<
        oauth2::EndpointSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointSet,
    >,
    UpstreamError,
> {
    let Protocol::OAuth2 {
        authorization_url,
        token_url,
        ..
    } = &settings.protocol
    else {
        return Err(UpstreamError("not an OAuth 2 connection".into()));
    };
    let mut client =
        oauth2::basic::BasicClient::new(oauth2::ClientId::new(settings.client_id.clone()))
            .set_auth_uri(
                oauth2::AuthUrl::new(authorization_url.clone())
                    .map_err(|e| refused("authorizationURL", e))?,
            )
            .set_token_uri(
                oauth2::TokenUrl::new(token_url.clone()).map_err(|e| refused("tokenURL", e))?,
            )
            .set_redirect_uri(
                oauth2::RedirectUrl::new(redirect_uri.to_owned())
                    .map_err(|e| refused("the callback URL", e))?,
            );
    if let Some(secret) = secret {
        client =
            client.set_client_secret(oauth2::ClientSecret::new(secret.expose_str().to_owned()));
    }
    Ok(client)
}

/// The provider's authorization URL for a new sign-in, with its state, nonce and PKCE
/// verifier.
pub async fn start(
    settings: &Settings,
    secret: Option<&Secret>,
    redirect_uri: &str,
) -> Result<Started, UpstreamError> {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    match &settings.protocol {
        Protocol::OpenId {
            issuer,
            discovery_url,
            metadata,
        } => {
            let metadata = provider(issuer, discovery_url, metadata.as_ref()).await?;
            let client = oidc_client(metadata, settings, secret, redirect_uri)?;
            let mut request = client
                .authorize_url(
                    CoreAuthenticationFlow::AuthorizationCode,
                    CsrfToken::new_random,
                    Nonce::new_random,
                )
                .set_pkce_challenge(challenge);
            for scope in settings.scopes.iter().filter(|s| *s != "openid") {
                request = request.add_scope(Scope::new(scope.clone()));
            }
            let (url, state, nonce) = request.url();
            Ok(Started {
                url: url.to_string(),
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
            })
        }
        Protocol::OAuth2 { .. } => {
            let client = oauth2_client(settings, secret, redirect_uri)?;
            let mut request = client.authorize_url(oauth2::CsrfToken::new_random);
            for scope in &settings.scopes {
                request = request.add_scope(oauth2::Scope::new(scope.clone()));
            }
            if settings.pkce {
                request = request.set_pkce_challenge(
                    oauth2::PkceCodeChallenge::from_code_verifier_sha256(
                        &oauth2::PkceCodeVerifier::new(verifier.secret().clone()),
                    ),
                );
            }
            let (url, state) = request.url();
            Ok(Started {
                url: url.to_string(),
                state: state.secret().clone(),
                nonce: String::new(),
                pkce_verifier: if settings.pkce {
                    verifier.secret().clone()
                } else {
                    String::new()
                },
            })
        }
    }
}

/// The ID token's verifier: the provider's JWKS, our client id, the issuer, the expiry; the
/// asymmetric algorithms only (an HMAC under the client secret would let anyone who holds
/// the secret forge a token).
fn verifier<'a>(client: &'a OidcClient) -> openidconnect::core::CoreIdTokenVerifier<'a> {
    use openidconnect::core::CoreJwsSigningAlgorithm as Alg;
    client.id_token_verifier().set_allowed_algs([
        Alg::RsaSsaPkcs1V15Sha256,
        Alg::RsaSsaPkcs1V15Sha384,
        Alg::RsaSsaPkcs1V15Sha512,
        Alg::RsaSsaPssSha256,
        Alg::EcdsaP256Sha256,
        Alg::EcdsaP384Sha384,
        Alg::EdDsa,
    ])
}

/// Microsoft's rule for its multi-tenant endpoints: the ID token's `iss` must be the
/// document's template with `{tenantid}` replaced by the token's own `tid`.
fn check_tenant_issuer(template: &str, claims: &Map<String, Value>) -> Result<(), UpstreamError> {
    let tid = claims.get("tid").and_then(Value::as_str);
    let expected = tenant_issuer(template, tid).ok_or_else(|| {
        UpstreamError(
            "the provider's ID token was refused: it names no tenant (tid) for the issuer".into(),
        )
    })?;
    let found = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if found != expected {
        return Err(UpstreamError(format!(
            "the provider's ID token was refused: its issuer {found} is not its tenant's, {expected}"
        )));
    }
    Ok(())
}

/// The provider's JSON document at `url` read with the access token: `None` when it answers
/// a refusal (a 4xx); its other failures, and a body of another shape, refuse the answer.
async fn read_json<T: serde::de::DeserializeOwned>(
    url: &str,
    access_token: &str,
    what: &str,
) -> Result<Option<T>, UpstreamError> {
    let response = http()
        .get(url)
        .bearer_auth(access_token)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| refused(&format!("the provider's {what} could not be read"), e))?;
    let status = response.status();
    if status.is_client_error() {
        return Ok(None);
    }
    if !status.is_success() {
        return Err(UpstreamError(format!(
            "the provider's {what} answered {status}"
        )));
    }
    response
        .json()
        .await
        .map(Some)
        .map_err(|e| refused(&format!("the provider's {what} is not valid JSON"), e))
}

/// What the callback knows of the sign-in it finishes.
pub struct Pending<'a> {
    pub code: &'a str,
    pub nonce: &'a str,
    pub pkce_verifier: &'a str,
    pub redirect_uri: &'a str,
}

/// Exchanges the code and checks the answer: for OpenID Connect the ID token's signature
/// (the provider's JWKS), issuer, audience, expiry and nonce; for OAuth 2 the profile the
/// access token reads.
pub async fn finish(
    settings: &Settings,
    secret: Option<&Secret>,
    pending: Pending<'_>,
) -> Result<Answer, UpstreamError> {
    match &settings.protocol {
        Protocol::OpenId {
            issuer,
            discovery_url,
            metadata,
        } => {
            let metadata = provider(issuer, discovery_url, metadata.as_ref()).await?;
            let template = metadata.issuer().as_str().to_owned();
            let client = oidc_client(metadata, settings, secret, pending.redirect_uri)?;
            let tokens = client
                .exchange_code(AuthorizationCode::new(pending.code.to_owned()))
                .map_err(|e| refused("the provider has no token endpoint", e))?
                .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.to_owned()))
                .request_async(http())
                .await
                .map_err(|e| refused("the provider refused the code", e))?;
            let id_token = tokens
                .id_token()
                .ok_or_else(|| UpstreamError("the provider's answer has no ID token".into()))?;
            // A tenant template is no issuer to compare: the verifier checks all else, and
            // the issuer is checked against the token's tenant below.
            let per_tenant = matches!(issuer, Issuer::TenantTemplate)
                && template.contains(portcullis_core::federation::settings::TENANT_PLACEHOLDER);
            let verifier = verifier(&client).require_issuer_match(!per_tenant);
            let claims = id_token
                .claims(&verifier, &Nonce::new(pending.nonce.to_owned()))
                .map_err(|e| refused("the provider's ID token was refused", e))?;
            let claims = match serde_json::to_value(claims) {
                Ok(Value::Object(map)) => map,
                _ => {
                    return Err(UpstreamError(
                        "the provider's ID token claims are not an object".into(),
                    ))
                }
            };
            if per_tenant {
                check_tenant_issuer(&template, &claims)?;
            }
            let upstream_id = claim_text(&claims, "sub").unwrap_or_default();
            let kept = json!({
                "access_token": tokens.access_token().secret(),
                "id_token": id_token.to_string(),
                "refresh_token": tokens.refresh_token().map(|t| t.secret().clone()),
            });
            Ok(Answer {
                upstream_id,
                claims,
                tokens: Secret::new(kept.to_string()),
            })
        }
        Protocol::OAuth2 {
            profile_url,
            id_attribute,
            emails_url,
            ..
        } => {
            let client = oauth2_client(settings, secret, pending.redirect_uri)?;
            let mut request =
                client.exchange_code(oauth2::AuthorizationCode::new(pending.code.to_owned()));
            if !pending.pkce_verifier.is_empty() {
                request = request.set_pkce_verifier(oauth2::PkceCodeVerifier::new(
                    pending.pkce_verifier.to_owned(),
                ));
            }
            let tokens = request
                .request_async(http())
                .await
                .map_err(|e| refused("the provider refused the code", e))?;
            let access_token = tokens.access_token().secret();
            let mut claims: Map<String, Value> = read_json(profile_url, access_token, "profile")
                .await?
                .ok_or_else(|| UpstreamError("the provider's profile was refused".into()))?;
            if let Some(emails_url) = emails_url {
                // Without `user:email` GitHub refuses the list: no verified address, then.
                let emails: Option<Value> =
                    read_json(emails_url, access_token, "addresses").await?;
                apply_github_emails(&mut claims, emails.as_ref());
            }
            let upstream_id = claim_text(&claims, id_attribute).unwrap_or_default();
            let kept = json!({ "access_token": access_token });
            Ok(Answer {
                upstream_id,
                claims,
                tokens: Secret::new(kept.to_string()),
            })
        }
    }
}
