//! The shell channel: one method per request type, run on the thread that
//! owns the interpreter. Every request is wrapped in `status: busy` / `idle`.

use super::history::History;
use super::output::IopubOutput;
use crate::connection::ConnectionInfo;
use crate::interpreter::{
    CellError, Discard, Interpreter, Interrupt, IsComplete, MimeBundle, Output,
};
use crate::message::{self as msg, ErrorContent, Message};
use crate::rust_cells::{Completeness, Magic, RustCells};
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
    interpreter: Interpreter,
    /// `%%rust` cells; hands the database back and forth with `interpreter`.
    rust: RustCells,
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
        interpreter: Interpreter,
        interrupt: Interrupt,
        connection: ConnectionInfo,
        history: History,
    ) -> Self {
        Shell {
            channel,
            events,
            iopub,
            interpreter,
            rust: RustCells::new(),
            interrupt,
            connection,
            execution_count: 0,
            history,
            pending: VecDeque::new(),
        }
    }

    /// Serves requests until told to shut down; returns the interpreter so
    /// the caller decides when the session database goes away.
    pub fn run(mut self) -> Interpreter {
        loop {
            if let Some(msg) = self.pending.pop_front() {
                self.dispatch(msg);
                continue;
            }
            let mut items = [
                self.channel.socket.as_poll_item(zmq::POLLIN),
                self.events.as_poll_item(zmq::POLLIN),
            ];
            match zmq::poll(&mut items, -1) {
                Ok(_) => {}
                Err(zmq::Error::EINTR) => continue,
                Err(e) => {
                    warn!("shell: poll failed ({e}); stopping");
                    break;
                }
            }
            let (request, event) = (items[0].is_readable(), items[1].is_readable());
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
        self.interpreter
    }

    fn dispatch(&mut self, request: Message) {
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
        // An interrupt that arrived while idle must not stop this cell.
        self.interrupt.clear();
        let (kv, rust, interrupt) = (&mut self.interpreter, &mut self.rust, &self.interrupt);
        let result = if req.silent {
            run_cell(kv, rust, interrupt, &req.code, &mut Discard)
        } else {
            let mut out = IopubOutput::new(&self.iopub, request);
            let result = run_cell(kv, rust, interrupt, &req.code, &mut out);
            out.finish();
            result
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
                (msg::execute_reply_ok(count, expressions), text, false)
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
                let value = match self.interpreter.execute(code, &mut Discard) {
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
            Ok(req) => match Magic::parse(&req.code) {
                Some(Magic::Cell(code)) => {
                    let c = self.rust.complete(code, &req.code, req.cursor_pos);
                    msg::complete_reply(c.matches, c.cursor_start, c.cursor_end)
                }
                _ => {
                    let c = self.interpreter.complete(&req.code, req.cursor_pos);
                    msg::complete_reply(c.matches, c.cursor_start, c.cursor_end)
                }
            },
            Err(why) => ErrorContent::new("BadRequest", why).reply(),
        }
    }

    fn inspect(&mut self, request: &Message) -> Value {
        match request.parse::<msg::InspectRequest>() {
            Ok(req) => msg::inspect_reply(match Magic::parse(&req.code) {
                Some(Magic::Cell(code)) => self.rust.inspect(code, &req.code, req.cursor_pos),
                _ => self
                    .interpreter
                    .inspect(&req.code, req.cursor_pos, req.detail_level),
            }),
            Err(why) => ErrorContent::new("BadRequest", why).reply(),
        }
    }

    fn is_complete(&self, request: &Message) -> Value {
        match request.parse::<msg::IsCompleteRequest>() {
            Ok(req) => match Magic::parse(&req.code) {
                Some(Magic::Cell(code)) => match RustCells::is_complete(code) {
                    Completeness::Complete => msg::is_complete_reply("complete", None),
                    Completeness::Incomplete { indent } => {
                        msg::is_complete_reply("incomplete", Some(&indent))
                    }
                    Completeness::Invalid => msg::is_complete_reply("invalid", None),
                },
                Some(Magic::Invalid(_)) => msg::is_complete_reply("invalid", None),
                Some(Magic::Reset | Magic::Deps | Magic::Cache(_) | Magic::Start) => {
                    msg::is_complete_reply("complete", None)
                }
                None => match self.interpreter.is_complete(&req.code) {
                    IsComplete::Complete => msg::is_complete_reply("complete", None),
                    IsComplete::Incomplete { indent } => {
                        msg::is_complete_reply("incomplete", Some(&indent))
                    }
                    IsComplete::Invalid => msg::is_complete_reply("invalid", None),
                },
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

/// A `%%rust` / `%rust ...` cell goes to the Rust side, anything else to
/// the KV interpreter.
fn run_cell(
    kv: &mut Interpreter,
    rust: &mut RustCells,
    interrupt: &Interrupt,
    code: &str,
    out: &mut dyn Output,
) -> Result<Option<MimeBundle>, CellError> {
    match Magic::parse(code) {
        Some(magic) => rust.run(magic, kv, out, interrupt),
        None => kv.execute(code, out),
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
