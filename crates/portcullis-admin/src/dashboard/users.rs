//! Users: the list with a search by email, Create User, and one page per user with the
//! Details tab (profile, block or unblock, the addresses brute-force protection blocks and
//! their unblocking, delete), the Roles tab (assign, remove) and the Permissions tab (scopes
//! granted directly, not through a role); the Authorized Applications tab is in the
//! `authorized_apps` module.

use axum::{
    extract::{Path, RawQuery},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use minijinja::context;
use portcullis_core::{
    admin::{
        roles,
        users::{self, NewUser, UserChanges},
        AdminError, Kind, MetadataChange,
    },
    sign_in::LoginBlock,
};
use portcullis_store::{Page, StoreError, User};
use portcullis_types::Secret;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{
    auth::{Dash, Posted},
    form::FormData,
    paths,
    permissions::{self, Holder},
    view::{requested_page, FormError, Pager, Section},
};
use crate::state::AdminState;

const SECTION: Section = Section::Users;

pub fn routes() -> Router<AdminState> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/new", get(new))
        .route("/users/{id}", get(show))
        .route("/users/{id}/details", get(details).post(save_details))
        .route("/users/{id}/block", post(block))
        .route("/users/{id}/login-blocks", post(clear_login_blocks))
        .route("/users/{id}/delete", post(delete))
        .route("/users/{id}/roles", get(roles).post(assign_role))
        .route("/users/{id}/roles/remove", post(remove_role))
        .route(
            "/users/{id}/permissions",
            get(permissions).post(add_permissions),
        )
        .route("/users/{id}/permissions/remove", post(remove_permission))
}

/// The page of a user (ids hold `|`, so they are percent-encoded).
fn href(user_id: &str, tab: &str) -> String {
    paths::user(user_id, tab)
}

async fn list(dash: Dash, RawQuery(query): RawQuery) -> Response {
    let query = FormData::from_query(query.as_deref());
    let page = requested_page(&query);
    let search = query.get("q");
    match dash
        .app
        .store()
        .list_users(Some(search).filter(|s| !s.is_empty()), page)
        .await
    {
        Ok((users, total)) => {
            let pager = Pager::new(
                page,
                users.len(),
                total,
                "/dashboard/users",
                &[("q", search)],
            );
            dash.render(
                StatusCode::OK,
                "dashboard/users.html",
                SECTION,
                context! { users, pager, q => search },
            )
        }
        Err(error) => dash.fail(SECTION, error),
    }
}

#[derive(Default, Serialize)]
struct NewForm {
    email: String,
    email_verified: bool,
}

fn new_form(dash: &Dash, status: StatusCode, form: NewForm, error: Option<FormError>) -> Response {
    dash.render(
        status,
        "dashboard/user_new.html",
        SECTION,
        context! { form, error },
    )
}

async fn new(dash: Dash) -> Response {
    new_form(&dash, StatusCode::OK, NewForm::default(), None)
}

async fn create(Posted { dash, form }: Posted) -> Response {
    let submitted = NewForm {
        email: form.get("email").to_owned(),
        email_verified: form.checked("email_verified"),
    };
    let new = NewUser {
        email: submitted.email.clone(),
        password: Secret::from(form.raw("password")),
        email_verified: submitted.email_verified,
        ..NewUser::default()
    };
    match users::create(&dash.app.cx, &dash.actor(), new).await {
        Ok(user) => dash.redirect(
            &href(&user.user_id, "details"),
            format!("User {} created.", user.email),
        ),
        Err(error) => match dash.refusal(error, SECTION, &[]) {
            Ok((status, error)) => new_form(&dash, status, submitted, Some(error)),
            Err(page) => page,
        },
    }
}

pub(super) async fn load(dash: &Dash, id: &str) -> Result<User, Response> {
    let lookup = dash.app.store().user_by_id(id).await;
    dash.found(lookup, SECTION, "User", "/dashboard/users")
}

async fn show(Path(id): Path<String>) -> Response {
    Redirect::to(&href(&id, "details")).into_response()
}

pub(super) fn tab(
    dash: &Dash,
    status: StatusCode,
    user: &User,
    tab: &str,
    page: minijinja::Value,
) -> Response {
    dash.render(
        status,
        "dashboard/user.html",
        SECTION,
        context! {
            user,
            tab,
            base => paths::user(&user.user_id, "").trim_end_matches('/').to_owned(),
            ..page
        },
    )
}

#[derive(Serialize)]
struct DetailsForm {
    name: String,
    /// Empty when unset; saving it empty clears it.
    given_name: String,
    family_name: String,
    email_verified: bool,
    /// The metadata objects as pretty-printed JSON, edited whole.
    user_metadata: String,
    app_metadata: String,
}

impl DetailsForm {
    fn of(user: &User) -> Self {
        let pretty = |object: &Map<String, Value>| {
            serde_json::to_string_pretty(object).unwrap_or_else(|_| "{}".into())
        };
        DetailsForm {
            name: user.name.clone(),
            given_name: user.given_name.clone().unwrap_or_default(),
            family_name: user.family_name.clone().unwrap_or_default(),
            email_verified: user.email_verified,
            user_metadata: pretty(&user.user_metadata),
            app_metadata: pretty(&user.app_metadata),
        }
    }
}

