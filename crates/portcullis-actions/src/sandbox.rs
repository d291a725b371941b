//! One execution in a fresh QuickJS runtime: the prelude's `api`, the code as a CommonJS
//! module, the handler called and its promise driven to completion.
//!
//! A runtime serves one execution and is then dropped, so nothing one Action does can reach
//! another. What every execution starts with — the runtime, a full context and the compiled
//! prelude, about 0.2 ms — is built ahead: each thread that runs an execution builds the
//! next one's [`Sandbox`] after handing its result back ([`prepare`]), so a login waits only
//! for its own code.

use crate::{ActionError, ApiCall, Limits, LogLine, Outcome, Script};
use rquickjs::function::Opt;
use rquickjs::{Context, Ctx, Function, Object, Persistent, Runtime, Value};
use serde_json::Value as Value_;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

const PRELUDE: &str = include_str!("prelude.js");

/// QuickJS's own message when an allocation fails under the memory limit.
const OUT_OF_MEMORY: &str = "out of memory";

/// What the code recorded so far, and how much of the output budget it used.
#[derive(Default)]
struct Recording {
    outcome: Outcome,
    bytes: usize,
    overflowed: bool,
}

/// A fresh runtime and context under some [`Limits`], with the prelude compiled: everything
/// an execution needs but its own code and event. Used once.
struct Sandbox {
    // Dropped in this order: the prelude's handle, then the context, then the runtime.
    prelude: Persistent<Function<'static>>,
    context: Context,
    _runtime: Runtime,
    limits: Limits,
    /// The execution's deadline, in nanoseconds since [`epoch`]; unset (`u64::MAX`) while the
    /// sandbox waits, so that its interrupt handler never fires before it is used.
    deadline: Arc<AtomicU64>,
    /// Raised by the interrupt handler when it stopped the code at the deadline.
    interrupted: Arc<AtomicBool>,
}

thread_local! {
    /// The sandbox this thread built for its next execution.
    static NEXT: RefCell<Option<Sandbox>> = const { RefCell::new(None) };
}

/// The process's reference instant for deadlines.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn nanos_since_epoch(instant: Instant) -> u64 {
    u64::try_from(instant.saturating_duration_since(epoch()).as_nanos()).unwrap_or(u64::MAX - 1)
}

impl Sandbox {
    fn new(limits: &Limits) -> Result<Self, ActionError> {
        let runtime = Runtime::new().map_err(engine)?;
        runtime.set_memory_limit(limits.memory_bytes);
        runtime.set_max_stack_size(limits.stack_bytes);
        let deadline = Arc::new(AtomicU64::new(u64::MAX));
        let interrupted = Arc::new(AtomicBool::new(false));
        let (until, flag) = (deadline.clone(), interrupted.clone());
        // QuickJS calls this every few thousand operations (and in regular expressions); past
        // the deadline it answers "stop", which throws an exception the code cannot catch.
        runtime.set_interrupt_handler(Some(Box::new(move || {
            let late = nanos_since_epoch(Instant::now()) >= until.load(Ordering::Relaxed);
            if late {
                flag.store(true, Ordering::Relaxed);
            }
            late
        })));
        let context = Context::full(&runtime).map_err(engine)?;
        let prelude = context.with(|ctx| {
            let factory: Function = ctx.eval(PRELUDE).map_err(|error| failure(&ctx, error))?;
            Ok::<_, ActionError>(Persistent::save(&ctx, factory))
        })?;
        Ok(Sandbox {
            prelude,
            context,
            _runtime: runtime,
            limits: *limits,
            deadline,
            interrupted,
        })
    }

    /// This thread's prepared sandbox if it was built for `limits`, else a new one.
    fn take(limits: &Limits) -> Result<Self, ActionError> {
        match NEXT.with(|next| next.borrow_mut().take()) {
            Some(sandbox) if sandbox.limits == *limits => Ok(sandbox),
            _ => Sandbox::new(limits),
        }
    }

    /// Starts the clock: the code may run for `time` from now.
    fn start(&self, time: Duration) {
        let deadline = Instant::now()
            .checked_add(time)
            .map_or(u64::MAX - 1, nanos_since_epoch);
        self.deadline.store(deadline, Ordering::Relaxed);
    }

    fn timed_out(&self) -> bool {
        self.interrupted.load(Ordering::Relaxed)
    }
}

