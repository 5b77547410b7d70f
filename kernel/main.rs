//! The `sled-kernel` command: run the kernel, install / uninstall its
//! kernelspec, warm the Rust cache, or write out the lessons.

use clap::{Args, Parser, Subcommand};
use sled_kernel::rust_cells::{InThisBuild, RustCells as _};
use sled_kernel::{connection::ConnectionInfo, handlers, kernelspec, lessons};
use std::path::PathBuf;
use std::process::ExitCode;

/// A Jupyter kernel whose cells are commands against an embedded sled database.
///
/// To start learning: `sled-kernel lessons`, then `jupyter lab sled-lessons`.
/// The wheel registers the kernel in its environment; elsewhere install it
/// once with `sled-kernel install`, then pick "sled KV" in JupyterLab.
/// Jupyter starts it as `sled-kernel kernel --connection-file FILE`.
/// Set SLED_KERNEL_LOG=debug (or info, warn) to see what it does on stderr.
#[derive(Parser)]
#[command(version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the kernel for the connection file Jupyter wrote (what kernel.json runs).
    Kernel {
        /// The JSON file with ports, transport, IP and signing key.
        #[arg(long, short = 'f', value_name = "FILE")]
        connection_file: PathBuf,
    },
    /// Write the `sled` kernelspec (display name "sled KV") where Jupyter finds it.
    Install(Where),
    /// Remove the `sled` kernelspec from where `install` put it.
    Uninstall(Where),
    /// Compile what the first `%%rust` cell needs (sled and its crates) into
    /// the Rust cache, so that cell takes seconds in every new kernel.
    ///
    /// The cache is $XDG_CACHE_HOME/sled-kernel/rust-cells (~/.cache/...);
    /// SLED_KERNEL_RUST_CACHE=DIR puts it elsewhere (a directory shared by a
    /// class), =off turns it off; SLED_KERNEL_RUST_CACHE_MB limits its size.
    /// Run it as the user (and with the environment) the kernels run with.
    Warm,
    /// Write the lessons into DIR for a student, without the answers.
    ///
    /// A student's copy has the exercises' model answers replaced by
    /// `# YOUR ANSWER HERE` and the outputs of the exercises and of the
    /// "predict, then run" cells cleared; everything else is as stored.
    /// Then open them with `jupyter lab DIR`. A lesson already in DIR is left
    /// as it is (it may hold your work) unless you add --force.
    Lessons {
        /// Where to write them; made if missing.
        #[arg(default_value = "sled-lessons")]
        dir: PathBuf,
        /// Write the teacher's copies instead: model answers and every output.
        #[arg(long)]
        with_answers: bool,
        /// Replace the lessons already in DIR (changes made in them are lost).
        #[arg(long)]
        force: bool,
    },
}

/// Where the kernelspec lives; the default is the per-user Jupyter data dir.
#[derive(Args)]
#[group(multiple = false)]
struct Where {
    /// The per-user Jupyter data dir (honours JUPYTER_DATA_DIR). The default.
    #[arg(long)]
    user: bool,
    /// The active Python environment (VIRTUAL_ENV or CONDA_PREFIX), like `pip install`.
    #[arg(long)]
    sys_prefix: bool,
    /// PREFIX/share/jupyter/kernels/sled.
    #[arg(long, value_name = "DIR")]
    prefix: Option<PathBuf>,
}

impl Where {
    fn target(self) -> kernelspec::Target {
        match (self.sys_prefix, self.prefix) {
            (_, Some(dir)) => kernelspec::Target::Prefix(dir),
            (true, None) => kernelspec::Target::SysPrefix,
            _ => kernelspec::Target::User,
        }
    }
}

fn main() -> ExitCode {
    // First of all: evcxr runs this binary again as the process that runs
    // Rust cells, and there this call takes over and never returns.
    InThisBuild::runtime_hook();
    env_logger::Builder::from_env(env_logger::Env::new().filter_or("SLED_KERNEL_LOG", "warn"))
        .format_target(false)
        .init();
    let result = match Cli::parse().command {
        Command::Kernel { connection_file } => {
            ConnectionInfo::from_file(&connection_file).and_then(handlers::lifecycle::run)
        }
        Command::Install(place) => kernelspec::install(&place.target()).map(|dir| {
            println!(
                "installed kernelspec sled (\"sled KV\") in {}",
                dir.display()
            );
            // With several `sled` specs about, say which one Jupyter picks.
            let views = kernelspec::visible::ask_all();
            for line in kernelspec::visible::after_install(&dir, &views) {
                println!("{line}");
            }
        }),
        Command::Uninstall(place) => kernelspec::uninstall(&place.target()).map(|dirs| {
            for dir in dirs {
                println!("removed kernelspec {}", dir.display());
            }
            let views = kernelspec::visible::ask_all();
            for line in kernelspec::visible::after_uninstall(&views) {
                println!("{line}");
            }
        }),
        Command::Warm => InThisBuild::warm().map(|done| println!("{done}")),
        Command::Lessons {
            dir,
            with_answers,
            force,
        } => {
            let copies = if with_answers {
                lessons::Copies::Teacher
            } else {
                lessons::Copies::Student
            };
            lessons::write(&dir, copies, force).map(|report| {
                for line in report.lines() {
                    println!("{line}");
                }
            })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sled-kernel: {e:#}");
            ExitCode::FAILURE
        }
    }
}
