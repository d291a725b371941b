//! A connection's settings, read from its strategy and Auth0's `options`: where the provider
//! is, which client we are there, what to ask for and how its answer becomes a user. The
//! presets (`google-oauth2`, `windowslive`, `github`) are `oidc` and `oauth2` with the
//! provider's endpoints filled in.

use portcullis_types::Strategy;
use serde_json::{Map, Value};

/// A setting that is not acceptable: the message names the option.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// The refusals below name the Management API's field, `options`, as the administrative
/// service does; the conversion into its error keeps that field.
struct AdminError;

impl AdminError {
    fn invalid(_field: &'static str, message: impl Into<String>) -> Invalid {
        Invalid(message.into())
    }
}

const GOOGLE_ISSUER: &str = "https://accounts.google.com";
const MICROSOFT_DISCOVERY: &str =
    "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration";
const GITHUB_AUTHORIZE: &str = "https://github.com/login/oauth/authorize";
const GITHUB_TOKEN: &str = "https://github.com/login/oauth/access_token";
const GITHUB_PROFILE: &str = "https://api.github.com/user";

/// The profile attributes a connection's answer fills, and the claim each reads by default.
pub const PROFILE_ATTRIBUTES: &[&str] = &[
    "email",
    "email_verified",
    "name",
    "given_name",
    "family_name",
    "picture",
    "nickname",
];

/// How the provider is found.
#[derive(Clone, Debug, PartialEq)]
pub enum Protocol {
    /// OpenID Connect: the issuer, and its discovery document's address or the metadata
    /// itself (Auth0's `oidc_metadata`).
    OpenId {
        issuer: String,
        discovery_url: String,
        metadata: Option<Value>,
    },
    /// Plain OAuth 2: the endpoints given by hand, and the profile's claim naming the user.
    OAuth2 {
        authorization_url: String,
        token_url: String,
        profile_url: String,
        id_attribute: String,
    },
}

/// What a connection's settings say, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub protocol: Protocol,
    pub client_id: String,
    /// The scopes asked for, `openid` first for OpenID Connect.
    pub scopes: Vec<String>,
    /// PKCE (S256): always for OpenID Connect, unless turned off for an OAuth 2 provider
    /// that refuses it (`pkce_enabled: false`).
    pub pkce: bool,
    /// A profile attribute → the provider's claim that fills it (Auth0's `attribute_map`).
    pub attribute_map: Map<String, Value>,
    /// Profile attributes are copied at every sign-in (Auth0's `on_each_login`), or only at
    /// the first (`on_first_login`).
    pub update_on_each_login: bool,
    /// A first sign-in whose verified email is a database user's verified email signs in as
    /// that user (the identity is linked to it), instead of creating a user.
    pub link_verified_email: bool,
    /// The provider's tokens are kept, sealed, on the identity.
    pub store_tokens: bool,
}

/// The options every strategy reads.
const COMMON_OPTIONS: &[&str] = &[
    "client_id",
    "client_secret",
    "scope",
    "attribute_map",
    "set_user_root_attributes",
    "link_verified_email",
    "store_upstream_tokens",
];

/// The options a strategy reads besides the common ones; the presets read only those.
fn own_options(strategy: Strategy) -> &'static [&'static str] {
    match strategy {
        Strategy::Oidc => &["discovery_url", "issuer", "oidc_metadata", "type"],
        Strategy::Oauth2 => &[
            "authorizationURL",
            "tokenURL",
            "profileURL",
            "user_id_attribute",
            "pkce_enabled",
        ],
        Strategy::GoogleOauth2 | Strategy::Windowslive | Strategy::Github => &[],
    }
}

/// Whether `strategy` reads the option `name`; any other is refused.
pub fn is_known_option(strategy: Strategy, name: &str) -> bool {
    COMMON_OPTIONS.contains(&name) || own_options(strategy).contains(&name)
}

fn string<'a>(
    options: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a str>, Invalid> {
    match options.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.trim())),
        Some(_) => Err(AdminError::invalid(
            "options",
            format!("options.{name} must be a string"),
        )),
    }
}

fn flag(options: &Map<String, Value>, name: &'static str, default: bool) -> Result<bool, Invalid> {
    match options.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(value)) => Ok(*value),
        Some(_) => Err(AdminError::invalid(
            "options",
            format!("options.{name} must be a boolean"),
        )),
    }
}

fn required<'a>(options: &'a Map<String, Value>, name: &'static str) -> Result<&'a str, Invalid> {
    string(options, name)?
        .ok_or_else(|| AdminError::invalid("options", format!("options.{name} is required")))
}

/// An absolute `https` address, or `http` on a loopback host (a provider on this machine).
fn endpoint(options: &Map<String, Value>, name: &'static str) -> Result<String, Invalid> {
    let text = required(options, name)?;
    check_endpoint(name, text)?;
    Ok(text.to_owned())
}

