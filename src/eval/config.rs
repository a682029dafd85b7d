//! The configuration, read the way BitBake's cooker reads it before any recipe:
//! `CookerDataBuilder.__init__` (the environment it lets in, `__bbclasstype`),
//! `parseConfigurationFiles` (bblayers.conf, each layer's layer.conf with `LAYERDIR`,
//! the layer checks, bitbake.conf along `BBPATH`, `INHERIT` with base.bbclass,
//! `BBINCLUDED`) and the end of `parseBaseConfiguration` (`__depends` renamed
//! `__base_depends`, `__bbclasstype` set to `recipe` for the recipes to come).
//!
//! The result is a [`Configuration`]: the store frozen into a [`Snapshot`] that every
//! recipe's store reads through, copy-on-write ([`Configuration::recipe_store`]).
//!
//! # The environment
//!
//! BitBake copies a filtered set of its process environment into the store
//! (`bb.utils.approved_variables`, `bb.data.inheritFromOS`): with `BB_PRESERVE_ENV` set,
//! everything; else the names in `BB_ENV_PASSTHROUGH` (plus itself) or, without it,
//! `preserved_envvars()` (`BBPATH`, `BB_PRESERVE_ENV`, `BB_ENV_PASSTHROUGH_ADDITIONS`,
//! `BB_TASKHASH`, `HOME`, `LOGNAME`, `PATH`, `PWD`, `SHELL`, `USER`, `LC_ALL`,
//! `BBSERVER`), plus the names in `BB_ENV_PASSTHROUGH_ADDITIONS`. The exported subset
//! (`preserved_envvars_exported`) also gets the `export` flag. bitzel does the same,
//! but only with the environment it is given ([`ConfigOptions::env`]): the command line
//! passes the process environment, tests pass a fixed one, so that a configuration is
//! a function of its inputs. `BB_ORIGENV` (BitBake stores the whole environment as a
//! data store object) is not set.

use super::datastore::{DataStore, Snapshot};
use super::interpret::{bitbake_site, re_escape, FileCache, Interpreter};
use super::python::PythonBridge;
use super::python_store::BridgeInlinePython;
use crate::diagnostic::{Diagnostic, Severity};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What the configuration is read from.
#[derive(Debug, Clone, Default)]
pub struct ConfigOptions {
    /// The build directory (the one holding conf/bblayers.conf and conf/local.conf),
    /// BitBake's current directory.
    pub build_dir: PathBuf,
    /// The environment BitBake would run in, as (name, value) pairs; only the approved
    /// names are used (see the module docs).
    pub env: Vec<(String, String)>,
    /// The multiconfig name BitBake gives `BB_CURRENT_MC` ("default" for the main one
    /// in BitBake 2.8).
    pub multiconfig: Option<String>,
    /// Configuration files held in memory, by path (relative to `build_dir`, e.g.
    /// `conf/local.conf`, or absolute), read instead of the files on disk there: what
    /// `oe-init-build-env` would write ([`ConfigOptions::init_build_env`]) or what
    /// `--layers`/`--machine`/`--distro` stand for. Nothing is written.
    pub conf_files: Vec<(PathBuf, String)>,
}

/// `BB_ENV_PASSTHROUGH_ADDITIONS_OE` of scarthgap's scripts/oe-buildenv-internal: the
/// names `oe-init-build-env` adds to `BB_ENV_PASSTHROUGH_ADDITIONS`, used when the
/// checkout's own script cannot be read.
pub const OE_PASSTHROUGH_ADDITIONS: [&str; 31] = [
    "MACHINE",
    "DISTRO",
    "TCMODE",
    "TCLIBC",
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "FTPS_PROXY",
    "ftps_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSH_AGENT_PID",
    "SSH_AUTH_SOCK",
    "BB_SRCREV_POLICY",
    "SDKMACHINE",
    "BB_NUMBER_THREADS",
    "BB_NO_NETWORK",
    "PARALLEL_MAKE",
    "GIT_PROXY_COMMAND",
    "SOCKS5_PASSWD",
    "SOCKS5_USER",
    "SCREENDIR",
    "STAMPS_DIR",
    "BBPATH_EXTRA",
    "BB_SETSCENE_ENFORCE",
    "BB_LOGCONFIG",
];

