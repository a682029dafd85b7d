//! One recipe file parsed as BitBake parses it: `bb.cache.parse_recipe` /
//! `CookerDataBuilder._parse_recipe` (`__BBMULTICONFIG`, `FILE_LAYERNAME`,
//! `__BBAPPEND`), `BBHandler.handle` with `include` false (`FILE`), then
//! `bb.parse.ast.multi_finalize`: the bbappends in order, `finalize` of the recipe on a
//! copy, and one more store per `BBCLASSEXTEND` entry (`native`, `nativesdk`,
//! `multilib:lib32`...), each a copy of the recipe as it was before finalising, with PN
//! renamed (`<pn>-<class>`, or `BBEXTENDCURR`/`BBEXTENDVARIANT` for a `class:variant`
//! entry) and the class added to the deferred inherits, then finalised.
//!
//! `finalize` (ast.py): the deferred inherits (`inherit_defer`, and the variant's
//! class), the event handlers of `__BBHANDLERS` registered and
//! `RecipePreFinalise` fired, `expandKeys`, `RecipePostKeyExpansion`, the anonymous
//! functions (`bb.parse.SkipRecipe` makes the variant skipped with its reason,
//! `__SKIPPED`), `RecipeTaskPreProcess`, `bb.build.add_tasks` (task flags,
//! `_task_deps`), `BBINCLUDED`, `RecipeParsed`. Events and `add_tasks` run BitBake's own
//! code through the bridge; without a bridge only the native steps run.
//!
//! Not done: `bb.parse.siggen.finalise` (task hashes; what it stores, `__siggen_*`,
//! `bitbake -e` does not print) and the AUTOREV check.
//!
//! Parallelism: [`parse_all_map`] parses files in several processes, as BitBake's
//! parser processes do (`parser_processes`), and [`parse_all`], whose stores must stay
//! in this process, on several threads, each with its own interpreter state and
//! stores; there Python runs one thread at a time (the GIL), and firing an event, which
//! edits `bb.event`'s global handler table and restores it, is serialised.

use super::collection::Collection;
use super::config::Configuration;
use super::datastore::DataStore;
use super::interpret::{bitbake_site, DeferredInherit, HandleError, Interpreter};
use super::python::{EvalError, PythonBridge};
use crate::diagnostic::Diagnostic;
use std::path::Path;
use std::sync::Arc;

/// One variant of a recipe file, finalised.
pub struct Variant {
    /// `""` for the recipe itself, else the BBCLASSEXTEND entry (`native`,
    /// `multilib:lib32`, ...), BitBake's `virtual:<name>:` prefix.
    pub name: String,
    /// The finalised store.
    pub store: DataStore,
    /// `Some(reason)` when the recipe is skipped (`bb.parse.SkipRecipe`).
    pub skipped: Option<String>,
    /// Errors of finalising (an anonymous function that failed...).
    pub errors: Vec<String>,
}

/// A parsed recipe file: its variants and what the parse reported.
pub struct ParsedRecipe {
    /// The recipe file.
    pub file: String,
    /// The variants, the recipe itself first.
    pub variants: Vec<Variant>,
    /// Diagnostics of reading the files (missing `require`, syntax errors...).
    pub diagnostics: Vec<Diagnostic>,
    /// `diagnostics` rendered with their source lines.
    pub rendered_diagnostics: String,
}

impl ParsedRecipe {
    /// The variant called `name` (`""`: the recipe itself).
    pub fn variant(&self, name: &str) -> Option<&Variant> {
        self.variants.iter().find(|v| v.name == name)
    }
}

/// How to parse.
#[derive(Debug, Clone, Default)]
pub struct RecipeOptions {
    /// `__ONLYFINALISE`: finalise only this variant (`"default"` is the recipe itself),
    /// as `bitbake -e <target>` does (`parseRecipeVariants(virtonly=True)`, which also
    /// leaves the variable set in every store). `None`: all variants.
    pub only_finalise: Option<String>,
}

