//! `watch_prefix P` and `unwatch [P]`: a table of the keys under P that
//! keeps itself up to date while later cells change them.
//!
//! Each watch holds a `sled::Subscriber` for P. sled makes a writer wait
//! once 1,024 events are unread, so every subscriber is drained on a thread
//! of its own, which only counts events and remembers the last one. The
//! table itself is redrawn on the cell's thread, at fixed points: after
//! every cell and before a cell waits (`%sleep`). Before redrawing, that
//! thread asks the drain thread to *settle*: to report once it has seen an
//! empty queue after the question was asked. Every write of the cell has
//! returned by then, so its events were all queued and are all counted, and
//! the update that follows is the same on every run, which keeps stored
//! notebooks reproducible.
//!
//! The update is an `update_display_data` for the watch's `display_id`,
//! which the frontend applies to the cell where the watch began. It is sent
//! only when the table changed.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{JoinHandle, Thread};
use std::time::Duration;

use super::session::Session;
use crate::cell::{MimeBundle, Output};
use crate::interpreter::language::args::ReadOptions;
use crate::interpreter::language::parser::Scan;
use crate::interpreter::showing::lines::watch::{self as said, Status};
use crate::interpreter::showing::render::Rows;

/// How long the cell's thread waits for a drain thread to settle before it
/// redraws with what it has (only a stuck thread would take this long).
const SETTLE_TIMEOUT: Duration = Duration::from_secs(2);
/// Changed keys named under a watched table.
const LISTED: usize = 5;
/// A drain thread wakes at least this often, even without events.
const DRAIN_NAP: Duration = Duration::from_secs(1);

/// What a drain thread and the cell's thread share.
#[derive(Default)]
struct Shared {
    /// Events seen since the watch began.
    events: AtomicU64,
    /// The keys changed since the last redraw, with whether the last change
    /// was an insert; only the [`LISTED`] smallest are kept. Sorted by key,
    /// not by arrival: sled applies a transaction's writes in no fixed
    /// order, and what is shown must not depend on that.
    changed: Mutex<BTreeMap<sled::IVec, bool>>,
    /// Whether more keys changed than `changed` kept.
    changed_more: AtomicBool,
    /// Settle requests asked / answered: a request `n` is answered once
    /// `settled >= n`.
    asked: AtomicU64,
    settled: Mutex<u64>,
    settled_changed: Condvar,
    stop: AtomicBool,
}

/// Wakes the drain thread when sled queues an event.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// The thread that drains one subscriber.
struct Drain {
    shared: Arc<Shared>,
    thread: JoinHandle<()>,
}

impl Drain {
    fn start(mut subscriber: sled::Subscriber, shared: Arc<Shared>) -> std::io::Result<Drain> {
        let inner = shared.clone();
        let thread = std::thread::Builder::new()
            .name("watch-drain".into())
            .spawn(move || {
                let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
                let mut cx = Context::from_waker(&waker);
                loop {
                    // Read the request first: the queue found empty below
                    // was empty after it was asked.
                    let asked = inner.asked.load(Ordering::SeqCst);
                    loop {
                        match Pin::new(&mut subscriber).poll(&mut cx) {
                            Poll::Ready(Some(event)) => inner.record(event),
                            // The database is closed: nothing more will come.
                            Poll::Ready(None) => {
                                inner.answer(u64::MAX);
                                return;
                            }
                            Poll::Pending => break,
                        }
                    }
                    inner.answer(asked);
                    if inner.stop.load(Ordering::SeqCst) {
                        return;
                    }
                    std::thread::park_timeout(DRAIN_NAP);
                    if inner.stop.load(Ordering::SeqCst) {
                        return;
                    }
                }
            })?;
        Ok(Drain { shared, thread })
    }

    /// Waits until every event queued before this call has been counted.
    fn settle(&self) {
        let want = self.shared.asked.fetch_add(1, Ordering::SeqCst) + 1;
        self.thread.thread().unpark();
        let settled = self
            .shared
            .settled
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let (settled, timeout) = self
            .shared
            .settled_changed
            .wait_timeout_while(settled, SETTLE_TIMEOUT, |n| *n < want)
            .unwrap_or_else(|e| e.into_inner());
        if timeout.timed_out() {
            log::warn!("a watch's drain thread did not settle (at {})", *settled);
        }
    }

