//! Which recipe variants a set of targets pulls in, and each task's raw dependencies:
//! BitBake's `TaskData` (bb/taskdata.py) in the mode `bitbake -g` uses (`halt = False`,
//! `allowincomplete = True`: a missing provider is reported and the graph still written).

use std::collections::{HashMap, HashSet};

use indexmap::{IndexMap, IndexSet};

use super::providers::{filter_providers, filter_providers_runtime};
use super::recipe::{FnId, RecipeCache, TaskName, Tid};
use super::GraphError;

/// The dependencies of one task before the run queue resolves them: BitBake's `TaskEntry`.
#[derive(Debug, Clone, Default)]
pub struct TaskEntry {
    /// Tasks of the same recipe it comes after (`addtask ... after`, `before`).
    pub tdepends: Vec<Tid>,
    /// `[depends]`: (build-time name, task).
    pub idepends: Vec<(String, TaskName)>,
    /// `[rdepends]`: (runtime name, task).
    pub irdepends: Vec<(String, TaskName)>,
}

/// What BitBake reports while resolving providers (`bb.event.NoProvider`,
/// `bb.event.MultipleProviders`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderEvent {
    /// Nothing (R)PROVIDES a name.
    NoProvider {
        /// The name.
        item: String,
        /// A runtime name (RDEPENDS) rather than a build-time one.
        runtime: bool,
        /// The fns whose DEPENDS (or RDEPENDS/RRECOMMENDS) ask for it.
        dependees: Vec<String>,
        /// Why candidates were refused (skipped recipes, no eligible provider).
        reasons: Vec<String>,
        /// Near names (`difflib.get_close_matches`, cutoff 0.7) and runtime providers.
        close_matches: Vec<String>,
    },
    /// Several providers and no preference.
    MultipleProviders {
        /// The name.
        item: String,
        /// PNs of the candidates.
        candidates: Vec<String>,
        /// A runtime name.
        runtime: bool,
    },
    /// A name can no longer be provided, and why: the chain from it to the missing name
    /// at the end (`remove_buildtarget`, `remove_runtarget`). BitBake prints the runtime
    /// ones as notes and logs the build-time ones at verbose level.
    Unbuildable {
        /// The name removed.
        target: String,
        /// A runtime name.
        runtime: bool,
        /// The name, then what it needed, down to the missing name.
        chain: Vec<String>,
    },
}

/// A Python `repr` of a list of strings, as BitBake prints dependency chains.
fn python_list(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| {
            if s.contains('\'') && !s.contains('"') {
                format!("\"{s}\"")
            } else {
                format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
            }
        })
        .collect();
    format!("[{}]", quoted.join(", "))
}

impl std::fmt::Display for ProviderEvent {
    /// `bb.event.NoProvider.__str__` (what knotty prints after `ERROR: `), the note
    /// knotty prints for `MultipleProviders`, and taskdata's unbuildable-target message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProviderEvent::NoProvider {
                item,
                runtime,
                dependees,
                reasons,
                close_matches,
            } => {
                let r = if *runtime { "R" } else { "" };
                let mut extra = String::new();
                if reasons.is_empty() && !close_matches.is_empty() {
                    let mut m: Vec<&String> = close_matches.iter().collect();
                    m.sort();
                    m.dedup();
                    let m: Vec<&str> = m.iter().map(|s| s.as_str()).collect();
                    extra = format!(". Close matches:\n  {}", m.join("\n  "));
                }
                if dependees.is_empty() {
                    write!(f, "Nothing {r}PROVIDES '{item}'{extra}")?;
                } else {
                    write!(
                        f,
                        "Nothing {r}PROVIDES '{item}' (but {} {r}DEPENDS on or otherwise requires it){extra}",
                        dependees.join(", ")
                    )?;
                }
                for reason in reasons {
                    write!(f, "\n{reason}")?;
                }
                Ok(())
            }
            ProviderEvent::MultipleProviders {
                item,
                candidates,
                runtime,
            } => {
                let (rt, r) = if *runtime {
                    ("runtime ", "R")
                } else {
                    ("", "")
                };
                write!(
                    f,
                    "Multiple providers are available for {rt}{item} ({})\nConsider defining a PREFERRED_{r}PROVIDER entry to match {item}",
                    candidates.join(", ")
                )
            }
            ProviderEvent::Unbuildable {
                target,
                runtime,
                chain,
            } => {
                let kind = if *runtime { "Runtime target" } else { "Target" };
                write!(
                    f,
                    "{kind} '{target}' is unbuildable, removing...\nMissing or unbuildable dependency chain was: {}",
                    python_list(chain)
                )
            }
        }
    }
}

