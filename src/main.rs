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
    /// Print the global environment as `bitbake -e` (no recipe) prints it.
    ///
    /// Reads the configuration of a build directory the way BitBake's cooker does
    /// (conf/bblayers.conf, each layer's conf/layer.conf, conf/bitbake.conf along BBPATH,
    /// base.bbclass and the INHERIT classes), runs the configuration's anonymous Python
    /// functions as `bitbake -e` does, and prints what `bitbake -e` prints: the include
    /// history, every variable as `VAR="value"` or `export VAR="value"` sorted by name
    /// with its history in comments, the shell functions, then the Python functions.
    /// With VAR arguments, only those variables. Problems go to stderr; the exit status is 1 if BitBake
    /// would have stopped with an error, 0 otherwise.
    Env {
        /// The build directory (the one `oe-init-build-env` made, holding conf/).
        #[arg(long, default_value = ".")]
        build_dir: PathBuf,
        /// BitBake's lib folder (holding `bb`), for inline Python. Default: a
        /// `bitbake/lib` beside or above the build directory (Poky's layout), else the
        /// `bb` that the embedded Python can import.
        #[arg(long)]
        bitbake_lib: Option<PathBuf>,
        /// Print only these variables.
        vars: Vec<String>,
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

/// A `bitbake/lib` holding `bb` in the build directory or one of its parents, or beside
/// one of them (Poky: poky/build and poky/bitbake).
fn find_bitbake_lib(build_dir: &std::path::Path) -> Option<PathBuf> {
    let start = std::path::absolute(build_dir).ok()?;
    start
        .ancestors()
        .map(|dir| dir.join("bitbake/lib"))
        .find(|lib| lib.join("bb/__init__.py").is_file())
}

fn env_command(build_dir: PathBuf, bitbake_lib: Option<PathBuf>, vars: Vec<String>) -> ExitCode {
    use bitzel::eval::config::{parse_configuration, ConfigOptions};
    use bitzel::eval::python::{PythonBridge, PythonConfig};
    use std::io::Write as _;
    use std::sync::Arc;

    let lib = bitbake_lib.or_else(|| find_bitbake_lib(&build_dir));
    let python = match PythonBridge::start(&PythonConfig {
        python_path: lib.into_iter().collect(),
    }) {
        Ok(bridge) => Some(Arc::new(bridge)),
        Err(err) => {
            eprintln!(
                "bitzel: warning: no Python for inline ${{@...}} ({err}); give --bitbake-lib"
            );
            None
        }
    };
    let options = ConfigOptions {
        build_dir,
        env: std::env::vars().collect(),
        multiconfig: None,
    };
    let config = parse_configuration(&options, python.as_ref());
    eprint!("{}", config.rendered_diagnostics);
    // showEnvironment without a recipe: expandKeys, then the anonymous functions.
    let mut store = config.recipe_store(python.as_ref());
    let here = bitzel::eval::Location::new("showEnvironment", 0);
    let mut failed = config.has_errors();
    if let Err(err) = store.expand_keys(&here) {
        eprintln!("bitzel: error: {err}");
        failed = true;
    }
    if let Some(bridge) = &python {
        if let Err(err) = bridge.run_anonymous(&mut store) {
            eprintln!("bitzel: error: anonymous Python function failed: {err}");
            failed = true;
        }
        for message in bridge.take_messages() {
            eprintln!("bitzel: {:?}: {}", message.level, message.text);
        }
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = if vars.is_empty() {
        bitzel::eval::dump::emit_include_history(&config.include_history, &mut out)
            .and_then(|()| bitzel::eval::dump::show_environment(&store, &mut out))
    } else {
        bitzel::eval::dump::emit_vars(&store, &vars, &mut out)
    };
    if let Err(err) = written.and_then(|()| out.flush()) {
        eprintln!("bitzel: error: {err}");
        return ExitCode::from(2);
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
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
        Command::Env {
            build_dir,
            bitbake_lib,
            vars,
        } => env_command(build_dir, bitbake_lib, vars),
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
