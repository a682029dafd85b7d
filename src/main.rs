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
    ///
    /// A first argument that is a layer checkout (holding oe-init-build-env, as Poky)
    /// stands for the configuration that `. oe-init-build-env [--build-dir]` there
    /// would set up: its templates, in memory (nothing is written).
    Env {
        #[command(flatten)]
        config: ConfigSource,
        /// A Poky-like checkout (optional), a recipe (optional), then the variables to
        /// print (default: all).
        vars: Vec<String>,
    },
    /// Write the task graph of TARGETs as `bitbake -g` does.
    ///
    /// Parses every recipe of the build directory (as `recipes` does), then computes
    /// the tasks and edges BitBake's taskdata and run queue would for TARGETs, and writes
    /// task-depends.dot and pn-buildlist into OUTDIR (default: the current directory) in
    /// BitBake's formats. Missing providers are printed as BitBake prints them (`ERROR:
    /// Nothing PROVIDES ...`, with the recipes that asked) and make the exit status 1; a
    /// fatal error writes nothing. A target is a recipe or provider name, or
    /// `name:do_task`. With --recipe-info (a debug entry), the per-recipe facts come
    /// from a JSON dump of BitBake's own recipe cache (tests/oracle/bb_recipeinfo.py)
    /// instead of bitzel's evaluator.
    Graph {
        #[command(flatten)]
        config: ConfigSource,
        /// Parser processes (default: the number of cores).
        #[arg(long, short)]
        jobs: Option<usize>,
        /// Read the recipes from bb_recipeinfo.py's recipeinfo.json instead.
        #[arg(long, value_name = "JSON")]
        recipe_info: Option<PathBuf>,
        /// Where task-depends.dot and pn-buildlist go.
        #[arg(long, value_name = "DIR", default_value = ".")]
        outdir: PathBuf,
        /// A Poky-like checkout (optional, as for `env`), then recipe or provider
        /// names, or `name:do_task`.
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
        #[command(flatten)]
        config: ConfigSource,
        /// A Poky-like checkout whose oe-init-build-env templates give the
        /// configuration (in memory, for --build-dir or the checkout's `build`).
        checkout: Option<PathBuf>,
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
        #[command(flatten)]
        config: ConfigSource,
        /// A Poky-like checkout whose oe-init-build-env templates give the
        /// configuration (in memory, for --build-dir or the checkout's `build`).
        checkout: Option<PathBuf>,
        /// Threads (default: the number of cores). Python runs one thread at a time.
        #[arg(long, short)]
        jobs: Option<usize>,
        /// The workspace to write (created if missing).
        #[arg(long, value_name = "WS")]
        out: PathBuf,
    },
}

/// Where the configuration comes from (#3.1): a build directory, layers with a machine
/// and a distro, or a checkout's oe-init-build-env templates; shared by every command
/// that reads a configuration.
#[derive(clap::Args, Clone, Debug, Default)]
struct ConfigSource {
    /// The build directory (the one `oe-init-build-env` made, holding conf/). Default:
    /// the current directory, or the checkout's `build` (not read or made) with a
    /// checkout.
    #[arg(long)]
    build_dir: Option<PathBuf>,
    /// Layers (comma-separated) instead of conf/bblayers.conf's BBLAYERS.
    #[arg(long, value_delimiter = ',', value_name = "L1,L2")]
    layers: Vec<PathBuf>,
    /// MACHINE, set at the end of conf/local.conf.
    #[arg(long)]
    machine: Option<String>,
    /// DISTRO, set at the end of conf/local.conf.
    #[arg(long)]
    distro: Option<String>,
    /// BitBake's lib folder (holding `bb`), for the metadata's Python. Default: a
    /// `bitbake/lib` beside or above the build directory, the checkout or the layers
    /// (Poky's layout), else the `bb` that the embedded Python can import.
    #[arg(long)]
    bitbake_lib: Option<PathBuf>,
    /// A checkout holding oe-init-build-env (Poky): its templates, in memory.
    #[arg(skip)]
    checkout: Option<PathBuf>,
    /// Assignments added at the end of conf/local.conf after `--machine`/`--distro`:
    /// gen's [`bitzel::emit::script::MACHINE_VALUES`].
    #[arg(skip)]
    pinned: Vec<(&'static str, &'static str)>,
}

