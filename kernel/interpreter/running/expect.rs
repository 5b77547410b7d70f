//! `expect LINE == VALUE`: exercises a lesson can grade.
//!
//! The read runs as usual (the dispatcher runs it); its answer is compared
//! with VALUE here. A match
//! prints a tick; a mismatch is an `ExpectationFailed` error showing both,
//! which is what graders look for (nbgrader fails a cell on error output).

use serde_json::Value;

use super::context::{Effect, EvalError};
use crate::interpreter::language::errors::ErrorKind;
use crate::interpreter::language::parser::Expected;
use crate::interpreter::showing::render::{clip, Answer};

/// Characters of a value that messages quote.
const SHOWN: usize = 200;
/// Words that stand for "no answer": a missing key, an empty tree.
const ABSENT: &[&str] = &["<missing>", "<none>", "missing", "none"];

/// Compares what the checked read produced with what was expected.
pub fn check(produced: Effect, expected: &Expected) -> Result<Effect, EvalError> {
    let Effect::Answer(answer) = produced else {
        return Err(EvalError::refused(
            ErrorKind::Argument,
            "`expect` checks reads that give one answer, and this line gave none.",
        ));
    };
    let asked = answer
        .text
        .strip_suffix(&format!(" -> {}", answer.shown))
        .unwrap_or(&answer.text)
        .to_string();
    // A value may be megabytes long: messages quote the start of it.
    let (want, found) = (clip(&expected.text, SHOWN), clip(&answer.shown, SHOWN));
    if matches(&answer, expected) {
        return Ok(Effect::Print(format!("✓ {asked} == {want}")));
    }
    Err(EvalError::Refused {
        kind: ErrorKind::ExpectationFailed,
        message: format!("Expected {asked} == {want}, but it is {found}."),
        notes: vec![format!("expected: {want}"), format!("   found: {found}")],
    })
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
}
