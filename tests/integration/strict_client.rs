//! A strict client reads everything the kernel sends. Every message any
//! integration test receives is decoded with runtimed's `jupyter-protocol`
//! (see `common::strict`); this test makes sure that "everything" really is
//! every type the kernel can send (`message::SENT`), each decoded into its
//! own typed variant, not merely tolerated as an unknown message.

use crate::common::{strict, Kernel};
use jupyter_protocol::{CodeMirrorMode, JupyterMessageContent as Typed, ReplyStatus};
use serde_json::json;
use sled_kernel::message::{Message, SENT};
use std::collections::BTreeMap;
use std::time::Duration;

/// Types the strict client does not model: it keeps them as unknown
/// messages, which is how it is meant to read a type it has no struct for.
const UNMODELLED: &[&str] = &["connect_reply"];

#[test]
fn every_message_type_the_kernel_sends_is_read_by_a_strict_client() {
    let mut kernel = Kernel::start();
    let mut seen: Vec<Message> = Vec::new();
    let mut run = |kernel: &Kernel, code: &str| {
        let (reply, iopub) = kernel.execute(code);
        seen.push(reply);
        seen.extend(iopub);
    };

    run(
        &kernel,
        "insert todo:001 \"buy boots\"\nwarn careful\nscan_prefix todo:",
    );
    // A live table: display_data with an id, then update_display_data.
    run(&kernel, "watch_prefix todo:");
    run(&kernel, "insert todo:002 \"lift legs\"");
    // The last line's answer: execute_result.
    run(&kernel, "get todo:001");
    // A failure: the error broadcast and an error execute_reply.
    run(&kernel, "gte todo:001");
    // A cell asking the frontend to close: ask_exit in the payload.
    run(&kernel, "exit");
    let (reply, _) = kernel.execute_with(json!({
        "code": "echo quiet",
        "user_expressions": {"n": "len", "bad": "gte x"},
    }));
    seen.push(reply);

    // An interrupted cell fails, and aborts the execute queued behind it.
    let first = kernel.request(
        &kernel.shell,
        "execute_request",
        json!({"code": "echo waiting\n%sleep 30"}),
    );
    let second = kernel.request(
        &kernel.shell,
        "execute_request",
        json!({"code": "echo never"}),
    );
    seen.extend(kernel.await_iopub(&first, |m| crate::common::printed(m, "waiting")));
    kernel.request(&kernel.control, "interrupt_request", json!({}));
    seen.push(kernel.reply(&kernel.control));
    for id in [&first, &second] {
        let reply = kernel.reply(&kernel.shell);
        assert_eq!(&reply.parent_header["msg_id"], id);
        seen.push(reply);
        seen.extend(kernel.iopub_until_idle(id));
    }
    assert_eq!(
        seen.iter()
            .rev()
            .find(|m| m.header.msg_type == "execute_reply")
            .unwrap()
            .content["status"],
        "aborted"
    );

    let mut ask = |kernel: &Kernel, socket: &zmq::Socket, msg_type: &str, content| {
        kernel.request(socket, msg_type, content);
        seen.push(kernel.reply(socket));
    };
    for socket in [&kernel.shell, &kernel.control] {
        ask(&kernel, socket, "kernel_info_request", json!({}));
        ask(&kernel, socket, "frobnicate_request", json!({}));
    }
    let shell = &kernel.shell;
    ask(
        &kernel,
        shell,
        "complete_request",
        json!({"code": "sca", "cursor_pos": 3}),
    );
    ask(&kernel, shell, "complete_request", json!({"code": 5}));
    ask(
        &kernel,
        shell,
        "inspect_request",
        json!({"code": "get", "cursor_pos": 1}),
    );
    ask(
        &kernel,
        shell,
        "inspect_request",
        json!({"code": "zzz", "cursor_pos": 1}),
    );
    for code in ["get a", "batch", "get \"a", "%%rust\nfn f() {"] {
        ask(&kernel, shell, "is_complete_request", json!({"code": code}));
    }
    ask(&kernel, shell, "is_complete_request", json!({}));
    for content in [
        json!({"hist_access_type": "tail", "n": 3, "output": true}),
        json!({"hist_access_type": "range", "session": 0, "start": 1, "stop": 3}),
        json!({"hist_access_type": "search", "pattern": "get*"}),
        json!({"hist_access_type": 7}),
    ] {
        ask(&kernel, shell, "history_request", content);
    }
    ask(&kernel, shell, "comm_info_request", json!({}));
    ask(&kernel, shell, "connect_request", json!({}));
    let id = kernel.request(
        shell,
        "comm_open",
        json!({"comm_id": "c-1", "target_name": "w", "data": {}}),
    );
    seen.extend(kernel.iopub_until_idle(&id));

    // The welcome of a second subscriber.
    let second = kernel.ctx.socket(zmq::SUB).unwrap();
    second.set_subscribe(b"").unwrap();
    let port = kernel.connection["iopub_port"].as_u64().unwrap();
    second.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
    seen.push(
        kernel
            .recv_on(&second, Duration::from_secs(10))
            .expect("a welcome"),
    );

    // Shutdown: the reply on control, and the same broadcast on IOPub.
    let id = kernel.request(
        &kernel.control,
        "shutdown_request",
        json!({"restart": true}),
    );
    seen.push(kernel.reply(&kernel.control));
    seen.extend(kernel.iopub_until_idle(&id));
    kernel.wait_exit(Duration::from_secs(10));

    // Each message, as the strict client typed it.
    let mut typed: BTreeMap<String, Vec<Typed>> = BTreeMap::new();
    for msg in &seen {
        let decoded = strict(msg);
        typed
            .entry(msg.header.msg_type.clone())
            .or_default()
            .push(decoded.content);
    }
    for msg_type in SENT {
        let got = typed
            .get(*msg_type)
            .unwrap_or_else(|| panic!("the test never saw a {msg_type}; make it send one"));
        if !UNMODELLED.contains(msg_type) {
            for content in got {
                assert!(
                    !matches!(content, Typed::UnknownMessage(_)),
                    "the strict client has a type for {msg_type} but read it as unknown"
                );
            }
        }
    }

    // What JupyterLab and the strict client need of kernel_info_reply.
    for content in &typed["kernel_info_reply"] {
        let Typed::KernelInfoReply(info) = content else {
            panic!("kernel_info_reply read as {content:?}")
        };
        assert_eq!(info.status, ReplyStatus::Ok);
        assert_eq!(info.language_info.name, "sled-kv");
        assert!(matches!(
            &info.language_info.codemirror_mode,
            Some(CodeMirrorMode::CustomMode { name, version: 1 }) if name == "sled-kv"
        ));
    }
    // Error replies to unknown requests are read too, as the unknown types
    // they are, with their error status.
    let unknown = &typed["frobnicate_reply"];
    assert_eq!(unknown.len(), 2);
    for content in unknown {
        let Typed::UnknownMessage(reply) = content else {
            panic!("frobnicate_reply read as {content:?}")
        };
        assert_eq!(reply.content["status"], "error");
    }
}
