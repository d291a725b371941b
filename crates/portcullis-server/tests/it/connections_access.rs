//! A user who signs in through an OpenID connection (another Portcullis as the provider) meets
//! the tenant's access policies exactly as a password user does: access rules and RBAC shape
//! the access token, a change of roles through the Management API shows at the next refresh, a
//! blocked user is refused with Auth0's error and gets no session, and a post-login Action
//! sees the connection and the identities in Auth0's shapes.

use portcullis_types::ActionTrigger;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    actions::{bind, deploy},
    connections::{portcullis_upstream, resume, start_with},
    helpers::*,
    management_support::{encode, spawn_mgmt, Mgmt},
    policies::{api_id, tokens_for},
};

const FEDERATED: &str = "ada@corp.example";
const LOCAL: &str = "bob@corp.example";
const SCOPE: &str = "openid read:messages offline_access";

/// The downstream (with its Management API), its application and API, the upstream Portcullis
/// behind connection `corp`, and the two users' ids: the federated one as the downstream
/// names it, and the password one.
struct Setup {
    mgmt: Mgmt,
    spa: Spa,
    upstream: TestApp,
    federated: String,
    local: String,
}

async fn setup() -> Setup {
    let mgmt = spawn_mgmt().await;
    mgmt.app.create_api(true).await;
    let spa = mgmt.app.create_spa(false).await;
    let (upstream, _) = portcullis_upstream(&mgmt.app, &spa, "corp").await;
    let sub = upstream.create_user(FEDERATED).await;
    let local = mgmt.app.create_user(LOCAL).await;
    Setup {
        mgmt,
        spa,
        upstream,
        federated: format!("oidc|corp|{sub}"),
        local,
    }
}

impl Setup {
    fn app(&self) -> &TestApp {
        &self.mgmt.app
    }

    /// A sign-in at the upstream through `corp` in `browser`, for `SCOPE` at the API: our
    /// callback's answer to the provider's, and the PKCE verifier.
    async fn federated_callback(&self, browser: &reqwest::Client) -> (reqwest::Response, String) {
        let extra = [("audience", API), ("scope", SCOPE)];
        let (to_provider, verifier) =
            start_with(self.app(), browser, &self.spa, "corp", &extra).await;
        let answered = self
            .upstream
            .login_via_form(browser, &to_provider, FEDERATED, PASSWORD)
            .await;
        assert_eq!(answered.status(), StatusCode::FOUND);
        let back = browser
            .get(location(&answered))
            .send()
            .await
            .expect("callback");
        (back, verifier)
    }

    /// The federated user's token response and the claims of its access token.
    async fn federated_tokens(&self) -> (Value, Value) {
        let browser = browser();
        let (back, verifier) = self.federated_callback(&browser).await;
        assert_eq!(back.status(), StatusCode::SEE_OTHER);
        let params = resume(self.app(), &browser, &back).await;
        let response = self
            .app()
            .exchange_code(&self.spa, &params["code"], &verifier)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        let claims = self.access_claims(&body).await;
        (body, claims)
    }

    /// The password user's.
    async fn local_tokens(&self) -> (Value, Value) {
        tokens_for(self.app(), &self.spa, LOCAL, SCOPE).await
    }

    async fn access_claims(&self, body: &Value) -> Value {
        let token = body["access_token"].as_str().expect("an access token");
        self.app().verify(token, API).await
    }

    /// The tokens a refresh with `body`'s refresh token gives, and their access token's claims.
    async fn refreshed(&self, body: &Value) -> (Value, Value) {
        let response = self
            .app()
            .browser
            .post(self.app().url("/oauth/token"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", self.spa.client_id.as_str()),
                ("refresh_token", body["refresh_token"].as_str().expect("rt")),
            ])
            .send()
            .await
            .expect("refresh");
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        let claims = self.access_claims(&body).await;
        (body, claims)
    }

