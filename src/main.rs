//! `bitzel`: the command-line interface.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Reads BitBake layers and writes a Bazel workspace that builds the same things.
#[derive(Parser)]
#[command(name = "bitzel", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse BitBake metadata and report every problem BitBake would report.
    ///
    /// Each PATH is a layer (a folder with conf/layer.conf), a folder holding layers, or a
    /// single .bb/.bbclass/.bbappend/.inc/.conf file. For a layer, bitzel checks what
    /// BitBake would read there: conf/, the classes folders, the recipes its layer.conf's
    /// BBFILES matches and the files they include. Diagnostics are printed as
    /// `path:line:col: error: message` followed by the source line; the exit status is 1
    /// if there was an error, 0 otherwise.
    Check {
        /// Layers, folders of layers, or files to check.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { paths } => {
            let stdout = std::io::stdout();
            match bitzel::check::run(&paths, &mut stdout.lock()) {
                Ok(summary) if summary.errors > 0 => ExitCode::from(1),
                Ok(_) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("bitzel: error: {err:#}");
                    ExitCode::from(2)
                }
            }
        }
    }
}
