//! The picture `%log` shows: the records of sled's log file, in the order
//! sled's recovery reads them, each with its offset in the file, its size,
//! what it holds and whether its CRC matches. A batch marker's records are
//! bracketed as the one unit recovery keeps whole or not at all; a record
//! whose CRC fails is marked, and so is everything after it, which
//! recovery never reads.
//!
//! The records come from `running::log_file`, which reads the file; here
//! they only become text, an SVG and JSON.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::cell::MimeBundle;
use crate::interpreter::showing::render::{self, clip, escape_html as xml, JSON_MIME};

/// What a record holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum What {
    /// The 20 bytes that start a segment: its first LSN, and whether their
    /// own CRC matches.
    SegmentHeader { lsn: i64 },
    /// sled's list of trees: each name and the page its tree starts at.
    Trees(Vec<(Vec<u8>, u64)>),
    /// The ID counter behind `generate_id`.
    Counter(u64),
    /// A whole page: a leaf with its number of keys, or an index.
    Page { pid: u64, leaf: bool, entries: u64 },
    /// One key set on a page. `key` is the whole key when the page's prefix
    /// is known, else only the part after it (`prefix_known` false).
    Set {
        pid: u64,
        key: Vec<u8>,
        value: Vec<u8>,
        prefix_known: bool,
    },
    /// One key removed from a page.
    Del {
        pid: u64,
        key: Vec<u8>,
        prefix_known: bool,
    },
    /// Another change to a page (a step of merging two pages).
    Merge { pid: u64 },
    /// The start of a batch or transaction: the records up to the byte at
    /// LSN `last` belong to it.
    BatchMarker { last: i64 },
    /// A page given back.
    Free { pid: u64 },
    /// A page or change stored in a file of its own under `blobs/`.
    Blob { pid: u64 },
    /// Padding to the end of a full segment.
    Cap,
    /// Space reserved for a write that was then given up.
    Canceled,
    /// A record whose body could not be read (compressed, or not what its
    /// kind promises).
    Unknown { kind: u8 },
    /// A record whose CRC fails: only its kind and page, from its header.
    Damaged { kind: u8, pid: u64 },
    /// Bytes that hold nothing: zeros up to the end of the segment or file.
    Zeros,
    /// Bytes that are no record: the kind byte is not one sled writes, or
    /// the length runs past the segment. Reading stops here.
    Garbage,
}

/// One record, or one stretch of the file that is none.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    /// Where it starts in the `db` file.
    pub offset: u64,
    pub len: u64,
    /// Its log sequence number (where it stands in the log as a whole).
    pub lsn: i64,
    pub what: What,
    /// Whether its CRC matches (always true for zeros).
    pub crc_ok: bool,
    /// Whether it comes after the first record whose CRC failed: sled's
    /// recovery stops before it.
    pub past_damage: bool,
}

/// What `%log` shows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Log {
    pub file_len: u64,
    pub segments: usize,
    pub records: Vec<Record>,
    /// Records not shown (the oldest).
    pub earlier: usize,
}

