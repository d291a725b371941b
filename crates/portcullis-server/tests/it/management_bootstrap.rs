//! The bootstrap client: created on first start with an empty store, granted the whole
//! Management API, with given or generated credentials; once, even when replicas race.

use std::sync::Arc;

use portcullis_admin::management::bootstrap::{Outcome, DEFAULT_CLIENT_ID};
use portcullis_core::{
    admin::{
        applications::{self, NewClient},
        Actor, Context,
    },
    clock::MockClock,
};
use portcullis_server::{settings::BootstrapCredentials, Application, Settings};
use portcullis_store::{AppType, Page, Store};

use crate::{helpers::*, management_support::*};

const MASTER_KEY: [u8; 32] = [9u8; 32];

async fn build(
    store: Arc<dyn Store>,
    dir: &tempfile::TempDir,
    credentials: Option<(&str, &str)>,
) -> anyhow::Result<Application> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let _ = dir;
    let mut settings = Settings::new(MASTER_KEY.to_vec());
    // One issuer for every replica of a tenant.
    settings.issuer = "http://localhost:4000/".into();
    settings.bootstrap_client = credentials.map(|(id, secret)| BootstrapCredentials {
        client_id: id.into(),
        client_secret: secret.into(),
    });
    Application::build_on(listener, settings, store, Arc::new(MockClock::new())).await
}

async fn clients(store: &dyn Store) -> Vec<portcullis_store::Client> {
    store.list_clients(Page::ALL).await.unwrap().0
}

#[tokio::test]
async fn an_empty_store_gets_a_granted_client_with_a_generated_secret() {
    let app = spawn_app().await;
    let clients = clients(app.store.as_ref()).await;
    assert_eq!(clients.len(), 1);
    let client = &clients[0];
    assert_eq!(client.client_id, DEFAULT_CLIENT_ID);
    assert_eq!(client.app_type, AppType::NonInteractive);
    assert_eq!(client.grant_types, ["client_credentials"]);
    assert!(client.client_secret_hash.is_some());
    let audience = format!("{}api/v2/", app.issuer);
    let grant = app
        .store
        .client_grant_for(DEFAULT_CLIENT_ID, &audience)
        .await
        .unwrap()
        .expect("granted");
    let api = app
        .store
        .resource_server_by_identifier(&audience)
        .await
        .unwrap()
        .expect("the Management API");
    assert!(api.is_system);
    assert_eq!(grant.scope.len(), api.scopes.len());
    for scope in [
        "read:users",
        "create:users",
        "delete:clients",
        "read:logs",
        "update:client_keys",
    ] {
        assert!(grant.scope.iter().any(|s| s == scope), "{scope}");
    }
}

#[tokio::test]
async fn given_credentials_are_used_and_work_at_the_token_endpoint() {
    let mgmt = spawn_mgmt().await;
    let claims = mgmt.app.verify(&mgmt.token, &mgmt.audience).await;
    assert_eq!(claims["sub"], format!("{BOOTSTRAP_ID}@clients"));
    assert!(claims["scope"].as_str().unwrap().contains("create:users"));
    let clients = clients(mgmt.app.store.as_ref()).await;
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].client_id, BOOTSTRAP_ID);
}

#[tokio::test]
async fn no_client_is_made_when_the_store_has_clients_and_none_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let store = test_store(&dir).await;
    let cx = Context::new(store.clone(), Arc::new(MockClock::new()), &MASTER_KEY);
    applications::create(
        &cx,
        &Actor::System,
        NewClient {
            name: "existing".into(),
            app_type: Some(AppType::Spa),
            ..NewClient::default()
        },
    )
    .await
    .unwrap();
    let app = build(store.clone(), &dir, None).await.unwrap();
    assert_eq!(app.bootstrap_outcome(), &Outcome::Skipped);
    assert_eq!(clients(store.as_ref()).await.len(), 1);

    // Given credentials make sure their client exists, even then.
    let app = build(store.clone(), &dir, Some(("ops-client", BOOTSTRAP_SECRET)))
        .await
        .unwrap();
    assert_eq!(
        app.bootstrap_outcome(),
        &Outcome::CreatedWithGivenCredentials {
            client_id: "ops-client".into()
        }
    );
    assert_eq!(clients(store.as_ref()).await.len(), 2);
    // A restart changes nothing.
    let app = build(store.clone(), &dir, Some(("ops-client", BOOTSTRAP_SECRET)))
        .await
        .unwrap();
    assert_eq!(app.bootstrap_outcome(), &Outcome::Skipped);
    assert_eq!(clients(store.as_ref()).await.len(), 2);
}

#[tokio::test]
async fn weak_or_malformed_given_credentials_stop_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let store = test_store(&dir).await;
    let error = build(store.clone(), &dir, Some(("ops", "short")))
        .await
        .err()
        .expect("a short secret is refused");
    assert!(format!("{error:#}").contains("at least 32"), "{error:#}");
    let error = build(store.clone(), &dir, Some(("has space", BOOTSTRAP_SECRET)))
        .await
        .err()
        .expect("a malformed id is refused");
    assert!(format!("{error:#}").contains("client id"), "{error:#}");
    assert!(clients(store.as_ref()).await.is_empty());
}

#[tokio::test]
async fn replicas_starting_together_create_one_bootstrap_client() {
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let (a, b, c) = tokio::join!(
            build(store.clone(), &dir, None),
            build(store.clone(), &dir, None),
            build(store.clone(), &dir, None),
        );
        let outcomes = [a.unwrap(), b.unwrap(), c.unwrap()]
            .iter()
            .map(|app| app.bootstrap_outcome().clone())
            .collect::<Vec<_>>();
        let created = outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::CreatedWithGeneratedSecret { .. }))
            .count();
        assert_eq!(created, 1, "{outcomes:?}");
        let clients = clients(store.as_ref()).await;
        assert_eq!(clients.len(), 1);
        let (apis, _) = store.list_resource_servers(Page::ALL).await.unwrap();
        assert_eq!(apis.iter().filter(|a| a.is_system).count(), 1);
    }
}
