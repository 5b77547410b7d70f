//! The cell parser and the printer: what a cell costs the kernel before and
//! after sled does its part. Measures; asserts nothing about speed.
//!
//! Run: `cargo bench --bench interpreter`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sled_kernel::cell::{Discard, Interrupt};
use sled_kernel::interpreter::{parse_cell, Interpreter};
use std::hint::black_box;

/// A cell like the first lesson's: writes, reads, a scan, comments.
const LESSON_CELL: &str = r#"# a todo list in a sorted key-value store
insert todo:001 "buy boots"
insert todo:002 'lift legs'
put "todo 003" "stretch\n\tthen rest"
get todo:002
scan_prefix todo:
remove todo:001
set b"\x00\xff" 0x00ff
get_gt todo:001
iter
"#;

fn batch_cell(n: usize) -> String {
    let mut cell = String::from("batch\n");
    for i in 0..n {
        cell.push_str(&format!("insert b:{i:08} {i}\n"));
    }
    cell.push_str("end\n");
    cell
}

fn parser(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    assert!(parse_cell(LESSON_CELL).is_ok(), "the lesson cell parses");
    group.throughput(Throughput::Bytes(LESSON_CELL.len() as u64));
    group.bench_function("lesson cell (10 lines)", |b| {
        b.iter(|| parse_cell(black_box(LESSON_CELL)))
    });
    let typo = "insert a 1\ngte a\n";
    group.bench_function("a typo (error with suggestion)", |b| {
        b.iter(|| parse_cell(black_box(typo)).is_err())
    });
    for n in [1_000usize, 10_000] {
        let cell = batch_cell(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("batch of inserts", n), &cell, |b, cell| {
            b.iter(|| parse_cell(black_box(cell)))
        });
    }
    group.finish();
}

/// An interpreter holding `todo:000` .. `todo:{n-1}`.
fn interpreter_with(n: usize) -> Interpreter {
    let mut interp = Interpreter::new(Interrupt::new()).expect("a session database");
    let mut cell = String::from("batch\n");
    for i in 0..n {
        cell.push_str(&format!("insert todo:{i:03} \"item number {i}\"\n"));
    }
    cell.push_str("end\n");
    interp
        .execute(&cell, &mut Discard)
        .expect("the setup cell runs");
    interp
}

/// Runs a cell whose result is a bundle, and hands the bundle back (so its
/// rendering is part of what is timed).
fn run(interp: &mut Interpreter, code: &str) -> usize {
    let bundle = interp
        .execute(code, &mut Discard)
        .expect("the cell runs")
        .expect("the cell has a result");
    bundle.len()
}

fn printer(c: &mut Criterion) {
    let mut group = c.benchmark_group("execute and render");
    let mut interp = interpreter_with(100);
    group.bench_function("get k (one answer)", |b| {
        b.iter(|| run(&mut interp, black_box("get todo:042")))
    });
    group.throughput(Throughput::Elements(100));
    group.bench_function("scan_prefix, 100 rows", |b| {
        b.iter(|| run(&mut interp, black_box("scan_prefix todo:")))
    });
    group.bench_function("iter, 100 rows", |b| {
        b.iter(|| run(&mut interp, black_box("iter")))
    });
    group.bench_function("keys, 100 keys", |b| {
        b.iter(|| run(&mut interp, black_box("keys")))
    });
    drop(interp);
    group.finish();

    // Past the default %limit of 100: 1,000 rows read, all shown. About a
    // millisecond each, so fewer samples fit the usual 5 s.
    let mut group = c.benchmark_group("execute and render");
    group.sample_size(50);
    let mut interp = interpreter_with(1000);
    interp
        .execute("%limit 1000", &mut Discard)
        .expect("%limit runs");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("scan_prefix, 1,000 rows with %limit 1000", |b| {
        b.iter(|| run(&mut interp, black_box("scan_prefix todo:")))
    });
    group.finish();
}

criterion_group!(benches, parser, printer);
criterion_main!(benches);
