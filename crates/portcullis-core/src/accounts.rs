//! The end user's own account: signing up on the hosted page. Shares the checks and the
//! record of [`crate::admin::users`], but it is not an administrative change: the login page
//! logs it as a sign-up.

use portcullis_store::User;

use crate::admin::{users, AdminError, Context};

pub use crate::admin::users::NewUser;

/// Creates the account `new` asks for (email, password).
pub async fn sign_up(cx: &Context, new: NewUser) -> Result<User, AdminError> {
    let user = users::build(cx, new).await?;
    users::insert(cx, &user).await?;
    Ok(user)
}
