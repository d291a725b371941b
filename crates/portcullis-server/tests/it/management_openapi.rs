//! The OpenAPI document is generated from the handlers: every route the Management API serves
//! is in it (and every route in it is served: `management_auth` calls each one).

use reqwest::{Method, StatusCode};

use crate::management_support::*;

/// Every route the Management API mounts, as Auth0 names them.
const MOUNTED: &[(&str, &str)] = &[
    ("get", "/resource-servers"),
    ("post", "/resource-servers"),
    ("get", "/resource-servers/{id}"),
    ("patch", "/resource-servers/{id}"),
    ("delete", "/resource-servers/{id}"),
    ("get", "/resource-servers/{id}/rules"),
    ("post", "/resource-servers/{id}/rules"),
    ("delete", "/resource-servers/{id}/rules/{rule_id}"),
    ("get", "/clients"),
    ("post", "/clients"),
    ("get", "/clients/{id}"),
    ("patch", "/clients/{id}"),
    ("delete", "/clients/{id}"),
    ("post", "/clients/{id}/rotate-secret"),
    ("get", "/client-grants"),
    ("post", "/client-grants"),
    ("get", "/client-grants/{id}"),
    ("patch", "/client-grants/{id}"),
    ("delete", "/client-grants/{id}"),
    ("get", "/users"),
    ("post", "/users"),
    ("get", "/users/{id}"),
    ("patch", "/users/{id}"),
    ("delete", "/users/{id}"),
    ("get", "/users-by-email"),
    ("get", "/user-blocks"),
    ("delete", "/user-blocks"),
    ("get", "/user-blocks/{id}"),
    ("delete", "/user-blocks/{id}"),
    ("get", "/users/{id}/roles"),
    ("post", "/users/{id}/roles"),
    ("delete", "/users/{id}/roles"),
    ("get", "/users/{id}/permissions"),
    ("post", "/users/{id}/permissions"),
    ("delete", "/users/{id}/permissions"),
    ("get", "/roles"),
    ("post", "/roles"),
    ("get", "/roles/{id}"),
    ("patch", "/roles/{id}"),
    ("delete", "/roles/{id}"),
    ("get", "/roles/{id}/permissions"),
    ("post", "/roles/{id}/permissions"),
    ("delete", "/roles/{id}/permissions"),
    ("get", "/roles/{id}/users"),
    ("post", "/roles/{id}/users"),
    ("get", "/grants"),
    ("delete", "/grants"),
    ("delete", "/grants/{id}"),
    ("get", "/connections"),
    ("get", "/connections/{id}"),
    ("patch", "/connections/{id}"),
    ("post", "/connections"),
    ("delete", "/connections/{id}"),
    ("post", "/users/{id}/identities"),
    ("delete", "/users/{id}/identities/{provider}/{user_id}"),
    ("get", "/logs"),
    ("get", "/logs/{id}"),
    ("post", "/email-templates"),
    ("get", "/email-templates/{templateName}"),
    ("patch", "/email-templates/{templateName}"),
    ("put", "/email-templates/{templateName}"),
    ("post", "/tickets/email-verification"),
    ("post", "/tickets/password-change"),
    ("post", "/jobs/verification-email"),
    ("post", "/jobs/users-imports"),
    ("post", "/jobs/users-exports"),
    ("get", "/jobs/{id}"),
    ("get", "/jobs/{id}/errors"),
    ("get", "/guardian/factors"),
    ("put", "/guardian/factors/{id}"),
    ("get", "/guardian/policies"),
    ("put", "/guardian/policies"),
    ("get", "/tenants/settings"),
    ("patch", "/tenants/settings"),
    ("get", "/actions/actions"),
    ("post", "/actions/actions"),
    ("get", "/actions/actions/{id}"),
    ("patch", "/actions/actions/{id}"),
    ("delete", "/actions/actions/{id}"),
    ("post", "/actions/actions/{id}/deploy"),
    ("get", "/actions/actions/{id}/versions"),
    ("post", "/actions/actions/{id}/test"),
    ("get", "/actions/triggers"),
    ("get", "/actions/triggers/{triggerId}/bindings"),
    ("patch", "/actions/triggers/{triggerId}/bindings"),
    ("get", "/users/{id}/authentication-methods"),
    ("delete", "/users/{id}/authentication-methods/{method_id}"),
    ("delete", "/users/{id}/authenticators"),
];

#[tokio::test]
async fn the_document_lists_every_mounted_route_and_this_server() {
    let mgmt = spawn_mgmt().await;
    let (status, document) = mgmt
        .call_with(None, Method::GET, "/openapi.json", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document["paths"].as_object().unwrap();
    let mut operation_ids = std::collections::HashSet::new();
    for (method, path) in MOUNTED {
        let operation = &paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} missing from the document"))[*method];
        assert!(
            operation.is_object(),
            "{method} {path} missing from the document"
        );
        let responses = operation["responses"].as_object().unwrap();
        assert!(
            responses.len() >= 2,
            "{method} {path} documents its responses"
        );
        for (status, response) in responses {
            assert!(
                !response["description"].as_str().unwrap().is_empty(),
                "{method} {path} {status} has a description"
            );
        }
        let id = operation["operationId"].as_str().unwrap();
        assert!(
            operation_ids.insert(id.to_owned()),
            "operationId {id} is not unique"
        );
    }
    let documented: usize = paths
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(
        documented,
        MOUNTED.len(),
        "the document lists a route not in MOUNTED"
    );

    assert_eq!(document["servers"][0]["url"], mgmt.url(""));
    let flow =
        &document["components"]["securitySchemes"]["management_api"]["flows"]["clientCredentials"];
    assert_eq!(flow["tokenUrl"], mgmt.app.url("/oauth/token"));
    assert!(flow["scopes"]["create:users"].is_string());
    // Request and answer shapes come from the code.
    let schemas = document["components"]["schemas"].as_object().unwrap();
    for schema in [
        "ResourceServer",
        "Client",
        "ClientGrant",
        "User",
        "Role",
        "Permission",
        "Log",
        "Error",
        "CreateUser",
    ] {
        assert!(schemas.contains_key(schema), "schema {schema} missing");
    }
    assert!(schemas["User"]["properties"]["user_id"].is_object());
}
