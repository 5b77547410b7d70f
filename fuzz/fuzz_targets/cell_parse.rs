//! Arbitrary bytes, as a cell, through the cell parser: it must count the
//! cell's items or report the first mistake, never panic or loop. The
//! mistake is also drawn as the traceback a frontend would show.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sled_kernel::interpreter::parse_cell;

fuzz_target!(|data: &[u8]| {
    let cell = String::from_utf8_lossy(data);
    if let Err(e) = parse_cell(&cell) {
        assert!(!e.ename.is_empty() && !e.evalue.is_empty());
    }
});
