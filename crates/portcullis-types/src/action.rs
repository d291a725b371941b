//! Auth0 Actions' triggers: where in a flow an Action's code runs.

use crate::closed::{closed_set, UnknownValue};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

closed_set! {
    /// A point of a flow where bound Actions run (Auth0's trigger ids).
    ActionTrigger, "trigger" {
        /// After a user signed in, before the tokens are issued (`onExecutePostLogin`).
        PostLogin => "post-login",
        /// In the client_credentials grant, before the access token is issued
        /// (`onExecuteCredentialsExchange`).
        CredentialsExchange => "credentials-exchange",
    }
}

impl ActionTrigger {
    /// The function an Action exports for this trigger.
    pub const fn handler(self) -> &'static str {
        match self {
            ActionTrigger::PostLogin => "onExecutePostLogin",
            ActionTrigger::CredentialsExchange => "onExecuteCredentialsExchange",
        }
    }

    /// The trigger's version Auth0 reports for it.
    pub const fn version(self) -> &'static str {
        match self {
            ActionTrigger::PostLogin => "v3",
            ActionTrigger::CredentialsExchange => "v2",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for trigger in ActionTrigger::ALL {
            assert_eq!(ActionTrigger::from_str(trigger.as_str()).unwrap(), *trigger);
        }
        assert!(ActionTrigger::from_str("pre-user-registration").is_err());
    }
}
