//! Kernel start-up and teardown: binds the sockets, starts the heartbeat,
//! IOPub and control threads, listens to the system (interrupts, shutdown,
//! the frontend dying: [`crate::platform`]), serves the shell channel on the
//! calling thread, and tears everything down in order at shutdown.

use super::history::History;
use super::{control, shell};
use crate::cell::Interrupt;
use crate::connection::ConnectionInfo;
use crate::engine::Engines;
use crate::kernelspec;
use crate::message::KernelSession;
use crate::platform::{self, Request};
use crate::sockets::{self, Channel, Publisher};
use crate::wire::Signer;
use anyhow::Context as _;
use log::{info, warn};
use std::thread::JoinHandle;
use std::time::Duration;

/// In-process endpoint on which the shell loop hears "shutdown".
const SHELL_EVENTS: &str = "inproc://shell-events";

/// Runs a kernel for one connection file until it is shut down.
pub fn run(info: ConnectionInfo) -> anyhow::Result<()> {
    let ctx = zmq::Context::new();
    let interrupt = Interrupt::new();
    let requests = listen_to_the_system(&ctx, &interrupt)?;
    // Before any socket is bound, so a frontend that can reach us knows we
    // already know our parent.
    watch_parent(ctx.clone());
    let signer = Signer::new(&info.key);
    let session = KernelSession::new("kernel");
    let bound = sockets::bind_all(&ctx, &info)?;
    let engines = Engines::new(interrupt.clone()).context("cannot open the session database")?;
    info!(
        "kernel {} listening on {}; session database at {}",
        session.id,
        info.endpoint(info.shell_port),
        engines.db_path().display()
    );

    let events = ctx.socket(zmq::PULL)?;
    events.bind(SHELL_EVENTS)?;
    let iopub_thread = sockets::spawn_iopub(
        bound.iopub.clone(),
        bound.iopub_queue,
        signer.clone(),
        session.clone(),
    );
    sockets::spawn_heartbeat(bound.heartbeat);
    let control_thread = spawn_control(&ctx, bound.control, &signer, &session, &interrupt)?;

    let publisher = Publisher::direct(bound.iopub.clone(), signer.clone(), session.clone());
    let shell = shell::Shell::new(
        Channel::new(bound.shell, signer, "shell"),
        events,
        publisher,
        engines,
        interrupt,
        info,
        open_history(),
    );
    let engines = shell.run();
    // Stops the Rust cells' process, then closes the database and deletes
    // its directory.
    drop(engines);

    stop_iopub(&ctx, session, iopub_thread)?;
    // The last handle on the IOPub socket (the shell's publisher and the
    // IOPub thread are gone): the context cannot end while it is open.
    drop(bound.iopub);
    drop(bound.stdin);
    drop(requests);
    end_context(ctx, control_thread);
    Ok(())
}

/// Listens to the system before anything else, so that no request finds
/// the default handler, which would end the process. An interrupt (SIGINT;
/// on Windows the interrupt event or Ctrl+C) stops the running cell and is
/// never fatal: jupyter_client may send it at any time, even while we
/// start. A shutdown request (SIGTERM; on Windows Ctrl+Break or the console
/// closing) shuts down cleanly.
fn listen_to_the_system(
    ctx: &zmq::Context,
    interrupt: &Interrupt,
) -> anyhow::Result<platform::Requests> {
    let (ctx, interrupt) = (ctx.clone(), interrupt.clone());
    let requests = platform::watch_requests(move |request| {
        interrupt.raise();
        if request == Request::Shutdown {
            info!("asked by the system to shut down");
            tell_shell_to_stop(&ctx);
        }
    })?;
    Ok(requests)
}

/// Serves the control channel on a thread of its own.
fn spawn_control(
    ctx: &zmq::Context,
    socket: zmq::Socket,
    signer: &Signer,
    session: &KernelSession,
    interrupt: &Interrupt,
) -> anyhow::Result<JoinHandle<()>> {
    let control = control::Control {
        channel: Channel::new(socket, signer.clone(), "control"),
        iopub: Publisher::new(ctx, signer.clone(), session.clone())?,
        interrupt: interrupt.clone(),
        shell_events: {
            let push = ctx.socket(zmq::PUSH)?;
            push.connect(SHELL_EVENTS)?;
            push
        },
    };
    let thread = std::thread::Builder::new()
        .name("control".into())
        .spawn(move || control.run())?;
    Ok(thread)
}

/// Lets every queued broadcast (the last idle, the shutdown_reply) leave,
/// then waits for the IOPub thread to end.
fn stop_iopub(
    ctx: &zmq::Context,
    session: KernelSession,
    iopub_thread: JoinHandle<()>,
) -> anyhow::Result<()> {
    let stopper = Publisher::new(ctx, Signer::new(""), session)?;
    stopper.stop();
    if iopub_thread.join().is_err() {
        warn!("the iopub thread panicked");
    }
    Ok(())
}

/// Terminating the context wakes the heartbeat and control threads with
/// ETERM so they close their sockets; it returns once the lingering
/// messages are out. Never waits on it forever.
fn end_context(mut ctx: zmq::Context, control_thread: JoinHandle<()>) {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = ctx.destroy();
        let _ = control_thread.join();
        // The context is gone: dropping this handle would terminate it twice.
        std::mem::forget(ctx);
        let _ = done_tx.send(());
    });
    if done_rx.recv_timeout(Duration::from_secs(2)).is_err() {
        warn!("sockets did not close within 2 s; exiting anyway");
    }
}

/// History in the per-user Jupyter data dir; in memory if that cannot be had.
fn open_history() -> History {
    let opened = kernelspec::user_data_dir_now()
        .map(|dir| dir.join("sled-kernel").join("history"))
        .and_then(|dir| History::open(&dir).with_context(|| format!("{}", dir.display())));
    match opened {
        Ok(history) => history,
        Err(e) => {
            warn!("history will not outlive this kernel: {e:#}");
            History::in_memory()
        }
    }
}

/// A kernel whose frontend process died (killed, crashed) would otherwise
/// run on forever, orphaned: like ipykernel, when started by jupyter_client
/// (which sets `JPY_PARENT_PID`), shut down once that process is gone.
fn watch_parent(ctx: zmq::Context) {
    if let Err(e) = platform::watch_parent(move || tell_shell_to_stop(&ctx)) {
        warn!("will not notice if the frontend that started this kernel dies: {e}");
    }
}

fn tell_shell_to_stop(ctx: &zmq::Context) {
    let sent = ctx.socket(zmq::PUSH).and_then(|push| {
        push.set_linger(0)?;
        push.connect(SHELL_EVENTS)?;
        push.send(shell::SHUTDOWN_EVENT, 0)
    });
    if let Err(e) = sent {
        warn!("could not tell the shell to stop: {e}");
    }
}
