//! Running one command against the session database.
//!
//! `run` only computes what a command produced ([`Effect`]); where that goes
//! (stdout, a display, or the cell's result) is decided by the caller, which
//! knows whether this was the cell's last command.

use std::time::{Duration, Instant};

use super::parser::Command;
use super::render::{self, RowSource, Rows};
use super::session::{Session, SessionError};
use super::Interrupt;

/// Rows read between two looks at the interrupt flag.
const INTERRUPT_CHECK_EVERY: usize = 1000;
/// The longest `%sleep` goes without looking at the interrupt flag.
const SLEEP_SLICE: Duration = Duration::from_millis(20);

/// What a command produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// A line for stdout (without its newline).
    Print(String),
    /// A line for stderr (without its newline).
    Warn(String),
    /// The answer of a single-key read.
    Value {
        key: Vec<u8>,
        value: Option<Vec<u8>>,
    },
    /// Rows read from the database.
    Rows(Rows),
    /// Nothing to show.
    Nothing,
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("interrupted")]
    Interrupted,
    #[error(transparent)]
    Storage(#[from] SessionError),
}

impl From<sled::Error> for EvalError {
    fn from(e: sled::Error) -> Self {
        EvalError::Storage(SessionError::Sled(e))
    }
}

pub fn run(
    session: &mut Session,
    command: &Command,
    interrupt: &Interrupt,
) -> Result<Effect, EvalError> {
    let db = session.db();
    let effect = match command {
        Command::Insert { key, value } => {
            let old = db.insert(key.as_slice(), value.as_slice())?;
            let mut line = format!("put {} = {}", render::key(key), render::value(value));
            if let Some(old) = old {
                line.push_str(&format!(" (was {})", render::value(&old)));
            }
            Effect::Print(line)
        }
        Command::Get { key } => Effect::Value {
            key: key.clone(),
            value: db.get(key)?.map(|v| v.to_vec()),
        },
        Command::Remove { key } => {
            let was = match db.remove(key.as_slice())? {
                Some(old) => format!("was {}", render::value(&old)),
                None => "was missing".to_string(),
            };
            Effect::Print(format!("remove {} ({was})", render::key(key)))
        }
        Command::ScanPrefix { prefix } => {
            let rows = collect(db.scan_prefix(prefix), interrupt, |(k, v)| {
                (k.to_vec(), Some(v.to_vec()))
            })?;
            Effect::Rows(Rows {
                source: RowSource::ScanPrefix(prefix.clone()),
                rows,
            })
        }
        Command::Iter => {
            let rows = collect(db.iter(), interrupt, |(k, v)| {
                (k.to_vec(), Some(v.to_vec()))
            })?;
            Effect::Rows(Rows {
                source: RowSource::Iter,
                rows,
            })
        }
        Command::Keys => {
            let rows = collect(db.iter().keys(), interrupt, |k| (k.to_vec(), None))?;
            Effect::Rows(Rows {
                source: RowSource::Keys,
                rows,
            })
        }
        Command::Flush => Effect::Print(format!("flushed {} bytes", db.flush()?)),
        Command::Reset => {
            session.reset()?;
            Effect::Print("opened fresh database".to_string())
        }
        Command::Echo { text } => Effect::Print(text.clone()),
        Command::Warn { text } => Effect::Warn(format!("warning: {text}")),
        Command::Sleep { duration } => {
            sleep(*duration, interrupt)?;
            Effect::Nothing
        }
    };
    Ok(effect)
}

/// Drains a sled iterator, looking at the interrupt flag every
/// [`INTERRUPT_CHECK_EVERY`] rows (starting with the first).
fn collect<T, R>(
    rows: impl Iterator<Item = sled::Result<T>>,
    interrupt: &Interrupt,
    mut row: impl FnMut(T) -> R,
) -> Result<Vec<R>, EvalError> {
    let mut out = Vec::new();
    for (i, item) in rows.enumerate() {
        if i % INTERRUPT_CHECK_EVERY == 0 && interrupt.is_raised() {
            return Err(EvalError::Interrupted);
        }
        out.push(row(item?));
    }
    Ok(out)
}