/// Parses recipe file `file` (absolute) of the configuration, with the appends and
/// layer the collection gives it.
pub fn parse_recipe(
    config: &Configuration,
    collection: &Collection,
    file: &str,
    options: &RecipeOptions,
    python: Option<&Arc<PythonBridge>>,
) -> ParsedRecipe {
    parse_recipe_tracked(config, collection, file, options, python, true)
}

/// [`parse_recipe`], recording variable history or not (BitBake's parse does not; only
/// `bitbake -e` enables tracking).
fn parse_recipe_tracked(
    config: &Configuration,
    collection: &Collection,
    file: &str,
    options: &RecipeOptions,
    python: Option<&Arc<PythonBridge>>,
    tracking: bool,
) -> ParsedRecipe {
    let cwd = text_of_topdir(config);
    let mut interp = Interpreter::new(&cwd, python.map(|b| &**b));
    for (path, text) in &config.in_memory_files {
        interp.add_in_memory_file(path, text);
    }
    interp.share_files(config.file_cache.clone());
    let mut store = config.recipe_store(python);
    if !tracking {
        store.disable_tracking();
    }
    if let Some(only) = &options.only_finalise {
        store.set_var(
            "__ONLYFINALISE",
            only,
            &bitbake_site("cookerdata.py:518 [parseRecipeVariants]"),
        );
    }
    // CookerDataBuilder._parse_recipe.
    store.set_var(
        "__BBMULTICONFIG",
        "",
        &bitbake_site("cookerdata.py:498 [_parse_recipe]"),
    );
    // `setVar("FILE_LAYERNAME", layername)`, the layer whose BBFILE_PATTERN matches the
    // file. `bitbake -e <pn>-native` asks for the layer of "virtual:native:<file>",
    // which no pattern matches, so there (and for a file outside every pattern) it is
    // None: that hides bitbake.conf's default ("config") and leaves
    // `${FILE_LAYERNAME}` unexpanded. The native store holds text, so None is a set
    // (dropping pending operations) then a delete, as the bridge's setVar(None) does.
    let virtual_target = options
        .only_finalise
        .as_ref()
        .is_some_and(|o| o != "default");
    let site = bitbake_site("cookerdata.py:499 [_parse_recipe]");
    match collection.priority(file) {
        (_, Some(layer)) if !virtual_target => store.set_var("FILE_LAYERNAME", layer, &site),
        _ => {
            store.set_var("FILE_LAYERNAME", "", &site);
            store.del_var("FILE_LAYERNAME", &site);
        }
    }
    let appends = collection.appends_of(file);
    if !appends.is_empty() {
        store.set_var(
            "__BBAPPEND",
            &appends.join(" "),
            &bitbake_site("cookerdata.py:505 [_parse_recipe]"),
        );
    }
    let mut variants = Vec::new();
    let mut parse_skip = None;
    if let Err(HandleError::NotFound) = interp.handle(&mut store, file, false, None) {
        interp.warn(file, 0, format!("file {file} not found"));
    }
    // A SkipRecipe while the statements are evaluated (inline Python of an immediate
    // assignment) skips the recipe without finalising it.
    if let Ok(Some(v)) = store.get_var("__SKIPPED", false) {
        parse_skip = Some(v.to_string());
    }

    // multi_finalize: the appends, then finalize on a copy.
    for append in &appends {
        if let Err(HandleError::NotFound) = interp.handle(&mut store, append, true, None) {
            interp.warn(append, 0, format!("file {append} not found"));
        }
    }
    let only = store.get_text("__ONLYFINALISE");
    let deferred: Vec<DeferredInherit> = interp.deferred_inherits().to_vec();
    let depends_len = interp.depends().len();
    let mut safe = store;
    let mut d = safe.create_copy();
    if let Some(reason) = parse_skip {
        variants.push(Variant {
            name: String::new(),
            store: d,
            skipped: Some(reason),
            errors: Vec::new(),
        });
    } else {
        let mut errors = Vec::new();
        let skipped = finalize(&mut interp, &mut d, file, "", config, python, &mut errors);
        if let Some(reason) = &skipped {
            d.set_var(
                "__SKIPPED",
                reason,
                &bitbake_site("ast.py:462 [multi_finalize]"),
            );
        }
        let extended = d.get_text("BBCLASSEXTEND").unwrap_or_default();
        let pn = d.get_text("PN").unwrap_or_default();
        variants.push(Variant {
            name: String::new(),
            store: d,
            skipped,
            errors,
        });
        if !extended.trim().is_empty() {
            safe.set_var(
                "BBCLASSEXTEND",
                &extended,
                &bitbake_site("ast.py:494 [multi_finalize]"),
            );
            for ext in extended.split_whitespace() {
                if only.as_ref().is_some_and(|o| o != ext) {
                    continue;
                }
                let mut parts = ext.splitn(3, ':');
                let class = parts.next().unwrap_or(ext).to_string();
                let variant_arg = parts.next();
                let mut v = safe.create_copy();
                let site = bitbake_site("ast.py:489 [extendfunc]");
                match variant_arg {
                    Some(arg) => {
                        v.set_var(
                            "BBEXTENDCURR",
                            &class,
                            &bitbake_site("ast.py:486 [extendfunc]"),
                        );
                        v.set_var(
                            "BBEXTENDVARIANT",
                            arg,
                            &bitbake_site("ast.py:487 [extendfunc]"),
                        );
                    }
                    None => v.set_var("PN", &format!("{pn}-{ext}"), &site),
                }
                let mut inherits = deferred.clone();
                inherits.push(DeferredInherit {
                    classes: class,
                    file: file.to_string(),
                    line: 0,
                });
                interp.set_deferred_inherits(inherits);
                interp.truncate_depends(depends_len);
                let mut errors = Vec::new();
                let skipped = finalize(&mut interp, &mut v, file, ext, config, python, &mut errors);
                if let Some(reason) = &skipped {
                    v.set_var(
                        "__SKIPPED",
                        reason,
                        &bitbake_site("ast.py:503 [multi_finalize]"),
                    );
                }
                variants.push(Variant {
                    name: ext.to_string(),
                    store: v,
                    skipped,
                    errors,
                });
            }
        }
    }
    let diagnostics = interp.take_diagnostics();
    let mut rendered = String::new();
    for d in &diagnostics {
        rendered.push_str(&interp.render(d));
    }
    ParsedRecipe {
        file: file.to_string(),
        variants,
        diagnostics,
        rendered_diagnostics: rendered,
    }
}

