//! The task graph: from per-recipe facts to the tasks and edges BitBake would run.
//!
//! This layer mirrors, function by function, what `bitbake -g TARGET` computes:
//!
//! - [`recipe`]: [`RecipeInfo`], the plain (serde) data of BitBake's `CoreRecipeInfo`
//!   for one recipe variant, and [`RecipeCache`], the indexes `CacheData` keeps over them
//!   (providers, runtime providers, packages, ASSUME_PROVIDED).
//! - [`providers`]: provider selection (bb/providers.py): layer priority,
//!   DEFAULT_PREFERENCE, PREFERRED_VERSION, PREFERRED_PROVIDER, `vercmp`.
//! - [`taskdata`]: [`TaskData`] (bb/taskdata.py): which variants the targets pull in,
//!   each task's raw dependencies, and missing-provider reports.
//! - [`runqueue`]: `RunQueueData.prepare` (bb/runqueue.py): the edges, with
//!   [deptask], [rdeptask], [recrdeptask]/[recideptask] expanded, pruned to what the
//!   targets reach.
//! - [`dot`]: `task-depends.dot` and `pn-buildlist` in the exact formats of
//!   `BBCooker.generateDotGraphFiles`.
//! - [`cache`]: the facts from bitzel's evaluator (`CoreRecipeInfo` of a finalised
//!   variant, [`recipe_infos`], `GraphConfig::from_store`).
//! - [`target`]: the recipe `bitbake -e NAME` shows (`bitzel env NAME`).
//!
//! [`generate`] is `bitbake -g TARGET...`, [`generate_all_tasks`] the graph of every
//! task `bitzel gen` renders, [`provider_of`] `bitbake -e`'s choice of provider. Tests
//! also feed the facts real BitBake computed (tests/oracle/bb_recipeinfo.py dumps its
//! recipe cache), to tell the graph's faults from the evaluator's.
//!
//! Replicated on purpose: the order in which BitBake picks among equal providers
//! (providers sorted by file name), a missing build-time provider reported once per
//! resolution round (as BitBake repeats it), recrdeptask's walk from the chains' ends
//! (tasks in a dependency cycle gain no recursive edges). Not replicated: multiconfig
//! (`mc:`) targets and [mcdepends], `calculate_extra_depends`, `world`/`universe`
//! targets, the circular-dependency check and setscene tasks of later run-queue steps.

#![warn(missing_docs)]

pub mod cache;
pub mod dot;
pub mod providers;
pub mod recipe;
pub mod runqueue;
pub mod target;
pub mod taskdata;

pub use cache::recipe_infos;
pub use dot::DependTree;
pub use recipe::{GraphConfig, RecipeCache, RecipeInfo, RecipeInfoDump};
pub use runqueue::{RunQueue, RunTarget};
pub use taskdata::{ProviderEvent, TaskData};

/// An error that stops BitBake's graph computation (`bb.msg.fatal` in taskdata or
/// runqueue), with BitBake's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphError {
    /// A fatal error, BitBake's message.
    Fatal(String),
}

