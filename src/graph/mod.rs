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
//!
//! The input does not come from bitzel's evaluator yet: tests feed the facts real
//! BitBake computed (tests/oracle/bb_recipeinfo.py dumps its recipe cache). Nothing but
//! the command line and the emitter imports this module.
//!
//! Replicated on purpose: the order in which BitBake picks among equal providers
//! (providers sorted by file name), a missing build-time provider reported once per
//! resolution round (as BitBake repeats it), recrdeptask's walk from the chains' ends
//! (tasks in a dependency cycle gain no recursive edges). Not replicated: multiconfig
//! (`mc:`) targets and [mcdepends], `calculate_extra_depends`, `world`/`universe`
//! targets, the circular-dependency check and setscene tasks of later run-queue steps.

pub mod dot;
pub mod providers;
pub mod recipe;
pub mod runqueue;
pub mod taskdata;

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
    let mut taskdata = TaskData::new(&cache);
    let mut runlist = Vec::new();
    for target in targets {
        let (name, task) = match target.split_once(":do_") {
            Some((name, task)) => (name.to_string(), format!("do_{task}")),
            None => (target.clone(), default_task.clone()),
        };
        if let Err(error) = taskdata.add_provider(&name) {
            return Err(GraphFailure {
                error,
                events: taskdata.events,
            });
        }
        if let Some(recipe) = taskdata.provider(&name) {
            runlist.push(RunTarget { name, task, recipe });
        }
    }
    let runqueue = taskdata
        .add_unresolved()
        .and_then(|()| runqueue::prepare(&taskdata, &runlist));
    let runqueue = match runqueue {
        Ok(r) => r,
        Err(error) => {
            return Err(GraphFailure {
                error,
                events: taskdata.events,
            })
        }
    };
    Ok(Graph {
        tree: DependTree::new(&cache, &runqueue),
        events: taskdata.events,
    })
}
