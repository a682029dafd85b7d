//! The graph's per-recipe facts computed by bitzel's own evaluator: `bb.cache`'s
//! `CoreRecipeInfo` read from a finalised recipe store, and the configuration variables
//! the cooker hands to providers and taskdata.
//!
//! `CoreRecipeInfo.__init__` (bb/cache.py) reads, with `getVar(name) or ''`:
//! PROVIDES, RPROVIDES, DEPENDS, RDEPENDS, RRECOMMENDS through `bb.utils.explode_deps`
//! (version constraints in parentheses dropped), PACKAGES (`[PN]` when empty),
//! PACKAGES_DYNAMIC, `RPROVIDES:<pkg>`, `RDEPENDS:<pkg>`, `RRECOMMENDS:<pkg>` per package,
//! PE, PV, PR, DEFAULT_PREFERENCE as an integer, and `__SKIPPED` (a skipped variant keeps
//! only its names, packages and reason). Its `task_deps` is the `_task_deps` dict that
//! `bb.build.add_tasks` built while finalising; the store keeps that dict only as its
//! `str()`, so [`RecipeInfo::from_variant`] rebuilds it from what `add_tasks` read: the
//! tasks of `__BBTASKS` (expanded, in order), each task's `[deps]` (expanded) as its
//! parents, and each of the flags `add_tasks` copies (`mcdepends`, `depends`, `rdepends`,
//! `deptask`, `rdeptask`, `recrdeptask`, `recideptask`, `nostamp`, `fakeroot`, `noexec`,
//! `umask`) expanded when the task has it. Nothing after `add_tasks` in
//! `bb.parse.ast.finalize` changes task flags (only the RecipeParsed handlers run, and
//! Poky's skip recipes there), so the two are equal.

use std::collections::BTreeMap;

use super::recipe::{GraphConfig, RecipeInfo};
use crate::eval::collection::Collection;
use crate::eval::datastore::DataStore;
use crate::eval::recipe::{vars_from_file, ParsedRecipe, Variant};
use crate::eval::task_deps::COPIED_FLAGS as TASK_DEP_FLAGS;

/// `bb.utils.explode_deps`: the names of an RDEPENDS-style list, version constraints
/// (`(>= 1.0)`, possibly split over several words) dropped.
pub fn explode_deps(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_version = false;
    for word in value.split_whitespace() {
        if word.starts_with('(') {
            in_version = true;
        }
        if !in_version {
            out.push(word.to_string());
        }
        if in_version && word.ends_with(')') {
            in_version = false;
        }
    }
    out
}

/// `bb.cache.variant2virtual`: the virtual file name (BitBake's `fn`) of a variant of
/// `file`: the file itself, `virtual:<variant>:<file>`, or with a multiconfig
/// `mc:<mc>:[virtual:<variant>:]<file>`.
pub fn variant2virtual(file: &str, variant: &str) -> String {
    if variant.is_empty() {
        return file.to_string();
    }
    if variant.starts_with("mc:") && variant.matches(':').count() >= 2 {
        let elems: Vec<&str> = variant.split(':').collect();
        if !elems[2].is_empty() {
            return format!("mc:{}:virtual:{}:{file}", elems[1], elems[2..].join(":"));
        }
        return format!("mc:{}:{file}", elems[1]);
    }
    format!("virtual:{variant}:{file}")
}

/// `RecipeInfoCommon.getvar`: `getVar(name) or ''` (a value that fails to expand reads
/// as empty; the evaluator reported the failure while finalising).
fn getvar(store: &DataStore, name: &str) -> String {
    store.get_text(name).unwrap_or_default()
}

/// `RecipeInfoCommon.pkgvar`: `explode_deps(getVar("<var>:<pkg>"))` for every package.
fn pkgvar(store: &DataStore, var: &str, packages: &[String]) -> BTreeMap<String, Vec<String>> {
    packages
        .iter()
        .map(|p| {
            (
                p.clone(),
                explode_deps(&getvar(store, &format!("{var}:{p}"))),
            )
        })
        .collect()
}

