//! A notebook written as `nbformat.write` writes it, byte for byte:
//! `json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False)` and a
//! newline. serde_json's maps are sorted by key as `sort_keys` sorts them,
//! its pretty printer with one space of indent lays them out the same way,
//! and it leaves non-ASCII text unescaped; only floats are written
//! differently (`2.3494e-5` where Python writes `2.3494e-05`), so they go
//! through [`python_float`].

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};
use serde_json::Value;
use std::io;

/// The notebook's bytes, as nbformat would store them.
pub(super) fn nbformat_bytes(nb: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let formatter = PythonJson(PrettyFormatter::with_indent(b" "));
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    nb.serialize(&mut serializer)
        .expect("a JSON value always serializes to memory");
    out.push(b'\n');
    out
}

/// Python's `repr` of a float: the shortest digits that read back as the
/// same number (which Rust's formatting also finds), in positional form
/// with at least one decimal when the decimal point falls within 16 digits
/// of the first one, and otherwise as `1.5e+300` / `2.3494e-05`.
pub(super) fn python_float(value: f64) -> String {
    if !value.is_finite() {
        // json.dumps writes these (not JSON); nbformat never stores them.
        return if value.is_nan() {
            "NaN".into()
        } else if value > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let shortest = format!("{:e}", value.abs()); // "2.3494e-5", "1e16", "0e0"
    let (mantissa, exponent) = shortest
        .split_once('e')
        .expect("{:e} always writes an exponent");
    let exponent: i32 = exponent.parse().expect("{:e} writes a whole exponent");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    // value = 0.DIGITS × 10^point
    let point = exponent + 1;
    let sign = if value.is_sign_negative() { "-" } else { "" };
    let body = if !(-4 < point && point <= 16) {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp = point - 1;
        format!(
            "{first}{fraction}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        )
    } else if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
    } else {
        let (whole, fraction) = digits.split_at(point as usize);
        format!("{whole}.{fraction}")
    };
    format!("{sign}{body}")
}

/// serde_json's pretty printer with Python's floats.
struct PythonJson<'a>(PrettyFormatter<'a>);

impl Formatter for PythonJson<'_> {
    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        writer.write_all(python_float(value).as_bytes())
    }
    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_array(writer)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array(writer)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(writer, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array_value(writer)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object(writer)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object(writer)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(writer, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object_value(writer)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_value(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_written_as_python_writes_them() {
        // Each pair: the number, and Python 3's repr of it.
        let cases = [
            (2.3494e-05, "2.3494e-05"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (1e-05, "1e-05"),
            (0.00015, "0.00015"),
            (80193.67973353097, "80193.67973353097"),
            (1.0, "1.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (-123.456, "-123.456"),
            (0.1, "0.1"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (12345678901234567.0, "1.2345678901234568e+16"),
        ];
        for (value, python) in cases {
            assert_eq!(python_float(value), python, "{value:e}");
        }
    }

    #[test]
    fn a_notebook_is_laid_out_as_nbformat_lays_it_out() {
        let nb = serde_json::json!({"b": [], "a": {"x": [1, 2.5e-7, "é\n\u{1}"], "e": {}}});
        let written = String::from_utf8(nbformat_bytes(&nb)).unwrap();
        // json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
        let python = "{\n \"a\": {\n  \"e\": {},\n  \"x\": [\n   1,\n   2.5e-07,\n   \"é\\n\\u0001\"\n  ]\n },\n \"b\": []\n}\n";
        assert_eq!(written, python);
    }
}
