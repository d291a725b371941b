//! Access policies at token issuance: RBAC on and off, with and without the `permissions`
//! claim, each kind of access rule allowing and denying, re-evaluated at refresh — and the
//! audit log of the logins and exchanges involved.

use portcullis_core::admin::{
    apis::{self, ApiChanges},
    roles::{self, NewRole},
    rules,
    users::{self, UserChanges},
    Actor,
};
use portcullis_store::{LogFilter, Page, Permission, RuleCondition};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

/// Logs `email` in with a fresh browser and returns the token response and the claims of
/// its verified access token.
pub(crate) async fn tokens_for(
    app: &TestApp,
    spa: &Spa,
    email: &str,
    scope: &str,
) -> (Value, Value) {
    let (params, verifier) = app
        .login_for_code(
            &browser(),
            spa,
            email,
            &[("audience", API), ("scope", scope)],
        )
        .await;
    let response = app.exchange_code(spa, &params["code"], &verifier).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let claims = app
        .verify(body["access_token"].as_str().unwrap(), API)
        .await;
    (body, claims)
}

pub(crate) async fn api_id(app: &TestApp) -> String {
    app.store
        .resource_server_by_identifier(API)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn set_api(app: &TestApp, changes: ApiChanges) {
    apis::update(&app.cx, &Actor::System, &api_id(app).await, changes)
        .await
        .unwrap();
    app.tenant_changed();
}

fn read_messages() -> Permission {
    Permission {
        resource_server_identifier: API.into(),
        permission_name: "read:messages".into(),
    }
}

#[tokio::test]
async fn without_rbac_any_user_gets_any_defined_scope() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    app.create_user("anyone@example.com").await;
    let (body, claims) = tokens_for(&app, &spa, "anyone@example.com", "openid read:messages").await;
    assert_eq!(claims["scope"], "openid read:messages");
    assert_eq!(body["scope"], "openid read:messages");
    assert!(claims.get("permissions").is_none());
}

