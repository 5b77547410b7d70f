//! Puts the lessons into the binary, for `sled-kernel lessons`: every
//! `notebooks/*.ipynb`, in name order, as `OUT_DIR/lessons.rs` (a list of
//! names and `include_bytes!`). A new lesson in `notebooks/` is taken in by
//! the next build; nothing else needs to change.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let root =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let notebooks = root.join("notebooks");
    // A directory here means: build again when anything in it changes.
    println!("cargo:rerun-if-changed=notebooks");

    let mut names: Vec<String> = fs::read_dir(&notebooks)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", notebooks.display()))
        .map(|entry| entry.expect("a readable entry of notebooks/").file_name())
        .filter_map(|name| name.into_string().ok())
        .filter(|name| name.ends_with(".ipynb") && !name.starts_with('.'))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no lessons in {}", notebooks.display());

    let mut code = String::from("&[\n");
    for name in &names {
        let path = notebooks.join(name);
        let path = path.to_str().expect("the checkout's path is UTF-8");
        writeln!(
            code,
            "    Lesson {{ name: {name:?}, notebook: include_bytes!({path:?}) }},"
        )
        .expect("writing to a String");
    }
    code.push_str("]\n");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("lessons.rs");
    fs::write(&out, code).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
