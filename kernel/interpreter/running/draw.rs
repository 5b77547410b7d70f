//! `%draw [PREFIX | A..B]`: reads which folders the picture shows, the way
//! the scan it pictures would walk the tree: one seek, then forward. The
//! picture itself is drawn in `showing::draw`.

use std::ops::Bound;

use super::context::{Ctx, Effect, EvalError, Ticker};
use crate::interpreter::language::args::KeyRange;
use crate::interpreter::language::parser::Scan;
use crate::interpreter::showing::draw::{self as picture, Folder, Picture, State};

/// Folders drawn at most for the selection (or, without one, the drawer).
const MOST: usize = 40;
/// Unselected neighbours drawn on each side of a selection.
const CONTEXT: usize = 3;

/// `%draw`, `%draw todo:`, `%draw a..c`.
pub(crate) fn draw(ctx: &mut Ctx<'_>, selection: Option<&Scan>) -> Result<Effect, EvalError> {
    let tree = ctx.tree()?.clone();
    let tree_name = ctx.session.tree_name().map(<[u8]>::to_vec);
    let removed: Vec<Vec<u8>> = ctx
        .live
        .tombstones
        .of(tree_name.as_deref())
        .cloned()
        .collect();
    let mut ticker = ctx.ticker();
    let folders = gather(&tree, selection, &removed, &mut ticker)?;
    Ok(Effect::Display(picture::bundle(
        selection, &tree_name, &folders,
    )))
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
    ticker: &mut Ticker<'_>,
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
