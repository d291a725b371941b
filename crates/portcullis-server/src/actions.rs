//! Auth0 Actions at the protocol endpoints: the post-login trigger before a login's tokens
//! (or code) are issued, the credentials-exchange trigger before a client_credentials token.
//! A denial — `api.access.deny` or the Action's failure — is `access_denied` naming nothing
//! secret, with an audit entry naming the Action; it never becomes a token or a 500.

use portcullis_core::{
    actions::{
        event::{self, LoginConnection, PostLogin, RequestInfo},
        Denial, Runner, TokenChanges, TriggerError,
    },
    audit::{self, RequestOrigin},
    federation::linked_identities,
};
use portcullis_store::{Client, ResourceServer, User};
use portcullis_types::{ActionTrigger, EventType, Scope};
use serde_json::{Map, Value};

use crate::{
    error::{ErrorCode, OAuthError},
    state::AppState,
};

/// The request as an Action sees it: the client's address and agent, and `query`.
pub(crate) fn request_info(
    app: &AppState,
    origin: &RequestOrigin,
    method: &str,
    query: &[(String, String)],
) -> RequestInfo {
    RequestInfo {
        ip: origin.ip.map(|ip| ip.to_string()).unwrap_or_default(),
        user_agent: origin.user_agent.clone().unwrap_or_default(),
        method: method.to_owned(),
        hostname: hostname(app),
        query: query
            .iter()
            .map(|(name, value)| (name.clone(), Value::String(value.clone())))
            .collect::<Map<String, Value>>(),
    }
}

/// The request of an `/authorize` login, its query read from `raw`.
pub(crate) fn query_request(app: &AppState, origin: &RequestOrigin, raw: &str) -> RequestInfo {
    let query: Vec<(String, String)> = serde_urlencoded::from_str(raw).unwrap_or_default();
    request_info(app, origin, "GET", &query)
}

fn hostname(app: &AppState) -> String {
    url::Url::parse(&app.settings.issuer)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_default()
}

fn runner(app: &AppState) -> Runner<'_> {
    Runner {
        store: app.store.as_ref(),
        cipher: &app.key_cipher,
        engine: &app.admin.cx.actions,
    }
}

/// A login about to get its tokens.
pub(crate) struct Login<'a> {
    pub client: &'a Client,
    pub api: Option<&'a ResourceServer>,
    pub user: &'a User,
    pub scope: &'a Scope,
    /// `event.transaction.protocol` (see `event::protocol`).
    pub protocol: &'a str,
    pub redirect_uri: Option<&'a str>,
    pub request: RequestInfo,
    pub origin: &'a RequestOrigin,
}

/// Runs the post-login Actions for `login`: what they set for its tokens, or `access_denied`.
pub(crate) async fn post_login(
    app: &AppState,
    login: Login<'_>,
) -> Result<TokenChanges, OAuthError> {
    // The event's reads, only when an Action is bound, and side by side.
    let event = async || {
        let store = app.store.as_ref();
        let (roles, connection, linked) = tokio::try_join!(
            store.user_roles(&login.user.user_id),
            LoginConnection::of(store, login.user),
            linked_identities(store, &login.user.user_id),
        )?;
        Ok(PostLogin {
            user: login.user,
            linked: &linked,
            connection: &connection,
            client: login.client,
            api: login.api,
            roles: roles.into_iter().map(|role| role.name).collect(),
            request: &login.request,
            protocol: login.protocol,
            scope: login.scope,
            redirect_uri: login.redirect_uri,
            tenant: &hostname(app),
        }
        .to_json())
    };
    let bound = app
        .tenant
        .bound_actions(app.store.as_ref(), ActionTrigger::PostLogin)
        .await?;
    let run = runner(app)
        .run(ActionTrigger::PostLogin, &bound, event, Some(login.user))
        .await;
    match run {
        Ok(run) => {
            for (action, reason) in &run.refused_claims {
                tracing::info!(action, reason, "an Action's claim was left out");
            }
            Ok(run.changes)
        }
        Err(TriggerError::Denied(denial)) => {
            let entry = audit::entry(EventType::FailedLogin, described(&denial))
                .client(login.client)
                .user(login.user)
                .origin(login.origin);
            app.audit(entry).await;
            Err(denied(&denial))
        }
        Err(TriggerError::Store(error)) => Err(error.into()),
    }
}

/// Runs the credentials-exchange Actions for a client_credentials token.
pub(crate) async fn credentials_exchange(
    app: &AppState,
    client: &Client,
    api: &ResourceServer,
    scope: &Scope,
    request: RequestInfo,
    origin: &RequestOrigin,
) -> Result<TokenChanges, OAuthError> {
    let event = async || {
        Ok(event::credentials_exchange(
            client,
            api,
            scope,
            &request,
            &hostname(app),
        ))
    };
    let bound = app
        .tenant
        .bound_actions(app.store.as_ref(), ActionTrigger::CredentialsExchange)
        .await?;
    match runner(app)
        .run(ActionTrigger::CredentialsExchange, &bound, event, None)
        .await
    {
        Ok(run) => Ok(run.changes),
        Err(TriggerError::Denied(denial)) => {
            let entry = audit::entry(EventType::FailedClientCredentials, described(&denial))
                .client(client)
                .origin(origin);
            app.audit(entry).await;
            Err(denied(&denial))
        }
        Err(TriggerError::Store(error)) => Err(error.into()),
    }
}

/// The audit entry's description: the Action, and its reason or its failure.
fn described(denial: &Denial) -> String {
    if denial.failed {
        format!("Action {:?} failed: {}", denial.action, denial.reason)
    } else {
        format!(
            "Action {:?} denied access: {}",
            denial.action, denial.reason
        )
    }
}

fn denied(denial: &Denial) -> OAuthError {
    OAuthError::new(ErrorCode::AccessDenied, denial.description())
}

/// The changes a code carries, as stored with it.
pub(crate) fn to_stored(changes: &TokenChanges) -> Option<Value> {
    (!changes.is_empty())
        .then(|| serde_json::to_value(changes).ok())
        .flatten()
}

/// The changes stored with a code: unreadable ones are our failure, never a token without
/// them.
pub(crate) fn from_stored(stored: Option<&Value>) -> Result<TokenChanges, OAuthError> {
    match stored {
        None => Ok(TokenChanges::default()),
        Some(value) => serde_json::from_value(value.clone()).map_err(OAuthError::internal),
    }
}
