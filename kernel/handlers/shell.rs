//! The shell channel: one method per request type, run on the thread that
//! owns the engines. Every request is wrapped in `status: busy` / `idle`.

use super::history::History;
use super::output::IopubOutput;
use crate::cell::{CellError, Discard, Interrupt, IsComplete};
use crate::connection::ConnectionInfo;
use crate::engine::Engines;
use crate::message::{self as msg, ErrorContent, Message};
use crate::sockets::{Channel, Publisher};
use log::{info, warn};
use serde_json::{json, Map, Value};
use std::collections::VecDeque;

/// What the shell loop is told on its in-process event socket.
pub const SHUTDOWN_EVENT: &[u8] = b"shutdown";

pub struct Shell {
    channel: Channel,
    /// Wakes the loop for shutdown (from control or a SIGTERM).
    events: zmq::Socket,
    iopub: Publisher,
    /// The KV interpreter and the Rust cells; each request's code goes to
    /// one of them.
    engines: Engines,
    interrupt: Interrupt,
    connection: ConnectionInfo,
    execution_count: u64,
    history: History,
    /// Requests read while aborting after an error, still to be handled.
    pending: VecDeque<Message>,
}

impl Shell {
    pub fn new(
        channel: Channel,
        events: zmq::Socket,
        iopub: Publisher,
        engines: Engines,
        interrupt: Interrupt,
        connection: ConnectionInfo,
        history: History,
    ) -> Self {
        Shell {
            channel,
            events,
            iopub,
            engines,
            interrupt,
            connection,
            execution_count: 0,
            history,
            pending: VecDeque::new(),
        }
    }

    /// Serves requests until told to shut down; returns the engines so the
    /// caller decides when the session database goes away.
    pub fn run(mut self) -> Engines {
        loop {
            if let Some(msg) = self.pending.pop_front() {
                self.dispatch(msg);
                continue;
            }
            let wake_at = self.engines.wake_at();
            let mut items = [
                self.channel.socket.as_poll_item(zmq::POLLIN),
                self.events.as_poll_item(zmq::POLLIN),
            ];
            // Sleep until a request comes, or until the engines want to
            // do something of their own (stop an idle Rust context).
            let timeout = wake_at.map_or(-1, |at| {
                let left = at.saturating_duration_since(std::time::Instant::now());
                i64::try_from(left.as_millis()).unwrap_or(i64::MAX)
            });
            match zmq::poll(&mut items, timeout) {
                Ok(_) => {}
                Err(zmq::Error::EINTR) => continue,
                Err(e) => {
                    warn!("shell: poll failed ({e}); stopping");
                    break;
                }
            }
            let (request, event) = (items[0].is_readable(), items[1].is_readable());
            if wake_at.is_some_and(|at| at <= std::time::Instant::now()) {
                self.engines.on_wake();
            }
            if event {
                if let Ok(bytes) = self.events.recv_bytes(0) {
                    if bytes == SHUTDOWN_EVENT {
                        info!("shell: shutting down");
                        break;
                    }
                }
            }
            if request {
                match self.channel.recv() {
                    Ok(Some(msg)) => self.dispatch(msg),
                    Ok(None) => {}
                    Err(e) => {
                        warn!("shell: receive failed ({e}); stopping");
                        break;
                    }
                }
            }
        }
        self.engines
    }

    fn dispatch(&mut self, request: Message) {
        // An interrupt that came while the kernel was idle must not stop
        // this request. It is forgotten here, before `busy` goes out: an
        // interrupt sent by a frontend that has seen this cell start (its
        // `busy`, its `execute_input`) must stop it, so nothing may clear
        // the flag after that.
        self.interrupt.clear();
        self.iopub.status(&request, "busy");
        let mut to_abort = Vec::new();
        let reply = match request.msg_type() {
            "execute_request" => {
                let (reply, failed) = self.execute(&request);
                if failed {
                    // Exactly the requests that queued up while this cell ran.
                    to_abort = self.take_queued_executes();
                }
                Some(reply)
            }
            "kernel_info_request" => Some(msg::kernel_info_reply()),
            "complete_request" => Some(self.complete(&request)),
            "inspect_request" => Some(self.inspect(&request)),
            "is_complete_request" => Some(self.is_complete(&request)),
            "history_request" => Some(self.history(&request)),
            "comm_info_request" => Some(msg::comm_info_reply()),
            "connect_request" => Some(self.connect()),
            "comm_open" => {
                self.comm_open(&request);
                None
            }
            // No comm is ever opened here, so messages for one have nowhere to go.
            "comm_msg" | "comm_close" => None,
            _ => unknown(&request),
        };
        super::send_reply(&self.channel, &self.iopub, &request, reply);
        self.iopub.status(&request, "idle");
        for queued in to_abort {
            self.iopub.status(&queued, "busy");
            self.channel.send(
                &self
                    .iopub
                    .session
                    .reply(&queued, "execute_reply", msg::aborted()),
            );
            self.iopub.status(&queued, "idle");
        }
    }