impl From<PathBuf> for ConfigSource {
    fn from(build_dir: PathBuf) -> Self {
        ConfigSource {
            build_dir: Some(build_dir),
            ..Default::default()
        }
    }
}

impl ConfigSource {
    /// Whether `path` is a checkout whose oe-init-build-env gives the configuration.
    fn is_checkout(path: &Path) -> bool {
        path.join("oe-init-build-env").is_file()
    }

    /// The options of the configuration loader, BitBake's environment being `env`.
    fn options(
        &self,
        env: Vec<(String, String)>,
    ) -> Result<bitzel::eval::config::ConfigOptions, String> {
        use bitzel::eval::config::ConfigOptions;
        let mut options = match &self.checkout {
            Some(checkout) => {
                ConfigOptions::init_build_env(checkout, self.build_dir.as_deref(), env)?
            }
            None => ConfigOptions::from_build_dir(
                self.build_dir.clone().unwrap_or_else(|| PathBuf::from(".")),
                env,
            ),
        };
        if !self.layers.is_empty() {
            options = options.with_layers(&self.layers);
        }
        if let Some(machine) = &self.machine {
            options = options.with_local_assignment("MACHINE", machine);
        }
        if let Some(distro) = &self.distro {
            options = options.with_local_assignment("DISTRO", distro);
        }
        for (name, value) in &self.pinned {
            options = options.with_local_assignment(name, value);
        }
        Ok(options)
    }

    /// Where to look for BitBake's lib folder: the build directory, the checkout, the
    /// layers.
    fn bitbake_lib(&self) -> Option<PathBuf> {
        if self.bitbake_lib.is_some() {
            return self.bitbake_lib.clone();
        }
        let build = self.build_dir.clone().unwrap_or_else(|| PathBuf::from("."));
        std::iter::once(&build)
            .chain(self.checkout.iter())
            .chain(self.layers.iter())
            .find_map(|dir| find_bitbake_lib(dir))
    }
}

