//! What each task runs: its shell script as BitBake writes run.do_<task>, or builtin data.
//!
//! # Shell tasks
//!
//! The script is what `bb.build.exec_func_shell` writes to `${T}/run.do_<task>`, for the
//! data store a task runs with:
//!
//! - the recipe's store as `bb.build._task_data` copies it (`BB_FILENAME`, `OVERRIDES`
//!   prefixed with `task-<name>`, `bb.data.expandKeys`), with what `_exec_task` and
//!   bitbake-worker set before running it (`BB_RUNTASK`, `BB_CURRENTTASK`,
//!   `BB_WORKERCONTEXT`, the task's `[exports]` flagged `export`), and `PWD`'s `export`
//!   flag removed as `exec_func_shell` does;
//! - the worker's `DATE`, `TIME` and `BUILDNAME` (the time the build started) pinned to
//!   [`PINNED_DATE`] / [`PINNED_TIME`], so that `DATETIME` and every value built from them
//!   are the same on every run and machine;
//! - for a virtual script, the machine's CPU count pinned ([`MACHINE_VALUES`]);
//! - not the worker's fakeroot environment (`FAKEROOTENV` / `FAKEROOTNOENV`: pseudo's
//!   variables); the helper runs `[fakeroot]` tasks under its own fakeroot.
//!
//! Then, as `bb.data.emit_func` does: every variable of the store that is not a function
//! and not `__`-prefixed, sorted, through `emit_var` (`export NAME="value"` with `"`, `$`
//! and newlines escaped; `unset NAME` for `[unexport]`), an empty line, the function, then
//! the shell functions it calls, found by BitBake's own shell parser
//! (`bb.codeparser.ShellParser.parse_shell`, run in the embedded Python and cached by body)
//! plus its `[vardeps]`, breadth-first in sorted order as `emit_func` walks them; then
//! `exec_func_shell`'s trap header before and its `cd '<last of [dirs]>'`, call and
//! trailer after. Without the Python bridge, the called functions are found by a
//! conservative word scan (every word that names a shell function of the store), with a
//! warning.
//!
//! `[prefuncs]` and `[postfuncs]` (each its own run file in BitBake, `exec_func`'d with
//! its own `[dirs]`/`[cleandirs]`): shell ones are emitted with the task's function and
//! called in order around it, each after its own directories (`mkdir -p`, `rm -rf` for
//! `[cleandirs]`, `cd`); Python ones are not run (a comment in the script, and one
//! warning per recipe listing them), apart from those in [`DONE_BY_BAZEL`], whose work
//! the workspace does (sysroot staging, sstate). Without shell pre/postfuncs the script
//! is BitBake's run file byte for byte.
//!
//! Finally the worker's FIFO name (`${T}/fifo.<pid>`) is pinned to [`FIFO_NAME`] and the
//! script is virtualized ([`VirtualLayout::virtualize`]); exported values
//! that only describe the machine that generated it are not written: `HOME`, `USER`,
//! `LOGNAME`, `SHELL`, `BB_TASKHASH`, `BBSERVER` (the helper sets `HOME`), and `PATH`
//! keeps only its entries under the virtual TMPDIR (the recipe sysroots' bin
//! directories), without `HOSTTOOLS_DIR`, followed by [`HOST_TOOLS_PATH`]: the host's
//! tools stand in for BitBake's hosttools directory of links.
//!
//! # Python tasks
//!
//! `do_fetch` is [`TaskKind::Fetch`] (Bazel's repository phase fetches), `do_unpack`
//! and `do_patch` are the helper's `unpack` and `patch` builtins with the data formats of
//! rules_bitbake/HELPER.md, `do_prepare_recipe_sysroot` is [`TaskKind::Sysroot`],
//! `do_populate_sysroot` a generated shell script (staging.bbclass's `sysroot_stage_all`,
//! `SYSROOT_PREPROCESS_FUNCS`, the `sysroot-providers` files, sstate's fixmepath); any
//! other Python task is [`TaskKind::Unsupported`]: still a target, refused by the helper
//! when it runs. A `[noexec]` task is [`TaskKind::NoExec`] whatever its function.
//!
//! # Cost
//!
//! The tasks of one recipe share one frozen copy of its store ([`TaskStores`]); each
//! task's store is a copy-on-write layer over it. Variables are written natively; Python
//! runs only BitBake's shell parser, once per distinct function body in the process
//! (`cargo bench --bench emit` measures both against `bb.data.emit_func` run through
//! the bridge on the same stores; figures in ARCHITECTURE.md).

use super::layout::{VirtualLayout, TMPDIR};
use super::sources::{recipe_sources, Source, SourceKind};
use crate::diagnostic::{Diagnostic, Severity};
use crate::eval::datastore::DataStore;
use crate::eval::python::PythonBridge;
use crate::eval::statement::Location;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock};

/// Values of the generating machine (its number of CPUs, through
/// `oe.utils.cpu_count()`), set in a virtual script's store where the value is still
/// computed by inline Python (a recipe's own `PARALLEL_MAKE = ""` stands), and by
/// `bitzel gen` at the end of conf/local.conf (for values a recipe takes with `:=`): `PARALLEL_MAKE` becomes
/// the shell's `$PARALLEL_MAKE`, which the helper sets (HELPER.md), so `make -j 2` is
/// written `make $PARALLEL_MAKE` (`PARALLEL_MAKEINST` follows it); the thread counts are 1.
/// BitBake's signatures ignore them too (Poky's BB_BASEHASH_IGNORE_VARS).
pub const MACHINE_VALUES: [(&str, &str); 4] = [
    ("PARALLEL_MAKE", "$PARALLEL_MAKE"),
    ("BB_NUMBER_THREADS", "1"),
    ("XZ_THREADS", "1"),
    ("ZSTD_THREADS", "1"),
];

/// What a PATH entry must start with to be kept: the layered state (recipe sysroots).
const TMPDIR_PREFIX: &str = "/bitzel/tmp/";

/// `DATE` as the scripts see it (bitbake-worker sets the build's start date).
pub const PINNED_DATE: &str = "19700101";
/// `TIME` as the scripts see it.
pub const PINNED_TIME: &str = "000000";
/// What stands for `HOSTTOOLS_DIR` at the end of `PATH`: the host directories the
/// helper's sandbox shows read-only.
pub const HOST_TOOLS_PATH: &str = "/usr/bin:/bin:/usr/sbin:/sbin";
/// Exported variables that describe the generating machine, never written.
pub const HOST_VARIABLES: [&str; 6] = [
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "BB_TASKHASH",
    "BBSERVER",
];

/// What a task runs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TaskKind {
    /// A shell script, as BitBake writes run.do_<task>, virtualized.
    Shell(String),
    /// A Python task the helper implements natively (`unpack`, `patch`), with its data
    /// (the `--script` file; formats in rules_bitbake/HELPER.md).
    Builtin {
        /// The builtin's name (`--builtin`).
        name: String,
        /// The data the helper reads.
        data: String,
    },
    /// do_fetch: Bazel's repository phase fetches the sources; no action.
    Fetch,
    /// do_prepare_recipe_sysroot: the `bitbake_sysroot` rule.
    Sysroot,
    /// A `[noexec]` task: a roll-up, no action.
    NoExec,
    /// A task bitzel cannot run yet; the helper refuses it with `reason`.
    Unsupported {
        /// `not supported yet: <pn> <task>`.
        reason: String,
    },
}

