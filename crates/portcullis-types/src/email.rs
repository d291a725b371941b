//! What the server sends by email: the kinds of message (Auth0's email template names) and
//! where a message is in the outbox.

use std::{fmt, str::FromStr};

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use crate::closed::{closed_set, UnknownValue};

closed_set! {
    /// A kind of email, by Auth0's template name: each has its template (subject, HTML and
    /// text) and is sent for one reason.
    EmailKind, "template" {
        /// Asks the user to confirm their address (a link that sets `email_verified`).
        VerifyEmail => "verify_email",
        /// A link to choose a new password.
        ResetEmail => "reset_email",
        /// Welcomes a user who has signed up.
        WelcomeEmail => "welcome_email",
        /// Tells the user their account was blocked.
        BlockedAccount => "blocked_account",
        /// Tells the dashboard's administrators that a users import asked for it
        /// (`send_completion_email`) has finished: the job and its counts. Portcullis's own
        /// template (Auth0 sends this message without one).
        UsersImportCompleted => "users_import_completed",
    }
}

impl EmailKind {
    /// What the dashboard calls the template.
    pub const fn label(self) -> &'static str {
        match self {
            EmailKind::VerifyEmail => "Verification email",
            EmailKind::ResetEmail => "Password reset",
            EmailKind::WelcomeEmail => "Welcome email",
            EmailKind::BlockedAccount => "Blocked account",
            EmailKind::UsersImportCompleted => "Users import completed",
        }
    }
}

closed_set! {
    /// Where a message is in the outbox.
    EmailStatus, "email status" {
        /// Waiting to be sent (again, after a failed attempt, at its next attempt time).
        Queued => "queued",
        /// Accepted by the SMTP server.
        Sent => "sent",
        /// Given up: refused for good by the SMTP server, or out of attempts.
        Failed => "failed",
        /// Written while no SMTP server was configured: it stays in the outbox, where the
        /// dashboard shows it, and is never sent.
        Outbox => "outbox",
    }
}

closed_set! {
    /// What a ticket (a single-use link sent by email, Auth0's tickets) lets its holder do.
    TicketKind, "ticket kind" {
        /// Confirm the user's address: opening the link sets `email_verified`.
        EmailVerification => "email_verification",
        /// Choose a new password.
        PasswordChange => "password_change",
        /// Lift the brute-force block of an account from one client address (the link of the
        /// blocked-account email).
        AccountUnblock => "account_unblock",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_names_are_auth0s() {
        assert_eq!(EmailKind::ResetEmail.as_str(), "reset_email");
        assert_eq!("verify_email".parse(), Ok(EmailKind::VerifyEmail));
        let error = "change_password".parse::<EmailKind>().unwrap_err();
        assert!(error
            .to_string()
            .starts_with("template must be one of verify_email"));
        assert_eq!(
            serde_json::to_string(&EmailStatus::Outbox).unwrap(),
            "\"outbox\""
        );
    }
}
