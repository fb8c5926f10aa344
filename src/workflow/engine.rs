//! The script engine: one QuickJS runtime per run, on the run's own thread, with a memory and
//! stack limit and an interrupt check for time and cancellation. The script's tool calls are
//! queued here and started on the async runtime at most `max_parallel` at a time; their
//! answers come back over a channel and settle the script's promises. The thread only sleeps
//! on that channel, so a script costs no CPU while its calls run.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Instant;

use rquickjs::context::EvalOptions;
use rquickjs::{Context, Ctx, Exception, Function, Object, Runtime, Value as JsValue};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{Failure, Host, Limits, Outcome, Report};

const PRELUDE: &str = include_str!("prelude.js");
/// The name scripts' errors are reported under; the script starts on its line 2.
const FILE: &str = "workflow.js";

/// Why the run was stopped from outside the script.
const GO: u8 = 0;
const TIME: u8 = 1;
const CANCEL: u8 = 2;
const CALLS: u8 = 3;
const BYTES: u8 = 4;

enum Msg {
    Done(u32, Outcome),
    Wake,
}

struct Queued {
    id: u32,
    name: String,
    args: String,
}

/// What the script's native functions share with the loop.
#[derive(Default)]
struct Shared {
    queue: VecDeque<Queued>,
    queued_bytes: usize,
    submitted: u32,
    console: Vec<String>,
    console_bytes: usize,
    console_dropped: usize,
    /// The script's end: its value as JSON, or what it threw as JSON.
    finished: Option<Result<String, String>>,
}

pub(super) fn run(
    script: &str,
    limits: &Limits,
    host: Arc<dyn Host>,
    cancel: &CancellationToken,
    handle: &tokio::runtime::Handle,
) -> Report {
    let started = Instant::now();
    let shared = Rc::new(RefCell::new(Shared::default()));
    let stop = Arc::new(AtomicU8::new(GO));
    let outcome = match Engine::new(limits, &stop, cancel, started) {
        Ok(engine) => engine.drive(script, limits, &shared, &stop, host, cancel, handle),
        Err(e) => Err(Failure::Engine(e.to_string())),
    };
    let outcome = outcome.and_then(|()| finish(&shared, limits, script));
    let outcome = match (outcome, stop.load(Ordering::Relaxed)) {
        (Ok(v), _) => Ok(v),
        (Err(_), TIME) => Err(Failure::Timeout(limits.timeout)),
        (Err(_), CANCEL) => Err(Failure::Cancelled),
        (Err(_), CALLS) => Err(Failure::Limit(format!(
            "the workflow made more than {} tool calls (workflow.max_calls); do the work in fewer calls (a tool that takes many items at once, a narrower search) or raise the key",
            limits.max_calls
        ))),
        (Err(_), BYTES) => Err(Failure::Limit(format!(
            "the tools' results to this workflow passed {} bytes (workflow.max_result_bytes); ask the tools for less (a page, a narrower query) or raise the key",
            limits.max_result_bytes
        ))),
        (Err(e), _) => Err(e),
    };
    let s = shared.borrow();
    Report {
        outcome,
        console: s.console.clone(),
        console_dropped: s.console_dropped,
        calls: s.submitted.min(limits.max_calls),
        elapsed: started.elapsed(),
    }
}

/// The script's value, or what it threw, from what the prelude handed over.
fn finish(shared: &Rc<RefCell<Shared>>, limits: &Limits, script: &str) -> Result<Value, Failure> {
    let finished = shared.borrow_mut().finished.take();
    match finished {
        Some(Ok(json)) if json.len() > limits.max_output_bytes => Err(Failure::Limit(format!(
            "the workflow's return value is {} bytes of JSON, over workflow.max_output_bytes ({}); return less (counts, the top items, a summary) or write the rest to a file",
            json.len(),
            limits.max_output_bytes
        ))),
        Some(Ok(json)) => serde_json::from_str(&json)
            .map_err(|e| Failure::Engine(format!("the return value did not read back: {e}"))),
        Some(Err(json)) => Err(thrown(&json, script, limits)),
        None => Err(Failure::Engine(
            "the script ended without an outcome".into(),
        )),
    }
}

