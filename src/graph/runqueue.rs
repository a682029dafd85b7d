//! Task edges: `RunQueueData.prepare` (bb/runqueue.py), steps A to C. Same-recipe
//! parents, [deptask] over DEPENDS, [rdeptask] over RDEPENDS/RRECOMMENDS, [depends] and
//! [rdepends] `name:task` entries, [recrdeptask] (with [recideptask]) expanded
//! recursively; then only the tasks the targets reach are kept.

use std::collections::{BTreeSet, HashMap, HashSet};

use indexmap::IndexMap;

use super::recipe::{FnId, TaskName, Tid};
use super::taskdata::TaskData;
use super::GraphError;

/// A target of the run: (name asked for, task, the variant chosen), BitBake's `runlist`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunTarget {
    /// The recipe or provider name.
    pub name: String,
    /// The task, `do_` prefixed (a trailing `-` means "only its dependencies").
    pub task: String,
    /// The chosen variant.
    pub recipe: FnId,
}

/// The resolved task graph: each task kept, with the tasks it depends on
/// (`RunQueueData.runtaskentries[tid].depends`), in BitBake's insertion order.
#[derive(Debug, Clone, Default)]
pub struct RunQueue {
    /// Task to its dependencies.
    pub tasks: IndexMap<Tid, BTreeSet<Tid>>,
}

/// Sets of recipe variants, one per task, as rows of bits indexed by [`FnId`].
struct FnSets {
    words: usize,
    bits: Vec<u64>,
}

impl FnSets {
    fn new(rows: usize, words: usize) -> Self {
        FnSets {
            words,
            bits: vec![0; rows * words],
        }
    }

    fn row(&self, i: usize) -> &[u64] {
        &self.bits[i * self.words..(i + 1) * self.words]
    }

    fn union_with(&mut self, i: usize, other: &[u64]) {
        let row = &mut self.bits[i * self.words..(i + 1) * self.words];
        for (w, o) in row.iter_mut().zip(other) {
            *w |= o;
        }
    }

    fn insert(&mut self, i: usize, recipe: FnId) {
        self.bits[i * self.words + recipe / 64] |= 1 << (recipe % 64);
    }
}

