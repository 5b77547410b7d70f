//! Reads sled 0.34's log file (`db` in the database's directory) into
//! records, for `%log` and for `%crash_copy`'s damage. The layout is the
//! one sled's `pagecache/logger.rs` writes and `pagecache/iterator.rs`
//! reads back when it recovers:
//!
//! * the file is cut into segments (`segment_size` in the `conf` file,
//!   512 KiB by default);
//! * a segment starts with a 20-byte header: a CRC32 of the next 16 bytes
//!   (stored inverted), the segment's first LSN and the highest LSN known
//!   stable when it was written (each XOR-ed with `0x7FFF_FFFF_FFFF_FFFF`);
//! * records follow, each a header (a CRC32, stored inverted, of the body
//!   followed by the rest of the header; a kind byte; the body's length,
//!   the segment number and the page number as sled's variable-length
//!   integers) and a body.
//!
//! Nothing here writes: this is only reading, in this process, bytes that
//! sled may be writing at the same moment (a record cut short then shows
//! as one whose CRC fails, as it would to recovery).

use std::collections::HashMap;
use std::path::Path;

use crate::interpreter::showing::log::{Log, Record, What};

/// The bytes of a segment's header.
const SEGMENT_HEADER: u64 = 20;
/// sled never starts a record closer than this to a segment's end.
const MOST_RECORD_HEADER: u64 = 32;
const DEFAULT_SEGMENT: u64 = 512 * 1024;
/// The page number sled gives batch markers (`u64::MAX - 666`).
const BATCH_MARKER_PAGE: u64 = u64::MAX - 666;
/// Records `%log` shows at most (the newest); the rest are counted.
pub(crate) const SHOWN: usize = 40;

/// The log of the database in `dir`, every record of it.
pub(crate) fn read(dir: &Path) -> std::io::Result<Log> {
    let bytes = std::fs::read(dir.join("db"))?;
    let segment = segment_size(dir);
    Ok(parse(&bytes, segment))
}

/// Only the newest [`SHOWN`] records, the others counted.
pub(crate) fn newest(mut log: Log) -> Log {
    if log.records.len() > SHOWN {
        let cut = log.records.len() - SHOWN;
        log.records.drain(..cut);
        log.earlier += cut;
    }
    log
}

/// `segment_size` from the `conf` file; sled's default when it is not there.
pub(crate) fn segment_size(dir: &Path) -> u64 {
    let Ok(conf) = std::fs::read(dir.join("conf")) else {
        return DEFAULT_SEGMENT;
    };
    String::from_utf8_lossy(&conf)
        .lines()
        .find_map(|line| line.strip_prefix("segment_size:"))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .filter(|n| *n >= 2 * MOST_RECORD_HEADER)
        .unwrap_or(DEFAULT_SEGMENT)
}

/// The records of a log file's bytes, segment by segment in the order of
/// their LSNs (the order recovery reads them), with every record after the
/// first one whose CRC fails marked as not read.
pub(crate) fn parse(bytes: &[u8], segment: u64) -> Log {
    let len = bytes.len() as u64;
    let mut starts: Vec<(i64, u64)> = Vec::new();
    let mut base = 0u64;
    while base + SEGMENT_HEADER <= len {
        let lsn = segment_lsn(&bytes[base as usize..(base + SEGMENT_HEADER) as usize]);
        starts.push((lsn.unwrap_or(i64::MAX), base));
        base += segment;
    }
    // Segments in LSN order; one whose header is damaged goes last.
    starts.sort();
    let mut pages: HashMap<u64, Vec<u8>> = HashMap::new();
    let mut records = Vec::new();
    for (_, base) in &starts {
        read_segment(bytes, *base, segment, &mut pages, &mut records);
    }
    // Zeros hold no record, so there is nothing in them recovery skips.
    let mut damaged = false;
    for r in &mut records {
        r.past_damage = damaged && !matches!(r.what, What::Zeros);
        if !r.crc_ok || matches!(r.what, What::Garbage) {
            damaged = true;
        }
    }
    Log {
        file_len: len,
        segments: starts.len(),
        records,
        earlier: 0,
    }
}

/// A segment header's first LSN, or `None` when its CRC fails.
fn segment_lsn(header: &[u8]) -> Option<i64> {
    let stored = u32::from_le_bytes(header[0..4].try_into().ok()?) ^ 0xFFFF_FFFF;
    if crc32fast::hash(&header[4..20]) != stored {
        return None;
    }
    let raw = i64::from_le_bytes(header[4..12].try_into().ok()?);
    Some(raw ^ 0x7FFF_FFFF_FFFF_FFFF)
}

