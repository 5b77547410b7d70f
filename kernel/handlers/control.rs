//! The control channel: interrupt, shutdown and kernel_info, answered on
//! their own thread so they work while a cell is running.

use super::shell::{unknown, SHUTDOWN_EVENT};
use crate::cell::Interrupt;
use crate::message::{self as msg, Message};
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
        self.iopub.status(request, "busy");
        let mut shutdown = false;
        let reply = match request.msg_type() {
            "kernel_info_request" => Some(msg::kernel_info_reply()),
            "interrupt_request" => {
                info!("interrupt requested");
                self.interrupt.raise();
                Some(msg::interrupt_reply())
            }
            "shutdown_request" => {
                let restart = request
                    .parse::<msg::ShutdownRequest>()
                    .map(|r| r.restart)
                    .unwrap_or(false);
                info!("shutdown requested (restart: {restart})");
                shutdown = true;
                let content = msg::shutdown_reply(restart);
                // ipykernel also broadcasts it, for frontends that only listen.
                self.iopub
                    .send(Some(request), "shutdown_reply", content.clone());
                Some(content)
            }
            _ => unknown(request),
        };
        super::send_reply(&self.channel, &self.iopub, request, reply);
        self.iopub.status(request, "idle");
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
