//! `history_request`: the cells this kernel ran, for `tail`, `range` and
//! `search` queries.
//!
//! Entries live in memory for the life of the kernel process, numbered the
//! way IPython numbers them: (session, line) with line = execution count.

use crate::message::HistoryRequest;
use serde_json::{json, Value};

/// The session number of this kernel's own history.
pub const CURRENT_SESSION: i64 = 1;

/// How many entries `tail` returns when the request names no `n`.
const DEFAULT_TAIL: usize = 10;

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub session: i64,
    pub line: u64,
    pub input: String,
    /// The `text/plain` of the cell's execute_result, if it had one.
    pub output: Option<String>,
}

#[derive(Debug, Default)]
pub struct History {
    entries: Vec<Entry>,
}

impl History {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn record(&mut self, line: u64, input: &str, output: Option<String>) {
        self.entries.push(Entry {
            session: CURRENT_SESSION,
            line,
            input: input.to_string(),
            output,
        });
    }

    /// Answers a request; an unknown access type or a bad glob is an `Err`
    /// with a sentence for the error reply.
    pub fn query(&self, req: &HistoryRequest) -> Result<Vec<Value>, String> {
        let picked: Vec<&Entry> = match req.hist_access_type.as_str() {
            "tail" => last(self.entries.iter().collect(), req.n.unwrap_or(DEFAULT_TAIL)),
            "range" => {
                // 0 is "this session"; negative counts back from it.
                let session = if req.session <= 0 {
                    CURRENT_SESSION + req.session
                } else {
                    req.session
                };
                self.entries
                    .iter()
                    .filter(|e| e.session == session)
                    .filter(|e| e.line as i64 >= req.start)
                    .filter(|e| req.stop.is_none_or(|stop| (e.line as i64) < stop))
                    .collect()
            }
            "search" => {
                let glob = req.pattern.as_deref().unwrap_or("*");
                let pattern = glob::Pattern::new(glob)
                    .map_err(|e| format!("history search pattern {glob:?} is not a glob: {e}"))?;
                let mut found: Vec<&Entry> = self
                    .entries
                    .iter()
                    .filter(|e| pattern.matches(&e.input))
                    .collect();
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
                    json!([e.session, e.line, [e.input, e.output]])
                } else {
                    json!([e.session, e.line, e.input])
                }
            })
            .collect())
    }
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
        let mut h = History::new();
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
            session: CURRENT_SESSION,
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
}