/// `bb.build.add_tasks`' `_task_deps`: (tasks, parents, flags) from the task flags.
type TaskDeps = (
    Vec<String>,
    BTreeMap<String, Vec<String>>,
    BTreeMap<String, BTreeMap<String, String>>,
);

/// Rebuilds `bb.build.add_tasks(__BBTASKS, d)`'s `_task_deps` from the store: what it
/// read is still there after finalising (see the module doc).
fn task_deps(store: &DataStore) -> TaskDeps {
    let expand = |text: &str| {
        store
            .expand(text, None)
            .unwrap_or_else(|_| text.to_string())
    };
    let tasklist = store
        .get_var("__BBTASKS", false)
        .ok()
        .flatten()
        .map(|v| v.to_string())
        .unwrap_or_default();
    let mut tasks: Vec<String> = Vec::new();
    let mut parents: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut flags: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for task in tasklist.split_whitespace() {
        let task = expand(task);
        if !tasks.contains(&task) {
            tasks.push(task.clone());
        }
        let own = store.get_var_flags(&task);
        let flag = |name: &str| own.iter().find(|(k, _)| &**k == name).map(|(_, v)| v);
        for name in TASK_DEP_FLAGS {
            let entry = flags.entry(name.to_string()).or_default();
            if let Some(value) = flag(name) {
                entry.insert(task.clone(), expand(value));
            }
        }
        // The `[deps]` list (addtask's after/before), kept as words by the store.
        let deps = flag("deps")
            .map(|v| v.split_whitespace().map(expand).collect())
            .unwrap_or_default();
        parents.insert(task, deps);
    }
    (tasks, parents, flags)
}

impl RecipeInfo {
    /// `CoreRecipeInfo(filename, metadata)` for one finalised variant of recipe file
    /// `file` (the real file), whose layer priority is `priority`
    /// (`calc_bbfile_priority`). `fn` is the variant's virtual file name.
    pub fn from_variant(file: &str, variant: &Variant, priority: i64) -> RecipeInfo {
        let d = &variant.store;
        let pn = Some(getvar(d, "PN"))
            .filter(|p| !p.is_empty())
            .or_else(|| vars_from_file(file).map(|v| v.0))
            .unwrap_or_default();
        let mut packages: Vec<String> = getvar(d, "PACKAGES")
            .split_whitespace()
            .map(str::to_string)
            .collect();
        if packages.is_empty() {
            packages.push(pn.clone());
        }
        let skipreason = variant
            .skipped
            .clone()
            .or_else(|| Some(getvar(d, "__SKIPPED")).filter(|s| !s.is_empty()));
        let mut info = RecipeInfo {
            file: variant2virtual(file, &variant.name),
            provides: explode_deps(&getvar(d, "PROVIDES")),
            rprovides: explode_deps(&getvar(d, "RPROVIDES")),
            packages_dynamic: getvar(d, "PACKAGES_DYNAMIC")
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            rprovides_pkg: pkgvar(d, "RPROVIDES", &packages),
            priority,
            pn,
            packages,
            skipreason,
            ..Default::default()
        };
        if info.skipreason.is_some() {
            return info;
        }
        let (tasks, parents, task_flags) = task_deps(d);
        info.tasks = tasks;
        info.parents = parents;
        info.task_flags = task_flags;
        info.pe = getvar(d, "PE");
        info.pv = getvar(d, "PV");
        info.pr = getvar(d, "PR");
        info.default_preference = getvar(d, "DEFAULT_PREFERENCE").trim().parse().unwrap_or(0);
        info.depends = explode_deps(&getvar(d, "DEPENDS"));
        info.rdepends = explode_deps(&getvar(d, "RDEPENDS"));
        info.rrecommends = explode_deps(&getvar(d, "RRECOMMENDS"));
        info.rdepends_pkg = pkgvar(d, "RDEPENDS", &info.packages);
        info.rrecommends_pkg = pkgvar(d, "RRECOMMENDS", &info.packages);
        info
    }
}

