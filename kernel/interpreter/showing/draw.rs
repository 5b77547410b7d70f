//! The picture `%draw` shows: the keys of a tree as folders in a drawer,
//! in key order, banded by their prefix (the part up to the first `:` or
//! `/`). The folders a prefix or a range selects are highlighted, with the
//! one seek to the first of them, the forward walk over the rest, and the
//! key where the walk stops, so a student sees that a prefix scan reads one
//! unbroken stretch. Keys removed earlier in the same cell are drawn
//! crossed out where they stood: the kernel remembers them for the
//! picture, while sled's tree keeps nothing of a removed key (its log holds
//! a record of the removal, which `%log` shows).
//!
//! The drawing is an SVG (`image/svg+xml`), with the same picture in text
//! for plain frontends and the folders as JSON. Which folders are in it is
//! decided where the command runs (`running::draw`).

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::cell::MimeBundle;
use crate::interpreter::language::parser::Scan;
use crate::interpreter::showing::render::{self, clip, escape_html as xml, JSON_MIME};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Plain,
    Selected,
    Tombstone,
}

/// One folder in the picture.
#[derive(Debug, Clone)]
pub(crate) struct Folder {
    pub key: Vec<u8>,
    /// The value's length; `None` for a tombstone.
    pub len: Option<usize>,
    pub state: State,
}

/// What is drawn: folders in key order, with what was left out.
pub(crate) struct Picture {
    pub folders: Vec<Folder>,
    /// Keys not drawn before the first folder / after the last one.
    pub before: usize,
    pub after: usize,
    /// Selected keys that were not drawn (past the most drawn).
    pub selected_more: usize,
    /// The first key past the selection, where the walk stops.
    pub stop: Option<Vec<u8>>,
}

/// The picture as a display: text, SVG and the folders as JSON.
pub(crate) fn bundle(
    selection: Option<&Scan>,
    tree_name: &Option<Vec<u8>>,
    picture: &Picture,
) -> MimeBundle {
    let title = title(selection, tree_name);
    let story = story(selection, picture);
    let mut bundle = MimeBundle::new();
    bundle.insert(
        "text/plain".into(),
        Value::String(text(&title, &story, picture)),
    );
    bundle.insert(
        "image/svg+xml".into(),
        Value::String(svg(&title, &story, picture)),
    );
    bundle.insert(JSON_MIME.into(), json_form(&title, picture));
    bundle
}

fn title(selection: Option<&Scan>, tree: &Option<Vec<u8>>) -> String {
    let what = match selection {
        Some(Scan::Prefix(prefix)) => format!("%draw {}", render::value(prefix)),
        Some(Scan::Range(range)) => format!("%draw {}", render::range_text(range)),
        _ => "%draw".to_string(),
    };
    format!("{}{what}", render::tree_tag(tree.as_deref()))
}

/// One or two sentences on what the picture shows.
fn story(selection: Option<&Scan>, picture: &Picture) -> String {
    let live = picture
        .folders
        .iter()
        .filter(|f| f.state != State::Tombstone)
        .count()
        + picture.before
        + picture.after
        + picture.selected_more;
    let selected = picture
        .folders
        .iter()
        .filter(|f| f.state == State::Selected)
        .count()
        + picture.selected_more;
    let tombstones = picture
        .folders
        .iter()
        .filter(|f| f.state == State::Tombstone)
        .count();
    let mut story = match selection {
        Some(Scan::Prefix(_) | Scan::Range(_)) => {
            let how = match selection {
                Some(Scan::Prefix(prefix)) => format!("scan_prefix {}", render::value(prefix)),
                Some(Scan::Range(range)) => format!("range {}", render::range_text(range)),
                _ => String::new(),
            };
            let first = picture.folders.iter().find(|f| f.state == State::Selected);
            match first {
                None => format!(
                    "{how} seeks to where its keys would be and finds none: it reads no folder."
                ),
                Some(first) => {
                    let stop = match &picture.stop {
                        Some(stop) => {
                            format!("stops at {}, the first key past it", render::key(stop))
                        }
                        None => "stops at the end of the drawer".to_string(),
                    };
                    format!(
                        "{how} is one seek to {}, then a forward walk over {}; it {stop}.",
                        render::key(&first.key),
                        render::plural(selected, "folder"),
                    )
                }
            }
        }
        _ => format!(
            "The drawer holds {} in key order.",
            render::plural(live, "folder")
        ),
    };
    if tombstones > 0 {
        let (is, they) = if tombstones == 1 {
            ("is", "it")
        } else {
            ("are", "they")
        };
        story.push_str(&format!(
            " {} removed in this cell {is} drawn crossed out where {they} stood; sled's tree keeps nothing there.",
            render::plural(tombstones, "key"),
        ));
    }
    story
}

