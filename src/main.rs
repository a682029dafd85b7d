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
    ///
    /// When the first argument names a recipe (a PN, `<pn>-native`, `nativesdk-<pn>`;
    /// the version by PREFERRED_VERSION and layer priority), the recipe's environment
    /// instead, as `bitbake -e RECIPE` prints it: the recipe file with its bbappends,
    /// finalised (BBCLASSEXTEND variant, deferred inherits, event handlers, anonymous
    /// functions, task flags). A skipped recipe is reported with BitBake's reason
    /// (exit status 1).
    Env {
        /// The build directory (the one `oe-init-build-env` made, holding conf/).
        #[arg(long, default_value = ".")]
        build_dir: PathBuf,
        /// BitBake's lib folder (holding `bb`), for inline Python. Default: a
        /// `bitbake/lib` beside or above the build directory (Poky's layout), else the
        /// `bb` that the embedded Python can import.
        #[arg(long)]
        bitbake_lib: Option<PathBuf>,
        /// A recipe (optional), then the variables to print (default: all).
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
    /// Parse every recipe of a build directory, as BitBake's parse does.
    ///
    /// Collects the recipe files (BBFILES, BBMASK, bbappends, layer priorities), parses
    /// and finalises each with all its BBCLASSEXTEND variants, and prints one line per
    /// variant: `PN PV file`, with `virtual:<variant>:` before a variant's file, and
    /// `skipped: <reason>` after a skipped one. A summary (counts, time) goes to stderr.
    Recipes {
        /// The build directory (the one `oe-init-build-env` made, holding conf/).
        #[arg(long, default_value = ".")]
        build_dir: PathBuf,
        /// BitBake's lib folder (holding `bb`); default as for `env`.
        #[arg(long)]
        bitbake_lib: Option<PathBuf>,
        /// Threads (default: the number of cores). Python runs one thread at a time.
        #[arg(long, short)]
        jobs: Option<usize>,
    },
    /// Generate the Bazel workspace that builds what BitBake would build.
    ///
    /// Reads the build directory's configuration, parses every recipe with its variants
    /// and computes the task graph of every task of every recipe BitBake would build,
    /// then writes into OUT: `recipes/<PN>/BUILD.bazel` with one target per task and the
    /// task scripts beside it, the layers' file:// sources under `layers/`, the downloads
    /// as repositories of Bazel's downloader (sources.bzl), WORKSPACE (Bazel 4/5) and
    /// MODULE.bazel (Bazel 6+), .bazelrc and a copy of rules_bitbake. The output is the
    /// same bytes on every machine and for every -j. Only files whose content changed
    /// are rewritten, files an earlier gen wrote and this one does not are removed, and a
    /// non-empty OUT that bitzel did not make is refused. A recipe that fails is reported
    /// and left out; the exit status is then 1.
    Gen {
        /// The build directory (the one `oe-init-build-env` made, holding conf/).
        #[arg(long, default_value = ".")]
        build_dir: PathBuf,
        /// BitBake's lib folder (holding `bb`); default as for `env`.
        #[arg(long)]
        bitbake_lib: Option<PathBuf>,
        /// Threads (default: the number of cores). Python runs one thread at a time.
        #[arg(long, short)]
        jobs: Option<usize>,
        /// The workspace to write (created if missing).
        #[arg(long, value_name = "WS")]
        out: PathBuf,
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

/// Starts the embedded Python (BitBake's `bb` from `bitbake_lib`, else found beside the
/// build directory) and reads the build directory's configuration as the cooker does,
/// printing its diagnostics; shared by `env` and `recipes`.
fn load_configuration(
    build_dir: PathBuf,
    bitbake_lib: Option<PathBuf>,
) -> (
    Option<std::sync::Arc<bitzel::eval::python::PythonBridge>>,
    bitzel::eval::config::Configuration,
) {
    use bitzel::eval::config::{parse_configuration, ConfigOptions};
    use bitzel::eval::python::{PythonBridge, PythonConfig};

    let lib = bitbake_lib.or_else(|| find_bitbake_lib(&build_dir));
    let python = match PythonBridge::start(&PythonConfig {
        python_path: lib.into_iter().collect(),
    }) {
        Ok(bridge) => Some(std::sync::Arc::new(bridge)),
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
    (python, config)
}

fn env_command(build_dir: PathBuf, bitbake_lib: Option<PathBuf>, vars: Vec<String>) -> ExitCode {
    use std::io::Write as _;

    let (python, config) = load_configuration(build_dir, bitbake_lib);
    let mut failed = config.has_errors();
    let base = bitzel::eval::DataStore::from_snapshot(config.snapshot.clone());
    let collection = bitzel::eval::collection::Collection::collect(&base);
    let candidates = vars
        .first()
        .map(|target| bitzel::eval::recipe::rank_recipes(&base, &collection, target))
        .unwrap_or_default();
    let mut vars = vars;
    let mut found = None;
    for (file, variant) in &candidates {
        let options = bitzel::eval::recipe::RecipeOptions {
            only_finalise: Some(if variant.is_empty() {
                "default".to_string()
            } else {
                variant.clone()
            }),
        };
        let mut parsed = bitzel::eval::recipe::parse_recipe(
            &config,
            &collection,
            file,
            &options,
            python.as_ref(),
        );
        if let Some(index) = parsed.variants.iter().position(|v| &v.name == variant) {
            eprint!("{}", parsed.rendered_diagnostics);
            found = Some((file.clone(), parsed.variants.swap_remove(index)));
            break;
        }
    }
    let store = if let Some((file, found)) = found {
        vars.remove(0);
        for error in &found.errors {
            eprintln!("bitzel: error: {error}");
            failed = true;
        }
        if let Some(reason) = &found.skipped {
            eprintln!("bitzel: error: {file} was skipped: {reason}");
            failed = true;
        }
        found.store
    } else {
        // showEnvironment without a recipe: expandKeys, then the anonymous functions.
        let mut store = config.recipe_store(python.as_ref());
        let here = bitzel::eval::Location::new("showEnvironment", 0);
        if let Err(err) = store.expand_keys(&here) {
            eprintln!("bitzel: error: {err}");
            failed = true;
        }
        if let Some(bridge) = &python {
            if let Err(err) = bridge.run_anonymous(&mut store) {
                eprintln!("bitzel: error: anonymous Python function failed: {err}");
                failed = true;
            }
        }
        store
    };
    if let Some(bridge) = &python {
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

fn recipes_command(
    build_dir: PathBuf,
    bitbake_lib: Option<PathBuf>,
    jobs: Option<usize>,
) -> ExitCode {
    use std::io::Write as _;

    let started = std::time::Instant::now();
    let (python, config) = load_configuration(build_dir, bitbake_lib);
    let configured = started.elapsed();
    let base = bitzel::eval::DataStore::from_snapshot(config.snapshot.clone());
    let collection = bitzel::eval::collection::Collection::collect(&base);
    let jobs = jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let parsed = bitzel::eval::recipe::parse_all(&config, &collection, python.as_ref(), jobs);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut variants, mut skipped, mut errors) = (0, 0, 0);
    for recipe in &parsed {
        eprint!("{}", recipe.rendered_diagnostics);
        for v in &recipe.variants {
            variants += 1;
            let get = |name: &str| {
                v.store
                    .get_var(name, true)
                    .ok()
                    .flatten()
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            };
            let file = if v.name.is_empty() {
                recipe.file.clone()
            } else {
                format!("virtual:{}:{}", v.name, recipe.file)
            };
            let _ = write!(out, "{} {} {file}", get("PN"), get("PV"));
            if let Some(reason) = &v.skipped {
                skipped += 1;
                let _ = write!(out, " skipped: {reason}");
            }
            let _ = writeln!(out);
            for e in &v.errors {
                errors += 1;
                eprintln!("bitzel: error: {file}: {e}");
            }
        }
    }
    let _ = out.flush();
    eprintln!(
        "bitzel: {} recipe files, {variants} variants ({skipped} skipped, {} masked, {errors} errors); configuration {:.2?}, all {:.2?} on {jobs} threads",
        parsed.len(),
        collection.masked,
        configured,
        started.elapsed()
    );
    if errors > 0 || config.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Progress on stderr when it is a terminal: one line, rewritten.
struct Progress {
    on: bool,
}

impl Progress {
    fn new() -> Progress {
        use std::io::IsTerminal as _;
        Progress {
            on: std::io::stderr().is_terminal(),
        }
    }

    fn show(&self, text: &str) {
        if self.on {
            eprint!("\r\x1b[2K{text}");
        }
    }

    fn clear(&self) {
        if self.on {
            eprint!("\r\x1b[2K");
        }
    }
}

fn gen_command(
    build_dir: PathBuf,
    bitbake_lib: Option<PathBuf>,
    jobs: Option<usize>,
    out: PathBuf,
) -> ExitCode {
    use bitzel::emit::workspace::{generate, GenInput};
    use bitzel::emit::writer::write_workspace;

    let started = std::time::Instant::now();
    let progress = Progress::new();
    progress.show("bitzel gen: reading the configuration");
    let (python, config) = load_configuration(build_dir, bitbake_lib);
    let base = bitzel::eval::DataStore::from_snapshot(config.snapshot.clone());
    let collection = bitzel::eval::collection::Collection::collect(&base);
    let jobs = jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    // parse_all reports no progress of its own: a ticking line says it is alive.
    let parsing = std::sync::atomic::AtomicBool::new(true);
    let parsed = std::thread::scope(|scope| {
        if progress.on {
            let files = collection.recipes.len();
            let parsing = &parsing;
            let progress = &progress;
            scope.spawn(move || {
                let start = std::time::Instant::now();
                while parsing.load(std::sync::atomic::Ordering::Relaxed) {
                    progress.show(&format!(
                        "bitzel gen: parsing {files} recipe files ({}s)",
                        start.elapsed().as_secs()
                    ));
                    std::thread::sleep(std::time::Duration::from_millis(250));
                }
            });
        }
        let parsed = bitzel::eval::recipe::parse_all(&config, &collection, python.as_ref(), jobs);
        parsing.store(false, std::sync::atomic::Ordering::Relaxed);
        parsed
    });
    progress.clear();
    let mut failed = config.has_errors();
    for recipe in &parsed {
        eprint!("{}", recipe.rendered_diagnostics);
        for v in &recipe.variants {
            for e in &v.errors {
                failed = true;
                let file = if v.name.is_empty() {
                    recipe.file.clone()
                } else {
                    format!("virtual:{}:{}", v.name, recipe.file)
                };
                eprintln!("bitzel: error: {file}: {e}");
            }
        }
    }
    let parsed_in = started.elapsed();
    let input = GenInput {
        config: &config,
        collection: &collection,
        python: python.as_ref(),
        jobs,
    };
    let show = |done: usize, total: usize| {
        if done.is_multiple_of(16) || done == total {
            progress.show(&format!("bitzel gen: planning recipes {done}/{total}"));
        }
    };
    let generated = match generate(&input, parsed, &show) {
        Ok(g) => g,
        Err(err) => {
            progress.clear();
            if let bitzel::emit::workspace::GenError::Graph(failure) = &err {
                for event in &failure.events {
                    eprintln!("bitzel: note: {event}");
                }
            }
            eprintln!("bitzel: error: {err}");
            return ExitCode::from(1);
        }
    };
    let planned_in = started.elapsed() - parsed_in;
    progress.show(&format!("bitzel gen: writing {}", out.display()));
    let report = match write_workspace(&out, &generated.files) {
        Ok(r) => r,
        Err(err) => {
            progress.clear();
            eprintln!("bitzel: error: {err}");
            return ExitCode::from(2);
        }
    };
    let written_in = started.elapsed() - parsed_in - planned_in;
    progress.clear();
    for note in &generated.notes {
        eprintln!("bitzel: note: {note}");
    }
    for s in &generated.skipped {
        eprintln!("bitzel: skipped: {} ({}): {}", s.pn, s.file, s.reason);
    }
    for p in &generated.problems {
        failed = true;
        eprintln!("bitzel: error: {}: {}", p.pn, p.message);
    }
    eprintln!(
        "bitzel gen: {} recipes, {} targets, {} downloads, {} skipped, {} problems; \
         {} files written, {} unchanged, {} removed; configuration and parse {:.2?}, \
         graph and plan {:.2?}, write {:.2?}, all {:.2?} on {jobs} threads",
        generated.recipes,
        generated.targets,
        generated.downloads,
        generated.skipped.len(),
        generated.problems.len(),
        report.written.len(),
        report.unchanged,
        report.removed.len(),
        parsed_in,
        planned_in,
        written_in,
        started.elapsed()
    );
    match std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("bitzel-sandbox")))
        .filter(|helper| helper.is_file())
    {
        Some(helper) => eprintln!(
            "bitzel gen: tasks run {}: Bazel finds it on PATH, or add \
             `build --repo_env=BITZEL_SANDBOX={}` to {}/user.bazelrc",
            helper.display(),
            helper.display(),
            out.display()
        ),
        None => eprintln!(
            "bitzel gen: tasks run bitzel-sandbox: put it on PATH or set \
             --repo_env=BITZEL_SANDBOX=/path/to/bitzel-sandbox (user.bazelrc)"
        ),
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
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
        Command::Recipes {
            build_dir,
            bitbake_lib,
            jobs,
        } => recipes_command(build_dir, bitbake_lib, jobs),
        Command::Gen {
            build_dir,
            bitbake_lib,
            jobs,
            out,
        } => gen_command(build_dir, bitbake_lib, jobs, out),
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