/// BitBake's `TaskData` for one multiconfig.
#[derive(Debug)]
pub struct TaskData<'c, 'a> {
    cache: &'c RecipeCache<'a>,
    /// `build_targets`: build-time name to the variants chosen to provide it, best first.
    pub build_targets: IndexMap<String, Vec<FnId>>,
    /// `run_targets`: runtime name to the variants chosen to provide it, best first.
    pub run_targets: IndexMap<String, Vec<FnId>>,
    external_targets: Vec<String>,
    seen_fns: HashSet<FnId>,
    /// `taskentries`: every task of every variant pulled in, in the order BitBake adds them.
    pub taskentries: IndexMap<Tid, TaskEntry>,
    /// `depids`: each variant's DEPENDS.
    pub depids: IndexMap<FnId, Vec<String>>,
    /// `rdepids`: each variant's RDEPENDS and RRECOMMENDS over all its packages.
    pub rdepids: IndexMap<FnId, Vec<String>>,
    /// `failed_deps`.
    pub failed_deps: IndexSet<String>,
    failed_rdeps: IndexSet<String>,
    /// `failed_fns`: variants that cannot be built.
    pub failed_fns: IndexSet<FnId>,
    consider_msgs_cache: HashSet<String>,
    /// Everything reported while resolving, in order (duplicates as BitBake repeats them).
    pub events: Vec<ProviderEvent>,
}

impl<'c, 'a> TaskData<'c, 'a> {
    /// An empty `TaskData` over the recipes of `cache`.
    pub fn new(cache: &'c RecipeCache<'a>) -> Self {
        TaskData {
            cache,
            build_targets: IndexMap::new(),
            run_targets: IndexMap::new(),
            external_targets: Vec::new(),
            seen_fns: HashSet::new(),
            taskentries: IndexMap::new(),
            depids: IndexMap::new(),
            rdepids: IndexMap::new(),
            failed_deps: IndexSet::new(),
            failed_rdeps: IndexSet::new(),
            failed_fns: IndexSet::new(),
            consider_msgs_cache: HashSet::new(),
            events: Vec::new(),
        }
    }

    /// `TaskData.add_tasks`: the tasks of one variant with their same-recipe parents,
    /// `[depends]`/`[rdepends]` entries, and the names its DEPENDS/RDEPENDS ask for.
    fn add_tasks(&mut self, fid: FnId) -> Result<(), GraphError> {
        if self.seen_fns.contains(&fid) {
            return Ok(());
        }
        self.seen_fns.insert(fid);
        let cache = self.cache;
        let r = cache.recipes[fid];
        for task in &r.tasks {
            let tid = Tid {
                recipe: fid,
                task: cache.task_id(task).expect("interned"),
            };
            let mut entry = TaskEntry::default();
            for parent in r.parents.get(task).into_iter().flatten() {
                if r.tasks.contains(parent) {
                    entry.tdepends.push(Tid {
                        recipe: fid,
                        task: cache.task_id(parent).expect("interned"),
                    });
                }
            }
            for (flag, runtime) in [("depends", false), ("rdepends", true)] {
                let Some(value) = r.task_flag(flag, task) else {
                    continue;
                };
                for dep in value.split_whitespace() {
                    let parts: Vec<&str> = dep.split(':').collect();
                    if parts.len() != 2 {
                        return Err(GraphError::Fatal(format!(
                            "Error for {}:{task}[{flag}], dependency {dep} in '{value}' does not contain exactly one ':' character.\n Task '{flag}' should be specified in the form 'packagename:task'",
                            r.file
                        )));
                    }
                    let t = cache.task_id(parts[1]).expect("interned");
                    if runtime {
                        entry.irdepends.push((parts[0].to_string(), t));
                        self.run_targets.entry(parts[0].to_string()).or_default();
                    } else {
                        entry.idepends.push((parts[0].to_string(), t));
                        self.build_targets.entry(parts[0].to_string()).or_default();
                    }
                }
            }
            self.taskentries.insert(tid, entry);
        }
        if !self.depids.contains_key(&fid) {
            self.depids.insert(fid, cache.deps[fid].clone());
        }
        if !self.rdepids.contains_key(&fid) {
            let mut ids: IndexSet<String> = IndexSet::new();
            for deps in cache.rundeps[fid].values() {
                ids.extend(deps.iter().cloned());
            }
            for deps in cache.runrecs[fid].values() {
                ids.extend(deps.iter().cloned());
            }
            self.rdepids.insert(fid, ids.into_iter().collect());
        }
        for dep in self.depids[&fid].clone() {
            self.build_targets.entry(dep.clone()).or_default();
            if self.failed_deps.contains(&dep) {
                self.fail_fn(fid, &[]);
                return Ok(());
            }
        }
        for dep in self.rdepids[&fid].clone() {
            self.run_targets.entry(dep.clone()).or_default();
            if self.failed_rdeps.contains(&dep) {
                self.fail_fn(fid, &[]);
                return Ok(());
            }
        }
        Ok(())
    }

