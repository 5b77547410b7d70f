//! Throws tricky text at every entry point: none of it may panic, and none
//! of it meets an internal error.

use super::*;
use crate::cell::Discard;

#[test]
fn no_input_panics() {
    let pieces = [
        "get",
        "insert",
        "scan",
        "range",
        "iter",
        "keys",
        "len",
        "first",
        "get_lt",
        "pop_min",
        "cas",
        "append",
        "incr",
        "clear",
        "batch",
        "transaction",
        "tx",
        "end",
        "abort",
        "use",
        "open_tree",
        "drop_tree",
        "tree_names",
        "checksum",
        "generate_id",
        "__sled__default",
        "limit",
        "rev",
        "-",
        "..",
        "..=",
        "%time",
        "%help",
        "%limit",
        "%info",
        "%lsmagic",
        "echo",
        "warn",
        "%sleep",
        "%reset",
        "%draw",
        "unwatch",
        "expect",
        "==",
        " ",
        "\n",
        "\t",
        "\r\n",
        "\"",
        "'",
        "b\"",
        "0x",
        "0xf",
        "\\",
        "\\x",
        "\\u{",
        "\\u{110000}",
        "}",
        "é",
        "😀",
        "#",
        "k",
        "0",
        "1e400",
        "-1",
        "99999999999999999999",
        "\u{0}",
        "\u{200b}",
    ];
    let mut interp = interpreter();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..2500 {
        let len = (next() % 9) as usize;
        let code: String = (0..len)
            .map(|_| pieces[(next() % pieces.len() as u64) as usize])
            .collect();
        // Keep %sleep and %reset quick and rare.
        if code.contains("%sleep") || code.contains("%reset") {
            continue;
        }
        if round % 97 == 0 {
            interp.suspend().unwrap();
        }
        // A mistake in the cell is the student's to fix; the table and the
        // parser disagreeing is never what they see.
        if let Err(error) = interp.execute(&code, &mut Discard) {
            assert_ne!(error.ename, "InternalError", "{code:?}: {}", error.evalue);
        }
        let chars = code.chars().count();
        for cursor in 0..=chars + 1 {
            let _ = interp.complete(&code, cursor);
            let _ = interp.inspect(&code, cursor, 0);
            let _ = interp.inspect(&code, cursor, 1);
        }
        let _ = interp.is_complete(&code);
    }
}