/// One task of a recipe, ready for a `bitbake_task` target.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TaskAction {
    /// The task (`do_compile`).
    pub task: String,
    /// What it runs.
    pub kind: TaskKind,
    /// `[dirs]`, expanded and virtual: created; the last is the working directory.
    pub dirs: Vec<String>,
    /// `[cleandirs]`, expanded and virtual: emptied before the task runs.
    pub cleandirs: Vec<String>,
    /// `[fakeroot]` is set.
    pub fakeroot: bool,
    /// `[nostamp]` is set.
    pub nostamp: bool,
    /// `[noexec]` is set.
    pub noexec: bool,
}

fn loc() -> Location {
    Location::new("bitzel-emit", 0)
}

/// The stores of one recipe's tasks: the recipe's store with what bitbake-worker sets
/// for every task (`BB_WORKERCONTEXT`, `DATE`, `TIME`, `BUILDNAME`, `BB_FILENAME`),
/// frozen once, so that each task's store is a cheap copy-on-write layer over it.
pub struct TaskStores {
    base: DataStore,
    /// The variable names that still hold `${` (only those can expandKeys rename).
    var_keys: Vec<Arc<str>>,
}

impl TaskStores {
    /// The shared part, from the recipe's finalised store.
    pub fn new(store: &DataStore) -> TaskStores {
        TaskStores::with(store, &[])
    }

    /// [`TaskStores::new`] with further variables set (the [`MACHINE_VALUES`] of a
    /// virtual script).
    pub fn with(store: &DataStore, extra: &[(&str, &str)]) -> TaskStores {
        let mut base = store.copy();
        let l = loc();
        for (name, value) in extra {
            base.set_var(name, value, &l);
        }
        // bitbake-worker's fork_off_task
        base.set_var("BB_WORKERCONTEXT", "1", &l);
        base.set_var("DATE", PINNED_DATE, &l);
        base.set_var("TIME", PINNED_TIME, &l);
        base.set_var(
            "BUILDNAME",
            &format!("{PINNED_DATE}{}", &PINNED_TIME[..4]),
            &l,
        );
        // bb.build._task_data: the runqueue's fn, bb.cache.realfn2virtual(FILE, the
        // BBCLASSEXTEND entry).
        if let Ok(Some(file)) = store.get_var("FILE", false) {
            let get = |v: &str| {
                store
                    .get_var(v, true)
                    .ok()
                    .flatten()
                    .map(|x| x.to_string())
                    .unwrap_or_default()
            };
            let (curr, variant) = (get("BBEXTENDCURR"), get("BBEXTENDVARIANT"));
            let fn_ = match (curr.is_empty(), variant.is_empty()) {
                (true, _) => file.to_string(),
                (false, true) => format!("virtual:{curr}:{file}"),
                (false, false) => format!("virtual:{curr}:{variant}:{file}"),
            };
            base.set_var("BB_FILENAME", &fn_, &l);
        }
        let var_keys = base
            .keys()
            .map(|keys| keys.into_iter().filter(|k| k.contains("${")).collect())
            .unwrap_or_default();
        // Freeze: every task's store is a layer over this.
        let _ = base.snapshot();
        TaskStores { base, var_keys }
    }

    /// Whether a variable name still holds `${`, so that each task's store is run
    /// through expandKeys again.
    pub fn expands_keys(&self) -> bool {
        !self.var_keys.is_empty()
    }

    /// The store `task` runs with (see the module docs).
    pub fn task(&mut self, task: &str) -> DataStore {
        let mut ts = self.base.create_copy();
        let l = loc();
        let short = task.strip_prefix("do_").unwrap_or(task);
        ts.set_var("BB_CURRENTTASK", short, &l);
        if let Ok(Some(exports)) = ts.get_var_flag(task, "exports", true) {
            for e in exports.split_whitespace() {
                ts.set_var_flag(e, "export", "1", &l);
            }
        }
        // bb.build._task_data
        let overrides = ts
            .get_var("OVERRIDES", false)
            .ok()
            .flatten()
            .map(|v| v.to_string())
            .unwrap_or_default();
        ts.set_var(
            "OVERRIDES",
            &format!("task-{}:{overrides}", short.replace('_', "-")),
            &l,
        );
        // expandKeys renames only the names that expand to something else; when none
        // does under this task's OVERRIDES (the usual case: they did not at finalise
        // either), it does nothing and its walk over every name is skipped.
        let renames = self
            .var_keys
            .iter()
            .any(|k| ts.expand(k, None).map_or(true, |e| e != **k));
        if renames {
            let _ = ts.expand_keys(&l);
        }
        // _exec_task
        ts.set_var("BB_RUNTASK", task, &l);
        // exec_func_shell: "Don't let the emitted shell script override PWD"
        ts.del_var_flag("PWD", "export", &l);
        ts
    }
}

/// The store a task runs with (see the module docs): `bb.build._task_data` plus what
/// bitbake-worker and `_exec_task` set. For several tasks of one recipe, [`TaskStores`]
/// shares the common part.
pub fn task_store(store: &DataStore, task: &str) -> DataStore {
    TaskStores::new(store).task(task)
}

/// `bb.utils.to_boolean` of a flag's expanded value.
fn to_boolean(value: Option<&str>) -> Result<bool, String> {
    let Some(v) = value.filter(|v| !v.is_empty()) else {
        return Ok(false);
    };
    match v.to_lowercase().as_str() {
        "y" | "yes" | "1" | "true" => Ok(true),
        "n" | "no" | "0" | "false" => Ok(false),
        _ => Err(format!("Invalid value for to_boolean: {v}")),
    }
}

/// Python truthiness of an unexpanded flag (`d.getVarFlag(var, flag, False)`).
fn flag_set(ts: &DataStore, var: &str, flag: &str) -> bool {
    ts.get_var_flag(var, flag, false)
        .ok()
        .flatten()
        .is_some_and(|v| !v.is_empty())
}

/// Whether the flag exists at all (how the runqueue reads `_task_deps`: `[noexec]`,
/// `[fakeroot]`, `[nostamp]` count when present).
fn flag_present(ts: &DataStore, var: &str, flag: &str) -> bool {
    ts.get_var_flag(var, flag, false).ok().flatten().is_some()
}

/// Whether `name` is a shell function of the store.
fn is_shell_func(ts: &DataStore, name: &str) -> bool {
    flag_set(ts, name, "func") && !flag_set(ts, name, "python")
}

/// The shell functions' commands: BitBake's `ShellParser.parse_shell`, memoised by body
/// for the whole process (as BitBake's codeparser cache is, by the body's hash).
fn shell_cache() -> &'static Mutex<FxHashMap<String, Arc<Vec<String>>>> {
    static CACHE: OnceLock<Mutex<FxHashMap<String, Arc<Vec<String>>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

