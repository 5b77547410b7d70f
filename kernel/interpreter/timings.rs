//! `%timings`: the lines this session timed with `%time`, side by side.
//!
//! Every `%time LINE` adds the line and its wall time here (the caller, who
//! knows the line's text, records it). `%timings` shows them in the order
//! they ran, each with how many times slower than the fastest it was and a
//! bar on a log scale, since the figures of a lesson on costs span from
//! microseconds to seconds.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::time::Duration;

use serde_json::json;

use super::eval::Effect;
use super::render::{self, Answer};

/// Timings kept; older ones are forgotten first.
pub const KEPT: usize = 100;
/// Characters of a timed line a table shows.
const LINE_CHARS: usize = 60;
/// Bar characters per factor of ten.
const PER_DECADE: usize = 5;

/// One timed line.
#[derive(Debug, Clone, PartialEq)]
struct Timing {
    /// Counted from 1 over the whole session, forgotten ones included.
    number: usize,
    line: String,
    elapsed: Duration,
}

/// The session's timings, oldest first.
#[derive(Debug, Default)]
pub struct Timings {
    kept: VecDeque<Timing>,
    recorded: usize,
}

impl Timings {
    pub fn record(&mut self, line: &str, elapsed: Duration) {
        self.recorded += 1;
        if self.kept.len() == KEPT {
            self.kept.pop_front();
        }
        self.kept.push_back(Timing {
            number: self.recorded,
            line: line.trim().to_string(),
            elapsed,
        });
    }

    /// `%timings`.
    pub fn show(&self) -> Effect {
        let Some(fastest) = self.kept.iter().map(|t| t.elapsed).min() else {
            return Effect::Print(
                "no line has been timed yet: put `%time` in front of one, like `%time len`"
                    .to_string(),
            );
        };
        // A line that took no measurable time counts as one nanosecond.
        let floor = fastest.as_secs_f64().max(1e-9);
        let rows: Vec<Row> = self
            .kept
            .iter()
            .map(|t| {
                let times = t.elapsed.as_secs_f64().max(1e-9) / floor;
                Row {
                    number: t.number.to_string(),
                    line: render::clip(&t.line, LINE_CHARS),
                    time: render::duration(t.elapsed),
                    times: ratio(times),
                    bar: bar(times),
                    seconds: t.elapsed.as_secs_f64(),
                    times_fastest: times,
                }
            })
            .collect();
        let forgotten = self.recorded - self.kept.len();
        let caption = format!(
            "%timings: {} timed with %time in this session{}; bars on a log scale, {PER_DECADE} marks for each ten times slower",
            render::plural(self.recorded, "line"),
            if forgotten > 0 {
                format!(" (the first {forgotten} are forgotten)")
            } else {
                String::new()
            }
        );
        let text = text_table(&caption, &rows);
        let json = json!({
            "timings": rows.iter().map(|r| json!({
                "number": r.number.parse::<usize>().unwrap_or(0),
                "line": r.line,
                "seconds": r.seconds,
                "times_fastest": r.times_fastest,
            })).collect::<Vec<_>>(),
        });
        Effect::Answer(Answer {
            shown: text.clone(),
            text,
            json,
            html: Some(html_table(&caption, &rows)),
        })
    }
}

struct Row {
    number: String,
    line: String,
    time: String,
    times: String,
    bar: String,
    seconds: f64,
    times_fastest: f64,
}

const HEADINGS: [&str; 5] = ["#", "line", "wall time", "× the fastest", "log scale"];

/// `1`, `2.5`, `3,567`: how many times the fastest.
fn ratio(times: f64) -> String {
    if times < 9.95 {
        format!("{times:.1}")
    } else {
        let whole = format!("{times:.0}");
        // Thousands separators, so big ratios read at a glance.
        let mut out = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    }
}

/// One mark for the fastest, then [`PER_DECADE`] more for each factor of ten.
fn bar(times: f64) -> String {
    let marks = 1 + (times.log10().max(0.0) * PER_DECADE as f64).round() as usize;
    "█".repeat(marks.min(1 + 12 * PER_DECADE))
}

fn text_table(caption: &str, rows: &[Row]) -> String {
    let cells = |r: &Row| {
        [
            r.number.clone(),
            r.line.clone(),
            r.time.clone(),
            r.times.clone(),
        ]
    };
    let mut widths = HEADINGS.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(cells(row)) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let pad = |text: &str, width: usize, right: bool| {
        let fill = " ".repeat(width.saturating_sub(text.chars().count()));
        if right {
            format!("{fill}{text}")
        } else {
            format!("{text}{fill}")
        }
    };
    // The number, time and ratio columns are right-aligned, the line left.
    let right = [true, false, true, true];
    let mut out = String::from(caption);
    let heading: Vec<String> = (0..4)
        .map(|i| pad(HEADINGS[i], widths[i], right[i]))
        .collect();
    let _ = write!(out, "\n  {}  {}", heading.join("  "), HEADINGS[4]);
    for row in rows {
        let cells = cells(row);
        let line: Vec<String> = (0..4)
            .map(|i| pad(&cells[i], widths[i], right[i]))
            .collect();
        let _ = write!(out, "\n  {}  {}", line.join("  "), row.bar);
    }
    out
}

fn html_table(caption: &str, rows: &[Row]) -> String {
    let mut html = String::from("<table class=\"sled-timings\">\n<caption>");
    render::escape_html_into(&mut html, caption);
    html.push_str("</caption>\n<thead><tr>");
    for heading in HEADINGS {
        html.push_str("<th>");
        render::escape_html_into(&mut html, heading);
        html.push_str("</th>");
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        let _ = write!(html, "<tr><td>{}</td><td><code>", row.number);
        render::escape_html_into(&mut html, &row.line);
        let _ = writeln!(
            html,
            "</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            render::escape_html(&row.time),
            row.times,
            row.bar
        );
    }
    html.push_str("</tbody>\n</table>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_read_at_a_glance() {
        assert_eq!(ratio(1.0), "1.0");
        assert_eq!(ratio(2.54), "2.5");
        assert_eq!(ratio(12.4), "12");
        assert_eq!(ratio(3567.2), "3,567");
        assert_eq!(ratio(1_234_567.0), "1,234,567");
    }

    #[test]
    fn bars_grow_by_five_marks_for_each_ten_times() {
        assert_eq!(bar(1.0).chars().count(), 1);
        assert_eq!(bar(10.0).chars().count(), 6);
        assert_eq!(bar(1000.0).chars().count(), 16);
        assert_eq!(bar(1e30).chars().count(), 61, "capped");
    }

    #[test]
    fn only_the_last_hundred_are_kept_and_numbers_go_on() {
        let mut timings = Timings::default();
        for i in 0..KEPT + 5 {
            timings.record(&format!("get k{i}"), Duration::from_micros(10 + i as u64));
        }
        let Effect::Answer(answer) = timings.show() else {
            panic!("an answer");
        };
        assert!(answer.text.starts_with(
            "%timings: 105 lines timed with %time in this session (the first 5 are forgotten)"
        ));
        let rows = answer.json["timings"].as_array().unwrap();
        assert_eq!(rows.len(), KEPT);
        assert_eq!(rows[0]["number"], 6);
        assert_eq!(rows[0]["line"], "get k5");
        assert_eq!(rows[0]["times_fastest"], 1.0);
    }
}