/// Sleeps in short slices so an interrupt ends the wait promptly.
fn sleep(duration: Duration, interrupt: &Interrupt) -> Result<(), EvalError> {
    // A deadline too far away to represent means "until interrupted".
    let deadline = Instant::now().checked_add(duration);
    loop {
        if interrupt.is_raised() {
            return Err(EvalError::Interrupted);
        }
        let left = match deadline {
            Some(deadline) => deadline.saturating_duration_since(Instant::now()),
            None => SLEEP_SLICE,
        };
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(SLEEP_SLICE));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    fn run_ok(session: &mut Session, command: Command) -> Effect {
        run(session, &command, &Interrupt::new()).unwrap()
    }

    fn print(s: &str) -> Effect {
        Effect::Print(s.to_string())
    }

    #[test]
    fn insert_reports_the_replaced_value() {
        let mut s = Session::open().unwrap();
        let insert = |v: &str| Command::Insert {
            key: b("todo:001"),
            value: b(v),
        };
        assert_eq!(
            run_ok(&mut s, insert("buy boots")),
            print(r#"put todo:001 = "buy boots""#)
        );
        assert_eq!(
            run_ok(&mut s, insert("buy shoes")),
            print(r#"put todo:001 = "buy shoes" (was "buy boots")"#)
        );
        assert_eq!(
            s.db().get("todo:001").unwrap().as_deref(),
            Some(&b"buy shoes"[..])
        );
    }

    #[test]
    fn get_returns_the_value_or_none() {
        let mut s = Session::open().unwrap();
        s.db().insert("k", "v").unwrap();
        assert_eq!(
            run_ok(&mut s, Command::Get { key: b("k") }),
            Effect::Value {
                key: b("k"),
                value: Some(b("v"))
            }
        );
        assert_eq!(
            run_ok(&mut s, Command::Get { key: b("x") }),
            Effect::Value {
                key: b("x"),
                value: None
            }
        );
    }

    #[test]
    fn remove_reports_what_was_there() {
        let mut s = Session::open().unwrap();
        s.db().insert("todo:001", "buy boots").unwrap();
        assert_eq!(
            run_ok(&mut s, Command::Remove { key: b("todo:001") }),
            print(r#"remove todo:001 (was "buy boots")"#)
        );
        assert_eq!(
            run_ok(&mut s, Command::Remove { key: b("todo:001") }),
            print("remove todo:001 (was missing)")
        );
        assert!(s.db().is_empty());
    }

    fn seeded() -> Session {
        let s = Session::open().unwrap();
        for (k, v) in [
            ("todo:002", "b"),
            ("note:042", "n"),
            ("todo:001", "a"),
            ("todo:", "p"),
        ] {
            s.db().insert(k, v).unwrap();
        }
        s
    }

    #[test]
    fn scan_prefix_iter_and_keys_are_sorted() {
        let mut s = seeded();
        let Effect::Rows(rows) = run_ok(&mut s, Command::ScanPrefix { prefix: b("todo:") }) else {
            panic!("not rows")
        };
        let keys: Vec<_> = rows.rows.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(keys, [b("todo:"), b("todo:001"), b("todo:002")]);
        assert_eq!(rows.rows[1].1, Some(b("a")));

        let Effect::Rows(rows) = run_ok(&mut s, Command::Iter) else {
            panic!("not rows")
        };
        assert_eq!(rows.rows.len(), 4);
        assert_eq!(rows.rows[0], (b("note:042"), Some(b("n"))));

        let Effect::Rows(rows) = run_ok(&mut s, Command::Keys) else {
            panic!("not rows")
        };
        assert_eq!(rows.source, RowSource::Keys);
        assert_eq!(rows.rows[0], (b("note:042"), None));
        assert_eq!(rows.rows[3].0, b("todo:002"));
    }

    #[test]
    fn flush_reports_bytes_and_then_nothing_left() {
        let mut s = Session::open().unwrap();
        s.db().insert("k", "v").unwrap();
        let Effect::Print(first) = run_ok(&mut s, Command::Flush) else {
            panic!("not printed")
        };
        assert!(
            first.starts_with("flushed ") && first.ends_with(" bytes"),
            "{first}"
        );
        assert_ne!(first, "flushed 0 bytes");
        assert_eq!(run_ok(&mut s, Command::Flush), print("flushed 0 bytes"));
    }

    #[test]
    fn reset_empties_the_database() {
        let mut s = seeded();
        assert_eq!(
            run_ok(&mut s, Command::Reset),
            print("opened fresh database")
        );
        assert!(s.db().is_empty());
    }

    #[test]
    fn echo_warn_and_sleep() {
        let mut s = Session::open().unwrap();
        assert_eq!(
            run_ok(
                &mut s,
                Command::Echo {
                    text: "hi there".into()
                }
            ),
            print("hi there")
        );
        assert_eq!(
            run_ok(
                &mut s,
                Command::Warn {
                    text: "careful".into()
                }
            ),
            Effect::Warn("warning: careful".into())
        );
        let started = Instant::now();
        let effect = run_ok(
            &mut s,
            Command::Sleep {
                duration: Duration::from_millis(60),
            },
        );
        assert_eq!(effect, Effect::Nothing);
        assert!(started.elapsed() >= Duration::from_millis(60));
    }

    #[test]
    fn a_raised_interrupt_stops_scans_and_sleeps() {
        let mut s = seeded();
        let interrupt = Interrupt::new();
        interrupt.raise();
        for command in [
            Command::Iter,
            Command::Keys,
            Command::ScanPrefix { prefix: b("todo:") },
            Command::Sleep {
                duration: Duration::from_secs(60),
            },
        ] {
            let result = run(&mut s, &command, &interrupt);
            assert!(
                matches!(result, Err(EvalError::Interrupted)),
                "{command:?}: {result:?}"
            );
        }
    }

    #[test]
    fn a_long_scan_notices_an_interrupt_raised_midway() {
        let mut s = Session::open().unwrap();
        for i in 0..5000u32 {
            s.db().insert(i.to_be_bytes(), &b"v"[..]).unwrap();
        }
        let interrupt = Interrupt::new();
        let seen = std::cell::Cell::new(0usize);
        let flag = interrupt.clone();
        // Raise the flag from "inside" the scan, after 1500 rows: the next
        // check (at row 2000) must stop it.
        let rows = s.db().iter().inspect(|_| {
            seen.set(seen.get() + 1);
            if seen.get() == 1500 {
                flag.raise();
            }
        });
        let result = collect(rows, &interrupt, |(k, _)| k.to_vec());
        assert!(matches!(result, Err(EvalError::Interrupted)));
        assert_eq!(seen.get(), 2001);
        // And a clean flag lets the same scan finish.
        let all = run(&mut s, &Command::Keys, &Interrupt::new()).unwrap();
        let Effect::Rows(rows) = all else { panic!() };
        assert_eq!(rows.rows.len(), 5000);
    }

    #[test]
    fn absurdly_long_sleep_is_still_interruptible() {
        let interrupt = Interrupt::new();
        let flag = interrupt.clone();
        let raiser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            flag.raise();
        });
        let result = sleep(Duration::MAX, &interrupt);
        raiser.join().unwrap();
        assert!(matches!(result, Err(EvalError::Interrupted)));
    }
}
