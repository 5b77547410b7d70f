//! `%load FILE`, `%dump FILE` and `%sample_file FILE N`: pairs in and out
//! of files.
//!
//! The format is JSON lines, one pair per line:
//!
//! ```text
//! {"key":"todo:001","value":"buy boots","tree":"__sled__default"}
//! {"key":{"hex":"00ff"},"value":"bytes that are not UTF-8 go as hex","tree":"users"}
//! ```
//!
//! `%load` also reads CSV files (named `*.csv`) of two columns, key and
//! value, with an optional `key,value` header. It never uses sled's
//! `export`/`import` (they panic on I/O errors): `%dump` iterates and
//! writes, `%load` reads the file twice, first only checking every line
//! (so a bad line loads nothing), then inserting. `%sample_file` writes
//! made-up pairs in the same format, so a lesson can load a big file
//! without keeping one in the repository.
//!
//! `%load` inserts one row at a time rather than with `apply_batch`: in
//! sled 0.34 a batch of 10,000 rows, repeated for a million keys, took the
//! process to 3.4 GB and made the next full scan 15 times slower, and
//! batches small enough to avoid that loaded 2.5 times slower than single
//! inserts. An Interrupt is honoured after every [`LOAD_CHUNK`] rows, so a
//! stopped load has applied a whole number of chunks.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::context::{Ctx, Effect, EvalError};
use super::session::DEFAULT_TREE;
use crate::interpreter::language::errors::ErrorKind;
use crate::interpreter::showing::lines::files::{self as said, Access};
use crate::interpreter::showing::progress::Progress;
use crate::interpreter::showing::render;

/// An Interrupt stops `%load` only after a multiple of this many rows.
pub(crate) const LOAD_CHUNK: usize = 10_000;
/// Rows between two looks at whether the progress bar is due an update.
const PROGRESS_EVERY: usize = 1000;
/// The longest line (or CSV record) `%load` reads, so a file without line
/// breaks cannot eat all memory.
const MAX_LINE: u64 = 16 * 1024 * 1024;

/// A path as typed in a cell: `~` is the home directory, and a relative
/// path is relative to the kernel's working directory (the notebook's).
pub(crate) fn resolve(typed: &str) -> PathBuf {
    let home = || dirs::home_dir().unwrap_or_default();
    let expanded = if typed == "~" {
        home()
    } else if let Some(rest) = typed.strip_prefix("~/") {
        home().join(rest)
    } else {
        PathBuf::from(typed)
    };
    if expanded.is_absolute() {
        expanded
    } else {
        std::env::current_dir()
            .map(|dir| dir.join(&expanded))
            .unwrap_or(expanded)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    JsonLines,
    Csv,
}

impl Format {
    fn of(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("csv") => Format::Csv,
            _ => Format::JsonLines,
        }
    }
}

/// One pair read from a file; `tree` is `None` for "the current tree".
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    tree: Option<Vec<u8>>,
    key: Vec<u8>,
    value: Vec<u8>,
}

/// A line of a file that is not a pair.
struct BadLine {
    line: usize,
    why: String,
}

