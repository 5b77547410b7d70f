//! The kernel as a frontend sees it: the real binary, real zmq sockets.

use crate::common::{entries, printed, stdout, types, Kernel};
use serde_json::json;
use std::time::{Duration, Instant};

#[test]
fn kernel_info_on_shell_and_control_with_busy_idle() {
    let kernel = Kernel::start();
    for socket in [&kernel.shell, &kernel.control] {
        let id = kernel.request(socket, "kernel_info_request", json!({}));
        let reply = kernel.reply(socket);
        assert_eq!(reply.header.msg_type, "kernel_info_reply");
        assert_eq!(reply.parent_header["msg_id"], id);
        let c = &reply.content;
        assert_eq!(c["status"], "ok");
        assert_eq!(c["protocol_version"], "5.5");
        assert_eq!(c["language_info"]["name"], "sled-kv");
        assert_eq!(c["language_info"]["file_extension"], ".sledkv");
        assert!(c["supported_features"]
            .as_array()
            .unwrap()
            .contains(&json!("iopub_welcome")));
        assert!(reply.header.version.as_str() >= "5.3");
        let iopub = kernel.iopub_until_idle(&id);
        assert_eq!(types(&iopub), ["status", "status"]);
        assert_eq!(iopub[0].content["execution_state"], "busy");
        // Our own session id, the same on every message.
        assert_eq!(iopub[0].header.session, reply.header.session);
    }
}

#[test]
fn execute_broadcasts_input_then_output_inside_busy_idle() {
    let kernel = Kernel::start();
    let (reply, iopub) = kernel.execute("echo hello, world");
    assert_eq!(reply.content["status"], "ok");
    assert_eq!(reply.content["execution_count"], 1);
    assert_eq!(
        types(&iopub),
        ["status", "execute_input", "stream", "status"]
    );
    assert_eq!(iopub[1].content["code"], "echo hello, world");
    assert_eq!(iopub[1].content["execution_count"], 1);
    assert_eq!(stdout(&iopub), "hello, world\n");
}

#[test]
fn execution_count_moves_only_for_stored_visible_cells() {
    let kernel = Kernel::start();
    let (r, _) = kernel.execute("echo one");
    assert_eq!(r.content["execution_count"], 1);
    let (r, _) = kernel.execute_with(json!({"code": "echo two", "store_history": false}));
    assert_eq!(r.content["execution_count"], 1);
    let (r, iopub) = kernel.execute_with(json!({"code": "echo three", "silent": true}));
    assert_eq!(r.content["execution_count"], 1);
    // Silent: no execute_input, no output, just busy and idle.
    assert_eq!(types(&iopub), ["status", "status"]);
    let (r, _) = kernel.execute("echo four");
    assert_eq!(r.content["execution_count"], 2);
}

#[test]
fn an_error_is_one_error_message_and_an_error_reply() {
    let kernel = Kernel::start();
    let (reply, iopub) = kernel.execute("frobnicate k");
    assert_eq!(reply.content["status"], "error");
    for field in ["ename", "evalue", "traceback"] {
        assert!(reply.content.get(field).is_some(), "reply lacks {field}");
    }
    assert_eq!(
        types(&iopub),
        ["status", "execute_input", "error", "status"]
    );
    assert_eq!(iopub[2].content["ename"], reply.content["ename"]);
    assert_eq!(iopub[2].content["traceback"], reply.content["traceback"]);
}