/// The facts of every variant of every parsed recipe file (skipped ones included, as
/// BitBake's cache holds them), each with its file's layer priority.
pub fn recipe_infos(parsed: &[ParsedRecipe], collection: &Collection) -> Vec<RecipeInfo> {
    parsed
        .iter()
        .flat_map(|p| {
            let priority = collection.priority(&p.file).0;
            p.variants
                .iter()
                .map(move |v| RecipeInfo::from_variant(&p.file, v, priority))
        })
        .collect()
}

/// Whether the graph reads global variable `name`: what providers.py, taskdata.py and
/// the cooker read (ASSUME_PROVIDED, PREFERRED_PROVIDERS, PREFERRED_(R)PROVIDER_*,
/// PREFERRED_VERSION*, REQUIRED_VERSION*, BB_DEFAULT_TASK) and the layer settings.
fn graph_reads(name: &str) -> bool {
    matches!(
        name,
        "ASSUME_PROVIDED" | "PREFERRED_PROVIDERS" | "BB_DEFAULT_TASK" | "BBFILE_COLLECTIONS"
    ) || name.starts_with("PREFERRED_VERSION")
        || name.starts_with("REQUIRED_VERSION")
        || [
            "PREFERRED_PROVIDER_",
            "PREFERRED_RPROVIDER_",
            "BBFILE_PATTERN_",
            "BBFILE_PRIORITY_",
        ]
        .iter()
        .any(|p| name.len() > p.len() && name.starts_with(p))
}

impl GraphConfig {
    /// The variables the graph reads from the cooker's configuration `store` (one that
    /// evaluates inline Python, e.g. `Configuration::recipe_store`), as `buildTaskData`
    /// reads them: from a copy with `expandKeys` applied (so that
    /// `PREFERRED_PROVIDER_virtual/${TARGET_PREFIX}gcc` is found under its expanded
    /// name), each value expanded as `getVar` does.
    pub fn from_store(store: &DataStore) -> GraphConfig {
        let mut d = store.copy();
        let _ = d.expand_keys(&crate::eval::Location::new("cooker.py [buildTaskData]", 0));
        let mut vars = BTreeMap::new();
        for name in d.keys().unwrap_or_default() {
            if graph_reads(&name) {
                if let Ok(Some(value)) = d.get_var(&name, true) {
                    vars.insert(name.to_string(), value.to_string());
                }
            }
        }
        GraphConfig { vars }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explode_deps_drops_version_constraints() {
        assert_eq!(
            explode_deps("a (>= 1.0) b (= 2) c(x) d ( < 3 ) e"),
            ["a", "b", "c(x)", "d", "e"]
        );
        assert!(explode_deps("  ").is_empty());
    }

    #[test]
    fn variant_file_names_follow_bitbake() {
        assert_eq!(variant2virtual("/l/a.bb", ""), "/l/a.bb");
        assert_eq!(
            variant2virtual("/l/a.bb", "native"),
            "virtual:native:/l/a.bb"
        );
        assert_eq!(
            variant2virtual("/l/a.bb", "multilib:lib32"),
            "virtual:multilib:lib32:/l/a.bb"
        );
        assert_eq!(variant2virtual("/l/a.bb", "mc:x:"), "mc:x:/l/a.bb");
        assert_eq!(
            variant2virtual("/l/a.bb", "mc:x:native"),
            "mc:x:virtual:native:/l/a.bb"
        );
    }

    #[test]
    fn config_keeps_only_what_the_graph_reads() {
        for name in [
            "ASSUME_PROVIDED",
            "PREFERRED_VERSION",
            "PREFERRED_VERSION:pn-a",
            "PREFERRED_VERSION_a",
            "PREFERRED_PROVIDER_virtual/kernel",
            "PREFERRED_RPROVIDER_x",
            "BBFILE_PRIORITY_core",
        ] {
            assert!(graph_reads(name), "{name}");
        }
        for name in ["PREFERRED_PROVIDER_", "PN", "BBFILES", "DEPENDS"] {
            assert!(!graph_reads(name), "{name}");
        }
    }
}
