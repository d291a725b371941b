//! auth0.js's `signup` and `changePassword`: `POST /dbconnections/signup` and
//! `POST /dbconnections/change_password`, with Auth0's request, answer and error shapes, the
//! connection's rules, throttling per address and per email, the audit log and CORS.

use std::net::IpAddr;

use portcullis_store::{LogFilter, Page};
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

use crate::{
    connection::{set_options, DB},
    helpers::*,
    management_support::*,
};

const RESET_ANSWER: &str = "We've just sent you an email to reset your password.";

/// A client whose requests come from `ip` (any 127.0.0.0/8 address).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(ip.parse::<IpAddr>().expect("ip"))
        .build()
        .expect("client")
}

/// POSTs `body` as JSON to `path` from `client`; returns the status and the JSON answer.
async fn post_from(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let response = client
        .post(app.url(path))
        .json(body)
        .send()
        .await
        .expect("request");
    let status = response.status();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")),
    )
}

pub(crate) async fn signup(app: &TestApp, body: Value) -> (StatusCode, Value) {
    post_from(app, &app.browser, "/dbconnections/signup", &body).await
}

async fn change_password(app: &TestApp, body: Value) -> (StatusCode, Value) {
    post_from(app, &app.browser, "/dbconnections/change_password", &body).await
}

/// The body auth0.js sends for `webAuth.signup({connection, email, password})`.
pub(crate) fn signup_body(spa: &Spa, email: &str, password: &str) -> Value {
    json!({"client_id": spa.client_id, "connection": DB, "email": email, "password": password})
}

#[track_caller]
fn assert_auth0_error(answer: &(StatusCode, Value), status: StatusCode, name: &str, code: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["name"], name, "{}", answer.1);
    assert_eq!(answer.1["code"], code, "{}", answer.1);
    assert_eq!(answer.1["statusCode"], status.as_u16(), "{}", answer.1);
}

/// How many audit entries of `code` the store holds.
async fn logged(app: &TestApp, code: &str) -> Vec<portcullis_store::LogEvent> {
    let (events, _) = app
        .store
        .list_logs(&LogFilter::default(), Page::ALL)
        .await
        .unwrap();
    events
        .into_iter()
        .filter(|event| event.event_type.as_str() == code)
        .collect()
}