fn read_segment(
    bytes: &[u8],
    base: u64,
    segment: u64,
    pages: &mut HashMap<u64, Vec<u8>>,
    records: &mut Vec<Record>,
) {
    let file_end = bytes.len() as u64;
    let end = (base + segment).min(file_end);
    let header = &bytes[base as usize..(base + SEGMENT_HEADER) as usize];
    let lsn = segment_lsn(header);
    let raw_lsn =
        i64::from_le_bytes(header[4..12].try_into().expect("8 bytes")) ^ 0x7FFF_FFFF_FFFF_FFFF;
    records.push(Record {
        offset: base,
        len: SEGMENT_HEADER,
        lsn: raw_lsn,
        what: What::SegmentHeader { lsn: raw_lsn },
        crc_ok: lsn.is_some(),
        past_damage: false,
    });
    // A damaged header may hold any LSN at all: no arithmetic on it may fail.
    let lsn_of = |offset: u64| raw_lsn.wrapping_add((offset - base) as i64);
    let expected_segment = u64::try_from(raw_lsn).unwrap_or(0) / segment;
    let mut at = base + SEGMENT_HEADER;
    while at < end && at + MOST_RECORD_HEADER <= base + segment {
        let rest = &bytes[at as usize..end as usize];
        if rest.iter().all(|b| *b == 0) {
            records.push(Record {
                offset: at,
                len: end - at,
                lsn: lsn_of(at),
                what: What::Zeros,
                crc_ok: true,
                past_damage: false,
            });
            return;
        }
        let Some(record) = read_record(
            rest,
            at,
            lsn_of(at),
            expected_segment,
            base + segment - at,
            pages,
        ) else {
            records.push(Record {
                offset: at,
                len: end - at,
                lsn: lsn_of(at),
                what: What::Garbage,
                crc_ok: false,
                past_damage: false,
            });
            return;
        };
        at += record.len;
        let cap = matches!(record.what, What::Cap);
        records.push(record);
        if cap {
            return;
        }
    }
}

/// One record at the start of `rest`, or `None` when the bytes there are
/// no record at all (an unknown kind, a length past the segment).
fn read_record(
    rest: &[u8],
    offset: u64,
    lsn: i64,
    expected_segment: u64,
    room: u64,
    pages: &mut HashMap<u64, Vec<u8>>,
) -> Option<Record> {
    let mut cursor = Cursor(rest);
    let stored_crc = u32::from_le_bytes(cursor.take(4)?.try_into().ok()?);
    let kind = cursor.byte()?;
    let body_len = cursor.varint()?;
    let segment_number = cursor.varint()?;
    let pid = cursor.varint()?;
    let header_len = (rest.len() - cursor.0.len()) as u64;
    if kind == 0 || kind > 11 || body_len > room.saturating_sub(header_len) {
        return None;
    }
    let available = cursor.0.len() as u64;
    let body = &cursor.0[..body_len.min(available) as usize];
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(body);
    hasher.update(&rest[4..header_len as usize]);
    let crc_ok = body_len <= available
        && hasher.finalize() ^ 0xFFFF_FFFF == stored_crc
        && segment_number == expected_segment;
    let what = if crc_ok {
        decode(kind, pid, body, pages)
    } else {
        // A damaged record says nothing reliable; its header, maybe.
        What::Damaged { kind, pid }
    };
    Some(Record {
        offset,
        len: header_len + body_len,
        lsn,
        what,
        crc_ok,
        past_damage: false,
    })
}

/// What a record's body holds, by its kind (sled's `MessageKind`).
fn decode(kind: u8, pid: u64, body: &[u8], pages: &mut HashMap<u64, Vec<u8>>) -> What {
    let what = match kind {
        1 => Some(What::Canceled),
        2 => Some(What::Cap),
        3 if pid == BATCH_MARKER_PAGE && body.len() == 8 => Some(What::BatchMarker {
            last: i64::from_le_bytes(body.try_into().expect("8 bytes")),
        }),
        4 => Some(What::Free { pid }),
        5 => Cursor(body).varint().map(What::Counter),
        6 => trees(body),
        7 | 9 | 11 => Some(What::Blob { pid }),
        8 => page(pid, body, pages),
        10 => change(pid, body, pages),
        _ => None,
    };
    what.unwrap_or(What::Unknown { kind })
}

/// sled's `Meta`: pairs of a tree's name and its root page, to the end.
fn trees(body: &[u8]) -> Option<What> {
    let mut cursor = Cursor(body);
    let mut trees = Vec::new();
    while !cursor.0.is_empty() {
        let name = cursor.bytes()?.to_vec();
        let pid = cursor.varint()?;
        trees.push((name, pid));
    }
    Some(What::Trees(trees))
}

