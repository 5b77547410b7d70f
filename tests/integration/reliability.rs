//! Faults a classroom will produce: floods, oversized frames, frontends
//! that come and go. The kernel must answer what is valid, drop what is
//! not, and keep its heartbeat.

use crate::common::{types, Kernel};
use serde_json::json;
use sled_kernel::message::{KernelSession, Message};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Pings the heartbeat from its own socket until told to stop; returns the
/// longest wait for an echo.
fn watch_heartbeat(kernel: &Kernel, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Duration> {
    let port = kernel.connection["hb_port"].as_u64().unwrap();
    let ctx = kernel.ctx.clone();
    std::thread::spawn(move || {
        let hb = ctx.socket(zmq::REQ).unwrap();
        hb.set_linger(0).unwrap();
        hb.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
        let mut worst = Duration::ZERO;
        while !stop.load(Ordering::SeqCst) {
            let sent = Instant::now();
            hb.send("ping", 0).unwrap();
            let mut items = [hb.as_poll_item(zmq::POLLIN)];
            zmq::poll(&mut items, 5000).unwrap();
            assert!(items[0].is_readable(), "heartbeat silent for 5 s");
            hb.recv_bytes(0).unwrap();
            worst = worst.max(sent.elapsed());
            std::thread::sleep(Duration::from_millis(20));
        }
        worst
    })
}

#[test]
fn a_flood_of_requests_gets_every_reply_and_the_heartbeat_keeps_beating() {
    let kernel = Kernel::start();
    let stop = Arc::new(AtomicBool::new(false));
    let heartbeat = watch_heartbeat(&kernel, stop.clone());
    const N: usize = 10_000;
    let mut ids = std::collections::HashSet::new();
    for n in 0..N {
        let (kind, content) = match n % 3 {
            0 => ("execute_request", json!({"code": format!("echo {n}")})),
            1 => ("kernel_info_request", json!({})),
            _ => ("is_complete_request", json!({"code": "get k"})),
        };
        ids.insert(kernel.request(&kernel.shell, kind, content));
    }
    for _ in 0..N {
        let reply = kernel
            .recv_on(&kernel.shell, Duration::from_secs(30))
            .expect("every request answered");
        assert!(ids.remove(reply.parent_header["msg_id"].as_str().unwrap()));
        assert_ne!(reply.content["status"], "error");
    }
    assert!(ids.is_empty());
    stop.store(true, Ordering::SeqCst);
    let worst = heartbeat.join().unwrap();
    println!("slowest heartbeat during the flood: {worst:?}");
}

#[test]
fn a_256_mb_frame_is_dropped_and_the_kernel_goes_on() {
    let kernel = Kernel::start();
    let msg = kernel
        .session
        .request("execute_request", json!({"code": "echo x"}));
    let mut frames = sled_kernel::wire::encode(&msg, &kernel.signer);
    frames.push(vec![0u8; 256 * 1024 * 1024]);
    kernel.shell.send_multipart(frames, 0).unwrap();
    assert!(
        kernel
            .recv_on(&kernel.shell, Duration::from_secs(2))
            .is_none(),
        "an oversized message was answered"
    );
    let (reply, iopub) = kernel.execute("echo still fine");
    assert_eq!(reply.content["status"], "ok");
    assert_eq!(
        types(&iopub),
        ["status", "execute_input", "stream", "status"]
    );
}

#[test]
fn unknown_message_types_and_wrong_content_never_stop_the_kernel() {
    let kernel = Kernel::start();
    for (kind, content) in [
        ("execute_request", json!({"no_code": true})),
        ("execute_request", json!({"code": ["not", "a", "string"]})),
        ("history_request", json!({"hist_access_type": "sideways"})),
        ("inspect_request", json!({"code": "get", "cursor_pos": -1})),
        ("shutdown_request_but_not_really", json!({})),
        ("comm_msg", json!({"comm_id": "nobody", "data": {}})),
    ] {
        kernel.request(&kernel.shell, kind, content);
    }
    let mut errors = 0;
    while let Some(reply) = kernel.recv_on(&kernel.shell, Duration::from_millis(500)) {
        assert_eq!(reply.content["status"], "error", "{:?}", reply.content);
        assert!(reply.content["evalue"].as_str().unwrap().len() > 10);
        errors += 1;
    }
    assert_eq!(errors, 4, "one error reply per malformed *_request");
    let (reply, _) = kernel.execute("echo alive");
    assert_eq!(reply.content["status"], "ok");
}

/// A new IOPub subscriber, once the kernel has welcomed it: nothing
/// broadcast after this returns can be missed.
fn subscriber(kernel: &Kernel) -> zmq::Socket {
    let socket = kernel.ctx.socket(zmq::SUB).unwrap();
    socket.set_linger(0).unwrap();
    socket.set_subscribe(b"").unwrap();
    socket.connect(&iopub_endpoint(kernel)).unwrap();
    await_welcome(kernel, &socket);
    socket
}

fn iopub_endpoint(kernel: &Kernel) -> String {
    let ip = kernel.connection["ip"].as_str().unwrap();
    let port = kernel.connection["iopub_port"].as_u64().unwrap();
    format!("tcp://{ip}:{port}")
}

/// Reads `socket` up to its `iopub_welcome`; returns what came before it.
fn await_welcome(kernel: &Kernel, socket: &zmq::Socket) -> Vec<Message> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut before = Vec::new();
    while Instant::now() < deadline {
        if let Some(msg) = kernel.recv_on(socket, Duration::from_millis(50)) {
            if msg.header.msg_type == "iopub_welcome" {
                return before;
            }
            before.push(msg);
        }
    }
    panic!("no iopub_welcome within 10 s");
}

