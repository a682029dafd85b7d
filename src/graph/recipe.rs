//! Per-recipe facts as plain data, and the indexes BitBake builds over them.
//!
//! [`RecipeInfo`] mirrors the fields of BitBake's `CoreRecipeInfo` (bb/cache.py) that the
//! graph reads; [`RecipeCache`] mirrors `CacheData` as `CoreRecipeInfo.add_cacheData`
//! fills it (providers, runtime providers, packages, per-package runtime dependencies).

use std::collections::{BTreeMap, HashMap};

use indexmap::{IndexMap, IndexSet};
use regex::Regex;
use serde::{Deserialize, Serialize};

/// One parsed recipe variant (one BitBake "fn": `/path/x.bb` or `virtual:native:/path/x.bb`),
/// with the fields of `CoreRecipeInfo` (bb/cache.py) that providers and tasks depend on.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct RecipeInfo {
    /// The virtual file name, BitBake's `fn` (`virtual:native:` prefix for a variant).
    #[serde(rename = "fn")]
    pub file: String,
    /// `PN`.
    pub pn: String,
    /// `PE` ("" when unset).
    pub pe: String,
    /// `PV`.
    pub pv: String,
    /// `PR`.
    pub pr: String,
    /// `DEFAULT_PREFERENCE` as an integer (`CoreRecipeInfo.defaultpref`).
    pub default_preference: i64,
    /// The layer priority of the real file (BBFILE_PRIORITY of the first matching
    /// BBFILE_PATTERN, longest pattern first: `CookerCollectFiles.calc_bbfile_priority`).
    pub priority: i64,
    /// `PROVIDES`, exploded (`bb.utils.explode_deps`).
    pub provides: Vec<String>,
    /// `RPROVIDES` of the recipe.
    pub rprovides: Vec<String>,
    /// `DEPENDS`.
    pub depends: Vec<String>,
    /// `RDEPENDS` of the recipe (applies to every package).
    pub rdepends: Vec<String>,
    /// `RRECOMMENDS` of the recipe (applies to every package).
    pub rrecommends: Vec<String>,
    /// `PACKAGES` (`[PN]` when empty, as `CoreRecipeInfo` makes it).
    pub packages: Vec<String>,
    /// `PACKAGES_DYNAMIC`: regular expressions of runtime names the recipe may provide.
    pub packages_dynamic: Vec<String>,
    /// `RPROVIDES:<pkg>` per package.
    pub rprovides_pkg: BTreeMap<String, Vec<String>>,
    /// `RDEPENDS:<pkg>` per package.
    pub rdepends_pkg: BTreeMap<String, Vec<String>>,
    /// `RRECOMMENDS:<pkg>` per package.
    pub rrecommends_pkg: BTreeMap<String, Vec<String>>,
    /// `_task_deps['tasks']`: the recipe's tasks after addtask/deltask, in BitBake's order.
    pub tasks: Vec<String>,
    /// `_task_deps['parents']`: each task's `after` tasks (and tasks that named it `before`).
    pub parents: BTreeMap<String, Vec<String>>,
    /// `_task_deps[flag][task]` for the other flags: depends, rdepends, deptask, rdeptask,
    /// recrdeptask, recideptask, noexec, nostamp, ...
    pub task_flags: BTreeMap<String, BTreeMap<String, String>>,
    /// `__SKIPPED`: why the recipe was skipped (None if it was not).
    pub skipreason: Option<String>,
}

impl RecipeInfo {
    /// `_task_deps[flag][task]`, the way taskdata and runqueue read task flags.
    pub fn task_flag(&self, flag: &str, task: &str) -> Option<&str> {
        self.task_flags.get(flag)?.get(task).map(String::as_str)
    }

    /// Whether `task` has a true `[noexec]` flag (kept as a property; it adds no edge).
    pub fn is_noexec(&self, task: &str) -> bool {
        self.task_flag("noexec", task)
            .is_some_and(|v| !v.is_empty() && v != "0")
    }

    /// Whether `task` has a true `[nostamp]` flag (kept as a property; it adds no edge).
    pub fn is_nostamp(&self, task: &str) -> bool {
        self.task_flag("nostamp", task)
            .is_some_and(|v| !v.is_empty() && v != "0")
    }