#[test]
fn stop_on_error_aborts_the_queued_executes() {
    let kernel = Kernel::start();
    // Queue three cells before the first one has run; once it runs, they
    // are queued behind it. Then make it fail.
    let ids: Vec<String> = [
        "echo waiting\n%sleep 30\nfrobnicate",
        "echo skipped",
        "echo skipped too",
    ]
    .iter()
    .map(|code| kernel.request(&kernel.shell, "execute_request", json!({"code": code})))
    .collect();
    kernel.await_iopub(&ids[0], |m| printed(m, "waiting"));
    kernel.interrupt();
    let statuses: Vec<String> = ids
        .iter()
        .map(|id| {
            let reply = kernel.reply(&kernel.shell);
            assert_eq!(&reply.parent_header["msg_id"], id);
            reply.content["status"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(statuses, ["error", "aborted", "aborted"]);
    // An aborted cell still gets busy/idle, and prints nothing.
    assert_eq!(
        types(&kernel.iopub_until_idle(&ids[2])),
        ["status", "status"]
    );

    // With stop_on_error false, the next cell runs.
    let ids: Vec<String> = ["echo waiting\n%sleep 30\nfrobnicate", "echo runs"]
        .iter()
        .map(|code| {
            kernel.request(
                &kernel.shell,
                "execute_request",
                json!({"code": code, "stop_on_error": false}),
            )
        })
        .collect();
    kernel.await_iopub(&ids[0], |m| printed(m, "waiting"));
    kernel.interrupt();
    assert_eq!(kernel.reply(&kernel.shell).content["status"], "error");
    assert_eq!(kernel.reply(&kernel.shell).content["status"], "ok");
}

#[test]
fn badly_signed_and_malformed_messages_are_dropped_without_reply() {
    let kernel = Kernel::start();
    let forged = {
        let msg = kernel.session.request("kernel_info_request", json!({}));
        sled_kernel::wire::encode(&msg, &sled_kernel::wire::Signer::new("wrong key"))
    };
    let unsigned = {
        let msg = kernel.session.request("kernel_info_request", json!({}));
        sled_kernel::wire::encode(&msg, &sled_kernel::wire::Signer::new(""))
    };
    // Correctly signed, but the content is not JSON.
    let mut bad_json = {
        let msg = kernel.session.request("kernel_info_request", json!({}));
        sled_kernel::wire::encode(&msg, &kernel.signer)
    };
    bad_json[5] = b"{not json".to_vec();
    let parts: Vec<&[u8]> = bad_json[2..6].iter().map(Vec::as_slice).collect();
    bad_json[1] = kernel.signer.sign(&parts).into_bytes();
    let truncated = vec![b"<IDS|MSG>".to_vec(), b"abc".to_vec()];
    let no_delimiter = vec![b"hello".to_vec()];
    for frames in [forged, unsigned, bad_json, truncated, no_delimiter] {
        kernel.shell.send_multipart(frames.clone(), 0).unwrap();
        kernel.control.send_multipart(frames, 0).unwrap();
    }
    assert!(
        kernel
            .recv_on(&kernel.shell, Duration::from_millis(500))
            .is_none(),
        "a dropped message got a reply on shell"
    );
    assert!(kernel
        .recv_on(&kernel.control, Duration::from_millis(100))
        .is_none());
    // Still alive and answering.
    let (reply, _) = kernel.execute("echo still here");
    assert_eq!(reply.content["status"], "ok");
}

#[test]
fn unknown_requests_get_an_error_reply() {
    let kernel = Kernel::start();
    for socket in [&kernel.shell, &kernel.control] {
        kernel.request(socket, "frobnicate_request", json!({}));
        let reply = kernel.reply(socket);
        assert_eq!(reply.header.msg_type, "frobnicate_reply");
        assert_eq!(reply.content["status"], "error");
        assert!(reply.content["evalue"]
            .as_str()
            .unwrap()
            .contains("frobnicate_request"));
    }
}

#[test]
fn comms_for_unknown_targets_are_closed_and_none_are_listed() {
    let kernel = Kernel::start();
    let id = kernel.request(
        &kernel.shell,
        "comm_open",
        json!({"comm_id": "c-1", "target_name": "jupyter.widget", "data": {}}),
    );
    let iopub = kernel.iopub_until_idle(&id);
    assert_eq!(types(&iopub), ["status", "comm_close", "status"]);
    assert_eq!(iopub[1].content["comm_id"], "c-1");
    kernel.request(&kernel.shell, "comm_info_request", json!({}));
    let reply = kernel.reply(&kernel.shell);
    assert_eq!(reply.content, json!({"status": "ok", "comms": {}}));
}

#[test]
fn interrupt_request_stops_a_running_cell() {
    let kernel = Kernel::start();
    let started = Instant::now();
    kernel.execute_until_printed("echo sleeping\n%sleep 30", "sleeping");
    kernel.interrupt();
    let reply = kernel.reply(&kernel.shell);
    assert_eq!(reply.content["status"], "error");
    assert_eq!(reply.content["ename"], "Interrupted");
    // Stopped, not finished: the sleep would have taken 30 s.
    assert!(started.elapsed() < Duration::from_secs(25));
    let (reply, _) = kernel.execute("echo after");
    assert_eq!(reply.content["status"], "ok");
}

#[test]
#[cfg(unix)]
fn sigint_interrupts_a_cell_and_never_kills_the_kernel() {
    let kernel = Kernel::start();
    kernel.signal("INT"); // while idle: must not carry over into the next cell
    let (reply, _) = kernel.execute("echo alive");
    assert_eq!(reply.content["status"], "ok");
    kernel.execute_until_printed("echo sleeping\n%sleep 30", "sleeping");
    kernel.signal("INT");
    assert_eq!(kernel.reply(&kernel.shell).content["ename"], "Interrupted");
    let (reply, _) = kernel.execute("echo alive");
    assert_eq!(reply.content["status"], "ok");
}

#[test]
fn heartbeat_answers_while_a_cell_runs() {
    let kernel = Kernel::start();
    kernel.execute_until_printed("echo napping\n%sleep 1.5", "napping");
    for n in 0..3 {
        let ping = format!("ping {n}");
        kernel.heartbeat.send(ping.as_bytes(), 0).unwrap();
        let mut items = [kernel.heartbeat.as_poll_item(zmq::POLLIN)];
        zmq::poll(&mut items, 1000).unwrap();
        assert!(items[0].is_readable(), "no heartbeat echo while busy");
        assert_eq!(kernel.heartbeat.recv_bytes(0).unwrap(), ping.as_bytes());
    }
    assert_eq!(kernel.reply(&kernel.shell).content["status"], "ok");
}

#[test]
fn shutdown_replies_exits_and_removes_the_session_database() {
    let mut kernel = Kernel::start();
    assert_eq!(
        entries(&kernel.kernel_tmp()).len(),
        1,
        "one session database"
    );
    let reply = kernel.shutdown();
    assert_eq!(reply.content, json!({"status": "ok", "restart": false}));
    assert!(kernel.child.try_wait().unwrap().unwrap().success());
    assert!(entries(&kernel.kernel_tmp()).is_empty());
}

#[test]
fn shutdown_with_restart_says_so_and_is_also_broadcast() {
    let mut kernel = Kernel::start();
    let id = kernel.request(
        &kernel.control,
        "shutdown_request",
        json!({"restart": true}),
    );
    let reply = kernel.reply(&kernel.control);
    assert_eq!(reply.content, json!({"status": "ok", "restart": true}));
    let iopub = kernel.iopub_until_idle(&id);
    assert_eq!(types(&iopub), ["status", "shutdown_reply", "status"]);
    kernel.wait_exit(Duration::from_secs(10));
}

#[test]
fn shutdown_stops_a_running_cell() {
    let mut kernel = Kernel::start();
    kernel.execute_until_printed("echo sleeping\n%sleep 30", "sleeping");
    let started = Instant::now();
    kernel.shutdown();
    // Stopped, not finished: the sleep would have taken 30 s.
    assert!(started.elapsed() < Duration::from_secs(25));
    assert!(entries(&kernel.kernel_tmp()).is_empty());
}

#[test]
#[cfg(unix)]
fn sigterm_shuts_down_cleanly() {
    let mut kernel = Kernel::start();
    kernel.signal("TERM");
    kernel.wait_exit(Duration::from_secs(10));
    assert!(entries(&kernel.kernel_tmp()).is_empty());
}

#[test]
fn every_new_subscriber_is_welcomed() {
    let kernel = Kernel::start();
    let second = kernel.ctx.socket(zmq::SUB).unwrap();
    second.set_subscribe(b"").unwrap();
    let port = kernel.connection["iopub_port"].as_u64().unwrap();
    second.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
    let welcome = kernel
        .recv_on(&second, Duration::from_secs(10))
        .expect("a welcome for the second subscriber");
    assert_eq!(welcome.header.msg_type, "iopub_welcome");
    // Both frontends then see the same broadcasts.
    let (_, iopub) = kernel.execute("echo shared");
    let id = iopub[0].parent_header["msg_id"].clone();
    let mut seen = Vec::new();
    while let Some(msg) = kernel.recv_on(&second, Duration::from_secs(2)) {
        if msg.parent_header["msg_id"] == id {
            seen.push(msg.header.msg_type.clone());
            if seen.len() == iopub.len() {
                break;
            }
        }
    }
    assert_eq!(seen, types(&iopub));
}

/// Windows builds have no ipc: `windows.rs` checks that they say so.
#[test]
#[cfg(unix)]
fn ipc_transport_works() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("kernel").display().to_string();
    let mut kernel = Kernel::start_with(|c| {
        c["transport"] = json!("ipc");
        c["ip"] = json!(base);
    });
    let (reply, _) = kernel.execute("echo over ipc");
    assert_eq!(reply.content["status"], "ok");
    kernel.shutdown();
}

#[test]
fn an_empty_key_means_unsigned_messages() {
    let kernel = Kernel::start_with(|c| c["key"] = json!(""));
    let (reply, _) = kernel.execute("echo unsigned");
    assert_eq!(reply.content["status"], "ok");
}

#[test]
fn a_bad_connection_file_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.json");
    std::fs::write(
        &file,
        json!({"transport": "tcp", "ip": "127.0.0.1", "key": "k",
               "signature_scheme": "hmac-md5", "shell_port": 1, "iopub_port": 2,
               "stdin_port": 3, "control_port": 4, "hb_port": 5})
        .to_string(),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sled-kernel"))
        .args(["kernel", "--connection-file"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("hmac-md5"), "{stderr}");
}

#[test]
fn is_complete_complete_and_inspect_reply_on_shell() {
    let kernel = Kernel::start();
    kernel.request(
        &kernel.shell,
        "is_complete_request",
        json!({"code": "get k"}),
    );
    assert_eq!(kernel.reply(&kernel.shell).content["status"], "complete");
    kernel.request(
        &kernel.shell,
        "complete_request",
        json!({"code": "get", "cursor_pos": 3}),
    );
    let reply = kernel.reply(&kernel.shell);
    assert_eq!(reply.content["status"], "ok");
    assert_eq!(reply.content["cursor_end"], 3);
    kernel.request(
        &kernel.shell,
        "inspect_request",
        json!({"code": "get", "cursor_pos": 1, "detail_level": 0}),
    );
    let reply = kernel.reply(&kernel.shell);
    assert_eq!(reply.content["status"], "ok");
    // A request with a field of the wrong type is refused with a reason.
    kernel.request(&kernel.shell, "complete_request", json!({"code": 3}));
    let reply = kernel.reply(&kernel.shell);
    assert_eq!(reply.content["status"], "error");
}

#[test]
fn history_returns_what_ran() {
    let kernel = Kernel::start();
    kernel.execute("echo first");
    kernel.execute("echo second");
    kernel.request(
        &kernel.shell,
        "history_request",
        json!({"hist_access_type": "tail", "n": 2, "output": false, "raw": true}),
    );
    let reply = kernel.reply(&kernel.shell);
    assert_eq!(
        reply.content["history"],
        json!([[1, 1, "echo first"], [1, 2, "echo second"]])
    );
}

#[test]
fn history_survives_a_restart_in_a_new_session() {
    let data = tempfile::tempdir().unwrap();
    let mut first = Kernel::start_with_data_dir(data.path());
    first.execute("echo from the first kernel");
    first.shutdown();
    let second = Kernel::start_with_data_dir(data.path());
    second.execute("echo from the second kernel");
    second.request(
        &second.shell,
        "history_request",
        json!({"hist_access_type": "tail", "n": 2, "output": false, "raw": true}),
    );
    assert_eq!(
        second.reply(&second.shell).content["history"],
        json!([
            [1, 1, "echo from the first kernel"],
            [2, 1, "echo from the second kernel"]
        ])
    );
}

#[test]
fn the_seed_lesson_prints_what_the_tutorial_printed() {
    let kernel = Kernel::start();
    let (_, out) = kernel.execute("%reset");
    assert_eq!(stdout(&out), "opened fresh database\n");
    let (_, out) = kernel.execute(
        "echo insert 4 keys:\n\
         insert todo:001 \"buy boots\"\n\
         insert todo:002 \"lift legs\"\n\
         insert todo:003 \"call mom\"\n\
         insert note:042 \"GTA loads slow\"\n\
         flush",
    );
    let printed = stdout(&out);
    assert!(
        printed.starts_with(
            "insert 4 keys:\n\
         put todo:001 = \"buy boots\"\n\
         put todo:002 = \"lift legs\"\n\
         put todo:003 = \"call mom\"\n\
         put note:042 = \"GTA loads slow\"\n\
         flushed "
        ),
        "{printed}"
    );
    let result = |msgs: &[sled_kernel::message::Message]| {
        let found: Vec<_> = msgs
            .iter()
            .filter(|m| m.header.msg_type == "execute_result")
            .collect();
        assert_eq!(found.len(), 1, "one Out[n] per cell: {:?}", types(msgs));
        found[0].content["data"]["text/plain"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (_, out) = kernel.execute("get todo:002");
    assert_eq!(result(&out), "get todo:002 -> \"lift legs\"");
    let (_, out) = kernel.execute("scan_prefix todo:");
    assert_eq!(
        result(&out),
        "scan prefix \"todo:\":\n  todo:001 = \"buy boots\"\n  todo:002 = \"lift legs\"\n  todo:003 = \"call mom\""
    );
    let data = &out
        .iter()
        .find(|m| m.header.msg_type == "execute_result")
        .unwrap()
        .content["data"];
    assert!(data["text/html"].as_str().unwrap().contains("<table"));
    assert_eq!(
        data["application/vnd.sled-kv+json"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let (_, out) = kernel.execute("remove todo:001\nflush");
    assert!(stdout(&out).starts_with("remove todo:001 (was \"buy boots\")\nflushed "));
    let (_, out) = kernel.execute("echo final keys (sorted):\nkeys");
    assert_eq!(stdout(&out), "final keys (sorted):\n");
    assert_eq!(result(&out), "  note:042\n  todo:002\n  todo:003");
}

#[test]
fn rows_before_the_last_line_are_display_data() {
    let kernel = Kernel::start();
    let (_, out) = kernel.execute("insert a 1\nkeys\necho done");
    assert_eq!(
        types(&out),
        [
            "status",
            "execute_input",
            "stream",
            "display_data",
            "stream",
            "status"
        ]
    );
    let data = &out[3].content["data"];
    for mime in ["text/plain", "text/html", "application/vnd.sled-kv+json"] {
        assert!(data.get(mime).is_some(), "display_data lacks {mime}");
    }
}

#[test]
fn a_malformed_message_in_the_queue_does_not_stop_the_abort() {
    let kernel = Kernel::start();
    let failing = kernel.request(
        &kernel.shell,
        "execute_request",
        json!({"code": "echo waiting\n%sleep 30\nfrobnicate"}),
    );
    kernel
        .shell
        .send_multipart(vec![b"<IDS|MSG>".to_vec(), b"junk".to_vec()], 0)
        .unwrap();
    let queued = kernel.request(&kernel.shell, "execute_request", json!({"code": "echo no"}));
    kernel.await_iopub(&failing, |m| printed(m, "waiting"));
    kernel.interrupt();
    let first = kernel.reply(&kernel.shell);
    assert_eq!(first.parent_header["msg_id"], failing);
    assert_eq!(first.content["status"], "error");
    let second = kernel.reply(&kernel.shell);
    assert_eq!(second.parent_header["msg_id"], queued);
    assert_eq!(second.content["status"], "aborted");
}

#[test]
fn exit_asks_the_frontend_to_close_as_ipykernel_does_and_the_kernel_goes_on() {
    let kernel = Kernel::start();
    for code in ["exit", "quit"] {
        let (reply, iopub) = kernel.execute(code);
        assert_eq!(reply.content["status"], "ok");
        assert_eq!(
            reply.content["payload"],
            json!([{"source": "ask_exit", "keepkernel": false}]),
            "{code}"
        );
        assert_eq!(types(&iopub), ["status", "execute_input", "status"]);
    }
    // Other cells ask nothing, and the kernel is still there: it is the
    // frontend that closes (and, from a console, shuts it down).
    let (reply, _) = kernel.execute("echo still here");
    assert_eq!(reply.content["payload"], json!([]));
    // Silent cells have no reply payload to carry it.
    let (reply, _) = kernel.execute_with(json!({"code": "exit", "silent": true}));
    assert_eq!(reply.content["payload"], json!([]));
}