#[tokio::test]
async fn signup_creates_the_user_in_auth0s_shape_and_the_user_logs_in() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    let mut body = signup_body(&spa, "New.User@example.com", PASSWORD);
    body["name"] = json!("New User");
    body["nickname"] = json!("newbie");
    body["picture"] = json!("https://example.com/new.png");
    body["given_name"] = json!("New");
    body["family_name"] = json!("User");
    body["user_metadata"] = json!({"plan": "free", "color": "blue"});
    // auth0.js passes on whatever else the app gave it.
    body["redirect_uri"] = json!(SPA_ORIGIN);
    let (status, created) = signup(&app, body).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let user = app
        .store
        .user_by_email("New.User@example.com")
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(
        created,
        json!({
            "_id": user.user_id.trim_start_matches("auth0|"),
            "email_verified": false,
            "email": "New.User@example.com",
            "name": "New User",
            "given_name": "New",
            "family_name": "User",
            "nickname": "newbie",
            "picture": "https://example.com/new.png",
            "user_metadata": {"plan": "free", "color": "blue"},
        })
    );
    assert_eq!(user.user_metadata["plan"], "free");
    assert_eq!(user.given_name.as_deref(), Some("New"));
    assert_eq!(user.family_name.as_deref(), Some("User"));
    assert!(!user.email_verified);

    // Only what was given comes back.
    let (status, minimal) = signup(&app, signup_body(&spa, "min@example.com", PASSWORD)).await;
    assert_eq!(status, StatusCode::OK, "{minimal}");
    let keys: Vec<&String> = minimal.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3, "{minimal}");

    // A form body works too (Auth0's documentation shows both).
    let response = app
        .browser
        .post(app.url("/dbconnections/signup"))
        .form(&[
            ("client_id", spa.client_id.as_str()),
            ("connection", DB),
            ("email", "form@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // The new user logs in through the hosted login page.
    let (params, verifier) = app
        .login_for_code(&browser(), &spa, "New.User@example.com", &[])
        .await;
    let tokens: Value = app
        .exchange_code(&spa, &params["code"], &verifier)
        .await
        .json()
        .await
        .unwrap();
    let claims = app
        .verify(tokens["id_token"].as_str().unwrap(), &spa.client_id)
        .await;
    assert_eq!(claims["sub"], user.user_id);

    let signups = logged(&app, "ss").await;
    assert_eq!(signups.len(), 3);
    assert_eq!(
        signups[0].client_id.as_deref(),
        Some(spa.client_id.as_str())
    );
}

#[tokio::test]
async fn signup_is_allowed_cross_origin_from_registered_origins_only() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    // The server reloads its origins after a write through its own Management API.
    app.state.refresh_caches().await.expect("reload");
    for path in ["/dbconnections/signup", "/dbconnections/change_password"] {
        let preflight = |origin: &'static str| {
            app.browser
                .request(Method::OPTIONS, app.url(path))
                .header(header::ORIGIN, origin)
                .header("access-control-request-method", "POST")
                .header(
                    "access-control-request-headers",
                    "content-type,auth0-client",
                )
                .send()
        };
        let allowed = preflight(SPA_ORIGIN).await.unwrap();
        assert!(allowed.status().is_success(), "{path}");
        assert_eq!(allowed.headers()["access-control-allow-origin"], SPA_ORIGIN);
        let refused = preflight("https://evil.example").await.unwrap();
        assert!(refused
            .headers()
            .get("access-control-allow-origin")
            .is_none());
    }
    let response = app
        .browser
        .post(app.url("/dbconnections/signup"))
        .header(header::ORIGIN, SPA_ORIGIN)
        .json(&signup_body(&spa, "cors@example.com", PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        SPA_ORIGIN
    );
}

#[tokio::test]
async fn signup_refusals_have_auth0s_shapes() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    app.create_user("taken@example.com").await;

    let mut unknown = signup_body(&spa, "a@example.com", PASSWORD);
    unknown["client_id"] = json!("no-such-client");
    let answer = signup(&app, unknown).await;
    assert_auth0_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "BadRequestError",
        "invalid_client",
    );

    let mut other = signup_body(&spa, "a@example.com", PASSWORD);
    other["connection"] = json!("google-oauth2");
    let answer = signup(&app, other).await;
    assert_auth0_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "BadRequestError",
        "bad.connection",
    );

    for missing in ["client_id", "connection", "email", "password"] {
        let mut body = signup_body(&spa, "a@example.com", PASSWORD);
        body.as_object_mut().unwrap().remove(missing);
        let answer = signup(&app, body).await;
        assert_auth0_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "BadRequestError",
            "invalid_body",
        );
        assert!(answer.1["description"].as_str().unwrap().contains(missing));
    }
    for malformed in [
        json!({"client_id": spa.client_id, "connection": DB, "email": "a@example.com", "password": 123456}),
        json!({"client_id": spa.client_id, "connection": DB, "email": "a@example.com", "password": PASSWORD, "user_metadata": "x"}),
        json!(["not", "an", "object"]),
    ] {
        let answer = signup(&app, malformed).await;
        assert_auth0_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "BadRequestError",
            "invalid_body",
        );
        assert!(!answer.1.to_string().contains("123456"), "never echoed");
    }
    let response = app
        .browser
        .post(app.url("/dbconnections/signup"))
        .header(header::CONTENT_TYPE, "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "invalid_body");

    // An existing account: Auth0's answer, which tells no more than that.
    let answer = signup(
        &app,
        signup_body(&spa, "taken@example.com", "another password 9"),
    )
    .await;
    assert_auth0_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "BadRequestError",
        "invalid_signup",
    );
    assert_eq!(answer.1["description"], "Invalid sign up");
    let answer = signup(&app, signup_body(&spa, " TAKEN@example.com ", PASSWORD)).await;
    assert_eq!(answer.1["code"], "invalid_signup", "{}", answer.1);

    // Auth0's bounds on a sign-up's metadata.
    let mut crowded = signup_body(&spa, "crowded@example.com", PASSWORD);
    crowded["user_metadata"] =
        Value::Object((0..11).map(|i| (format!("k{i}"), json!("v"))).collect());
    let answer = signup(&app, crowded).await;
    assert_auth0_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "BadRequestError",
        "invalid_signup",
    );
    let mut nested = signup_body(&spa, "nested@example.com", PASSWORD);
    nested["user_metadata"] = json!({"deep": {"x": 1}});
    let answer = signup(&app, nested).await;
    assert_eq!(answer.1["code"], "invalid_signup", "{}", answer.1);
    let mut invalid = signup_body(&spa, "not-an-email", PASSWORD);
    invalid["picture"] = json!("https://example.com/p.png");
    let answer = signup(&app, invalid).await;
    assert_eq!(answer.1["code"], "invalid_signup", "{}", answer.1);

    for email in ["crowded@example.com", "nested@example.com", "a@example.com"] {
        assert!(app.store.user_by_email(email).await.unwrap().is_none());
    }
    let failures = logged(&app, "fs").await;
    assert!(failures.len() >= 4, "{failures:?}");
    assert!(failures
        .iter()
        .all(|e| !e.details.to_string().contains(PASSWORD)));
    assert!(failures
        .iter()
        .any(|e| e.description == "The user already exists"));
}