/// The names of `BB_ENV_PASSTHROUGH_ADDITIONS_OE="..."` in the checkout's
/// scripts/oe-buildenv-internal, else [`OE_PASSTHROUGH_ADDITIONS`].
fn oe_passthrough_additions(oeroot: &Path) -> Vec<String> {
    let script =
        std::fs::read_to_string(oeroot.join("scripts/oe-buildenv-internal")).unwrap_or_default();
    let start = "BB_ENV_PASSTHROUGH_ADDITIONS_OE=\"";
    if let Some(at) = script.find(start) {
        let rest = &script[at + start.len()..];
        if let Some(end) = rest.find('"') {
            return rest[..end]
                .replace("\\\n", " ")
                .split_whitespace()
                .map(str::to_string)
                .collect();
        }
    }
    OE_PASSTHROUGH_ADDITIONS
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn set_env(env: &mut Vec<(String, String)>, name: &str, value: String) {
    match env.iter_mut().find(|(k, _)| k == name) {
        Some(slot) => slot.1 = value,
        None => env.push((name.to_string(), value)),
    }
}

impl ConfigOptions {
    /// The configuration of the build directory `build_dir` (conf/bblayers.conf and
    /// conf/local.conf there), BitBake running in the environment `env`.
    pub fn from_build_dir(build_dir: impl Into<PathBuf>, env: Vec<(String, String)>) -> Self {
        ConfigOptions {
            build_dir: build_dir.into(),
            env,
            ..Default::default()
        }
    }

    /// What `. <oeroot>/oe-init-build-env [build_dir]` sets up, in memory: the build
    /// directory `build_dir` (default `<oeroot>/build`, as when sourced from the
    /// checkout; it need not exist and nothing is written there), its conf/local.conf
    /// copied from the template's local.conf.sample and conf/bblayers.conf from
    /// bblayers.conf.sample with `##OEROOT##` (and the deprecated `##COREBASE##`)
    /// replaced by `oeroot`, each only when the build directory has no such file (as
    /// scripts/oe-setup-builddir keeps existing ones), the template being `TEMPLATECONF` from the environment or from `oeroot`'s
    /// .templateconf (scripts/oe-setup-builddir's rules, falling back to meta's
    /// templates). The environment `env` is changed as scripts/oe-buildenv-internal
    /// changes the shell's: `<oeroot>/scripts:<oeroot>/bitbake/bin:` first in PATH,
    /// BBPATH and BUILDDIR the build directory, BB_ENV_PASSTHROUGH_ADDITIONS with OE's
    /// names (sorted, unique), BBSERVER unset, PWD the build directory. Poky's template
    /// gives MACHINE ??= "qemux86-64" and DISTRO ?= "poky".
    pub fn init_build_env(
        oeroot: &Path,
        build_dir: Option<&Path>,
        env: Vec<(String, String)>,
    ) -> Result<Self, String> {
        let oeroot =
            std::fs::canonicalize(oeroot).map_err(|e| format!("{}: {e}", oeroot.display()))?;
        let root = oeroot.to_string_lossy().into_owned();
        let build_dir = match build_dir {
            Some(dir) => std::path::absolute(dir).map_err(|e| format!("{}: {e}", dir.display()))?,
            None => oeroot.join("build"),
        };
        let build = build_dir.to_string_lossy().into_owned();
        let get = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());

        // scripts/oe-setup-builddir: TEMPLATECONF from the environment or .templateconf.
        let mut templateconf = get("TEMPLATECONF").filter(|t| !t.is_empty());
        if templateconf.is_none() {
            let dotfile = oeroot.join(".templateconf");
            if let Ok(text) = std::fs::read_to_string(&dotfile) {
                for line in text.lines() {
                    let line = line.trim();
                    if let Some(value) = line.strip_prefix("TEMPLATECONF=") {
                        let value = value.trim_matches('"');
                        let value = match value.strip_prefix("${TEMPLATECONF:-") {
                            Some(rest) => rest.trim_end_matches('}'),
                            None => value,
                        };
                        templateconf = Some(value.to_string());
                    }
                }
            }
        }
        let template = match templateconf {
            Some(t) => {
                let mut dir = PathBuf::from(&t);
                if !dir.is_dir() && oeroot.join(&t).is_dir() {
                    dir = oeroot.join(&t);
                }
                if !dir.is_dir() {
                    return Err(format!(
                        "TEMPLATECONF value points to nonexistent directory '{t}'"
                    ));
                }
                let parts: Vec<&str> = t.trim_matches('/').split('/').collect();
                let templates_dir = parts.len() >= 2 && parts[parts.len() - 2] == "templates";
                if !templates_dir || !dir.join("../../layer.conf").is_file() {
                    return Err(format!(
                        "TEMPLATECONF value (which is {}) must point to meta-some-layer/conf/templates/template-name",
                        dir.display()
                    ));
                }
                dir
            }
            None => oeroot.join("meta/conf/templates/default"),
        };
        let read = |name: &str| {
            let path = template.join(name);
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
        };
        let local = read("local.conf.sample")?;
        let layers = read("bblayers.conf.sample")?
            .replace("##OEROOT##", &root)
            .replace("##COREBASE##", &root);

        // scripts/oe-buildenv-internal.
        let old_path = get("PATH").unwrap_or_default();
        let old_additions = get("BB_ENV_PASSTHROUGH_ADDITIONS").unwrap_or_default();
        let mut env = env;
        env.retain(|(k, _)| k != "BBSERVER");
        let added = format!("{root}/scripts:{root}/bitbake/bin:");
        let path = old_path.replacen(&added, "", 1);
        set_env(&mut env, "PATH", format!("{added}{path}"));
        set_env(&mut env, "BBPATH", build.clone());
        set_env(&mut env, "BUILDDIR", build.clone());
        set_env(&mut env, "PWD", build.clone());
        let mut names: Vec<String> = old_additions
            .split_whitespace()
            .map(str::to_string)
            .chain(oe_passthrough_additions(&oeroot))
            .collect();
        names.sort();
        names.dedup();
        let mut additions = names.join(" ");
        additions.push(' ');
        set_env(&mut env, "BB_ENV_PASSTHROUGH_ADDITIONS", additions);

        let conf_files = [("conf/bblayers.conf", layers), ("conf/local.conf", local)]
            .into_iter()
            .filter(|(rel, _)| !build_dir.join(rel).is_file())
            .map(|(rel, text)| (PathBuf::from(rel), text))
            .collect();
        Ok(ConfigOptions {
            build_dir,
            env,
            multiconfig: None,
            conf_files,
        })
    }

    /// The layers `layers` instead of conf/bblayers.conf's: a bblayers.conf held in
    /// memory with `BBPATH = "${TOPDIR}"`, `BBFILES ?= ""` and `BBLAYERS` the layers'
    /// absolute paths (as `bitbake-layers add-layer` would leave it).
    pub fn with_layers(mut self, layers: &[PathBuf]) -> Self {
        let paths: Vec<String> = layers
            .iter()
            .map(|l| {
                std::path::absolute(l)
                    .unwrap_or(l.clone())
                    .to_string_lossy()
                    .trim_end_matches('/')
                    .to_string()
            })
            .collect();
        let text = format!(
            "BBPATH = \"${{TOPDIR}}\"\nBBFILES ?= \"\"\nBBLAYERS = \"{}\"\n",
            paths.join(" ")
        );
        self.set_conf_file("conf/bblayers.conf", text);
        self
    }

    /// `NAME = "value"` added at the end of conf/local.conf (the build directory's, or
    /// the one held in memory, or a new one): `--machine` and `--distro`.
    pub fn with_local_assignment(mut self, name: &str, value: &str) -> Self {
        let rel = PathBuf::from("conf/local.conf");
        let mut text = match self.conf_files.iter().find(|(p, _)| *p == rel) {
            Some((_, text)) => text.clone(),
            None => std::fs::read_to_string(self.build_dir.join(&rel)).unwrap_or_default(),
        };
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!("{name} = \"{value}\"\n"));
        self.set_conf_file("conf/local.conf", text);
        self
    }

    fn set_conf_file(&mut self, rel: &str, text: String) {
        let rel = PathBuf::from(rel);
        match self.conf_files.iter_mut().find(|(p, _)| *p == rel) {
            Some(slot) => slot.1 = text,
            None => self.conf_files.push((rel, text)),
        }
    }
}