    /// Runs a cell. Returns the reply content and whether it failed in a way
    /// that should abort the execute requests queued behind it.
    fn execute(&mut self, request: &Message) -> (Value, bool) {
        let req: msg::ExecuteRequest = match request.parse() {
            Ok(req) => req,
            Err(why) => {
                let error = ErrorContent::new("BadRequest", why);
                return (
                    msg::execute_reply_error(self.execution_count, &error),
                    false,
                );
            }
        };
        if !req.silent && req.store_history {
            self.execution_count += 1;
        }
        let count = self.execution_count;
        if !req.silent {
            self.iopub.send(
                Some(request),
                "execute_input",
                msg::execute_input(&req.code, count),
            );
        }
        let engine = self.engines.engine_for(&req.code);
        let (result, payload) = if req.silent {
            (engine.execute(&mut Discard), Vec::new())
        } else {
            let mut out = IopubOutput::new(&self.iopub, request);
            let result = engine.execute(&mut out);
            (result, out.finish())
        };
        let (reply, output, failed) = match result {
            Ok(value) => {
                let text = value.as_ref().and_then(plain_text);
                if let (Some(data), false) = (value, req.silent) {
                    self.iopub.send(
                        Some(request),
                        "execute_result",
                        msg::execute_result(count, data),
                    );
                }
                let expressions = self.user_expressions(&req.user_expressions);
                (
                    msg::execute_reply_ok(count, expressions, payload),
                    text,
                    false,
                )
            }
            Err(e) => {
                let error = error_content(e);
                if !req.silent {
                    self.iopub.send(Some(request), "error", json!(error));
                }
                (msg::execute_reply_error(count, &error), None, true)
            }
        };
        if req.store_history && !req.silent {
            self.history.record(count, &req.code, output);
        }
        (reply, failed && req.stop_on_error && !req.silent)
    }

    /// Each user expression is a line of the cell language run quietly;
    /// its result bundle (or error) is reported by name.
    fn user_expressions(&mut self, expressions: &Map<String, Value>) -> Map<String, Value> {
        expressions
            .iter()
            .map(|(name, code)| {
                let code = code.as_str().unwrap_or_default();
                let value = match self.engines.kv().execute(code, &mut Discard) {
                    Ok(data) => json!({
                        "status": "ok",
                        "data": data.unwrap_or_default(),
                        "metadata": {},
                    }),
                    Err(e) => error_content(e).reply(),
                };
                (name.clone(), value)
            })
            .collect()
    }

    /// After a failed cell, the execute requests already queued behind it,
    /// to be answered `aborted` as ipykernel does; other requests are kept
    /// to be handled in order.
    fn take_queued_executes(&mut self) -> Vec<Message> {
        let mut aborted = Vec::new();
        while let Some(queued) = self.channel.try_recv() {
            if queued.msg_type() == "execute_request" {
                aborted.push(queued);
            } else {
                self.pending.push_back(queued);
            }
        }
        aborted
    }

    fn complete(&mut self, request: &Message) -> Value {
        match request.parse::<msg::CompleteRequest>() {
            Ok(req) => {
                let c = self.engines.engine_for(&req.code).complete(req.cursor_pos);
                msg::complete_reply(c.matches, c.cursor_start, c.cursor_end)
            }
            Err(why) => ErrorContent::new("BadRequest", why).reply(),
        }
    }

    fn inspect(&mut self, request: &Message) -> Value {
        match request.parse::<msg::InspectRequest>() {
            Ok(req) => msg::inspect_reply(
                self.engines
                    .engine_for(&req.code)
                    .inspect(req.cursor_pos, req.detail_level),
            ),
            Err(why) => ErrorContent::new("BadRequest", why).reply(),
        }
    }

    fn is_complete(&mut self, request: &Message) -> Value {
        match request.parse::<msg::IsCompleteRequest>() {
            Ok(req) => match self.engines.engine_for(&req.code).is_complete() {
                IsComplete::Complete => msg::is_complete_reply("complete", None),
                IsComplete::Incomplete { indent } => {
                    msg::is_complete_reply("incomplete", Some(&indent))
                }
                IsComplete::Invalid => msg::is_complete_reply("invalid", None),
            },
            Err(why) => ErrorContent::new("BadRequest", why).reply(),
        }
    }

    fn history(&self, request: &Message) -> Value {
        let result = request
            .parse::<msg::HistoryRequest>()
            .and_then(|req| self.history.query(&req));
        match result {
            Ok(history) => msg::history_reply(history),
            Err(why) => ErrorContent::new("BadRequest", why).reply(),
        }
    }

    /// The deprecated `connect_request`: the ports we listen on.
    fn connect(&self) -> Value {
        let c = &self.connection;
        json!({
            "status": "ok",
            "shell_port": c.shell_port,
            "iopub_port": c.iopub_port,
            "stdin_port": c.stdin_port,
            "hb_port": c.hb_port,
            "control_port": c.control_port,
        })
    }