/// `%load FILE [flush_every=N]`: checks every row, then inserts them.
pub(crate) fn load(
    ctx: &mut Ctx<'_>,
    typed: &str,
    flush_every: Option<usize>,
) -> Result<Effect, EvalError> {
    let path = resolve(typed);
    let format = Format::of(&path);
    let total = check(ctx, &path, typed, format)?;
    let mut loader = Loader::new(ctx, flush_every)?;
    let what = said::load_bar(&ctx.tag(), typed);
    let mut bar = Progress::start(ctx.out, &mut ctx.live.ids, what, said::LOAD_UNIT, total);
    let (out, interrupt) = (&mut *ctx.out, ctx.interrupt);
    // Stops on Interrupt only at a multiple of LOAD_CHUNK rows.
    let loaded = each_row(&path, typed, format, |row| {
        let applied = loader.insert(row)?;
        if applied % PROGRESS_EVERY == 0 {
            if let Some(bar) = &mut bar {
                bar.advance(out, applied);
            }
        }
        if applied % LOAD_CHUNK == 0 && interrupt.is_raised() {
            return Err(EvalError::Interrupted(Some(said::load_interrupted(
                applied, total, typed, LOAD_CHUNK,
            ))));
        }
        Ok(())
    });
    let applied = loader.applied;
    match (bar, &loaded) {
        (Some(bar), Ok(())) => bar.finish(out, applied),
        (Some(mut bar), Err(_)) => bar.phase(out, applied, said::LOAD_STOPPED),
        (None, _) => {}
    }
    loaded.map_err(|e| match e {
        // The file changed between the passes: say what is already in.
        EvalError::Refused {
            kind,
            message,
            notes,
        } if applied > 0 => EvalError::Refused {
            kind,
            message: said::partly_loaded(&message, applied),
            notes,
        },
        other => other,
    })?;
    loader.last_flush()?;
    Ok(Effect::Print(loader.summary(&ctx.tag(), typed)))
}

/// `%load`'s first pass: checks every row of the file, writes nothing, and
/// counts the rows.
fn check(ctx: &mut Ctx<'_>, path: &Path, typed: &str, format: Format) -> Result<usize, EvalError> {
    let mut ticker = ctx.ticker();
    let mut total = 0usize;
    each_row(path, typed, format, |_| {
        ticker
            .tick()
            .map_err(|_| EvalError::Interrupted(Some(said::load_check_interrupted(typed))))?;
        total += 1;
        Ok(())
    })?;
    Ok(total)
}

/// `%load`'s second pass: puts rows in their trees, flushes when asked to,
/// and counts what it did.
struct Loader {
    db: sled::Db,
    /// The tree rows without a `tree` field go to.
    current: Vec<u8>,
    /// The trees opened so far, by name.
    trees: BTreeMap<Vec<u8>, sled::Tree>,
    per_tree: BTreeMap<Vec<u8>, usize>,
    flush_every: Option<usize>,
    applied: usize,
    flushes: usize,
}

impl Loader {
    fn new(ctx: &Ctx<'_>, flush_every: Option<usize>) -> Result<Loader, EvalError> {
        let current = ctx.session.tree_name().unwrap_or(DEFAULT_TREE).to_vec();
        let mut trees = BTreeMap::new();
        trees.insert(current.clone(), ctx.tree()?.clone());
        Ok(Loader {
            db: ctx.db()?.clone(),
            current,
            trees,
            per_tree: BTreeMap::new(),
            flush_every,
            applied: 0,
            flushes: 0,
        })
    }

    /// Inserts one row (and flushes after every N); how many are in now.
    fn insert(&mut self, row: Row) -> Result<usize, EvalError> {
        let name = row.tree.unwrap_or_else(|| self.current.clone());
        let tree = match self.trees.get(&name) {
            Some(tree) => tree,
            None => {
                let tree = if name == DEFAULT_TREE {
                    sled::Tree::clone(&self.db)
                } else {
                    self.db.open_tree(&name)?
                };
                self.trees.entry(name.clone()).or_insert(tree)
            }
        };
        tree.insert(row.key, row.value)?;
        *self.per_tree.entry(name).or_default() += 1;
        self.applied += 1;
        if self.flush_every.is_some_and(|n| self.applied % n == 0) {
            self.db.flush()?;
            self.flushes += 1;
        }
        Ok(self.applied)
    }

    /// The rows after the last whole N still get their flush.
    fn last_flush(&mut self) -> Result<(), EvalError> {
        if self.flush_every.is_some_and(|n| self.applied % n != 0) {
            self.db.flush()?;
            self.flushes += 1;
        }
        Ok(())
    }

    /// The line `%load` prints.
    fn summary(&self, tag: &str, typed: &str) -> String {
        let only_current = self.per_tree.len() == 1 && self.per_tree.contains_key(&self.current);
        let per_tree: Vec<(&[u8], usize)> = self
            .per_tree
            .iter()
            .map(|(name, n)| (name.as_slice(), *n))
            .collect();
        let per_tree = (!only_current && !per_tree.is_empty()).then_some(per_tree.as_slice());
        let flushes = self.flush_every.map(|n| (n, self.flushes));
        said::loaded(tag, typed, self.applied, per_tree, flushes)
    }
}

