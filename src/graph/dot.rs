//! `task-depends.dot` and `pn-buildlist`, as `BBCooker.buildDependTree` collects them
//! and `BBCooker.generateDotGraphFiles` writes them.

use indexmap::IndexMap;

use super::recipe::RecipeCache;
use super::runqueue::RunQueue;

/// What `buildDependTree` keeps for the two files: each PN's file and version, and each
/// task's dependencies as `pn.task` names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DependTree {
    /// PN to (fn, `PE:PV-PR`), in the order the run queue first mentions them
    /// (`depend_tree["pn"]`).
    pub pn: IndexMap<String, (String, String)>,
    /// `pn.task` to the `pn.task` names it depends on (`depend_tree["tdepends"]`).
    pub tdepends: IndexMap<String, Vec<String>>,
}

impl DependTree {
    /// `BBCooker.buildDependTree`'s `pn` and `tdepends` parts.
    pub fn new(cache: &RecipeCache, runqueue: &RunQueue) -> Self {
        let mut tree = DependTree::default();
        for (tid, deps) in &runqueue.tasks {
            let recipe = cache.recipes[tid.recipe];
            tree.pn
                .entry(recipe.pn.clone())
                .or_insert_with(|| (recipe.file.clone(), recipe.pepvpr()));
            let name = format!("{}.{}", recipe.pn, cache.task_name(tid.task));
            let entry = tree.tdepends.entry(name).or_default();
            for dep in deps {
                entry.push(format!(
                    "{}.{}",
                    cache.pn(dep.recipe),
                    cache.task_name(dep.task)
                ));
            }
        }
        tree
    }

    /// `pn-buildlist`: one PN a line. BitBake's order comes from Python set iteration
    /// (not stable between runs), so compare it as a set; this one is first-mention order.
    pub fn pn_buildlist(&self) -> String {
        self.pn.keys().map(|pn| format!("{pn}\n")).collect()
    }

    /// `task-depends.dot`: tasks sorted by `pn.task`, each with its label (PN, task,
    /// version, file) and its edges sorted by target.
    pub fn task_depends_dot(&self) -> String {
        let mut out = String::from("digraph depends {\n");
        let mut tasks: Vec<&String> = self.tdepends.keys().collect();
        tasks.sort();
        for task in tasks {
            let (pn, taskname) = task.rsplit_once('.').unwrap_or((task, ""));
            let (file, version) = &self.pn[pn];
            out.push_str(&format!(
                "\"{pn}.{taskname}\" [label=\"{pn} {taskname}\\n{version}\\n{file}\"]\n"
            ));
            let mut deps: Vec<&String> = self.tdepends[task].iter().collect();
            deps.sort();
            for dep in deps {
                out.push_str(&format!("\"{task}\" -> \"{dep}\"\n"));
            }
        }
        out.push_str("}\n");
        out
    }
}