    fn have_build_target(&self, item: &str) -> bool {
        self.build_targets.get(item).is_some_and(|v| !v.is_empty())
    }

    fn have_runtime_target(&self, item: &str) -> bool {
        self.run_targets.get(item).is_some_and(|v| !v.is_empty())
    }

    /// `TaskData.get_dependees`: the fns whose DEPENDS name `item`.
    fn dependees(&self, item: &str, runtime: bool) -> Vec<String> {
        let ids = if runtime { &self.rdepids } else { &self.depids };
        ids.iter()
            .filter(|(_, deps)| deps.iter().any(|d| d == item))
            .map(|(f, _)| self.cache.file(*f).to_string())
            .collect()
    }

    /// `TaskData.get_reasons`: skipped recipes that are, or (R)PROVIDE, `item`.
    fn reasons(&self, item: &str, runtime: bool) -> Vec<String> {
        let mut out = Vec::new();
        for s in &self.cache.skipped {
            let why = s.skipreason.as_deref().unwrap_or("");
            if s.pn == item {
                out.push(format!("{} was skipped: {why}", s.pn));
            } else if runtime && s.rprovides.iter().any(|p| p == item) {
                out.push(format!("{} RPROVIDES {item} but was skipped: {why}", s.pn));
            } else if !runtime && s.provides.iter().any(|p| p == item) {
                out.push(format!("{} PROVIDES {item} but was skipped: {why}", s.pn));
            }
        }
        out
    }

    /// `TaskData.get_close_matches`: names within a `difflib` ratio of 0.7, best first,
    /// at most three.
    fn close_matches(&self, item: &str) -> Vec<String> {
        let mut names: Vec<&str> = self.cache.providers.keys().map(String::as_str).collect();
        names.extend(self.cache.skipped.iter().map(|s| s.pn.as_str()));
        let mut scored: Vec<(f64, &str)> = names
            .into_iter()
            .filter_map(|n| {
                let r = difflib_ratio(n, item);
                (r >= 0.7).then_some((r, n))
            })
            .collect();
        scored.sort_by(|a, b| b.partial_cmp(a).unwrap_or(std::cmp::Ordering::Equal));
        scored
            .into_iter()
            .take(3)
            .map(|(_, n)| n.to_string())
            .collect()
    }

    /// `TaskData.add_provider` (halt = False): a target named on the command line.
    pub fn add_provider(&mut self, item: &str) -> Result<(), GraphError> {
        if let Err(e) = self.add_provider_internal(item) {
            match e {
                ProviderError::Unprovided => self.remove_buildtarget(item, &[]),
                ProviderError::Graph(g) => return Err(g),
            }
        }
        if !self.external_targets.iter().any(|t| t == item) {
            self.external_targets.push(item.to_string());
        }
        Ok(())
    }

    /// `TaskData.add_provider_internal`: chooses the providers of a build-time name and
    /// adds their tasks.
    fn add_provider_internal(&mut self, item: &str) -> Result<(), ProviderError> {
        let cache = self.cache;
        if cache.ignored.matches(item) {
            return Ok(());
        }
        let Some(all) = cache.providers.get(item) else {
            let mut close = self.close_matches(item);
            for f in cache.runtime_providers(item) {
                let m = format!("{} RPROVIDES {item}", cache.pn(f));
                if !close.contains(&m) {
                    close.push(m);
                }
            }
            self.events.push(ProviderEvent::NoProvider {
                item: item.to_string(),
                runtime: false,
                dependees: self.dependees(item, false),
                reasons: self.reasons(item, false),
                close_matches: close,
            });
            return Err(ProviderError::Unprovided);
        };
        if self.have_build_target(item) {
            return Ok(());
        }
        let (eligible, unique) = filter_providers(cache, all, item);
        let eligible: Vec<FnId> = eligible
            .into_iter()
            .filter(|f| !self.failed_fns.contains(f))
            .collect();
        if eligible.is_empty() {
            self.events.push(ProviderEvent::NoProvider {
                item: item.to_string(),
                runtime: false,
                dependees: self.dependees(item, false),
                reasons: vec![format!("No eligible PROVIDERs exist for '{item}'")],
                close_matches: Vec::new(),
            });
            return Err(ProviderError::Unprovided);
        }
        if eligible.len() > 1 && !unique {
            if !self.consider_msgs_cache.contains(item) {
                self.events.push(ProviderEvent::MultipleProviders {
                    item: item.to_string(),
                    candidates: eligible.iter().map(|f| cache.pn(*f).to_string()).collect(),
                    runtime: false,
                });
            }
            self.consider_msgs_cache.insert(item.to_string());
        }
        for f in eligible {
            if self.failed_fns.contains(&f) {
                continue;
            }
            let targets = self.build_targets.entry(item.to_string()).or_default();
            if !targets.contains(&f) {
                targets.push(f);
            }
            self.add_tasks(f).map_err(ProviderError::Graph)?;
        }
        Ok(())
    }