    /// We register no comm targets, so every comm is closed straight away,
    /// which tells the frontend not to wait for it.
    fn comm_open(&self, request: &Message) {
        match request.parse::<msg::CommOpen>() {
            Ok(open) => {
                info!(
                    "closing comm {} for unknown target {:?}",
                    open.comm_id, open.target_name
                );
                self.iopub
                    .send(Some(request), "comm_close", msg::comm_close(&open.comm_id));
            }
            Err(why) => warn!("shell: {why}"),
        }
    }
}

/// A request we do not know: an error reply if it expects one, else a log line.
pub fn unknown(request: &Message) -> Option<Value> {
    let kind = request.msg_type();
    warn!("unknown message type {kind:?}");
    msg::reply_type(kind).map(|_| {
        ErrorContent::new(
            "UnknownMessageType",
            format!("sled-kernel does not handle {kind:?} messages"),
        )
        .reply()
    })
}

fn error_content(e: CellError) -> ErrorContent {
    ErrorContent {
        ename: e.ename,
        evalue: e.evalue,
        traceback: e.traceback,
    }
}

fn plain_text(data: &Map<String, Value>) -> Option<String> {
    data.get("text/plain")
        .and_then(Value::as_str)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpreter::Interpreter;
    use crate::message::KernelSession;
    use crate::wire::{self, Signer};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    /// A frontend interrupts a cell once it has seen the cell start. The
    /// shell forgets interrupts that came while it was idle, and must do so
    /// before it announces the cell: here the IOPub socket is held while the
    /// request is sent, so the shell stops at its first broadcast (`busy`);
    /// the old interrupt must be gone by then, and the new one, raised
    /// before `busy` leaves, must stop the cell.
    #[test]
    fn an_interrupt_sent_once_the_cell_is_announced_is_never_lost() {
        let ctx = zmq::Context::new();
        let signer = Signer::new("shell-test");
        let router = ctx.socket(zmq::ROUTER).unwrap();
        router.bind("inproc://shell-test").unwrap();
        let events = ctx.socket(zmq::PULL).unwrap();
        events.bind("inproc://shell-test-events").unwrap();
        let xpub = ctx.socket(zmq::XPUB).unwrap();
        xpub.bind("inproc://shell-test-iopub").unwrap();
        let xpub = Arc::new(Mutex::new(xpub));
        let interrupt = Interrupt::new();
        let session = KernelSession::new("kernel");
        let connection = ConnectionInfo::from_json(
            r#"{"ip": "127.0.0.1", "shell_port": 1, "iopub_port": 2, "stdin_port": 3,
                "control_port": 4, "hb_port": 5, "key": "shell-test"}"#,
        )
        .unwrap();
        let shell = Shell::new(
            Channel::new(router, signer.clone(), "shell"),
            events,
            Publisher::direct(xpub.clone(), signer.clone(), session),
            Engines::new(
                Interpreter::new(interrupt.clone()).unwrap(),
                interrupt.clone(),
            ),
            interrupt.clone(),
            connection,
            History::in_memory(),
        );

        let frontend = {
            let (ctx, interrupt) = (ctx.clone(), interrupt.clone());
            std::thread::spawn(move || -> Result<Message, String> {
                let dealer = ctx.socket(zmq::DEALER).unwrap();
                dealer.connect("inproc://shell-test").unwrap();
                let client = KernelSession::new("frontend");
                // Pressed while nothing ran: it must not stop the next cell.
                interrupt.raise();
                let held = xpub.lock().unwrap();
                let request = client.request("execute_request", json!({"code": "%sleep 30"}));
                dealer
                    .send_multipart(wire::encode(&request, &signer), 0)
                    .unwrap();
                let deadline = Instant::now() + Duration::from_secs(10);
                let mut forgotten = true;
                while interrupt.is_raised() {
                    if Instant::now() > deadline {
                        forgotten = false;
                        break;
                    }
                    std::thread::yield_now();
                }
                // The frontend saw `busy` and pressed Interrupt.
                interrupt.raise();
                drop(held);
                let mut items = [dealer.as_poll_item(zmq::POLLIN)];
                zmq::poll(&mut items, 10_000).unwrap();
                let reply = items[0]
                    .is_readable()
                    .then(|| wire::decode(dealer.recv_multipart(0).unwrap(), &signer).unwrap());
                // Whatever happened, let the shell go.
                interrupt.raise();
                let push = ctx.socket(zmq::PUSH).unwrap();
                push.connect("inproc://shell-test-events").unwrap();
                push.send(SHUTDOWN_EVENT, 0).unwrap();
                if !forgotten {
                    return Err(
                        "the shell announced the cell before it forgot the old interrupt".into(),
                    );
                }
                reply.ok_or_else(|| "no execute_reply within 10 s".to_string())
            })
        };
        drop(shell.run());
        let reply = frontend.join().unwrap().unwrap();
        assert_eq!(reply.content["status"], "error", "{}", reply.content);
        assert_eq!(reply.content["ename"], "Interrupted");
    }
}
