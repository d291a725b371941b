//! What the Actions of one trigger asked for, gathered in order.

use portcullis_actions::{ApiCall, LogLine, Outcome};
use portcullis_types::{AuthMethod, Scope, ScopeToken};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::claims::{self, TokenKind};
use crate::admin::{AdminError, MetadataChange};

/// What the Actions of a login set for its tokens. For the code flow it travels with the
/// authorization code, so the tokens of that code carry exactly what the login's Actions
/// decided, and the token endpoint never runs post-login again for a code.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenChanges {
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub access_claims: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub id_claims: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_scopes: Vec<String>,
    /// `api.multifactor.enable`: the login owes a second factor before any token (see
    /// `TokenChanges::owes_second_factor`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multifactor: bool,
}

impl TokenChanges {
    pub fn is_empty(&self) -> bool {
        self == &TokenChanges::default()
    }

    /// Whether the Actions asked for a second factor (`api.multifactor.enable`) that a login
    /// whose methods are `amr` has not given: then no token is issued until one is.
    pub fn owes_second_factor(&self, amr: &[AuthMethod]) -> bool {
        self.multifactor && !amr.contains(&AuthMethod::Mfa)
    }

    /// `scope` with the added scopes and without the removed ones. The result still goes
    /// through the API's access policies when the token is minted: an Action never grants a
    /// scope a policy denies.
    pub fn scope(&self, scope: &Scope) -> Scope {
        let mut changed = scope.clone();
        for added in &self.add_scopes {
            if let Ok(token) = ScopeToken::parse(added) {
                changed.insert(token);
            }
        }
        changed.filter(|token| !self.remove_scopes.iter().any(|r| r == token.as_str()))
    }
}

/// A trigger's run: the token changes and the lines the code logged, each with its Action.
#[derive(Clone, Debug, Default)]
pub struct TriggerRun {
    pub changes: TokenChanges,
    pub logs: Vec<(String, LogLine)>,
    /// Claims left out under Auth0's rules, each with its Action.
    pub refused_claims: Vec<(String, String)>,
}

/// A denial: `api.access.deny(reason)`, or the Action failed (`failed`, the reason being the
/// engine's error).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the Action {action:?} denied access: {reason}")]
pub struct Denial {
    /// The Action's name as bound.
    pub action: String,
    pub reason: String,
    pub failed: bool,
}

impl Denial {
    /// What the client is told: the Action's own reason for a deny; for a failure, only that
    /// the Action failed (the engine's message goes to the audit log).
    pub fn description(&self) -> String {
        if self.failed {
            format!("The Action {:?} failed", self.action)
        } else {
            self.reason.clone()
        }
    }
}

/// The metadata one Action set, as merges.
pub(super) struct MetadataChanges {
    pub app: Option<MetadataChange>,
    pub user: Option<MetadataChange>,
}

impl TriggerRun {
    /// Takes in one Action's outcome; returns its metadata changes.
    pub(super) fn absorb(
        &mut self,
        action: &str,
        outcome: &Outcome,
    ) -> Result<MetadataChanges, AdminError> {
        let mut app = Map::new();
        let mut user = Map::new();
        for call in &outcome.calls {
            match call {
                ApiCall::AccessTokenClaim { name, value } => {
                    self.claim(action, TokenKind::Access, name, value)
                }
                ApiCall::IdTokenClaim { name, value } => {
                    self.claim(action, TokenKind::Id, name, value)
                }
                ApiCall::AddScope { scope } => {
                    self.changes.remove_scopes.retain(|s| s != scope);
                    self.changes.add_scopes.push(scope.clone());
                }
                ApiCall::RemoveScope { scope } => {
                    self.changes.add_scopes.retain(|s| s != scope);
                    self.changes.remove_scopes.push(scope.clone());
                }
                ApiCall::Deny { .. } => {}
                ApiCall::AppMetadata { name, value } => {
                    app.insert(name.clone(), value.clone());
                }
                ApiCall::UserMetadata { name, value } => {
                    user.insert(name.clone(), value.clone());
                }
                ApiCall::Multifactor { provider } => self.changes.multifactor = provider != "none",
            }
        }
        self.logs.extend(
            outcome
                .logs
                .iter()
                .map(|line| (action.to_owned(), line.clone())),
        );
        for (token, claims) in [
            ("access", &self.changes.access_claims),
            ("ID", &self.changes.id_claims),
        ] {
            if !claims::fits(claims) {
                return Err(AdminError::invalid(
                    "claims",
                    format!("the {token} token's custom claims exceed 100 KB"),
                ));
            }
        }
        Ok(MetadataChanges {
            // An empty merge would clear the object (Auth0's PATCH rule): none is made.
            app: (!app.is_empty()).then_some(MetadataChange::Merge(app)),
            user: (!user.is_empty()).then_some(MetadataChange::Merge(user)),
        })
    }

    fn claim(&mut self, action: &str, token: TokenKind, name: &str, value: &Value) {
        if let Some(reason) = claims::refusal(token, name) {
            self.refused_claims.push((action.to_owned(), reason));
            return;
        }
        let claims = match token {
            TokenKind::Access => &mut self.changes.access_claims,
            TokenKind::Id => &mut self.changes.id_claims,
        };
        claims.insert(name.to_owned(), value.clone());
    }
}
