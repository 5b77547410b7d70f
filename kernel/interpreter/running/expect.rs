//! `expect LINE OP VALUE`: exercises a lesson can grade, and the decision
//! a transaction makes.
//!
//! The read runs as usual (the dispatcher runs it); its answer is compared
//! with VALUE here (`==` unless another comparison is written). A match
//! prints a tick; a mismatch is an `ExpectationFailed` error showing both,
//! which is what graders look for (nbgrader fails a cell on error output).
//! Inside a transaction the same verdict decides whether the transaction
//! goes on or aborts (`blocks`).

use std::cmp::Ordering;

use serde_json::Value;

use super::context::{Ctx, Effect, EvalError};
use crate::interpreter::language::errors::ErrorKind;
use crate::interpreter::language::parser::{Comparison, Expected};
use crate::interpreter::showing::lines::expect as said;
use crate::interpreter::showing::render::{clip, Answer};

/// Characters of a value that messages quote.
const SHOWN: usize = 200;
/// Words that stand for "no answer": a missing key, an empty tree.
const ABSENT: &[&str] = &["<missing>", "<none>", "missing", "none"];

/// Compares what the checked read produced with what was expected.
pub(crate) fn check(produced: Effect, expected: &Expected) -> Result<Effect, EvalError> {
    let Effect::Answer(answer) = produced else {
        return Err(EvalError::refused(ErrorKind::Argument, said::NO_ANSWER));
    };
    match verdict(&answer, expected) {
        Ok(line) => Ok(Effect::Print(line)),
        Err(failure) => Err(EvalError::Refused {
            kind: ErrorKind::ExpectationFailed,
            message: failure.message,
            notes: failure.notes,
        }),
    }
}

/// `%written_by KEY`: the batch or transaction of this session's cells
/// that last wrote KEY in the current tree (see `written_by`), so a check
/// can see how writes were made, not only what they left.
pub(crate) fn written_by(ctx: &Ctx<'_>, key: &[u8]) -> Result<Effect, EvalError> {
    let (shown, json) = match ctx.live.written_by.of(ctx.session.tree_name(), key) {
        Some(group) => {
            let text = group.describe();
            (text.clone(), Value::String(text))
        }
        None => (said::NOT_WRITTEN.to_string(), Value::Null),
    };
    Ok(Effect::Answer(Answer::plain(
        &ctx.tag(),
        &said::written_by_asked(key),
        shown,
        json,
    )))
}

/// Why an expectation does not hold: one sentence and the lines under it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    pub message: String,
    pub notes: Vec<String>,
}

/// `✓ get a == "1"` when the answer is as expected; otherwise why not.
pub(crate) fn verdict(answer: &Answer, expected: &Expected) -> Result<String, Failure> {
    let asked = said::asked(answer);
    let op = expected.op.symbol();
    // A value may be megabytes long: messages quote the start of it.
    let (want, found) = (clip(&expected.text, SHOWN), clip(&answer.shown, SHOWN));
    let holds = match expected.op {
        Comparison::Equal => Ok(matches(answer, expected)),
        Comparison::NotEqual => Ok(!matches(answer, expected)),
        Comparison::Less => compare(answer, expected).map(|o| o == Ordering::Less),
        Comparison::LessOrEqual => compare(answer, expected).map(|o| o != Ordering::Greater),
        Comparison::Greater => compare(answer, expected).map(|o| o == Ordering::Greater),
        Comparison::GreaterOrEqual => compare(answer, expected).map(|o| o != Ordering::Less),
    };
    match holds {
        Ok(true) => Ok(said::held(asked, op, &want)),
        Ok(false) => {
            let equal = expected.op == Comparison::Equal;
            let (message, notes) = said::did_not_hold(asked, op, &want, &found, equal);
            Err(Failure { message, notes })
        }
        Err(why) => {
            let (message, notes) = said::not_comparable(asked, op, &want, &found, &why);
            Err(Failure { message, notes })
        }
    }
}

/// Whether the answer is what was expected: the same text as printed, or
/// the same value however it was written (`"3"`, `3`; `0x61`, `a`).
fn matches(answer: &Answer, expected: &Expected) -> bool {
    if expected.text == answer.shown {
        return true;
    }
    let word = expected.text.as_str();
    match &answer.json {
        Value::Null => ABSENT.iter().any(|a| a.eq_ignore_ascii_case(word)),
        Value::Bool(b) => word.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), word.parse::<i128>()) {
            (Some(a), _, Ok(b)) => i128::from(a) == b,
            (_, Some(a), Ok(b)) => i128::from(a) == b,
            _ => false,
        },
        Value::Object(pair) if pair.contains_key("key") => match &expected.pair {
            Some((k, v)) => {
                bytes_of(&pair["key"]).as_deref() == Some(k.as_slice())
                    && bytes_of(&pair["value"]).as_deref() == Some(v.as_slice())
            }
            None => false,
        },
        other => match (&expected.value, bytes_of(other)) {
            (Some(want), Some(got)) => *want == got,
            _ => false,
        },
    }
}

