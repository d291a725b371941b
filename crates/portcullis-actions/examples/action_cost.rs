//! What one post-login Action costs a login: `Engine::run` (the server's executor: a permit,
//! the blocking pool, a fresh QuickJS runtime, built ahead when there is time between runs) of an Action that sets one claim, next to an
//! Action that does nothing and to a bare QuickJS runtime and context, over N runs each.
//!
//! `cargo run --release -p portcullis-actions --example action_cost [N]` (default 2000).

use std::time::{Duration, Instant};

use portcullis_actions::{Engine, Limits, Script};
use portcullis_types::ActionTrigger;
use serde_json::json;

const ONE_CLAIM: &str = "exports.onExecutePostLogin = async (event, api) => { \
    api.idToken.setCustomClaim('https://example.com/roles', event.authorization.roles); };";
const NOTHING: &str = "exports.onExecutePostLogin = async () => {};";

/// A post-login event of the size the server builds.
fn event() -> serde_json::Value {
    json!({
        "user": {
            "user_id": "auth0|5f7c8ec7c33c6c004bbafe82", "email": "ada@example.com",
            "email_verified": true, "name": "Ada", "nickname": "ada", "picture": "",
            "blocked": false, "created_at": "2026-01-01T00:00:00.000Z",
            "updated_at": "2026-01-01T00:00:00.000Z", "last_login": null, "logins_count": 3,
            "app_metadata": {}, "user_metadata": {},
            "identities": [{ "provider": "auth0", "user_id": "5f7c8ec7c33c6c004bbafe82",
                "connection": "Username-Password-Authentication", "isSocial": false }],
        },
        "client": { "client_id": "abc", "name": "SPA", "metadata": {} },
        "request": { "ip": "127.0.0.1", "user_agent": "bench", "method": "GET",
            "hostname": "localhost", "query": { "scope": "openid profile" }, "geoip": {},
            "language": "" },
        "authorization": { "roles": ["admin", "reader"] },
        "transaction": { "protocol": "oidc-basic-profile",
            "requested_scopes": ["openid", "profile"], "redirect_uri": "http://localhost:3000",
            "locale": "en" },
        "connection": { "id": "con_1", "name": "Username-Password-Authentication",
            "strategy": "auth0" },
        "stats": { "logins_count": 3 },
        "tenant": { "id": "localhost" },
        "authentication": { "methods": [{ "name": "pwd" }] },
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn row(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    let ms = |d: Duration| format!("{:.3}", d.as_secs_f64() * 1e3);
    println!(
        "{name:<44} {:>9} {:>9} {:>9}",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        ms(mean)
    );
}

/// `n` runs of `code`, one after another, `apart` from each other: back to back (zero), the
/// thread that answered is still building the next sandbox when the next run comes; with a
/// gap, as between logins, the sandbox is ready.
async fn engine_runs(engine: &Engine, code: &str, n: usize, apart: Duration) -> Vec<Duration> {
    let script = Script {
        code: code.to_owned(),
        trigger: ActionTrigger::PostLogin,
        event: event(),
        secrets: Default::default(),
    };
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        if !apart.is_zero() {
            tokio::time::sleep(apart).await;
        }
        let started = Instant::now();
        let outcome = engine.run(script.clone()).await.expect("the Action runs");
        times.push(started.elapsed());
        assert!(outcome.denied().is_none());
    }
    times
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(2000);
    let engine = Engine::new(Limits::default(), 4);
    // Warm the blocking pool and the allocator.
    engine_runs(&engine, ONE_CLAIM, 50, Duration::ZERO).await;

    let bare: Vec<Duration> = (0..n)
        .map(|_| {
            let started = Instant::now();
            let runtime = rquickjs::Runtime::new().expect("runtime");
            let context = rquickjs::Context::full(&runtime).expect("context");
            drop(context);
            drop(runtime);
            started.elapsed()
        })
        .collect();
    let nothing = engine_runs(&engine, NOTHING, n, Duration::ZERO).await;
    let one_claim = engine_runs(&engine, ONE_CLAIM, n, Duration::ZERO).await;
    let apart = engine_runs(&engine, ONE_CLAIM, n, Duration::from_millis(1)).await;

    println!("one post-login Action, {n} runs each (ms)");
    println!("{:<44} {:>9} {:>9} {:>9}", "", "p50", "p99", "mean");
    row("QuickJS runtime + context, created, dropped", bare);
    row("Engine::run, an Action that does nothing", nothing);
    row("Engine::run, an Action that sets one claim", one_claim);
    row("  the same, 1 ms apart (its sandbox ready)", apart);
}
