//! Signing, verifying and (de)serialising a typical request: the cost the
//! wire layer adds to every message.

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use sled_kernel::message::KernelSession;
use sled_kernel::wire::{decode, encode, Signer};
use std::hint::black_box;

fn wire(c: &mut Criterion) {
    let signer = Signer::new("b3f1c1e4-7c1a-4b8e-9a55-2f1f0b8f2d6e");
    let session = KernelSession::new("bench");
    let msg = session.request(
        "execute_request",
        json!({"code": "get todo:002", "silent": false, "store_history": true,
               "user_expressions": {}, "allow_stdin": true, "stop_on_error": true}),
    );
    let frames = encode(&msg, &signer);
    let parts: Vec<&[u8]> = frames[2..6].iter().map(Vec::as_slice).collect();
    let signature = frames[1].clone();

    c.bench_function("sign 4 frames", |b| {
        b.iter(|| signer.sign(black_box(&parts)))
    });
    c.bench_function("verify 4 frames", |b| {
        b.iter(|| signer.verify(black_box(&signature), black_box(&parts)))
    });
    c.bench_function("encode execute_request", |b| {
        b.iter(|| encode(black_box(&msg), &signer))
    });
    c.bench_function("decode execute_request", |b| {
        b.iter(|| decode(black_box(frames.clone()), &signer).is_ok())
    });
}

criterion_group!(benches, wire);
criterion_main!(benches);