/// Reads `path` and calls `f` with each pair, in order; stops at the first
/// bad line (a `LoadError`) or the first error `f` returns.
fn each_row(
    path: &Path,
    typed: &str,
    format: Format,
    mut f: impl FnMut(Row) -> Result<(), EvalError>,
) -> Result<(), EvalError> {
    regular_file(path, typed, Access::Read)?;
    let file = File::open(path).map_err(|e| file_error(typed, Access::Read, &e))?;
    let mut reader = BufReader::new(file);
    let bad = |bad: BadLine| {
        EvalError::refused(ErrorKind::Load, said::bad_line(typed, bad.line, &bad.why))
            .help(said::expected_line(format == Format::Csv))
    };
    let mut line_no = 0usize;
    let mut buf = Vec::new();
    match format {
        Format::JsonLines => loop {
            buf.clear();
            let read = Read::take(&mut reader, MAX_LINE)
                .read_until(b'\n', &mut buf)
                .map_err(|e| file_error(typed, Access::Read, &e))?;
            if read == 0 {
                return Ok(());
            }
            line_no += 1;
            if read as u64 == MAX_LINE && buf.last() != Some(&b'\n') {
                return Err(bad(BadLine {
                    line: line_no,
                    why: said::line_too_long(MAX_LINE),
                }));
            }
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let row = json_row(&buf).map_err(|why| bad(BadLine { line: line_no, why }))?;
            f(row)?;
        },
        Format::Csv => {
            let mut first = true;
            loop {
                let start = line_no + 1;
                let record = csv_record(&mut reader, &mut line_no, &mut buf)
                    .map_err(|e| file_error(typed, Access::Read, &e))?;
                let fields = match record {
                    None => return Ok(()),
                    Some(Err(why)) => return Err(bad(BadLine { line: start, why })),
                    Some(Ok(fields)) => fields,
                };
                let header = first
                    && matches!(fields.as_slice(), [k, v]
                        if k.eq_ignore_ascii_case(b"key") && v.eq_ignore_ascii_case(b"value"));
                first = false;
                if header || fields == [Vec::<u8>::new()] {
                    continue;
                }
                let [key, value]: [Vec<u8>; 2] =
                    fields.try_into().map_err(|fields: Vec<Vec<u8>>| {
                        bad(BadLine {
                            line: start,
                            why: said::columns(fields.len()),
                        })
                    })?;
                f(Row {
                    tree: None,
                    key,
                    value,
                })?;
            }
        }
    }
}

/// Refuses anything but a regular file (a directory, a device such as
/// /dev/zero, a pipe that would block until someone writes to it).
fn regular_file(path: &Path, typed: &str, doing: Access) -> Result<(), EvalError> {
    let meta = std::fs::metadata(path).map_err(|e| file_error(typed, doing, &e))?;
    if meta.is_file() {
        Ok(())
    } else {
        Err(EvalError::refused(
            ErrorKind::File,
            said::not_a_file(doing, typed),
        ))
    }
}

fn file_error(typed: &str, doing: Access, e: &std::io::Error) -> EvalError {
    EvalError::refused(ErrorKind::File, said::cannot(doing, typed, e))
}

/// One JSON line as a pair.
fn json_row(line: &[u8]) -> Result<Row, String> {
    let value: Value = serde_json::from_slice(line).map_err(|e| said::not_json(&e))?;
    let Value::Object(object) = value else {
        return Err(said::NOT_AN_OBJECT.to_string());
    };
    let field = |name: &str| -> Result<Option<Vec<u8>>, String> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => bytes_of(v).map(Some).ok_or_else(|| said::not_bytes(name)),
        }
    };
    let key = field("key")?.ok_or(said::KEY_MISSING)?;
    let value = field("value")?.ok_or(said::VALUE_MISSING)?;
    let tree = field("tree")?;
    Ok(Row { tree, key, value })
}