    /// A role through the Management API: its id.
    async fn create_role(&self, name: &str) -> String {
        let (status, role) = self.mgmt.post("/roles", json!({ "name": name })).await;
        assert_eq!(status, StatusCode::OK, "{role}");
        role["id"].as_str().expect("id").to_owned()
    }

    async fn assign(&self, user_id: &str, role: &str) {
        let path = format!("/users/{}/roles", encode(user_id));
        let (status, body) = self.mgmt.post(&path, json!({ "roles": [role] })).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }

    async fn unassign(&self, user_id: &str, role: &str) {
        let path = format!("/users/{}/roles", encode(user_id));
        let (status, body) = self
            .mgmt
            .delete_with(&path, json!({ "roles": [role] }))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }

    async fn set_blocked(&self, user_id: &str, blocked: bool) {
        let path = format!("/users/{}", encode(user_id));
        let (status, body) = self.mgmt.patch(&path, json!({ "blocked": blocked })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["blocked"], blocked);
    }
}

fn scope_of(claims: &Value) -> &str {
    claims["scope"].as_str().expect("scope")
}

#[tokio::test]
async fn an_access_rule_refuses_and_allows_a_federated_user_as_a_password_user() {
    let s = setup().await;
    let role = s.create_role("Staff").await;
    let path = format!("/resource-servers/{}/rules", api_id(s.app()).await);
    let rule =
        json!({ "scope": "read:messages", "condition": { "kind": "has_role", "role_id": role } });
    let (status, body) = s.mgmt.post(&path, rule).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Without the role, the rule leaves the scope out for both.
    let (_, federated) = s.federated_tokens().await;
    assert_eq!(federated["sub"], s.federated);
    let (_, local) = s.local_tokens().await;
    assert_eq!(scope_of(&federated), "openid offline_access");
    assert_eq!(scope_of(&local), scope_of(&federated));

    // With it, both get the scope.
    s.assign(&s.federated, &role).await;
    s.assign(&s.local, &role).await;
    let (_, federated) = s.federated_tokens().await;
    let (_, local) = s.local_tokens().await;
    assert_eq!(scope_of(&federated), SCOPE);
    assert_eq!(scope_of(&local), SCOPE);
}

