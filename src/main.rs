//! `bitzel`: the command-line interface.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
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
    /// Write the task graph of TARGETs as `bitbake -g` does (debug entry for now).
    ///
    /// Until the evaluator computes recipes, the per-recipe facts come from a JSON dump
    /// of BitBake's recipe cache (tests/oracle/bb_recipeinfo.py). Writes task-depends.dot
    /// and pn-buildlist into OUTDIR in BitBake's formats; missing providers are printed
    /// as BitBake prints them (`ERROR: Nothing PROVIDES ...`) and make the exit status 1.
    /// A target is a recipe or provider name, or `name:do_task`.
    Graph {
        /// The recipe-info JSON (bb_recipeinfo.py's recipeinfo.json).
        #[arg(long, value_name = "JSON")]
        recipe_info: PathBuf,
        /// Where task-depends.dot and pn-buildlist go.
        #[arg(long, value_name = "DIR", default_value = ".")]
        outdir: PathBuf,
        /// Recipe or provider names, or `name:do_task`.
        #[arg(required = true)]
        targets: Vec<String>,
    },
}

fn graph(recipe_info: &Path, outdir: &Path, targets: &[String]) -> anyhow::Result<bool> {
    let text = std::fs::read_to_string(recipe_info)
        .with_context(|| format!("reading {}", recipe_info.display()))?;
    let dump = bitzel::graph::RecipeInfoDump::from_json(&text)
        .with_context(|| format!("parsing {}", recipe_info.display()))?;
    let result = bitzel::graph::generate(&dump.recipes, &dump.config, targets);
    let events = match &result {
        Ok(graph) => &graph.events,
        Err(failure) => &failure.events,
    };
    let mut ok = true;
    for event in events {
        use bitzel::graph::ProviderEvent;
        match event {
            ProviderEvent::NoProvider { .. } => {
                eprintln!("ERROR: {event}");
                ok = false;
            }
            // BitBake logs build-time removals at verbose level only.
            ProviderEvent::Unbuildable { runtime: false, .. } => {}
            _ => eprintln!("NOTE: {event}"),
        }
    }
    match result {
        Ok(graph) => {
            std::fs::create_dir_all(outdir)?;
            std::fs::write(outdir.join("pn-buildlist"), graph.tree.pn_buildlist())?;
            std::fs::write(
                outdir.join("task-depends.dot"),
                graph.tree.task_depends_dot(),
            )?;
            Ok(ok)
        }
        Err(failure) => {
            eprintln!("ERROR: {failure}");
            Ok(false)
        }
    }
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
        Command::Graph {
            recipe_info,
            outdir,
            targets,
        } => match graph(&recipe_info, &outdir, &targets) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(err) => {
                eprintln!("bitzel: error: {err:#}");
                ExitCode::from(2)
            }
        },
    }
}
