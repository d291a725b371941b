//! APIs: the list, Create API, and one page per API with the Settings, Scopes, Access rules
//! and Test tabs.
//!
//! The Test tab works as Auth0's: a machine-to-machine "<API name> (Test Application)" is
//! created on request and granted every scope of the API; the page then shows a token minted
//! for it by the server's own token code, and the curl lines that use it.

use axum::{
    extract::{Path, RawQuery},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use minijinja::context;
use portcullis_core::{
    admin::{self, AdminError, ApiChanges, NewApi},
    authz, rules,
};
use portcullis_store::{Client, Page, ResourceServer, RuleCondition, ScopeDefinition};
use serde::Serialize;
use serde_json::json;

use super::{
    auth::{Dash, Posted},
    form::FormData,
    view::{requested_page, segment, FormError, Pager, Section},
};
use crate::{
    audit::codes,
    state::AppState,
    tokens::{self, AccessRequest},
};

const SECTION: Section = Section::Apis;

/// Where the sample API of the quickstarts listens: the Test tab's example call.
const SAMPLE_API_URL: &str = "http://localhost:3001/api/private";

/// Lists in selects (roles, applications) show at most this many entries.
const SELECT_LIMIT: Page = Page {
    page: 0,
    per_page: 200,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/apis", get(list).post(create))
        .route("/apis/new", get(new))
        .route("/apis/{id}", get(show))
        .route("/apis/{id}/settings", get(settings).post(save_settings))
        .route("/apis/{id}/delete", post(delete))
        .route("/apis/{id}/scopes", get(scopes).post(add_scope))
        .route("/apis/{id}/scopes/remove", post(remove_scope))
        .route("/apis/{id}/rules", get(access_rules).post(add_rule))
        .route("/apis/{id}/rules/remove", post(remove_rule))
        .route("/apis/{id}/test", get(test).post(create_test_application))
}

fn href(api: &ResourceServer, tab: &str) -> String {
    format!("/dashboard/apis/{}/{tab}", segment(&api.id))
}

async fn list(dash: Dash, RawQuery(query): RawQuery) -> Response {
    let query = FormData::from_query(query.as_deref());
    let page = requested_page(&query);
    match dash.app.store.list_resource_servers(page).await {
        Ok((apis, total)) => {
            let pager = Pager::new(page, apis.len(), total, "/dashboard/apis", &[]);
            dash.render(
                StatusCode::OK,
                "dashboard/apis.html",
                SECTION,
                context! { apis, pager },
            )
        }
        Err(error) => dash.fail(SECTION, error),
    }
}

#[derive(Default, Serialize)]
struct NewApiForm {
    name: String,
    identifier: String,
    signing_alg: String,
}

fn new_form(
    dash: &Dash,
    status: StatusCode,
    form: NewApiForm,
    error: Option<FormError>,
) -> Response {
    dash.render(
        status,
        "dashboard/api_new.html",
        SECTION,
        context! { form, error },
    )
}

async fn new(dash: Dash) -> Response {
    new_form(
        &dash,
        StatusCode::OK,
        NewApiForm {
            signing_alg: "RS256".into(),
            ..NewApiForm::default()
        },
        None,
    )
}

async fn create(Posted { dash, form }: Posted) -> Response {
    let submitted = NewApiForm {
        name: form.get("name").to_owned(),
        identifier: form.get("identifier").to_owned(),
        signing_alg: form.get("signing_alg").to_owned(),
    };
    let new = NewApi {
        name: submitted.name.clone(),
        identifier: submitted.identifier.clone(),
        scopes: Vec::new(),
        token_lifetime: None,
        allow_offline_access: false,
        enforce_policies: false,
        token_dialect: None,
    };
    let changes = ApiChanges {
        signing_alg: Some(submitted.signing_alg.clone()),
        ..ApiChanges::default()
    };
    let app = &dash.app;
    match admin::create_api_with(app.store.as_ref(), app.clock.as_ref(), new, changes).await {
        Ok(api) => {
            dash.record(
                "Create an API",
                "create",
                "resource_server",
                &api.id,
                json!({ "name": api.name, "identifier": api.identifier }),
            )
            .await;
            dash.redirect(
                &href(&api, "settings"),
                format!("API \u{201c}{}\u{201d} created.", api.name),
            )
        }
        Err(AdminError::Invalid(message)) => new_form(
            &dash,
            StatusCode::BAD_REQUEST,
            submitted,
            Some(FormError::new(
                message,
                &["name", "identifier", "signing_alg"],
            )),
        ),
        Err(AdminError::Conflict(message)) => new_form(
            &dash,
            StatusCode::CONFLICT,
            submitted,
            Some(FormError::at("identifier", message)),
        ),
        Err(other) => dash.fail(SECTION, other),
    }
}

/// Loads the API of the path, or answers the page to show instead.
async fn load(dash: &Dash, id: &str) -> Result<ResourceServer, Response> {
    let lookup = dash.app.store.resource_server_by_id(id).await;
    dash.found(lookup, SECTION, "API", "/dashboard/apis")
}

async fn show(Path(id): Path<String>) -> Response {
    Redirect::to(&format!("/dashboard/apis/{}/settings", segment(&id))).into_response()
}

/// The API page with one tab; `page` adds what the tab shows.
fn tab(
    dash: &Dash,
    status: StatusCode,
    api: &ResourceServer,
    tab: &str,
    page: minijinja::Value,
) -> Response {
    dash.render(
        status,
        "dashboard/api.html",
        SECTION,
        context! { api, tab, base => format!("/dashboard/apis/{}", segment(&api.id)), ..page },
    )
}

/// The Settings form's fields, from the API or as submitted.
#[derive(Serialize)]
struct SettingsForm {
    name: String,
    token_lifetime: String,
    token_lifetime_for_web: String,
    allow_offline_access: bool,
    enforce_policies: bool,
    add_permissions: bool,
    rfc9068: bool,
}

impl SettingsForm {
    fn of(api: &ResourceServer) -> Self {
        SettingsForm {
            name: api.name.clone(),
            token_lifetime: api.token_lifetime.to_string(),
            token_lifetime_for_web: api.token_lifetime_for_web.to_string(),
            allow_offline_access: api.allow_offline_access,
            enforce_policies: api.enforce_policies,
            add_permissions: api.token_dialect.ends_with("_authz"),
            rfc9068: api.token_dialect.starts_with("rfc9068"),
        }
    }

    fn submitted(form: &FormData) -> Self {
        SettingsForm {
            name: form.get("name").to_owned(),
            token_lifetime: form.get("token_lifetime").to_owned(),
            token_lifetime_for_web: form.get("token_lifetime_for_web").to_owned(),
            allow_offline_access: form.checked("allow_offline_access"),
            enforce_policies: form.checked("enforce_policies"),
            add_permissions: form.checked("add_permissions"),
            rfc9068: form.get("profile") == "rfc9068",
        }
    }

    fn dialect(&self) -> &'static str {
        match (self.rfc9068, self.add_permissions) {
            (false, false) => "access_token",
            (false, true) => "access_token_authz",
            (true, false) => "rfc9068_profile",
            (true, true) => "rfc9068_profile_authz",
        }
    }
}

