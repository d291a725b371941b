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
/// Where a preset's endpoints may be moved (a sovereign cloud, GitHub Enterprise, a provider
/// under a test's control): the OpenID presets' discovery document, GitHub's three endpoints.
const OPENID_PRESET_OVERRIDES: &[&str] = &["discovery_url"];
const GITHUB_OVERRIDES: &[&str] = &[
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
];

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

/// The issuer an OpenID provider's discovery document and ID tokens must name.
#[derive(Clone, Debug, PartialEq)]
pub enum Issuer {
    /// This one (the document's, a trailing slash aside; the ID token's, exactly as the
    /// document spells it).
    Exact(String),
    /// Microsoft's multi-tenant endpoints (`common`, `organizations`, `consumers`): the
    /// document is trusted for its address and names a template,
    /// `https://login.microsoftonline.com/{tenantid}/v2.0`; an ID token's `iss` must be that
    /// template with `{tenantid}` replaced by the token's own `tid` claim
    /// ([`tenant_issuer`]). A document naming no template is one tenant's: its issuer, exactly.
    TenantTemplate,
}

/// The placeholder of Microsoft's multi-tenant issuer.
pub const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// The issuer an ID token of tenant `tid` must name under Microsoft's `template`: `None` when
/// the template has no placeholder or `tid` is not a tenant id (letters, digits and `-`, as
/// Microsoft's GUIDs), so that no claim can splice anything else into the issuer.
pub fn tenant_issuer(template: &str, tid: Option<&str>) -> Option<String> {
    let tid = tid?;
    let plausible = !tid.is_empty()
        && tid.len() <= 64
        && tid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    (plausible && template.contains(TENANT_PLACEHOLDER))
        .then(|| template.replace(TENANT_PLACEHOLDER, tid))
}