impl std::fmt::Display for GraphError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GraphError::Fatal(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for GraphError {}

/// A graph computation BitBake would abandon: the fatal error and what was reported
/// before it (BitBake prints both, and writes no files).
#[derive(Debug, Clone)]
pub struct GraphFailure {
    /// The fatal error.
    pub error: GraphError,
    /// Missing and multiple providers reported before it.
    pub events: Vec<ProviderEvent>,
}

impl std::fmt::Display for GraphFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for GraphFailure {}

/// The outcome of `bitbake -g`: the graph to write and what was reported on the way.
#[derive(Debug, Clone)]
pub struct Graph {
    /// The tasks and edges, by PN and task name, ready to write.
    pub tree: DependTree,
    /// Missing and multiple providers, in the order BitBake reports them.
    pub events: Vec<ProviderEvent>,
}

/// `BBCooker.generateTaskDepTreeData` for `bitbake -g TARGET...`: `buildTaskData` with
/// `halt = False, allowincomplete = True`, then `RunQueueData.prepare`, then
/// `buildDependTree`. A target is a recipe or provider name, or `name:do_task`; without
/// a task it gets the default task (BB_DEFAULT_TASK, else do_build).
pub fn generate(
    recipes: &[RecipeInfo],
    config: &GraphConfig,
    targets: &[String],
) -> Result<Graph, GraphFailure> {
    let cache = RecipeCache::new(recipes, config);
    let default_task = config.default_task();
    run(&cache, |taskdata| {
        let mut runlist = Vec::new();
        for target in targets {
            let (name, task) = match target.split_once(":do_") {
                Some((name, task)) => (name.to_string(), format!("do_{task}")),
                None => (target.clone(), default_task.clone()),
            };
            taskdata.add_provider(&name)?;
            if let Some(recipe) = taskdata.provider(&name) {
                runlist.push(RunTarget { name, task, recipe });
            }
        }
        Ok(runlist)
    })
}

/// The graph of every task BitBake could run: for each PN (in the order of the recipe
/// variants sorted by file name), its preferred variant chosen as `bitbake PN` chooses
/// it, and every task of that variant a target, as if BitBake were asked for
/// `PN:do_a PN:do_b ...` of all of them at once (with `-g`'s `allowincomplete`: a
/// variant whose dependencies cannot be provided is left out, and reported). Skipped
/// variants are never chosen. This is the graph `bitzel gen` renders, one Bazel target
/// per task.
pub fn generate_all_tasks(
    recipes: &[RecipeInfo],
    config: &GraphConfig,
) -> Result<Graph, GraphFailure> {
    let cache = RecipeCache::new(recipes, config);
    run(&cache, |taskdata| {
        let mut runlist = Vec::new();
        let cache = taskdata.cache();
        for pn in cache.pkg_pn.keys() {
            taskdata.add_provider(pn)?;
            if let Some(recipe) = taskdata.provider(pn) {
                for task in &cache.recipes[recipe].tasks {
                    runlist.push(RunTarget {
                        name: pn.clone(),
                        task: task.clone(),
                        recipe,
                    });
                }
            }
        }
        Ok(runlist)
    })
}

/// The recipe variant `bitbake -e NAME` shows: `showEnvironment`'s
/// `buildTaskData([NAME])` (halt, allowincomplete) and the fn it puts in the run list,
/// the provider `TaskData.add_provider` chooses for NAME. An error is what BitBake stops
/// with: NAME in ASSUME_PROVIDED, or the "Nothing PROVIDES" report.
pub fn provider_of<'a>(
    recipes: &'a [RecipeInfo],
    config: &GraphConfig,
    name: &str,
) -> Result<&'a RecipeInfo, GraphFailure> {
    let assumed = config.var("ASSUME_PROVIDED").unwrap_or("");
    if assumed.split_whitespace().any(|a| a == name) {
        return Err(GraphFailure {
            error: GraphError::Fatal(format!("{name} is in ASSUME_PROVIDED")),
            events: Vec::new(),
        });
    }
    let cache = RecipeCache::new(recipes, config);
    let mut taskdata = TaskData::new(&cache);
    let added = taskdata.add_provider(name);
    let chosen = taskdata.provider(name).and_then(|f| {
        let file = cache.file(f);
        recipes.iter().find(|r| r.file == file)
    });
    match (added, chosen) {
        (Ok(()), Some(recipe)) => Ok(recipe),
        (Err(error), _) => Err(GraphFailure {
            error,
            events: taskdata.events,
        }),
        (Ok(()), None) => {
            let mut events = taskdata.events;
            let error = events
                .iter()
                .position(|e| matches!(e, ProviderEvent::NoProvider { .. }))
                .map(|i| events.remove(i).to_string())
                .unwrap_or_else(|| format!("Nothing PROVIDES '{name}'"));
            Err(GraphFailure {
                error: GraphError::Fatal(error),
                events,
            })
        }
    }
}