/// What `socket` receives for the cells `ids`, until each has gone idle.
fn broadcasts_for(kernel: &Kernel, socket: &zmq::Socket, ids: &[&str]) -> Vec<Message> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut idle = 0;
    let mut got = Vec::new();
    while idle < ids.len() {
        assert!(
            Instant::now() < deadline,
            "not idle within 15 s: {:?}",
            types(&got)
        );
        let Some(msg) = kernel.recv_on(socket, Duration::from_millis(100)) else {
            continue;
        };
        if !ids.iter().any(|id| msg.parent_header["msg_id"] == *id) {
            continue;
        }
        idle += usize::from(
            msg.header.msg_type == "status" && msg.content["execution_state"] == "idle",
        );
        got.push(msg);
    }
    got
}

fn msg_ids(msgs: &[Message]) -> Vec<&str> {
    msgs.iter().map(|m| m.header.msg_id.as_str()).collect()
}

#[test]
fn a_notebook_and_a_console_both_see_every_broadcast_of_each_others_cells() {
    let kernel = Kernel::start();
    // The notebook is the kernel's own frontend; the console connects a
    // shell socket and an IOPub subscriber of its own, with its own session.
    let console_shell = kernel.ctx.socket(zmq::DEALER).unwrap();
    console_shell.set_linger(0).unwrap();
    let port = kernel.connection["shell_port"].as_u64().unwrap();
    console_shell
        .connect(&format!("tcp://127.0.0.1:{port}"))
        .unwrap();
    let console_iopub = subscriber(&kernel);
    let console = KernelSession::new("console");

    let from_notebook = kernel.request(
        &kernel.shell,
        "execute_request",
        json!({"code": "insert a 1\nscan_prefix a\nwarn careful\nget a"}),
    );
    let msg = console.request(
        "execute_request",
        // Its mistake must not abort the notebook's cell if it runs first.
        json!({"code": "echo from the console\ngte a", "stop_on_error": false}),
    );
    let from_console = msg.header.msg_id.clone();
    kernel.send(&console_shell, &msg);

    let ids = [from_notebook.as_str(), from_console.as_str()];
    let notebook_saw = broadcasts_for(&kernel, &kernel.iopub, &ids);
    let console_saw = broadcasts_for(&kernel, &console_iopub, &ids);
    assert_eq!(
        msg_ids(&notebook_saw),
        msg_ids(&console_saw),
        "the same messages, in the same order"
    );
    let of = |id: &str| -> Vec<&str> {
        notebook_saw
            .iter()
            .filter(|m| m.parent_header["msg_id"] == id)
            .map(|m| m.header.msg_type.as_str())
            .collect()
    };
    assert_eq!(
        of(&from_notebook),
        [
            "status",
            "execute_input",
            "stream",
            "display_data",
            "stream",
            "execute_result",
            "status"
        ]
    );
    assert_eq!(
        of(&from_console),
        ["status", "execute_input", "stream", "error", "status"]
    );
    // The console's cell is broadcast under its own session.
    let input = notebook_saw
        .iter()
        .find(|m| {
            m.parent_header["msg_id"] == from_console.as_str()
                && m.header.msg_type == "execute_input"
        })
        .unwrap();
    assert_eq!(input.content["code"], "echo from the console\ngte a");
    assert_eq!(input.parent_header["session"], console.id.as_str());

    // Each reply goes only to the client that asked.
    let reply = kernel.reply(&kernel.shell);
    assert_eq!(reply.parent_header["msg_id"], from_notebook.as_str());
    assert_eq!(reply.content["status"], "ok");
    let reply = kernel.reply(&console_shell);
    assert_eq!(reply.parent_header["msg_id"], from_console.as_str());
    assert_eq!(reply.content["ename"], "UnknownCommand");
    assert!(kernel
        .recv_on(&kernel.shell, Duration::from_millis(200))
        .is_none());
    assert!(kernel
        .recv_on(&console_shell, Duration::from_millis(200))
        .is_none());
}