/// The configuration as the cooker leaves it (`CookerDataBuilder.mcdata['']`).
pub struct Configuration {
    /// The data store, frozen: recipes read through it.
    pub snapshot: Arc<Snapshot>,
    /// Problems found; an error means BitBake would have stopped.
    pub diagnostics: Vec<Diagnostic>,
    /// `diagnostics` rendered with their source lines.
    pub rendered_diagnostics: String,
    /// Files the configuration depends on (`__base_depends`, BitBake's `BBINCLUDED`).
    pub base_depends: Vec<String>,
    /// BitBake's include history of the configuration (see
    /// [`Interpreter::include_history`]).
    pub include_history: Vec<(usize, String)>,
    /// File-system writes the configuration's Python (ConfigParsed handlers) asked for
    /// and the bridge's write guard withheld, as (operation, path).
    pub withheld_writes: Vec<(String, String)>,
    /// The configuration files held in memory ([`ConfigOptions::conf_files`]), by
    /// absolute path: recipes that include them read them too.
    pub in_memory_files: Vec<(PathBuf, String)>,
    /// Classes, .inc and .conf files parsed once for all the recipes of this
    /// configuration.
    pub file_cache: Arc<FileCache>,
}

impl Configuration {
    /// A configuration that could not be read at all (its source could not be set up):
    /// an empty store and the error `message` about `path`.
    pub fn failed(path: &str, message: impl Into<String>) -> Configuration {
        let diagnostic = Diagnostic::error(path, 0..0, message);
        let rendered = format!("{path}: error: {}\n", diagnostic.message);
        Configuration {
            snapshot: DataStore::new().snapshot(),
            diagnostics: vec![diagnostic],
            rendered_diagnostics: rendered,
            base_depends: Vec::new(),
            include_history: Vec::new(),
            withheld_writes: Vec::new(),
            in_memory_files: Vec::new(),
            file_cache: Arc::default(),
        }
    }