/// A thrown value, as the prelude described it: its name, message and line in the script.
fn thrown(json: &str, script: &str, limits: &Limits) -> Failure {
    let v: Value = serde_json::from_str(json).unwrap_or_default();
    let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default();
    limit_hit(text("name"), text("message"), limits).unwrap_or_else(|| Failure::Script {
        name: text("name").to_owned(),
        message: text("message").to_owned(),
        line: line_of(text("stack"), script),
    })
}

/// The engine's own errors for its memory and stack limits, told as the limits they are.
fn limit_hit(name: &str, message: &str, limits: &Limits) -> Option<Failure> {
    let memory = || {
        Failure::Limit(format!(
            "the workflow ran out of memory ({} bytes, workflow.max_memory_bytes); keep less at once (handle items one by one, ask tools for a page) or raise the key",
            limits.max_memory
        ))
    };
    match (name, message) {
        ("InternalError", "out of memory") => Some(memory()),
        // What the engine throws when it cannot even make that error.
        ("null", _) => Some(Failure::Limit(format!(
            "the script stopped with `null` thrown, which is how the engine ends a script that has no memory left ({} bytes, workflow.max_memory_bytes); keep less at once or raise the key (a script that throws null itself should throw an Error)",
            limits.max_memory
        ))),
        ("InternalError" | "RangeError", m)
            if m.contains("stack overflow") || m.contains("call stack size exceeded") =>
        {
            Some(Failure::Limit(format!(
                "the script recursed too deep (workflow.max_stack_bytes, {} bytes); use a loop, or raise the key",
                limits.max_stack
            )))
        }
        _ => None,
    }
}