#[test]
fn a_frontend_that_disconnects_mid_cell_and_reconnects_gets_the_rest() {
    let kernel = Kernel::start();
    let id = kernel.request(
        &kernel.shell,
        "execute_request",
        json!({"code": "echo before the nap\n%sleep 60\necho never"}),
    );
    // The notebook sees the cell start and print, then loses its
    // connection while the cell sleeps.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut first_part = Vec::new();
    while !first_part.contains(&"stream".to_string()) {
        assert!(Instant::now() < deadline, "no output: {first_part:?}");
        if let Some(msg) = kernel.iopub_next(Duration::from_millis(100)) {
            if msg.parent_header["msg_id"] == id.as_str() {
                assert_ne!(msg.content["text"], "never\n");
                first_part.push(msg.header.msg_type);
            }
        }
    }
    assert_eq!(first_part, ["status", "execute_input", "stream"]);
    let endpoint = iopub_endpoint(&kernel);
    kernel.iopub.disconnect(&endpoint).unwrap();

    // It comes back on the same socket, and a second window opens a new
    // one; both are welcomed while the cell still runs.
    kernel.iopub.connect(&endpoint).unwrap();
    let queued = await_welcome(&kernel, &kernel.iopub);
    assert!(
        queued
            .iter()
            .all(|m| m.parent_header["msg_id"] != id.as_str()),
        "nothing of the cell was sent while it was away: {:?}",
        types(&queued)
    );
    let second = subscriber(&kernel);

    // The rest of the cell, which the interrupt ends, reaches both.
    kernel.request(&kernel.control, "interrupt_request", json!({}));
    assert_eq!(kernel.reply(&kernel.control).content["status"], "ok");
    for socket in [&kernel.iopub, &second] {
        let rest = broadcasts_for(&kernel, socket, &[&id]);
        assert_eq!(types(&rest), ["error", "status"]);
        assert_eq!(rest[0].content["ename"], "Interrupted");
        assert_eq!(rest[1].content["execution_state"], "idle");
    }
    let reply = kernel.reply(&kernel.shell);
    assert_eq!(reply.parent_header["msg_id"], id.as_str());
    assert_eq!(reply.content["ename"], "Interrupted");
    let (reply, _) = kernel.execute("echo back to normal");
    assert_eq!(reply.content["status"], "ok");
}