fn text_of_topdir(config: &Configuration) -> std::path::PathBuf {
    let store = DataStore::from_snapshot(config.snapshot.clone());
    Path::new(&store.get_text("TOPDIR").unwrap_or_else(|| ".".into())).to_path_buf()
}

/// bb.event's handler table is global to the interpreter: firing a recipe event
/// registers the recipe's handlers, fires, and restores the table, which two threads
/// must not interleave (Python switches threads inside that code).
static EVENT_TABLE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn fire(
    bridge: &PythonBridge,
    d: &mut DataStore,
    event: &str,
    file: &str,
    variant: &str,
) -> Result<(), EvalError> {
    let _table = EVENT_TABLE.lock().unwrap_or_else(|e| e.into_inner());
    bridge.fire_recipe_event(d, event, file, variant)
}

/// Parses every recipe file of `collection` ([`parse_recipe`] without variable history,
/// as BitBake's parse), on `jobs` threads sharing the one interpreter (the stores stay
/// in this process), in the collection's order.
pub fn parse_all(
    config: &Configuration,
    collection: &Collection,
    python: Option<&Arc<PythonBridge>>,
    jobs: usize,
) -> Vec<ParsedRecipe> {
    if let Some(bridge) = python {
        bridge.freeze_objects();
    }
    parse_on_threads(collection.recipes.len(), jobs, &|i| {
        parse_listed(config, collection, python, i)
    })
}