/// `RunQueueData.prepare`, steps A (edges), B (mark what the targets reach) and C (prune).
pub fn prepare(taskdata: &TaskData, targets: &[RunTarget]) -> Result<RunQueue, GraphError> {
    let cache = taskdata.cache();
    if taskdata.taskentries.is_empty() {
        // "Nothing to do": e.g. every target is in ASSUME_PROVIDED.
        return Ok(RunQueue::default());
    }
    let task_id = |name: &str| cache.task_id(name);
    let mut depends: IndexMap<Tid, BTreeSet<Tid>> = IndexMap::new();
    let mut recursive: IndexMap<Tid, Vec<TaskName>> = IndexMap::new();
    let mut recursive_i: HashMap<Tid, Vec<Tid>> = HashMap::new();
    let mut selfref: HashSet<Tid> = HashSet::new();

    let add_deps =
        |names: &[String], tasknames: &[TaskName], runtime: bool, out: &mut BTreeSet<Tid>| {
            for name in names {
                let provider = if runtime {
                    taskdata.rprovider(name)
                } else {
                    taskdata.provider(name)
                };
                let Some(fid) = provider else { continue };
                for &task in tasknames {
                    let t = Tid { recipe: fid, task };
                    if taskdata.taskentries.contains_key(&t) {
                        out.insert(t);
                    }
                }
            }
        };
    let names_of =
        |value: &str| -> Vec<TaskName> { value.split_whitespace().filter_map(task_id).collect() };

    for (&tid, entry) in &taskdata.taskentries {
        let mut deps = BTreeSet::new();
        if taskdata.failed_fns.contains(&tid.recipe) {
            depends.insert(tid, deps);
            continue;
        }
        let recipe = cache.recipes[tid.recipe];
        let taskname = cache.task_name(tid.task);
        deps.extend(entry.tdepends.iter().copied());
        let depids = taskdata
            .depids
            .get(&tid.recipe)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let rdepids = taskdata
            .rdepids
            .get(&tid.recipe)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if let Some(v) = recipe.task_flag("deptask", taskname) {
            add_deps(depids, &names_of(v), false, &mut deps);
        }
        if let Some(v) = recipe.task_flag("rdeptask", taskname) {
            add_deps(rdepids, &names_of(v), true, &mut deps);
        }
        for (name, task) in &entry.idepends {
            if taskdata.failed_deps.contains(name) {
                continue;
            }
            if let Some(fid) = taskdata.provider(name) {
                let t = Tid {
                    recipe: fid,
                    task: *task,
                };
                deps.insert(t);
                if !taskdata.taskentries.contains_key(&t) {
                    return Err(GraphError::Fatal(format!(
                        "Task {taskname} in {} depends upon non-existent task {} in {}",
                        recipe.file,
                        cache.task_name(*task),
                        cache.file(fid)
                    )));
                }
            }
        }
        for (name, task) in &entry.irdepends {
            if let Some(fid) = taskdata.rprovider(name) {
                let t = Tid {
                    recipe: fid,
                    task: *task,
                };
                deps.insert(t);
                if !taskdata.taskentries.contains_key(&t) {
                    return Err(GraphError::Fatal(format!(
                        "Task {taskname} in {} rdepends upon non-existent task {} in {}",
                        recipe.file,
                        cache.task_name(*task),
                        cache.file(fid)
                    )));
                }
            }
        }
        if let Some(v) = recipe.task_flag("recrdeptask", taskname) {
            let tasknames = names_of(v);
            add_deps(depids, &tasknames, false, &mut deps);
            add_deps(rdepids, &tasknames, true, &mut deps);
            if tasknames.contains(&tid.task) {
                selfref.insert(tid);
            }
            if let Some(iv) = recipe.task_flag("recideptask", taskname) {
                recursive_i.insert(
                    tid,
                    names_of(iv)
                        .into_iter()
                        .map(|task| Tid {
                            recipe: tid.recipe,
                            task,
                        })
                        .collect(),
                );
            }
            recursive.insert(tid, tasknames);
        }
        deps.remove(&tid);
        depends.insert(tid, deps);
    }

    // Part B of recrdeptask: every variant each task reaches (cumulativedeps), walked
    // from the chains' ends as BitBake does (tasks in a cycle get nothing). Sets of
    // variants are bit sets over FnId (one row per task), so that a graph of every task
    // of Poky (~63,000 tasks, ~1,900 variants) takes seconds, not minutes.
    let words = cache.recipes.len().div_ceil(64).max(1);
    let index = |t: &Tid| depends.get_index_of(t);
    let mut remaining: Vec<usize> = depends.values().map(BTreeSet::len).collect();
    let mut revdeps: Vec<Vec<usize>> = vec![Vec::new(); depends.len()];
    for (i, d) in depends.values().enumerate() {
        for dep in d {
            if let Some(j) = index(dep) {
                revdeps[j].push(i);
            }
        }
    }
    let mut cumulative = FnSets::new(depends.len(), words);
    let mut endpoints: Vec<usize> = (0..depends.len()).filter(|&i| remaining[i] == 0).collect();
    let mut row = vec![0u64; words];
    while !endpoints.is_empty() {
        let mut next: Vec<usize> = Vec::new();
        for &i in &endpoints {
            row.copy_from_slice(cumulative.row(i));
            let recipe = depends.get_index(i).expect("task").0.recipe;
            for &dep in &revdeps[i] {
                cumulative.union_with(dep, &row);
                cumulative.insert(dep, recipe);
                remaining[dep] -= 1;
                if remaining[dep] == 0 {
                    next.push(dep);
                }
            }
        }
        endpoints = next;
    }

    // Which variants have each task the recursive flags name.
    let mut has_task: HashMap<TaskName, Vec<u64>> = HashMap::new();
    for tasknames in recursive.values() {
        for &t in tasknames {
            has_task.entry(t).or_insert_with(|| vec![0; words]);
        }
    }
    for t in depends.keys() {
        if let Some(set) = has_task.get_mut(&t.task) {
            set[t.recipe / 64] |= 1 << (t.recipe % 64);
        }
    }

    let mut extra = true;
    let mut fns = vec![0u64; words];
    while extra {
        extra = false;
        for (tid, tasknames) in &recursive {
            // Every variant the task's dependencies (and its [recideptask] tasks and
            // theirs) reach.
            fns.iter_mut().for_each(|w| *w = 0);
            let mut reach = |dep: &Tid| {
                if let Some(j) = depends.get_index_of(dep) {
                    for (w, c) in fns.iter_mut().zip(cumulative.row(j)) {
                        *w |= c;
                    }
                }
            };
            depends[tid].iter().for_each(&mut reach);
            if let Some(itasks) = recursive_i.get(tid) {
                itasks.iter().for_each(&mut reach);
                for dep in itasks {
                    if let Some(d) = depends.get(dep) {
                        d.iter().for_each(&mut reach);
                    }
                }
            }
            let mine = &depends[tid];
            let mut add = Vec::new();
            for &task in tasknames {
                let exists = &has_task[&task];
                for (w, (&f, &e)) in fns.iter().zip(exists).enumerate() {
                    let mut bits = f & e;
                    while bits != 0 {
                        let recipe = w * 64 + bits.trailing_zeros() as usize;
                        bits &= bits - 1;
                        let new = Tid { recipe, task };
                        if new != *tid && !mine.contains(&new) {
                            add.push(new);
                        }
                    }
                }
            }
            // Recursive tasks that depend on other recursive tasks take their edges.
            for dep in mine.iter().filter(|d| recursive.contains_key(*d)) {
                for new in &depends[dep] {
                    if tasknames.contains(&new.task) && !mine.contains(new) {
                        add.push(*new);
                    }
                }
            }
            let set = depends.get_mut(tid).expect("task");
            for new in add {
                if set.insert(new) {
                    extra = true;
                }
            }
        }
    }
    for tid in &selfref {
        let set = depends.get_mut(tid).expect("task");
        set.retain(|d| !selfref.contains(d));
    }

    // Step B: mark what the targets reach.
    let mut active: HashSet<Tid> = HashSet::new();
    let mut stack: Vec<Tid> = Vec::new();
    for target in targets {
        if taskdata.provider(&target.name).is_none()
            || taskdata.failed_deps.contains(&target.name)
            || taskdata.failed_fns.contains(&target.recipe)
        {
            continue;
        }
        let (task, parents_only) = match target.task.strip_suffix('-') {
            Some(t) => (t, true),
            None => (target.task.as_str(), false),
        };
        let tid = task_id(task).map(|task| Tid {
            recipe: target.recipe,
            task,
        });
        let Some(tid) = tid.filter(|t| taskdata.taskentries.contains_key(t)) else {
            return Err(GraphError::Fatal(format!(
                "Task {task} does not exist for target {} ({}:{task})",
                target.name,
                cache.file(target.recipe)
            )));
        };
        if parents_only {
            stack.extend(depends[&tid].iter().copied());
        } else {
            stack.push(tid);
        }
    }
    while let Some(tid) = stack.pop() {
        if active.insert(tid) {
            stack.extend(depends[&tid].iter().copied());
        }
    }
    // Step C: prune the rest.
    depends.retain(|t, _| active.contains(t));
    // Step D's first check (`bitbake -g` runs without halt).
    if depends.is_empty() {
        return Err(GraphError::Fatal(
            "All buildable tasks have been run but the build is incomplete (--continue mode). \
             Errors for the tasks that failed will have been printed above."
                .to_string(),
        ));
    }
    Ok(RunQueue { tasks: depends })
}
