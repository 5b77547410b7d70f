//! The writer thread of `%transfers PREFIX`: it moves money between the
//! accounts under a prefix, one sled transaction per transfer, beside the
//! rest of the cell, so that the cell's reads race with real concurrent
//! writes. The interpreter stops it when the cell ends (and before any
//! command that closes the database); the commands that start it and read
//! beside it are in `isolation`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use sled::transaction::{abort, TransactionError};

use crate::interpreter::showing::lines::transfers::{self as said, Ending};

/// A thread stops by itself after this many transfers, so a cell that
/// waits (`%sleep`) does not grow the log without end.
pub(crate) const MOST_TRANSFERS: u64 = 200_000;
/// The largest amount one transfer moves.
const MOST_MOVED: u64 = 10;

/// Why the thread stopped before it was asked to.
#[derive(Debug, Clone, PartialEq)]
enum Ended {
    /// Asked to stop, or reached [`MOST_TRANSFERS`].
    Normally,
    /// An account vanished or stopped holding a whole number.
    NotABalance(Vec<u8>),
    Storage(String),
}

struct Running {
    stop: Arc<AtomicBool>,
    committed: Arc<AtomicU64>,
    thread: JoinHandle<Ended>,
    prefix: Vec<u8>,
    tree_tag: String,
}

/// The running writer, if any.
#[derive(Default)]
pub(crate) struct Transfers {
    running: Option<Running>,
}

impl Transfers {
    /// Starts moving money between `keys` of `tree` (at least two, each
    /// holding a whole number; the caller checked). Fails only when the
    /// system cannot start a thread.
    pub(crate) fn start(
        &mut self,
        tree: sled::Tree,
        tree_tag: String,
        prefix: Vec<u8>,
        keys: Vec<Vec<u8>>,
    ) -> std::io::Result<()> {
        debug_assert!(keys.len() >= 2);
        let stop = Arc::new(AtomicBool::new(false));
        let committed = Arc::new(AtomicU64::new(0));
        let thread = {
            let (stop, committed) = (stop.clone(), committed.clone());
            std::thread::Builder::new()
                .name("sled-kernel-transfers".into())
                .spawn(move || move_money(&tree, &keys, &stop, &committed))?
        };
        self.running = Some(Running {
            stop,
            committed,
            thread,
            prefix,
            tree_tag,
        });
        Ok(())
    }

    /// How many transfers the running thread has committed so far.
    pub(crate) fn committed(&self) -> Option<u64> {
        self.running
            .as_ref()
            .map(|r| r.committed.load(Ordering::Acquire))
    }

    /// Stops the thread, waits for it, and says what it did and `why` it
    /// stopped (`at the end of the cell`, `by %reset`); `None` when none ran.
    pub(crate) fn stop(&mut self, why: &str) -> Option<String> {
        let running = self.running.take()?;
        running.stop.store(true, Ordering::Release);
        let ended = running
            .thread
            .join()
            .unwrap_or_else(|_| Ended::Storage(said::THREAD_PANICKED.to_string()));
        let n = running.committed.load(Ordering::Acquire);
        let ending = match &ended {
            Ended::Normally if n >= MOST_TRANSFERS => Ending::AtMost(MOST_TRANSFERS),
            Ended::Normally => Ending::Asked(why),
            Ended::NotABalance(key) => Ending::NotABalance(key),
            Ended::Storage(e) => Ending::Storage(e),
        };
        Some(said::stopped(&running.tree_tag, &running.prefix, n, ending))
    }
}

impl Drop for Transfers {
    fn drop(&mut self) {
        self.stop(said::AS_THE_SESSION_CLOSED);
    }
}

/// What one transfer found.
enum Refused {
    /// The payer holds less than the amount: no transfer, no harm.
    TooLittle,
    NotABalance(Vec<u8>),
}