/// sled's `Node`: `next`, `merging_child`, `merging`, `prefix_len`, `lo`,
/// `hi`, then its data: a leaf (0) or an index (1) and how many entries.
/// Remembers the page's prefix (the first `prefix_len` bytes of `lo`),
/// which its changes leave out of their keys.
fn page(pid: u64, body: &[u8], pages: &mut HashMap<u64, Vec<u8>>) -> Option<What> {
    let mut cursor = Cursor(body);
    cursor.varint()?;
    cursor.varint()?;
    cursor.byte()?;
    let prefix_len = usize::from(cursor.byte()?);
    let lo = cursor.bytes()?;
    cursor.bytes()?;
    let leaf = match cursor.byte()? {
        0 => true,
        1 => false,
        _ => return None,
    };
    let entries = cursor.varint()?;
    pages.insert(pid, lo.get(..prefix_len)?.to_vec());
    Some(What::Page { pid, leaf, entries })
}

/// sled's `Link`: a key set (0) or removed (1), or a step of a merge.
fn change(pid: u64, body: &[u8], pages: &HashMap<u64, Vec<u8>>) -> Option<What> {
    let mut cursor = Cursor(body);
    let whole = |suffix: &[u8]| match pages.get(&pid) {
        Some(prefix) => {
            let mut key = prefix.clone();
            key.extend_from_slice(suffix);
            (key, true)
        }
        None => (suffix.to_vec(), false),
    };
    match cursor.byte()? {
        0 => {
            let (key, prefix_known) = whole(cursor.bytes()?);
            let value = cursor.bytes()?.to_vec();
            Some(What::Set {
                pid,
                key,
                value,
                prefix_known,
            })
        }
        1 => {
            let (key, prefix_known) = whole(cursor.bytes()?);
            Some(What::Del {
                pid,
                key,
                prefix_known,
            })
        }
        2..=4 => Some(What::Merge { pid }),
        _ => None,
    }
}

/// Reads sled's serialized values off the front of a byte slice.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = tail;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    /// sled's variable-length `u64`: one byte up to 240, two up to 2,287,
    /// three up to 67,823, then a marker byte and 3 to 8 little-endian bytes.
    fn varint(&mut self) -> Option<u64> {
        let first = self.byte()?;
        Some(match first {
            0..=240 => u64::from(first),
            241..=248 => 240 + 256 * u64::from(first - 241) + u64::from(self.byte()?),
            249 => {
                let b = self.take(2)?;
                2288 + 256 * u64::from(b[0]) + u64::from(b[1])
            }
            _ => {
                let n = usize::from(first - 247);
                let mut le = [0u8; 8];
                le[..n].copy_from_slice(self.take(n)?);
                u64::from_le_bytes(le)
            }
        })
    }

    /// A length, then that many bytes (sled's `IVec`).
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.varint()?).ok()?;
        self.take(n)
    }
}

/// Which record holds the byte at `offset`, if any.
pub(crate) fn record_at(log: &Log, offset: u64) -> Option<&Record> {
    log.records
        .iter()
        .find(|r| r.offset <= offset && offset < r.offset + r.len)
}

