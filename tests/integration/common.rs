//! A small frontend for integration tests: starts the built `sled-kernel`
//! binary with a connection file and talks to it over real zmq sockets,
//! using the crate's own wire code.

use serde_json::{json, Value};
use sled_kernel::message::{KernelSession, Message};
use sled_kernel::wire::{self, Signer};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const KEY: &str = "a-test-key-9f1c";

pub(crate) struct Kernel {
    pub child: Child,
    pub ctx: zmq::Context,
    pub shell: zmq::Socket,
    pub control: zmq::Socket,
    pub iopub: zmq::Socket,
    pub heartbeat: zmq::Socket,
    pub session: KernelSession,
    pub signer: Signer,
    /// The kernel's TMPDIR: its session database lives here, and nothing
    /// should be left in it after shutdown.
    pub tmp: tempfile::TempDir,
    pub connection: Value,
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Writes a connection file in `dir` for a kernel on 127.0.0.1 with free
/// ports, signed with [`KEY`]; `edit` may change it first. Returns the
/// file and what it holds.
pub(crate) fn connection_file(dir: &Path, edit: impl FnOnce(&mut Value)) -> (PathBuf, Value) {
    let mut connection = json!({
        "transport": "tcp", "ip": "127.0.0.1", "key": KEY,
        "signature_scheme": "hmac-sha256", "kernel_name": "sled",
        "shell_port": free_port(), "iopub_port": free_port(), "stdin_port": free_port(),
        "control_port": free_port(), "hb_port": free_port(),
    });
    edit(&mut connection);
    let file = dir.join(format!("connection-{}.json", free_port()));
    std::fs::write(&file, connection.to_string()).unwrap();
    (file, connection)
}

impl Kernel {
    pub(crate) fn start() -> Kernel {
        Self::start_with(|_| {})
    }

    /// Starts a kernel; `edit` may change the connection file first.
    pub(crate) fn start_with(edit: impl Fn(&mut Value)) -> Kernel {
        Self::launch(edit, None, &[])
    }

    /// Starts a kernel whose Jupyter data dir (history) is `data_dir`,
    /// shared with other kernels; by default each test kernel has its own.
    pub(crate) fn start_with_data_dir(data_dir: &Path) -> Kernel {
        Self::launch(|_| {}, Some(data_dir), &[])
    }

    /// Starts a kernel with these environment variables set (on top of
    /// this process's environment).
    #[cfg(any(feature = "rust-cells", windows))]
    pub(crate) fn start_with_env(vars: &[(&str, &std::ffi::OsStr)]) -> Kernel {
        Self::launch(|_| {}, None, vars)
    }

    fn launch(
        edit: impl Fn(&mut Value),
        data_dir: Option<&Path>,
        vars: &[(&str, &std::ffi::OsStr)],
    ) -> Kernel {
        // Free ports are picked by binding and releasing them, so another
        // test may grab one before the kernel binds it: then start again.
        for _ in 0..5 {
            if let Some(kernel) = Self::try_launch(&edit, data_dir, vars) {
                return kernel;
            }
        }
        panic!("the kernel did not start in 5 tries");
    }