    /// Whether reading the configuration failed somewhere (BitBake would have stopped).
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    /// A store for one recipe: `bb.data.createCopy` of the configuration, copy-on-write,
    /// evaluating inline Python with `python` when given (else only the native forms).
    pub fn recipe_store(&self, python: Option<&Arc<PythonBridge>>) -> DataStore {
        let mut store = DataStore::from_snapshot(self.snapshot.clone());
        if let Some(bridge) = python {
            store.set_inline_python(Arc::new(BridgeInlinePython::new(bridge.clone())));
        }
        store
    }
}

/// `bb.utils.preserved_envvars_exported()`.
pub const PRESERVED_ENVVARS_EXPORTED: [&str; 9] = [
    "BB_TASKHASH",
    "HOME",
    "LOGNAME",
    "PATH",
    "PWD",
    "SHELL",
    "USER",
    "LC_ALL",
    "BBSERVER",
];

/// `bb.utils.preserved_envvars()`: the exported ones plus these.
pub const PRESERVED_ENVVARS: [&str; 3] =
    ["BBPATH", "BB_PRESERVE_ENV", "BB_ENV_PASSTHROUGH_ADDITIONS"];

/// `bb.utils.approved_variables()` for the environment `env`: the names BitBake copies
/// from its environment into the store.
pub fn approved_variables(env: &[(String, String)]) -> BTreeSet<String> {
    let get = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if get("BB_PRESERVE_ENV").is_some() {
        return env.iter().map(|(k, _)| k.clone()).collect();
    }
    let mut approved: BTreeSet<String> = match get("BB_ENV_PASSTHROUGH") {
        Some(list) => list
            .split_whitespace()
            .map(str::to_string)
            .chain(["BB_ENV_PASSTHROUGH".to_string()])
            .collect(),
        None => PRESERVED_ENVVARS
            .iter()
            .chain(PRESERVED_ENVVARS_EXPORTED.iter())
            .map(|s| s.to_string())
            .collect(),
    };
    if let Some(extra) = get("BB_ENV_PASSTHROUGH_ADDITIONS") {
        approved.extend(extra.split_whitespace().map(str::to_string));
    }
    approved
}

/// cookerdata's `findConfigFile(name, d)`: `conf/<name>` under each folder of `BBPATH`,
/// then under the current directory and each of its parents up to `/` (excluded).
pub fn find_config_file(name: &str, bbpath: Option<&str>, cwd: &Path) -> Option<PathBuf> {
    find_config_file_in(name, bbpath, cwd, &[])
}

