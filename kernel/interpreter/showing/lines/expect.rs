//! The lines of `expect` and `%written_by` (`running/expect.rs`): a tick,
//! or what was expected and what was found.

use crate::interpreter::showing::render::{self, Answer};

/// What `%written_by KEY` asked, as its answer repeats it.
pub(crate) fn written_by_asked(key: &[u8]) -> String {
    format!("%written_by {}", render::key(key))
}

/// What an answer asked: its line without ` -> ANSWER`.
pub(crate) fn asked(answer: &Answer) -> &str {
    answer
        .text
        .strip_suffix(&format!(" -> {}", answer.shown))
        .unwrap_or(&answer.text)
}

/// `✓ get a == "1"`.
pub(crate) fn held(asked: &str, op: &str, want: &str) -> String {
    format!("✓ {asked} {op} {want}")
}

/// An expectation that did not hold: the sentence and the lines under it
/// (`equal` when the comparison is `==`).
pub(crate) fn did_not_hold(
    asked: &str,
    op: &str,
    want: &str,
    found: &str,
    equal: bool,
) -> (String, Vec<String>) {
    (
        format!("Expected {asked} {op} {want}, but it is {found}."),
        vec![
            if equal {
                format!("expected: {want}")
            } else {
                format!("expected: {op} {want}")
            },
            format!("   found: {found}"),
        ],
    )
}

/// An expectation that could not be compared, because `why`.
pub(crate) fn not_comparable(
    asked: &str,
    op: &str,
    want: &str,
    found: &str,
    why: &str,
) -> (String, Vec<String>) {
    (
        format!("Expected {asked} {op} {want}, but {why}."),
        vec![format!("   found: {found}")],
    )
}

/// Why a count cannot be compared with what was expected.
pub(crate) fn not_a_count(expected: &str) -> String {
    format!("{expected} is not a whole number to compare a count with")
}

/// Why a missing answer (`<missing>`, `<none>`) cannot be compared.
pub(crate) fn absent_has_no_order(shown: &str) -> String {
    format!("it is {shown}, which has no order")
}

/// `expect` after a line that gave no answer.
pub(crate) const NO_ANSWER: &str =
    "`expect` checks reads that give one answer, and this line gave none.";

/// `%written_by` of a key no block wrote.
pub(crate) const NOT_WRITTEN: &str = "<none>";

/// Why an ordering `expect` cannot compare an answer.
pub(crate) const BOOLS_HAVE_NO_ORDER: &str = "true and false have no order";
pub(crate) const PAIRS_HAVE_NO_ORDER: &str =
    "a pair has no order: compare a `get` of its key instead";
pub(crate) const NOT_ONE_VALUE: &str = "the expected value is not one value";
