//! `history_request`: the cells run in this kernel and in earlier ones, for
//! `tail`, `range` and `search` queries.
//!
//! Entries are numbered as IPython numbers them: (session, line), where line
//! is the execution count. Each kernel process appends its own session to its
//! own file, `session-N.jsonl`, in a folder of the per-user Jupyter data dir,
//! so two kernels running at once never wait on each other; a new kernel
//! claims the next free N with an exclusive create. Earlier sessions are read
//! only when a request first needs them, so start-up stays fast.

use crate::message::HistoryRequest;
use log::warn;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::cell::OnceCell;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// How many entries `tail` returns when the request names no `n`.
const DEFAULT_TAIL: usize = 10;
/// Sessions kept on disk; older files are removed when a kernel starts.
const KEEP_SESSIONS: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    #[serde(skip)]
    pub session: i64,
    pub line: u64,
    pub input: String,
    /// The `text/plain` of the cell's execute_result, if it had one.
    pub output: Option<String>,
}

#[derive(Debug)]
pub struct History {
    session: i64,
    current: Vec<Entry>,
    /// Where the sessions live; `None` keeps history in memory only.
    dir: Option<PathBuf>,
    file: Option<File>,
    earlier: OnceCell<Vec<Entry>>,
}

impl History {
    /// History for this process only (session 1), nothing on disk.
    pub fn in_memory() -> Self {
        History {
            session: 1,
            current: Vec::new(),
            dir: None,
            file: None,
            earlier: OnceCell::from(Vec::new()),
        }
    }

    /// Opens the history folder, claims a new session number in it and
    /// removes sessions beyond the newest [`KEEP_SESSIONS`].
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut sessions = session_files(dir);
        let mut session = sessions.last().map_or(1, |(n, _)| n + 1);
        let file = loop {
            match OpenOptions::new()
                .append(true)
                .create_new(true)
                .open(session_path(dir, session))
            {
                Ok(file) => break file,
                // Another kernel took this number a moment ago.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => session += 1,
                Err(e) => return Err(e),
            }
        };
        let excess = (sessions.len() + 1).saturating_sub(KEEP_SESSIONS);
        for (_, path) in sessions.drain(..excess) {
            let _ = std::fs::remove_file(path);
        }
        Ok(History {
            session,
            current: Vec::new(),
            dir: Some(dir.to_path_buf()),
            file: Some(file),
            earlier: OnceCell::new(),
        })
    }

    pub fn session(&self) -> i64 {
        self.session
    }

    pub fn record(&mut self, line: u64, input: &str, output: Option<String>) {
        let entry = Entry {
            session: self.session,
            line,
            input: input.to_string(),
            output,
        };
        if let Some(file) = &mut self.file {
            let written = serde_json::to_string(&entry)
                .map_err(std::io::Error::other)
                .and_then(|line| writeln!(file, "{line}"));
            if let Err(e) = written {
                warn!("history: could not append to session {}: {e}", self.session);
            }
        }
        self.current.push(entry);
    }

    /// Sessions before this one, read from disk on first use.
    fn earlier(&self) -> &[Entry] {
        self.earlier.get_or_init(|| {
            let Some(dir) = &self.dir else {
                return Vec::new();
            };
            session_files(dir)
                .into_iter()
                .filter(|(n, _)| *n < self.session)
                .flat_map(|(n, path)| read_session(n, &path))
                .collect()
        })
    }

    fn all(&self) -> impl Iterator<Item = &Entry> {
        self.earlier().iter().chain(self.current.iter())
    }

    /// Answers a request; an unknown access type or a bad glob is an `Err`
    /// with a sentence for the error reply.
    pub fn query(&self, req: &HistoryRequest) -> Result<Vec<Value>, String> {
        let picked: Vec<&Entry> = match req.hist_access_type.as_str() {
            "tail" => last(self.all().collect(), req.n.unwrap_or(DEFAULT_TAIL)),
            "range" => {
                // 0 is "this session"; negative counts back from it.
                let session = if req.session <= 0 {
                    self.session + req.session
                } else {
                    req.session
                };
                self.all()
                    .filter(|e| e.session == session)
                    .filter(|e| e.line as i64 >= req.start)
                    .filter(|e| req.stop.is_none_or(|stop| (e.line as i64) < stop))
                    .collect()
            }
            "search" => {
                let glob = req.pattern.as_deref().unwrap_or("*");
                let pattern = glob::Pattern::new(glob)
                    .map_err(|e| format!("history search pattern {glob:?} is not a glob: {e}"))?;
                let mut found: Vec<&Entry> =
                    self.all().filter(|e| pattern.matches(&e.input)).collect();
                if req.unique {
                    // Keep the latest run of each distinct input.
                    let mut seen = std::collections::HashSet::new();
                    found.reverse();
                    found.retain(|e| seen.insert(e.input.as_str()));
                    found.reverse();
                }
                match req.n {
                    Some(n) => last(found, n),
                    None => found,
                }
            }
            other => {
                return Err(format!(
                    "hist_access_type {other:?} is not one of \"tail\", \"range\", \"search\""
                ))
            }
        };
        Ok(picked
            .into_iter()
            .map(|e| {
                if req.output {
                    // A cell without a result has the empty output: clients
                    // read the pair as two strings (runtimed's
                    // jupyter-protocol refuses a null there).
                    let output = e.output.as_deref().unwrap_or_default();
                    json!([e.session, e.line, [e.input, output]])
                } else {
                    json!([e.session, e.line, e.input])
                }
            })
            .collect())
    }
}

fn session_path(dir: &Path, session: i64) -> PathBuf {
    dir.join(format!("session-{session}.jsonl"))
}

