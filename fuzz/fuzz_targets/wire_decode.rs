//! Arbitrary bytes, cut into zmq frames, through the wire decoder: it must
//! return a message or an error, never panic, with and without a key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sled_kernel::wire::{decode, Signer};

fuzz_target!(|data: &[u8]| {
    // Frames are separated by a 0xFF byte, so the fuzzer can shape them.
    let frames: Vec<Vec<u8>> = data.split(|b| *b == 0xFF).map(<[u8]>::to_vec).collect();
    let _ = decode(frames.clone(), &Signer::new(""));
    let _ = decode(frames, &Signer::new("fuzz-key"));
});