impl Record {
    /// What the record holds, in words.
    pub(crate) fn describe(&self) -> String {
        let key = |key: &[u8], known: bool| {
            if known {
                render::key(key)
            } else {
                format!("…{}", render::key(key))
            }
        };
        match &self.what {
            What::SegmentHeader { lsn } => {
                format!("segment header: this segment starts at LSN {lsn}")
            }
            What::Trees(trees) if trees.is_empty() => "the list of trees (empty)".to_string(),
            What::Trees(trees) => format!(
                "the list of trees: {}",
                trees
                    .iter()
                    .map(|(name, pid)| format!("{} at page {pid}", render::tree_name(name)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            What::Counter(n) => format!("the ID counter: {n}"),
            What::Page {
                pid,
                leaf: true,
                entries,
            } => {
                format!(
                    "page {pid} whole: a leaf of {}",
                    render::plural(*entries as usize, "key")
                )
            }
            What::Page {
                pid,
                leaf: false,
                entries,
            } => format!(
                "page {pid} whole: an index of {}",
                render::plural(*entries as usize, "child")
            ),
            What::Set {
                pid,
                key: k,
                value,
                prefix_known,
            } => format!(
                "page {pid}: insert {} = {}",
                key(k, *prefix_known),
                clip(&render::value(value), 40)
            ),
            What::Del {
                pid,
                key: k,
                prefix_known,
            } => format!("page {pid}: remove {}", key(k, *prefix_known)),
            What::Merge { pid } => format!("page {pid}: a step of merging pages"),
            What::BatchMarker { last } => {
                format!("batch marker: the records up to LSN {last} are one batch or transaction")
            }
            What::Free { pid } => format!("page {pid} freed"),
            What::Blob { pid } => format!("page {pid}: stored in a blob file"),
            What::Cap => "padding to the end of the segment".to_string(),
            What::Canceled => "a canceled write".to_string(),
            What::Unknown { kind } => format!("a record of kind {kind} whose body is not readable"),
            What::Damaged { kind, pid } => format!("damaged: {}", kind_name(*kind, *pid)),
            What::Zeros => "zeros: no record here".to_string(),
            What::Garbage => "not a record: reading stops here".to_string(),
        }
    }

    fn kind(&self) -> &'static str {
        match self.what {
            What::SegmentHeader { .. } => "segment",
            What::Trees(_) | What::Counter(_) | What::Free { .. } | What::Cap | What::Canceled => {
                "sled"
            }
            What::Page { .. } | What::Merge { .. } | What::Blob { .. } => "page",
            What::Set { .. } | What::Del { .. } => "change",
            What::BatchMarker { .. } => "batch",
            What::Unknown { .. } | What::Damaged { .. } | What::Garbage => "unknown",
            What::Zeros => "zeros",
        }
    }

    /// `ok`, `BAD`, or `-` for zeros.
    fn crc(&self) -> &'static str {
        match (&self.what, self.crc_ok) {
            (What::Zeros | What::Garbage, _) => "-",
            (_, true) => "ok",
            (_, false) => "BAD",
        }
    }
}

/// What a record of sled's `MessageKind` is, from its header alone.
fn kind_name(kind: u8, pid: u64) -> String {
    match kind {
        1 => "a canceled write".to_string(),
        2 => "padding to the end of the segment".to_string(),
        3 => "a batch marker".to_string(),
        4 => format!("page {pid} freed"),
        5 => "the ID counter".to_string(),
        6 | 7 => "the list of trees".to_string(),
        8 | 9 => format!("page {pid} whole"),
        10 | 11 => format!("a change to page {pid}"),
        other => format!("a record of kind {other}"),
    }
}

impl Log {
    /// One or two sentences on what the file holds.
    pub(crate) fn story(&self) -> String {
        let all = self.records.len() + self.earlier;
        let bad = self.records.iter().filter(|r| !r.crc_ok).count();
        let past = self.records.iter().filter(|r| r.past_damage).count();
        let mut story = format!(
            "The log file `db` holds {} in {}: {}",
            render::byte_count(self.file_len as usize),
            render::plural(self.segments, "segment"),
            render::plural(all, "record"),
        );
        if self.earlier > 0 {
            let _ = write!(story, " (the last {} shown)", self.records.len());
        }
        if bad == 0 {
            story.push_str("; every CRC matches.");
        } else {
            let _ = write!(
                story,
                "; {} CRC does not match. When sled recovers, it reads the log in order from its last snapshot and stops at the first record whose CRC fails",
                if bad == 1 {
                    "1 record's".to_string()
                } else {
                    format!("{bad} records'")
                }
            );
            if past > 0 {
                let _ = write!(
                    story,
                    ", so it would not read the {} after it either",
                    render::plural(past, "record")
                );
            }
            story.push('.');
        }
        story
    }