#[test]
fn the_sockets_listen_only_on_the_address_in_the_connection_file() {
    // 127.0.0.2 is loopback too, but not 127.0.0.1: a kernel that bound
    // every interface (0.0.0.0) would answer on both.
    let kernel = Kernel::start_with(|c| c["ip"] = json!("127.0.0.2"));
    let (reply, _) = kernel.execute("echo on 127.0.0.2");
    assert_eq!(reply.content["status"], "ok");
    for name in [
        "shell_port",
        "iopub_port",
        "stdin_port",
        "control_port",
        "hb_port",
    ] {
        let port = kernel.connection[name].as_u64().unwrap() as u16;
        let at = |ip: [u8; 4]| {
            std::net::TcpStream::connect_timeout(&(ip, port).into(), Duration::from_secs(5))
        };
        assert!(at([127, 0, 0, 2]).is_ok(), "{name} {port} is not listening");
        let other = at([127, 0, 0, 1]);
        assert_eq!(
            other.as_ref().map_err(std::io::Error::kind).err(),
            Some(std::io::ErrorKind::ConnectionRefused),
            "{name} {port} answers on 127.0.0.1: {other:?}"
        );
    }
    // Raw connections that never speak zmq do not disturb it.
    let (reply, _) = kernel.execute("echo still fine");
    assert_eq!(reply.content["status"], "ok");
}

#[test]
fn an_unsupported_signature_scheme_stops_the_kernel_before_it_listens() {
    for scheme in ["hmac-sha512", "HMAC-SHA256", ""] {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let (file, _) = crate::common::connection_file(dir.path(), |c| {
            c["signature_scheme"] = json!(scheme);
        });
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sled-kernel"))
            .args(["kernel", "--connection-file"])
            .arg(&file)
            .env("TMPDIR", &tmp)
            .env("JUPYTER_DATA_DIR", dir.path().join("data"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{scheme:?}: the kernel kept running");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert!(!status.success(), "{scheme:?}");
        assert!(
            stderr.contains(&format!("signature_scheme {scheme:?} is not supported")),
            "{scheme:?}: {stderr}"
        );
        assert!(
            stderr.contains("set \"signature_scheme\": \"hmac-sha256\" in the connection file"),
            "{scheme:?}: says how to fix it: {stderr}"
        );
        assert!(
            crate::common::entries(&tmp).is_empty(),
            "{scheme:?}: no session database"
        );
    }
}

/// On Unix; `windows.rs` has the Windows form (a handle, not a pid).
#[test]
#[cfg(unix)]
fn a_kernel_whose_frontend_died_shuts_down_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let kernel_tmp = dir.path().join("tmp");
    std::fs::create_dir(&kernel_tmp).unwrap();
    let (file, connection) = crate::common::connection_file(dir.path(), |_| {});
    // A parent shell starts the kernel as jupyter_client would (with
    // JPY_PARENT_PID), prints its pid, and dies when told to: once the
    // kernel answers its heartbeat, it knows its parent.
    let go = dir.path().join("go");
    let mut parent = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "JPY_PARENT_PID=$$ TMPDIR='{}' JUPYTER_DATA_DIR='{}' '{}' kernel --connection-file '{}' >/dev/null 2>&1 & echo $!; while [ ! -e '{}' ]; do sleep 0.01; done",
            kernel_tmp.display(),
            dir.path().join("data").display(),
            env!("CARGO_BIN_EXE_sled-kernel"),
            file.display(),
            go.display()
        ))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(parent.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let pid: u32 = line.trim().parse().unwrap();
    let ctx = zmq::Context::new();
    let hb = ctx.socket(zmq::REQ).unwrap();
    hb.set_linger(0).unwrap();
    hb.connect(&format!("tcp://127.0.0.1:{}", connection["hb_port"]))
        .unwrap();
    hb.send("ping", 0).unwrap();
    let mut items = [hb.as_poll_item(zmq::POLLIN)];
    zmq::poll(&mut items, 10_000).unwrap();
    assert!(
        items[0].is_readable(),
        "the kernel never answered its heartbeat"
    );
    std::fs::write(&go, "").unwrap();
    assert!(parent.wait().unwrap().success());

    let alive = || sled_kernel::platform::process_alive(pid) == Some(true);
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!alive(), "the orphaned kernel {pid} is still running");
    assert!(
        crate::common::entries(&kernel_tmp).is_empty(),
        "its database was left behind"
    );
}
