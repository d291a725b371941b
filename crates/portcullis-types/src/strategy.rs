//! The strategies of connections to other identity providers, by Auth0's names.

use std::{fmt, str::FromStr};

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use crate::closed::{closed_set, UnknownValue};

closed_set! {
    /// How a connection signs users in at another provider. `oidc` and `oauth2` are the two
    /// protocols; the others are presets of them with the provider's endpoints filled in.
    Strategy, "strategy" {
        /// Any OpenID provider, found by its discovery document or given metadata.
        Oidc => "oidc",
        /// Any OAuth 2 provider: authorization, token and profile endpoints given by hand.
        Oauth2 => "oauth2",
        /// Google: OpenID Connect at `accounts.google.com`.
        GoogleOauth2 => "google-oauth2",
        /// Microsoft accounts: OpenID Connect at `login.microsoftonline.com`.
        Windowslive => "windowslive",
        /// GitHub: OAuth 2 with the `/user` profile endpoint.
        Github => "github",
    }
}

impl Strategy {
    /// Whether the provider is a social one (Auth0's `isSocial` of the identity).
    pub const fn is_social(self) -> bool {
        !matches!(self, Strategy::Oidc | Strategy::Oauth2)
    }

    /// Whether the strategy speaks OpenID Connect (an ID token), or plain OAuth 2 (a profile
    /// endpoint).
    pub const fn is_openid(self) -> bool {
        matches!(
            self,
            Strategy::Oidc | Strategy::GoogleOauth2 | Strategy::Windowslive
        )
    }
}
