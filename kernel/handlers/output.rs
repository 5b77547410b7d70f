//! Streams a running cell's output to IOPub as it happens.

use crate::cell::{MimeBundle, Output};
use crate::message::{DisplayData, Message, Payload, Stream, StreamName, UpdateDisplayData};
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
    /// The stream being gathered, its text, and when it began.
    pending: Option<(StreamName, String, Instant)>,
    /// What goes in the `execute_reply`'s payload.
    payload: Vec<Payload>,
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

    fn write(&mut self, name: StreamName, text: &str) {
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
                self.iopub.send(Some(self.parent), &Stream { name, text });
            }
        }
    }

    /// Sends whatever is still gathered; call before the reply. Returns the
    /// reply's payload.
    pub fn finish(mut self) -> Vec<Payload> {
        self.send_pending();
        self.payload
    }
}

impl Output for IopubOutput<'_> {
    fn stdout(&mut self, text: &str) {
        self.write(StreamName::Stdout, text);
    }

    fn stderr(&mut self, text: &str) {
        self.write(StreamName::Stderr, text);
    }

    fn display(&mut self, data: MimeBundle) {
        self.send_pending();
        self.iopub
            .send(Some(self.parent), &DisplayData::new(data, None));
    }

    fn display_with_id(&mut self, data: MimeBundle, display_id: &str) {
        self.send_pending();
        self.iopub
            .send(Some(self.parent), &DisplayData::new(data, Some(display_id)));
    }

    fn update_display(&mut self, data: MimeBundle, display_id: &str) {
        self.send_pending();
        let update = UpdateDisplayData(DisplayData::new(data, Some(display_id)));
        self.iopub.send(Some(self.parent), &update);
    }

    fn flush(&mut self) {
        self.send_pending();
    }

    fn ask_exit(&mut self) {
        let ask = Payload::AskExit { keepkernel: false };
        if !self.payload.contains(&ask) {
            self.payload.push(ask);
        }
    }
}
