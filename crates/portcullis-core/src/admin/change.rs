//! A change to the tenant, as the audit log records it: what was done (an [`Action`]) to
//! which object (a [`Kind`] and an id), plus descriptive fields that never hold a secret.

use serde_json::{json, Map, Value};

use super::Actor;
use crate::audit::{entry, Entry};
use portcullis_types::EventType;

/// The kind of object a change is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Api,
    Application,
    ClientGrant,
    /// A user's consent to an application (Auth0's user grant).
    UserGrant,
    User,
    Role,
    AccessRule,
    Administrator,
    SigningKeys,
    /// The database connection's settings.
    Connection,
    EmailTemplate,
    /// The tenant's MFA factors and policy (Auth0's Guardian).
    Guardian,
    /// A person's enrolled second factor.
    AuthenticationMethod,
    /// The tenant's settings (its flags).
    TenantSettings,
    /// An Auth0 Action (its code, secrets and versions).
    AutomationAction,
    /// A trigger's bound Actions.
    TriggerBindings,
}

impl Kind {
    /// The type name in the log's `target.type` (the Management API's resource names).
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::Api => "resource_server",
            Kind::Application => "client",
            Kind::ClientGrant => "client_grant",
            Kind::UserGrant => "grant",
            Kind::User => "user",
            Kind::Role => "role",
            Kind::AccessRule => "access_rule",
            Kind::Administrator => "administrator",
            Kind::SigningKeys => "signing_keys",
            Kind::Connection => "connection",
            Kind::EmailTemplate => "email_template",
            Kind::Guardian => "guardian",
            Kind::AuthenticationMethod => "authentication_method",
            Kind::TenantSettings => "tenant_settings",
            Kind::AutomationAction => "action",
            Kind::TriggerBindings => "trigger_bindings",
        }
    }

    /// What the object is called, in lower case.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Api => "API",
            Kind::Application => "application",
            Kind::ClientGrant => "client grant",
            Kind::UserGrant => "user grant",
            Kind::User => "user",
            Kind::Role => "role",
            Kind::AccessRule => "access rule",
            Kind::Administrator => "administrator",
            Kind::SigningKeys => "signing key",
            Kind::Connection => "connection",
            Kind::EmailTemplate => "email template",
            Kind::Guardian => "multi-factor settings",
            Kind::AuthenticationMethod => "authentication method",
            Kind::TenantSettings => "tenant settings",
            Kind::AutomationAction => "action",
            Kind::TriggerBindings => "trigger bindings",
        }
    }

    /// The object with its article, in the words of whoever made the change: the Management
    /// API speaks Auth0's API nouns (resource server, client), the dashboard and the CLI the
    /// console's (API, application).
    fn noun(self, auth0_words: bool) -> &'static str {
        match (self, auth0_words) {
            (Kind::Api, true) => "a resource server",
            (Kind::Api, false) => "an API",
            (Kind::Application, true) => "a client",
            (Kind::Application, false) => "an application",
            (Kind::ClientGrant, _) => "a client grant",
            (Kind::UserGrant, _) => "a user grant",
            (Kind::User, _) => "a user",
            (Kind::Role, _) => "a role",
            (Kind::AccessRule, _) => "an access rule",
            (Kind::Administrator, _) => "an administrator",
            (Kind::SigningKeys, _) => "the signing keys",
            (Kind::Connection, true) => "a connection",
            (Kind::Connection, false) => "the database connection",
            (Kind::EmailTemplate, _) => "an email template",
            (Kind::Guardian, _) => "the multi-factor settings",
            (Kind::AuthenticationMethod, _) => "an authentication method",
            (Kind::TenantSettings, _) => "the tenant settings",
            (Kind::AutomationAction, _) => "an action",
            (Kind::TriggerBindings, _) => "a trigger's bindings",
        }
    }
}

/// What was done. Counts say how many permissions or roles a change named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
    Block,
    Unblock,
    RotateSecret,
    AddScope,
    RemoveScope,
    AddPermissions(usize),
    RemovePermissions(usize),
    AssignRoles(usize),
    RemoveRoles(usize),
    SetPassword,
    Rotate,
    /// Clears a user's brute-force blocks (the pairs of identifier and address).
    RemoveLoginBlocks,
    /// Deploys an Action: a new immutable version.
    Deploy,
}

impl Action {
    /// The name in the log's `action`.
    pub fn name(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Block => "block",
            Action::Unblock => "unblock",
            Action::RotateSecret => "rotate_secret",
            Action::AddScope => "add_scope",
            Action::RemoveScope => "remove_scope",
            Action::AddPermissions(_) => "add_permissions",
            Action::RemovePermissions(_) => "remove_permissions",
            Action::AssignRoles(_) => "assign_roles",
            Action::RemoveRoles(_) => "remove_roles",
            Action::SetPassword => "set_password",
            Action::Rotate => "rotate",
            Action::RemoveLoginBlocks => "remove_login_blocks",
            Action::Deploy => "deploy",
        }
    }
}