/// The script line a stack trace points at (the first frame in the script).
fn line_of(stack: &str, script: &str) -> Option<u32> {
    let at = stack.find(&format!("{FILE}:"))? + FILE.len() + 1;
    let digits: String = stack[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let line: u32 = digits.parse().ok()?;
    // The wrapper's first line comes before the script's.
    let lines = script.lines().count().max(1) as u32;
    line.checked_sub(1).filter(|l| (1..=lines).contains(l))
}

struct Engine {
    runtime: Runtime,
    context: Context,
    /// When the run's time is up: the interrupt check and the wait for answers share it.
    deadline: Instant,
}

impl Engine {
    fn new(
        limits: &Limits,
        stop: &Arc<AtomicU8>,
        cancel: &CancellationToken,
        started: Instant,
    ) -> rquickjs::Result<Self> {
        let runtime = Runtime::new()?;
        runtime.set_memory_limit(limits.max_memory);
        runtime.set_max_stack_size(limits.max_stack);
        let deadline = started + limits.timeout;
        let (stop, cancel) = (stop.clone(), cancel.clone());
        // Called by the engine every few thousand steps: an endless loop ends here.
        runtime.set_interrupt_handler(Some(Box::new(move || {
            if stop.load(Ordering::Relaxed) != GO {
                return true;
            }
            let why = if cancel.is_cancelled() {
                CANCEL
            } else if Instant::now() >= deadline {
                TIME
            } else {
                return false;
            };
            let _ = stop.compare_exchange(GO, why, Ordering::Relaxed, Ordering::Relaxed);
            true
        })));
        let context = Context::full(&runtime)?;
        Ok(Self {
            runtime,
            context,
            deadline,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn drive(
        self,
        script: &str,
        limits: &Limits,
        shared: &Rc<RefCell<Shared>>,
        stop: &Arc<AtomicU8>,
        host: Arc<dyn Host>,
        cancel: &CancellationToken,
        handle: &tokio::runtime::Handle,
    ) -> Result<(), Failure> {
        let (tx, rx) = mpsc::channel();
        {
            // Cancellation wakes the loop; the task ends with the run (its token is cancelled
            // then).
            let (cancel, tx) = (cancel.clone(), tx.clone());
            handle.spawn(async move {
                cancel.cancelled().await;
                let _ = tx.send(Msg::Wake);
            });
        }
        let settle = self
            .context
            .with(|ctx| start(&ctx, script, limits, shared, stop))?;
        let mut in_flight = 0usize;
        let mut result_bytes = 0u64;
        loop {
            self.run_jobs(stop)?;
            if shared.borrow().finished.is_some() || stop.load(Ordering::Relaxed) != GO {
                return Ok(());
            }
            if cancel.is_cancelled() {
                stop.store(CANCEL, Ordering::Relaxed);
                return Ok(());
            }
            while in_flight < limits.max_parallel {
                let Some(q) = shared.borrow_mut().queue.pop_front() else {
                    break;
                };
                shared.borrow_mut().queued_bytes -= q.args.len();
                in_flight += 1;
                launch(q, &host, &tx, handle);
            }
            if in_flight == 0 {
                return Err(Failure::Script {
                    name: "Error".into(),
                    message: "the script waits for something that never comes (a promise nothing settles); await tool calls or values only".into(),
                    line: None,
                });
            }
            let now = Instant::now();
            let Some(left) = self
                .deadline
                .checked_duration_since(now)
                .filter(|d| !d.is_zero())
            else {
                stop.store(TIME, Ordering::Relaxed);
                return Ok(());
            };
            let first = match rx.recv_timeout(left) {
                Ok(m) => m,
                Err(_) => {
                    stop.store(TIME, Ordering::Relaxed);
                    return Ok(());
                }
            };
            // Every answer that is already here settles before the script runs on.
            for msg in std::iter::once(first).chain(rx.try_iter()) {
                let Msg::Done(id, outcome) = msg else {
                    continue;
                };
                in_flight -= 1;
                let json = answer_json(outcome);
                result_bytes += json.len() as u64;
                if result_bytes > limits.max_result_bytes {
                    stop.store(BYTES, Ordering::Relaxed);
                    return Ok(());
                }
                self.context.with(|ctx| -> Result<(), Failure> {
                    let settle: Function = settle
                        .clone()
                        .restore(&ctx)
                        .map_err(|e| Failure::Engine(e.to_string()))?;
                    match settle.call::<_, ()>((id, json)) {
                        Ok(()) => Ok(()),
                        Err(e) => Err(caught(&ctx, e, script, limits)),
                    }
                })?;
            }
        }
    }

    /// Runs the promise jobs that are ready (the script's code between its awaits).
    fn run_jobs(&self, stop: &AtomicU8) -> Result<(), Failure> {
        loop {
            match self.runtime.execute_pending_job() {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                // Stopped from outside (time, cancellation, a limit): the caller says which.
                Err(_) if stop.load(Ordering::Relaxed) != GO => return Ok(()),
                Err(e) => {
                    return Err(e.0.with(|ctx| {
                        let v = ctx.catch();
                        Failure::Engine(describe(&v))
                    }));
                }
            }
        }
    }
}

/// Sets up the prelude and starts the script; returns the function that settles its calls.
fn start<'js>(
    ctx: &Ctx<'js>,
    script: &str,
    limits: &Limits,
    shared: &Rc<RefCell<Shared>>,
    stop: &Arc<AtomicU8>,
) -> Result<rquickjs::Persistent<Function<'static>>, Failure> {
    let engine = |e: rquickjs::Error| Failure::Engine(e.to_string());
    let make: Function = ctx.eval(PRELUDE).map_err(engine)?;
    let submit = {
        let (shared, stop, limits) = (shared.clone(), stop.clone(), limits.clone());
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, id: u32, name: String, args: String| -> rquickjs::Result<()> {
                let mut s = shared.borrow_mut();
                s.submitted = s.submitted.saturating_add(1);
                if s.submitted > limits.max_calls {
                    let _ = stop.compare_exchange(GO, CALLS, Ordering::Relaxed, Ordering::Relaxed);
                    return Err(Exception::throw_range(
                        &ctx,
                        "too many tool calls (workflow.max_calls)",
                    ));
                }
                if s.queued_bytes + args.len() > limits.max_memory {
                    return Err(Exception::throw_range(
                        &ctx,
                        "the arguments of the calls waiting to run are over workflow.max_memory_bytes; await some before starting more",
                    ));
                }
                s.queued_bytes += args.len();
                s.queue.push_back(Queued { id, name, args });
                Ok(())
            },
        )
        .map_err(engine)?
    };
    let write = {
        let (shared, cap) = (shared.clone(), limits.max_console_bytes);
        Function::new(ctx.clone(), move |level: String, text: String| {
            let mut s = shared.borrow_mut();
            let line = if level == "log" {
                text
            } else {
                format!("[{level}] {text}")
            };
            if s.console_bytes + line.len() + 1 > cap {
                s.console_dropped += 1;
            } else {
                s.console_bytes += line.len() + 1;
                s.console.push(line);
            }
        })
        .map_err(engine)?
    };
    let done = {
        let shared = shared.clone();
        Function::new(ctx.clone(), move |ok: bool, json: String| {
            let mut s = shared.borrow_mut();
            if s.finished.is_none() {
                s.finished = Some(if ok { Ok(json) } else { Err(json) });
            }
        })
        .map_err(engine)?
    };
    let hooks: Object = make.call((submit, write, done)).map_err(engine)?;
    let settle: Function = hooks.get("settle").map_err(engine)?;
    let watch: Function = hooks.get("watch").map_err(engine)?;
    let mut options = EvalOptions::default();
    options.global = true;
    options.strict = false;
    options.backtrace_barrier = true;
    options.filename = Some(FILE.into());
    let wrapped = format!("(async () => {{\n{script}\n}})()");
    let promise: JsValue = ctx
        .eval_with_options(wrapped, options)
        .map_err(|e| caught(ctx, e, script, limits))?;
    watch.call::<_, ()>((promise,)).map_err(engine)?;
    Ok(rquickjs::Persistent::save(ctx, settle))
}

/// The JSON a call's answer reaches the script as (see the prelude's `settle`).
fn answer_json(outcome: Outcome) -> String {
    let v = match outcome {
        Outcome::Value(v) => serde_json::json!({ "ok": v }),
        Outcome::Failed { message, reason } => {
            serde_json::json!({ "error": message, "reason": reason })
        }
    };
    v.to_string()
}

/// Starts one call on the async runtime; its answer comes back as a message.
fn launch(
    q: Queued,
    host: &Arc<dyn Host>,
    tx: &mpsc::Sender<Msg>,
    handle: &tokio::runtime::Handle,
) {
    let (host, tx) = (host.clone(), tx.clone());
    handle.spawn(async move {
        let outcome = match serde_json::from_str::<Value>(&q.args) {
            Ok(Value::Object(args)) => host.call(q.id, q.name, args).await,
            _ => Outcome::Failed {
                message: "the arguments must be an object of the tool's parameters".into(),
                reason: crate::error::reason::INVALID_ARGUMENTS.into(),
            },
        };
        let _ = tx.send(Msg::Done(q.id, outcome));
    });
}

/// An exception the engine raised outside the script's own promise (a syntax error, running
/// out of memory while settling a call).
fn caught(ctx: &Ctx<'_>, e: rquickjs::Error, script: &str, limits: &Limits) -> Failure {
    if !e.is_exception() {
        return Failure::Engine(e.to_string());
    }
    let v = ctx.catch();
    if v.is_null() {
        return limit_hit("null", "", limits).unwrap_or(Failure::Engine("null".into()));
    }
    match v
        .as_object()
        .and_then(|o| Exception::from_object(o.clone()))
    {
        Some(ex) => {
            let name = ex
                .get::<_, String>("name")
                .unwrap_or_else(|_| "Error".into());
            let message = ex.message().unwrap_or_default();
            limit_hit(&name, &message, limits).unwrap_or_else(|| Failure::Script {
                line: ex.stack().and_then(|s| line_of(&s, script)),
                name,
                message,
            })
        }
        None => Failure::Engine(describe(&v)),
    }
}

fn describe(v: &JsValue<'_>) -> String {
    if let Some(ex) = v
        .as_object()
        .and_then(|o| Exception::from_object(o.clone()))
    {
        return ex.message().unwrap_or_else(|| "an exception".into());
    }
    v.as_string()
        .and_then(|s| s.to_string().ok())
        .unwrap_or_else(|| format!("{v:?}"))
}