    /// `PE:PV-PR`, the version string of `bitbake -g`'s labels (`pkg_pepvpr`).
    pub fn pepvpr(&self) -> String {
        format!("{}:{}-{}", self.pe, self.pv, self.pr)
    }
}

/// The configuration variables the graph reads, by name (values as `getVar` expands them).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(transparent)]
pub struct GraphConfig {
    /// Variable name to expanded value.
    pub vars: BTreeMap<String, String>,
}

impl GraphConfig {
    /// `getVar(name)`: None when unset or empty (BitBake's callers test truthiness).
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The default task, `BB_DEFAULT_TASK` or `build` (what `bitbake` sets `cmd` to).
    pub fn default_task(&self) -> String {
        let task = self.var("BB_DEFAULT_TASK").unwrap_or("build");
        if task.starts_with("do_") {
            task.to_string()
        } else {
            format!("do_{task}")
        }
    }
}

/// What `tests/oracle/bb_recipeinfo.py` writes: every parsed recipe variant and the
/// configuration variables the graph reads.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct RecipeInfoDump {
    /// The BitBake version that parsed the recipes.
    pub bitbake: String,
    /// The global configuration variables the graph reads.
    pub config: GraphConfig,
    /// Every recipe variant, skipped ones included.
    pub recipes: Vec<RecipeInfo>,
}

impl RecipeInfoDump {
    /// Reads the JSON that `bb_recipeinfo.py` writes.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// Index of a buildable (not skipped) recipe variant in a [`RecipeCache`].
pub type FnId = usize;

/// Index of an interned task name in a [`RecipeCache`].
pub type TaskName = u32;

/// A task of a recipe variant: BitBake's tid, `fn:do_task`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tid {
    /// The recipe variant.
    pub recipe: FnId,
    /// The task name.
    pub task: TaskName,
}

/// A name list that may hold regular expressions (`^...` or `...$`), matched the way
/// `bb.taskdata.re_match_strings` matches ASSUME_PROVIDED entries.
#[derive(Debug, Default)]
pub struct NameSet {
    exact: IndexSet<String>,
    patterns: Vec<PyMatch>,
}

impl NameSet {
    fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut set = NameSet::default();
        for name in names {
            if name.starts_with('^') || name.ends_with('$') {
                if let Some(re) = PyMatch::new(name) {
                    set.patterns.push(re);
                }
            } else {
                set.exact.insert(name.to_string());
            }
        }
        set
    }

    /// Whether `target` is one of the names or matches one of the patterns.
    pub fn matches(&self, target: &str) -> bool {
        self.exact.contains(target) || self.patterns.iter().any(|re| re.matches(target))
    }
}

/// The recipe indexes of BitBake's `CacheData`, as `CoreRecipeInfo.add_cacheData` fills
/// them, plus the configuration that `BBCooker` attaches (`ignored_dependencies` from
/// ASSUME_PROVIDED, `preferred` from PREFERRED_PROVIDERS) and the skip list.
#[derive(Debug)]
pub struct RecipeCache<'a> {
    /// Buildable recipe variants, sorted by fn; a [`FnId`] indexes this.
    pub recipes: Vec<&'a RecipeInfo>,
    /// Skipped recipe variants (`skiplist`), for the reasons of missing providers.
    pub skipped: Vec<&'a RecipeInfo>,
    /// The configuration variables.
    pub config: &'a GraphConfig,
    /// `pkg_pn`: PN to its recipe variants.
    pub pkg_pn: IndexMap<String, Vec<FnId>>,
    /// `providers`: each PROVIDES name (PN included) to its recipe variants.
    pub providers: IndexMap<String, Vec<FnId>>,
    /// `rproviders`: each RPROVIDES name to its recipe variants.
    pub rproviders: IndexMap<String, Vec<FnId>>,
    /// `packages`: each package name to its recipe variants.
    pub packages: IndexMap<String, Vec<FnId>>,
    /// `packages_dynamic`: each PACKAGES_DYNAMIC pattern to its recipe variants.
    pub packages_dynamic: IndexMap<String, Vec<FnId>>,
    /// The compiled PACKAGES_DYNAMIC patterns, in `packages_dynamic`'s order
    /// (`bb.providers.regexp_cache`).
    dynamic_patterns: Vec<Option<PyMatch>>,
    /// `pn_provides`: PN to everything its variants provide.
    pub pn_provides: IndexMap<String, Vec<String>>,
    /// `deps`: each variant's DEPENDS, duplicates dropped.
    pub deps: Vec<Vec<String>>,
    /// `rundeps`: per variant, package to RDEPENDS + RDEPENDS:<pkg>.
    pub rundeps: Vec<IndexMap<String, Vec<String>>>,
    /// `runrecs`: per variant, package to RRECOMMENDS + RRECOMMENDS:<pkg>.
    pub runrecs: Vec<IndexMap<String, Vec<String>>>,
    /// `ignored_dependencies`: ASSUME_PROVIDED.
    pub ignored: NameSet,
    /// `preferred`: PREFERRED_PROVIDERS entries (`providee:provider`).
    pub preferred: HashMap<String, String>,
    /// Interned task names; a [`TaskName`] indexes this.
    pub task_names: IndexSet<String>,
}