    /// `TaskData.add_rprovider`: chooses the providers of a runtime name and adds their
    /// tasks.
    fn add_rprovider(&mut self, item: &str) -> Result<(), ProviderError> {
        let cache = self.cache;
        if cache.ignored.matches(item) || self.have_runtime_target(item) {
            return Ok(());
        }
        let all = cache.runtime_providers(item);
        if all.is_empty() {
            self.events.push(ProviderEvent::NoProvider {
                item: item.to_string(),
                runtime: true,
                dependees: self.dependees(item, true),
                reasons: self.reasons(item, true),
                close_matches: Vec::new(),
            });
            return Err(ProviderError::Unprovided);
        }
        let (eligible, preferred) = filter_providers_runtime(cache, &all, item);
        let eligible: Vec<FnId> = eligible
            .into_iter()
            .filter(|f| !self.failed_fns.contains(f))
            .collect();
        if eligible.is_empty() {
            self.events.push(ProviderEvent::NoProvider {
                item: item.to_string(),
                runtime: true,
                dependees: self.dependees(item, true),
                reasons: vec![format!("No eligible RPROVIDERs exist for '{item}'")],
                close_matches: Vec::new(),
            });
            return Err(ProviderError::Unprovided);
        }
        if (eligible.len() > 1 && preferred == 0) || preferred > 1 {
            if !self.consider_msgs_cache.contains(item) {
                self.events.push(ProviderEvent::MultipleProviders {
                    item: item.to_string(),
                    candidates: eligible.iter().map(|f| cache.pn(*f).to_string()).collect(),
                    runtime: true,
                });
            }
            self.consider_msgs_cache.insert(item.to_string());
            if preferred > 1 {
                return Err(ProviderError::Unprovided);
            }
        }
        for f in eligible {
            if self.failed_fns.contains(&f) {
                continue;
            }
            let targets = self.run_targets.entry(item.to_string()).or_default();
            if !targets.contains(&f) {
                targets.push(f);
            }
            self.add_tasks(f).map_err(ProviderError::Graph)?;
        }
        Ok(())
    }

    /// `TaskData.fail_fn`: a variant cannot be built; names it alone provided fail too
    /// (in BitBake's order: each emptied name is removed as soon as it is found).
    fn fail_fn(&mut self, fid: FnId, missing: &[String]) {
        if self.failed_fns.contains(&fid) {
            return;
        }
        self.failed_fns.insert(fid);
        for runtime in [false, true] {
            let mut i = 0;
            loop {
                let targets = if runtime {
                    &mut self.run_targets
                } else {
                    &mut self.build_targets
                };
                let Some((target, fns)) = targets.get_index_mut(i) else {
                    break;
                };
                i += 1;
                let Some(pos) = fns.iter().position(|&f| f == fid) else {
                    continue;
                };
                fns.remove(pos);
                if fns.is_empty() {
                    let target = target.clone();
                    if runtime {
                        self.remove_runtarget(&target, missing);
                    } else {
                        self.remove_buildtarget(&target, missing);
                    }
                }
            }
        }
    }

    /// `TaskData.remove_buildtarget`: a build-time name cannot be provided; everything
    /// that DEPENDS on it, or names it in `[depends]`, fails.
    fn remove_buildtarget(&mut self, target: &str, missing: &[String]) {
        self.remove_target(target, missing, false);
    }

    /// `TaskData.remove_runtarget`: the same for a runtime name (RDEPENDS, `[rdepends]`).
    fn remove_runtarget(&mut self, target: &str, missing: &[String]) {
        self.remove_target(target, missing, true);
    }