#[tokio::test]
async fn signup_follows_the_password_policy_with_auth0s_errors() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let spa = app.create_spa(false).await;
    set_options(
        &mgmt,
        json!({
            "passwordPolicy": "good",
            "password_dictionary": {"enable": true, "dictionary": ["Portcullis-2025"]},
            "password_no_personal_info": {"enable": true},
        }),
    )
    .await;

    let answer = signup(app, signup_body(&spa, "weak@example.com", "onlylower")).await;
    assert_auth0_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "PasswordStrengthError",
        "invalid_password",
    );
    assert_eq!(answer.1["message"], "Password is too weak");
    let description = &answer.1["description"];
    assert_eq!(description["verified"], false);
    let rules = description["rules"].as_array().unwrap();
    assert_eq!(rules[0]["code"], "lengthAtLeast");
    assert_eq!(rules[0]["format"], json!([8]));
    assert_eq!(rules[0]["verified"], true);
    assert_eq!(rules[1]["code"], "containsAtLeast");
    assert_eq!(rules[1]["format"], json!([3, 4]));
    assert_eq!(rules[1]["verified"], false);
    let items: Vec<(&str, bool)> = rules[1]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["code"].as_str().unwrap(),
                i["verified"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        items,
        [
            ("lowerCase", true),
            ("upperCase", false),
            ("numbers", false),
            ("specialCharacters", false)
        ]
    );
    assert_eq!(
        answer.1["policy"],
        "* At least 8 characters in length\n* Contain at least 3 of the following 4 types of characters:\n * lower case letters (a-z)\n * upper case letters (A-Z)\n * numbers (i.e. 0-9)\n * special characters (e.g. !@#$%^&*)"
    );
    let short = signup(app, signup_body(&spa, "short@example.com", "aB1!")).await;
    assert_eq!(short.1["description"]["rules"][0]["verified"], false);

    let answer = signup(
        app,
        signup_body(&spa, "common@example.com", "Portcullis-2025"),
    )
    .await;
    assert_auth0_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "PasswordDictionaryError",
        "invalid_password",
    );
    assert_eq!(answer.1["description"], "Password is too common");

    let answer = signup(
        app,
        signup_body(&spa, "jeanne.doe@example.com", "Jeanne.doe-77"),
    )
    .await;
    assert_auth0_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "PasswordNoUserInfoError",
        "invalid_password",
    );
    assert_eq!(
        answer.1["description"],
        "Password contains user information"
    );

    let (status, _) = signup(
        app,
        signup_body(&spa, "strong@example.com", "Str0ng-enough"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for email in [
        "weak@example.com",
        "common@example.com",
        "jeanne.doe@example.com",
    ] {
        assert!(app.store.user_by_email(email).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn signup_is_refused_while_the_connection_disables_it() {
    let mgmt = spawn_mgmt().await;
    let app = &mgmt.app;
    let spa = app.create_spa(false).await;
    set_options(&mgmt, json!({"disable_signup": true})).await;
    let (status, body) = signup(app, signup_body(&spa, "late@example.com", PASSWORD)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"error": "public signup is disabled"}));
    assert!(app
        .store
        .user_by_email("late@example.com")
        .await
        .unwrap()
        .is_none());
    assert!(logged(app, "fs")
        .await
        .iter()
        .any(|e| e.description == "Sign-ups are disabled"));

    set_options(&mgmt, json!({"disable_signup": false})).await;
    let (status, _) = signup(app, signup_body(&spa, "late@example.com", PASSWORD)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn signups_are_throttled_per_address_and_per_email() {
    let app = spawn_app_with(|settings| {
        settings.throttle.signups_per_ip = 3;
        settings.throttle.signups_per_email = 2;
    })
    .await;
    let spa = app.create_spa(false).await;
    let (first, second, third) = (
        client_from("127.0.0.11"),
        client_from("127.0.0.12"),
        client_from("127.0.0.13"),
    );
    let attempt = |client: &reqwest::Client, email: &str| {
        let body = signup_body(&spa, email, PASSWORD);
        let client = client.clone();
        let app = &app;
        async move { post_from(app, &client, "/dbconnections/signup", &body).await }
    };
    // Per email, across addresses: the taken account's attempts count too.
    assert_eq!(attempt(&first, "one@example.com").await.0, StatusCode::OK);
    assert_eq!(
        attempt(&second, "one@example.com").await.1["code"],
        "invalid_signup"
    );
    let answer = attempt(&third, "one@example.com").await;
    assert_auth0_error(
        &answer,
        StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequestsError",
        "too_many_requests",
    );
    // Per address, across emails.
    assert_eq!(attempt(&first, "two@example.com").await.0, StatusCode::OK);
    assert_eq!(attempt(&first, "three@example.com").await.0, StatusCode::OK);
    let answer = attempt(&first, "four@example.com").await;
    assert_eq!(answer.0, StatusCode::TOO_MANY_REQUESTS, "{}", answer.1);
    assert!(app
        .store
        .user_by_email("four@example.com")
        .await
        .unwrap()
        .is_none());
    // Another address and another email still sign up.
    assert_eq!(attempt(&second, "four@example.com").await.0, StatusCode::OK);
    // The refusal that crossed each limit is logged once.
    let throttled = logged(&app, "fs").await;
    let count = throttled
        .iter()
        .filter(|e| e.description == "Too many sign-ups")
        .count();
    assert_eq!(count, 2, "{throttled:?}");
}

#[tokio::test]
async fn change_password_answers_the_same_whether_or_not_the_account_exists() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    app.state.refresh_caches().await.expect("reload");
    let user_id = app.create_user("known@example.com").await;
    let body = |email: &str| json!({"client_id": spa.client_id, "connection": DB, "email": email});

    let known = app
        .browser
        .post(app.url("/dbconnections/change_password"))
        .header(header::ORIGIN, SPA_ORIGIN)
        .json(&body("known@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(known.status(), StatusCode::OK);
    assert_eq!(known.headers()["access-control-allow-origin"], SPA_ORIGIN);
    assert!(known.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let known: Value = known.json().await.unwrap();
    assert_eq!(known, json!(RESET_ANSWER));
    let unknown = change_password(&app, body("nobody@example.com")).await;
    assert_eq!(unknown, (StatusCode::OK, json!(RESET_ANSWER)));

    let requests = logged(&app, "scpr").await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].user_id.as_deref(), Some(user_id.as_str()));
    let failures = logged(&app, "fcpr").await;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].description, "User does not exist");

    // Nothing changed for the user: the old password still works.
    let (params, _) = app
        .login_for_code(&browser(), &spa, "known@example.com", &[])
        .await;
    assert!(params.contains_key("code"));
}

#[tokio::test]
async fn change_password_refusals_have_auth0s_shapes() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    let answer = change_password(
        &app,
        json!({"client_id": "nope", "connection": DB, "email": "a@example.com"}),
    )
    .await;
    assert_auth0_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "BadRequestError",
        "invalid_client",
    );
    let answer = change_password(
        &app,
        json!({"client_id": spa.client_id, "connection": "other", "email": "a@example.com"}),
    )
    .await;
    assert_auth0_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "BadRequestError",
        "bad.connection",
    );
    let answer = change_password(&app, json!({"client_id": spa.client_id, "connection": DB})).await;
    assert_auth0_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "BadRequestError",
        "invalid_body",
    );
    let answer = change_password(
        &app,
        json!({"client_id": spa.client_id, "connection": DB, "email": ["a@example.com"]}),
    )
    .await;
    assert_auth0_error(
        &answer,
        StatusCode::BAD_REQUEST,
        "BadRequestError",
        "invalid_body",
    );
    assert!(logged(&app, "scpr").await.is_empty() && logged(&app, "fcpr").await.is_empty());
}