fn check_endpoint(name: &'static str, text: &str) -> Result<(), Invalid> {
    let invalid = || AdminError::invalid("options", format!("options.{name} must be an https URL"));
    let url = url::Url::parse(text).map_err(|_| invalid())?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(invalid()),
    }
}

/// `scope`: a space-separated string (Auth0's `oidc` and `oauth2`) or an array of strings
/// (its social presets).
fn scopes(
    options: &Map<String, Value>,
    default: &[&str],
    openid: bool,
) -> Result<Vec<String>, Invalid> {
    let invalid = || {
        AdminError::invalid(
            "options",
            "options.scope must be a string or an array of strings",
        )
    };
    let mut scopes: Vec<String> = match options.get("scope") {
        None | Some(Value::Null) => default.iter().map(|s| (*s).to_owned()).collect(),
        Some(Value::String(text)) => text.split_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or_else(invalid))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(invalid()),
    };
    if openid && !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".to_owned());
    }
    scopes.dedup();
    Ok(scopes)
}

/// `attribute_map`: Auth0's `{ "mapping_mode": ..., "attributes": { "nickname": "${context.tokenset.preferred_username}" } }`,
/// where a value names the provider's claim (with or without Auth0's template around it).
fn attribute_map(options: &Map<String, Value>) -> Result<Map<String, Value>, Invalid> {
    let invalid = |message: String| AdminError::invalid("options", message);
    let Some(map) = options.get("attribute_map").filter(|v| !v.is_null()) else {
        return Ok(Map::new());
    };
    let map = map
        .as_object()
        .ok_or_else(|| invalid("options.attribute_map must be an object".into()))?;
    let mut out = Map::new();
    if let Some(attributes) = map.get("attributes") {
        let attributes = attributes
            .as_object()
            .ok_or_else(|| invalid("options.attribute_map.attributes must be an object".into()))?;
        for (attribute, claim) in attributes {
            if !PROFILE_ATTRIBUTES.contains(&attribute.as_str()) {
                return Err(invalid(format!(
                    "options.attribute_map.attributes: {attribute} is not one of {}",
                    PROFILE_ATTRIBUTES.join(", ")
                )));
            }
            let claim = claim
                .as_str()
                .map(claim_name)
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    invalid(format!(
                        "options.attribute_map.attributes.{attribute} must name a claim"
                    ))
                })?;
            out.insert(attribute.clone(), Value::String(claim.to_owned()));
        }
    }
    Ok(out)
}

/// The claim an attribute map's value names: `${context.tokenset.X}` or `X`.
fn claim_name(value: &str) -> &str {
    let value = value.trim();
    value
        .strip_prefix("${")
        .and_then(|inner| inner.strip_suffix('}'))
        .map(|inner| {
            inner
                .trim()
                .strip_prefix("context.tokenset.")
                .or_else(|| inner.trim().strip_prefix("context.userinfo."))
                .unwrap_or(inner.trim())
        })
        .unwrap_or(value)
}