const PARSE_SHELL: &str = "'\\0'.join(sorted(bb.codeparser.ShellParser(d.getVar('N', False), bb.codeparser.logger).parse_shell(d.getVar('B', False))))";

/// The emission of one script, with its mode.
struct Emitter<'a> {
    ts: &'a DataStore,
    layout: Option<&'a VirtualLayout>,
    python: Option<&'a Arc<PythonBridge>>,
    /// Warnings for the caller (Python pre/postfuncs skipped...).
    notes: Vec<String>,
    scanned: bool,
}

/// Whether `body` may run a shell function of `ts`: a command name is a whole shell
/// word, and the words of the text (split at every character that ends or quotes a word,
/// after joining `\\`-continued lines) include every command name the shell parser can
/// find; when none of them is a shell function, `emit_func` would add no function, and
/// the parser need not run.
fn may_call(body: &str, ts: &DataStore) -> bool {
    let joined = body.replace("\\\n", "");
    let mut seen: FxHashSet<&str> = FxHashSet::default();
    joined
        .split(|c: char| c.is_whitespace() || ";|&()<>`\"'${}=\\".contains(c))
        .filter(|w| !w.is_empty() && seen.insert(w))
        .any(|w| is_shell_func(ts, w))
}

impl Emitter<'_> {
    /// `ShellParser(name).parse_shell(body)`: the commands `body` runs (only those that
    /// matter to `emit_func`: nothing when `body` names no shell function).
    fn parse_shell(&mut self, name: &str, body: &str) -> Result<Arc<Vec<String>>, String> {
        if !may_call(body, self.ts) {
            return Ok(Arc::new(Vec::new()));
        }
        let normal = self.normalize(body);
        let body = normal.as_str();
        if let Some(hit) = shell_cache().lock().unwrap().get(body) {
            return Ok(hit.clone());
        }
        let execs: Vec<String> = match self.python {
            Some(py) => {
                let mut tiny = DataStore::new();
                tiny.set_var("N", name, &loc());
                tiny.set_var("B", body, &loc());
                let joined = py
                    .eval_inline_in_python(PARSE_SHELL, None, &tiny)
                    .map_err(|e| format!("while parsing the shell function {name}: {e}"))?;
                joined
                    .split('\0')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            }
            None => {
                // Conservative: every word; emit_func keeps only shell functions.
                self.scanned = true;
                let words: BTreeSet<String> = body
                    .split(|c: char| c.is_whitespace() || ";|&()`$<>{}\"'=".contains(c))
                    .filter(|w| !w.is_empty())
                    .map(str::to_string)
                    .collect();
                words.into_iter().collect()
            }
        };
        if self.python.is_none() {
            return Ok(Arc::new(execs));
        }
        let execs = Arc::new(execs);
        shell_cache()
            .lock()
            .unwrap()
            .insert(body.to_string(), execs.clone());
        Ok(execs)
    }

    /// `body` with the recipe's WORKDIR and TMPDIR written `/W` and `/T`, so that the
    /// functions every recipe has (bbnote, with `${T}/fifo.<pid>` inside) are parsed
    /// once. Exact for `emit_func`: a path made only of word characters (letters,
    /// digits, `/._+-`, which is checked) replaced by another leaves every shell word
    /// boundary where it was, and a word holding `/` is never a function name.
    fn normalize(&self, body: &str) -> String {
        let plain = |p: &str| {
            p.starts_with('/')
                && p.len() > 1
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/._+-".contains(c))
        };
        let mut out = body.to_string();
        for (var, short) in [("WORKDIR", "/W"), ("TMPDIR", "/T")] {
            if let Ok(Some(v)) = self.ts.get_var(var, true) {
                if plain(&v) {
                    out = out.replace(&*v, short);
                }
            }
        }
        out
    }

    /// The value written for exported `var` in virtual mode (`None`: not written).
    fn host_filter(&self, var: &str, val: String) -> Option<String> {
        let Some(layout) = self.layout else {
            return Some(val);
        };
        if HOST_VARIABLES.contains(&var) {
            return None;
        }
        if var == "PATH" {
            let hosttools = self
                .ts
                .get_var("HOSTTOOLS_DIR", true)
                .ok()
                .flatten()
                .map(|h| layout.virtualize(&h));
            let mut parts: Vec<String> = layout
                .virtualize(&val)
                .split(':')
                .filter(|p| p.starts_with(TMPDIR_PREFIX))
                .filter(|p| Some(*p) != hosttools.as_deref())
                .map(str::to_string)
                .collect();
            parts.push(HOST_TOOLS_PATH.to_string());
            return Some(parts.join(":"));
        }
        Some(val)
    }

    /// `bb.data.emit_var(var, o, d, all=False)`; `Ok(true)` when it wrote a function.
    fn emit_var(&self, var: &str, o: &mut String) -> Result<bool, String> {
        let ts = self.ts;
        let func = flag_set(ts, var, "func");
        if func && flag_set(ts, var, "python") {
            return Ok(false);
        }
        let flag = |f: &str| -> Result<Option<String>, String> {
            ts.get_var_flag(var, f, true)
                .map(|v| v.map(|v| v.to_string()))
                .map_err(|e| e.to_string())
        };
        let export = to_boolean(flag("export")?.as_deref())?;
        let unexport = to_boolean(flag("unexport")?.as_deref())?;
        if !export && !unexport && !func {
            return Ok(false);
        }
        let val = match ts.get_var(var, true) {
            Ok(v) => v,
            Err(e) => {
                o.push_str(&format!("# expansion of {var} threw ExpansionError: {e}\n"));
                return Ok(false);
            }
        };
        if var.contains(['-', '.', '{', '}', '+']) {
            return Ok(false);
        }
        let expanded = ts.expand(var, None).map_err(|e| e.to_string())?;
        if unexport {
            o.push_str(&format!("unset {expanded}\n"));
            return Ok(false);
        }
        let Some(val) = val else { return Ok(false) };
        let val = val.to_string();
        if let Some(name) = expanded.strip_prefix("BASH_FUNC_") {
            let name = &name[..name.len().saturating_sub(2)];
            let body = val.get(3..).unwrap_or("");
            o.push_str(&format!("{name}() {body}\nexport -f {name}\n"));
            return Ok(true);
        }
        if func {
            let lineno = ts.get_var_flag(var, "lineno", false).ok().flatten();
            let filename = ts.get_var_flag(var, "filename", false).ok().flatten();
            o.push_str(&format!(
                "# line: {}, file: {}\n",
                lineno.as_deref().unwrap_or("None"),
                filename.as_deref().unwrap_or("None")
            ));
            o.push_str(&format!(
                "{expanded}() {{\n{}\n}}\n",
                val.trim_end_matches('\n')
            ));
            return Ok(true);
        }
        let Some(val) = self.host_filter(var, val) else {
            return Ok(false);
        };
        if export {
            o.push_str("export ");
        }
        let alter = val
            .replace('"', "\\\"")
            .replace('\n', " \\\n")
            .replace('$', "\\$");
        o.push_str(&format!("{expanded}=\"{alter}\"\n"));
        Ok(false)
    }

    /// The variables part of `emit_func`: every non-function variable, sorted.
    fn emit_header(&self, o: &mut String) -> Result<(), String> {
        let ts = self.ts;
        let mut names: Vec<Arc<str>> = ts
            .exported_names()
            .into_iter()
            .filter(|k| !k.starts_with("__"))
            .collect();
        names.sort();
        for key in names {
            if flag_set(ts, &key, "func") {
                continue;
            }
            self.emit_var(&key, o)?;
        }
        Ok(())
    }

    /// The functions part of `emit_func(func)`: `func` then the shell functions it
    /// calls, breadth-first, each level sorted; `seen` carries over between functions
    /// of one script.
    fn emit_functions(
        &mut self,
        func: &str,
        o: &mut String,
        emitted: &mut BTreeSet<String>,
    ) -> Result<(), String> {
        let ts = self.ts;
        if emitted.insert(func.to_string()) && self.emit_var(func, o)? {
            o.push('\n');
        }
        let body = |name: &str| -> Result<String, String> {
            ts.get_var(name, true)
                .map(|v| v.map(|v| v.to_string()).unwrap_or_else(|| "None".into()))
                .map_err(|e| e.to_string())
        };
        let vardeps = |name: &str| -> Vec<String> {
            ts.get_var_flag(name, "vardeps", true)
                .ok()
                .flatten()
                .map(|v| v.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default()
        };
        let mut newdeps: BTreeSet<String> = self
            .parse_shell(func, &body(func)?)?
            .iter()
            .cloned()
            .collect();
        newdeps.extend(vardeps(func));
        let mut seen: BTreeSet<String> = BTreeSet::new();
        while !newdeps.is_empty() {
            let deps = std::mem::take(&mut newdeps);
            seen.extend(deps.iter().cloned());
            for dep in &deps {
                if is_shell_func(ts, dep) {
                    if emitted.insert(dep.clone()) && self.emit_var(dep, o)? {
                        o.push('\n');
                    }
                    newdeps.extend(self.parse_shell(dep, &body(dep)?)?.iter().cloned());
                    newdeps.extend(vardeps(dep));
                }
            }
            newdeps.retain(|d| !seen.contains(d));
        }
        Ok(())
    }
}

