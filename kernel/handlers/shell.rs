//! The shell channel: one method per request type, run on the thread that
//! owns the engines. Every request is wrapped in `status: busy` / `idle`.

use super::history::History;
use super::output::IopubOutput;
use crate::cell::{CellError, Discard, Interrupt, IsComplete};
use crate::connection::ConnectionInfo;
use crate::engine::Engines;
use crate::message::{
    self as msg, Content, ExecuteReply, ExecutionState, IsCompleteReply, Message, Reply,
};
use crate::sockets::{Channel, Publisher};
use log::{info, warn};
use serde_json::{Map, Value};
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
        self.iopub.status(&request, ExecutionState::Busy);
        let mut to_abort = Vec::new();
        match request.msg_type() {
            "execute_request" => {
                let (reply, failed) = self.execute(&request);
                if failed {
                    // Exactly the requests that queued up while this cell ran.
                    to_abort = self.take_queued_executes();
                }
                self.send_reply(&request, &reply);
            }
            "kernel_info_request" => self.send_reply(&request, &msg::kernel_info()),
            "complete_request" => {
                let reply = self.complete(&request);
                self.send_reply(&request, &reply);
            }
            "inspect_request" => {
                let reply = self.inspect(&request);
                self.send_reply(&request, &reply);
            }
            "is_complete_request" => {
                let reply = self.is_complete(&request);
                self.send_reply(&request, &reply);
            }
            "history_request" => self.send_reply(&request, &self.history(&request)),
            "comm_info_request" => {
                let reply = Reply::Ok(msg::CommInfo { comms: Map::new() });
                self.send_reply(&request, &reply);
            }
            "connect_request" => self.send_reply(&request, &self.connect()),
            "comm_open" => self.comm_open(&request),
            // No comm is ever opened here, so messages for one have nowhere to go.
            "comm_msg" | "comm_close" => {}
            _ => super::answer_unknown(&self.channel, &self.iopub, &request),
        }
        self.iopub.status(&request, ExecutionState::Idle);
        for queued in to_abort {
            self.iopub.status(&queued, ExecutionState::Busy);
            self.send_reply(&queued, &ExecuteReply::Aborted {});
            self.iopub.status(&queued, ExecutionState::Idle);
        }
    }

    fn send_reply<C: Content>(&self, request: &Message, content: &C) {
        self.channel
            .send(&self.iopub.session.reply(request, content));
    }

    /// Runs a cell. Returns the reply and whether it failed in a way that
    /// should abort the execute requests queued behind it.
    fn execute(&mut self, request: &Message) -> (ExecuteReply, bool) {
        let req: msg::ExecuteRequest = match request.parse() {
            Ok(req) => req,
            Err(why) => {
                let error = CellError::new("BadRequest", why);
                let execution_count = self.execution_count;
                return (
                    ExecuteReply::Error {
                        execution_count,
                        error,
                    },
                    false,
                );
            }
        };
        if !req.silent && req.store_history {
            self.execution_count += 1;
        }
        let count = self.execution_count;
        if !req.silent {
            let input = msg::ExecuteInput {
                code: req.code.clone(),
                execution_count: count,
            };
            self.iopub.send(Some(request), &input);
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
                    let result = msg::ExecuteResult {
                        execution_count: count,
                        data,
                        metadata: Map::new(),
                    };
                    self.iopub.send(Some(request), &result);
                }
                let reply = ExecuteReply::Ok {
                    execution_count: count,
                    payload,
                    user_expressions: self.user_expressions(&req.user_expressions),
                };
                (reply, text, false)
            }
            Err(error) => {
                if !req.silent {
                    self.iopub.send(Some(request), &error);
                }
                let reply = ExecuteReply::Error {
                    execution_count: count,
                    error,
                };
                (reply, None, true)
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
                    Ok(data) => Reply::Ok(msg::ExpressionValue {
                        data: data.unwrap_or_default(),
                        metadata: Map::new(),
                    }),
                    Err(e) => Reply::error(e),
                };
                let value = serde_json::to_value(value).unwrap_or_default();
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

    fn complete(&mut self, request: &Message) -> Reply<msg::Completions> {
        match request.parse::<msg::CompleteRequest>() {
            Ok(req) => {
                let c = self.engines.engine_for(&req.code).complete(req.cursor_pos);
                Reply::Ok(msg::Completions {
                    matches: c.matches,
                    cursor_start: c.cursor_start,
                    cursor_end: c.cursor_end,
                    metadata: Map::new(),
                })
            }
            Err(why) => Reply::error(CellError::new("BadRequest", why)),
        }
    }

    fn inspect(&mut self, request: &Message) -> Reply<msg::Inspection> {
        match request.parse::<msg::InspectRequest>() {
            Ok(req) => {
                let engine = self.engines.engine_for(&req.code);
                let data = engine.inspect(req.cursor_pos, req.detail_level);
                Reply::Ok(msg::Inspection {
                    found: data.is_some(),
                    data: data.unwrap_or_default(),
                    metadata: Map::new(),
                })
            }
            Err(why) => Reply::error(CellError::new("BadRequest", why)),
        }
    }

    /// `is_complete_reply` has no error status: a request that cannot be
    /// read is answered `unknown`, which leaves the decision to the frontend.
    fn is_complete(&mut self, request: &Message) -> IsCompleteReply {
        match request.parse::<msg::IsCompleteRequest>() {
            Ok(req) => match self.engines.engine_for(&req.code).is_complete() {
                IsComplete::Complete => IsCompleteReply::Complete,
                IsComplete::Incomplete { indent } => IsCompleteReply::Incomplete { indent },
                IsComplete::Invalid => IsCompleteReply::Invalid,
            },
            Err(why) => {
                warn!("shell: {why}");
                IsCompleteReply::Unknown
            }
        }
    }

    fn history(&self, request: &Message) -> Reply<msg::History> {
        let result = request
            .parse::<msg::HistoryRequest>()
            .and_then(|req| self.history.query(&req));
        match result {
            Ok(history) => Reply::Ok(msg::History { history }),
            Err(why) => Reply::error(CellError::new("BadRequest", why)),
        }
    }

    /// The deprecated `connect_request`: the ports we listen on.
    fn connect(&self) -> Reply<msg::Ports> {
        let c = &self.connection;
        Reply::Ok(msg::Ports {
            shell_port: c.shell_port,
            iopub_port: c.iopub_port,
            stdin_port: c.stdin_port,
            hb_port: c.hb_port,
            control_port: c.control_port,
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
                let close = msg::CommClose {
                    comm_id: open.comm_id,
                    data: Map::new(),
                };
                self.iopub.send(Some(request), &close);
            }
            Err(why) => warn!("shell: {why}"),
        }
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
    use crate::message::KernelSession;
    use crate::wire::{self, Signer};
    use serde_json::json;
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
            Engines::new(interrupt.clone()).unwrap(),
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
