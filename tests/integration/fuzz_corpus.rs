//! Replays the fuzzers' seed corpora (`fuzz/corpus/`) through the same
//! entry points the fuzz targets use, so every test run is a short smoke run
//! of each corpus without needing cargo-fuzz.

use sled_kernel::interpreter::parse_cell;
use sled_kernel::wire::{decode, Signer};
use std::path::Path;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let inputs: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
        .collect();
    assert!(!inputs.is_empty(), "empty corpus in {}", dir.display());
    inputs
}

#[test]
fn wire_decode_corpus() {
    let mut decoded = 0;
    for input in corpus("wire_decode") {
        // As in fuzz/fuzz_targets/wire_decode.rs: 0xFF separates frames.
        let frames: Vec<Vec<u8>> = input.split(|b| *b == 0xFF).map(<[u8]>::to_vec).collect();
        decoded += usize::from(decode(frames.clone(), &Signer::new("")).is_ok());
        assert!(
            decode(frames, &Signer::new("fuzz-key")).is_err(),
            "unsigned input passed a keyed check"
        );
    }
    assert!(decoded >= 5, "the seed corpus holds well-formed messages");
}

#[test]
fn cell_parse_corpus() {
    let (mut parsed, mut refused) = (0, 0);
    for input in corpus("cell_parse") {
        // As in fuzz/fuzz_targets/cell_parse.rs.
        match parse_cell(&String::from_utf8_lossy(&input)) {
            Ok(items) => parsed += usize::from(items > 0),
            Err(e) => {
                assert!(!e.ename.is_empty() && !e.evalue.is_empty(), "{e:?}");
                assert!(e.traceback.len() >= 5, "a traceback with a caret: {e:?}");
                refused += 1;
            }
        }
    }
    // The seeds hold both well-formed cells and mistakes, so the fuzzer
    // starts from both sides of the parser.
    assert!(parsed >= 8, "{parsed} seeds parse");
    assert!(refused >= 3, "{refused} seeds are refused");
}
