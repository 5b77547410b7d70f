//! The five sockets from the connection file, and the two threads that need
//! no interpreter: heartbeat and IOPub.
//!
//! zmq sockets belong to one thread at a time. The IOPub socket (XPUB) is
//! the one shared, behind a mutex: the shell thread sends a cell's messages
//! on it directly, because every hop through another thread costs a thread
//! wake-up, which on an idle virtual machine is most of a round trip. The
//! IOPub thread greets each new subscriber and forwards what the control
//! thread queues for it on an in-process PUSH socket.

use crate::connection::ConnectionInfo;
use crate::message::{Content, ExecutionState, IopubWelcome, KernelSession, Message, Status};
use crate::wire::{self, Signer};
use anyhow::Context as _;
use log::{debug, error, warn};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// In-process endpoint for broadcasts on their way to the IOPub thread.
const IOPUB_QUEUE: &str = "inproc://iopub-queue";
/// The one-frame message that tells the IOPub thread to flush and stop.
const IOPUB_STOP: &[u8] = b"stop";

/// A socket that speaks whole, signed Jupyter messages.
pub struct Channel {
    pub socket: zmq::Socket,
    signer: Signer,
    name: &'static str,
}

impl Channel {
    pub fn new(socket: zmq::Socket, signer: Signer, name: &'static str) -> Self {
        Channel {
            socket,
            signer,
            name,
        }
    }

    /// Receives one message. Malformed or badly signed messages are logged
    /// and dropped (`Ok(None)`); only a dead socket is an error.
    pub fn recv(&self) -> zmq::Result<Option<Message>> {
        let frames = self.socket.recv_multipart(0)?;
        Ok(self.decode(frames))
    }

    /// Receives without waiting: `None` once nothing valid is queued (invalid
    /// messages on the way are dropped, as `recv` drops them).
    pub fn try_recv(&self) -> Option<Message> {
        loop {
            let frames = self.socket.recv_multipart(zmq::DONTWAIT).ok()?;
            if let Some(msg) = self.decode(frames) {
                return Some(msg);
            }
        }
    }

    fn decode(&self, frames: Vec<Vec<u8>>) -> Option<Message> {
        match wire::decode(frames, &self.signer) {
            Ok(msg) => {
                debug!("{} <- {}", self.name, msg.msg_type());
                Some(msg)
            }
            Err(e) => {
                warn!("{}: dropped a message: {e}", self.name);
                None
            }
        }
    }

    pub fn send(&self, msg: &Message) {
        debug!("{} -> {}", self.name, msg.msg_type());
        if let Err(e) = self
            .socket
            .send_multipart(wire::encode(msg, &self.signer), 0)
        {
            error!("{}: could not send {}: {e}", self.name, msg.msg_type());
        }
    }
}

/// The IOPub socket, shared: the shell thread sends on it directly (its
/// messages are the ones a frontend waits for), the IOPub thread greets
/// subscribers and forwards the other threads' broadcasts. A zmq socket may
/// be used from several threads one at a time; the mutex sees to that.
pub type SharedXpub = Arc<Mutex<zmq::Socket>>;

/// Where a publisher's messages go.
enum Route {
    /// Queued for the IOPub thread.
    Queue(zmq::Socket),
    /// Straight onto the IOPub socket.
    Direct(SharedXpub),
}

/// The sending end of IOPub, one per thread that broadcasts.
pub struct Publisher {
    route: Route,
    signer: Signer,
    pub session: KernelSession,
}

impl Publisher {
    /// A publisher whose messages the IOPub thread forwards.
    pub fn new(ctx: &zmq::Context, signer: Signer, session: KernelSession) -> anyhow::Result<Self> {
        let socket = ctx.socket(zmq::PUSH)?;
        socket.connect(IOPUB_QUEUE)?;
        Ok(Publisher {
            route: Route::Queue(socket),
            signer,
            session,
        })
    }

    /// A publisher that sends on the IOPub socket itself, saving the hop
    /// through the IOPub thread (a thread wake-up per message).
    pub fn direct(xpub: SharedXpub, signer: Signer, session: KernelSession) -> Self {
        Publisher {
            route: Route::Direct(xpub),
            signer,
            session,
        }
    }