/// Where the log's records end: the end of the last record before the
/// zeros (or the file's end), over all segments.
pub(crate) fn end_of_records(log: &Log) -> u64 {
    log.records
        .iter()
        .filter(|r| !matches!(r.what, What::Zeros))
        .map(|r| r.offset + r.len)
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database with six entries, two flushes, closed or not.
    fn diary(dir: &Path) -> sled::Db {
        let db = sled::Config::new()
            .path(dir)
            .flush_every_ms(None)
            .open()
            .unwrap();
        for i in 1..=3 {
            db.insert(format!("diary:00{i}"), format!("entry {i}").as_bytes())
                .unwrap();
        }
        db.flush().unwrap();
        for i in 4..=6 {
            db.insert(format!("diary:00{i}"), format!("entry {i}").as_bytes())
                .unwrap();
        }
        db.flush().unwrap();
        db
    }

    fn changes(log: &Log) -> Vec<String> {
        log.records
            .iter()
            .filter(|r| matches!(r.what, What::Set { .. } | What::Del { .. }))
            .map(Record::describe)
            .collect()
    }

    #[test]
    fn the_log_holds_one_record_per_write_each_with_a_good_crc() {
        let dir = tempfile::tempdir().unwrap();
        let db = diary(dir.path());
        let log = read(dir.path()).unwrap();
        assert_eq!(log.segments, 1);
        assert!(
            log.records.iter().all(|r| r.crc_ok && !r.past_damage),
            "{log:?}"
        );
        assert_eq!(
            changes(&log),
            (1..=6)
                .map(|i| format!("page 2: insert diary:00{i} = \"entry {i}\""))
                .collect::<Vec<_>>()
        );
        assert!(matches!(
            log.records[0].what,
            What::SegmentHeader { lsn: 0 }
        ));
        assert!(log.records.iter().any(
            |r| matches!(&r.what, What::Trees(t) if t.iter().any(|(n, _)| n == b"__sled__default"))
        ));
        assert_eq!(end_of_records(&log), log.file_len);
        drop(db);
    }

    #[test]
    fn a_batch_is_a_marker_then_its_writes_and_a_removal_is_a_record_too() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new()
            .path(dir.path())
            .flush_every_ms(None)
            .open()
            .unwrap();
        db.insert("idx:city:Oslo:002", "").unwrap();
        let mut batch = sled::Batch::default();
        batch.insert("user:002", "Bo, Lyon");
        batch.remove("idx:city:Oslo:002");
        db.apply_batch(batch).unwrap();
        db.flush().unwrap();
        let log = read(dir.path()).unwrap();
        let marker = log
            .records
            .iter()
            .position(|r| matches!(r.what, What::BatchMarker { .. }))
            .expect("a batch marker");
        let What::BatchMarker { last } = log.records[marker].what else {
            unreachable!()
        };
        let mut after: Vec<String> = log.records[marker + 1..]
            .iter()
            .filter(|r| r.lsn <= last)
            .map(Record::describe)
            .collect();
        // sled keeps a batch's writes in a HashMap: their order in the log
        // changes from run to run.
        after.sort();
        assert_eq!(
            after,
            [
                "page 2: insert user:002 = \"Bo, Lyon\"",
                "page 2: remove idx:city:Oslo:002"
            ]
        );
    }

    #[test]
    fn a_flipped_byte_fails_its_record_and_everything_after_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let db = diary(dir.path());
        let mut bytes = std::fs::read(dir.path().join("db")).unwrap();
        drop(db);
        let log = parse(&bytes, DEFAULT_SEGMENT);
        let third = log
            .records
            .iter()
            .find(|r| r.describe().contains("diary:003"))
            .unwrap()
            .clone();
        assert_eq!(record_at(&log, third.offset + 10), Some(&third));
        bytes[(third.offset + 10) as usize] ^= 0xFF;
        let damaged = parse(&bytes, DEFAULT_SEGMENT);
        let hit = record_at(&damaged, third.offset + 10).unwrap();
        assert!(!hit.crc_ok);
        let after: Vec<&Record> = damaged
            .records
            .iter()
            .filter(|r| r.offset > third.offset)
            .collect();
        assert_eq!(after.len(), 3, "diary:004 to 006 are still in the file");
        assert!(after.iter().all(|r| r.past_damage && r.crc_ok));
    }

    #[test]
    fn every_damaged_byte_of_a_real_log_is_read_without_panicking() {
        let dir = tempfile::tempdir().unwrap();
        let db = diary(dir.path());
        let whole = std::fs::read(dir.path().join("db")).unwrap();
        drop(db);
        for at in 0..whole.len() {
            for flip in [0xFF, 0x01, 0x80] {
                let mut bytes = whole.clone();
                bytes[at] ^= flip;
                let log = parse(&bytes, DEFAULT_SEGMENT);
                let hit = record_at(&log, at as u64).expect("every byte is in a record");
                assert!(
                    !hit.crc_ok,
                    "a changed byte at {at} went unnoticed: {hit:?}"
                );
                newest(log).bundle();
            }
        }
    }

    #[test]
    fn garbage_and_short_files_are_read_without_panicking() {
        for bytes in [
            Vec::new(),
            vec![0xFF; 10],
            vec![0xFF; 100],
            vec![0u8; 64],
            (0..=255u8).cycle().take(5000).collect::<Vec<_>>(),
        ] {
            let log = parse(&bytes, 256);
            for r in &log.records {
                assert!(r.offset + r.len <= bytes.len() as u64 || !r.crc_ok, "{r:?}");
            }
        }
        // A last record cut short: its header claims more than the file has.
        let dir = tempfile::tempdir().unwrap();
        let db = diary(dir.path());
        let whole = std::fs::read(dir.path().join("db")).unwrap();
        drop(db);
        let cut = &whole[..whole.len() - 5];
        let log = parse(cut, DEFAULT_SEGMENT);
        let last = log.records.last().unwrap();
        assert!(
            !last.crc_ok && last.offset + last.len > cut.len() as u64,
            "{last:?}"
        );
        let mut c = Cursor(&[250, 1, 2]);
        assert_eq!(c.varint(), None, "a varint cut short");
        assert_eq!(Cursor(&[241, 0]).varint(), Some(240));
        assert_eq!(Cursor(&[249, 0, 0]).varint(), Some(2288));
        assert_eq!(Cursor(&[250, 1, 0, 0]).varint(), Some(1));
    }
}
