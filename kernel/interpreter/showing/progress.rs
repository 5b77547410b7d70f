//! A progress bar for long work (`%load` of a big file, a big `batch`): one
//! display that is updated in place, and that ends with the counts and the
//! throughput.
//!
//! Only work of at least [`SHOW_FROM`] rows gets a bar. The threshold is a
//! count, not a time, so whether a bar appears never depends on how fast
//! the machine is (lessons stay reproducible: their loads are smaller).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::render::{self, JSON_MIME};
use crate::cell::{MimeBundle, Output};

/// Work of fewer rows than this shows no bar.
pub(crate) const SHOW_FROM: usize = 10_000;
/// Updates come at most this often.
const EVERY: Duration = Duration::from_millis(100);
/// Characters in the text bar.
const WIDTH: usize = 30;

/// Display ids for this session's live displays: unique per kernel, so a
/// frontend never confuses the displays of two kernels.
#[derive(Debug, Clone)]
pub(crate) struct DisplayIds {
    prefix: String,
    next: u64,
}

impl Default for DisplayIds {
    fn default() -> Self {
        DisplayIds {
            prefix: uuid::Uuid::new_v4().simple().to_string(),
            next: 0,
        }
    }
}

impl DisplayIds {
    pub(crate) fn next(&mut self, what: &str) -> String {
        self.next += 1;
        format!("sled-{what}-{}-{}", self.prefix, self.next)
    }
}

/// A bar being shown.
pub(crate) struct Progress {
    id: String,
    /// What is being done: `%load big.jsonl`.
    what: String,
    /// What is counted: `row`, `write`.
    unit: &'static str,
    total: usize,
    started: Instant,
    last_sent: Instant,
}

impl Progress {
    /// Shows a bar at 0 when `total` is big enough; `None` otherwise.
    pub(crate) fn start(
        out: &mut dyn Output,
        ids: &mut DisplayIds,
        what: impl Into<String>,
        unit: &'static str,
        total: usize,
    ) -> Option<Progress> {
        if total < SHOW_FROM {
            return None;
        }
        let now = Instant::now();
        let bar = Progress {
            id: ids.next("progress"),
            what: what.into(),
            unit,
            total,
            started: now,
            last_sent: now,
        };
        out.display_with_id(bar.bundle(0, None), &bar.id);
        Some(bar)
    }

    /// Moves the bar to `done`, if the last update is old enough.
    pub(crate) fn advance(&mut self, out: &mut dyn Output, done: usize) {
        if self.last_sent.elapsed() >= EVERY {
            self.last_sent = Instant::now();
            out.update_display(self.bundle(done, None), &self.id);
        }
    }

    /// Says what is happening now (`applying the batch`), at once.
    pub(crate) fn phase(&mut self, out: &mut dyn Output, done: usize, phase: &str) {
        self.last_sent = Instant::now();
        out.update_display(self.bundle(done, Some(phase)), &self.id);
    }

    /// The last update: a full bar, the count, the time and the rate.
    pub(crate) fn finish(self, out: &mut dyn Output, done: usize) {
        let elapsed = self.started.elapsed();
        let rate = done as f64 / elapsed.as_secs_f64().max(1e-9);
        let text = format!(
            "{}: done, {} {}{} in {} ({} {}s/s)",
            self.what,
            thousands(done as u64),
            self.unit,
            if done == 1 { "" } else { "s" },
            render::duration(elapsed),
            thousands(rate.round() as u64),
            self.unit
        );
        let json = json!({
            "progress": self.what,
            "done": done,
            "total": self.total,
            "finished": true,
            "seconds": elapsed.as_secs_f64(),
            "per_second": rate,
        });
        let bundle = bar_bundle(1.0, done, done, &text, json);
        out.update_display(bundle, &self.id);
    }