/// The `i`-th file of the collection, parsed as BitBake's parse does: no variable
/// history, every variant.
fn parse_listed(
    config: &Configuration,
    collection: &Collection,
    python: Option<&Arc<PythonBridge>>,
    i: usize,
) -> ParsedRecipe {
    parse_recipe_tracked(
        config,
        collection,
        &collection.recipes[i],
        &RecipeOptions::default(),
        python,
        false,
    )
}

/// [`parse_all`], handing each parsed file to `keep` and returning what it keeps, in
/// the collection's order: a caller that needs a few facts per recipe keeps them and
/// lets the stores go, so memory stays that of `jobs` recipes (all of Poky's stores
/// together take gigabytes).
///
/// With Python and more than one job, the files are parsed by `jobs` processes as
/// BitBake's parser processes do (`parser_processes`: one interpreter per core, so the
/// metadata's Python runs on every core), and what `keep` returns travels back
/// serialised; where forking is not possible (the process already has other threads)
/// `jobs` threads share the one interpreter instead.
pub fn parse_all_map<T: Send + serde::Serialize + serde::de::DeserializeOwned>(
    config: &Configuration,
    collection: &Collection,
    python: Option<&Arc<PythonBridge>>,
    jobs: usize,
    keep: impl Fn(ParsedRecipe) -> T + Sync,
) -> Vec<T> {
    if let Some(bridge) = python {
        bridge.freeze_objects();
    }
    let parse = |i: usize| keep(parse_listed(config, collection, python, i));
    if let Some(bridge) = python.filter(|_| jobs > 1) {
        if let Some(results) =
            super::parser_processes::run(bridge, collection.recipes.len(), jobs, &parse)
        {
            return results;
        }
    }
    parse_on_threads(collection.recipes.len(), jobs, &parse)
}

/// `work(i)` for every `i` in `0..count` on `jobs` threads, in index order.
fn parse_on_threads<T: Send>(
    count: usize,
    jobs: usize,
    work: &(impl Fn(usize) -> T + Sync),
) -> Vec<T> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<T>>> =
        (0..count).map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let kept = work(i);
                *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(kept);
            });
        }
    });
    results
        .into_iter()
        .filter_map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect()
}

/// `bb.parse.ast.finalize(fn, d, variant)`; returns the skip reason if skipped.
fn finalize(
    interp: &mut Interpreter<'_>,
    d: &mut DataStore,
    file: &str,
    variant: &str,
    config: &Configuration,
    python: Option<&Arc<PythonBridge>>,
    errors: &mut Vec<String>,
) -> Option<String> {
    interp.run_deferred_inherits(d);
    fn skip(err: EvalError, what: &str, errors: &mut Vec<String>) -> Option<String> {
        match err {
            EvalError::SkipRecipe(reason) => Some(reason),
            other => {
                errors.push(format!("{what}: {other}"));
                None
            }
        }
    }
    if let Some(bridge) = python {
        if let Err(e) = fire(bridge, d, "RecipePreFinalise", file, variant) {
            if let Some(r) = skip(e, "RecipePreFinalise handler", errors) {
                return Some(r);
            }
        }
    }
    if let Err(e) = d.expand_keys(&bitbake_site("ast.py:412 [finalize]")) {
        errors.push(format!("expandKeys: {e}"));
    }
    if let Some(bridge) = python {
        if let Err(e) = fire(bridge, d, "RecipePostKeyExpansion", file, variant) {
            if let Some(r) = skip(e, "RecipePostKeyExpansion handler", errors) {
                return Some(r);
            }
        }
        if let Err(e) = bridge.run_anonymous(d) {
            if let Some(r) = skip(e, "anonymous function", errors) {
                return Some(r);
            }
        }
        if let Err(e) = fire(bridge, d, "RecipeTaskPreProcess", file, variant) {
            if let Some(r) = skip(e, "RecipeTaskPreProcess handler", errors) {
                return Some(r);
            }
        }
        if let Err(e) = bridge.add_tasks(d) {
            if let Some(r) = skip(e, "add_tasks", errors) {
                return Some(r);
            }
        }
    }
    // BBINCLUDED: bb.parse.get_file_depends (__base_depends, then __depends). Python
    // code adds to __depends too (bb.parse.mark_dependency: a list of (file, mtime)
    // that the store keeps as its repr); those come after the interpreter's.
    let mut included = config.base_depends.clone();
    let mut depends: Vec<String> = interp.depends().to_vec();
    if let Ok(Some(extra)) = d.get_var("__depends", false) {
        for m in python_depends(&extra) {
            if !depends.contains(&m) {
                depends.push(m);
            }
        }
    }
    for dep in &depends {
        let abs = std::path::absolute(dep)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or(dep.clone());
        included.push(abs);
    }
    d.set_var(
        "BBINCLUDED",
        &included.join(" "),
        &bitbake_site("ast.py:424 [finalize]"),
    );
    if let Some(bridge) = python {
        if let Err(e) = fire(bridge, d, "RecipeParsed", file, variant) {
            if let Some(r) = skip(e, "RecipeParsed handler", errors) {
                return Some(r);
            }
        }
    }
    None
}

