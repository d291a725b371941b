//! The verification pipeline: cache, header policy, key lookup, signature and claims.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{SystemTime, UNIX_EPOCH},
};

use axum::http::{Extensions, HeaderMap, Method, Uri};
use jsonwebtoken::{AlgorithmFamily, DecodingKey};
use serde_json::Value;
use url::Url;

use crate::{
    claims::VerifiedToken,
    dpop::{bound_key, dpop_token, DpopVerifier},
    error::{token_error, AuthError, GuardRejection, ResponseStyle, TokenError},
    header_policy::{CompactJws, HeaderPolicy},
    jwks::{KeySetError, KeyStore, LookupError},
    scope::ScopeClaims,
    sources::TokenSources,
    token_cache::{token_digest, VerifiedTokenCache},
    verify::ClaimRules,
};

/// Protects an API: finds the bearer token in a request, verifies it against the issuer's
/// JWKS and checks its claims.
///
/// Cheap to clone; clones share the key cache and the verified-token cache. Use it as axum
/// state for the [`Claims`](crate::Claims) extractor, or wrap routes with
/// [`layer`](Self::layer) / [`require`](Self::require).
#[derive(Clone, Debug)]
pub struct Guard {
    core: Arc<GuardCore>,
    style: Arc<ResponseStyle>,
}

pub(crate) struct GuardCore {
    id: u64,
    issuer: String,
    header_policy: HeaderPolicy,
    keys: KeyStore,
    verified: VerifiedTokenCache,
    sources: TokenSources,
    /// The application's HS256 secret, when it gave one: the only key HS256 tokens are ever
    /// verified with (never one from the JWKS).
    hmac_key: Option<DecodingKey>,
    /// The RFC 9728 metadata, when configured.
    metadata: Option<ServedMetadata>,
    /// The registered-claim checks of tokens verified with JWKS keys.
    rules: ClaimRules,
    /// The proofs of DPoP-bound tokens.
    pub(crate) dpop: DpopVerifier,
}

/// The RFC 9728 document as served: its path, its absolute URL (named by challenges) and its
/// content, rendered once.
#[derive(Debug, Clone)]
pub(crate) struct ServedMetadata {
    pub(crate) path: String,
    pub(crate) url: String,
    pub(crate) document: Arc<Value>,
}

impl std::fmt::Debug for GuardCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardCore")
            .field("issuer", &self.issuer)
            .field("jwks_url", &self.keys.url().as_str())
            .finish_non_exhaustive()
    }
}

impl GuardCore {
    #[expect(clippy::too_many_arguments, reason = "called once, from the builder")]
    pub(crate) fn new(
        issuer: String,
        audiences: &[String],
        header_policy: HeaderPolicy,
        clock_tolerance_secs: u64,
        keys: KeyStore,
        verified_token_cache: usize,
        sources: TokenSources,
        scope_claims: ScopeClaims,
        hmac_key: Option<DecodingKey>,
        metadata: Option<ServedMetadata>,
    ) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let issuer_for_rules = issuer.clone();
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            issuer,
            header_policy,
            keys,
            verified: VerifiedTokenCache::new(verified_token_cache),
            sources,
            hmac_key,
            metadata,
            rules: ClaimRules {
                issuer: issuer_for_rules,
                audiences: audiences.to_vec(),
                leeway: clock_tolerance_secs,
                scope_claims,
            },
            dpop: DpopVerifier::default(),
        }
    }
}

// `Guard::builder` lives with the builder in `config`, and `Guard::layer` and `Guard::require`
// live with the layer in `layer`, so that this module depends on neither.
impl Guard {
    pub(crate) fn from_parts(core: GuardCore, style: ResponseStyle) -> Self {
        Self {
            core: Arc::new(core),
            style: Arc::new(style),
        }
    }

    /// The issuer tokens must carry.
    pub fn issuer(&self) -> &str {
        &self.core.issuer
    }

    /// The RFC 9728 metadata this guard serves and names in its challenges, if configured.
    pub(crate) fn metadata(&self) -> Option<&ServedMetadata> {
        self.core.metadata.as_ref()
    }

    /// Where keys are fetched from.
    pub fn jwks_url(&self) -> &Url {
        self.core.keys.url()
    }

    /// How many JWKS requests this guard (and its clones) has sent.
    pub fn jwks_fetch_count(&self) -> u64 {
        self.core.keys.fetch_count()
    }

    /// Fetches the key set now (within the per-minute limit), e.g. at start-up so that the
    /// first request does not wait and a wrong URL shows up in the log early.
    pub async fn refresh_keys(&self) -> Result<(), KeySetError> {
        self.core.keys.refresh_now().await
    }