    /// Broadcasts `content`, with `parent` as parent_header.
    pub fn send<C: Content>(&self, parent: Option<&Message>, content: &C) {
        let msg = self.session.broadcast(parent, content);
        let frames = wire::encode(&msg, &self.signer);
        let sent = match &self.route {
            Route::Queue(socket) => socket.send_multipart(frames, 0),
            Route::Direct(xpub) => xpub
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .send_multipart(frames, 0),
        };
        if let Err(e) = sent {
            error!("iopub: could not send {}: {e}", C::MSG_TYPE);
        }
    }

    pub fn status(&self, parent: &Message, execution_state: ExecutionState) {
        self.send(Some(parent), &Status { execution_state });
    }

    /// Asks the IOPub thread to send everything queued so far, then stop.
    pub fn stop(&self) {
        if let Route::Queue(socket) = &self.route {
            let _ = socket.send(IOPUB_STOP, 0);
        }
    }
}

/// All five sockets, bound where the connection file says and nowhere else.
pub struct Bound {
    pub shell: zmq::Socket,
    pub control: zmq::Socket,
    pub stdin: zmq::Socket,
    pub iopub: SharedXpub,
    pub heartbeat: zmq::Socket,
    /// Receives broadcasts from the other threads; bound before any of them
    /// connect.
    pub iopub_queue: zmq::Socket,
}

pub fn bind_all(ctx: &zmq::Context, info: &ConnectionInfo) -> anyhow::Result<Bound> {
    let bind = |kind: zmq::SocketType, port: u16, name: &str| -> anyhow::Result<zmq::Socket> {
        let socket = ctx.socket(kind)?;
        // Give queued replies a moment to leave at shutdown, never forever.
        socket.set_linger(1000)?;
        // A ROUTER drops replies past its high-water mark; a frontend that
        // sends a burst of requests before reading must still get every reply.
        socket.set_sndhwm(0)?;
        // zmq itself cuts off a peer sending a frame this large, before it
        // is held in memory; smaller oversized messages are dropped (and
        // logged) by `wire::decode`.
        socket.set_maxmsgsize(4 * wire::MAX_MESSAGE_BYTES as i64)?;
        let endpoint = info.endpoint(port);
        socket
            .bind(&endpoint)
            .with_context(|| format!("cannot bind the {name} socket to {endpoint}"))?;
        Ok(socket)
    };
    let iopub = ctx.socket(zmq::XPUB)?;
    iopub.set_linger(1000)?;
    // Pass every subscription up, not only the first per topic, so that
    // each new frontend gets its own welcome.
    iopub.set_xpub_verbose(true)?;
    // Room for long outputs to a slow subscriber; past this, zmq drops
    // broadcasts for that subscriber rather than blocking the kernel.
    iopub.set_sndhwm(100_000)?;
    let endpoint = info.endpoint(info.iopub_port);
    iopub
        .bind(&endpoint)
        .with_context(|| format!("cannot bind the iopub socket to {endpoint}"))?;
    let iopub_queue = ctx.socket(zmq::PULL)?;
    iopub_queue.bind(IOPUB_QUEUE)?;
    Ok(Bound {
        shell: bind(zmq::ROUTER, info.shell_port, "shell")?,
        control: bind(zmq::ROUTER, info.control_port, "control")?,
        stdin: bind(zmq::ROUTER, info.stdin_port, "stdin")?,
        heartbeat: bind(zmq::REP, info.hb_port, "heartbeat")?,
        iopub: Arc::new(Mutex::new(iopub)),
        iopub_queue,
    })
}

/// How long a socket thread pauses after a call fails for a reason other
/// than the context ending (or a signal): 10 ms, doubling up to a second,
/// and back to 10 ms after a success. Without it a socket that keeps
/// failing would spin a core; with it, each failure is logged and the log
/// gets at most a line a second.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MOST: Duration = Duration::from_secs(1);

    pub fn new() -> Self {
        Backoff { next: Self::FIRST }
    }

    /// A call failed: how long to pause before the next try.
    pub fn failed(&mut self) -> Duration {
        let pause = self.next;
        self.next = (self.next * 2).min(Self::MOST);
        pause
    }

    /// A call worked: the next failure pauses briefly again.
    pub fn succeeded(&mut self) {
        self.next = Self::FIRST;
    }

    /// Logs the failure of `what` and pauses.
    pub fn log_and_pause(&mut self, what: &str, error: zmq::Error) {
        let pause = self.failed();
        error!("{what} failed ({error}); trying again in {pause:?}");
        std::thread::sleep(pause);
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

/// Echoes every ping on its own thread, so a long cell never looks like a
/// dead kernel. Ends when the context is terminated.
pub fn spawn_heartbeat(socket: zmq::Socket) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("heartbeat".into())
        .spawn(move || {
            let mut backoff = Backoff::new();
            loop {
                match socket.recv_bytes(0) {
                    Ok(ping) => match socket.send(ping, 0) {
                        Ok(()) => backoff.succeeded(),
                        Err(zmq::Error::ETERM) => break,
                        Err(zmq::Error::EINTR) => {}
                        Err(e) => backoff.log_and_pause("heartbeat: echoing a ping", e),
                    },
                    Err(zmq::Error::ETERM) => break,
                    Err(zmq::Error::EINTR) => {}
                    Err(e) => backoff.log_and_pause("heartbeat: receiving a ping", e),
                }
            }
        })
        .expect("spawning the heartbeat thread")
}