    pub(crate) fn bundle(&self) -> MimeBundle {
        let mut bundle = MimeBundle::new();
        bundle.insert("text/plain".into(), Value::String(self.text()));
        bundle.insert("image/svg+xml".into(), Value::String(self.svg()));
        bundle.insert(JSON_MIME.into(), self.json());
        bundle
    }

    fn text(&self) -> String {
        let mut out = format!("%log: {}\n", self.story());
        if self.earlier > 0 {
            let _ = writeln!(out, "  … {} before", render::plural(self.earlier, "record"));
        }
        let _ = writeln!(
            out,
            "  {:>7}  {:>5}  {:<3}  record",
            "offset", "bytes", "CRC"
        );
        for r in &self.records {
            let mut line = format!(
                "  {:>7}  {:>5}  {:<3}  {}",
                r.offset,
                r.len,
                r.crc(),
                r.describe()
            );
            if r.past_damage {
                line.push_str("  (after the damage: not read)");
            }
            out.push_str(&line);
            out.push('\n');
        }
        out.truncate(out.trim_end().len());
        out
    }

    fn json(&self) -> Value {
        let records: Vec<Value> = self
            .records
            .iter()
            .map(|r| {
                json!({
                    "offset": r.offset,
                    "bytes": r.len,
                    "lsn": r.lsn,
                    "kind": r.kind(),
                    "record": r.describe(),
                    "crc_ok": r.crc_ok,
                    "past_damage": r.past_damage,
                })
            })
            .collect();
        json!({
            "log": "db",
            "file_bytes": self.file_len,
            "segments": self.segments,
            "earlier": self.earlier,
            "records": records,
        })
    }

    fn svg(&self) -> String {
        let story = wrap(&self.story(), 92);
        let top = 44 + story.len() * 14 + 18;
        let extra = usize::from(self.earlier > 0);
        let rows = self.records.len() + extra;
        let height = top + rows.max(1) * ROW + 12;
        let mut svg = String::with_capacity(2048 + rows * 400);
        let _ = writeln!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"sled-log\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" font-family=\"monospace\" font-size=\"12\">"
        );
        let _ = writeln!(svg, "<title>%log</title>");
        let _ = writeln!(
            svg,
            "<rect x=\"0.5\" y=\"0.5\" width=\"{}\" height=\"{}\" rx=\"8\" fill=\"#fafafa\" stroke=\"#90a4ae\"/>",
            WIDTH - 1,
            height - 1
        );
        let _ = writeln!(
            svg,
            "<text x=\"12\" y=\"22\" font-weight=\"bold\">%log</text>"
        );
        for (i, line) in story.iter().enumerate() {
            let _ = writeln!(
                svg,
                "<text x=\"12\" y=\"{}\" font-size=\"11\" fill=\"#455a64\">{}</text>",
                38 + i * 14,
                xml(line)
            );
        }
        let head = top - 6;
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{head}\" font-size=\"11\" fill=\"#607d8b\" text-anchor=\"end\">offset</text><text x=\"{}\" y=\"{head}\" font-size=\"11\" fill=\"#607d8b\" text-anchor=\"end\">bytes</text><text x=\"{}\" y=\"{head}\" font-size=\"11\" fill=\"#607d8b\">record</text>",
            OFFSET_X,
            BYTES_X,
            LABEL_X
        );
        if self.earlier > 0 {
            let _ = writeln!(
                svg,
                "<text class=\"more\" x=\"{LABEL_X}\" y=\"{}\" fill=\"#78909c\">… {} before</text>",
                top + 16,
                xml(&render::plural(self.earlier, "record"))
            );
        }
        // Zeros can run to the end of a 512 KiB segment: they get the widest
        // bar, and do not set the scale for the records.
        let widest = self
            .records
            .iter()
            .filter(|r| !matches!(r.what, What::Zeros))
            .map(|r| r.len)
            .max()
            .unwrap_or(1)
            .max(1);
        for (i, r) in self.records.iter().enumerate() {
            record_svg(&mut svg, r, top + (i + extra) * ROW, widest);
        }
        // Brackets: each batch marker with the records it covers.
        for (i, r) in self.records.iter().enumerate() {
            let What::BatchMarker { last } = r.what else {
                continue;
            };
            let covered = self.records[i + 1..]
                .iter()
                .take_while(|c| c.lsn <= last && !matches!(c.what, What::Zeros))
                .count();
            let (y0, y1) = (
                top + (i + extra) * ROW + 4,
                top + (i + extra + covered) * ROW + ROW - 4,
            );
            let _ = writeln!(
                svg,
                "<g class=\"batch\"><path d=\"M {x} {y0} h 8 V {y1} h -8\" fill=\"none\" stroke=\"#e65100\" stroke-width=\"2\"/><text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#e65100\">all or none</text></g>",
                BRACKET_X + 12,
                (y0 + y1) / 2 + 4,
                x = BRACKET_X,
            );
        }
        svg.push_str("</svg>");
        svg
    }
}