/// The number of parser processes: `-j` if given, else the number of cores.
fn threads(jobs: Option<usize>) -> usize {
    jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
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
/// build directory, checkout or layers) and reads the configuration of `source` (a
/// build directory's path, or a [`ConfigSource`]) as the cooker does, printing its
/// diagnostics; shared by the commands that read a configuration. A source that cannot
/// be set up (a checkout without templates) is reported and gives an empty
/// configuration with an error.
fn load_configuration(
    source: impl Into<ConfigSource>,
) -> (
    Option<std::sync::Arc<bitzel::eval::python::PythonBridge>>,
    bitzel::eval::config::Configuration,
) {
    use bitzel::eval::config::{parse_configuration, Configuration};
    use bitzel::eval::python::{PythonBridge, PythonConfig};

    let source = source.into();
    let lib = source.bitbake_lib();
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
    let config = match source.options(std::env::vars().collect()) {
        Ok(options) => parse_configuration(&options, python.as_ref()),
        Err(err) => Configuration::failed("configuration", err),
    };
    eprint!("{}", config.rendered_diagnostics);
    (python, config)
}

/// Whether `bitzel env`'s first argument names a recipe (as `bitbake -e NAME` takes
/// one) rather than a variable to print: a variable is a name the configuration sets,
/// or one without a lowercase letter (`MACHINE`, `DISTRO_FEATURES`).
fn names_a_recipe(config: &bitzel::eval::DataStore, name: &str) -> bool {
    let set = config.get_var(name, false).ok().flatten().is_some();
    !set && name.chars().any(|c| c.is_lowercase())
}

fn env_command(mut source: ConfigSource, mut vars: Vec<String>) -> ExitCode {
    use std::io::Write as _;

    if vars
        .first()
        .is_some_and(|v| ConfigSource::is_checkout(Path::new(v)))
    {
        source.checkout = Some(PathBuf::from(vars.remove(0)));
    }
    let (python, config) = load_configuration(source);
    let mut failed = config.has_errors();
    let base = bitzel::eval::DataStore::from_snapshot(config.snapshot.clone());
    let collection = bitzel::eval::collection::Collection::collect(&base);
    let mut vars = vars;
    let mut found = None;
    if let Some(target) = vars.first().filter(|name| names_a_recipe(&base, name)) {
        let jobs = threads(None);
        let graph_config =
            bitzel::graph::GraphConfig::from_store(&config.recipe_store(python.as_ref()));
        let chosen = bitzel::graph::target::recipe_for_environment(
            &config,
            &graph_config,
            &collection,
            python.as_ref(),
            jobs,
            target,
            || evaluated_recipes(&config, python.as_ref(), Some(jobs)).0,
        );
        let (file, variant) = match chosen {
            Ok((file, variant, _)) => (file, variant),
            Err(failure) => {
                report_provider_events(&failure.events);
                eprintln!("ERROR: {failure}");
                return ExitCode::from(1);
            }
        };
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
            &file,
            &options,
            python.as_ref(),
        );
        eprint!("{}", parsed.rendered_diagnostics);
        if let Some(index) = parsed.variants.iter().position(|v| v.name == variant) {
            found = Some((file, parsed.variants.swap_remove(index)));
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

/// Every recipe variant of the build directory as the graph reads it, by bitzel's
/// evaluator (`parse_all_map` in `jobs` parser processes, keeping `CoreRecipeInfo` of
/// each variant), and the configuration variables the graph reads; the parse's problems
/// go to stderr. The second value is false when the configuration or a recipe had an
/// error.
fn evaluated_recipes(
    config: &bitzel::eval::config::Configuration,
    python: Option<&std::sync::Arc<bitzel::eval::python::PythonBridge>>,
    jobs: Option<usize>,
) -> (
    Vec<bitzel::graph::RecipeInfo>,
    bitzel::graph::GraphConfig,
    bool,
) {
    /// What the graph keeps of one recipe file.
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Facts {
        diagnostics: String,
        errors: Vec<(String, String)>,
        infos: Vec<bitzel::graph::RecipeInfo>,
    }
    let base = bitzel::eval::DataStore::from_snapshot(config.snapshot.clone());
    let collection = bitzel::eval::collection::Collection::collect(&base);
    let jobs = threads(jobs);
    let parsed = bitzel::eval::recipe::parse_all_map(config, &collection, python, jobs, |recipe| {
        let priority = collection.priority(&recipe.file).0;
        let mut errors = Vec::new();
        let mut infos = Vec::new();
        for v in &recipe.variants {
            let info = bitzel::graph::RecipeInfo::from_variant(&recipe.file, v, priority);
            for e in &v.errors {
                errors.push((info.file.clone(), e.clone()));
            }
            infos.push(info);
        }
        Facts {
            diagnostics: recipe.rendered_diagnostics,
            errors,
            infos,
        }
    });
    let mut ok = !config.has_errors();
    let mut infos = Vec::new();
    for facts in parsed {
        eprint!("{}", facts.diagnostics);
        for (file, e) in &facts.errors {
            ok = false;
            eprintln!("bitzel: error: {file}: {e}");
        }
        infos.extend(facts.infos);
    }
    let store = config.recipe_store(python);
    (infos, bitzel::graph::GraphConfig::from_store(&store), ok)
}

/// Prints what BitBake reports while resolving providers, as knotty prints it; false
/// if one is an error (a missing provider).
fn report_provider_events(events: &[bitzel::graph::ProviderEvent]) -> bool {
    use bitzel::graph::ProviderEvent;
    let mut ok = true;
    for event in events {
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
    ok
}

/// `bitzel graph`: the recipes from a dump (`recipe_info`) or from the evaluator.
fn graph(
    mut source: ConfigSource,
    jobs: Option<usize>,
    recipe_info: Option<&Path>,
    outdir: &Path,
    mut targets: &[String],
) -> anyhow::Result<bool> {
    if let [first, rest @ ..] = targets {
        if !rest.is_empty() && ConfigSource::is_checkout(Path::new(first)) {
            source.checkout = Some(PathBuf::from(first));
            targets = rest;
        }
    }
    let (recipes, config, parsed_ok) = match recipe_info {
        Some(recipe_info) => {
            let text = std::fs::read_to_string(recipe_info)
                .with_context(|| format!("reading {}", recipe_info.display()))?;
            let dump = bitzel::graph::RecipeInfoDump::from_json(&text)
                .with_context(|| format!("parsing {}", recipe_info.display()))?;
            (dump.recipes, dump.config, true)
        }
        None => {
            let (python, config) = load_configuration(source);
            evaluated_recipes(&config, python.as_ref(), jobs)
        }
    };
    let result = bitzel::graph::generate(&recipes, &config, targets);
    let events = match &result {
        Ok(graph) => &graph.events,
        Err(failure) => &failure.events,
    };
    let ok = report_provider_events(events) && parsed_ok;
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
    mut source: ConfigSource,
    checkout: Option<PathBuf>,
    jobs: Option<usize>,
) -> ExitCode {
    use std::io::Write as _;

    let started = std::time::Instant::now();
    source.checkout = checkout;
    let (python, config) = load_configuration(source);
    let configured = started.elapsed();
    let base = bitzel::eval::DataStore::from_snapshot(config.snapshot.clone());
    let collection = bitzel::eval::collection::Collection::collect(&base);
    let jobs = threads(jobs);
    // Only PN, PV and the outcome of each variant are kept: the stores go as soon as
    // each recipe is parsed.
    #[derive(serde::Serialize, serde::Deserialize)]
    struct ListedVariant {
        name: String,
        pn: String,
        pv: String,
        skipped: Option<String>,
        errors: Vec<String>,
    }
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Listed {
        file: String,
        diagnostics: String,
        variants: Vec<ListedVariant>,
    }
    let parsed = bitzel::eval::recipe::parse_all_map(
        &config,
        &collection,
        python.as_ref(),
        jobs,
        |recipe| Listed {
            variants: recipe
                .variants
                .into_iter()
                .map(|v| {
                    let get = |name: &str| {
                        v.store
                            .get_var(name, true)
                            .ok()
                            .flatten()
                            .map(|s| s.to_string())
                            .unwrap_or_default()
                    };
                    ListedVariant {
                        name: v.name.clone(),
                        pn: get("PN"),
                        pv: get("PV"),
                        skipped: v.skipped.clone(),
                        errors: v.errors.clone(),
                    }
                })
                .collect(),
            file: recipe.file,
            diagnostics: recipe.rendered_diagnostics,
        },
    );
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut variants, mut skipped, mut errors) = (0, 0, 0);
    for recipe in &parsed {
        eprint!("{}", recipe.diagnostics);
        for ListedVariant {
            name,
            pn,
            pv,
            skipped: skip,
            errors: errs,
        } in &recipe.variants
        {
            variants += 1;
            let file = if name.is_empty() {
                recipe.file.clone()
            } else {
                format!("virtual:{name}:{}", recipe.file)
            };
            let _ = write!(out, "{pn} {pv} {file}");
            if let Some(reason) = skip {
                skipped += 1;
                let _ = write!(out, " skipped: {reason}");
            }
            let _ = writeln!(out);
            for e in errs {
                errors += 1;
                eprintln!("bitzel: error: {file}: {e}");
            }
        }
    }
    let _ = out.flush();
    eprintln!(
        "bitzel: {} recipe files, {variants} variants ({skipped} skipped, {} masked, {errors} errors); configuration {:.2?}, all {:.2?} with {jobs} jobs",
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
    mut source: ConfigSource,
    checkout: Option<PathBuf>,
    jobs: Option<usize>,
    out: PathBuf,
) -> ExitCode {
    use bitzel::emit::workspace::{generate, prepare_file, GenInput};
    use bitzel::emit::writer::write_workspace;

    let started = std::time::Instant::now();
    let progress = Progress::new();
    progress.show("bitzel gen: reading the configuration");
    source.checkout = checkout;
    // The machine's values are pinned in the configuration too, not only in each task's
    // store: a recipe's immediate assignment (glibc's `EGLIBCPARALLELISM :=
    // "PARALLELMFLAGS="${PARALLEL_MAKE}""`) would otherwise keep local.conf's or the
    // CPU count's PARALLEL_MAKE, which BitBake's signatures ignore (BB_BASEHASH_IGNORE_VARS).
    source.pinned = bitzel::emit::script::MACHINE_VALUES.to_vec();
    let (python, config) = load_configuration(source);
    let base = bitzel::eval::DataStore::from_snapshot(config.snapshot.clone());
    let collection = bitzel::eval::collection::Collection::collect(&base);
    let jobs = threads(jobs);
    // Each file is prepared (task scripts, sources) in the process that parsed it, and
    // its stores dropped there: memory stays that of `jobs` recipes.
    let layout = bitzel::emit::layout::VirtualLayout::new(&config, &collection, python.as_ref());
    // Counted across the parser processes, so any of them shows the whole progress.
    let done = bitzel::eval::parser_processes::SharedCounter::new();
    let total = collection.recipes.len();
    let prepared = bitzel::eval::recipe::parse_all_map(
        &config,
        &collection,
        python.as_ref(),
        jobs,
        |parsed| {
            let file = prepare_file(parsed, &collection, &layout, python.as_ref());
            let n = done.as_ref().map_or(0, |d| d.take()) + 1;
            if n.is_multiple_of(8) || n == total {
                progress.show(&format!("bitzel gen: parsing recipe files {n}/{total}"));
            }
            file
        },
    );
    progress.clear();
    let mut failed = config.has_errors();
    for file in &prepared {
        eprint!("{}", file.rendered_diagnostics);
        for (variant, e) in &file.errors {
            failed = true;
            eprintln!("bitzel: error: {variant}: {e}");
        }
    }
    let parsed_in = started.elapsed();
    progress.show("bitzel gen: the task graph and the packages");
    let input = GenInput {
        config: &config,
        collection: &collection,
        python: python.as_ref(),
        layout: &layout,
    };
    let generated = match generate(&input, prepared) {
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
    for w in &generated.warnings {
        eprintln!("bitzel: warning: {}: {}", w.pn, w.message);
    }
    for p in &generated.problems {
        failed = true;
        eprintln!("bitzel: error: {}: {}", p.pn, p.message);
    }
    eprintln!(
        "bitzel gen: {} recipes, {} targets, {} downloads, {} skipped, {} problems, \
         {} warnings; \
         {} files written, {} unchanged, {} removed; configuration, parse and scripts \
         {:.2?}, graph and packages {:.2?}, write {:.2?}, all {:.2?} with {jobs} jobs",
        generated.recipes,
        generated.targets,
        generated.downloads,
        generated.skipped.len(),
        generated.problems.len(),
        generated.warnings.len(),
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
        Command::Env { config, vars } => env_command(config, vars),
        Command::Recipes {
            config,
            checkout,
            jobs,
        } => recipes_command(config, checkout, jobs),
        Command::Gen {
            config,
            checkout,
            jobs,
            out,
        } => gen_command(config, checkout, jobs, out),
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
            config,
            jobs,
            recipe_info,
            outdir,
            targets,
        } => match graph(config, jobs, recipe_info.as_deref(), &outdir, &targets) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(err) => {
                eprintln!("bitzel: error: {err:#}");
                ExitCode::from(2)
            }
        },
    }
}