    /// The body BitBake's two removals share: report the name as unbuildable with the
    /// chain that asked, remember it as failed, and fail every recipe that names it in
    /// its build-time (or, for `runtime`, run-time) dependencies or task flags.
    fn remove_target(&mut self, target: &str, missing: &[String], runtime: bool) {
        let mut chain = vec![target.to_string()];
        chain.extend(missing.iter().cloned());
        self.events.push(ProviderEvent::Unbuildable {
            target: target.to_string(),
            runtime,
            chain: chain.clone(),
        });
        let (failed, ids) = if runtime {
            (&mut self.failed_rdeps, &self.rdepids)
        } else {
            (&mut self.failed_deps, &self.depids)
        };
        failed.insert(target.to_string());
        let mut fns: Vec<FnId> = ids
            .iter()
            .filter(|(_, d)| d.iter().any(|x| x == target))
            .map(|(f, _)| *f)
            .collect();
        for (tid, entry) in &self.taskentries {
            let named = if runtime {
                &entry.irdepends
            } else {
                &entry.idepends
            };
            if named.iter().any(|(n, _)| n == target) {
                fns.push(tid.recipe);
            }
        }
        for f in fns {
            self.fail_fn(f, &chain);
        }
    }

    /// `TaskData.add_unresolved` (allowincomplete): resolves every name asked for until
    /// nothing new is added. A missing build-time provider is reported (again on every
    /// round, as BitBake does) and leaves its dependees in; a missing runtime provider
    /// fails them.
    pub fn add_unresolved(&mut self) -> Result<(), GraphError> {
        loop {
            let mut added = 0;
            let unresolved: Vec<String> = self
                .build_targets
                .iter()
                .filter(|(t, fns)| {
                    fns.is_empty()
                        && !self.cache.ignored.matches(t)
                        && !self.failed_deps.contains(*t)
                })
                .map(|(t, _)| t.clone())
                .collect();
            for target in unresolved {
                match self.add_provider_internal(&target) {
                    Ok(()) => added += 1,
                    Err(ProviderError::Unprovided) => {}
                    Err(ProviderError::Graph(g)) => return Err(g),
                }
            }
            let unresolved: Vec<String> = self
                .run_targets
                .iter()
                .filter(|(t, fns)| {
                    fns.is_empty()
                        && !self.cache.ignored.matches(t)
                        && !self.failed_rdeps.contains(*t)
                })
                .map(|(t, _)| t.clone())
                .collect();
            for target in unresolved {
                match self.add_rprovider(&target) {
                    Ok(()) => added += 1,
                    Err(ProviderError::Unprovided) => self.remove_runtarget(&target, &[]),
                    Err(ProviderError::Graph(g)) => return Err(g),
                }
            }
            if added == 0 {
                return Ok(());
            }
        }
    }

    /// The variant chosen for a build-time name (`build_targets[item][0]`).
    pub fn provider(&self, item: &str) -> Option<FnId> {
        self.build_targets
            .get(item)
            .and_then(|v| v.first().copied())
    }

    /// The variant chosen for a runtime name (`run_targets[item][0]`).
    pub fn rprovider(&self, item: &str) -> Option<FnId> {
        self.run_targets.get(item).and_then(|v| v.first().copied())
    }

    /// The recipe cache this task data reads.
    pub fn cache(&self) -> &'c RecipeCache<'a> {
        self.cache
    }
}

/// Why resolving a name stopped: BitBake's `NoProvider`, `NoRProvider` or
/// `MultipleRProvider` (the event is recorded already), or a fatal error.
enum ProviderError {
    Unprovided,
    Graph(GraphError),
}

/// `difflib.SequenceMatcher(None, a, b).ratio()` without the junk heuristic (which only
/// applies to sequences of 200 items or more): 2 * matches / total length.
fn difflib_ratio(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let total = a.len() + b.len();
    if total == 0 {
        return 1.0;
    }
    2.0 * matching_chars(&a, &b) as f64 / total as f64
}

/// Sum of the sizes of `SequenceMatcher`'s matching blocks: the longest common block
/// (the earliest in `a`, then in `b`), recursively on both sides of it.
fn matching_chars(a: &[char], b: &[char]) -> usize {
    let mut best = (0, 0, 0);
    let mut lengths: HashMap<usize, usize> = HashMap::new();
    for (i, ca) in a.iter().enumerate() {
        let mut next = HashMap::new();
        for (j, cb) in b.iter().enumerate() {
            if ca == cb {
                let k = if j > 0 {
                    lengths.get(&(j - 1)).copied().unwrap_or(0)
                } else {
                    0
                } + 1;
                next.insert(j, k);
                if k > best.2 {
                    best = (i + 1 - k, j + 1 - k, k);
                }
            }
        }
        lengths = next;
    }
    let (i, j, k) = best;
    if k == 0 {
        return 0;
    }
    k + matching_chars(&a[..i], &b[..j]) + matching_chars(&a[i + k..], &b[j + k..])
}