    fn bundle(&self, done: usize, phase: Option<&str>) -> MimeBundle {
        let fraction = (done as f64 / self.total.max(1) as f64).clamp(0.0, 1.0);
        let percent = (fraction * 100.0).floor() as u32;
        let mut text = format!(
            "{}: {percent}% ({} of {} {}s)",
            self.what,
            thousands(done as u64),
            thousands(self.total as u64),
            self.unit
        );
        if let Some(phase) = phase {
            text.push_str(&format!(", {phase}"));
        }
        let json = json!({
            "progress": self.what,
            "done": done,
            "total": self.total,
            "finished": false,
            "phase": phase,
        });
        bar_bundle(fraction, done, self.total, &text, json)
    }
}

/// A bar in three forms: text, an HTML `<progress>`, and JSON.
fn bar_bundle(fraction: f64, value: usize, max: usize, text: &str, json: Value) -> MimeBundle {
    let mut bundle = MimeBundle::new();
    bundle.insert(
        "text/plain".into(),
        Value::String(format!("{} {text}", text_bar(fraction))),
    );
    bundle.insert(
        "text/html".into(),
        Value::String(format!(
            "<div class=\"sled-progress\"><progress value=\"{value}\" max=\"{max}\"></progress> {}</div>",
            render::escape_html(text)
        )),
    );
    bundle.insert(JSON_MIME.into(), json);
    bundle
}

/// `[##########--------------------]`
fn text_bar(fraction: f64) -> String {
    let filled = ((fraction * WIDTH as f64).round() as usize).min(WIDTH);
    format!("[{}{}]", "#".repeat(filled), "-".repeat(WIDTH - filled))
}

/// `1,000,000`
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Seen(Vec<(String, bool, MimeBundle)>);

    impl Output for Seen {
        fn stdout(&mut self, _: &str) {}
        fn stderr(&mut self, _: &str) {}
        fn display(&mut self, _: MimeBundle) {
            panic!("a progress bar always has a display id")
        }
        fn display_with_id(&mut self, data: MimeBundle, id: &str) {
            self.0.push((id.to_string(), false, data));
        }
        fn update_display(&mut self, data: MimeBundle, id: &str) {
            self.0.push((id.to_string(), true, data));
        }
    }

    #[test]
    fn small_work_shows_no_bar() {
        let mut seen = Seen::default();
        let mut ids = DisplayIds::default();
        assert!(Progress::start(&mut seen, &mut ids, "x", "row", SHOW_FROM - 1).is_none());
        assert!(seen.0.is_empty());
    }

    #[test]
    fn a_bar_starts_updates_in_place_and_finishes_with_counts_and_rate() {
        let mut seen = Seen::default();
        let mut ids = DisplayIds::default();
        let mut bar = Progress::start(&mut seen, &mut ids, "%load big.jsonl", "row", 20_000)
            .expect("a bar for 20,000 rows");
        bar.phase(&mut seen, 10_000, "halfway");
        bar.advance(&mut seen, 15_000); // too soon after the phase: no update
        bar.finish(&mut seen, 20_000);
        let ids: Vec<&str> = seen.0.iter().map(|(id, _, _)| id.as_str()).collect();
        assert_eq!(ids.len(), 3);
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
        assert_eq!(
            seen.0.iter().map(|(_, u, _)| *u).collect::<Vec<_>>(),
            [false, true, true]
        );
        let text = |i: usize| seen.0[i].2["text/plain"].as_str().unwrap().to_string();
        assert!(
            text(0).starts_with(
                "[------------------------------] %load big.jsonl: 0% (0 of 20,000 rows)"
            ),
            "{}",
            text(0)
        );
        assert!(
            text(1).contains("50% (10,000 of 20,000 rows), halfway"),
            "{}",
            text(1)
        );
        let last = text(2);
        assert!(last.starts_with(&format!("[{}]", "#".repeat(30))), "{last}");
        assert!(last.contains("done, 20,000 rows in "), "{last}");
        assert!(last.ends_with(" rows/s)"), "{last}");
        assert_eq!(seen.0[2].2[JSON_MIME]["finished"], json!(true));
        assert!(seen.0[1].2["text/html"]
            .as_str()
            .unwrap()
            .contains("<progress value=\"10000\" max=\"20000\">"));
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