/// How the provider is found.
#[derive(Clone, Debug, PartialEq)]
pub enum Protocol {
    /// OpenID Connect: the issuer, and its discovery document's address or the metadata
    /// itself (Auth0's `oidc_metadata`).
    OpenId {
        issuer: Issuer,
        discovery_url: String,
        metadata: Option<Value>,
    },
    /// Plain OAuth 2: the endpoints given by hand, and the profile's claim naming the user.
    OAuth2 {
        authorization_url: String,
        token_url: String,
        profile_url: String,
        id_attribute: String,
        /// GitHub's list of the user's addresses (`/user/emails`, read with `user:email`):
        /// its primary verified address is the user's verified email.
        emails_url: Option<String>,
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

/// The options a strategy reads besides the common ones; the presets read only those and
/// the overrides of their endpoints.
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
        Strategy::GoogleOauth2 | Strategy::Windowslive => OPENID_PRESET_OVERRIDES,
        Strategy::Github => GITHUB_OVERRIDES,
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

/// A preset's endpoint: the provider's, or the option `name` that moves it.
fn preset_endpoint(
    options: &Map<String, Value>,
    name: &'static str,
    default: &str,
) -> Result<String, Invalid> {
    match string(options, name)? {
        Some(_) => endpoint(options, name),
        None => Ok(default.to_owned()),
    }
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
    let mut seen = Vec::with_capacity(scopes.len());
    scopes.retain(|scope| {
        let first = !seen.contains(scope);
        seen.push(scope.clone());
        first
    });
    Ok(scopes)
}

/// Auth0's `attribute_map` of a connection, checked: its `attributes` (a profile attribute →
/// the provider's claim filling it) and the scopes of its `userinfo_scope`.
#[derive(Debug, Default)]
struct AttributeMap {
    attributes: Map<String, Value>,
    userinfo_scopes: Vec<String>,
}

/// The members of Auth0's `attribute_map`.
const ATTRIBUTE_MAP_MEMBERS: &[&str] = &["mapping_mode", "attributes", "userinfo_scope"];

/// `attribute_map`: Auth0's `{ "mapping_mode": "use_map", "attributes": { "nickname":
/// "${context.tokenset.preferred_username}" }, "userinfo_scope": "openid groups" }`, where a
/// value names the provider's claim (with or without Auth0's template around it).
/// `mapping_mode` is required: `use_map` reads `attributes` (an attribute it leaves out reads
/// the claim of its own name); `basic_profile` and `bind_all` read the standard claims and
/// take no `attributes` (every claim is kept on the identity in every mode; the user record
/// has only the basic profile's attributes). `userinfo_scope`'s scopes are asked for too.
/// Any other shape — such as a flat `{"name": "display_name"}` — is refused, never ignored.
fn attribute_map(options: &Map<String, Value>) -> Result<AttributeMap, Invalid> {
    let invalid = |message: String| AdminError::invalid("options", message);
    let Some(map) = options.get("attribute_map").filter(|v| !v.is_null()) else {
        return Ok(AttributeMap::default());
    };
    let map = map
        .as_object()
        .ok_or_else(|| invalid("options.attribute_map must be an object".into()))?;
    if let Some(name) = map
        .keys()
        .find(|k| !ATTRIBUTE_MAP_MEMBERS.contains(&k.as_str()))
    {
        return Err(invalid(format!(
            "options.attribute_map.{name} is not a member of attribute_map: it has mapping_mode, attributes and userinfo_scope, such as {{\"mapping_mode\": \"use_map\", \"attributes\": {{\"nickname\": \"${{context.tokenset.preferred_username}}\"}}}}"
        )));
    }
    let use_map = match map.get("mapping_mode").and_then(Value::as_str) {
        Some("use_map") => true,
        Some("bind_all" | "basic_profile") => false,
        _ => {
            return Err(invalid(
                "options.attribute_map.mapping_mode must be use_map, bind_all or basic_profile"
                    .into(),
            ))
        }
    };
    let userinfo_scopes =
        match map.get("userinfo_scope") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(text)) => text.split_whitespace().map(str::to_owned).collect(),
            Some(_) => return Err(invalid(
                "options.attribute_map.userinfo_scope must be a string of space-separated scopes"
                    .into(),
            )),
        };
    let mut attributes = Map::new();
    match map.get("attributes").filter(|v| !v.is_null()) {
        Some(_) if !use_map => {
            return Err(invalid(
                "options.attribute_map.attributes is read only with mapping_mode use_map".into(),
            ))
        }
        None if use_map => {
            return Err(invalid(
                "options.attribute_map.attributes is required with mapping_mode use_map".into(),
            ))
        }
        None => {}
        Some(given) => {
            let given = given.as_object().ok_or_else(|| {
                invalid("options.attribute_map.attributes must be an object".into())
            })?;
            for (attribute, claim) in given {
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
                attributes.insert(attribute.clone(), Value::String(claim.to_owned()));
            }
        }
    }
    Ok(AttributeMap {
        attributes,
        userinfo_scopes,
    })
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
                issuer: Issuer::Exact(issuer),
                discovery_url,
                metadata,
            }
        }
        Strategy::GoogleOauth2 => {
            // A moved discovery document names its own issuer, as an `oidc` connection's.
            let default = format!("{GOOGLE_ISSUER}/.well-known/openid-configuration");
            let discovery_url = preset_endpoint(options, "discovery_url", &default)?;
            let issuer = if discovery_url == default {
                GOOGLE_ISSUER.to_owned()
            } else {
                discovery_url
                    .trim_end_matches("/.well-known/openid-configuration")
                    .to_owned()
            };
            Protocol::OpenId {
                issuer: Issuer::Exact(issuer),
                discovery_url,
                metadata: None,
            }
        }
        Strategy::Windowslive => Protocol::OpenId {
            issuer: Issuer::TenantTemplate,
            discovery_url: preset_endpoint(options, "discovery_url", MICROSOFT_DISCOVERY)?,
            metadata: None,
        },
        Strategy::Oauth2 => Protocol::OAuth2 {
            authorization_url: endpoint(options, "authorizationURL")?,
            token_url: endpoint(options, "tokenURL")?,
            profile_url: endpoint(options, "profileURL")?,
            id_attribute: string(options, "user_id_attribute")?
                .unwrap_or("sub")
                .to_owned(),
            emails_url: None,
        },
        Strategy::Github => {
            let profile_url = preset_endpoint(options, "userinfo_endpoint", GITHUB_PROFILE)?;
            Protocol::OAuth2 {
                authorization_url: preset_endpoint(
                    options,
                    "authorization_endpoint",
                    GITHUB_AUTHORIZE,
                )?,
                token_url: preset_endpoint(options, "token_endpoint", GITHUB_TOKEN)?,
                emails_url: Some(format!("{}/emails", profile_url.trim_end_matches('/'))),
                profile_url,
                id_attribute: "id".to_owned(),
            }
        }
    };
    let openid = matches!(protocol, Protocol::OpenId { .. });
    let default_scopes: &[&str] = match strategy {
        Strategy::Github => &["read:user", "user:email"],
        Strategy::Oauth2 => &[],
        _ => &["openid", "profile", "email"],
    };
    let map = attribute_map(options)?;
    let mut scopes = scopes(options, default_scopes, openid)?;
    for scope in map.userinfo_scopes {
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    Ok(Settings {
        protocol,
        client_id,
        scopes,
        pkce: openid || flag(options, "pkce_enabled", true)?,
        attribute_map: map.attributes,
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
                issuer: Issuer::Exact("https://idp.example/".into()),
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
    fn attribute_maps_of_other_shapes_are_refused() {
        let with = |map: Value| {
            read(
                Strategy::Oidc,
                &options(
                    json!({ "client_id": "a", "issuer": "https://i.example", "attribute_map": map }),
                ),
            )
        };
        let flat = with(json!({ "name": "display_name" })).expect_err("flat");
        assert!(flat.to_string().contains("attribute_map.name"), "{flat}");
        assert!(with(json!({ "attributes": { "name": "n" } })).is_err());
        assert!(with(json!({ "mapping_mode": "use_map" })).is_err());
        assert!(
            with(json!({ "mapping_mode": "bind_all", "attributes": { "name": "n" } })).is_err()
        );
        assert!(with(json!({ "mapping_mode": "use_map", "attributes": { "zip": "z" } })).is_err());
        assert!(with(json!({ "mapping_mode": "basic_profile", "userinfo_scope": 3 })).is_err());
        let settings =
            with(json!({ "mapping_mode": "bind_all", "userinfo_scope": "openid groups" }))
                .expect("valid");
        assert_eq!(settings.scopes, ["openid", "profile", "email", "groups"]);
        assert!(settings.attribute_map.is_empty());
    }

    #[test]
    fn a_tenant_issuer_is_the_template_with_the_tokens_tenant() {
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        assert_eq!(
            tenant_issuer(template, Some("9188040d-6c67-4c5b-b112-36a304b66dad")).as_deref(),
            Some("https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0")
        );
        assert_eq!(tenant_issuer(template, None), None);
        assert_eq!(tenant_issuer(template, Some("")), None);
        assert_eq!(tenant_issuer(template, Some("evil.example/x")), None);
        assert_eq!(
            tenant_issuer("https://login.example/t/v2.0", Some("t")),
            None
        );
    }

    #[test]
    fn presets_endpoints_move_only_to_https_or_loopback() {
        let github = read(
            Strategy::Github,
            &options(json!({ "client_id": "a", "userinfo_endpoint": "http://127.0.0.1:9/user" })),
        )
        .expect("valid");
        assert!(matches!(
            github.protocol,
            Protocol::OAuth2 { ref profile_url, ref emails_url, ref token_url, .. }
                if profile_url == "http://127.0.0.1:9/user"
                    && emails_url.as_deref() == Some("http://127.0.0.1:9/user/emails")
                    && token_url == GITHUB_TOKEN
        ));
        let google = read(
            Strategy::GoogleOauth2,
            &options(json!({ "client_id": "a", "discovery_url": "http://127.0.0.1:9/.well-known/openid-configuration" })),
        )
        .expect("valid");
        assert!(matches!(
            google.protocol,
            Protocol::OpenId { issuer: Issuer::Exact(ref issuer), .. } if issuer == "http://127.0.0.1:9"
        ));
        let remote = options(json!({ "client_id": "a", "discovery_url": "http://idp.example/d" }));
        assert!(read(Strategy::Windowslive, &remote).is_err());
        let foreign = options(json!({ "client_id": "a", "token_endpoint": "https://t.example" }));
        assert!(read(Strategy::GoogleOauth2, &foreign).is_err());
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
