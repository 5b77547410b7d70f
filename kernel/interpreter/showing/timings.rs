//! The `%timings` table: lines timed with `%time`, side by side, each with
//! how many times slower than the fastest it was and a bar on a log scale,
//! since the figures of a lesson on costs span from microseconds to
//! seconds. The measurements themselves are kept by `running::context`.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::json;

use super::render::{self, Answer};

/// Characters of a timed line a table shows.
const LINE_CHARS: usize = 60;
/// Bar characters per factor of ten.
const PER_DECADE: usize = 5;

/// One timed line, as the table is given it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Measured<'a> {
    /// Counted from 1 over the whole session, forgotten ones included.
    pub number: usize,
    pub line: &'a str,
    pub elapsed: Duration,
}

/// The table of `measured` (oldest first), of `recorded` timings in all;
/// `None` when there is nothing to show.
pub(crate) fn table(measured: &[Measured<'_>], recorded: usize) -> Option<Answer> {
    let fastest = measured.iter().map(|m| m.elapsed).min()?;
    // A line that took no measurable time counts as one nanosecond.
    let floor = fastest.as_secs_f64().max(1e-9);
    let rows: Vec<Row> = measured
        .iter()
        .map(|m| {
            let times = m.elapsed.as_secs_f64().max(1e-9) / floor;
            Row {
                number: m.number,
                line: render::clip(m.line, LINE_CHARS),
                time: render::duration(m.elapsed),
                times: ratio(times),
                bar: bar(times),
                seconds: m.elapsed.as_secs_f64(),
                times_fastest: times,
            }
        })
        .collect();
    let forgotten = recorded.saturating_sub(measured.len());
    let caption = format!(
        "%timings: {} timed with %time in this session{}; bars on a log scale, {PER_DECADE} marks for each ten times slower",
        render::plural(recorded, "line"),
        if forgotten > 0 {
            format!(" (the first {forgotten} are forgotten)")
        } else {
            String::new()
        }
    );
    let text = text_table(&caption, &rows);
    let json = json!({
        "timings": rows.iter().map(|r| json!({
            "number": r.number,
            "line": r.line,
            "seconds": r.seconds,
            "times_fastest": r.times_fastest,
        })).collect::<Vec<_>>(),
    });
    Some(Answer {
        shown: text.clone(),
        text,
        json,
        html: Some(html_table(&caption, &rows)),
    })
}

struct Row {
    number: usize,
    line: String,
    time: String,
    times: String,
    bar: String,
    seconds: f64,
    times_fastest: f64,
}

const HEADINGS: [&str; 5] = ["#", "line", "wall time", "× the fastest", "log scale"];

/// `1.0`, `2.5`, `3,567`: how many times the fastest.
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
            r.number.to_string(),
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
    fn nothing_measured_is_no_table() {
        assert!(table(&[], 0).is_none());
    }

    #[test]
    fn forgotten_lines_are_counted_in_the_caption() {
        let measured = [
            Measured {
                number: 6,
                line: "get k5",
                elapsed: Duration::from_micros(10),
            },
            Measured {
                number: 7,
                line: "iter",
                elapsed: Duration::from_micros(1000),
            },
        ];
        let answer = table(&measured, 7).unwrap();
        assert!(
            answer.text.starts_with(
                "%timings: 7 lines timed with %time in this session (the first 5 are forgotten)"
            ),
            "{}",
            answer.text
        );
        let rows = answer.json["timings"].as_array().unwrap();
        assert_eq!(rows[0]["number"], 6);
        assert_eq!(rows[0]["times_fastest"], 1.0);
        assert_eq!(rows[1]["times_fastest"], 100.0);
        assert!(answer
            .text
            .lines()
            .nth(3)
            .unwrap()
            .ends_with(&"█".repeat(11)));
    }
}