    fn stop(self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.thread.thread().unpark();
        if self.thread.join().is_err() {
            log::warn!("a watch's drain thread panicked");
        }
    }
}

impl Shared {
    fn record(&self, event: sled::Event) {
        self.events.fetch_add(1, Ordering::SeqCst);
        let (key, inserted) = match event {
            sled::Event::Insert { key, .. } => (key, true),
            sled::Event::Remove { key } => (key, false),
        };
        let mut changed = self.changed.lock().unwrap_or_else(|e| e.into_inner());
        changed.insert(key, inserted);
        if changed.len() > LISTED {
            changed.pop_last();
            self.changed_more.store(true, Ordering::SeqCst);
        }
    }

    /// The changed keys since the last call, as `insert k`, `remove k`.
    fn take_changed(&self) -> Vec<String> {
        let changed = std::mem::take(&mut *self.changed.lock().unwrap_or_else(|e| e.into_inner()));
        let mut named: Vec<String> = changed
            .iter()
            .map(|(key, inserted)| said::changed(key, *inserted))
            .collect();
        if self.changed_more.swap(false, Ordering::SeqCst) {
            named.push(said::MORE_CHANGED.to_string());
        }
        named
    }

    fn answer(&self, asked: u64) {
        let mut settled = self.settled.lock().unwrap_or_else(|e| e.into_inner());
        *settled = (*settled).max(asked);
        self.settled_changed.notify_all();
    }
}

/// One watched prefix.
struct Watch {
    prefix: Vec<u8>,
    /// The tree it watches, by name (`None` = the default tree), so it can
    /// be found again after the database was let go of and reopened.
    tree_name: Option<Vec<u8>>,
    tree: Option<sled::Tree>,
    display_id: String,
    shared: Arc<Shared>,
    drain: Option<Drain>,
    /// Events counted in earlier attachments (the count restarts with each
    /// subscriber).
    events_before: u64,
    /// The changes named in the table: those of the last redraw that had any.
    last_changes: Vec<String>,
    /// What the display shows now.
    shown: MimeBundle,
}

impl Watch {
    fn events(&self) -> u64 {
        self.events_before + self.shared.events.load(Ordering::SeqCst)
    }

    /// Takes in the changes counted since the last redraw.
    fn collect_changes(&mut self) {
        let changed = self.shared.take_changed();
        if !changed.is_empty() {
            self.last_changes = changed;
        }
    }

    /// Subscribes to the prefix on `tree` and starts draining.
    fn attach(&mut self, tree: sled::Tree) {
        self.detach();
        let subscriber = tree.watch_prefix(self.prefix.clone());
        let shared = Arc::new(Shared::default());
        self.collect_changes();
        self.events_before = self.events();
        self.shared = shared.clone();
        match Drain::start(subscriber, shared) {
            Ok(drain) => self.drain = Some(drain),
            Err(e) => log::warn!("cannot start a watch's drain thread: {e}"),
        }
        self.tree = Some(tree);
    }

    fn detach(&mut self) {
        if let Some(drain) = self.drain.take() {
            drain.stop();
        }
        self.tree = None;
    }

    /// The table as it is now: the rows under the prefix (at most `limit`)
    /// and a line about the changes seen.
    fn bundle(&self, limit: usize, state: &str) -> MimeBundle {
        let mut rows = Rows {
            scan: Scan::Prefix(self.prefix.clone()),
            options: ReadOptions::default(),
            tree: self.tree_name.clone(),
            rows: Vec::new(),
            more: 0,
        };
        let mut trouble = None;
        if let Some(tree) = &self.tree {
            for item in tree.scan_prefix(&self.prefix) {
                match item {
                    Ok((k, v)) if rows.rows.len() < limit => {
                        rows.rows.push((k.to_vec(), Some(v.to_vec())))
                    }
                    Ok(_) => rows.more += 1,
                    Err(e) => {
                        trouble = Some(said::reading_failed(&e));
                        break;
                    }
                }
            }
        }
        let status = Status {
            tree: self.tree_name.as_deref(),
            prefix: &self.prefix,
            state,
            events: self.events(),
            latest: &self.last_changes,
            trouble: trouble.as_deref(),
        };
        said::table(&status, &rows)
    }
}