// The picture's geometry, in SVG user units.
const WIDTH: usize = 790;
const ROW: usize = 22;
const OFFSET_X: usize = 62;
const BAR_X: usize = 72;
const BAR_W: usize = 70;
/// Where the byte counts end (they are right-aligned).
const BYTES_X: usize = 176;
const LABEL_X: usize = 186;
const LABEL_CHARS: usize = 68;
const BRACKET_X: usize = 690;

fn record_svg(svg: &mut String, r: &Record, y: usize, widest: u64) {
    let (fill, stroke) = match (r.crc_ok, r.past_damage, r.kind()) {
        (false, _, _) => ("#ef9a9a", "#c62828"),
        (_, true, _) => ("#eeeeee", "#bdbdbd"),
        (_, _, "segment") => ("#cfd8dc", "#607d8b"),
        (_, _, "sled") => ("#e0e0e0", "#757575"),
        (_, _, "page") => ("#c5cae9", "#3949ab"),
        (_, _, "change") => ("#bbdefb", "#1565c0"),
        (_, _, "batch") => ("#ffe0b2", "#e65100"),
        (_, _, "zeros") => ("#ffffff", "#bdbdbd"),
        _ => ("#fff9c4", "#f9a825"),
    };
    // Bar widths grow with the square root of the size, so a 20-byte
    // header and a page of hundreds of bytes both stay visible.
    let scaled = ((r.len as f64).sqrt() / (widest as f64).sqrt()).min(1.0);
    let width = 6 + (scaled * (BAR_W - 6) as f64) as usize;
    let dash = if r.past_damage || r.kind() == "zeros" {
        " stroke-dasharray=\"3 2\""
    } else {
        ""
    };
    let text_fill = if r.past_damage { "#9e9e9e" } else { "#212121" };
    let mut label = r.describe();
    if let What::Damaged { kind, pid } = r.what {
        label = format!("CRC fails: {}", kind_name(kind, pid));
    } else if !r.crc_ok {
        label = format!("CRC fails: {label}");
    } else if r.past_damage {
        label = format!("not read: {label}");
    }
    let _ = writeln!(
        svg,
        "<g class=\"record {}{}{}\" data-offset=\"{}\"><text x=\"{OFFSET_X}\" y=\"{}\" text-anchor=\"end\" fill=\"#607d8b\">{}</text><rect x=\"{BAR_X}\" y=\"{}\" width=\"{width}\" height=\"{}\" rx=\"2\" fill=\"{fill}\" stroke=\"{stroke}\"{dash}/><text x=\"{BYTES_X}\" y=\"{}\" font-size=\"11\" fill=\"#607d8b\" text-anchor=\"end\">{}</text><text x=\"{LABEL_X}\" y=\"{}\" fill=\"{text_fill}\">{}</text></g>",
        r.kind(),
        if r.crc_ok { "" } else { " bad" },
        if r.past_damage { " past-damage" } else { "" },
        r.offset,
        y + 15,
        r.offset,
        y + 4,
        ROW - 8,
        y + 15,
        r.len,
        y + 15,
        xml(&clip(&label, LABEL_CHARS))
    );
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(offset: u64, len: u64, lsn: i64, what: What) -> Record {
        Record {
            offset,
            len,
            lsn,
            what,
            crc_ok: true,
            past_damage: false,
        }
    }

    fn set(key: &str) -> What {
        What::Set {
            pid: 2,
            key: key.as_bytes().to_vec(),
            value: b"v".to_vec(),
            prefix_known: true,
        }
    }

    #[test]
    fn records_read_as_what_they_hold() {
        let r = record(96, 27, 96, set("diary:001"));
        assert_eq!(r.describe(), "page 2: insert diary:001 = \"v\"");
        let del = record(
            0,
            1,
            0,
            What::Del {
                pid: 7,
                key: b"1".to_vec(),
                prefix_known: false,
            },
        );
        assert_eq!(del.describe(), "page 7: remove …1");
        let trees = record(
            0,
            1,
            0,
            What::Trees(vec![
                (b"__sled__default".to_vec(), 3),
                (b"accounts".to_vec(), 5),
            ]),
        );
        assert_eq!(
            trees.describe(),
            "the list of trees: __sled__default at page 3, accounts at page 5"
        );
        let page = record(
            0,
            1,
            0,
            What::Page {
                pid: 2,
                leaf: true,
                entries: 1,
            },
        );
        assert_eq!(page.describe(), "page 2 whole: a leaf of 1 key");
    }

    #[test]
    fn damage_shows_in_the_story_the_text_and_the_picture() {
        let mut bad = record(150, 27, 150, set("diary:003"));
        bad.crc_ok = false;
        let mut after = record(177, 27, 177, set("diary:004"));
        after.past_damage = true;
        let log = Log {
            file_len: 204,
            segments: 1,
            records: vec![record(0, 20, 0, What::SegmentHeader { lsn: 0 }), bad, after],
            earlier: 0,
        };
        let story = log.story();
        assert!(story.contains("1 record's CRC does not match"), "{story}");
        assert!(
            story.contains("would not read the 1 record after it"),
            "{story}"
        );
        let text = log.text();
        assert!(
            text.contains("    150     27  BAD  page 2: insert diary:003"),
            "{text}"
        );
        assert!(text.contains("(after the damage: not read)"), "{text}");
        let svg = log.svg();
        assert!(svg.contains("class=\"record change bad\""), "{svg}");
        assert!(svg.contains("class=\"record change past-damage\""), "{svg}");
        assert!(svg.contains("CRC fails: page 2: insert diary:003"), "{svg}");
    }

    #[test]
    fn a_batch_marker_brackets_the_records_it_covers() {
        let log = Log {
            file_len: 300,
            segments: 1,
            records: vec![
                record(151, 24, 151, What::BatchMarker { last: 256 }),
                record(175, 27, 175, set("a")),
                record(202, 27, 202, set("b")),
                record(229, 28, 229, set("c")),
                record(257, 27, 257, set("d")),
            ],
            earlier: 0,
        };
        let svg = log.svg();
        assert_eq!(svg.matches("all or none").count(), 1);
        assert!(log.story().ends_with("every CRC matches."));
        // The bracket runs from the marker's row to the third record after it.
        let top = 44 + wrap(&log.story(), 92).len() * 14 + 18;
        let (y0, y1) = (top + 4, top + 3 * ROW + ROW - 4);
        assert!(
            svg.contains(&format!("M {BRACKET_X} {y0} h 8 V {y1} h -8")),
            "{svg}"
        );
    }
}
