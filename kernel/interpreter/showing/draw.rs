//! `%draw [PREFIX | A..B]`: a picture of the sorted drawer.
//!
//! The keys of the current tree stand as folders in key order, banded by
//! their prefix (the part up to the first `:` or `/`). The folders that a
//! prefix or a range selects are highlighted, with the one seek to the
//! first of them, the forward walk over the rest, and the key where the walk
//! stops, so a student sees that a prefix scan reads one unbroken stretch.
//! Keys removed earlier in the same cell are drawn where they were, as
//! tombstones.
//!
//! The drawing is an SVG (`image/svg+xml`), with the same picture in text
//! for plain frontends and the folders as JSON.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::ops::Bound;

use serde_json::{json, Value};

use super::render::{self, clip, escape_html as xml, JSON_MIME};
use crate::interpreter::language::args::KeyRange;
use crate::interpreter::language::parser::Scan;
use crate::interpreter::running::kv::{Ctx, Effect, EvalError, Ticker};
use crate::interpreter::MimeBundle;

/// Folders drawn at most for the selection (or, without one, the drawer).
const MOST: usize = 40;
/// Unselected neighbours drawn on each side of a selection.
const CONTEXT: usize = 3;
/// Removed keys remembered per cell; past this, no more tombstones.
const TOMBSTONES_KEPT: usize = 10_000;

/// Keys removed since the cell began, per tree (`None` = default tree).
#[derive(Debug, Default)]
pub struct Tombstones {
    by_tree: BTreeMap<Option<Vec<u8>>, BTreeSet<Vec<u8>>>,
    kept: usize,
}

impl Tombstones {
    pub fn record(&mut self, tree: Option<&[u8]>, key: &[u8]) {
        if self.kept >= TOMBSTONES_KEPT {
            return;
        }
        let set = self.by_tree.entry(tree.map(<[u8]>::to_vec)).or_default();
        if set.insert(key.to_vec()) {
            self.kept += 1;
        }
    }

    /// Forgets everything: a new cell begins.
    pub fn clear(&mut self) {
        self.by_tree.clear();
        self.kept = 0;
    }