/// How the answer orders against the expected value: as whole numbers when
/// both are (`"000950"` and `1800`, `len` and `3`), otherwise byte by byte,
/// the order sled keeps keys in. Missing answers, booleans and pairs have no
/// order; the error says so.
fn compare(answer: &Answer, expected: &Expected) -> Result<Ordering, String> {
    let want = expected.value.as_deref();
    let want_number = want.and_then(whole_number);
    match &answer.json {
        Value::Number(n) => {
            let got = n
                .as_i64()
                .map(i128::from)
                .or_else(|| n.as_u64().map(i128::from));
            match (got, want_number) {
                (Some(got), Some(want)) => Ok(got.cmp(&want)),
                _ => Err(said::not_a_count(&clip(&expected.text, SHOWN))),
            }
        }
        Value::Null => Err(said::absent_has_no_order(&answer.shown)),
        Value::Bool(_) => Err(said::BOOLS_HAVE_NO_ORDER.to_string()),
        Value::Object(pair) if pair.contains_key("key") => {
            Err(said::PAIRS_HAVE_NO_ORDER.to_string())
        }
        other => match (bytes_of(other), want) {
            (Some(got), Some(want)) => Ok(match (whole_number(&got), want_number) {
                (Some(a), Some(b)) => a.cmp(&b),
                _ => got.as_slice().cmp(want),
            }),
            _ => Err(said::NOT_ONE_VALUE.to_string()),
        },
    }
}

/// A decimal whole number written in ASCII (`42`, `-3`, `000950`).
fn whole_number(bytes: &[u8]) -> Option<i128> {
    let text = std::str::from_utf8(bytes).ok()?;
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || digits.len() > 30 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The bytes behind a JSON form of bytes ([`render::json_bytes`]).
fn bytes_of(value: &Value) -> Option<Vec<u8>> {
    match value {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Object(o) => o.get("hex")?.as_str().and_then(|h| hex::decode(h).ok()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn expected(text: &str, value: Option<&[u8]>, pair: Option<(&[u8], &[u8])>) -> Expected {
        Expected {
            op: Comparison::Equal,
            text: text.to_string(),
            value: value.map(<[u8]>::to_vec),
            pair: pair.map(|(k, v)| (k.to_vec(), v.to_vec())),
        }
    }

    #[test]
    fn values_compare_however_they_were_written() {
        let got = Answer::get("", b"todo:002", Some(b"lift legs"));
        assert!(matches(
            &got,
            &expected("\"lift legs\"", Some(b"lift legs"), None)
        ));
        assert!(matches(
            &got,
            &expected("'lift legs'", Some(b"lift legs"), None)
        ));
        assert!(!matches(
            &got,
            &expected("\"buy boots\"", Some(b"buy boots"), None)
        ));
        let bytes = Answer::get("", b"k", Some(&[0xff, 0x00]));
        assert!(matches(
            &bytes,
            &expected("0xff00", Some(&[0xff, 0x00]), None)
        ));
        let missing = Answer::get("", b"k", None);
        assert!(matches(&missing, &expected("<missing>", None, None)));
        assert!(!matches(&missing, &expected("\"\"", Some(b""), None)));
    }

    #[test]
    fn numbers_booleans_and_pairs() {
        let len = Answer::plain("", "len", 3, json!(3));
        assert!(matches(&len, &expected("3", Some(b"3"), None)));
        assert!(!matches(&len, &expected("4", Some(b"4"), None)));
        let yes = Answer::plain("", "contains_key x", true, json!(true));
        assert!(matches(&yes, &expected("true", Some(b"true"), None)));
        assert!(!matches(&yes, &expected("false", Some(b"false"), None)));
        let first = Answer::pair("", "first", Some((b"a", b"1")));
        assert!(matches(
            &first,
            &expected("a = \"1\"", None, Some((b"a", b"1")))
        ));
        assert!(matches(
            &first,
            &expected("a = 1", None, Some((b"a", b"1")))
        ));
        assert!(!matches(
            &first,
            &expected("a = 2", None, Some((b"a", b"2")))
        ));
        let none = Answer::pair("", "first", None);
        assert!(matches(&none, &expected("<none>", None, None)));
    }

    fn compared(op: Comparison, text: &str) -> Expected {
        Expected {
            op,
            text: text.to_string(),
            value: Some(text.trim_matches('"').as_bytes().to_vec()),
            pair: None,
        }
    }

    #[test]
    fn orderings_compare_whole_numbers_as_numbers_and_other_values_as_bytes() {
        use Comparison::*;
        let balance = Answer::get("", b"alice", Some(b"70"));
        assert!(verdict(&balance, &compared(GreaterOrEqual, "0")).is_ok());
        assert!(verdict(&balance, &compared(Greater, "70")).is_err());
        assert!(verdict(&balance, &compared(LessOrEqual, "70")).is_ok());
        assert!(
            verdict(&balance, &compared(Less, "100")).is_ok(),
            "70 < 100 as numbers, not as text"
        );
        assert!(verdict(&balance, &compared(NotEqual, "71")).is_ok());
        let padded = Answer::get("", b"player:lin", Some(b"000950"));
        assert!(verdict(&padded, &compared(Less, "1800")).is_ok());
        let negative = Answer::get("", b"alice", Some(b"-20"));
        let failure = verdict(&negative, &compared(GreaterOrEqual, "0")).unwrap_err();
        assert_eq!(
            failure.message,
            "Expected get alice >= 0, but it is \"-20\"."
        );
        let word = Answer::get("", b"k", Some(b"pear"));
        assert!(verdict(&word, &compared(Greater, "apple")).is_ok());
        assert!(verdict(&word, &compared(Less, "apple")).is_err());
        let len = Answer::plain("", "len", 3, json!(3));
        assert_eq!(
            verdict(&len, &compared(GreaterOrEqual, "3")).unwrap(),
            "✓ len >= 3"
        );
        assert!(verdict(&len, &compared(Less, "three"))
            .unwrap_err()
            .message
            .contains("not a whole number"));
        let missing = Answer::get("", b"k", None);
        let failure = verdict(&missing, &compared(Greater, "0")).unwrap_err();
        assert_eq!(
            failure.message,
            "Expected get k > 0, but it is <missing>, which has no order."
        );
        assert!(
            verdict(&missing, &compared(NotEqual, "0")).is_ok(),
            "missing is not 0"
        );
    }
}
