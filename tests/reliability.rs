//! Faults a classroom will produce: floods, oversized frames, frontends
//! that come and go. The kernel must answer what is valid, drop what is
//! not, and keep its heartbeat.

mod common;

use common::{types, Kernel};
use serde_json::json;
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

#[test]
fn a_frontend_that_reconnects_sees_the_rest_of_a_running_cell() {
    let kernel = Kernel::start();
    let id = kernel.request(
        &kernel.shell,
        "execute_request",
        json!({"code": "%sleep 1\necho after the nap"}),
    );
    // The first frontend goes away mid-cell; a new one subscribes.
    let port = kernel.connection["iopub_port"].as_u64().unwrap();
    let again = kernel.ctx.socket(zmq::SUB).unwrap();
    again.set_subscribe(b"").unwrap();
    again.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let Some(msg) = kernel.recv_on(&again, Duration::from_millis(200)) else {
            continue;
        };
        if msg.header.msg_type == "iopub_welcome" || msg.parent_header["msg_id"] == id {
            seen.push(msg.header.msg_type.clone());
            if msg.content["execution_state"] == "idle" {
                break;
            }
        }
    }
    assert_eq!(seen.first().map(String::as_str), Some("iopub_welcome"));
    assert_eq!(seen[seen.len() - 2..], ["stream", "status"]);
    assert_eq!(kernel.reply(&kernel.shell).content["status"], "ok");
}

#[test]
fn a_kernel_whose_frontend_died_shuts_down_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let kernel_tmp = dir.path().join("tmp");
    std::fs::create_dir(&kernel_tmp).unwrap();
    let file = dir.path().join("connection.json");
    let port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    std::fs::write(
        &file,
        json!({"transport": "tcp", "ip": "127.0.0.1", "key": "k",
               "signature_scheme": "hmac-sha256", "shell_port": port(),
               "iopub_port": port(), "stdin_port": port(), "control_port": port(),
               "hb_port": port()})
        .to_string(),
    )
    .unwrap();
    // A parent shell starts the kernel as jupyter_client would (with
    // JPY_PARENT_PID), prints its pid and dies.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "JPY_PARENT_PID=$$ TMPDIR='{}' JUPYTER_DATA_DIR='{}' '{}' kernel --connection-file '{}' >/dev/null 2>&1 & echo $!; sleep 0.5",
            kernel_tmp.display(),
            dir.path().join("data").display(),
            env!("CARGO_BIN_EXE_sled-kernel"),
            file.display()
        ))
        .output()
        .unwrap();
    let pid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    let alive = || std::path::Path::new(&format!("/proc/{pid}")).exists();
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!alive(), "the orphaned kernel {pid} is still running");
    assert!(
        common::entries(&kernel_tmp).is_empty(),
        "its database was left behind"
    );
}
