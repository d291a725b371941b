//! A user's email and password, checked for the hosted login page and the password grant
//! alike, with the upgrade of an imported hash.

use portcullis_store::{Store, User};
use portcullis_types::Secret;

use super::{Attempt, SignIn, SignInError};
use crate::password::{needs_rehash, PasswordError};

impl SignIn {
    /// Checks the email and password of `attempt` against the user of that email, under the
    /// brute-force counters of [`SignIn::check`]. A hash imported with another algorithm that
    /// has just matched is replaced by an argon2id hash of the same password, so it is checked
    /// with its own algorithm at most once. A blocked user is returned like any other: the
    /// caller decides how to refuse it.
    pub async fn check_user(
        &self,
        store: &dyn Store,
        attempt: Attempt<'_>,
    ) -> Result<User, SignInError> {
        let user = self
            .check(store, attempt, || async {
                let user = store.user_by_email(attempt.email.trim()).await?;
                Ok(user.map(|user| {
                    let hash = user.password_hash.clone();
                    (user, hash)
                }))
            })
            .await?;
        if needs_rehash(&user.password_hash) {
            self.upgrade(store, &user, attempt.password).await;
        }
        Ok(user)
    }

    /// Replaces `user`'s matched hash with argon2id. A failure is logged and leaves the old
    /// hash, which still works: the next sign-in tries again, and the sign-in itself stands.
    async fn upgrade(&self, store: &dyn Store, user: &User, password: &Secret) {
        let new = match self.passwords.hash(password).await {
            Ok(new) => new,
            Err(PasswordError::Busy) => return,
            Err(error) => {
                tracing::error!(%error, user_id = %user.user_id, "could not rehash an imported password");
                return;
            }
        };
        match store
            .replace_password_hash(&user.user_id, &user.password_hash, &new)
            .await
        {
            Ok(true) => {
                tracing::info!(user_id = %user.user_id, "imported password hash replaced by argon2id")
            }
            Ok(false) => {}
            Err(error) => {
                tracing::error!(%error, user_id = %user.user_id, "could not store a rehashed password");
            }
        }
    }
}