/// `bb.build.shell_trap_code()`.
pub const SHELL_TRAP_CODE: &str = "#!/bin/sh

__BITBAKE_LAST_LINE=0

# Emit a useful diagnostic if something fails:
bb_sh_exit_handler() {
    ret=$?
    if [ \"$ret\" != 0 ]; then
        echo \"WARNING: exit code $ret from a shell command.\"
    fi
    exit $ret
}

bb_bash_exit_handler() {
    ret=$?
    { set +x; } > /dev/null
    trap \"\" DEBUG
    if [ \"$ret\" != 0 ]; then
        echo \"WARNING: ${BASH_SOURCE[0]}:${__BITBAKE_LAST_LINE} exit $ret from '$1'\"

        echo \"WARNING: Backtrace (BB generated script): \"
        for i in $(seq 1 $((${#FUNCNAME[@]} - 1))); do
            if [ \"$i\" -eq 1 ]; then
                echo -e \"\t#$((i)): ${FUNCNAME[$i]}, ${BASH_SOURCE[$((i-1))]}, line ${__BITBAKE_LAST_LINE}\"
            else
                echo -e \"\t#$((i)): ${FUNCNAME[$i]}, ${BASH_SOURCE[$((i-1))]}, line ${BASH_LINENO[$((i-1))]}\"
            fi
        done
    fi
    exit $ret
}

bb_bash_debug_handler() {
    local line=${BASH_LINENO[0]}
    # For some reason the DEBUG trap trips with lineno=1 when scripts exit; ignore it
    if [ \"$line\" -eq 1 ]; then
        return
    fi

    # Track the line number of commands as they execute. This is so we can have access to the failing line number
    # in the EXIT trap. See http://gnu-bash.2382.n7.nabble.com/trap-echo-quot-trap-exit-on-LINENO-quot-EXIT-gt-wrong-linenumber-td3666.html
    if [ \"${FUNCNAME[1]}\" != \"bb_bash_exit_handler\" ]; then
        __BITBAKE_LAST_LINE=$line
    fi
}

case $BASH_VERSION in
\"\") trap 'bb_sh_exit_handler' 0
    set -e
    ;;
*)  trap 'bb_bash_exit_handler \"$BASH_COMMAND\"' 0
    trap '{ bb_bash_debug_handler; } 2>/dev/null' DEBUG
    set -e
    shopt -s extdebug
    ;;
esac
";

/// `exec_func_shell`'s lines after the call.
const TRAILER: &str = "\n# cleanup\nret=$?\ntrap '' 0\nexit $ret\n";

/// A single-quoted shell word.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// One function a script calls, with what `exec_func` does around it.
struct Call {
    func: String,
    /// `exec_func`'s directory handling, written into the script (pre/postfuncs);
    /// `None` for the task itself, whose [dirs]/[cleandirs] the helper handles and whose
    /// `cd` is BitBake's own line.
    own_dirs: Option<(Vec<String>, Vec<String>)>,
}

/// One call in a script as `exec_func` makes it: for a pre/postfunc, its own [cleandirs]
/// emptied, [dirs] made and the last one entered, then the function called.
fn write_call(o: &mut String, c: &Call) {
    if let Some((dirs, cleandirs)) = &c.own_dirs {
        for d in cleandirs {
            o.push_str(&format!("rm -rf {q}\nmkdir -p {q}\n", q = shell_quote(d)));
        }
        for d in dirs {
            o.push_str(&format!("mkdir -p {}\n", shell_quote(d)));
        }
        if let Some(last) = dirs.last() {
            o.push_str(&format!("cd {}\n", shell_quote(last)));
        }
    }
    o.push_str(&format!("{}\n", c.func));
}

/// The expanded words of a flag.
fn flag_words(ts: &DataStore, var: &str, flag: &str) -> Result<Vec<String>, String> {
    match ts.get_var_flag(var, flag, false) {
        Ok(Some(v)) => ts
            .expand(&v, None)
            .map(|v| v.split_whitespace().map(str::to_string).collect())
            .map_err(|e| e.to_string()),
        Ok(None) => Ok(Vec::new()),
        Err(e) => Err(e.to_string()),
    }
}

/// The run file BitBake writes for shell function `func` of the task store `ts`
/// (`exec_func_shell`), with real paths: the oracle tests compare it with BitBake's.
/// `extra` are further calls after it, each with its own directories (pre/postfuncs),
/// `before` the ones before it; both empty gives BitBake's exact file.
pub fn raw_run_file(
    ts: &DataStore,
    func: &str,
    python: Option<&Arc<PythonBridge>>,
) -> Result<String, String> {
    let mut e = Emitter {
        ts,
        layout: None,
        python,
        notes: Vec::new(),
        scanned: false,
    };
    build_script(&mut e, &[], func, &[], &[])
}

fn build_script(
    e: &mut Emitter,
    before: &[Call],
    func: &str,
    after: &[Call],
    comments: &[String],
) -> Result<String, String> {
    let ts = e.ts;
    let mut inner = Emitter {
        ts,
        layout: e.layout,
        python: e.python,
        notes: Vec::new(),
        scanned: false,
    };
    let mut o = String::from(SHELL_TRAP_CODE);
    inner.emit_header(&mut o)?;
    o.push('\n');
    let mut emitted = BTreeSet::new();
    inner.emit_functions(func, &mut o, &mut emitted)?;
    for c in before.iter().chain(after) {
        inner.emit_functions(&c.func, &mut o, &mut emitted)?;
    }
    if to_boolean(
        ts.get_var("BB_VERBOSE_LOGS", false)
            .ok()
            .flatten()
            .as_deref(),
    )
    .unwrap_or(false)
    {
        o.push_str("set -x\n");
    }
    for c in comments {
        o.push_str(&format!("# bitzel: {c}\n"));
    }
    for c in before {
        write_call(&mut o, c);
    }
    let dirs = flag_words(ts, func, "dirs")?;
    if let Some(cwd) = dirs.last() {
        o.push_str(&format!("cd '{cwd}'\n"));
    }
    o.push_str(&format!("{func}\n"));
    for c in after {
        write_call(&mut o, c);
    }
    o.push_str(TRAILER);
    e.notes.append(&mut inner.notes);
    e.scanned |= inner.scanned;
    Ok(o)
}

fn diag(file: &str, severity: Severity, message: String) -> Diagnostic {
    Diagnostic {
        severity,
        message,
        path: file.to_string(),
        range: 0..0,
    }
}

/// The actions of recipe `pn`'s `tasks` (BitBake's task names, in the order the graph
/// gives them), from its finalised store; the diagnostics say what could not be done.
/// Source problems are [`recipe_sources`]'s to report, not repeated here.
pub fn task_actions(
    store: &DataStore,
    pn: &str,
    tasks: &[String],
    layout: &VirtualLayout,
    python: Option<&Arc<PythonBridge>>,
) -> (Vec<TaskAction>, Vec<Diagnostic>) {
    let file = store
        .get_var("FILE", false)
        .ok()
        .flatten()
        .map(|f| f.to_string())
        .unwrap_or_default();
    let vfile = file.clone();
    let mut diags = Vec::new();
    let mut actions = Vec::new();
    let mut sources: Option<Vec<Source>> = None;
    let mut scanned = false;
    let mut skipped: Vec<String> = Vec::new();
    // Only where the value is still computed from the machine (bitbake.conf's
    // `?= "-j ${@oe.utils.cpu_count()}"`): a recipe's own `PARALLEL_MAKE = ""` or
    // local.conf's `PARALLEL_MAKE:pn-<pn>` stands, as in BitBake.
    let pins: Vec<(&str, &str)> = MACHINE_VALUES
        .iter()
        .copied()
        .filter(|(name, _)| {
            store
                .get_var(name, false)
                .ok()
                .flatten()
                .is_some_and(|raw| raw.contains("${@"))
        })
        .collect();
    let mut stores = TaskStores::with(store, &pins);
    for task in tasks {
        let ts = stores.task(task);
        let mut problems: Vec<String> = Vec::new();
        let words = |flag: &str, problems: &mut Vec<String>| -> Vec<String> {
            match flag_words(&ts, task, flag) {
                Ok(w) => w.iter().map(|d| layout.virtualize(d)).collect(),
                Err(e) => {
                    problems.push(format!("{pn}:{task}[{flag}]: {e}"));
                    Vec::new()
                }
            }
        };
        let dirs = words("dirs", &mut problems);
        let cleandirs = words("cleandirs", &mut problems);
        let noexec = flag_present(&ts, task, "noexec");
        let python_task = flag_set(&ts, task, "python");
        let unsupported = |what: &str| TaskKind::Unsupported {
            reason: format!("not supported yet: {pn} {what}"),
        };
        let kind = if noexec {
            TaskKind::NoExec
        } else if !python_task {
            let mut e = Emitter {
                ts: &ts,
                layout: Some(layout),
                python,
                notes: Vec::new(),
                scanned: false,
            };
            let r = shell_task(&mut e, task);
            scanned |= e.scanned;
            skipped.append(&mut e.notes);
            match r {
                Ok(s) => TaskKind::Shell(finish(&ts, layout, &s)),
                Err(m) => {
                    problems.push(format!("{pn}:{task}: {m}"));
                    unsupported(task)
                }
            }
        } else {
            match task.as_str() {
                "do_fetch" => TaskKind::Fetch,
                "do_prepare_recipe_sysroot" => TaskKind::Sysroot,
                "do_unpack" | "do_patch" => {
                    let srcs = sources.get_or_insert_with(|| recipe_sources(store, pn, layout).0);
                    let data = if task == "do_unpack" {
                        unpack_data(&ts, srcs, layout)
                    } else {
                        patch_data(&ts, pn, srcs, layout, &mut problems)
                    };
                    let body = ts.get_var(task, false).ok().flatten().unwrap_or_default();
                    if !is_exported_stub(&body, &task[3..]) {
                        skipped.push(format!(
                            "{task}:(its own Python; SRC_URI's {} only)",
                            &task[3..]
                        ));
                    }
                    skipped.extend(python_hooks(&ts, task));
                    TaskKind::Builtin {
                        name: task[3..].to_string(),
                        data,
                    }
                }
                "do_populate_sysroot" => {
                    let mut e = Emitter {
                        ts: &ts,
                        layout: Some(layout),
                        python,
                        notes: Vec::new(),
                        scanned: false,
                    };
                    skipped.extend(python_hooks(&ts, task));
                    let r = populate_sysroot(&mut e, pn);
                    scanned |= e.scanned;
                    for n in e.notes {
                        diags.push(diag(&vfile, Severity::Warning, n));
                    }
                    match r {
                        Ok(s) => TaskKind::Shell(finish(&ts, layout, &s)),
                        Err(m) => {
                            problems.push(format!("{pn}:{task}: {m}"));
                            unsupported(task)
                        }
                    }
                }
                _ => unsupported(task),
            }
        };
        for p in problems {
            diags.push(diag(&vfile, Severity::Error, p));
        }
        actions.push(TaskAction {
            task: task.clone(),
            kind,
            dirs,
            cleandirs,
            fakeroot: flag_present(&ts, task, "fakeroot"),
            nostamp: flag_present(&ts, task, "nostamp"),
            noexec,
        });
    }
    if !skipped.is_empty() {
        diags.push(diag(
            &vfile,
            Severity::Warning,
            format!(
                "not supported yet: {pn}: Python pre/postfuncs not run: {}",
                skipped.join(" ")
            ),
        ));
    }
    if scanned {
        diags.push(diag(
            &vfile,
            Severity::Warning,
            format!("{pn}: without the Python bridge, the shell functions the tasks call are found by a word scan, not BitBake's shell parser"),
        ));
    }
    (actions, diags)
}

/// The worker's message FIFO, `${T}/fifo.<pid>` (bb.build.exec_func_shell; Poky's
/// logging.bbclass names it by `os.getpid()`, which in bitzel is the generator's own
/// process): a per-run value, written as `${T}/fifo.0`.
pub const FIFO_NAME: &str = "fifo.0";

/// The virtual script: the worker's FIFO name pinned, then the paths virtualized.
fn finish(ts: &DataStore, layout: &VirtualLayout, script: &str) -> String {
    let t = ts
        .get_var("T", true)
        .ok()
        .flatten()
        .map(|t| t.to_string())
        .unwrap_or_default();
    let script = if t.is_empty() {
        script.to_string()
    } else {
        let ours = format!("{t}/fifo.{}", std::process::id());
        let pinned = format!("{t}/{FIFO_NAME}");
        script.replace(&ours, &pinned)
    };
    layout.virtualize(&script)
}

/// Python pre/postfuncs whose work the workspace does another way, with how.
pub const DONE_BY_BAZEL: [(&str, &str); 3] = [
    (
        "extend_recipe_sysroot",
        "the rules stage the sysroot components of the task's [depends]",
    ),
    ("sstate_task_prefunc", "Bazel's cache stands for sstate"),
    ("sstate_task_postfunc", "Bazel's cache stands for sstate"),
];

/// Whether `body` is the function EXPORT_FUNCTIONS writes for `do_<name>` (a call of
/// `<class>_do_<name>`, e.g. base.bbclass's `base_do_unpack`), i.e. the recipe did not
/// give the task Python of its own.
fn is_exported_stub(body: &str, name: &str) -> bool {
    // "    # Export function set\n    bb.build.exec_func('base_do_unpack', d)\n"
    let b = body.trim();
    let b = b.strip_prefix("# Export function set").unwrap_or(b).trim();
    let Some(rest) = b.strip_prefix("bb.build.exec_func('") else {
        return false;
    };
    let Some(func) = rest.strip_suffix("', d)") else {
        return false;
    };
    func.strip_suffix(&format!("_do_{name}"))
        .is_some_and(|class| {
            !class.is_empty()
                && class
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        })
}

/// The Python [prefuncs]/[postfuncs] of a task bitzel runs another way (builtins,
/// do_populate_sysroot), as `task:function`, without those in [`DONE_BY_BAZEL`].
fn python_hooks(ts: &DataStore, task: &str) -> Vec<String> {
    let mut out = Vec::new();
    for flag in ["prefuncs", "postfuncs"] {
        for f in flag_words(ts, task, flag).unwrap_or_default() {
            if flag_set(ts, &f, "python") && !DONE_BY_BAZEL.iter().any(|(n, _)| *n == f) {
                out.push(format!("{task}:{f}"));
            }
        }
    }
    out
}

/// A shell task's script: its run file, with its shell pre/postfuncs called around it.
fn shell_task(e: &mut Emitter, task: &str) -> Result<String, String> {
    let ts = e.ts;
    let mut before = Vec::new();
    let mut after = Vec::new();
    let mut comments = Vec::new();
    for (flag, list) in [("prefuncs", &mut before), ("postfuncs", &mut after)] {
        for f in flag_words(ts, task, flag)? {
            if flag_set(ts, &f, "python") {
                match DONE_BY_BAZEL.iter().find(|(name, _)| *name == f) {
                    Some((_, how)) => comments.push(format!("{flag} {f} (Python): {how}")),
                    None => {
                        e.notes.push(format!("{task}:{f}"));
                        comments.push(format!("{flag} {f} (Python) is not run"));
                    }
                }
                continue;
            }
            let dirs = flag_words(ts, &f, "dirs")?;
            let cleandirs = flag_words(ts, &f, "cleandirs")?;
            list.push(Call {
                func: f,
                own_dirs: Some((dirs, cleandirs)),
            });
        }
    }
    build_script(e, &before, task, &after, &comments)
}

/// do_populate_sysroot as a shell script: staging.bbclass's `sysroot_stage_all` (the
/// store's own shell function, as `exec_func` would write it; or, when the store has
/// none, an equivalent that copies each `SYSROOT_DIRS` directory of `D` into
/// `SYSROOT_DESTDIR` with `cp -a` and removes `SYSROOT_DIRS_IGNORE`), then each
/// `SYSROOT_PREPROCESS_FUNCS` function in order (a Python one makes the script fail with
/// `not supported yet: <pn> <function>`), then the `sysroot-providers/<provide>` files
/// (content PN) that the Python task writes, and sstate's fixmepath (see
/// `hardcode_path`). `sysroot_strip` (Python) is not run.
fn populate_sysroot(e: &mut Emitter, pn: &str) -> Result<String, String> {
    let ts = e.ts;
    let get = |v: &str| -> Result<String, String> {
        ts.get_var(v, true)
            .map(|x| x.map(|x| x.to_string()).unwrap_or_default())
            .map_err(|e| e.to_string())
    };
    let mut gen = String::new();
    let stage = if is_shell_func(ts, "sysroot_stage_all") {
        "sysroot_stage_all".to_string()
    } else {
        let q = |s: &str| shell_quote(s);
        let dirs: Vec<String> = get("SYSROOT_DIRS")?.split_whitespace().map(q).collect();
        let ignore: Vec<String> = get("SYSROOT_DIRS_IGNORE")?
            .split_whitespace()
            .map(q)
            .collect();
        gen.push_str(&format!(
            "bitzel_sysroot_stage_all() {{\n\tfor dir in {}; do\n\t\tif [ -d {d}\"$dir\" ]; then\n\t\t\tmkdir -p {s}\"$dir\"\n\t\t\tcp -a {d}\"$dir/.\" {s}\"$dir/\"\n\t\tfi\n\tdone\n\tfor dir in {}; do\n\t\trm -rf {s}\"$dir\"\n\tdone\n}}\n\n",
            dirs.join(" "),
            ignore.join(" "),
            d = q(&get("D")?),
            s = q(&get("SYSROOT_DESTDIR")?),
        ));
        "bitzel_sysroot_stage_all".to_string()
    };
    let mut calls: Vec<Call> = Vec::new();
    for f in get("SYSROOT_PREPROCESS_FUNCS")?.split_whitespace() {
        if is_shell_func(ts, f) {
            calls.push(Call {
                func: f.to_string(),
                own_dirs: Some((flag_words(ts, f, "dirs")?, flag_words(ts, f, "cleandirs")?)),
            });
        } else {
            let name = format!("bitzel_unsupported_{}", calls.len());
            gen.push_str(&format!(
                "{name}() {{\n\techo {} >&2\n\texit 1\n}}\n\n",
                shell_quote(&format!("not supported yet: {pn} {f}"))
            ));
            calls.push(Call {
                func: name,
                own_dirs: None,
            });
        }
    }
    let multiprov: Vec<String> = get("BB_MULTI_PROVIDER_ALLOWED")?
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let provdir = ts
        .expand("${SYSROOT_DESTDIR}${base_prefix}/sysroot-providers/", None)
        .map_err(|e| e.to_string())?;
    let mut prov = format!(
        "bitzel_sysroot_providers() {{\n\tmkdir -p {}\n",
        shell_quote(&provdir)
    );
    for p in get("PROVIDES")?.split_whitespace() {
        if multiprov.iter().any(|m| m == p) {
            continue;
        }
        prov.push_str(&format!(
            "\tprintf '%s' {} > {}\n",
            shell_quote(pn),
            shell_quote(&format!("{provdir}{}", p.replace('/', "_")))
        ));
    }
    prov.push_str("}\n\n");
    gen.push_str(&prov);
    calls.push(Call {
        func: "bitzel_sysroot_providers".into(),
        own_dirs: None,
    });
    if let Some(f) = hardcode_path(ts)? {
        gen.push_str(&f);
        calls.push(Call {
            func: "bitzel_sstate_hardcode_path".into(),
            own_dirs: None,
        });
    }

    // The script: header, BitBake's functions, the generated ones, the calls.
    let mut o = String::from(SHELL_TRAP_CODE);
    e.emit_header(&mut o)?;
    o.push('\n');
    let mut emitted = BTreeSet::new();
    if stage == "sysroot_stage_all" {
        e.emit_functions(&stage, &mut o, &mut emitted)?;
    }
    for c in &calls {
        if is_shell_func(ts, &c.func) {
            e.emit_functions(&c.func, &mut o, &mut emitted)?;
        }
    }
    o.push_str(&gen);
    o.push_str("# bitzel: do_populate_sysroot (Python in staging.bbclass) as shell; sysroot_strip is not run\n");
    let dirs = flag_words(ts, "do_populate_sysroot", "dirs")?;
    if let Some(cwd) = dirs.last() {
        o.push_str(&format!("cd {}\n", shell_quote(cwd)));
    }
    o.push_str(&format!("{stage}\n"));
    for c in &calls {
        write_call(&mut o, c);
    }
    o.push_str(TRAILER);
    Ok(o)
}

/// `bb.data.inherits_class(name, d)`: whether `classes*/<name>.bbclass` is in
/// `__inherit_cache`.
fn inherits_class(ts: &DataStore, name: &str) -> bool {
    let cache = ts
        .get_var("__inherit_cache", false)
        .ok()
        .flatten()
        .unwrap_or_default();
    let suffix = format!("/{name}.bbclass");
    cache.split_whitespace().any(|c| c.ends_with(&suffix))
}

/// sstate.bbclass's `sstate_hardcode_path` as a shell function, when the recipe has
/// sstate (`SSTATE_SCAN_CMD` and `do_populate_sysroot[sstate-inputdirs]` set): the
/// input directory is moved into `${WORKDIR}/sstate-build-populate_sysroot/` under its
/// base name as `sstate_package` does, the files `SSTATE_SCAN_CMD` finds that name
/// RECIPE_SYSROOT or RECIPE_SYSROOT_NATIVE (and the `EXTRA_STAGING_FIXMES`) get
/// `FIXMESTAGINGDIRTARGET` / `FIXMESTAGINGDIRHOST` / `FIXME_<var>` by the same `sed`,
/// and their list, relative to that directory (so the first component stands for the
/// sysroot), becomes `fixmepath` at the root of the input directory (SYSROOT_DESTDIR
/// for a target recipe), which the helper's staging reads.
fn hardcode_path(ts: &DataStore) -> Result<Option<String>, String> {
    let get = |v: &str| -> Result<Option<String>, String> {
        ts.get_var(v, true)
            .map(|x| x.map(|x| x.to_string()))
            .map_err(|e| e.to_string())
    };
    let inputs = flag_words(ts, "do_populate_sysroot", "sstate-inputdirs")?;
    let (Some(input), Some(_)) = (inputs.first(), get("SSTATE_SCAN_CMD")?) else {
        return Ok(None);
    };
    // sstate_add: the directory's normalised path and base name.
    let input = super::layout::normpath(input);
    let base = input.rsplit('/').next().unwrap_or("").to_string();
    let workdir = get("WORKDIR")?.unwrap_or_default();
    let builddir = format!("{workdir}/sstate-build-populate_sysroot/");
    let mut sts = ts.copy();
    sts.set_var("SSTATE_BUILDDIR", &builddir, &loc());
    let scan = sts
        .get_var("SSTATE_SCAN_CMD", true)
        .map_err(|e| e.to_string())?
        .unwrap_or_default()
        .to_string();
    let target = get("RECIPE_SYSROOT")?.unwrap_or_default();
    let host = get("RECIPE_SYSROOT_NATIVE")?.unwrap_or_default();
    let mut sed = format!("sed -i -e 's:{host}:FIXMESTAGINGDIRHOST:g'");
    let mut grep = if inherits_class(ts, "native") || inherits_class(ts, "cross-canadian") {
        format!("grep -l -e '{host}'")
    } else {
        sed.push_str(&format!(" -e 's:{target}:FIXMESTAGINGDIRTARGET:g'"));
        format!("grep -l -e '{target}' -e '{host}'")
    };
    for var in get("EXTRA_STAGING_FIXMES")?
        .unwrap_or_default()
        .split_whitespace()
    {
        let path = get(var)?.unwrap_or_default();
        sed.push_str(&format!(" -e 's:{path}:FIXME_{var}:g'"));
        grep.push_str(&format!(" -e '{path}'"));
    }
    let fixmefn = format!("{builddir}fixmepath");
    Ok(Some(format!(
        concat!(
            "bitzel_sstate_hardcode_path() {{\n",
            "\trm -rf {b}\n",
            "\tmkdir -p {b}\n",
            "\tif [ -d {i} ]; then mv {i} {bb}; else mkdir -p {bb}; fi\n",
            "\t(cd {b} && {scan} | xargs {grep} | tee {f} | xargs --no-run-if-empty {sed})\n",
            "\tsed -i -e 's:^{builddir}::g' {f}\n",
            "\trm -rf {i}\n",
            "\tmv {bb} {i}\n",
            "\tif [ -s {f} ]; then mv {f} {i}/fixmepath; fi\n",
            "\trm -rf {b}\n",
            "}}\n\n"
        ),
        b = shell_quote(&builddir),
        i = shell_quote(&input),
        bb = shell_quote(&format!("{builddir}{base}")),
        f = shell_quote(&fixmefn),
        scan = scan,
        grep = grep,
        sed = sed,
        builddir = builddir,
    )))
}

/// The `unpack` builtin's data (rules_bitbake/HELPER.md): `unpackdir` (WORKDIR, where
/// scarthgap's `base_do_unpack` unpacks; `UNPACKDIR` when the store sets it), then one
/// `file VIRTUAL PATH [subdir=] [unpack=] [striplevel=]` line per source in SRC_URI
/// order; a git source is `git VIRTUAL rev=SRCREV [branch=] [subdir=] [subpath=]
/// [destsuffix=] [nocheckout=] url=REMOTE` (`gitsm` for gitsm://), a crate
/// `crate VIRTUAL FILE name= bp=`.
pub fn unpack_data(ts: &DataStore, sources: &[Source], layout: &VirtualLayout) -> String {
    let dir = ts
        .get_var("UNPACKDIR", true)
        .ok()
        .flatten()
        .or_else(|| ts.get_var("WORKDIR", true).ok().flatten())
        .map(|v| layout.virtualize(&v))
        .unwrap_or_else(|| TMPDIR.to_string());
    let mut o = format!("unpackdir {dir}\n");
    for s in sources {
        let mut params = String::new();
        for p in ["subdir", "unpack", "striplevel"] {
            if let Some(v) = s.param(p) {
                params.push_str(&format!(" {p}={v}"));
            }
        }
        let line = match &s.kind {
            SourceKind::Git {
                rev,
                branch,
                nobranch,
                submodules,
                remote,
                ..
            } => {
                let kind = if *submodules { "gitsm" } else { "git" };
                let mut line = format!("{kind} {} rev={rev}", s.virtual_path);
                if let Some(b) = branch.as_ref().filter(|_| !nobranch) {
                    line.push_str(&format!(" branch={b}"));
                }
                for p in ["subdir", "subpath", "destsuffix", "nocheckout"] {
                    if let Some(v) = s.param(p) {
                        line.push_str(&format!(" {p}={v}"));
                    }
                }
                line.push_str(&format!(" url={remote}"));
                line
            }
            SourceKind::Crate { name, version, .. } => {
                // bb.fetch2.crate: `name=` defaults to NAME-VERSION; the crate is
                // extracted in place when that is BP.
                let pname = s
                    .param("name")
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{name}-{version}"));
                let bp = ts.get_text("BP").unwrap_or_default();
                format!(
                    "crate {} {} name={pname} bp={bp}",
                    s.virtual_path, s.unpack_path
                )
            }
            _ => format!("file {} {}{params}", s.virtual_path, s.unpack_path),
        };
        o.push_str(&line);
        o.push('\n');
    }
    o
}

/// oe.patch's `should_apply(parm, d)`: `(apply, reason)`.
fn should_apply(ts: &DataStore, s: &Source) -> (bool, Option<&'static str>) {
    let get = |v: &str| ts.get_var(v, true).ok().flatten().map(|x| x.to_string());
    if s.param("mindate").is_some() || s.param("maxdate").is_some() {
        let pn = get("PN").unwrap_or_default();
        let mut srcdate = get(&format!("SRCDATE_{pn}"))
            .filter(|v| !v.is_empty())
            .or_else(|| get("SRCDATE"))
            .unwrap_or_default();
        if srcdate == "now" {
            srcdate = get("DATE").unwrap_or_default();
        }
        if s.param("maxdate").is_some_and(|m| m < srcdate.as_str()) {
            return (false, Some("is outdated"));
        }
        if s.param("mindate").is_some_and(|m| m > srcdate.as_str()) {
            return (false, Some("is predated"));
        }
    }
    let srcrev = get("SRCREV").filter(|v| !v.is_empty());
    if let (Some(min), Some(r)) = (s.param("minrev"), &srcrev) {
        if r.as_str() < min {
            return (false, Some("applies to later revisions"));
        }
    }
    if let (Some(max), Some(r)) = (s.param("maxrev"), &srcrev) {
        if r.as_str() > max {
            return (false, Some("applies to earlier revisions"));
        }
    }
    if let (Some(rev), Some(r)) = (s.param("rev"), &srcrev) {
        if !r.contains(rev) {
            return (false, Some("doesn't apply to revision"));
        }
    }
    if let (Some(rev), Some(r)) = (s.param("notrev"), &srcrev) {
        if r.contains(rev) {
            return (false, Some("doesn't apply to revision"));
        }
    }
    let pv = get("PV").unwrap_or_default();
    use crate::eval::recipe::vercmp;
    use std::cmp::Ordering;
    if s.param("maxver")
        .is_some_and(|m| vercmp(&pv, m) == Ordering::Greater)
    {
        return (false, Some("applies to earlier version"));
    }
    if s.param("minver")
        .is_some_and(|m| vercmp(&pv, m) == Ordering::Less)
    {
        return (false, Some("applies to later version"));
    }
    (true, None)
}

/// `oe.types.boolean`.
fn oe_boolean(v: &str) -> Option<bool> {
    match v.to_lowercase().as_str() {
        "yes" | "y" | "true" | "t" | "1" => Some(true),
        "no" | "n" | "false" | "f" | "0" => Some(false),
        _ => None,
    }
}

/// The `patch` builtin's data (rules_bitbake/HELPER.md): `patchdir` (S), then the
/// patches of SRC_URI as oe.patch's `src_patches` picks them (`.patch`/`.diff`, also
/// compressed, or `apply=yes`; not `apply=no`; `should_apply`'s date, revision and
/// version conditions), in SRC_URI order: `patch VIRTUAL striplevel=N [patchdir=DIR]`
/// (`striplevel=`, else `pnum=`, else 1; DIR virtual, relative to S when under it).
pub fn patch_data(
    ts: &DataStore,
    pn: &str,
    sources: &[Source],
    layout: &VirtualLayout,
    problems: &mut Vec<String>,
) -> String {
    let s_dir = ts
        .get_var("S", true)
        .ok()
        .flatten()
        .map(|v| layout.virtualize(&v))
        .unwrap_or_default();
    let mut o = format!("patchdir {s_dir}\n");
    for s in sources {
        if let SourceKind::Local { is_dir: true, .. } = s.kind {
            continue;
        }
        let base = s.unpack_path.rsplit('/').next().unwrap_or("");
        let (stem, mut ext) = split_ext(base);
        let compressed = matches!(ext, ".gz" | ".bz2" | ".xz" | ".Z");
        if compressed {
            ext = split_ext(stem).1;
        }
        match s.param("apply") {
            Some(a) => match oe_boolean(a) {
                Some(true) => {}
                Some(false) => continue,
                None => {
                    problems.push(format!(
                        "{pn}: {}: invalid boolean value for apply: {a}",
                        s.url
                    ));
                    continue;
                }
            },
            None if ext != ".diff" && ext != ".patch" => continue,
            None => {}
        }
        if !should_apply(ts, s).0 {
            continue;
        }
        if compressed {
            problems.push(format!(
                "not supported yet: {pn} compressed patch {} (unpacked into WORKDIR by do_unpack first)",
                s.url
            ));
            continue;
        }
        let striplevel = s
            .param("striplevel")
            .or(s.param("pnum"))
            .unwrap_or("1")
            .to_string();
        o.push_str(&format!("patch {} striplevel={striplevel}", s.virtual_path));
        if let Some(pd) = s.param("patchdir") {
            // patch.bbclass joins it to S (`os.path.join`): an absolute one (the rust
            // recipes' `${RUSTSRC}`) is a real path, written virtual, relative to S
            // when it is under it.
            let pd = layout.virtualize(pd);
            let pd = pd
                .strip_prefix(s_dir.as_str())
                .and_then(|r| r.strip_prefix('/'))
                .filter(|r| !r.is_empty() && !s_dir.is_empty())
                .unwrap_or(&pd);
            o.push_str(&format!(" patchdir={pd}"));
        }
        o.push('\n');
    }
    o
}

/// `os.path.splitext` of a base name: (stem, extension with its dot); a leading dot is
/// part of the stem.
fn split_ext(base: &str) -> (&str, &str) {
    let lead = base.len() - base.trim_start_matches('.').len();
    match base[lead..].rfind('.') {
        Some(i) => (&base[..lead + i], &base[lead + i..]),
        None => (base, ""),
    }
}