impl<'a> RecipeCache<'a> {
    /// Builds the indexes from recipe variants, in BitBake's order: variants sorted by fn
    /// (`_filterProviders` sorts providers by fn before anything depends on order).
    pub fn new(recipes: &'a [RecipeInfo], config: &'a GraphConfig) -> Self {
        let mut buildable: Vec<&RecipeInfo> =
            recipes.iter().filter(|r| r.skipreason.is_none()).collect();
        buildable.sort_by(|a, b| a.file.cmp(&b.file));
        let skipped = recipes.iter().filter(|r| r.skipreason.is_some()).collect();
        let ignored = NameSet::new(
            config
                .var("ASSUME_PROVIDED")
                .unwrap_or("")
                .split_whitespace(),
        );
        let mut preferred = HashMap::new();
        for entry in config
            .var("PREFERRED_PROVIDERS")
            .unwrap_or("")
            .split_whitespace()
        {
            if let Some((providee, provider)) = entry.split_once(':') {
                preferred.insert(providee.to_string(), provider.to_string());
            }
        }
        let mut cache = RecipeCache {
            recipes: Vec::new(),
            skipped,
            config,
            pkg_pn: IndexMap::new(),
            providers: IndexMap::new(),
            rproviders: IndexMap::new(),
            packages: IndexMap::new(),
            packages_dynamic: IndexMap::new(),
            dynamic_patterns: Vec::new(),
            pn_provides: IndexMap::new(),
            deps: Vec::new(),
            rundeps: Vec::new(),
            runrecs: Vec::new(),
            ignored,
            preferred,
            task_names: IndexSet::new(),
        };
        for recipe in buildable {
            cache.add(recipe);
        }
        cache.dynamic_patterns = cache
            .packages_dynamic
            .keys()
            .map(|p| PyMatch::new(&p.replace('+', r"\+")))
            .collect();
        cache
    }