    fn of(&self, tree: Option<&[u8]>) -> impl Iterator<Item = &Vec<u8>> {
        self.by_tree
            .get(&tree.map(<[u8]>::to_vec))
            .into_iter()
            .flatten()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Plain,
    Selected,
    Tombstone,
}

/// One folder in the picture.
#[derive(Debug, Clone)]
struct Folder {
    key: Vec<u8>,
    /// The value's length; `None` for a tombstone.
    len: Option<usize>,
    state: State,
}

/// What is drawn: folders in key order, with what was left out.
struct Picture {
    folders: Vec<Folder>,
    /// Keys not drawn before the first folder / after the last one.
    before: usize,
    after: usize,
    /// Selected keys that were not drawn (past [`MOST`]).
    selected_more: usize,
    /// The first key past the selection, where the walk stops.
    stop: Option<Vec<u8>>,
}

/// `%draw`, `%draw todo:`, `%draw a..c`.
pub fn draw(ctx: &mut Ctx, selection: Option<&Scan>) -> Result<Effect, EvalError> {
    let tree = ctx.tree()?.clone();
    let tree_name = ctx.session.tree_name().map(<[u8]>::to_vec);
    let removed: Vec<Vec<u8>> = ctx
        .live
        .tombstones
        .of(tree_name.as_deref())
        .cloned()
        .collect();
    let mut ticker = ctx.ticker();
    let picture = gather(&tree, selection, &removed, &mut ticker)?;
    let title = title(selection, &tree_name);
    let story = story(selection, &picture);
    let mut bundle = MimeBundle::new();
    bundle.insert(
        "text/plain".into(),
        Value::String(text(&title, &story, &picture)),
    );
    bundle.insert(
        "image/svg+xml".into(),
        Value::String(svg(&title, &story, &picture)),
    );
    bundle.insert(JSON_MIME.into(), json_form(&title, &picture));
    Ok(Effect::Display(bundle))
}

fn selects(selection: Option<&Scan>, key: &[u8]) -> bool {
    match selection {
        Some(Scan::Prefix(prefix)) => key.starts_with(prefix),
        Some(Scan::Range(range)) => in_range(range, key),
        _ => false,
    }
}

fn in_range(range: &KeyRange, key: &[u8]) -> bool {
    let above = match &range.lo {
        Bound::Included(lo) => key >= lo.as_slice(),
        Bound::Excluded(lo) => key > lo.as_slice(),
        Bound::Unbounded => true,
    };
    let below = match &range.hi {
        Bound::Included(hi) => key <= hi.as_slice(),
        Bound::Excluded(hi) => key < hi.as_slice(),
        Bound::Unbounded => true,
    };
    above && below
}

/// Where the selection's seek lands: the smallest key it could select.
fn seek_bound(selection: &Scan) -> Bound<Vec<u8>> {
    match selection {
        Scan::Prefix(prefix) => Bound::Included(prefix.clone()),
        Scan::Range(range) => range.lo.clone(),
        Scan::Iter | Scan::Keys => Bound::Unbounded,
    }
}

fn gather(
    tree: &sled::Tree,
    selection: Option<&Scan>,
    removed: &[Vec<u8>],
    ticker: &mut Ticker,
) -> Result<Picture, EvalError> {
    let folder = |k: &[u8], v: &[u8], state| Folder {
        key: k.to_vec(),
        len: Some(v.len()),
        state,
    };
    let mut picture = Picture {
        folders: Vec::new(),
        before: 0,
        after: 0,
        selected_more: 0,
        stop: None,
    };
    match selection.filter(|s| matches!(s, Scan::Prefix(_) | Scan::Range(_))) {
        None => {
            for item in tree.iter() {
                ticker.tick()?;
                let (k, v) = item?;
                if picture.folders.len() < MOST {
                    picture.folders.push(folder(&k, &v, State::Plain));
                } else {
                    picture.after += 1;
                }
            }
        }
        Some(selection) => {
            let start = seek_bound(selection);
            // A few neighbours before the seek point, then the selection
            // and what follows it.
            let below = match &start {
                Bound::Included(k) => Some(Bound::Excluded(k.clone())),
                Bound::Excluded(k) => Some(Bound::Included(k.clone())),
                Bound::Unbounded => None,
            };
            if let Some(below) = below {
                let mut neighbours = Vec::new();
                for item in tree.range::<Vec<u8>, _>((Bound::Unbounded, below)).rev() {
                    ticker.tick()?;
                    let (k, v) = item?;
                    if neighbours.len() < CONTEXT {
                        neighbours.push(folder(&k, &v, State::Plain));
                    } else {
                        picture.before += 1;
                    }
                }
                neighbours.reverse();
                picture.folders = neighbours;
            }
            let mut drawn_selected = 0usize;
            let mut context_after = 0usize;
            for item in tree.range::<Vec<u8>, _>((start, Bound::Unbounded)) {
                ticker.tick()?;
                let (k, v) = item?;
                if selects(Some(selection), &k) {
                    if drawn_selected < MOST {
                        picture.folders.push(folder(&k, &v, State::Selected));
                        drawn_selected += 1;
                    } else {
                        picture.selected_more += 1;
                    }
                    continue;
                }
                // The first key past the selection: the walk stops here.
                if picture.stop.is_none() {
                    picture.stop = Some(k.to_vec());
                }
                if context_after < CONTEXT {
                    picture.folders.push(folder(&k, &v, State::Plain));
                    context_after += 1;
                } else {
                    picture.after += 1;
                }
            }
        }
    }
    add_tombstones(&mut picture, tree, removed, selection)?;
    Ok(picture)
}

/// Puts the keys removed in this cell back in their places, as tombstones,
/// where they fall among the folders drawn (and are not there again).
fn add_tombstones(
    picture: &mut Picture,
    tree: &sled::Tree,
    removed: &[Vec<u8>],
    selection: Option<&Scan>,
) -> Result<(), EvalError> {
    if removed.is_empty() {
        return Ok(());
    }
    let (Some(first), last) = (picture.folders.first(), picture.folders.last()) else {
        // An empty drawer: show every tombstone (the selected ones, if any).
        for key in removed {
            if selection.is_none() || selects(selection, key) {
                picture.folders.push(Folder {
                    key: key.clone(),
                    len: None,
                    state: State::Tombstone,
                });
            }
        }
        return Ok(());
    };
    let lo = if picture.before == 0 {
        None
    } else {
        Some(first.key.clone())
    };
    let hi = if picture.after == 0 && picture.selected_more == 0 {
        None
    } else {
        last.map(|f| f.key.clone())
    };
    for key in removed {
        let inside = lo.as_ref().is_none_or(|lo| key > lo) && hi.as_ref().is_none_or(|hi| key < hi);
        if inside && !tree.contains_key(key)? {
            picture.folders.push(Folder {
                key: key.clone(),
                len: None,
                state: State::Tombstone,
            });
        }
    }
    picture.folders.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(())
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
        story.push_str(&format!(
            " {} removed in this cell {} as {}.",
            render::plural(tombstones, "key"),
            if tombstones == 1 { "shows" } else { "show" },
            if tombstones == 1 {
                "a tombstone"
            } else {
                "tombstones"
            }
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
            None => "(removed: a tombstone)".to_string(),
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
    let mut rows: Vec<Row> = Vec::new();
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
    let story_lines = wrap(story, 84);
    // Below the title and the story's lines.
    let top = 44 + story_lines.len() * 14;
    let height = top + rows.len() * ROW + 16;
    let mut svg = String::with_capacity(2048 + rows.len() * 400);
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

    // Prefix bands: a label and a bracket left of each run of folders that
    // share a prefix.
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
                folder_svg(
                    &mut svg,
                    f,
                    y,
                    fill,
                    picture.stop.as_deref() == Some(&f.key[..]),
                );
            }
        }
    }
    // The seek and the walk.
    if let (Some(a), Some(b)) = (first_selected, last_selected) {
        let (ya, yb) = (top + a * ROW + 14, top + b * ROW + 14);
        let _ = writeln!(
            svg,
            "<g class=\"seek\"><path d=\"M {} {ya} h -14\" stroke=\"#e65100\" stroke-width=\"2\"/><path d=\"M {} {} l 6 -4 v 8 z\" fill=\"#e65100\"/><text x=\"{}\" y=\"{}\" fill=\"#e65100\">seek</text></g>",
            NOTE_X + 14,
            FOLDER_X + FOLDER_W + 4,
            ya,
            NOTE_X + 20,
            ya + 4
        );
        if b > a {
            let _ = writeln!(
                svg,
                "<g class=\"walk\"><path d=\"M {x} {ya} V {yb}\" stroke=\"#e65100\" stroke-width=\"2\" stroke-dasharray=\"4 3\"/><path d=\"M {x} {yb} l 4 -7 h -8 z\" fill=\"#e65100\"/><text x=\"{}\" y=\"{}\" fill=\"#e65100\">walk</text></g>",
                NOTE_X + 30,
                (ya + yb) / 2 + 4,
                x = NOTE_X + 20,
            );
        }
    }
    svg.push_str("</svg>");
    svg
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
                "<path d=\"M {} {} h {width}\" stroke=\"#757575\"/><text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#757575\" text-anchor=\"end\">removed (tombstone)</text>",
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
