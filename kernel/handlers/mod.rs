//! The five channels and what each request does: `shell` (cells, completion,
//! history, …) on the thread that owns the engines, `control` (interrupt,
//! shutdown) on its own thread, and `lifecycle`, which starts them all and
//! stops them in order.

pub mod control;
pub mod history;
pub mod lifecycle;
pub mod output;
pub mod shell;

use crate::message::Message;
use crate::sockets::{Channel, Publisher};
use log::warn;

/// Answers a request type we do not know: with an error reply when its type
/// expects one (`foo_request` → `foo_reply`), else only a log line. Used by
/// shell and control alike.
fn answer_unknown(channel: &Channel, iopub: &Publisher, request: &Message) {
    warn!("unknown message type {:?}", request.msg_type());
    if let Some(reply) = iopub.session.unknown_reply(request) {
        channel.send(&reply);
    }
}