    /// `CoreRecipeInfo.add_cacheData` for one variant.
    fn add(&mut self, r: &'a RecipeInfo) {
        let id = self.recipes.len();
        self.recipes.push(r);
        self.pkg_pn.entry(r.pn.clone()).or_default().push(id);
        let mut provides = vec![r.pn.clone()];
        for p in &r.provides {
            if !provides.contains(p) {
                provides.push(p.clone());
            }
        }
        for p in provides {
            self.providers.entry(p.clone()).or_default().push(id);
            let pn_provides = self.pn_provides.entry(r.pn.clone()).or_default();
            if !pn_provides.contains(&p) {
                pn_provides.push(p);
            }
        }
        let mut deps: Vec<String> = Vec::new();
        for d in &r.depends {
            if !deps.contains(d) {
                deps.push(d.clone());
            }
        }
        self.deps.push(deps);
        let mut rprovides = r.rprovides.clone();
        for package in &r.packages {
            self.packages.entry(package.clone()).or_default().push(id);
            rprovides.extend(r.rprovides_pkg.get(package).into_iter().flatten().cloned());
        }
        for rp in rprovides {
            let fns = self.rproviders.entry(rp).or_default();
            if !fns.contains(&id) {
                fns.push(id);
            }
        }
        for pattern in &r.packages_dynamic {
            self.packages_dynamic
                .entry(pattern.clone())
                .or_default()
                .push(id);
        }
        let mut rundeps = IndexMap::new();
        let mut runrecs = IndexMap::new();
        for package in &r.packages {
            let mut d = r.rdepends.clone();
            d.extend(r.rdepends_pkg.get(package).into_iter().flatten().cloned());
            rundeps.insert(package.clone(), d);
            let mut c = r.rrecommends.clone();
            c.extend(
                r.rrecommends_pkg
                    .get(package)
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
            runrecs.insert(package.clone(), c);
        }
        self.rundeps.push(rundeps);
        self.runrecs.push(runrecs);
        // Intern every task name the recipe names: its tasks, and the task parts of the
        // flags that name tasks of other recipes.
        for t in &r.tasks {
            self.task_names.insert(t.clone());
        }
        for (flag, per_task) in &r.task_flags {
            for value in per_task.values() {
                match flag.as_str() {
                    "depends" | "rdepends" => {
                        for dep in value.split_whitespace() {
                            if let Some((_, task)) = dep.split_once(':') {
                                self.task_names.insert(task.to_string());
                            }
                        }
                    }
                    "deptask" | "rdeptask" | "recrdeptask" | "recideptask" => {
                        for task in value.split_whitespace() {
                            self.task_names.insert(task.to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// The interned id of a task name (every name a recipe mentions is interned).
    pub fn task_id(&self, name: &str) -> Option<TaskName> {
        self.task_names.get_index_of(name).map(|i| i as TaskName)
    }

    /// The name of an interned task.
    pub fn task_name(&self, id: TaskName) -> &str {
        &self.task_names[id as usize]
    }

    /// PN of a recipe variant (`pkg_fn`).
    pub fn pn(&self, id: FnId) -> &str {
        &self.recipes[id].pn
    }

    /// fn of a recipe variant.
    pub fn file(&self, id: FnId) -> &str {
        &self.recipes[id].file
    }

    /// `bb.providers.getRuntimeProviders`: RPROVIDES and PACKAGES first, else the
    /// PACKAGES_DYNAMIC patterns that match (Python's `re.match`: anchored at the start).
    pub fn runtime_providers(&self, rdepend: &str) -> Vec<FnId> {
        let mut out = Vec::new();
        if let Some(fns) = self.rproviders.get(rdepend) {
            out.extend(fns);
        }
        if let Some(fns) = self.packages.get(rdepend) {
            out.extend(fns);
        }
        if !out.is_empty() {
            return out;
        }
        for (fns, re) in self.packages_dynamic.values().zip(&self.dynamic_patterns) {
            if re.as_ref().is_some_and(|m| m.matches(rdepend)) {
                out.extend(fns);
            }
        }
        out
    }
}

/// A Python regular expression applied with `re.match` (anchored at the start). Rust's
/// regex crate has no look-around; the one form Poky uses (`...(?<!native)$`, perl's
/// PACKAGES_DYNAMIC) becomes a match plus a "does not end with" test.
#[derive(Debug)]
pub struct PyMatch {
    re: Regex,
    not_ending: Option<String>,
}

impl PyMatch {
    /// Compiles `pattern`; None if neither the regex crate nor the look-behind rewrite
    /// takes it.
    pub fn new(pattern: &str) -> Option<Self> {
        if let Ok(re) = Regex::new(&format!("^(?:{pattern})")) {
            return Some(PyMatch {
                re,
                not_ending: None,
            });
        }
        let body = pattern.strip_suffix('$')?;
        let start = body.rfind("(?<!")?;
        let literal = body[start + 4..].strip_suffix(')')?;
        if literal
            .chars()
            .any(|c| !c.is_alphanumeric() && c != '-' && c != '_')
        {
            return None;
        }
        let re = Regex::new(&format!("^(?:{}$)", &body[..start])).ok()?;
        Some(PyMatch {
            re,
            not_ending: Some(literal.to_string()),
        })
    }

    /// `re.match(pattern, text)` is truthy.
    pub fn matches(&self, text: &str) -> bool {
        self.re.is_match(text)
            && self
                .not_ending
                .as_ref()
                .is_none_or(|e| !text.ends_with(e.as_str()))
    }
}