/// `todo:` for `todo:001`, `users/` for `users/ann`; empty when the key has
/// no separator.
fn group_of(key: &[u8]) -> &[u8] {
    match key.iter().position(|b| *b == b':' || *b == b'/') {
        Some(i) => &key[..=i],
        None => &[],
    }
}

fn text(title: &str, story: &str, picture: &Picture) -> String {
    let mut out = format!("{title}: {story}\n");
    if picture.before > 0 {
        let _ = writeln!(
            out,
            "     … {} before",
            render::plural(picture.before, "key")
        );
    }
    let keys: Vec<String> = picture
        .folders
        .iter()
        .map(|f| clip(&render::key(&f.key), TEXT_KEY_CHARS))
        .collect();
    let width = keys.iter().map(|k| k.chars().count()).max().unwrap_or(0);
    let mut seen_selected = false;
    for (f, key) in picture.folders.iter().zip(&keys) {
        let pad = " ".repeat(width.saturating_sub(key.chars().count()));
        // A mark before the key, a note after its size.
        let (mark, note) = match f.state {
            State::Selected if !seen_selected => {
                seen_selected = true;
                (">", "  <- seek")
            }
            State::Selected => ("|", ""),
            State::Tombstone => ("x", ""),
            State::Plain if picture.stop.as_deref() == Some(&f.key[..]) => (" ", "  <- stop"),
            State::Plain => (" ", ""),
        };
        let size = match f.len {
            Some(len) => render::byte_count(len),
            None => "(removed in this cell)".to_string(),
        };
        let line = format!("  {mark}  {key}{pad}  {size}{note}");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if picture.selected_more > 0 {
        let _ = writeln!(
            out,
            "  |  … {} more selected",
            render::plural(picture.selected_more, "key")
        );
    }
    if picture.after > 0 {
        let _ = writeln!(out, "     … {} after", render::plural(picture.after, "key"));
    }
    if picture.folders.is_empty() {
        out.push_str("     (the drawer is empty)\n");
    }
    out.truncate(out.trim_end().len());
    out
}

// The picture's geometry, in SVG user units.
const WIDTH: usize = 640;
const ROW: usize = 28;
const GROUP_X: usize = 8;
const FOLDER_X: usize = 130;
const FOLDER_W: usize = 330;
const NOTE_X: usize = 480;
const KEY_CHARS: usize = 36;
/// Characters of a key the text picture shows.
const TEXT_KEY_CHARS: usize = 60;
/// Fills of unselected folders, one per prefix band, in turn.
const BAND_FILLS: [&str; 3] = ["#e3f2fd", "#e8f5e9", "#fff3e0"];

fn svg(title: &str, story: &str, picture: &Picture) -> String {
    let mut rows = rows_of(picture);
    let story_lines = wrap(story, 84);
    // Below the title and the story's lines.
    let top = 44 + story_lines.len() * 14;
    let height = top + rows.len() * ROW + 16;
    let mut svg = String::with_capacity(2048 + rows.len() * 400);
    frame_svg(&mut svg, title, &story_lines, height);
    bands_svg(&mut svg, &mut rows, top);
    let selected = rows_svg(&mut svg, &rows, top, picture);
    if let Some((first, last)) = selected {
        seek_and_walk_svg(&mut svg, top + first * ROW + 14, top + last * ROW + 14);
    }
    svg.push_str("</svg>");
    svg
}

/// The rows of the drawer, top to bottom: what was left out before, the
/// folders, what was left out after.
fn rows_of(picture: &Picture) -> Vec<Row<'_>> {
    let mut rows: Vec<Row<'_>> = Vec::new();
    if picture.before > 0 {
        rows.push(Row::More(format!(
            "… {} before",
            render::plural(picture.before, "key")
        )));
    }
    for f in &picture.folders {
        rows.push(Row::Folder(f));
    }
    if picture.selected_more > 0 {
        rows.push(Row::More(format!(
            "… {} more selected",
            render::plural(picture.selected_more, "key")
        )));
    }
    if picture.after > 0 {
        rows.push(Row::More(format!(
            "… {} after",
            render::plural(picture.after, "key")
        )));
    }
    if rows.is_empty() {
        rows.push(Row::More("(the drawer is empty)".to_string()));
    }
    rows
}