/// Builds this thread's sandbox for its next execution under `limits`, unless it has one.
/// Called after an execution's result was handed back, so no execution waits for it.
pub(crate) fn prepare(limits: &Limits) {
    let ready = NEXT.with(|next| {
        next.borrow()
            .as_ref()
            .is_some_and(|sandbox| sandbox.limits == *limits)
    });
    if !ready {
        if let Ok(sandbox) = Sandbox::new(limits) {
            NEXT.with(|next| *next.borrow_mut() = Some(sandbox));
        }
    }
}

/// Compiles `code` as a module's body without running it.
pub(crate) fn compile(limits: &Limits, code: &str) -> Result<(), ActionError> {
    let sandbox = Sandbox::take(limits)?;
    sandbox.start(limits.time);
    let result = sandbox
        .context
        .with(|ctx| module_function(&ctx, code).map(|_| ()));
    if sandbox.timed_out() {
        return Err(ActionError::Timeout);
    }
    result
}

pub(crate) fn execute(limits: &Limits, script: &Script) -> Result<Outcome, ActionError> {
    let sandbox = Sandbox::take(limits)?;
    sandbox.start(limits.time);
    let recording = Rc::new(RefCell::new(Recording::default()));
    let result = sandbox.context.with(|ctx| {
        let factory = sandbox.prelude.clone().restore(&ctx).map_err(engine)?;
        run(&ctx, factory, script, limits, recording.clone())
    });
    if sandbox.timed_out() {
        return Err(ActionError::Timeout);
    }
    result?;
    let recording = recording.take();
    if recording.overflowed {
        return Err(ActionError::TooMuchOutput);
    }
    Ok(recording.outcome)
}

/// The code as the body of a function of its own, as Node wraps a CommonJS module: what it
/// declares stays local, and a syntax error is reported as such before anything runs.
fn module_function<'js>(ctx: &Ctx<'js>, code: &str) -> Result<Function<'js>, ActionError> {
    let constructor: Function = ctx
        .globals()
        .get("Function")
        .map_err(|error| failure(ctx, error))?;
    constructor
        .call(("exports", "module", "require", code))
        .map_err(|error| match failure(ctx, error) {
            ActionError::Thrown(message) => ActionError::Compile(message),
            other => other,
        })
}

fn run<'js>(
    ctx: &Ctx<'js>,
    factory: Function<'js>,
    script: &Script,
    limits: &Limits,
    recording: Rc<RefCell<Recording>>,
) -> Result<(), ActionError> {
    let caught = |error: rquickjs::Error| failure(ctx, error);
    let api: Object = factory
        .call((recorder(ctx, recording, limits.output_bytes)?,))
        .map_err(caught)?;

    let mut event = script.event.clone();
    if let Value_::Object(fields) = &mut event {
        let secrets = script
            .secrets
            .iter()
            .map(|(name, value)| (name.clone(), Value_::String(value.clone())))
            .collect();
        fields.insert("secrets".to_owned(), Value_::Object(secrets));
    }
    let event: Value = ctx.json_parse(event.to_string()).map_err(caught)?;

    let module_function = module_function(ctx, &script.code)?;
    let module = Object::new(ctx.clone()).map_err(caught)?;
    module
        .set("exports", Object::new(ctx.clone()).map_err(caught)?)
        .map_err(caught)?;
    let exports: Value = module.get("exports").map_err(caught)?;
    let require: Value = ctx.globals().get("require").map_err(caught)?;
    module_function
        .call::<_, Value>((exports, module.clone(), require))
        .map_err(caught)?;

    let handler_name = script.trigger.handler();
    let exports: Object = module
        .get("exports")
        .map_err(|_| ActionError::NoHandler(handler_name))?;
    let handler: Function = exports
        .get(handler_name)
        .map_err(|_| ActionError::NoHandler(handler_name))?;
    let returned: Value = handler.call((event, api)).map_err(caught)?;
    if let Some(promise) = returned.as_promise() {
        match promise.finish::<Value>() {
            Ok(_) => {}
            Err(rquickjs::Error::WouldBlock) => return Err(ActionError::NeverSettled),
            Err(error) => return Err(caught(error)),
        }
    }
    Ok(())
}