#[tokio::test]
async fn rbac_grants_scopes_through_roles_and_direct_permissions_only() {
    let app = spawn_app().await;
    app.create_api(true).await;
    let spa = app.create_spa(false).await;
    set_api(
        &app,
        ApiChanges {
            enforce_policies: Some(true),
            ..ApiChanges::default()
        },
    )
    .await;
    let reader = app.create_user("reader@example.com").await;
    let direct = app.create_user("direct@example.com").await;
    app.create_user("nobody@example.com").await;
    let role = roles::create(
        &app.cx,
        &Actor::System,
        NewRole {
            name: "Reader".into(),
            description: String::new(),
        },
    )
    .await
    .unwrap();
    app.store
        .add_role_permissions(&role.id, &[read_messages()])
        .await
        .unwrap();
    app.store
        .assign_user_roles(&reader, std::slice::from_ref(&role.id))
        .await
        .unwrap();
    app.store
        .add_user_permissions(&direct, &[read_messages()])
        .await
        .unwrap();

    let scope = "openid read:messages offline_access";
    let (_, claims) = tokens_for(&app, &spa, "nobody@example.com", scope).await;
    assert_eq!(
        claims["scope"], "openid offline_access",
        "denied scope left out"
    );
    let (_, claims) = tokens_for(&app, &spa, "direct@example.com", scope).await;
    assert_eq!(claims["scope"], "openid read:messages offline_access");
    let (body, claims) = tokens_for(&app, &spa, "reader@example.com", scope).await;
    assert_eq!(claims["scope"], "openid read:messages offline_access");
    assert_eq!(body["scope"], "openid read:messages offline_access");
    assert!(
        claims.get("permissions").is_none(),
        "plain dialect: no claim"
    );

    // access_token_authz adds the permissions claim.
    set_api(
        &app,
        ApiChanges {
            token_dialect: Some(portcullis_types::TokenDialect::AccessTokenAuthz),
            ..ApiChanges::default()
        },
    )
    .await;
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let refreshed = |token: String| {
        let app = &app;
        let spa = &spa;
        async move {
            let response = app
                .browser
                .post(app.url("/oauth/token"))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("client_id", spa.client_id.as_str()),
                    ("refresh_token", token.as_str()),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let body: Value = response.json().await.unwrap();
            let claims = app
                .verify(body["access_token"].as_str().unwrap(), API)
                .await;
            (body, claims)
        }
    };
    let (body, claims) = refreshed(refresh).await;
    assert_eq!(claims["permissions"], serde_json::json!(["read:messages"]));

    // Taking the role away takes the scope away at the next refresh.
    app.store
        .remove_user_roles(&reader, std::slice::from_ref(&role.id))
        .await
        .unwrap();
    let (body, claims) = refreshed(body["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(claims["scope"], "openid offline_access");
    assert_eq!(body["scope"], "openid offline_access");
    assert_eq!(claims["permissions"], serde_json::json!([]));
}

#[tokio::test]
async fn each_access_rule_kind_allows_and_denies() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    let other_spa = app.create_spa(false).await;
    let api = api_id(&app).await;
    let verified = app.create_user("verified@corp.example").await;
    app.create_user("member@corp.example").await;
    let unverified = app.create_user("unverified@elsewhere.example").await;
    users::update(
        &app.cx,
        &Actor::System,
        &unverified,
        UserChanges {
            email_verified: Some(false),
            ..UserChanges::default()
        },
    )
    .await
    .unwrap();
    let role = roles::create(
        &app.cx,
        &Actor::System,
        NewRole {
            name: "Staff".into(),
            description: String::new(),
        },
    )
    .await
    .unwrap();
    let member = app
        .store
        .user_by_email("member@corp.example")
        .await
        .unwrap()
        .unwrap()
        .user_id;
    app.store
        .assign_user_roles(&member, std::slice::from_ref(&role.id))
        .await
        .unwrap();
    let scope = "openid read:messages";
    let granted = |claims: &Value| claims["scope"] == scope;

    let add = |condition: &str| {
        let app = &app;
        let api = api.clone();
        let condition = condition.to_owned();
        async move {
            rules::create(
                &app.cx,
                &Actor::System,
                &api,
                "read:messages",
                rules::parse_condition(&condition).unwrap(),
            )
            .await
            .unwrap()
        }
    };
    let clear = |id: String| {
        let app = &app;
        async move { app.store.delete_access_rule(&id).await.unwrap() }
    };

    // Verified email.
    let rule = add("email_verified").await;
    assert!(granted(
        &tokens_for(&app, &spa, "verified@corp.example", scope)
            .await
            .1
    ));
    assert!(!granted(
        &tokens_for(&app, &spa, "unverified@elsewhere.example", scope)
            .await
            .1
    ));
    clear(rule.id).await;

    // Role membership.
    let rule = add(&format!("has_role:{}", role.id)).await;
    assert!(granted(
        &tokens_for(&app, &spa, "member@corp.example", scope).await.1
    ));
    assert!(!granted(
        &tokens_for(&app, &spa, "verified@corp.example", scope)
            .await
            .1
    ));
    clear(rule.id).await;

    // Listed clients.
    let rule = add(&format!("client_in:{}", spa.client_id)).await;
    assert!(granted(
        &tokens_for(&app, &spa, "verified@corp.example", scope)
            .await
            .1
    ));
    assert!(!granted(
        &tokens_for(&app, &other_spa, "verified@corp.example", scope)
            .await
            .1
    ));
    clear(rule.id).await;

    // Email domains.
    let rule = add("email_domain_in:corp.example").await;
    assert!(granted(
        &tokens_for(&app, &spa, "verified@corp.example", scope)
            .await
            .1
    ));
    assert!(!granted(
        &tokens_for(&app, &spa, "unverified@elsewhere.example", scope)
            .await
            .1
    ));
    clear(rule.id).await;

    // A rule naming something that does not exist is refused, not silently denying.
    for bad in ["has_role:rol_missing", "client_in:nope", "email_domain_in:"] {
        let result = rules::create(
            &app.cx,
            &Actor::System,
            &api,
            "read:messages",
            rules::parse_condition(bad).unwrap(),
        )
        .await;
        assert!(result.is_err(), "{bad} accepted");
    }
    assert!(rules::create(
        &app.cx,
        &Actor::System,
        &api,
        "write:nothing",
        RuleCondition::EmailVerified,
    )
    .await
    .is_err());
    let _ = verified;
}

#[tokio::test]
async fn logins_exchanges_and_failures_are_in_the_audit_log_without_secrets() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    let user = app.create_user("logged@example.com").await;
    // A failed login, then a successful one and a code exchange.
    let (_, challenge) = pkce();
    let pkce_params = [
        ("audience", API),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let failed = app
        .login_via_form(
            &browser(),
            &app.authorize_url(&spa, &pkce_params),
            "logged@example.com",
            "wrong password!",
        )
        .await;
    assert_eq!(failed.status(), StatusCode::UNAUTHORIZED);
    let (body, _) = tokens_for(&app, &spa, "logged@example.com", "openid read:messages").await;
    let (all, _) = app
        .store
        .list_logs(&LogFilter::default(), Page::ALL)
        .await
        .unwrap();
    let types: Vec<&str> = all.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["seacft", "s", "f"], "newest first");
    let exchange = &all[0];
    assert_eq!(exchange.user_id.as_deref(), Some(user.as_str()));
    assert_eq!(exchange.client_id.as_deref(), Some(spa.client_id.as_str()));
    assert_eq!(exchange.ip.as_deref(), Some("127.0.0.1"));
    let serialized = serde_json::to_string(&all).unwrap();
    for secret in [
        body["access_token"].as_str().unwrap(),
        PASSWORD,
        "wrong password!",
    ] {
        assert!(!serialized.contains(secret), "the log holds a secret");
    }
    let (logins, total) = app
        .store
        .list_logs(
            &LogFilter {
                event_type: Some("s".into()),
                ..LogFilter::default()
            },
            Page::ALL,
        )
        .await
        .unwrap();
    assert_eq!((logins.len(), total), (1, 1));
}

#[tokio::test]
async fn users_cannot_get_tokens_for_the_management_api() {
    let app = spawn_app().await;
    let spa = app.create_spa(false).await;
    app.create_user("someone@example.com").await;
    let management = format!("{}api/v2/", app.issuer);
    let (params, _) = app
        .login_for_code(
            &browser(),
            &spa,
            "someone@example.com",
            &[("audience", management.as_str())],
        )
        .await;
    assert_eq!(params["error"], "access_denied");
    assert!(!params.contains_key("code"));
}

#[tokio::test]
async fn machine_token_exchanges_reach_the_audit_log_in_batches() {
    let app = spawn_app().await;
    app.create_api(false).await;
    let (client_id, secret) = app.create_m2m(&["read:messages"]).await;
    for _ in 0..5 {
        let response = app
            .browser
            .post(app.url("/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id.as_str()),
                ("client_secret", secret.as_str()),
                ("audience", API),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let filter = LogFilter {
        event_type: Some("seccft".into()),
        client_id: Some(client_id.clone()),
        ..LogFilter::default()
    };
    // Written off the request path: allow the writer a moment.
    let mut logged = 0;
    for _ in 0..50 {
        logged = app.store.list_logs(&filter, Page::ALL).await.unwrap().1;
        if logged == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(logged, 5);
}
