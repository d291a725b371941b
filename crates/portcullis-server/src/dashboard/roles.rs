//! Roles: the list, Create Role, and one page per role with the Settings, Permissions and
//! Users (members) tabs. Permissions are scopes of APIs; they count at token issuance for APIs
//! that enable RBAC.

use axum::{
    extract::{Path, RawQuery},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use minijinja::context;
use portcullis_core::admin::{self, AdminError, NewRole};
use portcullis_store::{Page, Role, StoreError, User};
use serde::Serialize;
use serde_json::json;

use super::{
    auth::{Dash, Posted},
    form::FormData,
    permissions::{self, Holder},
    users,
    view::{requested_page, segment, FormError, Pager, Section},
};
use crate::state::AppState;

const SECTION: Section = Section::Roles;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/roles", get(list).post(create))
        .route("/roles/new", get(new))
        .route("/roles/{id}", get(show))
        .route("/roles/{id}/settings", get(settings).post(save_settings))
        .route("/roles/{id}/delete", post(delete))
        .route(
            "/roles/{id}/permissions",
            get(permissions).post(add_permissions),
        )
        .route("/roles/{id}/permissions/remove", post(remove_permission))
        .route("/roles/{id}/users", get(members).post(add_member))
        .route("/roles/{id}/users/remove", post(remove_member))
}

pub fn href(role: &Role, tab: &str) -> String {
    format!("/dashboard/roles/{}/{tab}", segment(&role.id))
}

async fn list(dash: Dash, RawQuery(query): RawQuery) -> Response {
    let query = FormData::from_query(query.as_deref());
    let page = requested_page(&query);
    match dash.app.store.list_roles(None, page).await {
        Ok((roles, total)) => {
            let pager = Pager::new(page, roles.len(), total, "/dashboard/roles", &[]);
            dash.render(
                StatusCode::OK,
                "dashboard/roles.html",
                SECTION,
                context! { roles, pager },
            )
        }
        Err(error) => dash.fail(SECTION, error),
    }
}

#[derive(Default, Serialize)]
struct RoleForm {
    name: String,
    description: String,
}

impl RoleForm {
    fn submitted(form: &FormData) -> Self {
        RoleForm {
            name: form.get("name").to_owned(),
            description: form.get("description").to_owned(),
        }
    }
}

fn new_form(dash: &Dash, status: StatusCode, form: RoleForm, error: Option<FormError>) -> Response {
    dash.render(
        status,
        "dashboard/role_new.html",
        SECTION,
        context! { form, error },
    )
}

async fn new(dash: Dash) -> Response {
    new_form(&dash, StatusCode::OK, RoleForm::default(), None)
}

async fn create(Posted { dash, form }: Posted) -> Response {
    let submitted = RoleForm::submitted(&form);
    let new = NewRole {
        name: submitted.name.clone(),
        description: submitted.description.clone(),
    };
    let app = &dash.app;
    match admin::create_role(app.store.as_ref(), app.clock.as_ref(), new).await {
        Ok(role) => {
            dash.record(
                "Create a role",
                "create",
                "role",
                &role.id,
                json!({ "name": role.name }),
            )
            .await;
            dash.redirect(
                &href(&role, "permissions"),
                format!(
                    "Role \u{201c}{}\u{201d} created. Add its permissions.",
                    role.name
                ),
            )
        }
        Err(AdminError::Invalid(message)) => new_form(
            &dash,
            StatusCode::BAD_REQUEST,
            submitted,
            Some(FormError::new(message, &["name", "description"])),
        ),
        Err(AdminError::Conflict(message)) => new_form(
            &dash,
            StatusCode::CONFLICT,
            submitted,
            Some(FormError::at("name", message)),
        ),
        Err(other) => dash.fail(SECTION, other),
    }
}

async fn load(dash: &Dash, id: &str) -> Result<Role, Response> {
    let lookup = dash.app.store.role_by_id(id).await;
    dash.found(lookup, SECTION, "Role", "/dashboard/roles")
}

async fn show(Path(id): Path<String>) -> Response {
    Redirect::to(&format!("/dashboard/roles/{}/settings", segment(&id))).into_response()
}

fn tab(
    dash: &Dash,
    status: StatusCode,
    role: &Role,
    tab: &str,
    page: minijinja::Value,
) -> Response {
    dash.render(
        status,
        "dashboard/role.html",
        SECTION,
        context! { role, tab, base => format!("/dashboard/roles/{}", segment(&role.id)), ..page },
    )
}

async fn settings(dash: Dash, Path(id): Path<String>) -> Response {
    match load(&dash, &id).await {
        Ok(role) => {
            let form = RoleForm {
                name: role.name.clone(),
                description: role.description.clone(),
            };
            tab(
                &dash,
                StatusCode::OK,
                &role,
                "settings",
                context! { form, error => None::<FormError> },
            )
        }
        Err(page) => page,
    }
}

async fn save_settings(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let role = match load(&dash, &id).await {
        Ok(role) => role,
        Err(page) => return page,
    };
    let submitted = RoleForm::submitted(&form);
    match admin::update_role(
        dash.app.store.as_ref(),
        &role.id,
        Some(submitted.name.clone()),
        Some(submitted.description.clone()),
    )
    .await
    {
        Ok(updated) => {
            dash.record(
                "Update a role",
                "update",
                "role",
                &updated.id,
                json!({ "name": updated.name, "description": updated.description }),
            )
            .await;
            dash.redirect(&href(&updated, "settings"), "Settings saved.")
        }
        Err(AdminError::Invalid(message) | AdminError::Conflict(message)) => tab(
            &dash,
            StatusCode::BAD_REQUEST,
            &role,
            "settings",
            context! { form => submitted, error => FormError::new(message, &["name", "description"]) },
        ),
        Err(AdminError::NotFound) => dash.not_found(SECTION, "Role", "/dashboard/roles"),
        Err(other) => dash.fail(SECTION, other),
    }
}