/// `buildTaskData` with the targets `add_targets` adds (returning the run list), then
/// `add_unresolved`, `RunQueueData.prepare` and `buildDependTree`.
fn run<'c, 'a>(
    cache: &'c RecipeCache<'a>,
    add_targets: impl FnOnce(&mut TaskData<'c, 'a>) -> Result<Vec<RunTarget>, GraphError>,
) -> Result<Graph, GraphFailure> {
    let mut taskdata = TaskData::new(cache);
    let result = add_targets(&mut taskdata).and_then(|runlist| {
        taskdata.add_unresolved()?;
        runqueue::prepare(&taskdata, &runlist)
    });
    match result {
        Ok(runqueue) => Ok(Graph {
            tree: DependTree::new(cache, &runqueue),
            events: taskdata.events,
        }),
        Err(error) => Err(GraphFailure {
            error,
            events: taskdata.events,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A recipe with base.bbclass-like tasks: fetch, configure (after fetch, [deptask]
    /// on DEPENDS' populate_sysroot), populate_sysroot, build.
    fn recipe(file: &str, pn: &str, pv: &str, depends: &[&str]) -> RecipeInfo {
        let tasks = [
            "do_fetch",
            "do_configure",
            "do_populate_sysroot",
            "do_build",
        ];
        let mut parents = BTreeMap::new();
        for pair in tasks.windows(2) {
            parents.insert(pair[1].to_string(), vec![pair[0].to_string()]);
        }
        parents.insert("do_fetch".to_string(), vec![]);
        let mut flags: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        flags
            .entry("deptask".into())
            .or_default()
            .insert("do_configure".into(), "do_populate_sysroot".into());
        flags
            .entry("noexec".into())
            .or_default()
            .insert("do_build".into(), "1".into());
        RecipeInfo {
            file: file.to_string(),
            pn: pn.to_string(),
            pv: pv.to_string(),
            pr: "r0".to_string(),
            priority: 5,
            depends: depends.iter().map(|s| s.to_string()).collect(),
            packages: vec![pn.to_string()],
            tasks: tasks.iter().map(|s| s.to_string()).collect(),
            parents,
            task_flags: flags,
            ..Default::default()
        }
    }

    fn config(vars: &[(&str, &str)]) -> GraphConfig {
        GraphConfig {
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn edges(graph: &Graph) -> Vec<String> {
        let mut out = Vec::new();
        for (task, deps) in &graph.tree.tdepends {
            for dep in deps {
                out.push(format!("{task} -> {dep}"));
            }
        }
        out.sort();
        out
    }

    #[test]
    fn deptask_links_configure_to_the_dependency_sysroot() {
        let recipes = [
            recipe("/l/a_1.0.bb", "a", "1.0", &["b"]),
            recipe("/l/b_1.0.bb", "b", "1.0", &[]),
        ];
        let graph = generate(&recipes, &config(&[]), &["a".into()]).unwrap();
        assert!(edges(&graph).contains(&"a.do_configure -> b.do_populate_sysroot".to_string()));
        assert!(recipes[0].is_noexec("do_build") && !recipes[0].is_nostamp("do_build"));
    }

    #[test]
    fn newest_version_wins_unless_preferred_version_says_otherwise() {
        let recipes = [
            recipe("/l/a_1.0.bb", "a", "1.0", &[]),
            recipe("/l/a_1.10.bb", "a", "1.10", &[]),
            recipe("/l/a_1.9.bb", "a", "1.9", &[]),
        ];
        let g = generate(&recipes, &config(&[]), &["a".into()]).unwrap();
        assert_eq!(g.tree.pn["a"].1, ":1.10-r0");
        let c = config(&[("PREFERRED_VERSION_a", "1.9")]);
        let g = generate(&recipes, &c, &["a".into()]).unwrap();
        assert_eq!(g.tree.pn["a"].1, ":1.9-r0");
        let c = config(&[("PREFERRED_VERSION:pn-a", "1.0%")]);
        let g = generate(&recipes, &c, &["a".into()]).unwrap();
        assert_eq!(g.tree.pn["a"].1, ":1.0-r0");
    }

    #[test]
    fn higher_layer_priority_beats_a_newer_version() {
        let mut old = recipe("/high/a_0.5.bb", "a", "0.5", &[]);
        old.priority = 10;
        let recipes = [recipe("/l/a_2.0.bb", "a", "2.0", &[]), old];
        let g = generate(&recipes, &config(&[]), &["a".into()]).unwrap();
        assert_eq!(g.tree.pn["a"].0, "/high/a_0.5.bb");
    }

    #[test]
    fn preferred_provider_chooses_among_virtual_providers() {
        let mut x = recipe("/l/x_1.0.bb", "x", "1.0", &[]);
        x.provides = vec!["virtual/v".into()];
        let mut y = recipe("/l/y_1.0.bb", "y", "1.0", &[]);
        y.provides = vec!["virtual/v".into()];
        let recipes = [recipe("/l/a_1.0.bb", "a", "1.0", &["virtual/v"]), x, y];
        let c = config(&[("PREFERRED_PROVIDER_virtual/v", "y")]);
        let g = generate(&recipes, &c, &["a".into()]).unwrap();
        assert!(edges(&g).contains(&"a.do_configure -> y.do_populate_sysroot".to_string()));
        assert!(!g.tree.pn.contains_key("x"));
        assert!(g.events.is_empty());
        // Without a preference: the first by PN, and a note.
        let g = generate(&recipes, &config(&[]), &["a".into()]).unwrap();
        assert!(edges(&g).contains(&"a.do_configure -> x.do_populate_sysroot".to_string()));
        assert!(
            matches!(&g.events[0], ProviderEvent::MultipleProviders { item, .. } if item == "virtual/v")
        );
    }

    #[test]
    fn assume_provided_dependency_adds_no_edge_and_no_error() {
        let recipes = [recipe("/l/a_1.0.bb", "a", "1.0", &["host-tool"])];
        let c = config(&[("ASSUME_PROVIDED", "host-tool")]);
        let g = generate(&recipes, &c, &["a".into()]).unwrap();
        assert!(g.events.is_empty());
        assert_eq!(g.tree.pn.len(), 1);
    }

    #[test]
    fn missing_dependency_names_the_recipe_that_asked() {
        let recipes = [recipe("/l/a_1.0.bb", "a", "1.0", &["nothere"])];
        let g = generate(&recipes, &config(&[]), &["a:do_fetch".into()]).unwrap();
        assert_eq!(
            g.events[0].to_string(),
            "Nothing PROVIDES 'nothere' (but /l/a_1.0.bb DEPENDS on or otherwise requires it)"
        );
        assert_eq!(g.tree.tdepends.keys().collect::<Vec<_>>(), ["a.do_fetch"]);
    }

    #[test]
    fn recrdeptask_reaches_dependencies_of_dependencies() {
        let mut image = recipe("/l/img.bb", "img", "1.0", &["a"]);
        image
            .task_flags
            .entry("recrdeptask".into())
            .or_default()
            .insert("do_build".into(), "do_build".into());
        let recipes = [
            image,
            recipe("/l/a_1.0.bb", "a", "1.0", &["b"]),
            recipe("/l/b_1.0.bb", "b", "1.0", &[]),
        ];
        let g = generate(&recipes, &config(&[]), &["img".into()]).unwrap();
        let e = edges(&g);
        assert!(e.contains(&"img.do_build -> a.do_build".to_string()));
        assert!(e.contains(&"img.do_build -> b.do_build".to_string()));
        assert!(!e.contains(&"a.do_build -> b.do_build".to_string()));
    }

    #[test]
    fn dot_and_buildlist_use_bitbake_formats() {
        let recipes = [recipe("/l/a_1.0.bb", "a", "1.0", &[])];
        let g = generate(&recipes, &config(&[]), &["a:do_configure".into()]).unwrap();
        assert_eq!(
            g.tree.task_depends_dot(),
            "digraph depends {\n\
             \"a.do_configure\" [label=\"a do_configure\\n:1.0-r0\\n/l/a_1.0.bb\"]\n\
             \"a.do_configure\" -> \"a.do_fetch\"\n\
             \"a.do_fetch\" [label=\"a do_fetch\\n:1.0-r0\\n/l/a_1.0.bb\"]\n\
             }\n"
        );
        assert_eq!(g.tree.pn_buildlist(), "a\n");
    }

    #[test]
    fn unknown_task_of_a_target_is_fatal() {
        let recipes = [recipe("/l/a_1.0.bb", "a", "1.0", &[])];
        let err = generate(&recipes, &config(&[]), &["a:do_nope".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Task do_nope does not exist for target a (/l/a_1.0.bb:do_nope)"
        );
    }
}
