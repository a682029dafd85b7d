//! `bb.build.add_tasks(__BBTASKS, d)`, the last step of finalising a recipe before
//! `RecipeParsed`: every task of `__BBTASKS` gets the flag `task = 1`, and `_task_deps`
//! collects, for each task, its expanded dependency flags (`depends`, `rdepends`,
//! `deptask`, ...) and its expanded `deps` (the tasks it comes after).
//!
//! BitBake runs this in Python for every variant (0.7 ms of calls into the store each, a
//! tenth of a Poky parse); bitzel computes it on the store ([`collect`]) and the bridge
//! makes the same dict of it ([`TaskDeps`], in the order BitBake fills it) and stores it.
//! Where BitBake's code would do more than that (a `_task_deps` already set, an expansion
//! that fails, a flag value it warns about, text that Python would split differently),
//! [`collect`] declines and BitBake's own `add_tasks` runs instead: the `task` flags that
//! were set by then are set again to the same value.

use super::python::{EvalError, VarSource};

/// The flags that `add_tasks` copies into `_task_deps`, in the order it creates their
/// entries (its `getTask` calls).
pub const COPIED_FLAGS: [&str; 11] = [
    "mcdepends",
    "depends",
    "rdepends",
    "deptask",
    "rdeptask",
    "recrdeptask",
    "recideptask",
    "nostamp",
    "fakeroot",
    "noexec",
    "umask",
];

/// The flags that `add_tasks` warns about when they are not `1`.
const BOOLEAN_FLAGS: [&str; 3] = ["noexec", "fakeroot", "nostamp"];

/// `_task_deps` as `add_tasks` builds it from an empty dict. Each list is a Python dict's
/// items in insertion order: setting a key again replaces its value in place.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TaskDeps {
    /// `_task_deps['tasks']`: the expanded task names, each once.
    pub tasks: Vec<String>,
    /// `_task_deps['parents']`: each task's expanded `deps`.
    pub parents: Vec<(String, Vec<String>)>,
    /// `_task_deps[flag]` for each of [`COPIED_FLAGS`] (same index): task -> expanded
    /// flag value, for the tasks that have the flag. Present (maybe empty) as soon as
    /// one task was handled.
    pub flags: Vec<Vec<(String, String)>>,
}

/// Runs `add_tasks` on `store`: sets each task's `task` flag and returns `_task_deps`,
/// which the caller stores. `Ok(None)` where BitBake's own code must run instead (see
/// the module's documentation); an error only from a write the store refuses.
pub fn collect(store: &mut dyn VarSource) -> Result<Option<TaskDeps>, EvalError> {
    if store.get_var("_task_deps", false)?.is_some() {
        return Ok(None);
    }
    let tasklist = store.get_var("__BBTASKS", false)?.unwrap_or_default();
    let mut deps = TaskDeps::default();
    let Some(tasks) = python_split(&tasklist) else {
        return Ok(None);
    };
    for task in tasks {
        let Ok(task) = store.expand(task, None) else {
            return Ok(None);
        };
        store.set_var_flag(&task, "task", Some("1"))?;
        if !deps.tasks.contains(&task) {
            deps.tasks.push(task.clone());
        }
        let flags = store.get_var_flags(&task, false)?;
        let flag = |name: &str| flags.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        deps.flags.resize_with(COPIED_FLAGS.len(), Vec::new);
        for (i, name) in COPIED_FLAGS.iter().enumerate() {
            let Some(value) = flag(name) else { continue };
            let Ok(expanded) = store.expand(value, None) else {
                return Ok(None);
            };
            if BOOLEAN_FLAGS.contains(name) && expanded != "1" {
                return Ok(None);
            }
            insert(&mut deps.flags[i], &task, expanded);
        }
        let mut parents = Vec::new();
        if let Some(after) = flag("deps") {
            let Some(after) = python_split(after) else {
                return Ok(None);
            };
            for dep in after {
                let Ok(dep) = store.expand(dep, None) else {
                    return Ok(None);
                };
                parents.push(dep);
            }
        }
        insert(&mut deps.parents, &task, parents);
    }
    Ok(Some(deps))
}

/// `dict[key] = value` on a dict's items.
fn insert<T>(items: &mut Vec<(String, T)>, key: &str, value: T) {
    match items.iter_mut().find(|(k, _)| k == key) {
        Some(item) => item.1 = value,
        None => items.push((key.to_string(), value)),
    }
}

/// `str.split()` (how the store's text of a list reads back as the list), or `None` when
/// the text holds a character that Python counts as whitespace and Rust does not (the
/// separators U+001C to U+001F).
fn python_split(text: &str) -> Option<Vec<&str>> {
    if text.contains(['\u{1c}', '\u{1d}', '\u{1e}', '\u{1f}']) {
        return None;
    }
    Some(text.split_whitespace().collect())
}
