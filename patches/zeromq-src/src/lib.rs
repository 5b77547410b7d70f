//! zeromq-src 0.3 under zeromq-src 0.2's name: see this crate's Cargo.toml.
//!
//! zmq-sys's build script calls `Build::new().with_libsodium(None).build()`.
//! Everything is zeromq-src 0.3.6's own `Build`, except for one target:
//! for `*-windows-gnu` (mingw-w64) it compiles libzmq without its `ipc`
//! transport, and then adds the one source zeromq-src 0.3.6 compiles only
//! for MSVC: libzmq's bundled `external/wepoll/wepoll.c`, which provides
//! the `epoll_*` functions libzmq's Windows I/O thread polls with. That
//! file is read from the copy of libzmq's sources that zeromq-src's build
//! leaves in the build script's `OUT_DIR`. MSVC's linker adds advapi32 and
//! ws2_32 by itself; mingw's needs them named.

use std::env;
use std::path::PathBuf;

pub use upstream::LibLocation;

/// zeromq-src 0.3.6's `Build`, with the same methods.
#[derive(Debug, Clone, Default)]
pub struct Build {
    inner: upstream::Build,
}

impl Build {
    /// Create a new build.
    pub fn new() -> Self {
        Self::default()
    }

    /// Build the debug version of the lib.
    pub fn build_debug(&mut self, enabled: bool) -> &mut Self {
        self.inner.build_debug(enabled);
        self
    }

    /// Enable the DRAFT API.
    pub fn enable_draft(&mut self, enabled: bool) -> &mut Self {
        self.inner.enable_draft(enabled);
        self
    }

    /// Link against an external libsodium (CURVE).
    pub fn with_libsodium(&mut self, maybe: Option<LibLocation>) -> &mut Self {
        self.inner.with_libsodium(maybe);
        self
    }

    /// Build libzmq and tell cargo how to link it.
    pub fn build(&mut self) {
        let target = env::var("TARGET").expect("TARGET is set for build scripts");
        let mingw = target.ends_with("-windows-gnu") || target.ends_with("-windows-gnullvm");
        if mingw {
            without_ipc(&target);
        }
        self.inner.build();
        if mingw {
            compile_wepoll();
            // Windows libraries libzmq and wepoll call into that zeromq-src
            // names only for MSVC, whose linker adds them by default:
            // security descriptors (advapi32) and sockets (ws2_32).
            println!("cargo:rustc-link-lib=advapi32");
            println!("cargo:rustc-link-lib=ws2_32");
        }
    }
}

/// zeromq-src defines ZMQ_HAVE_STRUCT_SOCKADDR_UN for every Windows target,
/// and ZMQ_HAVE_IPC when the compiler finds <afunix.h>; libzmq 4.3.5's
/// Windows `ipc` code does not compile with mingw-w64's headers. Undefining
/// both after zeromq-src's own defines leaves `ipc` out: the kernel speaks
/// tcp on Windows, as Jupyter does there. (This build script runs in a
/// process of its own, on one thread; cc reads the variable when it runs the
/// compiler.)
fn without_ipc(target: &str) {
    let name = format!("CXXFLAGS_{}", target.replace('-', "_"));
    let mut flags = env::var(&name).unwrap_or_default();
    flags.push_str(" -UZMQ_HAVE_IPC -UZMQ_HAVE_STRUCT_SOCKADDR_UN");
    env::set_var(&name, flags.trim_start());
}

/// libwepoll.a from libzmq's bundled wepoll.c, linked after libzmq.
fn compile_wepoll() {
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR is set for build scripts"));
    let wepoll = out_dir.join("source").join("external").join("wepoll");
    let source = wepoll.join("wepoll.c");
    assert!(
        source.is_file(),
        "zeromq-src did not leave libzmq's {} behind; this crate expects zeromq-src =0.3.6",
        source.display()
    );
    cc::Build::new()
        .file(&source)
        .include(&wepoll)
        .warnings(false)
        .out_dir(out_dir.join("lib"))
        .compile("wepoll");
}
