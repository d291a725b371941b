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
use portcullis_core::admin::{
    roles::{self, NewRole},
    AdminError,
};
use portcullis_store::{Page, Role, StoreError, User};
use serde::Serialize;

use super::{
    auth::{Dash, Posted},
    form::FormData,
    paths,
    permissions::{self, Holder},
    view::{requested_page, FormError, Pager, Section},
};
use crate::state::AdminState;

const SECTION: Section = Section::Roles;

pub fn routes() -> Router<AdminState> {
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

fn href(role: &Role, tab: &str) -> String {
    paths::role(&role.id, tab)
}

async fn list(dash: Dash, RawQuery(query): RawQuery) -> Response {
    let query = FormData::from_query(query.as_deref());
    let page = requested_page(&query);
    match dash.app.store().list_roles(None, page).await {
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
    match roles::create(&dash.app.cx, &dash.actor(), new).await {
        Ok(role) => dash.redirect(
            &href(&role, "permissions"),
            format!(
                "Role \u{201c}{}\u{201d} created. Add its permissions.",
                role.name
            ),
        ),
        Err(error) => match dash.refusal(error, SECTION, &[]) {
            Ok((status, error)) => new_form(&dash, status, submitted, Some(error)),
            Err(page) => page,
        },
    }
}

async fn load(dash: &Dash, id: &str) -> Result<Role, Response> {
    let lookup = dash.app.store().role_by_id(id).await;
    dash.found(lookup, SECTION, "Role", "/dashboard/roles")
}

async fn show(Path(id): Path<String>) -> Response {
    Redirect::to(&paths::role(&id, "settings")).into_response()
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
        context! { role, tab, base => paths::role(&role.id, "").trim_end_matches('/').to_owned(), ..page },
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
    let updated = roles::update(
        &dash.app.cx,
        &dash.actor(),
        &role.id,
        Some(submitted.name.clone()),
        Some(submitted.description.clone()),
    )
    .await;
    match updated {
        Ok(updated) => dash.redirect(&href(&updated, "settings"), "Settings saved."),
        Err(error) => match dash.refusal(error, SECTION, &[]) {
            Ok((_, error)) => tab(
                &dash,
                StatusCode::BAD_REQUEST,
                &role,
                "settings",
                context! { form => submitted, error },
            ),
            Err(page) => page,
        },
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
    match roles::delete(&dash.app.cx, &dash.actor(), &role.id).await {
        Ok(()) | Err(AdminError::NotFound(_)) => dash.redirect(
            "/dashboard/roles",
            format!("Role \u{201c}{}\u{201d} deleted.", role.name),
        ),
        Err(error) => dash.fail(SECTION, error),
    }
}

async fn permissions_tab(
    dash: &Dash,
    status: StatusCode,
    role: &Role,
    error: Option<FormError>,
) -> Response {
    match permissions::tab_context(dash.app.store(), Holder::Role(role)).await {
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
    let store = dash.app.store();
    let loaded = async {
        let (ids, total) = store.role_users(&role.id, page).await?;
        let mut members = Vec::with_capacity(ids.len());
        for user_id in ids {
            let user = store.user_by_id(&user_id).await?;
            members.push(Member {
                href: paths::user(&user_id, "details"),
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
    let user = match dash.app.store().user_by_email(email).await {
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
    let users = [user.user_id.clone()];
    match roles::assign_users(&dash.app.cx, &dash.actor(), &role.id, &users).await {
        Ok(()) => dash.redirect(
            &href(&role, "users"),
            format!("{} added to the role.", user.email),
        ),
        Err(error) => match dash.refusal(error, SECTION, &[]) {
            Ok((_, error)) => dash.fail(SECTION, error.message),
            Err(page) => page,
        },
    }
}

async fn remove_member(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let role = match load(&dash, &id).await {
        Ok(role) => role,
        Err(page) => return page,
    };
    let user_id = form.get("user_id").to_owned();
    let ids = [role.id.clone()];
    match roles::remove_roles(&dash.app.cx, &dash.actor(), &user_id, &ids).await {
        Ok(()) | Err(AdminError::NotFound(_)) => {
            dash.redirect(&href(&role, "users"), "Member removed from the role.")
        }
        Err(error) => dash.fail(SECTION, error),
    }
}