/// The `<svg>` element, its frame, the title and the story.
fn frame_svg(svg: &mut String, title: &str, story_lines: &[String], height: usize) {
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"sled-drawer\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" font-family=\"monospace\" font-size=\"13\">"
    );
    let _ = writeln!(svg, "<title>{}</title>", xml(title));
    let _ = writeln!(
        svg,
        "<rect x=\"0.5\" y=\"0.5\" width=\"{}\" height=\"{}\" rx=\"8\" fill=\"#fafafa\" stroke=\"#90a4ae\"/>",
        WIDTH - 1,
        height - 1
    );
    let _ = writeln!(
        svg,
        "<text x=\"12\" y=\"22\" font-weight=\"bold\">{}</text>",
        xml(title)
    );
    for (i, line) in story_lines.iter().enumerate() {
        let _ = writeln!(
            svg,
            "<text x=\"12\" y=\"{}\" font-size=\"11\" fill=\"#455a64\">{}</text>",
            38 + i * 14,
            xml(line)
        );
    }
}

/// Prefix bands: a label and a bracket left of each run of folders that
/// share a prefix; each folder of a run gets the run's fill.
fn bands_svg(svg: &mut String, rows: &mut [Row<'_>], top: usize) {
    let mut band = 0usize;
    let mut i = 0usize;
    while i < rows.len() {
        let Row::Folder(f) = rows[i] else {
            i += 1;
            continue;
        };
        let group = group_of(&f.key);
        let mut j = i + 1;
        while let Some(Row::Folder(g)) = rows.get(j) {
            if group_of(&g.key) != group {
                break;
            }
            j += 1;
        }
        if !group.is_empty() {
            let (y0, y1) = (top + i * ROW + 2, top + j * ROW - 4);
            let _ = writeln!(
                svg,
                "<g class=\"band\" data-prefix=\"{}\"><path d=\"M {} {y0} h -8 V {y1} h 8\" fill=\"none\" stroke=\"#78909c\"/><text x=\"{GROUP_X}\" y=\"{}\" fill=\"#37474f\">{}</text></g>",
                xml(&String::from_utf8_lossy(group)),
                FOLDER_X - 8,
                (y0 + y1) / 2 + 4,
                xml(&clip(&render::key(group), 13))
            );
        }
        for row in &mut rows[i..j] {
            if let Row::Folder(f) = row {
                *row = Row::Banded(f, band % BAND_FILLS.len());
            }
        }
        band += 1;
        i = j;
    }
}

/// Draws each row; gives the first and the last selected row, if any.
fn rows_svg(
    svg: &mut String,
    rows: &[Row<'_>],
    top: usize,
    picture: &Picture,
) -> Option<(usize, usize)> {
    let mut first_selected: Option<usize> = None;
    let mut last_selected: Option<usize> = None;
    for (i, row) in rows.iter().enumerate() {
        let y = top + i * ROW;
        match row {
            Row::More(text) => {
                let _ = writeln!(
                    svg,
                    "<text class=\"more\" x=\"{}\" y=\"{}\" fill=\"#78909c\">{}</text>",
                    FOLDER_X + 12,
                    y + 18,
                    xml(text)
                );
            }
            Row::Folder(f) | Row::Banded(f, _) => {
                let fill = match row {
                    Row::Banded(_, band) => BAND_FILLS[*band],
                    _ => BAND_FILLS[0],
                };
                if f.state == State::Selected {
                    first_selected.get_or_insert(i);
                    last_selected = Some(i);
                }
                folder_svg(svg, f, y, fill, picture.stop.as_deref() == Some(&f.key[..]));
            }
        }
    }
    first_selected.zip(last_selected)
}

/// The seek to the first selected folder (at height `ya`) and the walk
/// down to the last one (at `yb`).
fn seek_and_walk_svg(svg: &mut String, ya: usize, yb: usize) {
    let _ = writeln!(
        svg,
        "<g class=\"seek\"><path d=\"M {} {ya} h -14\" stroke=\"#e65100\" stroke-width=\"2\"/><path d=\"M {} {} l 6 -4 v 8 z\" fill=\"#e65100\"/><text x=\"{}\" y=\"{}\" fill=\"#e65100\">seek</text></g>",
        NOTE_X + 14,
        FOLDER_X + FOLDER_W + 4,
        ya,
        NOTE_X + 20,
        ya + 4
    );
    if yb > ya {
        let _ = writeln!(
            svg,
            "<g class=\"walk\"><path d=\"M {x} {ya} V {yb}\" stroke=\"#e65100\" stroke-width=\"2\" stroke-dasharray=\"4 3\"/><path d=\"M {x} {yb} l 4 -7 h -8 z\" fill=\"#e65100\"/><text x=\"{}\" y=\"{}\" fill=\"#e65100\">walk</text></g>",
            NOTE_X + 30,
            (ya + yb) / 2 + 4,
            x = NOTE_X + 20,
        );
    }
}

enum Row<'a> {
    More(String),
    Folder(&'a Folder),
    /// A folder with its prefix band's fill.
    Banded(&'a Folder, usize),
}

fn folder_svg(svg: &mut String, f: &Folder, y: usize, fill: &str, is_stop: bool) {
    let key = render::key(&f.key);
    let (class, fill, stroke, dash) = match f.state {
        State::Selected => ("folder selected", "#ffd54f", "#e65100", ""),
        State::Tombstone => (
            "folder tombstone",
            "#eeeeee",
            "#9e9e9e",
            " stroke-dasharray=\"5 3\"",
        ),
        State::Plain => ("folder", fill, "#78909c", ""),
    };
    let _ = write!(svg, "<g class=\"{class}\" data-key=\"{}\">", xml(&key));
    // The tab on top of the folder, then the folder.
    let _ = write!(
        svg,
        "<path d=\"M {x} {y1} v -5 q 0 -3 3 -3 h 50 q 3 0 3 3 v 5\" fill=\"{fill}\" stroke=\"{stroke}\"{dash}/><rect x=\"{x}\" y=\"{y1}\" width=\"{FOLDER_W}\" height=\"{h}\" rx=\"3\" fill=\"{fill}\" stroke=\"{stroke}\"{dash}/>",
        x = FOLDER_X,
        y1 = y + 6,
        h = ROW - 8,
    );
    let shown = clip(&key, KEY_CHARS);
    let color = if f.state == State::Tombstone {
        "#9e9e9e"
    } else {
        "#212121"
    };
    let _ = write!(
        svg,
        "<text x=\"{}\" y=\"{}\" fill=\"{color}\">{}</text>",
        FOLDER_X + 8,
        y + 20,
        xml(&shown)
    );
    match f.len {
        Some(len) => {
            let _ = write!(
                svg,
                "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#607d8b\" text-anchor=\"end\">{}</text>",
                FOLDER_X + FOLDER_W - 8,
                y + 19,
                xml(&render::byte_count(len))
            );
        }
        None => {
            // Struck through, and marked.
            let width = shown.chars().count() * 8;
            let _ = write!(
                svg,
                "<path d=\"M {} {} h {width}\" stroke=\"#757575\"/><text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#757575\" text-anchor=\"end\">removed in this cell</text>",
                FOLDER_X + 6,
                y + 16,
                FOLDER_X + FOLDER_W - 8,
                y + 19
            );
        }
    }
    if is_stop {
        let _ = write!(
            svg,
            "<text class=\"stop\" x=\"{}\" y=\"{}\" fill=\"#6d4c41\">stop</text>",
            NOTE_X + 20,
            y + 19
        );
    }
    svg.push_str("</g>\n");
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

fn json_form(title: &str, picture: &Picture) -> Value {
    let folders: Vec<Value> = picture
        .folders
        .iter()
        .map(|f| {
            json!({
                "key": render::json_bytes(&f.key),
                "state": match f.state {
                    State::Plain => "plain",
                    State::Selected => "selected",
                    State::Tombstone => "tombstone",
                },
                "value_length": f.len,
            })
        })
        .collect();
    json!({
        "draw": title,
        "folders": folders,
        "before": picture.before,
        "after": picture.after,
        "selected_more": picture.selected_more,
        "stop": picture.stop.as_deref().map(render::json_bytes),
    })
}