/// [`find_config_file`] where the files `in_memory` (absolute) exist too.
fn find_config_file_in(
    name: &str,
    bbpath: Option<&str>,
    cwd: &Path,
    in_memory: &[(PathBuf, String)],
) -> Option<PathBuf> {
    let mut search = Vec::new();
    if let Some(bbpath) = bbpath.filter(|p| !p.is_empty()) {
        for dir in bbpath.split(':') {
            search.push(cwd.join(dir).join("conf").join(name));
        }
    }
    let mut dir = Some(cwd);
    while let Some(d) = dir {
        if d == Path::new("/") {
            break;
        }
        search.push(d.join("conf").join(name));
        dir = d.parent();
    }
    search
        .into_iter()
        .find(|p| p.exists() || in_memory.iter().any(|(m, _)| m == p))
}

/// Reads the configuration of `options.build_dir` as BitBake's cooker does (see the
/// module docs), evaluating Python with `python` when given.
pub fn parse_configuration(
    options: &ConfigOptions,
    python: Option<&Arc<PythonBridge>>,
) -> Configuration {
    let cwd = std::path::absolute(&options.build_dir).unwrap_or(options.build_dir.clone());
    let mut store = DataStore::new();
    if let Some(bridge) = python {
        store.set_inline_python(Arc::new(BridgeInlinePython::new(bridge.clone())));
    }
    let mut interp = Interpreter::new(&cwd, python.map(|b| &**b));
    let in_memory_files: Vec<(PathBuf, String)> = options
        .conf_files
        .iter()
        .map(|(path, text)| (cwd.join(path), text.clone()))
        .collect();
    for (path, text) in &in_memory_files {
        interp.add_in_memory_file(path, text);
    }

    // CookerDataBuilder.__init__: the approved environment, then __bbclasstype.
    let approved = approved_variables(&options.env);
    for (name, value) in &options.env {
        if approved.contains(name) {
            store.set_var(name, value, &bitbake_site("data.py:105 [inheritFromOS]"));
            if PRESERVED_ENVVARS_EXPORTED.contains(&name.as_str()) {
                store.set_var_flag(
                    name,
                    "export",
                    "1",
                    &bitbake_site("data.py:107 [inheritFromOS]"),
                );
            }
        }
    }
    store.set_var(
        "__bbclasstype",
        "global",
        &bitbake_site("cookerdata.py:248 [__init__]"),
    );

    // parseConfigurationFiles.
    let mc = options.multiconfig.as_deref().unwrap_or("default");
    store.set_var(
        "BB_CURRENT_MC",
        mc,
        &bitbake_site("cookerdata.py:345 [parseConfigurationFiles]"),
    );
    let bbpath_env = store.get_text("BBPATH");
    let layerconf = find_config_file_in(
        "bblayers.conf",
        bbpath_env.as_deref(),
        &cwd,
        &in_memory_files,
    );
    let mut diagnostics_extra: Vec<Diagnostic> = Vec::new();
    if let Some(layerconf) = &layerconf {
        let layerconf = layerconf.to_string_lossy().into_owned();
        let topdir = Path::new(&layerconf)
            .parent()
            .and_then(Path::parent)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        store.set_var(
            "TOPDIR",
            &topdir,
            &bitbake_site("cookerdata.py:356 [parseConfigurationFiles]"),
        );
        interp.parse_config_file(&mut store, &layerconf);
        if store.get_text("BB_CACHEDIR").is_none_or(|v| v.is_empty()) {
            store.set_var(
                "BB_CACHEDIR",
                "${TOPDIR}/cache",
                &bitbake_site("cookerdata.py:360 [parseConfigurationFiles]"),
            );
        }
        let layers: Vec<String> = store
            .get_text("BBLAYERS")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect();
        if layers.is_empty() {
            diagnostics_extra.push(Diagnostic::error(
                layerconf.clone(),
                0..0,
                "The bblayers.conf file doesn't contain any BBLAYERS definition",
            ));
        }
        // bb.data.createCopy: expandVarref below rewrites only what is set from here on.
        store.snapshot();
        let broken: Vec<&String> = layers.iter().filter(|l| !cwd.join(l).is_dir()).collect();
        if !broken.is_empty() {
            diagnostics_extra.push(Diagnostic::error(
                layerconf.clone(),
                0..0,
                format!(
                    "The following layer directories do not exist: {}; please check BBLAYERS in {layerconf}",
                    broken.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
                ),
            ));
        }
        let home = approved
            .contains("HOME")
            .then(|| store.get_text("HOME"))
            .flatten();
        let mut layerseries: Option<BTreeSet<String>> = None;
        let mut compat: Vec<(String, BTreeSet<String>)> = Vec::new();
        for layer in layers.iter().filter(|l| cwd.join(l).is_dir()) {
            let mut layer = layer.clone();
            if let (Some(home), true) = (&home, layer.contains('~')) {
                if layer == "~" || layer.starts_with("~/") {
                    layer = format!("{home}{}", &layer[1..]);
                }
            }
            let layer = layer.trim_end_matches('/').to_string();
            store.set_var(
                "LAYERDIR",
                &layer,
                &bitbake_site("cookerdata.py:393 [parseConfigurationFiles]"),
            );
            store.set_var(
                "LAYERDIR_RE",
                &re_escape(&layer),
                &bitbake_site("cookerdata.py:394 [parseConfigurationFiles]"),
            );
            let conf = format!("{layer}/conf/layer.conf");
            if !interp.parse_config_file(&mut store, &conf) {
                diagnostics_extra.push(Diagnostic::error(
                    conf.clone(),
                    0..0,
                    format!("file {conf} not found"),
                ));
            }
            expand_varref(&mut store, "LAYERDIR");
            expand_varref(&mut store, "LAYERDIR_RE");
            let collections = store.get_text("BBFILE_COLLECTIONS").unwrap_or_default();
            for c in collections.split_whitespace() {
                let name = format!("LAYERSERIES_COMPAT_{c}");
                if let Some(entry) = store.get_text(&name).filter(|v| !v.is_empty()) {
                    let set = entry.split_whitespace().map(str::to_string).collect();
                    match compat.iter_mut().find(|(k, _)| k == c) {
                        Some(slot) => slot.1 = set,
                        None => compat.push((c.to_string(), set)),
                    }
                    store.del_var(
                        &name,
                        &bitbake_site("cookerdata.py:410 [parseConfigurationFiles]"),
                    );
                }
            }
            if layerseries.as_ref().is_none_or(|s| s.is_empty()) {
                let series: BTreeSet<String> = store
                    .get_text("LAYERSERIES_CORENAMES")
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::to_string)
                    .collect();
                if !series.is_empty() {
                    store.del_var(
                        "LAYERSERIES_CORENAMES",
                        &bitbake_site("cookerdata.py:414 [parseConfigurationFiles]"),
                    );
                }
                layerseries = Some(series);
            }
        }
        store.del_var(
            "LAYERDIR_RE",
            &bitbake_site("cookerdata.py:416 [parseConfigurationFiles]"),
        );
        store.del_var(
            "LAYERDIR",
            &bitbake_site("cookerdata.py:417 [parseConfigurationFiles]"),
        );
        for (c, set) in &compat {
            let joined: Vec<&str> = set.iter().map(String::as_str).collect();
            store.set_var(
                &format!("LAYERSERIES_COMPAT_{c}"),
                &joined.join(" "),
                &bitbake_site("cookerdata.py:419 [parseConfigurationFiles]"),
            );
        }
        let collections: Vec<String> = store
            .get_text("BBFILE_COLLECTIONS")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect();
        for entry in store
            .get_text("BBFILES_DYNAMIC")
            .unwrap_or_default()
            .split_whitespace()
        {
            let Some((l, f)) = entry.split_once(':') else {
                diagnostics_extra.push(Diagnostic::error(
                    layerconf.clone(),
                    0..0,
                    format!("BBFILES_DYNAMIC entries must be of the form {{!}}<collection name>:<filename pattern>, not: {entry}"),
                ));
                continue;
            };
            let (invert, l) = match l.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, l),
            };
            if collections.iter().any(|c| c == l) != invert {
                store.append_var(
                    "BBFILES",
                    &format!(" {f}"),
                    &bitbake_site("cookerdata.py:434 [parseConfigurationFiles]"),
                );
            }
        }
        let series = layerseries.unwrap_or_default();
        for (i, c) in collections.iter().enumerate() {
            if collections[i + 1..].contains(c) {
                diagnostics_extra.push(Diagnostic::error(
                    layerconf.clone(),
                    0..0,
                    format!("Found duplicated BBFILE_COLLECTIONS '{c}', check bblayers.conf or layer.conf to fix it."),
                ));
            }
            let layer_compat = compat.iter().find(|(k, _)| k == c).map(|(_, s)| s);
            match layer_compat {
                Some(set) if series.is_empty() => diagnostics_extra.push(Diagnostic::error(
                    layerconf.clone(),
                    0..0,
                    format!("No core layer found to work with layer '{c}'. Missing entry in bblayers.conf? ({set:?})"),
                )),
                Some(set) if set.is_disjoint(&series) => diagnostics_extra.push(Diagnostic::error(
                    layerconf.clone(),
                    0..0,
                    format!(
                        "Layer {c} is not compatible with the core layer which only supports these series: {} (layer is compatible with {})",
                        series.iter().cloned().collect::<Vec<_>>().join(" "),
                        set.iter().cloned().collect::<Vec<_>>().join(" ")
                    ),
                )),
                Some(_) => {}
                None if store.get_text("BB_WORKERCONTEXT").is_none() => {
                    diagnostics_extra.push(Diagnostic::warning(
                        layerconf.clone(),
                        0..0,
                        format!("Layer {c} should set LAYERSERIES_COMPAT_{c} in its conf/layer.conf file to list the core layer names it is compatible with."),
                    ))
                }
                None => {}
            }
        }
        let series: Vec<&str> = series.iter().map(String::as_str).collect();
        store.set_var(
            "LAYERSERIES_CORENAMES",
            &series.join(" "),
            &bitbake_site("cookerdata.py:455 [parseConfigurationFiles]"),
        );
    }

    if store.get_text("BBPATH").is_none_or(|v| v.is_empty()) {
        let mut msg = "The BBPATH variable is not set".to_string();
        if layerconf.is_none() {
            msg.push_str(
                " and bitbake did not find a conf/bblayers.conf file in the expected location.",
            );
        }
        diagnostics_extra.push(Diagnostic::error(cwd.to_string_lossy(), 0..0, msg));
    }
    if store.get_text("TOPDIR").is_none_or(|v| v.is_empty()) {
        store.set_var(
            "TOPDIR",
            &cwd.to_string_lossy(),
            &bitbake_site("cookerdata.py:466 [parseConfigurationFiles]"),
        );
    }
    if store.get_text("BB_CACHEDIR").is_none_or(|v| v.is_empty()) {
        store.set_var(
            "BB_CACHEDIR",
            "${TOPDIR}/cache",
            &bitbake_site("cookerdata.py:468 [parseConfigurationFiles]"),
        );
    }
    if !interp.parse_config_file(&mut store, "conf/bitbake.conf") {
        let bbpath = store.get_text("BBPATH").unwrap_or_default();
        diagnostics_extra.push(Diagnostic::error(
            "conf/bitbake.conf",
            0..0,
            format!("file conf/bitbake.conf not found in {bbpath}"),
        ));
    }

    // INHERIT, after base.
    let inherits = store.get_text("INHERIT").unwrap_or_default();
    for class in std::iter::once("base").chain(inherits.split_whitespace()) {
        interp.inherit(&mut store, class, "configuration INHERITs", 0);
    }

    // Handlers are registered here in BitBake; they must at least be defined.
    if let Ok(Some(handlers)) = store.get_var("__BBHANDLERS", false) {
        for handler in handlers.split_whitespace() {
            if store
                .get_var_flag(handler, "filename", false)
                .ok()
                .flatten()
                .is_none()
            {
                diagnostics_extra.push(Diagnostic::error(
                    "configuration",
                    0..0,
                    format!("Undefined event handler function '{handler}'"),
                ));
            }
        }
    }

    let depends: Vec<String> = interp.depends().iter().map(|d| abspath(&cwd, d)).collect();
    store.set_var(
        "BBINCLUDED",
        &depends.join(" "),
        &bitbake_site("cookerdata.py:492 [parseConfigurationFiles]"),
    );

    // parseBaseConfiguration: ConfigParsed, fired on the configuration.
    let mut withheld_writes = Vec::new();
    if let Some(bridge) = python {
        // CookerDataBuilder.__init__'s BB_ORIGENV (the whole environment), which
        // base.bbclass's handler reads PATH from.
        if let Err(err) = bridge.set_original_environment(&options.env) {
            diagnostics_extra.push(Diagnostic::warning(
                "configuration",
                0..0,
                format!("BB_ORIGENV not set: {err}"),
            ));
        }
        fire_config_parsed(bridge, &mut store, &mut diagnostics_extra);
        withheld_writes = bridge.take_withheld_writes();
    }
    // parseBaseConfiguration: __depends becomes __base_depends; recipes get classes-recipe.
    store.set_var(
        "__base_depends",
        &depends.join(" "),
        &bitbake_site("cookerdata.py:287 [parseBaseConfiguration]"),
    );
    store.set_var(
        "__bbclasstype",
        "recipe",
        &bitbake_site("cookerdata.py:309 [parseBaseConfiguration]"),
    );

    let include_history = interp.include_history().to_vec();
    let mut diagnostics = interp.take_diagnostics();
    let mut rendered = String::new();
    for d in &diagnostics {
        rendered.push_str(&interp.render(d));
    }
    for d in &diagnostics_extra {
        rendered.push_str(&interp.render(d));
    }
    diagnostics.extend(diagnostics_extra);
    Configuration {
        snapshot: store.snapshot(),
        diagnostics,
        rendered_diagnostics: rendered,
        base_depends: depends,
        include_history,
        withheld_writes,
        in_memory_files,
        file_cache: Arc::default(),
    }
}