async fn settings(dash: Dash, Path(id): Path<String>) -> Response {
    let api = match load(&dash, &id).await {
        Ok(api) => api,
        Err(page) => return page,
    };
    let form = SettingsForm::of(&api);
    tab(
        &dash,
        StatusCode::OK,
        &api,
        "settings",
        context! { form, error => None::<FormError> },
    )
}

async fn save_settings(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let api = match load(&dash, &id).await {
        Ok(api) => api,
        Err(page) => return page,
    };
    let submitted = SettingsForm::submitted(&form);
    let refuse = |status: StatusCode, error: FormError| {
        tab(
            &dash,
            status,
            &api,
            "settings",
            context! { form => &submitted, error },
        )
    };
    let lifetimes = form
        .integer("token_lifetime", "token_lifetime")
        .and_then(|lifetime| {
            form.integer("token_lifetime_for_web", "token_lifetime_for_web")
                .map(|web| (lifetime, web))
        });
    let (lifetime, web) = match lifetimes {
        Ok(lifetimes) => lifetimes,
        Err(message) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                FormError::new(message, &["token_lifetime_for_web", "token_lifetime"]),
            )
        }
    };
    let changes = ApiChanges {
        name: Some(submitted.name.clone()),
        token_lifetime: Some(lifetime),
        token_lifetime_for_web: Some(web),
        allow_offline_access: Some(submitted.allow_offline_access),
        enforce_policies: Some(submitted.enforce_policies),
        token_dialect: Some(submitted.dialect().to_owned()),
        ..ApiChanges::default()
    };
    match admin::update_api(dash.app.store.as_ref(), &api.id, changes).await {
        Ok(updated) => {
            dash.record(
                "Update an API",
                "update",
                "resource_server",
                &updated.id,
                json!({
                    "name": updated.name,
                    "token_lifetime": updated.token_lifetime,
                    "token_lifetime_for_web": updated.token_lifetime_for_web,
                    "allow_offline_access": updated.allow_offline_access,
                    "enforce_policies": updated.enforce_policies,
                    "token_dialect": updated.token_dialect,
                }),
            )
            .await;
            dash.redirect(&href(&updated, "settings"), "Settings saved.")
        }
        Err(AdminError::Invalid(message)) => refuse(
            StatusCode::BAD_REQUEST,
            FormError::new(
                message,
                &[
                    "name",
                    "token_lifetime_for_web",
                    "token_lifetime",
                    "token_dialect",
                ],
            ),
        ),
        Err(AdminError::NotFound) => dash.not_found(SECTION, "API", "/dashboard/apis"),
        Err(other) => dash.fail(SECTION, other),
    }
}

