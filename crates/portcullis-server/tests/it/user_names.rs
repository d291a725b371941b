//! Users' `given_name` and `family_name`, kept as Auth0 keeps them: set, changed and cleared
//! through the Management API, kept by a sign-up and a bulk import, exported, released by the
//! `profile` scope in the ID token and at `/userinfo`, and in a post-login Action's
//! `event.user`; a value over Auth0's 150 characters is refused everywhere with the same words.

use portcullis_core::admin::{
    users::{self, UserChanges},
    Actor,
};
use portcullis_types::ActionTrigger;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    actions::{bind, deploy},
    connection::DB,
    dbconnections::{signup, signup_body},
    helpers::*,
    management_support::*,
};

const TOO_LONG_GIVEN: &str = "given_name must be at most 150 characters (it has 151)";
const TOO_LONG_FAMILY: &str = "family_name must be at most 150 characters (it has 151)";

#[tokio::test]
async fn the_management_api_sets_changes_and_clears_the_names() {
    let mgmt = spawn_mgmt().await;
    let (status, created) = mgmt
        .post(
            "/users",
            json!({"connection": DB, "email": "ada@example.com", "password": PASSWORD,
                   "given_name": "Ada", "family_name": "Lovelace"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["given_name"], "Ada");
    assert_eq!(created["family_name"], "Lovelace");
    let path = format!("/users/{}", encode(created["user_id"].as_str().unwrap()));

    // A PATCH changes what it names and leaves the other alone.
    let (status, changed) = mgmt
        .patch(&path, json!({"given_name": "Augusta Ada"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["given_name"], "Augusta Ada");
    assert_eq!(changed["family_name"], "Lovelace");

    // `null` clears: the property is then absent, as in Auth0.
    let (status, cleared) = mgmt.patch(&path, json!({"family_name": null})).await;
    assert_eq!(status, StatusCode::OK, "{cleared}");
    assert!(cleared.get("family_name").is_none(), "{cleared}");
    let (_, read) = mgmt.get(&path).await;
    assert_eq!(read["given_name"], "Augusta Ada");
    assert!(read.get("family_name").is_none(), "{read}");
    let (_, listed) = mgmt.get("/users?q=email%3A%22ada%40example.com%22").await;
    assert_eq!(listed[0]["given_name"], "Augusta Ada", "{listed}");

    // 150 characters (not bytes) are the bound.
    let longest = "é".repeat(150);
    let (status, at_bound) = mgmt.patch(&path, json!({"family_name": longest})).await;
    assert_eq!(status, StatusCode::OK, "{at_bound}");
    assert_eq!(at_bound["family_name"], longest.as_str());
    let answer = mgmt
        .patch(&path, json!({"given_name": "x".repeat(151)}))
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");
    assert_eq!(answer.1["message"], TOO_LONG_GIVEN);
    let (_, unchanged) = mgmt.get(&path).await;
    assert_eq!(unchanged["given_name"], "Augusta Ada");

    // Strings only.
    let answer = mgmt.patch(&path, json!({"given_name": 42})).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");
    assert!(
        answer.1["message"].as_str().unwrap().contains("given_name"),
        "{}",
        answer.1
    );
    let answer = mgmt
        .post(
            "/users",
            json!({"connection": DB, "email": "long@example.com", "password": PASSWORD,
                   "family_name": "y".repeat(151)}),
        )
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_body");
    assert_eq!(answer.1["message"], TOO_LONG_FAMILY);
    let (_, nobody) = mgmt.get("/users-by-email?email=long%40example.com").await;
    assert_eq!(nobody, json!([]));

    // A user created without them has neither property.
    let plain = mgmt.create_user("plain@example.com").await;
    assert!(plain.get("given_name").is_none() && plain.get("family_name").is_none());
}

#[tokio::test]
async fn a_sign_up_keeps_the_names_and_refuses_an_over_long_one() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    let mut body = signup_body(&spa, "grace@example.com", PASSWORD);
    body["given_name"] = json!("Grace");
    body["family_name"] = json!("Hopper");
    let (status, answer) = signup(&app, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["given_name"], "Grace");
    let user = app
        .store
        .user_by_email("grace@example.com")
        .await
        .unwrap()
        .expect("signed up");
    assert_eq!(user.given_name.as_deref(), Some("Grace"));
    assert_eq!(user.family_name.as_deref(), Some("Hopper"));

    let mut long = signup_body(&spa, "long@example.com", PASSWORD);
    long["given_name"] = json!("x".repeat(151));
    let (status, answer) = signup(&app, long).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["code"], "invalid_signup");
    assert_eq!(answer["description"], TOO_LONG_GIVEN);
    assert!(app
        .store
        .user_by_email("long@example.com")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn imported_names_are_kept_shown_and_exported() {
    let mgmt = spawn_mgmt().await;
    let connection_id = mgmt.connection_id().await;
    let rows = json!([
        {"user_id": "names-1", "email": "katherine@example.com", "given_name": "Katherine",
         "family_name": "Johnson"},
        {"user_id": "names-2", "email": "dorothy@example.com", "name": "Dorothy Vaughan",
         "given_name": "Dorothy"},
        {"user_id": "names-3", "email": "plain@example.com"},
        {"email": "long@example.com", "given_name": "x".repeat(151)},
        {"email": "number@example.com", "family_name": 7},
    ]);
    let (status, job) = mgmt
        .import(
            rows.to_string().into_bytes(),
            &[("connection_id", &connection_id)],
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(
        job["summary"],
        json!({"failed": 2, "updated": 0, "inserted": 3, "total": 5})
    );
    let (_, errors) = mgmt
        .get(&format!("/jobs/{}/errors", job["id"].as_str().unwrap()))
        .await;
    let firsts: Vec<&Value> = errors
        .as_array()
        .unwrap()
        .iter()
        .map(|row| &row["errors"][0])
        .collect();
    assert_eq!(
        firsts,
        [
            &json!({"code": "INVALID_FORMAT", "path": "given_name", "message": TOO_LONG_GIVEN}),
            &json!({"code": "INVALID_FORMAT", "path": "family_name",
                    "message": "family_name must be a string"}),
        ]
    );

    let user = |id: &str| {
        let path = format!("/users/{}", encode(&format!("auth0|{id}")));
        let mgmt = &mgmt;
        async move { mgmt.get(&path).await.1 }
    };
    let katherine = user("names-1").await;
    assert_eq!(katherine["given_name"], "Katherine");
    assert_eq!(katherine["family_name"], "Johnson");
    assert_eq!(
        katherine["name"], "Katherine Johnson",
        "composed when absent"
    );
    let dorothy = user("names-2").await;
    assert_eq!(dorothy["name"], "Dorothy Vaughan", "a name given wins");
    assert_eq!(dorothy["given_name"], "Dorothy");
    assert!(dorothy.get("family_name").is_none(), "{dorothy}");
    let plain = user("names-3").await;
    assert!(plain.get("given_name").is_none() && plain.get("family_name").is_none());

    // An upsert changes what the row gives and keeps the rest.
    let again =
        json!([{"user_id": "names-1", "email": "katherine@example.com", "given_name": "Kate"}]);
    let (_, job) = mgmt
        .import(
            again.to_string().into_bytes(),
            &[("connection_id", &connection_id), ("upsert", "true")],
        )
        .await;
    assert_eq!(job["summary"]["updated"], 1, "{job}");
    let katherine = user("names-1").await;
    assert_eq!(katherine["given_name"], "Kate");
    assert_eq!(katherine["family_name"], "Johnson");

    let export = |body: Value| {
        let mgmt = &mgmt;
        async move {
            let (status, job) = mgmt.post("/jobs/users-exports", body).await;
            assert_eq!(status, StatusCode::CREATED, "{job}");
            reqwest::get(job["location"].as_str().unwrap())
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let fields = json!([{"name": "email"}, {"name": "given_name"}, {"name": "family_name", "export_as": "surname"}]);
    let ndjson = export(json!({"format": "json", "fields": fields})).await;
    let lines: Vec<Value> = ndjson
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            json!({"email": "katherine@example.com", "given_name": "Kate", "surname": "Johnson"}),
            json!({"email": "dorothy@example.com", "given_name": "Dorothy"}),
            json!({"email": "plain@example.com"}),
        ]
    );
    let csv = export(json!({"format": "csv", "fields": fields})).await;
    assert_eq!(
        csv,
        "email,given_name,surname\nkatherine@example.com,Kate,Johnson\n\
         dorothy@example.com,Dorothy,\nplain@example.com,,\n"
    );
    // An export without fields has them too.
    let everything = export(json!({"format": "json"})).await;
    let first: Value = serde_json::from_str(everything.lines().next().unwrap()).unwrap();
    assert_eq!(first["given_name"], "Kate", "{first}");
    assert_eq!(first["family_name"], "Johnson", "{first}");
}

/// Copies what `event.user` says of the names into ID-token claims.
const NAMES_ACTION: &str = r#"
exports.onExecutePostLogin = async (event, api) => {
  api.idToken.setCustomClaim('https://names.example/given', event.user.given_name ?? 'absent');
  api.idToken.setCustomClaim('https://names.example/family', event.user.family_name ?? 'absent');
};
"#;

/// Logs in with `scope` (no API: the access token is for `/userinfo` only): the verified ID
/// token's claims and `/userinfo`'s answer.
async fn login(app: &TestApp, spa: &Spa, scope: &str) -> (Value, Value) {
    let browser = browser();
    let (params, verifier) = app
        .login_for_code(&browser, spa, "ada@example.com", &[("scope", scope)])
        .await;
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("no code: {params:?}"));
    let (tokens, id_token) = app.tokens_for_code(spa, code, &verifier).await;
    let info = app
        .browser
        .get(app.url("/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (id_token, info)
}

#[tokio::test]
async fn the_profile_scope_releases_the_names_in_the_id_token_userinfo_and_event_user() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    let user_id = app.create_user("ada@example.com").await;
    let names = |given: Option<&str>, family: Option<&str>| UserChanges {
        given_name: Some(given.map(Into::into)),
        family_name: Some(family.map(Into::into)),
        ..UserChanges::default()
    };
    users::update(
        &app.cx,
        &Actor::System,
        &user_id,
        names(Some("Ada"), Some("Lovelace")),
    )
    .await
    .expect("names");
    let action = deploy(&app, "names", ActionTrigger::PostLogin, NAMES_ACTION, &[]).await;
    bind(&app, ActionTrigger::PostLogin, &[&action]).await;

    let (id_token, info) = login(&app, &spa, "openid profile").await;
    for claims in [&id_token, &info] {
        assert_eq!(claims["given_name"], "Ada", "{claims}");
        assert_eq!(claims["family_name"], "Lovelace", "{claims}");
        assert_eq!(claims["sub"], user_id.as_str());
    }
    assert_eq!(id_token["https://names.example/given"], "Ada");
    assert_eq!(id_token["https://names.example/family"], "Lovelace");

    // Without `profile` neither carries them; the Action still sees the user's profile.
    let (id_token, info) = login(&app, &spa, "openid email").await;
    for claims in [&id_token, &info] {
        assert!(claims.get("given_name").is_none(), "{claims}");
        assert!(claims.get("family_name").is_none(), "{claims}");
        assert_eq!(claims["email"], "ada@example.com");
    }
    assert_eq!(id_token["https://names.example/given"], "Ada");

    // Once cleared they are absent everywhere, as in Auth0.
    users::update(&app.cx, &Actor::System, &user_id, names(None, None))
        .await
        .expect("cleared");
    let (id_token, info) = login(&app, &spa, "openid profile").await;
    for claims in [&id_token, &info] {
        assert!(claims.get("given_name").is_none(), "{claims}");
        assert!(claims.get("family_name").is_none(), "{claims}");
        assert_eq!(claims["name"], "ada@example.com");
    }
    assert_eq!(id_token["https://names.example/given"], "absent");
    assert_eq!(id_token["https://names.example/family"], "absent");
}