/// Reads and checks a connection's settings.
pub fn read(strategy: Strategy, options: &Map<String, Value>) -> Result<Settings, Invalid> {
    for name in options.keys() {
        if !is_known_option(strategy, name) {
            return Err(AdminError::invalid(
                "options",
                format!("options.{name} is not an option of strategy {strategy}"),
            ));
        }
    }
    let client_id = required(options, "client_id")?.to_owned();
    let update_on_each_login = match string(options, "set_user_root_attributes")? {
        None | Some("on_each_login") => true,
        Some("on_first_login") => false,
        Some(_) => {
            return Err(AdminError::invalid(
                "options",
                "options.set_user_root_attributes must be on_each_login or on_first_login",
            ))
        }
    };
    let protocol = match strategy {
        Strategy::Oidc => {
            if let Some(kind) = string(options, "type")? {
                if kind != "back_channel" {
                    return Err(AdminError::invalid(
                        "options",
                        "options.type must be back_channel: the code flow with the client secret is the one supported",
                    ));
                }
            }
            let metadata = options
                .get("oidc_metadata")
                .filter(|v| !v.is_null())
                .cloned();
            if metadata.as_ref().is_some_and(|m| !m.is_object()) {
                return Err(AdminError::invalid(
                    "options",
                    "options.oidc_metadata must be an object",
                ));
            }
            let issuer = string(options, "issuer")?
                .or_else(|| metadata.as_ref().and_then(|m| m.get("issuer")?.as_str()))
                .map(str::to_owned);
            let discovery_url = match string(options, "discovery_url")? {
                Some(url) => url.to_owned(),
                None => match &issuer {
                    Some(issuer) => format!(
                        "{}/.well-known/openid-configuration",
                        issuer.trim_end_matches('/')
                    ),
                    None => {
                        return Err(AdminError::invalid(
                            "options",
                            "options.discovery_url or options.issuer is required",
                        ))
                    }
                },
            };
            check_endpoint("discovery_url", &discovery_url)?;
            let issuer = issuer.unwrap_or_else(|| {
                discovery_url
                    .trim_end_matches("/.well-known/openid-configuration")
                    .to_owned()
            });
            check_endpoint("issuer", &issuer)?;
            Protocol::OpenId {
                issuer,
                discovery_url,
                metadata,
            }
        }
        Strategy::GoogleOauth2 => Protocol::OpenId {
            issuer: GOOGLE_ISSUER.to_owned(),
            discovery_url: format!("{GOOGLE_ISSUER}/.well-known/openid-configuration"),
            metadata: None,
        },
        Strategy::Windowslive => Protocol::OpenId {
            // Microsoft's common endpoint answers with each tenant's own issuer; the issuer is
            // read from the discovery document instead (see `upstream` in the server).
            issuer: String::new(),
            discovery_url: MICROSOFT_DISCOVERY.to_owned(),
            metadata: None,
        },
        Strategy::Oauth2 => Protocol::OAuth2 {
            authorization_url: endpoint(options, "authorizationURL")?,
            token_url: endpoint(options, "tokenURL")?,
            profile_url: endpoint(options, "profileURL")?,
            id_attribute: string(options, "user_id_attribute")?
                .unwrap_or("sub")
                .to_owned(),
        },
        Strategy::Github => Protocol::OAuth2 {
            authorization_url: GITHUB_AUTHORIZE.to_owned(),
            token_url: GITHUB_TOKEN.to_owned(),
            profile_url: GITHUB_PROFILE.to_owned(),
            id_attribute: "id".to_owned(),
        },
    };
    let openid = matches!(protocol, Protocol::OpenId { .. });
    let default_scopes: &[&str] = match strategy {
        Strategy::Github => &["read:user", "user:email"],
        Strategy::Oauth2 => &[],
        _ => &["openid", "profile", "email"],
    };
    Ok(Settings {
        protocol,
        client_id,
        scopes: scopes(options, default_scopes, openid)?,
        pkce: openid || flag(options, "pkce_enabled", true)?,
        attribute_map: attribute_map(options)?,
        update_on_each_login,
        link_verified_email: flag(options, "link_verified_email", false)?,
        store_tokens: flag(options, "store_upstream_tokens", false)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn options(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("an object")
    }

    #[test]
    fn an_oidc_connection_needs_a_client_and_a_provider() {
        assert!(read(
            Strategy::Oidc,
            &options(json!({ "issuer": "https://idp.example" }))
        )
        .is_err());
        assert!(read(Strategy::Oidc, &options(json!({ "client_id": "a" }))).is_err());
        let settings = read(
            Strategy::Oidc,
            &options(
                json!({ "client_id": "a", "issuer": "https://idp.example/", "scope": "email" }),
            ),
        )
        .expect("valid");
        assert_eq!(settings.scopes, ["openid", "email"]);
        assert!(settings.pkce);
        assert_eq!(
            settings.protocol,
            Protocol::OpenId {
                issuer: "https://idp.example/".into(),
                discovery_url: "https://idp.example/.well-known/openid-configuration".into(),
                metadata: None,
            }
        );
    }

    #[test]
    fn plain_http_is_refused_but_on_loopback() {
        let remote = options(json!({ "client_id": "a", "issuer": "http://idp.example" }));
        assert!(read(Strategy::Oidc, &remote).is_err());
        let local = options(json!({ "client_id": "a", "issuer": "http://127.0.0.1:8080" }));
        assert!(read(Strategy::Oidc, &local).is_ok());
    }

    #[test]
    fn unknown_options_and_front_channel_are_refused() {
        let unknown = options(json!({ "client_id": "a", "issuer": "https://i.example", "x": 1 }));
        assert!(read(Strategy::Oidc, &unknown).is_err());
        let front = options(
            json!({ "client_id": "a", "issuer": "https://i.example", "type": "front_channel" }),
        );
        assert!(read(Strategy::Oidc, &front).is_err());
    }

    #[test]
    fn the_attribute_map_reads_auth0_templates() {
        let settings = read(
            Strategy::Oidc,
            &options(json!({
                "client_id": "a", "issuer": "https://i.example",
                "attribute_map": { "mapping_mode": "use_map", "attributes": {
                    "nickname": "${context.tokenset.preferred_username}", "name": "display" } }
            })),
        )
        .expect("valid");
        assert_eq!(settings.attribute_map["nickname"], "preferred_username");
        assert_eq!(settings.attribute_map["name"], "display");
    }

    #[test]
    fn presets_fill_the_provider_in() {
        let github = read(Strategy::Github, &options(json!({ "client_id": "a" }))).expect("valid");
        assert!(
            matches!(github.protocol, Protocol::OAuth2 { ref id_attribute, .. } if id_attribute == "id")
        );
        let google = read(
            Strategy::GoogleOauth2,
            &options(json!({ "client_id": "a", "scope": ["email", "profile"] })),
        )
        .expect("valid");
        assert_eq!(google.scopes, ["openid", "email", "profile"]);
    }
}