/// A JSON string's UTF-8 bytes, or the bytes of `{"hex": "00ff"}`.
fn bytes_of(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Object(o) if o.len() == 1 => hex::decode(o.get("hex")?.as_str()?).ok(),
        _ => None,
    }
}

/// Reads one CSV record (RFC 4180: fields split by commas, a field in
/// double quotes may hold commas, `""` and line breaks). `line_no` counts
/// the lines read. `None` at the end of the file.
fn csv_record(
    reader: &mut impl BufRead,
    line_no: &mut usize,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<Result<Vec<Vec<u8>>, String>>> {
    let mut fields = Vec::new();
    let mut field = Vec::new();
    let mut in_quotes = false;
    let mut after_quote = false;
    let opened_on = *line_no + 1;
    let mut record_bytes = 0u64;
    loop {
        buf.clear();
        let read = Read::take(&mut *reader, MAX_LINE).read_until(b'\n', buf)?;
        record_bytes += read as u64;
        if record_bytes >= MAX_LINE {
            return Ok(Some(Err(said::record_too_long(opened_on, MAX_LINE))));
        }
        if read == 0 {
            if in_quotes {
                return Ok(Some(Err(said::quote_not_closed(opened_on))));
            }
            if fields.is_empty() && field.is_empty() {
                return Ok(None);
            }
            fields.push(field);
            return Ok(Some(Ok(fields)));
        }
        *line_no += 1;
        let mut bytes = buf.iter().copied().peekable();
        while let Some(b) = bytes.next() {
            if in_quotes {
                if b == b'"' {
                    if bytes.peek() == Some(&b'"') {
                        bytes.next();
                        field.push(b'"');
                    } else {
                        in_quotes = false;
                        after_quote = true;
                    }
                } else {
                    field.push(b);
                }
                continue;
            }
            match b {
                b'\n' => break,
                b'\r' if bytes.peek() == Some(&b'\n') => {}
                b',' => {
                    fields.push(std::mem::take(&mut field));
                    after_quote = false;
                }
                b'"' if field.is_empty() && !after_quote => in_quotes = true,
                _ if after_quote => {
                    return Ok(Some(Err(said::TEXT_AFTER_QUOTE.to_string())));
                }
                _ => field.push(b),
            }
        }
        if !in_quotes {
            fields.push(field);
            return Ok(Some(Ok(fields)));
        }
    }
}

/// A JSON-lines file being written by [`write_json_lines`].
struct JsonLines<'a> {
    out: BufWriter<File>,
    typed: &'a str,
}

impl JsonLines<'_> {
    /// One line, `{"key": …, "value": …}` and, when given, `"tree": …`
    /// (already JSON). Fields in reading order (a JSON object built with
    /// serde_json would sort them).
    fn pair(&mut self, key: &[u8], value: &[u8], tree_json: Option<&str>) -> Result<(), EvalError> {
        let (key, value) = (render::json_bytes(key), render::json_bytes(value));
        match tree_json {
            Some(tree) => writeln!(
                self.out,
                "{{\"key\":{key},\"value\":{value},\"tree\":{tree}}}"
            ),
            None => writeln!(self.out, "{{\"key\":{key},\"value\":{value}}}"),
        }
        .map_err(|e| file_error(self.typed, Access::Write, &e))
    }
}