fn move_money(
    tree: &sled::Tree,
    keys: &[Vec<u8>],
    stop: &AtomicBool,
    committed: &AtomicU64,
) -> Ended {
    let mut random = Random::seeded();
    while !stop.load(Ordering::Acquire) {
        if committed.load(Ordering::Relaxed) >= MOST_TRANSFERS {
            return Ended::Normally;
        }
        let from = &keys[random.below(keys.len())];
        let to = &keys[random.below(keys.len())];
        if from == to {
            continue;
        }
        let amount = 1 + random.below(MOST_MOVED as usize) as u64;
        let result = tree.transaction(|tx| {
            let payer = balance(tx.get(from)?.as_deref());
            let payee = balance(tx.get(to)?.as_deref());
            let (Some(payer), Some(payee)) = (payer, payee) else {
                let which = if payer.is_none() { from } else { to };
                return abort(Refused::NotABalance(which.clone()));
            };
            if payer < amount {
                return abort(Refused::TooLittle);
            }
            // A balance too big to grow is no balance this bank keeps.
            let Some(received) = payee.checked_add(amount) else {
                return abort(Refused::NotABalance(to.clone()));
            };
            tx.insert(from.as_slice(), (payer - amount).to_string().as_bytes())?;
            tx.insert(to.as_slice(), received.to_string().as_bytes())?;
            Ok(())
        });
        match result {
            Ok(()) => {
                committed.fetch_add(1, Ordering::Release);
            }
            Err(TransactionError::Abort(Refused::TooLittle)) => {}
            Err(TransactionError::Abort(Refused::NotABalance(key))) => {
                return Ended::NotABalance(key)
            }
            Err(TransactionError::Storage(e)) => return Ended::Storage(e.to_string()),
        }
    }
    Ended::Normally
}

/// A balance: a whole number of at least 0, written in decimal.
pub(crate) fn balance(value: Option<&[u8]>) -> Option<u64> {
    std::str::from_utf8(value?).ok()?.trim().parse().ok()
}

/// A small xorshift generator: which accounts and amounts need no more.
struct Random(u64);

impl Random {
    fn seeded() -> Random {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Random(nanos | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank(n: usize) -> (sled::Db, Vec<Vec<u8>>) {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let keys: Vec<Vec<u8>> = (0..n)
            .map(|i| format!("acct:{i:03}").into_bytes())
            .collect();
        for k in &keys {
            db.insert(k, "100").unwrap();
        }
        (db, keys)
    }

    fn total(db: &sled::Db) -> u64 {
        db.scan_prefix("acct:")
            .map(|r| balance(Some(&r.unwrap().1)).unwrap())
            .sum()
    }

    #[test]
    fn transfers_move_money_and_keep_the_total() {
        let (db, keys) = bank(20);
        let mut transfers = Transfers::default();
        transfers
            .start(
                sled::Tree::clone(&db),
                String::new(),
                b"acct:".to_vec(),
                keys,
            )
            .unwrap();
        // Wait on the thread's own count, not on time.
        let running = |t: &Transfers| !t.running.as_ref().unwrap().thread.is_finished();
        while transfers.committed().unwrap() < 200 && running(&transfers) {
            std::thread::yield_now();
        }
        let said = transfers.stop("at the end of the cell").unwrap();
        assert!(said.starts_with("%transfers \"acct:\": "), "{said}");
        assert!(
            said.ends_with("committed, then it stopped at the end of the cell"),
            "{said}"
        );
        assert_eq!(transfers.committed(), None, "stopped");
        assert_eq!(total(&db), 2000);
        let moved = db
            .scan_prefix("acct:")
            .filter(|r| r.as_ref().unwrap().1 != "100")
            .count();
        assert!(moved > 0, "no balance changed");
        assert_eq!(transfers.stop("again"), None, "nothing left to stop");
    }

    #[test]
    fn a_balance_that_is_not_a_number_stops_the_thread_and_says_which() {
        let (db, keys) = bank(2);
        db.insert("acct:001", "lots").unwrap();
        let mut transfers = Transfers::default();
        transfers
            .start(
                sled::Tree::clone(&db),
                "[bank] ".into(),
                b"acct:".to_vec(),
                keys,
            )
            .unwrap();
        // The thread ends on its own at the first transfer it tries.
        while !transfers.running.as_ref().unwrap().thread.is_finished() {
            std::thread::yield_now();
        }
        let said = transfers.stop("at the end of the cell").unwrap();
        assert_eq!(
            said,
            "[bank] %transfers \"acct:\": 0 transfers committed; it stopped early because acct:001 no longer holds a whole number"
        );
    }

    #[test]
    fn balances_are_whole_numbers_of_at_least_zero() {
        assert_eq!(balance(Some(b"100")), Some(100));
        assert_eq!(balance(Some(b"0")), Some(0));
        assert_eq!(balance(Some(b"-1")), None);
        assert_eq!(balance(Some(b"1.5")), None);
        assert_eq!(balance(None), None);
        let mut random = Random(7);
        assert!((0..1000).all(|_| random.below(3) < 3));
    }
}
