//! The engine against well-behaved Actions from Auth0's documentation and hostile ones.

use portcullis_actions::{run_blocking, ActionError, ApiCall, Engine, Limits, Script};
use portcullis_types::ActionTrigger;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn post_login(code: &str) -> Script {
    Script {
        code: code.to_owned(),
        trigger: ActionTrigger::PostLogin,
        event: json!({
            "user": {"user_id": "auth0|1", "email": "ada@example.com", "email_verified": false},
            "authorization": {"roles": ["admin", "editor"]},
            "request": {"geoip": {"countryCode": "FR"}},
            "client": {"client_id": "abc", "name": "Web"},
        }),
        secrets: BTreeMap::from([("API_KEY".to_owned(), "s3cr3t".to_owned())]),
    }
}

fn run(code: &str) -> Result<portcullis_actions::Outcome, ActionError> {
    run_blocking(&Limits::default(), &post_login(code))
}

#[test]
fn roles_go_into_a_namespaced_claim() {
    let outcome = run(r#"
        exports.onExecutePostLogin = async (event, api) => {
          const namespace = 'https://my-app.example.com';
          if (event.authorization) {
            api.idToken.setCustomClaim(`${namespace}/roles`, event.authorization.roles);
            api.accessToken.setCustomClaim(`${namespace}/roles`, event.authorization.roles);
          }
        };
    "#)
    .unwrap();
    let roles = json!(["admin", "editor"]);
    assert_eq!(
        outcome.calls,
        vec![
            ApiCall::IdTokenClaim {
                name: "https://my-app.example.com/roles".into(),
                value: roles.clone()
            },
            ApiCall::AccessTokenClaim {
                name: "https://my-app.example.com/roles".into(),
                value: roles
            },
        ]
    );
}

#[test]
fn deny_by_email_verified_and_metadata_and_scopes_are_recorded_in_order() {
    let outcome = run(r#"
        exports.onExecutePostLogin = async (event, api) => {
          api.user.setAppMetadata('plan', {tier: 'gold'});
          api.user.setUserMetadata('theme', 'dark');
          api.accessToken.addScope('read:reports').removeScope;
          api.accessToken.removeScope('write:all');
          if (!event.user.email_verified) {
            api.access.deny('Please verify your email before logging in.');
          }
        };
    "#)
    .unwrap();
    assert_eq!(
        outcome.denied(),
        Some("Please verify your email before logging in.")
    );
    assert_eq!(
        outcome.calls[..4],
        [
            ApiCall::AppMetadata {
                name: "plan".into(),
                value: json!({"tier": "gold"})
            },
            ApiCall::UserMetadata {
                name: "theme".into(),
                value: json!("dark")
            },
            ApiCall::AddScope {
                scope: "read:reports".into()
            },
            ApiCall::RemoveScope {
                scope: "write:all".into()
            },
        ]
    );
}

#[test]
fn module_exports_secrets_console_and_promises_work() {
    let outcome = run(r#"
        const wait = () => new Promise((resolve) => Promise.resolve().then(resolve));
        module.exports = {
          onExecutePostLogin: async function (event, api) {
            await wait();
            console.log('country', event.request.geoip.countryCode, {n: 1});
            api.accessToken.setCustomClaim('https://x/key', event.secrets.API_KEY);
          },
        };
    "#)
    .unwrap();
    assert_eq!(
        outcome.calls,
        vec![ApiCall::AccessTokenClaim {
            name: "https://x/key".into(),
            value: json!("s3cr3t")
        }]
    );
    assert_eq!(outcome.logs[0].message, "country FR {\"n\":1}");
}

#[test]
fn a_credentials_exchange_handler_is_called_for_its_trigger() {
    let script = Script {
        code: "exports.onExecuteCredentialsExchange = async (event, api) => { \
               api.accessToken.setCustomClaim('https://x/c', event.client.client_id); };"
            .to_owned(),
        trigger: ActionTrigger::CredentialsExchange,
        event: json!({"client": {"client_id": "m2m"}}),
        secrets: BTreeMap::new(),
    };
    let outcome = run_blocking(&Limits::default(), &script).unwrap();
    assert_eq!(
        outcome.calls,
        vec![ApiCall::AccessTokenClaim {
            name: "https://x/c".into(),
            value: json!("m2m")
        }]
    );
    // The post-login handler alone is not enough for another trigger.
    let mut other = script.clone();
    other.code = "exports.onExecutePostLogin = async () => {};".to_owned();
    assert_eq!(
        run_blocking(&Limits::default(), &other),
        Err(ActionError::NoHandler("onExecuteCredentialsExchange"))
    );
}

#[test]
fn a_throw_a_rejection_and_a_syntax_error_are_errors() {
    assert_eq!(
        run("exports.onExecutePostLogin = async () => { throw new Error('boom'); };"),
        Err(ActionError::Thrown("Error: boom".into()))
    );
    assert_eq!(
        run("exports.onExecutePostLogin = () => Promise.reject('no');"),
        Err(ActionError::Thrown("no".into()))
    );
    assert_eq!(
        run("exports.onExecutePostLogin = () => { throw {code: 7}; };"),
        Err(ActionError::Thrown("{\"code\":7}".into()))
    );
    assert!(matches!(
        run("exports.onExecutePostLogin = async (event, api) => {"),
        Err(ActionError::Compile(_))
    ));
    assert!(matches!(run("const x = ;"), Err(ActionError::Compile(_))));
}

#[test]
fn require_is_refused_clearly_and_nothing_reaches_the_host() {
    let Err(ActionError::Thrown(message)) =
        run("const axios = require('axios'); exports.onExecutePostLogin = async () => {};")
    else {
        panic!("require must throw");
    };
    assert!(message.contains("require('axios')"), "{message}");
    let outcome = run(r#"
        exports.onExecutePostLogin = async (event, api) => {
          api.accessToken.setCustomClaim('https://x/globals', [
            typeof fetch, typeof XMLHttpRequest, typeof std, typeof os, typeof process,
          ]);
        };
    "#)
    .unwrap();
    assert_eq!(
        outcome.calls[0],
        ApiCall::AccessTokenClaim {
            name: "https://x/globals".into(),
            value: json!([
                "undefined",
                "undefined",
                "undefined",
                "undefined",
                "undefined"
            ]),
        }
    );
}

#[test]
fn a_missing_handler_and_a_promise_that_never_settles_are_errors() {
    assert_eq!(
        run("exports.other = 1;"),
        Err(ActionError::NoHandler("onExecutePostLogin"))
    );
    assert_eq!(
        run("exports.onExecutePostLogin = () => new Promise(() => {});"),
        Err(ActionError::NeverSettled)
    );
}

#[test]
fn an_infinite_loop_stops_at_the_deadline() {
    let limits = Limits {
        time: Duration::from_millis(100),
        ..Limits::default()
    };
    for code in [
        "exports.onExecutePostLogin = async () => { while (true) {} };",
        "exports.onExecutePostLogin = async () => { for (;;) { try { while (true) {} } catch (e) {} } };",
        "exports.onExecutePostLogin = async () => { for (;;) { await null; } };",
        "while (true) {}",
    ] {
        let started = Instant::now();
        assert_eq!(run_blocking(&limits, &post_login(code)), Err(ActionError::Timeout), "{code}");
        assert!(started.elapsed() < Duration::from_secs(2), "{code}: {:?}", started.elapsed());
    }
}

#[test]
fn a_memory_bomb_stops_at_the_limit() {
    let limits = Limits {
        memory_bytes: 16 * 1024 * 1024,
        ..Limits::default()
    };
    for code in [
        "exports.onExecutePostLogin = async () => { const a = []; for (;;) a.push(new Array(1e5).fill(1)); };",
        "exports.onExecutePostLogin = async () => { let s = 'x'; for (;;) s = s + s; };",
        "exports.onExecutePostLogin = async () => { new ArrayBuffer(1e9); };",
    ] {
        assert_eq!(run_blocking(&limits, &post_login(code)), Err(ActionError::OutOfMemory), "{code}");
    }
}

#[test]
fn deep_recursion_is_an_error_not_a_crash() {
    let Err(ActionError::Thrown(message)) =
        run("exports.onExecutePostLogin = async () => { const f = (n) => f(n + 1) + 1; f(0); };")
    else {
        panic!("recursion must throw");
    };
    assert!(
        message.contains("RangeError") || message.contains("stack"),
        "{message}"
    );
}

#[test]
fn prototype_tricks_cannot_change_what_was_recorded() {
    let outcome = run(r#"
        exports.onExecutePostLogin = async (event, api) => {
          api.accessToken.setCustomClaim('https://x/a', 1);
          Object.prototype.toJSON = () => 'hijacked';
          Array.prototype.push = () => { throw new Error('no'); };
          JSON.stringify = () => '"forged"';
          try { api.accessToken.setCustomClaim = () => {}; } catch (e) {}
          try { api.accessToken = {}; } catch (e) {}
          api.accessToken.setCustomClaim('https://x/b', 2);
        };
    "#)
    .unwrap();
    assert_eq!(
        outcome.calls[0],
        ApiCall::AccessTokenClaim {
            name: "https://x/a".into(),
            value: json!(1)
        }
    );
    assert_eq!(outcome.calls.len(), 2);
    let ApiCall::AccessTokenClaim { name, .. } = &outcome.calls[1] else {
        panic!("{:?}", outcome.calls);
    };
    assert_eq!(name, "https://x/b");
}

#[test]
fn unbounded_console_output_is_an_error() {
    let limits = Limits {
        output_bytes: 10_000,
        ..Limits::default()
    };
    assert_eq!(
        run_blocking(
            &limits,
            &post_login("exports.onExecutePostLogin = async () => { for (let i = 0; i < 10000; i++) console.log('line ' + i); };")
        ),
        Err(ActionError::TooMuchOutput)
    );
}

#[test]
fn unsupported_api_parts_say_so() {
    let Err(ActionError::Thrown(message)) = run(
        "exports.onExecutePostLogin = async (e, api) => { api.redirect.sendUserTo('https://x'); };",
    ) else {
        panic!("redirect must throw");
    };
    assert!(message.contains("not supported"), "{message}");
}

#[test]
fn multifactor_enable_is_recorded_and_an_unknown_provider_throws() {
    let outcome = run("exports.onExecutePostLogin = async (e, api) => { \
           api.multifactor.enable('any', { allowRememberBrowser: false }); \
           api.multifactor.enable('none'); };")
    .unwrap();
    assert_eq!(
        outcome.calls,
        [
            ApiCall::Multifactor {
                provider: "any".into()
            },
            ApiCall::Multifactor {
                provider: "none".into()
            },
        ]
    );
    let Err(ActionError::Thrown(message)) =
        run("exports.onExecutePostLogin = async (e, api) => { api.multifactor.enable('duo'); };")
    else {
        panic!("duo must throw");
    };
    assert!(message.contains("\"duo\" is not supported"), "{message}");
}

#[tokio::test(flavor = "current_thread")]
async fn the_engine_runs_off_the_async_thread_and_stays_responsive() {
    let engine = Engine::new(
        Limits {
            time: Duration::from_millis(200),
            ..Limits::default()
        },
        2,
    );
    let looping = engine.run(post_login(
        "exports.onExecutePostLogin = async () => { while (true) {} };",
    ));
    // The runtime's only thread keeps serving other tasks while the Action spins.
    let ticker = async {
        let started = Instant::now();
        tokio::time::sleep(Duration::from_millis(20)).await;
        started.elapsed()
    };
    let (result, ticked) = tokio::join!(looping, ticker);
    assert_eq!(result, Err(ActionError::Timeout));
    assert!(ticked < Duration::from_millis(150), "{ticked:?}");
}

#[test]
fn compiling_checks_syntax_without_running() {
    let limits = Limits::default();
    assert_eq!(
        portcullis_actions::compile_blocking(&limits, "while (true) {}"),
        Ok(())
    );
    assert!(matches!(
        portcullis_actions::compile_blocking(&limits, "exports.x = ("),
        Err(ActionError::Compile(_))
    ));
}

/// An engine on a runtime with a single blocking thread: every execution runs on that thread,
/// each in the sandbox the previous one's thread built for it.
fn one_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .max_blocking_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn nothing_one_execution_does_reaches_the_next() {
    one_thread_runtime().block_on(async {
        let engine = Engine::new(Limits::default(), 1);
        let tampering = engine
            .run(post_login(
                r#"
                globalThis.leaked = 'from the first';
                Object.prototype.polluted = true;
                JSON.stringify = () => 'hijacked';
                console.log = () => { throw new Error('console replaced'); };
                exports.onExecutePostLogin = async (event, api) => {
                  api.accessToken.setCustomClaim('https://x/first', 1);
                };
            "#,
            ))
            .await;
        assert!(tampering.is_ok(), "{tampering:?}");
        let outcome = engine
            .run(post_login(
                r#"
                exports.onExecutePostLogin = async (event, api) => {
                  console.log('seen', typeof globalThis.leaked, ({}).polluted === undefined);
                  api.accessToken.setCustomClaim('https://x/json', JSON.stringify({a: 1}));
                };
            "#,
            ))
            .await
            .expect("the second execution runs");
        assert_eq!(
            outcome.calls,
            vec![ApiCall::AccessTokenClaim {
                name: "https://x/json".into(),
                value: json!("{\"a\":1}"),
            }]
        );
        assert_eq!(outcome.logs.len(), 1);
        assert_eq!(outcome.logs[0].message, "seen undefined true");
    });
}

#[test]
fn the_time_limit_counts_from_the_start_of_the_execution_not_from_its_preparation() {
    one_thread_runtime().block_on(async {
        let engine = Engine::new(
            Limits {
                time: Duration::from_millis(100),
                ..Limits::default()
            },
            1,
        );
        let quick =
            "exports.onExecutePostLogin = async (event, api) => { api.access.deny('no'); };";
        assert!(engine.run(post_login(quick)).await.is_ok());
        // The next sandbox was built after that answer, and now waits longer than the limit.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let outcome = engine.run(post_login(quick)).await;
        assert_eq!(outcome.map(|outcome| outcome.calls.len()), Ok(1));
        // And a runaway execution is still stopped at its own deadline.
        let started = Instant::now();
        let looping = engine
            .run(post_login(
                "exports.onExecutePostLogin = async () => { while (true) {} };",
            ))
            .await;
        assert_eq!(looping, Err(ActionError::Timeout));
        assert!(started.elapsed() < Duration::from_secs(2));
    });
}

#[test]
fn an_execution_after_a_memory_bomb_has_its_whole_heap() {
    one_thread_runtime().block_on(async {
        let engine = Engine::new(
            Limits {
                memory_bytes: 16 * 1024 * 1024,
                ..Limits::default()
            },
            1,
        );
        let bomb = "exports.onExecutePostLogin = async () => { const a = []; for (;;) a.push(new Array(1e5).fill(1)); };";
        assert_eq!(engine.run(post_login(bomb)).await, Err(ActionError::OutOfMemory));
        // Nearly half of the 16 MiB (400,000 values of 16 bytes), in a heap of its own.
        let large = "exports.onExecutePostLogin = async (event, api) => { \
            const a = new Array(4e5).fill(1); api.accessToken.setCustomClaim('https://x/n', a.length); };";
        let outcome = engine.run(post_login(large)).await.expect("a fresh heap");
        assert_eq!(outcome.calls.len(), 1);
    });
}