    /// A copy of this guard (sharing its caches) that renders refusals with another body.
    pub fn with_error_body(
        &self,
        body: impl Fn(&AuthError) -> Value + Send + Sync + 'static,
    ) -> Self {
        Self {
            core: self.core.clone(),
            style: Arc::new(ResponseStyle {
                body: Some(Arc::new(body)),
                ..(*self.style).clone()
            }),
        }
    }

    /// Renders `error` the way this guard renders refusals.
    pub fn reject(&self, error: AuthError) -> GuardRejection {
        GuardRejection::new(error, self.style.clone())
    }

    /// Finds the token in a request (header, then the opted-in cookie and query parameter)
    /// and verifies it. Without the request's method no DPoP proof can be checked, so a token
    /// bound to a DPoP key is refused here; [`authenticate_request`](Self::authenticate_request)
    /// takes it with its proof.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        uri: &Uri,
    ) -> Result<VerifiedToken, AuthError> {
        self.authenticate_request(None, headers, uri).await
    }

    /// Like [`authenticate`](Self::authenticate), and with the request's `method` a token bound
    /// to a DPoP key is accepted as `Authorization: DPoP <token>` with a valid proof.
    pub async fn authenticate_request(
        &self,
        method: Option<&Method>,
        headers: &HeaderMap,
        uri: &Uri,
    ) -> Result<VerifiedToken, AuthError> {
        if let Some(token) = dpop_token(headers)? {
            let verified = self.verify(token).await?;
            let jkt = bound_key(&verified).ok_or(TokenError::NotDpopBound)?;
            let method = method.ok_or_else(|| {
                AuthError::InvalidDpopProof("the request's method is unknown".to_owned())
            })?;
            let now = i64::try_from(unix_now()).unwrap_or(i64::MAX);
            self.core
                .dpop
                .check(method, headers, uri, token, jkt, now)?;
            return Ok(verified);
        }
        let token = self
            .core
            .sources
            .find(headers, uri)?
            .ok_or(AuthError::MissingToken)?;
        let verified = self.verify(&token).await?;
        // RFC 9449 §7.2: a bound token is not a bearer token.
        if bound_key(&verified).is_some() {
            return Err(TokenError::DpopBound.into());
        }
        Ok(verified)
    }

    /// The token a layer of this very guard (or of a clone of it) already verified for this
    /// request, if any. A token verified by another guard is not reused, since that guard may
    /// trust another issuer or audience.
    pub(crate) fn already_verified(&self, extensions: &Extensions) -> Option<VerifiedToken> {
        extensions
            .get::<VerifiedToken>()
            .filter(|token| token.guard_id() == self.core.id)
            .cloned()
    }

    /// Verifies a token: size and header policy, key by `kid`, signature, then `iss`, `aud`,
    /// `exp`, `nbf` and `iat`. A token verified before is answered from the cache until its
    /// `exp`.
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        let result = self.verify_inner(token).await;
        if let Err(error) = &result {
            tracing::debug!(%error, "access token refused");
        }
        result
    }

    async fn verify_inner(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        let core = &*self.core;
        if token.len() > core.header_policy.max_token_bytes {
            return Err(TokenError::TooLarge.into());
        }
        let now = unix_now();
        let digest = token_digest(token);
        if let Some(verified) = core.verified.get(&digest, now) {
            return Ok(verified);
        }

        let jws = CompactJws::split(token, core.header_policy.max_token_bytes)?;
        let header = core.header_policy.check(&jws)?;
        let claims = if header.alg.family() == AlgorithmFamily::Hmac {
            // HS256 is in the allow-list only with the application's own secret, and that
            // secret is the only key an HMAC token is checked with.
            let key = core
                .hmac_key
                .as_ref()
                .ok_or(TokenError::DisallowedAlgorithm)?;
            // jsonwebtoken checks the signature only; the claims get the same rules as any
            // other token's.
            let valid = jsonwebtoken::crypto::verify(
                jws.signature,
                jws.signing_input.as_bytes(),
                key,
                header.alg,
            )
            .map_err(|error| token_error(error.kind()))?;
            if !valid {
                return Err(TokenError::InvalidSignature.into());
            }
            core.rules.check(&jws, now)?
        } else {
            let key =
                core.keys
                    .key_for(header.kid.as_deref())
                    .await
                    .map_err(|error| match error {
                        LookupError::UnknownKey => AuthError::from(TokenError::UnknownKey),
                        LookupError::Unavailable => AuthError::KeysUnavailable,
                    })?;
            if !key.accepts(header.alg) {
                return Err(TokenError::UnknownKey.into());
            }
            key.verify(&jws, header.alg, &core.rules, now)?
        };

        let expires_at = claims.expires_at;
        let verified = VerifiedToken::new(claims, core.id);
        if expires_at > now {
            core.verified.insert(digest, verified.clone(), expires_at);
        }
        Ok(verified)
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