    fn try_launch(
        edit: &impl Fn(&mut Value),
        data_dir: Option<&Path>,
        vars: &[(&str, &std::ffi::OsStr)],
    ) -> Option<Kernel> {
        let tmp = tempfile::tempdir().unwrap();
        let (file, connection) = connection_file(tmp.path(), edit);
        let kernel_tmp = tmp.path().join("kernel-tmp");
        std::fs::create_dir(&kernel_tmp).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_sled-kernel"))
            .args(["kernel", "--connection-file"])
            .arg(&file)
            // The system temp dir: TMPDIR on Unix, TMP on Windows.
            .env("TMPDIR", &kernel_tmp)
            .env("TMP", &kernel_tmp)
            .env(
                "JUPYTER_DATA_DIR",
                data_dir.map_or_else(|| tmp.path().join("data"), Path::to_path_buf),
            )
            .envs(vars.iter().copied())
            .stdin(Stdio::null())
            .spawn()
            .expect("starting sled-kernel");
        let ctx = zmq::Context::new();
        let endpoint = |port: &str| {
            let ip = connection["ip"].as_str().unwrap();
            let port = connection[port].as_u64().unwrap();
            if connection["transport"] == "ipc" {
                format!("ipc://{ip}-{port}")
            } else {
                format!("tcp://{ip}:{port}")
            }
        };
        let connect = |kind, port: &str| {
            let s = ctx.socket(kind).unwrap();
            s.set_linger(0).unwrap();
            // The kernel may not have bound yet: retry quickly, not every 100 ms.
            s.set_reconnect_ivl(5).unwrap();
            s.connect(&endpoint(port)).unwrap();
            s
        };
        let shell = connect(zmq::DEALER, "shell_port");
        let control = connect(zmq::DEALER, "control_port");
        let heartbeat = connect(zmq::REQ, "hb_port");
        let iopub = connect(zmq::SUB, "iopub_port");
        iopub.set_subscribe(b"").unwrap();
        let key = connection["key"].as_str().unwrap_or("").to_string();
        let mut kernel = Kernel {
            child,
            ctx,
            shell,
            control,
            iopub,
            heartbeat,
            session: KernelSession::new("test"),
            signer: Signer::new(&key),
            tmp,
            connection,
        };
        // The welcome proves our subscription is live: nothing broadcast
        // after it can be missed.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(welcome) = kernel.iopub_next(Duration::from_millis(50)) {
                assert_eq!(welcome.header.msg_type, "iopub_welcome");
                assert_eq!(welcome.content["subscription"], "");
                return Some(kernel);
            }
            if kernel.child.try_wait().unwrap().is_some() {
                return None; // it could not bind: a port was taken
            }
        }
        panic!("no iopub_welcome within 10 s of subscribing");
    }

    pub(crate) fn kernel_tmp(&self) -> PathBuf {
        self.tmp.path().join("kernel-tmp")
    }

    pub(crate) fn send(&self, socket: &zmq::Socket, msg: &Message) {
        socket
            .send_multipart(wire::encode(msg, &self.signer), 0)
            .unwrap();
    }

    /// Sends a request on `socket`; returns its msg_id.
    pub(crate) fn request(&self, socket: &zmq::Socket, msg_type: &str, content: Value) -> String {
        let msg = self.session.request(msg_type, content);
        self.send(socket, &msg);
        msg.header.msg_id
    }

    pub(crate) fn recv_on(&self, socket: &zmq::Socket, timeout: Duration) -> Option<Message> {
        let mut items = [socket.as_poll_item(zmq::POLLIN)];
        zmq::poll(&mut items, timeout.as_millis() as i64).unwrap();
        if !items[0].is_readable() {
            return None;
        }
        let frames = socket.recv_multipart(0).unwrap();
        let msg = wire::decode(frames, &self.signer).expect("the kernel sends valid messages");
        strict(&msg);
        Some(msg)
    }

    pub(crate) fn reply(&self, socket: &zmq::Socket) -> Message {
        self.recv_on(socket, Duration::from_secs(10))
            .expect("a reply within 10 s")
    }

    pub(crate) fn iopub_next(&self, timeout: Duration) -> Option<Message> {
        self.recv_on(&self.iopub, timeout)
    }

    /// IOPub messages caused by `msg_id`, from `busy` through `idle`.
    pub(crate) fn iopub_until_idle(&self, msg_id: &str) -> Vec<Message> {
        self.iopub_until_idle_within(msg_id, Duration::from_secs(15))
    }

    /// The same, for a cell that may run for up to `limit`.
    pub(crate) fn iopub_until_idle_within(&self, msg_id: &str, limit: Duration) -> Vec<Message> {
        self.iopub_until(msg_id, limit, is_idle)
    }

    /// The IOPub messages of request `msg_id`, up to and including the first
    /// that `until` picks; fails if the request goes idle first, or `limit`
    /// passes.
    fn iopub_until(
        &self,
        msg_id: &str,
        limit: Duration,
        until: impl Fn(&Message) -> bool,
    ) -> Vec<Message> {
        let deadline = Instant::now() + limit;
        let mut got = Vec::new();
        while Instant::now() < deadline {
            let Some(msg) = self.iopub_next(Duration::from_millis(200)) else {
                continue;
            };
            if msg.parent_header["msg_id"] != msg_id {
                continue;
            }
            let (found, idle) = (until(&msg), is_idle(&msg));
            got.push(msg);
            if found {
                return got;
            }
            assert!(!idle, "{msg_id} ended first: {:?}", types(&got));
        }
        panic!(
            "nothing awaited for {msg_id} within {limit:?}; got {:?}",
            types(&got)
        );
    }

    /// Runs a cell that may take up to `limit` (a big load, a huge cell);
    /// returns the reply's content and the IOPub messages up to idle.
    pub(crate) fn execute_within(&self, code: &str, limit: Duration) -> (Value, Vec<Message>) {
        let id = self.request(&self.shell, "execute_request", json!({ "code": code }));
        let reply = self.recv_on(&self.shell, limit).unwrap_or_else(|| {
            let start: String = code.chars().take(60).collect();
            panic!("no reply within {limit:?} to {start:?}")
        });
        assert_eq!(reply.parent_header["msg_id"], id);
        (reply.content, self.iopub_until_idle_within(&id, limit))
    }

    /// Runs a cell; returns the reply and the IOPub messages between busy and idle.
    pub(crate) fn execute(&self, code: &str) -> (Message, Vec<Message>) {
        self.execute_with(json!({ "code": code }))
    }

    pub(crate) fn execute_with(&self, content: Value) -> (Message, Vec<Message>) {
        let id = self.request(&self.shell, "execute_request", content);
        let reply = self.reply(&self.shell);
        assert_eq!(reply.parent_header["msg_id"], id);
        (reply, self.iopub_until_idle(&id))
    }

    /// Sends an `execute_request` and reads IOPub until a message of it
    /// that `until` picks arrives (see [`Kernel::await_iopub`]). Returns the
    /// request's msg_id and its IOPub messages so far.
    pub(crate) fn execute_until(
        &self,
        content: Value,
        until: impl Fn(&Message) -> bool,
    ) -> (String, Vec<Message>) {
        let id = self.request(&self.shell, "execute_request", content);
        let got = self.await_iopub(&id, until);
        (id, got)
    }

    /// Reads the IOPub messages of request `id` until one that `until`
    /// picks: an event that proves the cell is running (the stream of an
    /// `echo` line, sent before `%sleep` waits or once a long loop is under
    /// way; a progress bar). Fails if the cell goes idle first.
    pub(crate) fn await_iopub(&self, id: &str, until: impl Fn(&Message) -> bool) -> Vec<Message> {
        // Generous: a debug build checks a million-line file for a while.
        self.iopub_until(id, Duration::from_secs(600), until)
    }

    /// Runs `code` until its output shows `text` (see [`Kernel::execute_until`]).
    pub(crate) fn execute_until_printed(&self, code: &str, text: &str) -> String {
        self.execute_until(json!({ "code": code }), |m| printed(m, text))
            .0
    }

    /// Sends `interrupt_request` on control; its reply must be ok.
    pub(crate) fn interrupt(&self) {
        self.request(&self.control, "interrupt_request", json!({}));
        assert_eq!(self.reply(&self.control).content["status"], "ok");
    }

    /// Sends shutdown on control and waits for the process to exit.
    pub(crate) fn shutdown(&mut self) -> Message {
        self.shutdown_within(Duration::from_secs(10))
    }

    /// The same, for a kernel that may take up to `limit` to exit.
    pub(crate) fn shutdown_within(&mut self, limit: Duration) -> Message {
        self.request(
            &self.control,
            "shutdown_request",
            json!({ "restart": false }),
        );
        let reply = self.reply(&self.control);
        self.wait_exit(limit);
        reply
    }

    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "kernel did not exit in {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the kernel's process the hard way (SIGKILL on Unix,
    /// TerminateProcess on Windows): no cleanup runs.
    pub(crate) fn kill(&mut self) {
        self.child.kill().expect("killing the kernel");
    }

    /// Sends a Unix signal with `kill -SIGNAL`.
    #[cfg(unix)]
    pub(crate) fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{signal} failed");
    }
}