/// `bb.event.fire(bb.event.ConfigParsed(), data)` as parseBaseConfiguration fires it
/// (base.bbclass sets NATIVELSBSTRING, ORIGNATIVELSBSTRING and BB_VERSION and makes the
/// host tools folder, uninative enables itself, sanity checks bblayers.conf's version).
/// A handler that asks for the configuration to be read again (`BB_INVALIDCONF`, after
/// sanity updated a configuration file) cannot be followed: bitzel writes no
/// configuration file, so that is an error asking the user to update it.
fn fire_config_parsed(
    bridge: &PythonBridge,
    store: &mut DataStore,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if let Err(err) = bridge.fire_config_event(store, "ConfigParsed") {
        diagnostics.push(Diagnostic::error(
            "configuration",
            0..0,
            format!("ConfigParsed event handler failed: {err}"),
        ));
    }
    let invalid = store
        .get_var("BB_INVALIDCONF", false)
        .ok()
        .flatten()
        .is_some_and(|v| v.as_ref() == "True");
    if invalid {
        diagnostics.push(Diagnostic::error(
            "configuration",
            0..0,
            "a ConfigParsed handler set BB_INVALIDCONF (BitBake would update the configuration files and read them again); update conf/bblayers.conf and conf/local.conf to the layers' current versions",
        ));
    }
}