/// The file names in the repr of a Python list of `(file, mtime)` tuples.
fn python_depends(repr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = repr;
    while let Some(i) = rest.find("('") {
        rest = &rest[i + 2..];
        let Some(end) = rest.find("', ") else { break };
        out.push(rest[..end].to_string());
        rest = &rest[end..];
    }
    out
}

/// `bb.parse.vars_from_file`: (PN, PV, PR) from a recipe file's name split at `_`.
pub fn vars_from_file(file: &str) -> Option<(String, Option<String>, Option<String>)> {
    let base = file.rsplit('/').next().unwrap_or(file);
    let stem = base
        .strip_suffix(".bbappend")
        .or_else(|| base.strip_suffix(".bb"))?;
    let mut parts = stem.split('_');
    let pn = parts.next()?.to_string();
    let pv = parts.next().map(str::to_string);
    let pr = parts.next().map(str::to_string);
    if parts.next().is_some() {
        return None;
    }
    Some((pn, pv, pr))
}

/// `bb.utils.vercmp_part`-like comparison of two versions: runs of digits compare as
/// numbers, other runs as text, a missing run is lowest.
pub fn vercmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn runs(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if !bytes[i].is_ascii_alphanumeric() {
                i += 1;
                continue;
            }
            let digit = bytes[i].is_ascii_digit();
            let start = i;
            while i < bytes.len()
                && bytes[i].is_ascii_alphanumeric()
                && bytes[i].is_ascii_digit() == digit
            {
                i += 1;
            }
            out.push((digit, &s[start..i]));
        }
        out
    }
    let (ra, rb) = (runs(a), runs(b));
    for i in 0..ra.len().max(rb.len()) {
        let ord = match (ra.get(i), rb.get(i)) {
            (None, None) => std::cmp::Ordering::Equal,
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (Some((true, x)), Some((true, y))) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then(x.cmp(y))
            }
            (Some((true, _)), Some((false, _))) => std::cmp::Ordering::Greater,
            (Some((false, _)), Some((true, _))) => std::cmp::Ordering::Less,
            (Some((false, x)), Some((false, y))) => x.cmp(y),
        };
        if ord != std::cmp::Ordering::Equal {
            return ord;
        }
    }
    std::cmp::Ordering::Equal
}