impl Drop for Kernel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `msg` as a strict client reads it: runtimed's `jupyter-protocol` types,
/// what nteract's desktop app and runtimed's tools are built on. Every
/// message any integration test receives goes through here, so a reply or
/// broadcast those clients cannot read fails the test that caused it.
pub(crate) fn strict(msg: &Message) -> jupyter_protocol::JupyterMessage {
    let whole = json!({
        "header": msg.header,
        "parent_header": msg.parent_header,
        "metadata": msg.metadata,
        "content": msg.content,
    });
    serde_json::from_value(whole).unwrap_or_else(|e| {
        panic!(
            "a strict client (jupyter-protocol) cannot read this {}: {e}\n{:#}",
            msg.header.msg_type, msg.content
        )
    })
}

pub(crate) fn types(msgs: &[Message]) -> Vec<&str> {
    msgs.iter().map(|m| m.header.msg_type.as_str()).collect()
}

/// Whether `msg` is the `status: idle` that ends a request.
pub(crate) fn is_idle(msg: &Message) -> bool {
    msg.header.msg_type == "status" && msg.content["execution_state"] == "idle"
}

/// Whether `msg` is a `stream` message whose text holds `text`.
pub(crate) fn printed(msg: &Message, text: &str) -> bool {
    msg.header.msg_type == "stream"
        && msg.content["text"]
            .as_str()
            .is_some_and(|t| t.contains(text))
}

/// The concatenated text of the stdout stream messages.
pub(crate) fn stdout(msgs: &[Message]) -> String {
    msgs.iter()
        .filter(|m| m.header.msg_type == "stream" && m.content["name"] == "stdout")
        .map(|m| m.content["text"].as_str().unwrap().to_string())
        .collect()
}

pub(crate) fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}