#[tokio::test]
async fn change_password_is_throttled_per_address_and_per_email() {
    let app = spawn_app_with(|settings| {
        settings.throttle.resets_per_ip = 3;
        settings.throttle.resets_per_email = 2;
    })
    .await;
    let spa = app.create_spa(false).await;
    app.create_user("known@example.com").await;
    let (first, second, third) = (
        client_from("127.0.0.21"),
        client_from("127.0.0.22"),
        client_from("127.0.0.23"),
    );
    let ask = |client: &reqwest::Client, email: &str| {
        let body = json!({"client_id": spa.client_id, "connection": DB, "email": email});
        let client = client.clone();
        let app = &app;
        async move { post_from(app, &client, "/dbconnections/change_password", &body).await }
    };
    // Per email, across addresses, whether or not the account exists.
    for email in ["known@example.com", "ghost@example.com"] {
        assert_eq!(ask(&first, email).await.0, StatusCode::OK);
        assert_eq!(ask(&second, email).await.0, StatusCode::OK);
        let answer = ask(&third, email).await;
        assert_auth0_error(
            &answer,
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequestsError",
            "too_many_requests",
        );
    }
    // Per address: `first` asked twice already.
    assert_eq!(ask(&first, "a@example.com").await.0, StatusCode::OK);
    assert_eq!(
        ask(&first, "b@example.com").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(ask(&third, "b@example.com").await.0, StatusCode::OK);
    let throttled = logged(&app, "fcpr").await;
    let count = throttled
        .iter()
        .filter(|e| e.description == "Too many password-reset requests")
        .count();
    assert_eq!(count, 3, "{throttled:?}");
}