/// One change, ready to be recorded.
#[derive(Clone, Debug)]
pub struct Change {
    pub action: Action,
    pub kind: Kind,
    pub id: String,
    /// Descriptive fields (names, identifiers, scopes); never a secret.
    pub fields: Map<String, Value>,
}

impl Change {
    pub fn new(action: Action, kind: Kind, id: impl Into<String>) -> Self {
        Change {
            action,
            kind,
            id: id.into(),
            fields: Map::new(),
        }
    }

    /// Adds the descriptive fields of `value` (an object).
    pub fn with(mut self, value: Value) -> Self {
        if let Value::Object(fields) = value {
            self.fields.extend(fields);
        }
        self
    }

    /// The sentence the log shows.
    pub fn description(&self, actor: &Actor) -> String {
        let noun = self.kind.noun(matches!(actor, Actor::ManagementApi { .. }));
        match self.action {
            Action::Create => format!("Create {noun}"),
            Action::Update => format!("Update {noun}"),
            Action::Delete => format!("Delete {noun}"),
            Action::Block => format!("Block {noun}"),
            Action::Unblock => format!("Unblock {noun}"),
            Action::RotateSecret => format!("Rotate {noun}'s secret"),
            Action::AddScope => "Add a scope".to_owned(),
            Action::RemoveScope => "Remove a scope".to_owned(),
            Action::AddPermissions(_) => format!("Add permissions to {noun}"),
            Action::RemovePermissions(1) => format!("Remove a permission from {noun}"),
            Action::RemovePermissions(_) => format!("Remove permissions from {noun}"),
            Action::AssignRoles(1) => "Assign a role".to_owned(),
            Action::AssignRoles(_) => "Assign roles".to_owned(),
            Action::RemoveRoles(1) => "Remove a role".to_owned(),
            Action::RemoveRoles(_) => "Remove roles".to_owned(),
            Action::SetPassword => format!("Set the password of {noun}"),
            Action::Rotate => format!("Rotate {noun}"),
            Action::RemoveLoginBlocks => format!("Remove the login blocks of {noun}"),
            Action::Deploy => format!("Deploy {noun}"),
        }
    }

    /// The audit entry: a `sapi` event with who, what and where.
    pub fn entry(self, actor: &Actor) -> Entry {
        let description = self.description(actor);
        let type_name = self.kind.type_name();
        let mut details = Map::new();
        let (surface, entry) = match actor {
            Actor::Cli => ("cli", entry(EventType::ManagementOperation, description)),
            Actor::System => ("system", entry(EventType::ManagementOperation, description)),
            Actor::Dashboard {
                admin_id,
                email,
                origin,
            } => {
                details.insert("admin".into(), json!({ "id": admin_id, "email": email }));
                let entry = entry(EventType::ManagementOperation, description)
                    .user_id(admin_id)
                    .origin(origin);
                ("dashboard", entry)
            }
            Actor::ManagementApi {
                client_id,
                client_name,
                origin,
            } => {
                let entry = entry(EventType::ManagementOperation, description)
                    .client_named(client_id, client_name)
                    .origin(origin);
                ("management", entry)
            }
            Actor::Registration { origin } => (
                "registration",
                entry(EventType::ManagementOperation, description).origin(origin),
            ),
        };
        details.insert("api".into(), surface.into());
        details.insert("action".into(), self.action.name().into());
        // The id also under `<type>_id`, as Auth0's own log entries name their objects.
        let mut target = Map::new();
        target.insert("type".into(), type_name.into());
        target.insert("id".into(), self.id.clone().into());
        target.insert(format!("{type_name}_id"), self.id.into());
        details.insert("target".into(), Value::Object(target));
        for (key, value) in self.fields {
            details.entry(key).or_insert(value);
        }
        entry.details(Value::Object(details))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_surface_reads_its_own_words() {
        let change = Change::new(Action::Create, Kind::Api, "1");
        assert_eq!(change.description(&Actor::Cli), "Create an API");
        let caller = Actor::ManagementApi {
            client_id: "c".into(),
            client_name: "C".into(),
            origin: Default::default(),
        };
        assert_eq!(change.description(&caller), "Create a resource server");
        let removal = Change::new(Action::RemovePermissions(1), Kind::User, "u");
        assert_eq!(
            removal.description(&Actor::Cli),
            "Remove a permission from a user"
        );
    }
}