/// Every live watch of the session.
#[derive(Default)]
pub(crate) struct Watches {
    list: Vec<Watch>,
}

impl Watches {
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// `watch_prefix P` on the session's current tree: shows the table
    /// under a new display id and keeps it live. Watching a prefix that is
    /// already watched on the same tree retires the older display; returns
    /// whether that happened.
    pub(crate) fn start(
        &mut self,
        session: &Session,
        prefix: &[u8],
        display_id: String,
        limit: usize,
        out: &mut dyn Output,
    ) -> bool {
        let Some(tree) = session.tree().cloned() else {
            return false;
        };
        let tree_name = session.tree_name().map(<[u8]>::to_vec);
        let replaced = self.stop_where(
            |w| w.prefix == prefix && w.tree_name == tree_name,
            said::REPLACED,
            limit,
            out,
        );
        let mut watch = Watch {
            prefix: prefix.to_vec(),
            tree_name,
            tree: None,
            display_id,
            shared: Arc::new(Shared::default()),
            drain: None,
            events_before: 0,
            last_changes: Vec::new(),
            shown: MimeBundle::new(),
        };
        watch.attach(tree);
        watch.shown = watch.bundle(limit, said::LIVE);
        out.display_with_id(watch.shown.clone(), &watch.display_id);
        self.list.push(watch);
        replaced > 0
    }

    /// `unwatch P` (or every watch, for `None`): a last update saying the
    /// table is no longer live. Returns how many watches ended.
    pub(crate) fn stop(
        &mut self,
        prefix: Option<&[u8]>,
        limit: usize,
        out: &mut dyn Output,
    ) -> usize {
        self.stop_where(
            |w| prefix.is_none_or(|p| w.prefix == p),
            said::STOPPED,
            limit,
            out,
        )
    }

    /// Ends every watch because the database they watch went away
    /// (`%reset`, `%open`).
    pub(crate) fn stop_all(&mut self, why: &str, limit: usize, out: &mut dyn Output) -> usize {
        self.stop_where(|_| true, why, limit, out)
    }

    fn stop_where(
        &mut self,
        pick: impl Fn(&Watch) -> bool,
        why: &str,
        limit: usize,
        out: &mut dyn Output,
    ) -> usize {
        let (ending, staying): (Vec<Watch>, Vec<Watch>) = std::mem::take(&mut self.list)
            .into_iter()
            .partition(|w| pick(w));
        self.list = staying;
        let n = ending.len();
        for mut watch in ending {
            if let Some(drain) = &watch.drain {
                drain.settle();
            }
            watch.collect_changes();
            let last = watch.bundle(limit, why);
            out.update_display(last, &watch.display_id);
            watch.detach();
        }
        n
    }

    /// Redraws every watch whose table changed; called after each cell and
    /// before a cell waits.
    pub(crate) fn refresh(&mut self, limit: usize, out: &mut dyn Output) {
        for watch in &mut self.list {
            let Some(drain) = &watch.drain else { continue };
            drain.settle();
            watch.collect_changes();
            let now = watch.bundle(limit, said::LIVE);
            if now != watch.shown {
                out.update_display(now.clone(), &watch.display_id);
                watch.shown = now;
            }
        }
    }

    /// The database is being let go of (for the Rust cells): stop the
    /// subscribers, keep the watches.
    pub(crate) fn detach_all(&mut self) {
        for watch in &mut self.list {
            if let Some(drain) = &watch.drain {
                drain.settle();
            }
            watch.detach();
        }
    }

    /// The database is open again: subscribe anew. What changed meanwhile
    /// shows at the next refresh.
    pub(crate) fn attach_all(&mut self, session: &Session) {
        let Some(db) = session.db() else { return };
        for watch in &mut self.list {
            if watch.tree.is_some() {
                continue;
            }
            let tree = match &watch.tree_name {
                None => sled::Tree::clone(db),
                Some(name) => match db.open_tree(name) {
                    Ok(tree) => tree,
                    Err(e) => {
                        log::warn!("a watch cannot reopen its tree: {e}");
                        continue;
                    }
                },
            };
            watch.attach(tree);
        }
    }
}

impl Drop for Watches {
    fn drop(&mut self) {
        for watch in &mut self.list {
            watch.detach();
        }
    }
}
