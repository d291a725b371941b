//! Auth0 Actions run unchanged, in QuickJS embedded through `rquickjs`.
//!
//! An Action is CommonJS code that exports `onExecutePostLogin` or
//! `onExecuteCredentialsExchange`; the handler is called with the trigger's `event` and an
//! `api` object, and what it asks of the `api` is recorded as [`ApiCall`]s, in order. The
//! caller decides what the calls mean (which claims may be set, what a deny ends): this crate
//! only runs code and reports.
//!
//! Each execution gets its own QuickJS runtime, bounded by [`Limits`]: memory (the runtime's
//! allocator limit), time (an interrupt handler with a deadline, which QuickJS calls while it
//! runs code, so an infinite loop stops) and native stack. The runtime is used once; the
//! thread that ran an execution builds the next one's runtime after answering (see
//! `sandbox`), so an execution does not wait for its runtime to be made. The code has no network, no file
//! system and no module loader; `require` throws. [`Engine::run`] executes on the blocking
//! thread pool, never on an async worker, and never more executions at once than its bound.

mod sandbox;

use portcullis_types::ActionTrigger;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// What one execution may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The QuickJS runtime's heap, in bytes.
    pub memory_bytes: usize,
    /// The time the code may run, measured on its own thread from the start of the execution.
    pub time: Duration,
    /// The native stack QuickJS may use for the code's recursion, in bytes.
    pub stack_bytes: usize,
    /// What the recorded calls and console lines may hold in total, in bytes of JSON.
    pub output_bytes: usize,
}

impl Default for Limits {
    /// 64 MiB of heap holds any event and what an Action builds from it many times over
    /// (a fresh runtime uses about 200 KiB); 500 ms is hundreds of times what an Action that
    /// sets claims needs, yet short enough that a runaway one cannot hold a login for long;
    /// 256 KiB of stack stays well inside a blocking thread's 2 MiB.
    fn default() -> Self {
        Limits {
            memory_bytes: 64 * 1024 * 1024,
            time: Duration::from_millis(500),
            stack_bytes: 256 * 1024,
            output_bytes: 1024 * 1024,
        }
    }
}

/// One execution's input.
#[derive(Clone, Debug)]
pub struct Script {
    /// The Action's code (CommonJS).
    pub code: String,
    /// Which handler to call.
    pub trigger: ActionTrigger,
    /// The `event` argument, without `secrets`.
    pub event: Value,
    /// The Action's secrets, given to the code as `event.secrets`.
    pub secrets: BTreeMap<String, String>,
}

/// A call the code made on the `api` object.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "api", rename_all = "snake_case")]
pub enum ApiCall {
    /// `api.accessToken.setCustomClaim(name, value)`.
    AccessTokenClaim { name: String, value: Value },
    /// `api.idToken.setCustomClaim(name, value)`.
    IdTokenClaim { name: String, value: Value },
    /// `api.accessToken.addScope(scope)`.
    AddScope { scope: String },
    /// `api.accessToken.removeScope(scope)`.
    RemoveScope { scope: String },
    /// `api.access.deny(reason)`.
    Deny { reason: String },
    /// `api.user.setAppMetadata(name, value)`.
    AppMetadata { name: String, value: Value },
    /// `api.user.setUserMetadata(name, value)`.
    UserMetadata { name: String, value: Value },
    /// `api.multifactor.enable(provider)`: `any` (or a one-time-password provider) asks for a
    /// second factor before the login's tokens, `none` takes an earlier call back.
    Multifactor { provider: String },
}

/// A line the code wrote with `console`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// `log`, `info`, `warn`, `error` or `debug`.
    pub level: String,
    pub message: String,
}

/// What a successful execution did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Outcome {
    pub calls: Vec<ApiCall>,
    pub logs: Vec<LogLine>,
}

impl Outcome {
    /// The reason of the first `api.access.deny`, if the code called it.
    pub fn denied(&self) -> Option<&str> {
        self.calls.iter().find_map(|call| match call {
            ApiCall::Deny { reason } => Some(reason.as_str()),
            _ => None,
        })
    }
}

/// Why an execution failed. The messages are the code's own (its exception) or ours; none
/// holds a secret unless the code put one in its exception.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    #[error("the code does not compile: {0}")]
    Compile(String),
    #[error("the code does not export {0}")]
    NoHandler(&'static str),
    #[error("the code threw: {0}")]
    Thrown(String),
    #[error("the code ran past its time limit")]
    Timeout,
    #[error("the code ran out of memory")]
    OutOfMemory,
    #[error("the handler's promise never settled")]
    NeverSettled,
    #[error("the code recorded more output than allowed")]
    TooMuchOutput,
    #[error("the JavaScript engine failed: {0}")]
    Engine(String),
}

/// Runs Actions on the blocking thread pool, a bounded number at a time.
#[derive(Clone, Debug)]
pub struct Engine {
    limits: Limits,
    permits: Arc<Semaphore>,
}

impl Engine {
    /// An engine running at most `concurrency` executions at once (the rest wait their turn,
    /// each turn being bounded by `limits.time`).
    pub fn new(limits: Limits, concurrency: usize) -> Self {
        Engine {
            limits,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Whether `code` compiles, checked on a blocking thread.
    pub async fn compile(&self, code: String) -> Result<(), ActionError> {
        let limits = self.limits;
        tokio::task::spawn_blocking(move || compile_blocking(&limits, &code))
            .await
            .map_err(|error| ActionError::Engine(error.to_string()))?
    }

    /// Runs `script` to completion on a blocking thread.
    pub async fn run(&self, script: Script) -> Result<Outcome, ActionError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ActionError::Engine("the engine is closed".to_owned()))?;
        let limits = self.limits;
        let (answer, result) = tokio::sync::oneshot::channel();
        // The thread hands the result back, then builds its sandbox for a later execution,
        // off this execution's clock.
        tokio::task::spawn_blocking(move || {
            let _ = answer.send(run_blocking(&limits, &script));
            sandbox::prepare(&limits);
        });
        result
            .await
            .map_err(|_| ActionError::Engine("the execution ended without a result".to_owned()))?
    }
}

/// Whether `code` compiles, on the calling thread (nothing of it runs).
pub fn compile_blocking(limits: &Limits, code: &str) -> Result<(), ActionError> {
    sandbox::compile(limits, code)
}

/// Runs `script` to completion on the calling thread: for blocking threads and tests only.
pub fn run_blocking(limits: &Limits, script: &Script) -> Result<Outcome, ActionError> {
    sandbox::execute(limits, script)
}
