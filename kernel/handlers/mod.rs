//! The five channels and what each request does: `shell` (cells, completion,
//! history, …) on the thread that owns the engines, `control` (interrupt,
//! shutdown) on its own thread, and `lifecycle`, which starts them all and
//! stops them in order.

pub mod control;
pub mod history;
pub mod lifecycle;
pub mod output;
pub mod shell;

use crate::sockets::{Channel, Publisher};

/// Sends `content` as the reply to `request`, when its type has one
/// (`foo_request` → `foo_reply`); used by shell and control alike.
fn send_reply(
    channel: &Channel,
    iopub: &Publisher,
    request: &crate::message::Message,
    content: Option<serde_json::Value>,
) {
    if let (Some(content), Some(reply_type)) =
        (content, crate::message::reply_type(request.msg_type()))
    {
        channel.send(&iopub.session.reply(request, &reply_type, content));
    }
}