async fn delete(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let role = match load(&dash, &id).await {
        Ok(role) => role,
        Err(page) => return page,
    };
    if form.get("confirm") != role.name {
        let form = RoleForm {
            name: role.name.clone(),
            description: role.description.clone(),
        };
        let error = FormError::at(
            "confirm",
            "Type the role's name to confirm that it should be deleted.",
        );
        return tab(
            &dash,
            StatusCode::BAD_REQUEST,
            &role,
            "settings",
            context! { form, error },
        );
    }
    match dash.app.store.delete_role(&role.id).await {
        Ok(()) | Err(StoreError::NotFound) => {
            dash.record(
                "Delete a role",
                "delete",
                "role",
                &role.id,
                json!({ "name": role.name }),
            )
            .await;
            dash.redirect(
                "/dashboard/roles",
                format!("Role \u{201c}{}\u{201d} deleted.", role.name),
            )
        }
        Err(error) => dash.fail(SECTION, error),
    }
}

async fn permissions_tab(
    dash: &Dash,
    status: StatusCode,
    role: &Role,
    error: Option<FormError>,
) -> Response {
    match permissions::tab_context(dash.app.store.as_ref(), Holder::Role(role)).await {
        Ok(page) => tab(
            dash,
            status,
            role,
            "permissions",
            context! { error, ..page },
        ),
        Err(error) => dash.fail(SECTION, error),
    }
}

async fn permissions(dash: Dash, Path(id): Path<String>) -> Response {
    match load(&dash, &id).await {
        Ok(role) => permissions_tab(&dash, StatusCode::OK, &role, None).await,
        Err(page) => page,
    }
}

async fn add_permissions(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let role = match load(&dash, &id).await {
        Ok(role) => role,
        Err(page) => return page,
    };
    match permissions::add(&dash, Holder::Role(&role), &form).await {
        Ok(done) => done,
        Err(refused) => permissions_tab(&dash, StatusCode::BAD_REQUEST, &role, Some(refused)).await,
    }
}

async fn remove_permission(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    match load(&dash, &id).await {
        Ok(role) => permissions::remove(&dash, Holder::Role(&role), &form).await,
        Err(page) => page,
    }
}

/// A member as the Users tab lists it.
#[derive(Serialize)]
struct Member {
    user_id: String,
    href: String,
    user: Option<User>,
}

async fn members_tab(
    dash: &Dash,
    status: StatusCode,
    role: &Role,
    page: Page,
    email: &str,
    error: Option<FormError>,
) -> Response {
    let store = dash.app.store.as_ref();
    let loaded = async {
        let (ids, total) = store.role_users(&role.id, page).await?;
        let mut members = Vec::with_capacity(ids.len());
        for user_id in ids {
            let user = store.user_by_id(&user_id).await?;
            members.push(Member {
                href: users::href(&user_id, "details"),
                user_id,
                user,
            });
        }
        Ok::<_, StoreError>((members, total))
    }
    .await;
    let (members, total) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return dash.fail(SECTION, error),
    };
    let pager = Pager::new(page, members.len(), total, &href(role, "users"), &[]);
    tab(
        dash,
        status,
        role,
        "users",
        context! { members, pager, email, error },
    )
}

async fn members(dash: Dash, Path(id): Path<String>, RawQuery(query): RawQuery) -> Response {
    let page = requested_page(&FormData::from_query(query.as_deref()));
    match load(&dash, &id).await {
        Ok(role) => members_tab(&dash, StatusCode::OK, &role, page, "", None).await,
        Err(response) => response,
    }
}

async fn add_member(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let role = match load(&dash, &id).await {
        Ok(role) => role,
        Err(page) => return page,
    };
    let email = form.get("email");
    let first = requested_page(&FormData::default());
    let user = match dash.app.store.user_by_email(email).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            let error = FormError::at("email", format!("No user has the email address {email:?}."));
            return members_tab(
                &dash,
                StatusCode::BAD_REQUEST,
                &role,
                first,
                email,
                Some(error),
            )
            .await;
        }
        Err(error) => return dash.fail(SECTION, error),
    };
    match dash
        .app
        .store
        .assign_user_roles(&user.user_id, std::slice::from_ref(&role.id))
        .await
    {
        Ok(()) => {
            dash.record(
                "Assign a role to a user",
                "assign_role",
                "user",
                &user.user_id,
                json!({ "role_id": role.id, "role": role.name }),
            )
            .await;
            dash.redirect(
                &href(&role, "users"),
                format!("{} added to the role.", user.email),
            )
        }
        Err(StoreError::NotFound) => dash.not_found(SECTION, "Role", "/dashboard/roles"),
        Err(error) => dash.fail(SECTION, error),
    }
}

async fn remove_member(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let role = match load(&dash, &id).await {
        Ok(role) => role,
        Err(page) => return page,
    };
    let user_id = form.get("user_id").to_owned();
    match dash
        .app
        .store
        .remove_user_roles(&user_id, std::slice::from_ref(&role.id))
        .await
    {
        Ok(()) | Err(StoreError::NotFound) => {
            dash.record(
                "Remove a role from a user",
                "remove_role",
                "user",
                &user_id,
                json!({ "role_id": role.id, "role": role.name }),
            )
            .await;
            dash.redirect(&href(&role, "users"), "Member removed from the role.")
        }
        Err(error) => dash.fail(SECTION, error),
    }
}
