//! The control channel: interrupt, shutdown and kernel_info, answered on
//! their own thread so they work while a cell is running.

use super::shell::SHUTDOWN_EVENT;
use crate::cell::Interrupt;
use crate::message::{self as msg, ExecutionState, Message, Reply};
use crate::sockets::{Backoff, Channel, Publisher};
use log::{info, warn};

pub struct Control {
    pub channel: Channel,
    pub iopub: Publisher,
    pub interrupt: Interrupt,
    /// Tells the shell loop to stop.
    pub shell_events: zmq::Socket,
}

impl Control {
    /// Serves until a shutdown request, or until the context is terminated.
    pub fn run(self) {
        let mut backoff = Backoff::new();
        loop {
            match self.channel.recv() {
                Ok(Some(request)) => {
                    backoff.succeeded();
                    if self.dispatch(&request) {
                        return;
                    }
                }
                Ok(None) => {}
                Err(zmq::Error::ETERM) => return,
                Err(zmq::Error::EINTR) => {}
                Err(e) => backoff.log_and_pause("control: receiving", e),
            }
        }
    }

    /// Handles one request; true when it was a shutdown.
    fn dispatch(&self, request: &Message) -> bool {
        self.iopub.status(request, ExecutionState::Busy);
        let session = &self.iopub.session;
        let mut shutdown = false;
        match request.msg_type() {
            "kernel_info_request" => self
                .channel
                .send(&session.reply(request, &msg::kernel_info())),
            "interrupt_request" => {
                info!("interrupt requested");
                self.interrupt.raise();
                let reply = Reply::Ok(msg::Interrupted {});
                self.channel.send(&session.reply(request, &reply));
            }
            "shutdown_request" => {
                let restart = request
                    .parse::<msg::ShutdownRequest>()
                    .map(|r| r.restart)
                    .unwrap_or(false);
                info!("shutdown requested (restart: {restart})");
                shutdown = true;
                let reply = Reply::Ok(msg::Shutdown { restart });
                // ipykernel also broadcasts it, for frontends that only listen.
                self.iopub.send(Some(request), &reply);
                self.channel.send(&session.reply(request, &reply));
            }
            _ => super::answer_unknown(&self.channel, &self.iopub, request),
        }
        self.iopub.status(request, ExecutionState::Idle);
        if shutdown {
            // Stop a running cell, then the shell loop.
            self.interrupt.raise();
            if let Err(e) = self.shell_events.send(SHUTDOWN_EVENT, 0) {
                warn!("control: could not tell the shell to stop: {e}");
            }
        }
        shutdown
    }
}