/// The session files in `dir`, oldest first.
fn session_files(dir: &Path) -> Vec<(i64, PathBuf)> {
    let mut found: Vec<(i64, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name();
            let n = name
                .to_str()?
                .strip_prefix("session-")?
                .strip_suffix(".jsonl")?
                .parse()
                .ok()?;
            Some((n, entry.path()))
        })
        .collect();
    found.sort();
    found
}

/// One session's entries; a line that does not parse (a write cut short by
/// a crash) is skipped rather than losing the rest.
fn read_session(session: i64, path: &Path) -> Vec<Entry> {
    let Ok(file) = File::open(path) else {
        return Vec::new();
    };
    BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| serde_json::from_str::<Entry>(&line).ok())
        .map(|entry| Entry { session, ..entry })
        .collect()
}

fn last(mut entries: Vec<&Entry>, n: usize) -> Vec<&Entry> {
    let skip = entries.len().saturating_sub(n);
    entries.drain(..skip);
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(kind: &str) -> HistoryRequest {
        HistoryRequest {
            output: false,
            raw: true,
            hist_access_type: kind.into(),
            session: 0,
            start: 0,
            stop: None,
            n: None,
            pattern: None,
            unique: false,
        }
    }

    fn sample() -> History {
        let mut h = History::in_memory();
        h.record(1, "insert a 1", None);
        h.record(2, "get a", Some("get a -> \"1\"".into()));
        h.record(3, "get b", Some("get b -> <missing>".into()));
        h.record(4, "get a", Some("get a -> \"1\"".into()));
        h
    }

    #[test]
    fn tail_returns_the_last_n_in_order() {
        let req = HistoryRequest {
            n: Some(2),
            ..request("tail")
        };
        let got = sample().query(&req).unwrap();
        assert_eq!(got, vec![json!([1, 3, "get b"]), json!([1, 4, "get a"])]);
    }

    #[test]
    fn output_pairs_input_with_result() {
        let req = HistoryRequest {
            n: Some(1),
            output: true,
            ..request("tail")
        };
        let got = sample().query(&req).unwrap();
        assert_eq!(got, vec![json!([1, 4, ["get a", "get a -> \"1\""]])]);
    }

    #[test]
    fn range_is_start_inclusive_stop_exclusive() {
        let req = HistoryRequest {
            session: 1,
            start: 2,
            stop: Some(4),
            ..request("range")
        };
        let lines: Vec<Value> = sample()
            .query(&req)
            .unwrap()
            .iter()
            .map(|e| e[1].clone())
            .collect();
        assert_eq!(lines, vec![json!(2), json!(3)]);
        // Session 0 means the current one; -1 the one before, which is empty.
        assert_eq!(sample().query(&request("range")).unwrap().len(), 4);
        let previous = HistoryRequest {
            session: -1,
            ..request("range")
        };
        assert!(sample().query(&previous).unwrap().is_empty());
    }

    #[test]
    fn search_globs_unique_and_n() {
        let req = HistoryRequest {
            pattern: Some("get *".into()),
            ..request("search")
        };
        assert_eq!(sample().query(&req).unwrap().len(), 3);
        let unique = HistoryRequest {
            unique: true,
            ..req.clone()
        };
        let got = sample().query(&unique).unwrap();
        assert_eq!(got, vec![json!([1, 3, "get b"]), json!([1, 4, "get a"])]);
        let n = HistoryRequest { n: Some(1), ..req };
        assert_eq!(sample().query(&n).unwrap(), vec![json!([1, 4, "get a"])]);
    }

    #[test]
    fn bad_requests_say_why() {
        assert!(sample().query(&request("everything")).is_err());
        let req = HistoryRequest {
            pattern: Some("[".into()),
            ..request("search")
        };
        assert!(sample().query(&req).unwrap_err().contains("glob"));
    }

    #[test]
    fn sessions_persist_and_two_kernels_get_their_own_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = History::open(dir.path()).unwrap();
        let mut second = History::open(dir.path()).unwrap();
        assert_eq!((first.session(), second.session()), (1, 2));
        first.record(1, "insert a 1", None);
        second.record(1, "get a", Some("get a -> \"1\"".into()));
        drop(first);
        drop(second);
        let third = History::open(dir.path()).unwrap();
        assert_eq!(third.session(), 3);
        let req = HistoryRequest {
            n: Some(5),
            output: true,
            ..request("tail")
        };
        assert_eq!(
            third.query(&req).unwrap(),
            vec![
                json!([1, 1, ["insert a 1", ""]]),
                json!([2, 1, ["get a", "get a -> \"1\""]]),
            ]
        );
        let range = HistoryRequest {
            session: -1,
            ..request("range")
        };
        assert_eq!(third.query(&range).unwrap(), vec![json!([2, 1, "get a"])]);
    }

    #[test]
    fn a_torn_line_costs_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("session-1.jsonl"),
            "{\"line\":1,\"input\":\"keys\",\"output\":null}\n{\"line\":2,\"inp",
        )
        .unwrap();
        let history = History::open(dir.path()).unwrap();
        let got = history.query(&request("tail")).unwrap();
        assert_eq!(got, vec![json!([1, 1, "keys"])]);
    }

    #[test]
    fn only_the_newest_sessions_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        for n in 1..=KEEP_SESSIONS as i64 + 5 {
            std::fs::write(session_path(dir.path(), n), "").unwrap();
        }
        let history = History::open(dir.path()).unwrap();
        let files = session_files(dir.path());
        assert_eq!(files.len(), KEEP_SESSIONS);
        assert_eq!(files.last().unwrap().0, history.session());
        assert_eq!(files[0].0, 7);
    }
}