async fn delete(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let api = match load(&dash, &id).await {
        Ok(api) => api,
        Err(page) => return page,
    };
    if form.get("confirm") != api.identifier {
        let error = FormError::at(
            "confirm",
            "Type the API's identifier to confirm that it should be deleted.",
        );
        let form = SettingsForm::of(&api);
        return tab(
            &dash,
            StatusCode::BAD_REQUEST,
            &api,
            "settings",
            context! { form, error },
        );
    }
    match admin::delete_api(dash.app.store.as_ref(), &api.id).await {
        Ok(()) => {
            dash.record(
                "Delete an API",
                "delete",
                "resource_server",
                &api.id,
                json!({ "name": api.name, "identifier": api.identifier }),
            )
            .await;
            dash.redirect(
                "/dashboard/apis",
                format!("API \u{201c}{}\u{201d} deleted.", api.name),
            )
        }
        Err(AdminError::Invalid(message)) => {
            let form = SettingsForm::of(&api);
            tab(
                &dash,
                StatusCode::BAD_REQUEST,
                &api,
                "settings",
                context! { form, error => FormError::at("confirm", message) },
            )
        }
        Err(AdminError::NotFound) => dash.not_found(SECTION, "API", "/dashboard/apis"),
        Err(other) => dash.fail(SECTION, other),
    }
}

#[derive(Default, Serialize)]
struct ScopeForm {
    value: String,
    description: String,
}

fn scopes_tab(
    dash: &Dash,
    status: StatusCode,
    api: &ResourceServer,
    form: ScopeForm,
    error: Option<FormError>,
) -> Response {
    tab(dash, status, api, "scopes", context! { form, error })
}

async fn scopes(dash: Dash, Path(id): Path<String>) -> Response {
    match load(&dash, &id).await {
        Ok(api) => scopes_tab(&dash, StatusCode::OK, &api, ScopeForm::default(), None),
        Err(page) => page,
    }
}

