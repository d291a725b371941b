//! The claim sets Portcullis signs. The shapes are Auth0's (see the access token profiles and
//! OIDC Core §2): verifiers written for Auth0 accept them unchanged.

use aws_lc_rs::digest;
use portcullis_store::User;
use portcullis_types::Scope;
use serde::{Deserialize, Serialize};

use crate::secrets::b64url;

/// `aud`: one string, or an array when a token is for an API and `/userinfo` at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn contains(&self, audience: &str) -> bool {
        match self {
            Audience::One(one) => one == audience,
            Audience::Many(many) => many.iter().any(|a| a == audience),
        }
    }

    /// The first audience: the API the token is for.
    pub fn primary(&self) -> Option<&str> {
        match self {
            Audience::One(one) => Some(one),
            Audience::Many(many) => many.first().map(String::as_str),
        }
    }
}

/// An access token for an API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    pub iat: i64,
    pub exp: i64,
    /// Auth0 dialect: the client the token was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// RFC 9068 dialect: the client the token was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// RFC 9068: a unique identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `client-credentials` for machine-to-machine tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gty: Option<String>,
    /// RBAC with "add permissions in the access token".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
    /// The login's authentication methods (RFC 8176), once it passed a second factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    /// RFC 9449: the DPoP key the token is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

/// RFC 7800 `cnf`, with RFC 9449's member: the SHA-256 thumbprint of the bound key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    pub jkt: String,
}

/// An ID token (OIDC Core §2, with Auth0's profile and email claims).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The login's authentication methods (RFC 8176), once it passed a second factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    /// The authentication context the request asked for and the login met.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(flatten)]
    pub profile: ProfileClaims,
}

/// The standard claims released by the `profile` and `email` scopes (OIDC Core §5.4), in the
/// ID token and at `/userinfo` alike.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

impl ProfileClaims {
    /// What `scope` releases of `user`: with `profile` the names, picture and `updated_at`
    /// (each name part and the picture only when set, as Auth0 does); with `email` the
    /// address and whether it is verified.
    pub fn released(user: &User, scope: &Scope) -> Self {
        let mut claims = ProfileClaims::default();
        if scope.contains("profile") {
            claims.name = Some(user.name.clone());
            claims.given_name.clone_from(&user.given_name);
            claims.family_name.clone_from(&user.family_name);
            claims.nickname = Some(user.nickname.clone());
            claims.picture = (!user.picture.is_empty()).then(|| user.picture.clone());
            claims.updated_at = Some(rfc3339(user.updated_at));
        }
        if scope.contains("email") {
            claims.email = Some(user.email.clone());
            claims.email_verified = Some(user.email_verified);
        }
        claims
    }
}

/// OIDC Core §3.2.2.9 `at_hash`: base64url of the left half of SHA-256 of the access token.
pub fn at_hash(access_token: &str) -> String {
    let digest = digest::digest(&digest::SHA256, access_token.as_bytes());
    b64url(&digest.as_ref()[..16])
}

/// RFC 3339 time in UTC with milliseconds, as Auth0 writes `updated_at`.
pub fn rfc3339(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let seconds_of_day = unix_seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.000Z",
        seconds_of_day / 3600,
        (seconds_of_day % 3600) / 60,
        seconds_of_day % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_oidc_example() {
        // OpenID Connect Core 1.0, appendix A.4 (access token and its at_hash).
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20.000Z");
    }

    #[test]
    fn audience_serialises_as_string_or_array() {
        assert_eq!(
            serde_json::to_string(&Audience::One("a".into())).unwrap(),
            "\"a\""
        );
        let many = Audience::Many(vec!["a".into(), "b".into()]);
        assert_eq!(serde_json::to_string(&many).unwrap(), "[\"a\",\"b\"]");
        assert!(many.contains("b"));
    }
}
