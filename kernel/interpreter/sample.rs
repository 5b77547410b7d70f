//! `%sample_file FILE N [PREFIX]`: a file of N made-up pairs for `%load`,
//! so a lesson can load a big file without a big file in the repository.
//!
//! The file is the same bytes every time for the same N and PREFIX: keys
//! `PREFIX000001` up to `PREFIXN`, zero-padded to at least six digits (so
//! text order is number order), each value a short text naming its key.
//! It is JSON lines without a `tree` field, so `%load` puts the pairs in
//! the current tree.

use super::errors::ErrorKind;
use super::eval::{Ctx, Effect, EvalError};
use super::files::write_json_lines;
use super::render;

/// The most pairs one file may hold (about 600 MB of JSON lines).
pub const MAX_ROWS: usize = 10_000_000;
/// The prefix when none is given.
pub const DEFAULT_PREFIX: &[u8] = b"key:";
/// The fewest digits a key's number has.
const MIN_DIGITS: usize = 6;

/// The `n`th key (from 1) of a file of `rows` pairs.
pub fn key(prefix: &[u8], n: usize, rows: usize) -> Vec<u8> {
    let width = rows.to_string().len().max(MIN_DIGITS);
    let mut key = prefix.to_vec();
    key.extend_from_slice(format!("{n:0width$}").as_bytes());
    key
}

/// The value stored under `key`.
pub fn value(key: &[u8]) -> Vec<u8> {
    let mut value = b"sample value for ".to_vec();
    value.extend_from_slice(key);
    value
}

/// `%sample_file FILE N [PREFIX]`.
pub fn sample_file(
    ctx: &mut Ctx,
    typed: &str,
    rows: usize,
    prefix: Option<&[u8]>,
) -> Result<Effect, EvalError> {
    if rows == 0 || rows > MAX_ROWS {
        return Err(EvalError::refused(
            ErrorKind::Argument,
            format!(
                "%sample_file writes from 1 to {MAX_ROWS} pairs, and {rows} is not in that range; give a count such as 100000."
            ),
        ));
    }
    let prefix = prefix.unwrap_or(DEFAULT_PREFIX);
    let mut ticker = ctx.ticker();
    write_json_lines(typed, "%sample_file", |lines| {
        for n in 1..=rows {
            ticker.tick()?;
            let key = key(prefix, n, rows);
            lines.pair(&key, &value(&key), None)?;
        }
        Ok(())
    })?;
    Ok(Effect::Print(format!(
        "wrote {} to {typed}: keys {} to {}; `%load {typed}` puts them in the current tree",
        render::plural(rows, "sample pair"),
        render::key(&key(prefix, 1, rows)),
        render::key(&key(prefix, rows, rows)),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_zero_padded_to_at_least_six_digits_and_sort_as_numbers() {
        assert_eq!(key(b"key:", 1, 10), b"key:000001");
        assert_eq!(key(b"key:", 100_000, 100_000), b"key:100000");
        assert_eq!(key(b"b:", 7, 10_000_000), b"b:00000007");
        let keys: Vec<Vec<u8>> = (1..=1200).map(|n| key(b"", n, 1200)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(value(b"key:000042"), b"sample value for key:000042");
    }
}