/// The recipe files and variants that may build `target` (a PN, `<pn>-native`,
/// `nativesdk-<pn>`, `<multilib>-<pn>` for each `multilib:<name>` of MULTILIBS), best first, as `bb.providers.findBestProvider` ranks the versions
/// of one PN: those matching `PREFERRED_VERSION` (`:pn-<pn>`, `_<pn>`, then plain; a
/// trailing `%` matches a prefix) in layer-priority order, then by layer priority and
/// version, highest first. PNs are taken from file names (`vars_from_file`), so a
/// recipe that sets PN itself, or a target named only in PROVIDES, is not found; a
/// variant candidate is only a guess until the file is parsed (its BBCLASSEXTEND may
/// not have the class): take the first that has it.
pub fn rank_recipes(
    config: &DataStore,
    collection: &Collection,
    target: &str,
) -> Vec<(String, String)> {
    // multilib.conf's `BBCLASSEXTEND:append = " ${MULTILIBS}"`: `multilib:lib32` makes
    // `lib32-<pn>`.
    let multilibs: Vec<String> = config
        .get_text("MULTILIBS")
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("multilib:"))
        .map(str::to_string)
        .collect();
    let mut candidates: Vec<(i64, String, String, String)> = Vec::new();
    for f in &collection.recipes {
        let Some((pn, pv, _)) = vars_from_file(f) else {
            continue;
        };
        let multilib = multilibs.iter().find(|ml| {
            target
                .strip_prefix(ml.as_str())
                .and_then(|rest| rest.strip_prefix('-'))
                == Some(pn.as_str())
        });
        let variant = if pn == target {
            String::new()
        } else if target.strip_suffix("-native") == Some(pn.as_str()) {
            "native".into()
        } else if target.strip_prefix("nativesdk-") == Some(pn.as_str()) {
            "nativesdk".into()
        } else if let Some(ml) = multilib {
            format!("multilib:{ml}")
        } else {
            continue;
        };
        let prio = collection.priority(f).0;
        candidates.push((prio, pv.unwrap_or_else(|| "1.0".into()), f.clone(), variant));
    }
    // Highest priority first, then highest version (findLatestProvider); stable.
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| vercmp(&b.1, &a.1)));
    let preferred = config
        .get_text(&format!("PREFERRED_VERSION:pn-{target}"))
        .filter(|v| !v.is_empty())
        .or_else(|| {
            config
                .get_text(&format!("PREFERRED_VERSION_{target}"))
                .filter(|v| !v.is_empty())
        })
        .or_else(|| {
            config
                .get_text("PREFERRED_VERSION")
                .filter(|v| !v.is_empty())
        });
    if let Some(pref) = preferred {
        // (\d+:)*(.*)(_.*)*: the epoch and revision are not compared here.
        let pref = pref.rsplit(':').next().unwrap_or(&pref).to_string();
        let matches = |pv: &str| match pref.strip_suffix('%') {
            Some(prefix) => pv.starts_with(prefix),
            None => pv == pref,
        };
        // Stable: the matching ones first, each group still in priority order.
        candidates.sort_by_key(|c| !matches(&c.1));
    }
    candidates.into_iter().map(|c| (c.2, c.3)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn vars_from_file_splits_the_name_at_underscores() {
        assert_eq!(
            vars_from_file("/l/zlib_1.3.1.bb"),
            Some(("zlib".into(), Some("1.3.1".into()), None))
        );
        assert_eq!(
            vars_from_file("/l/a_1_r2.bbappend"),
            Some(("a".into(), Some("1".into()), Some("r2".into())))
        );
        assert_eq!(
            vars_from_file("core-image-minimal.bb"),
            Some(("core-image-minimal".into(), None, None))
        );
        assert_eq!(vars_from_file("a_b_c_d.bb"), None);
        assert_eq!(vars_from_file("x.inc"), None);
    }

    #[test]
    fn versions_compare_by_numeric_and_text_runs() {
        assert_eq!(vercmp("1.10", "1.9"), Ordering::Greater);
        assert_eq!(vercmp("2.0", "2.0"), Ordering::Equal);
        assert_eq!(vercmp("1.2.3", "1.3"), Ordering::Less);
        assert_eq!(vercmp("1.0", "1.0.1"), Ordering::Less);
        assert_eq!(vercmp("007", "7"), Ordering::Equal);
    }

    #[test]
    fn python_depends_reads_a_list_of_file_mtime_tuples() {
        assert_eq!(
            python_depends("[('/a/b.json', 1700000000.5), ('/c', 0)]"),
            vec!["/a/b.json".to_string(), "/c".to_string()]
        );
        assert!(python_depends("[]").is_empty());
    }
}