async fn add_scope(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let api = match load(&dash, &id).await {
        Ok(api) => api,
        Err(page) => return page,
    };
    let submitted = ScopeForm {
        value: form.get("value").to_owned(),
        description: form.get("description").to_owned(),
    };
    if submitted.value.is_empty() {
        return scopes_tab(
            &dash,
            StatusCode::BAD_REQUEST,
            &api,
            submitted,
            Some(FormError::at(
                "value",
                "Enter the permission, such as read:messages.",
            )),
        );
    }
    let mut scopes = api.scopes.clone();
    scopes.push(ScopeDefinition {
        value: submitted.value.clone(),
        description: submitted.description.clone(),
    });
    let changes = ApiChanges {
        scopes: Some(scopes),
        ..ApiChanges::default()
    };
    match admin::update_api(dash.app.store.as_ref(), &api.id, changes).await {
        Ok(updated) => {
            dash.record(
                "Add a scope to an API",
                "add_scope",
                "resource_server",
                &updated.id,
                json!({ "scope": submitted.value }),
            )
            .await;
            // The test application is granted every scope, as when it was created.
            if let Err(error) = grant_every_scope(&dash, &updated).await {
                return dash.fail(SECTION, error);
            }
            dash.redirect(
                &href(&updated, "scopes"),
                format!("Permission {} added.", submitted.value),
            )
        }
        Err(AdminError::Invalid(message)) => scopes_tab(
            &dash,
            StatusCode::BAD_REQUEST,
            &api,
            submitted,
            Some(FormError::at("value", message)),
        ),
        Err(AdminError::NotFound) => dash.not_found(SECTION, "API", "/dashboard/apis"),
        Err(other) => dash.fail(SECTION, other),
    }
}

async fn remove_scope(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let api = match load(&dash, &id).await {
        Ok(api) => api,
        Err(page) => return page,
    };
    let value = form.get("value");
    if !api.defines_scope(value) {
        return dash.redirect(
            &href(&api, "scopes"),
            format!("{value} was already removed."),
        );
    }
    let scopes = api
        .scopes
        .iter()
        .filter(|scope| scope.value != value)
        .cloned()
        .collect();
    let changes = ApiChanges {
        scopes: Some(scopes),
        ..ApiChanges::default()
    };
    match admin::update_api(dash.app.store.as_ref(), &api.id, changes).await {
        Ok(updated) => {
            dash.record(
                "Remove a scope from an API",
                "remove_scope",
                "resource_server",
                &updated.id,
                json!({ "scope": value }),
            )
            .await;
            dash.redirect(
                &href(&updated, "scopes"),
                format!("Permission {value} removed."),
            )
        }
        Err(AdminError::Invalid(message)) => scopes_tab(
            &dash,
            StatusCode::BAD_REQUEST,
            &api,
            ScopeForm::default(),
            Some(FormError::at("value", message)),
        ),
        Err(AdminError::NotFound) => dash.not_found(SECTION, "API", "/dashboard/apis"),
        Err(other) => dash.fail(SECTION, other),
    }
}