/// `os.path.abspath` against `cwd`.
fn abspath(cwd: &Path, path: &str) -> String {
    let joined = cwd.join(path);
    let mut out = PathBuf::from("/");
    for c in joined.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::Normal(p) => out.push(p),
            _ => {}
        }
    }
    out.to_string_lossy().into_owned()
}

/// DataSmart's `expandVarref(variable)`: in every variable set since the store's base was
/// frozen ([`DataStore::local_keys`]), the text `${variable}` of the unexpanded value is
/// replaced by `variable`'s unexpanded value (with `setVar`, which drops the variable's
/// pending `:append`s, as in BitBake).
pub fn expand_varref(store: &mut DataStore, variable: &str) {
    let reference = format!("${{{variable}}}");
    let value = store
        .get_var(variable, false)
        .ok()
        .flatten()
        .map(|v| v.to_string())
        .unwrap_or_else(|| "None".to_string());
    let mut keys = store.local_keys();
    keys.sort();
    for key in keys {
        let Ok(Some(referrer)) = store.get_var(&key, false) else {
            continue;
        };
        if referrer.contains(&reference) {
            let replaced = referrer.replace(&reference, &value);
            store.set_var(
                &key,
                &replaced,
                &bitbake_site("data_smart.py:1019 [expandVarref]"),
            );
        }
    }
}
