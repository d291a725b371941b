//! CORS for DPoP clients in a browser: auth0-spa-js 2 with `useDpop` sends its proof in a
//! `DPoP` header and reads `WWW-Authenticate` and `DPoP-Nonce` on the answer.

use reqwest::{header, StatusCode};

use crate::support::{header_text, TestEnv};

fn header_list(response: &reqwest::Response, name: header::HeaderName) -> String {
    header_text(response, name).to_ascii_lowercase()
}

#[tokio::test]
async fn a_spa_may_send_a_dpop_proof_and_read_the_challenge_and_nonce() {
    let env = TestEnv::start().await;
    let preflight = env
        .preflight(
            "/api/external",
            "http://localhost:3000",
            "authorization,dpop",
        )
        .await;
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let allowed = header_list(&preflight, header::ACCESS_CONTROL_ALLOW_HEADERS);
    assert!(allowed.contains("authorization"), "{allowed}");
    assert!(allowed.contains("dpop"), "{allowed}");

    // A refusal is what the page must read: the challenge names the DPoP scheme (and would
    // carry `use_dpop_nonce`), and a nonce, when an API sends one, comes in `DPoP-Nonce`.
    let refused = env
        .client
        .get(env.url("/api/external"))
        .header(header::ORIGIN, "http://localhost:3000")
        .send()
        .await
        .expect("GET");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let exposed = header_list(&refused, header::ACCESS_CONTROL_EXPOSE_HEADERS);
    assert!(exposed.contains("www-authenticate"), "{exposed}");
    assert!(exposed.contains("dpop-nonce"), "{exposed}");
}