/// An access rule as the Access rules tab lists it.
#[derive(Serialize)]
struct RuleRow {
    id: String,
    scope: String,
    kind: &'static str,
    text: String,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

async fn rules_tab(
    dash: &Dash,
    status: StatusCode,
    api: &ResourceServer,
    error: Option<FormError>,
) -> Response {
    let store = dash.app.store.as_ref();
    let loaded = async {
        let rules = store.access_rules(&api.id).await?;
        let (roles, _) = store.list_roles(None, SELECT_LIMIT).await?;
        let (clients, _) = store.list_clients(SELECT_LIMIT).await?;
        Ok::<_, portcullis_store::StoreError>((rules, roles, clients))
    }
    .await;
    let (rules, roles, clients) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return dash.fail(SECTION, error),
    };
    let role_name = |id: &str| {
        roles
            .iter()
            .find(|role| role.id == id)
            .map_or_else(|| id.to_owned(), |role| role.name.clone())
    };
    let client_name = |id: &str| {
        clients
            .iter()
            .find(|client| client.client_id == id)
            .map_or_else(|| id.to_owned(), |client| client.name.clone())
    };
    let rows: Vec<RuleRow> = rules
        .iter()
        .map(|rule| {
            let (kind, text) = match &rule.condition {
                RuleCondition::EmailVerified => (
                    "email_verified",
                    "the user's email address is verified".to_owned(),
                ),
                RuleCondition::HasRole { role_id } => (
                    "has_role",
                    format!("the user has the role {}", role_name(role_id)),
                ),
                RuleCondition::ClientIn { client_ids } => (
                    "client_in",
                    format!(
                        "the token is requested by {}",
                        client_ids
                            .iter()
                            .map(|id| client_name(id))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                RuleCondition::EmailDomainIn { domains } => (
                    "email_domain_in",
                    format!("the user's email domain is {}", domains.join(", ")),
                ),
            };
            RuleRow {
                id: rule.id.clone(),
                scope: rule.scope.clone(),
                kind,
                text,
            }
        })
        .collect();
    let roles: Vec<Choice> = roles
        .into_iter()
        .map(|role| Choice {
            value: role.id,
            label: role.name,
        })
        .collect();
    let clients: Vec<Choice> = clients
        .into_iter()
        .map(|client| Choice {
            label: format!("{} ({})", client.name, client.client_id),
            value: client.client_id,
        })
        .collect();
    tab(
        dash,
        status,
        api,
        "rules",
        context! { rules => rows, roles, clients, error },
    )
}

async fn access_rules(dash: Dash, Path(id): Path<String>) -> Response {
    match load(&dash, &id).await {
        Ok(api) => rules_tab(&dash, StatusCode::OK, &api, None).await,
        Err(page) => page,
    }
}

async fn add_rule(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let api = match load(&dash, &id).await {
        Ok(api) => api,
        Err(page) => return page,
    };
    let kind = form.get("kind");
    let condition = match kind {
        "email_verified" => RuleCondition::EmailVerified,
        "has_role" => RuleCondition::HasRole {
            role_id: form.get("role_id").to_owned(),
        },
        "client_in" => RuleCondition::ClientIn {
            client_ids: form.all("client_ids"),
        },
        "email_domain_in" => RuleCondition::EmailDomainIn {
            domains: form.list("domains"),
        },
        _ => {
            let error = FormError::at("kind", "Choose one of the four kinds of rule.");
            return rules_tab(&dash, StatusCode::BAD_REQUEST, &api, Some(error)).await;
        }
    };
    let app = &dash.app;
    match rules::create_access_rule(
        app.store.as_ref(),
        app.clock.as_ref(),
        &api.id,
        form.get("scope"),
        condition,
    )
    .await
    {
        Ok(rule) => {
            dash.record(
                "Add an access rule to an API",
                "add_rule",
                "resource_server",
                &api.id,
                json!({ "rule_id": rule.id, "scope": rule.scope, "condition": rules::describe_condition(&rule.condition) }),
            )
            .await;
            dash.redirect(&href(&api, "rules"), "Access rule added.")
        }
        Err(AdminError::Invalid(message)) => {
            let error = FormError::at(kind, message);
            rules_tab(&dash, StatusCode::BAD_REQUEST, &api, Some(error)).await
        }
        Err(AdminError::NotFound) => dash.not_found(SECTION, "API", "/dashboard/apis"),
        Err(other) => dash.fail(SECTION, other),
    }
}

async fn remove_rule(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let api = match load(&dash, &id).await {
        Ok(api) => api,
        Err(page) => return page,
    };
    let rule_id = form.get("rule_id");
    let rules = match dash.app.store.access_rules(&api.id).await {
        Ok(rules) => rules,
        Err(error) => return dash.fail(SECTION, error),
    };
    // Only a rule of this API is removed from this API's page.
    if rules.iter().any(|rule| rule.id == rule_id) {
        match dash.app.store.delete_access_rule(rule_id).await {
            Ok(()) | Err(portcullis_store::StoreError::NotFound) => {}
            Err(error) => return dash.fail(SECTION, error),
        }
        dash.record(
            "Remove an access rule from an API",
            "remove_rule",
            "resource_server",
            &api.id,
            json!({ "rule_id": rule_id }),
        )
        .await;
    }
    dash.redirect(&href(&api, "rules"), "Access rule removed.")
}

/// Extends the test application's grant (if there is one) to every scope of `api`.
async fn grant_every_scope(dash: &Dash, api: &ResourceServer) -> Result<(), AdminError> {
    let Some((_, grant)) = admin::test_application(dash.app.store.as_ref(), api).await? else {
        return Ok(());
    };
    let every: Vec<String> = api.scopes.iter().map(|s| s.value.clone()).collect();
    if grant.scope == every {
        return Ok(());
    }
    let grant = admin::update_client_grant(dash.app.store.as_ref(), &grant.id, every).await?;
    dash.record(
        "Update a client grant",
        "update",
        "client_grant",
        &grant.id,
        json!({ "client_id": grant.client_id, "audience": grant.audience, "scope": grant.scope }),
    )
    .await;
    Ok(())
}

async fn test(dash: Dash, Path(id): Path<String>) -> Response {
    let api = match load(&dash, &id).await {
        Ok(api) => api,
        Err(page) => return page,
    };
    let app = &dash.app;
    let (client, grant) = match admin::test_application(app.store.as_ref(), &api).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return tab(
                &dash,
                StatusCode::OK,
                &api,
                "test",
                context! { client => None::<Client> },
            )
        }
        Err(error) => return dash.fail(SECTION, error),
    };
    let scopes = authz::machine_token_scopes(None, &grant, &api);
    let subject = format!("{}@clients", client.client_id);
    let minted = tokens::access_token(
        app,
        AccessRequest {
            subject: &subject,
            user: None,
            client: &client,
            api: Some(&api),
            scopes: &scopes,
            for_browser: false,
            grant_type: Some("client-credentials"),
        },
    )
    .await;
    let token = match minted {
        Ok(token) => token,
        Err(error) => return dash.fail(SECTION, error.description),
    };
    app.audit(
        dash.entry(
            codes::CLIENT_CREDENTIALS,
            "Test token issued from the dashboard",
        )
        .client(&client)
        .details(json!({
            "api": "dashboard",
            "admin": { "id": dash.admin.id, "email": dash.admin.email },
            "audience": api.identifier,
            "scope": scopes.join(" "),
        })),
    )
    .await;
    let token_request = json!({
        "client_id": client.client_id,
        "client_secret": "YOUR_CLIENT_SECRET",
        "audience": api.identifier,
        "grant_type": "client_credentials",
    })
    .to_string();
    let token_curl = format!(
        "curl --request POST \\\n  --url {} \\\n  --header 'content-type: application/json' \\\n  --data '{token_request}'",
        app.settings.endpoint("oauth/token")
    );
    let response = serde_json::to_string_pretty(&json!({
        "access_token": token.token,
        "token_type": "Bearer",
        "expires_in": token.expires_in,
        "scope": scopes.join(" "),
    }))
    .unwrap_or_default();
    let api_curl = format!(
        "curl --request GET \\\n  --url {SAMPLE_API_URL} \\\n  --header 'authorization: Bearer {}'",
        token.token
    );
    tab(
        &dash,
        StatusCode::OK,
        &api,
        "test",
        context! {
            client,
            client_href => format!("/dashboard/applications/{}/settings", segment(&client.client_id)),
            token => token.token,
            scope => scopes.join(" "),
            token_curl,
            response,
            api_curl,
        },
    )
}

async fn create_test_application(Path(id): Path<String>, Posted { dash, .. }: Posted) -> Response {
    let api = match load(&dash, &id).await {
        Ok(api) => api,
        Err(page) => return page,
    };
    let app = &dash.app;
    match admin::test_application(app.store.as_ref(), &api).await {
        Ok(Some(_)) => return Redirect::to(&href(&api, "test")).into_response(),
        Ok(None) => {}
        Err(error) => return dash.fail(SECTION, error),
    }
    let created =
        admin::create_test_application(app.store.as_ref(), &app.hasher, app.clock.as_ref(), &api)
            .await;
    match created {
        Ok((client, grant)) => {
            dash.record(
                "Create an application",
                "create",
                "client",
                &client.client_id,
                json!({ "name": client.name, "app_type": client.app_type.as_str() }),
            )
            .await;
            dash.record(
                "Create a client grant",
                "create",
                "client_grant",
                &grant.id,
                json!({ "client_id": grant.client_id, "audience": grant.audience, "scope": grant.scope }),
            )
            .await;
            dash.redirect(&href(&api, "test"), "Test application created.")
        }
        Err(error) => dash.fail(SECTION, error),
    }
}