/// How long the IOPub thread waits before it looks for new subscribers even
/// without a signal: the shell thread's sends can take the signal first.
const SUBSCRIBER_CHECK: i64 = 100;

/// Greets each new subscription with `iopub_welcome` and forwards the
/// broadcasts queued by threads other than the shell's. Ends after a stop
/// message, once the queue is empty.
pub fn spawn_iopub(
    xpub: SharedXpub,
    queue: zmq::Socket,
    signer: Signer,
    session: KernelSession,
) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("iopub".into())
        .spawn(move || {
            let lock = || xpub.lock().unwrap_or_else(|e| e.into_inner());
            let forward = |frames: Vec<Vec<u8>>| {
                if let Err(e) = lock().send_multipart(frames, 0) {
                    error!("iopub: send failed: {e}");
                }
            };
            let welcome = |frames: Vec<Vec<u8>>| {
                for frame in frames {
                    // A subscription is 0x01 followed by the topic.
                    if let Some((1, topic)) = frame.split_first() {
                        let topic = String::from_utf8_lossy(topic).into_owned();
                        debug!("iopub: new subscriber to {topic:?}");
                        let welcome = IopubWelcome {
                            subscription: topic.clone(),
                        };
                        let mut msg = session.broadcast(None, &welcome);
                        msg.identities = if topic.is_empty() {
                            Vec::new()
                        } else {
                            vec![topic.into_bytes()]
                        };
                        forward(wire::encode(&msg, &signer));
                    }
                }
            };
            // zmq signals on this descriptor when the socket may have
            // something to read; the socket itself says what, under the lock.
            let fd = match lock().get_fd() {
                Ok(fd) => fd,
                Err(e) => {
                    error!("iopub: no descriptor to wait on: {e}");
                    return;
                }
            };
            let mut backoff = Backoff::new();
            loop {
                let mut items = [
                    queue.as_poll_item(zmq::POLLIN),
                    zmq::PollItem::from_fd(fd, zmq::POLLIN),
                ];
                match zmq::poll(&mut items, SUBSCRIBER_CHECK) {
                    Ok(_) => backoff.succeeded(),
                    Err(zmq::Error::ETERM) => return,
                    Err(zmq::Error::EINTR) => continue,
                    Err(e) => {
                        backoff.log_and_pause("iopub: poll", e);
                        continue;
                    }
                }
                loop {
                    let subscription = {
                        let socket = lock();
                        match socket.get_events() {
                            Ok(events) if events.contains(zmq::POLLIN) => {
                                socket.recv_multipart(zmq::DONTWAIT).ok()
                            }
                            _ => None,
                        }
                    };
                    match subscription {
                        Some(frames) => welcome(frames),
                        None => break,
                    }
                }
                if items[0].is_readable() {
                    if let Ok(frames) = queue.recv_multipart(0) {
                        if frames.len() == 1 && frames[0] == IOPUB_STOP {
                            // Everything sent before the stop is already queued.
                            while let Ok(frames) = queue.recv_multipart(zmq::DONTWAIT) {
                                if frames.len() != 1 {
                                    forward(frames);
                                }
                            }
                            return;
                        }
                        forward(frames);
                    }
                }
            }
        })
        .expect("spawning the iopub thread")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_second_and_starts_over_after_a_success() {
        let mut backoff = Backoff::new();
        let pauses: Vec<u64> = (0..9)
            .map(|_| backoff.failed().as_millis() as u64)
            .collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        backoff.succeeded();
        assert_eq!(backoff.failed(), Duration::from_millis(10));
    }
}