/// A metadata field of the form: a JSON object (empty means `{}`), which replaces the stored
/// one; otherwise the message to show at the field.
fn metadata_field(field: &str, text: &str) -> Result<MetadataChange, FormError> {
    if text.trim().is_empty() {
        return Ok(MetadataChange::Replace(Map::new()));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(MetadataChange::Replace(object)),
        Ok(_) => Err(FormError::at(
            field,
            format!("{field} must be a JSON object"),
        )),
        Err(error) => Err(FormError::at(
            field,
            format!("{field} is not valid JSON: {error}"),
        )),
    }
}

fn details_tab(
    dash: &Dash,
    status: StatusCode,
    (user, login_blocks): &(User, Vec<LoginBlock>),
    form: DetailsForm,
    error: Option<FormError>,
) -> Response {
    tab(
        dash,
        status,
        user,
        "details",
        context! { form, error, login_blocks },
    )
}

/// The user and the addresses brute-force protection blocks their email for, which the
/// Details tab shows.
async fn load_details(dash: &Dash, id: &str) -> Result<(User, Vec<LoginBlock>), Response> {
    let user = load(dash, id).await?;
    match users::login_blocks(&dash.app.cx, &user.email).await {
        Ok(blocks) => Ok((user, blocks)),
        Err(error) => Err(dash.fail(SECTION, error)),
    }
}

async fn details(dash: Dash, Path(id): Path<String>) -> Response {
    match load_details(&dash, &id).await {
        Ok(loaded) => {
            let form = DetailsForm::of(&loaded.0);
            details_tab(&dash, StatusCode::OK, &loaded, form, None)
        }
        Err(page) => page,
    }
}

async fn save_details(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let loaded = match load_details(&dash, &id).await {
        Ok(loaded) => loaded,
        Err(page) => return page,
    };
    let user = &loaded.0;
    let submitted = DetailsForm {
        name: form.get("name").to_owned(),
        given_name: form.get("given_name").to_owned(),
        family_name: form.get("family_name").to_owned(),
        email_verified: form.checked("email_verified"),
        user_metadata: form.raw("user_metadata").to_owned(),
        app_metadata: form.raw("app_metadata").to_owned(),
    };
    // A form without the metadata fields (not the dashboard's own) leaves metadata alone.
    let edited = |field: &str, text: &str| {
        form.has(field)
            .then(|| metadata_field(field, text))
            .transpose()
    };
    let metadata = edited("user_metadata", &submitted.user_metadata)
        .and_then(|user| edited("app_metadata", &submitted.app_metadata).map(|app| (user, app)));
    let (user_metadata, app_metadata) = match metadata {
        Ok(changes) => changes,
        Err(error) => {
            return details_tab(
                &dash,
                StatusCode::BAD_REQUEST,
                &loaded,
                submitted,
                Some(error),
            )
        }
    };
    // A form without a name part's field (not the dashboard's own) leaves it alone.
    let name_part = |field: &str, value: &str| form.has(field).then(|| Some(value.to_owned()));
    let changes = UserChanges {
        name: Some(submitted.name.clone()),
        given_name: name_part("given_name", &submitted.given_name),
        family_name: name_part("family_name", &submitted.family_name),
        email_verified: Some(submitted.email_verified),
        user_metadata,
        app_metadata,
        ..UserChanges::default()
    };
    update(
        &dash,
        user,
        changes,
        "Profile saved.",
        |dash, status, error| details_tab(dash, status, &loaded, submitted, Some(error)),
    )
    .await
}

/// Applies `changes`, records them, and goes back to the Details tab; `refused` renders a
/// validation failure.
async fn update(
    dash: &Dash,
    user: &User,
    changes: UserChanges,
    done: &str,
    refused: impl FnOnce(&Dash, StatusCode, FormError) -> Response,
) -> Response {
    match users::update(&dash.app.cx, &dash.actor(), &user.user_id, changes).await {
        Ok(updated) => dash.redirect(&href(&updated.user_id, "details"), done),
        Err(error) => match dash.refusal(error, SECTION, &[]) {
            Ok((status, error)) => refused(dash, status, error),
            Err(page) => page,
        },
    }
}

async fn block(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let user = match load(&dash, &id).await {
        Ok(user) => user,
        Err(page) => return page,
    };
    let blocked = form.get("blocked") == "true";
    let changes = UserChanges {
        blocked: Some(blocked),
        ..UserChanges::default()
    };
    let done = if blocked {
        format!("{} is blocked: they can no longer log in.", user.email)
    } else {
        format!("{} is unblocked.", user.email)
    };
    update(&dash, &user, changes, &done, |dash, _, error| {
        dash.fail(SECTION, error.message)
    })
    .await
}