#[tokio::test]
async fn roles_given_to_a_federated_user_put_their_permissions_in_its_tokens_until_removed() {
    let s = setup().await;
    let api = api_id(s.app()).await;
    let (status, body) = s
        .mgmt
        .patch(
            &format!("/resource-servers/{api}"),
            json!({ "enforce_policies": true, "token_dialect": "access_token_authz" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let role = s.create_role("Reader").await;
    let permission = json!({ "permissions": [{ "resource_server_identifier": API, "permission_name": "read:messages" }] });
    let (status, body) = s
        .mgmt
        .post(&format!("/roles/{role}/permissions"), permission)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // The user exists once it has signed in; before its role, RBAC grants it nothing.
    let (_, federated) = s.federated_tokens().await;
    assert_eq!(scope_of(&federated), "openid offline_access");
    assert_eq!(federated["permissions"], json!([]));

    s.assign(&s.federated, &role).await;
    s.assign(&s.local, &role).await;
    let (federated_body, federated) = s.federated_tokens().await;
    let (local_body, local) = s.local_tokens().await;
    for claims in [&federated, &local] {
        assert_eq!(scope_of(claims), SCOPE);
        assert_eq!(claims["permissions"], json!(["read:messages"]));
    }

    // Taking the role away through the Management API shows at the next refresh, for both.
    s.unassign(&s.federated, &role).await;
    s.unassign(&s.local, &role).await;
    for body in [&federated_body, &local_body] {
        let (body, claims) = s.refreshed(body).await;
        assert_eq!(body["scope"], "openid offline_access");
        assert_eq!(scope_of(&claims), "openid offline_access");
        assert_eq!(claims["permissions"], json!([]));
    }
}

#[tokio::test]
async fn a_blocked_federated_user_is_refused_with_auth0s_error_and_gets_no_session() {
    let s = setup().await;
    let first = browser();
    let (back, _) = s.federated_callback(&first).await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    resume(s.app(), &first, &back).await;

    s.set_blocked(&s.federated, true).await;
    s.set_blocked(&s.local, true).await;

    // The block ended the session the first sign-in started.
    let (_, challenge) = pkce();
    let silent = s.app().authorize_url(
        &s.spa,
        &[
            ("prompt", "none"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let answer = first.get(&silent).send().await.expect("silent");
    assert_eq!(
        callback_params(&location(&answer))["error"],
        "login_required"
    );

    // The next sign-in at the provider: the application hears Auth0's error, and the browser
    // gets no session.
    let second = browser();
    let (back, _) = s.federated_callback(&second).await;
    assert_eq!(back.status(), StatusCode::FOUND);
    assert!(
        back.headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .all(|cookie| !cookie
                .to_str()
                .unwrap_or_default()
                .starts_with("portcullis_session=")),
        "no session for a blocked user"
    );
    let to_app = location(&back);
    assert!(to_app.starts_with(&s.spa.redirect_uri), "{to_app}");
    let params = callback_params(&to_app);
    assert_eq!(params["error"], "unauthorized");
    assert_eq!(params["error_description"], "user is blocked");
    assert_eq!(params["state"], "app-state");
    let answer = second.get(&silent).send().await.expect("silent");
    assert_eq!(
        callback_params(&location(&answer))["error"],
        "login_required",
        "nothing signed the browser in"
    );

    // A blocked password user is refused at its sign-in too.
    let with_pkce = s.app().authorize_url(
        &s.spa,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let refused = s
        .app()
        .login_via_form(&browser(), &with_pkce, LOCAL, PASSWORD)
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused.text().await.expect("html").contains("blocked"));

    // Unblocked, the federated user signs in again.
    s.set_blocked(&s.federated, false).await;
    let (_, claims) = s.federated_tokens().await;
    assert_eq!(claims["sub"], s.federated);
}

const SEEN: &str = "https://example.com/seen";

#[tokio::test]
async fn a_post_login_action_sees_the_connection_and_the_identities_in_auth0s_shape() {
    let s = setup().await;
    let id = deploy(
        s.app(),
        "seen",
        ActionTrigger::PostLogin,
        &format!(
            "exports.onExecutePostLogin = async (event, api) => {{ api.accessToken.setCustomClaim('{SEEN}', {{ connection: event.connection, identities: event.user.identities }}); }};"
        ),
        &[],
    )
    .await;
    bind(s.app(), ActionTrigger::PostLogin, &[&id]).await;
    s.app().tenant_changed();

    let (_, federated) = s.federated_tokens().await;
    let (_, connections) = s.mgmt.get("/connections").await;
    let corp = connections
        .as_array()
        .and_then(|all| all.iter().find(|c| c["name"] == "corp"))
        .expect("the connection");
    let sub = s.federated.trim_start_matches("oidc|corp|");
    assert_eq!(
        federated[SEEN],
        json!({
            "connection": { "id": corp["id"], "name": "corp", "strategy": "oidc" },
            "identities": [{
                "provider": "oidc", "user_id": format!("corp|{sub}"), "connection": "corp",
                "isSocial": false,
            }],
        })
    );
    // The identities are the Management API's.
    let (_, user) = s
        .mgmt
        .get(&format!("/users/{}", encode(&s.federated)))
        .await;
    assert_eq!(federated[SEEN]["identities"], user["identities"]);

    // A password login's, for comparison: the database connection.
    let (_, local) = s.local_tokens().await;
    let database = connections
        .as_array()
        .and_then(|all| all.iter().find(|c| c["strategy"] == "auth0"))
        .expect("the database connection");
    assert_eq!(
        local[SEEN]["connection"],
        json!({ "id": database["id"], "name": "Username-Password-Authentication", "strategy": "auth0" })
    );
    assert_eq!(local[SEEN]["identities"][0]["provider"], "auth0");
    assert_eq!(local[SEEN]["identities"][0]["isSocial"], false);
}
