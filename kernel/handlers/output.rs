//! Streams a running cell's output to IOPub as it happens.

use crate::cell::{MimeBundle, Output};
use crate::message::{self as msg, Message};
use crate::sockets::Publisher;
use std::time::{Duration, Instant};

/// Consecutive writes to one stream are joined into one `stream` message,
/// so a cell of a thousand inserts is not a thousand messages; text waits at
/// most this long before it is sent.
const STREAM_DELAY: Duration = Duration::from_millis(50);
/// ...or until this much has gathered.
const STREAM_CHUNK: usize = 64 * 1024;

pub struct IopubOutput<'a> {
    iopub: &'a Publisher,
    parent: &'a Message,
    /// The stream being gathered ("stdout"/"stderr"), its text, and when it began.
    pending: Option<(&'static str, String, Instant)>,
    /// What goes in the `execute_reply`'s payload.
    payload: Vec<serde_json::Value>,
}

impl<'a> IopubOutput<'a> {
    pub fn new(iopub: &'a Publisher, parent: &'a Message) -> Self {
        IopubOutput {
            iopub,
            parent,
            pending: None,
            payload: Vec::new(),
        }
    }

    fn write(&mut self, name: &'static str, text: &str) {
        if let Some((current, _, _)) = &self.pending {
            if *current != name {
                self.send_pending();
            }
        }
        let (_, buffer, since) = self
            .pending
            .get_or_insert_with(|| (name, String::new(), Instant::now()));
        buffer.push_str(text);
        if buffer.len() >= STREAM_CHUNK || since.elapsed() >= STREAM_DELAY {
            self.send_pending();
        }
    }

    fn send_pending(&mut self) {
        if let Some((name, text, _)) = self.pending.take() {
            if !text.is_empty() {
                self.iopub
                    .send(Some(self.parent), "stream", msg::stream(name, &text));
            }
        }
    }

    /// Sends whatever is still gathered; call before the reply. Returns the
    /// reply's payload.
    pub fn finish(mut self) -> Vec<serde_json::Value> {
        self.send_pending();
        self.payload
    }
}

impl Output for IopubOutput<'_> {
    fn stdout(&mut self, text: &str) {
        self.write("stdout", text);
    }

    fn stderr(&mut self, text: &str) {
        self.write("stderr", text);
    }

    fn display(&mut self, data: MimeBundle) {
        self.send_pending();
        self.iopub
            .send(Some(self.parent), "display_data", msg::display_data(data));
    }

    fn display_with_id(&mut self, data: MimeBundle, display_id: &str) {
        self.send_pending();
        self.iopub.send(
            Some(self.parent),
            "display_data",
            msg::display_with_id(data, display_id),
        );
    }

    fn update_display(&mut self, data: MimeBundle, display_id: &str) {
        self.send_pending();
        self.iopub.send(
            Some(self.parent),
            "update_display_data",
            msg::display_with_id(data, display_id),
        );
    }

    fn flush(&mut self) {
        self.send_pending();
    }

    fn ask_exit(&mut self) {
        let ask = msg::ask_exit();
        if !self.payload.contains(&ask) {
            self.payload.push(ask);
        }
    }
}