/// Writes the JSON-lines file `typed` with `fill` (`%dump`, `%sample_file`,
/// named `who` in messages). A name ending in `.csv` is refused, and so is
/// anything there already that is not a regular file (never write into, or
/// later delete, a device, pipe or directory). When `fill` fails or is
/// interrupted, the half-written file is deleted.
fn write_json_lines(
    typed: &str,
    who: &str,
    fill: impl FnOnce(&mut JsonLines<'_>) -> Result<(), EvalError>,
) -> Result<(), EvalError> {
    let path = resolve(typed);
    if Format::of(&path) == Format::Csv {
        return Err(EvalError::refused(
            ErrorKind::File,
            said::not_csv(who, typed),
        ));
    }
    if path.exists() {
        regular_file(&path, typed, Access::Write)?;
    }
    let file = File::create(&path).map_err(|e| file_error(typed, Access::Write, &e))?;
    let mut lines = JsonLines {
        out: BufWriter::new(file),
        typed,
    };
    let written = fill(&mut lines).and_then(|()| {
        lines
            .out
            .flush()
            .map_err(|e| file_error(typed, Access::Write, &e))
    });
    if let Err(e) = written {
        drop(lines);
        let _ = std::fs::remove_file(&path);
        return Err(match e {
            EvalError::Interrupted(_) => {
                EvalError::Interrupted(Some(said::write_interrupted(who, typed)))
            }
            other => other,
        });
    }
    Ok(())
}

/// `%dump FILE`.
pub(crate) fn dump(ctx: &mut Ctx<'_>, typed: &str) -> Result<Effect, EvalError> {
    let db = ctx.db()?.clone();
    let mut names = db.tree_names();
    names.sort();
    let mut ticker = ctx.ticker();
    let mut rows = 0usize;
    let mut trees = 0usize;
    write_json_lines(typed, "%dump", |lines| {
        for name in &names {
            let tree = if name == DEFAULT_TREE {
                sled::Tree::clone(&db)
            } else {
                db.open_tree(name)?
            };
            let tree_json = render::json_bytes(name).to_string();
            let mut any = false;
            ticker.tick()?;
            for item in tree.iter() {
                ticker.tick()?;
                let (k, v) = item?;
                lines.pair(&k, &v, Some(&tree_json))?;
                rows += 1;
                any = true;
            }
            trees += usize::from(any);
        }
        Ok(())
    })?;
    Ok(Effect::Print(said::dumped(rows, trees, typed)))
}

/// The most pairs `%sample_file` writes (about 600 MB of JSON lines).
pub(crate) const SAMPLE_MAX_ROWS: usize = 10_000_000;
/// `%sample_file`'s prefix when none is given.
const SAMPLE_PREFIX: &[u8] = b"key:";
/// The fewest digits a sample key's number has.
const SAMPLE_DIGITS: usize = 6;

/// The `n`th key (from 1) of a sample file of `rows` pairs: `PREFIX` and
/// `n` zero-padded to the width of `rows` (at least [`SAMPLE_DIGITS`]), so
/// text order is number order.
fn sample_key(prefix: &[u8], n: usize, rows: usize) -> Vec<u8> {
    let width = rows.to_string().len().max(SAMPLE_DIGITS);
    let mut key = prefix.to_vec();
    key.extend_from_slice(format!("{n:0width$}").as_bytes());
    key
}

/// The value a sample file stores under `key`.
fn sample_value(key: &[u8]) -> Vec<u8> {
    let mut value = b"sample value for ".to_vec();
    value.extend_from_slice(key);
    value
}

/// `%sample_file FILE N [PREFIX] [value=V]`: the same bytes every time for
/// the same arguments. No `tree` field, so `%load` puts the pairs in the
/// current tree. The database is not touched.
pub(crate) fn sample_file(
    ctx: &mut Ctx<'_>,
    typed: &str,
    rows: usize,
    prefix: Option<&[u8]>,
    value: Option<&[u8]>,
) -> Result<Effect, EvalError> {
    if rows == 0 || rows > SAMPLE_MAX_ROWS {
        return Err(EvalError::refused(
            ErrorKind::Argument,
            said::sample_count(rows, SAMPLE_MAX_ROWS),
        ));
    }
    let prefix = prefix.unwrap_or(SAMPLE_PREFIX);
    let mut ticker = ctx.ticker();
    write_json_lines(typed, "%sample_file", |lines| {
        for n in 1..=rows {
            ticker.tick()?;
            let key = sample_key(prefix, n, rows);
            match value {
                Some(value) => lines.pair(&key, value, None)?,
                None => lines.pair(&key, &sample_value(&key), None)?,
            }
        }
        Ok(())
    })?;
    Ok(Effect::Print(said::sampled(
        typed,
        rows,
        &sample_key(prefix, 1, rows),
        &sample_key(prefix, rows, rows),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_keys_are_zero_padded_to_at_least_six_digits_and_sort_as_numbers() {
        assert_eq!(sample_key(b"key:", 1, 10), b"key:000001");
        assert_eq!(sample_key(b"key:", 100_000, 100_000), b"key:100000");
        assert_eq!(sample_key(b"b:", 7, 10_000_000), b"b:00000007");
        let keys: Vec<Vec<u8>> = (1..=1200).map(|n| sample_key(b"", n, 1200)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(sample_value(b"key:000042"), b"sample value for key:000042");
    }

    fn records(text: &str) -> Vec<Result<Vec<String>, String>> {
        let mut reader = BufReader::new(text.as_bytes());
        let mut line = 0;
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some(record) = csv_record(&mut reader, &mut line, &mut buf).unwrap() {
            out.push(record.map(|fields| {
                fields
                    .into_iter()
                    .map(|f| String::from_utf8(f).unwrap())
                    .collect()
            }));
        }
        out
    }

    fn ok(fields: &[&str]) -> Result<Vec<String>, String> {
        Ok(fields.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn csv_records() {
        assert_eq!(records("a,b\nc,d\n"), [ok(&["a", "b"]), ok(&["c", "d"])]);
        assert_eq!(records("a,b\r\nc,d"), [ok(&["a", "b"]), ok(&["c", "d"])]);
        assert_eq!(
            records("\"a, b\",\"say \"\"hi\"\"\"\n"),
            [ok(&["a, b", "say \"hi\""])]
        );
        assert_eq!(
            records("k,\"two\nlines\"\nx,y"),
            [ok(&["k", "two\nlines"]), ok(&["x", "y"])]
        );
        assert_eq!(records("k,\"\"\n"), [ok(&["k", ""])]);
        assert_eq!(records("a,b,c\n"), [ok(&["a", "b", "c"])]);
        assert_eq!(records("\n"), [ok(&[""])]);
        assert!(records("k,\"open\n")[0]
            .as_ref()
            .unwrap_err()
            .contains("never closed"));
        assert!(records("k,\"v\"x\n")[0]
            .as_ref()
            .unwrap_err()
            .contains("follows a closing quote"));
        assert!(records("").is_empty());
    }

    #[test]
    fn json_rows() {
        let row = json_row(br#"{"key":"k","value":{"hex":"00ff"},"tree":"users"}"#).unwrap();
        assert_eq!(
            row,
            Row {
                tree: Some(b"users".to_vec()),
                key: b"k".to_vec(),
                value: vec![0, 0xff]
            }
        );
        assert_eq!(json_row(br#"{"key":"k","value":"v"}"#).unwrap().tree, None);
        assert!(json_row(b"{").unwrap_err().contains("not JSON"));
        assert!(json_row(b"[1]").unwrap_err().contains("object"));
        assert!(json_row(br#"{"value":"v"}"#)
            .unwrap_err()
            .contains("\"key\" is missing"));
        assert!(json_row(br#"{"key":1,"value":"v"}"#)
            .unwrap_err()
            .contains("must be a string"));
        assert!(json_row(br#"{"key":{"hex":"zz"},"value":"v"}"#).is_err());
    }

    #[test]
    fn paths_resolve_home_and_relative() {
        let home = dirs::home_dir().unwrap_or_default();
        assert_eq!(resolve("~"), home);
        assert_eq!(resolve("~/x/y"), home.join("x/y"));
        let absolute = std::env::temp_dir().join("p");
        assert_eq!(resolve(absolute.to_str().unwrap()), absolute);
        assert_eq!(resolve("rel"), std::env::current_dir().unwrap().join("rel"));
        assert_eq!(Format::of(Path::new("a.CSV")), Format::Csv);
        assert_eq!(Format::of(Path::new("a.jsonl")), Format::JsonLines);
    }
}