/// The native function the prelude hands every `api` and `console` call to.
fn recorder<'js>(
    ctx: &Ctx<'js>,
    recording: Rc<RefCell<Recording>>,
    budget: usize,
) -> Result<Function<'js>, ActionError> {
    let used = Cell::new(0usize);
    Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>, kind: String, first: Opt<Value<'js>>, second: Opt<Value<'js>>| {
            let text = |value: &Opt<Value<'js>>| -> rquickjs::Result<String> {
                match &value.0 {
                    Some(value) => value
                        .as_string()
                        .map(|text| text.to_string())
                        .unwrap_or_else(|| Ok(String::new())),
                    None => Ok(String::new()),
                }
            };
            let json = |value: &Opt<Value<'js>>| -> rquickjs::Result<Value_> {
                let Some(value) = &value.0 else {
                    return Ok(Value_::Null);
                };
                match ctx.json_stringify(value.clone())? {
                    Some(text) => {
                        Ok(serde_json::from_str(&text.to_string()?).unwrap_or(Value_::Null))
                    }
                    None => Ok(Value_::Null),
                }
            };
            let mut recording = recording.borrow_mut();
            if recording.overflowed {
                return Ok(());
            }
            let call = match kind.as_str() {
                "accessToken.setCustomClaim" => Some(ApiCall::AccessTokenClaim {
                    name: text(&first)?,
                    value: json(&second)?,
                }),
                "idToken.setCustomClaim" => Some(ApiCall::IdTokenClaim {
                    name: text(&first)?,
                    value: json(&second)?,
                }),
                "accessToken.addScope" => Some(ApiCall::AddScope {
                    scope: text(&first)?,
                }),
                "accessToken.removeScope" => Some(ApiCall::RemoveScope {
                    scope: text(&first)?,
                }),
                "access.deny" => Some(ApiCall::Deny {
                    reason: text(&first)?,
                }),
                "user.setAppMetadata" => Some(ApiCall::AppMetadata {
                    name: text(&first)?,
                    value: json(&second)?,
                }),
                "user.setUserMetadata" => Some(ApiCall::UserMetadata {
                    name: text(&first)?,
                    value: json(&second)?,
                }),
                "multifactor.enable" => Some(ApiCall::Multifactor {
                    provider: text(&first)?,
                }),
                _ => None,
            };
            let size = match &call {
                Some(call) => serde_json::to_string(call).map(|s| s.len()).unwrap_or(0),
                None => 0,
            };
            let line = if kind == "console" {
                Some(LogLine {
                    level: text(&first)?,
                    message: text(&second)?,
                })
            } else {
                None
            };
            let size = size + line.as_ref().map_or(0, |line| line.message.len() + 16);
            used.set(used.get() + size);
            recording.bytes = used.get();
            if recording.bytes > budget {
                recording.overflowed = true;
                return Ok(());
            }
            recording.outcome.calls.extend(call);
            recording.outcome.logs.extend(line);
            Ok::<(), rquickjs::Error>(())
        },
    )
    .map_err(engine)
}

/// What a failed call into QuickJS means: the code's exception, or the engine's own failure.
fn failure(ctx: &Ctx<'_>, error: rquickjs::Error) -> ActionError {
    match error {
        rquickjs::Error::Exception => {
            let thrown = ctx.catch();
            let message = describe(&thrown);
            if message.ends_with(OUT_OF_MEMORY) {
                ActionError::OutOfMemory
            } else {
                ActionError::Thrown(message)
            }
        }
        rquickjs::Error::Allocation => ActionError::OutOfMemory,
        other => engine(other),
    }
}

/// The thrown value as a line: an error's `Name: message`, a string as it is, anything else as
/// JSON-ish text.
fn describe(thrown: &Value<'_>) -> String {
    if let Some(exception) = thrown.as_exception() {
        let name: Option<String> = exception.get("name").ok();
        let message = exception.message().unwrap_or_default();
        return match name {
            Some(name) if !name.is_empty() => format!("{name}: {message}"),
            _ => message,
        };
    }
    if let Some(text) = thrown.as_string() {
        return text.to_string().unwrap_or_default();
    }
    let ctx = thrown.ctx();
    match ctx.json_stringify(thrown.clone()) {
        Ok(Some(text)) => text.to_string().unwrap_or_default(),
        _ => format!("a thrown {}", thrown.type_name()),
    }
}

fn engine(error: rquickjs::Error) -> ActionError {
    ActionError::Engine(error.to_string())
}