/// Unblocks the user's email from every address brute-force protection blocked it for.
async fn clear_login_blocks(Path(id): Path<String>, Posted { dash, .. }: Posted) -> Response {
    match users::clear_login_blocks_of(&dash.app.cx, &dash.actor(), &id).await {
        Ok(()) => dash.redirect(
            &href(&id, "details"),
            "Unblocked: they can log in again from every address.",
        ),
        Err(error) => match dash.refusal(error, SECTION, &[]) {
            Ok((_, error)) => dash.fail(SECTION, error.message),
            Err(page) => page,
        },
    }
}

async fn delete(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let loaded = match load_details(&dash, &id).await {
        Ok(loaded) => loaded,
        Err(page) => return page,
    };
    let user = &loaded.0;
    if !form.get("confirm").eq_ignore_ascii_case(&user.email) {
        let error = FormError::at(
            "confirm",
            "Type the user's email address to confirm that they should be deleted.",
        );
        let form = DetailsForm::of(user);
        return details_tab(&dash, StatusCode::BAD_REQUEST, &loaded, form, Some(error));
    }
    match users::delete(&dash.app.cx, &dash.actor(), &user.user_id).await {
        Ok(()) | Err(AdminError::NotFound(Kind::User)) => {
            dash.redirect("/dashboard/users", format!("User {} deleted.", user.email))
        }
        Err(error) => dash.fail(SECTION, error),
    }
}

#[derive(Serialize)]
struct RoleChoice {
    id: String,
    name: String,
}

async fn roles_tab(
    dash: &Dash,
    status: StatusCode,
    user: &User,
    error: Option<FormError>,
) -> Response {
    let store = dash.app.store();
    let loaded = async {
        let held = store.user_roles(&user.user_id).await?;
        let (all, _) = store
            .list_roles(
                None,
                Page {
                    page: 0,
                    per_page: 200,
                },
            )
            .await?;
        Ok::<_, StoreError>((held, all))
    }
    .await;
    let (held, all) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return dash.fail(SECTION, error),
    };
    let choices: Vec<RoleChoice> = all
        .into_iter()
        .filter(|role| !held.iter().any(|h| h.id == role.id))
        .map(|role| RoleChoice {
            id: role.id,
            name: role.name,
        })
        .collect();
    tab(
        dash,
        status,
        user,
        "roles",
        context! { roles => held, choices, error },
    )
}

async fn roles(dash: Dash, Path(id): Path<String>) -> Response {
    match load(&dash, &id).await {
        Ok(user) => roles_tab(&dash, StatusCode::OK, &user, None).await,
        Err(page) => page,
    }
}

async fn assign_role(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let user = match load(&dash, &id).await {
        Ok(user) => user,
        Err(page) => return page,
    };
    let role_id = form.get("role_id").to_owned();
    let role = match roles::find(&dash.app.cx, &role_id).await {
        Ok(role) => role,
        Err(AdminError::NotFound(_)) => {
            let error = FormError::at("role_id", "Choose a role to assign.");
            return roles_tab(&dash, StatusCode::BAD_REQUEST, &user, Some(error)).await;
        }
        Err(error) => return dash.fail(SECTION, error),
    };
    let ids = [role.id.clone()];
    match roles::assign_roles(&dash.app.cx, &dash.actor(), &user.user_id, &ids).await {
        Ok(()) => dash.redirect(
            &href(&user.user_id, "roles"),
            format!("Role {} assigned.", role.name),
        ),
        Err(error) => match dash.refusal(error, SECTION, &[]) {
            Ok((status, error)) => roles_tab(&dash, status, &user, Some(error)).await,
            Err(page) => page,
        },
    }
}

async fn remove_role(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let user = match load(&dash, &id).await {
        Ok(user) => user,
        Err(page) => return page,
    };
    let ids = [form.get("role_id").to_owned()];
    match roles::remove_roles(&dash.app.cx, &dash.actor(), &user.user_id, &ids).await {
        Ok(()) | Err(AdminError::NotFound(_)) => {
            dash.redirect(&href(&user.user_id, "roles"), "Role removed.")
        }
        Err(error) => dash.fail(SECTION, error),
    }
}

async fn permissions_tab(
    dash: &Dash,
    status: StatusCode,
    user: &User,
    error: Option<FormError>,
) -> Response {
    match permissions::tab_context(dash.app.store(), Holder::User(user)).await {
        Ok(page) => tab(
            dash,
            status,
            user,
            "permissions",
            context! { error, ..page },
        ),
        Err(error) => dash.fail(SECTION, error),
    }
}

async fn permissions(dash: Dash, Path(id): Path<String>) -> Response {
    match load(&dash, &id).await {
        Ok(user) => permissions_tab(&dash, StatusCode::OK, &user, None).await,
        Err(page) => page,
    }
}

async fn add_permissions(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let user = match load(&dash, &id).await {
        Ok(user) => user,
        Err(page) => return page,
    };
    match permissions::add(&dash, Holder::User(&user), &form).await {
        Ok(done) => done,
        Err(refused) => permissions_tab(&dash, StatusCode::BAD_REQUEST, &user, Some(refused)).await,
    }
}

async fn remove_permission(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    match load(&dash, &id).await {
        Ok(user) => permissions::remove(&dash, Holder::User(&user), &form).await,
        Err(page) => page,
    }
}
