//! The recipe files of a configuration, collected as BitBake's cooker collects them
//! (`CookerCollectFiles.collect_bbfiles`, `get_file_appends`, `calc_bbfile_priority`,
//! the layer priorities of `BBCookerHandleCollections`).
//!
//! - `BBFILES` is sorted by the priority of the layer each entry belongs to (Python's
//!   stable sort), each entry globbed (a directory is searched for `.bb` files), the
//!   results sorted per entry and de-duplicated in order.
//! - `BBMASK`: its words (a leading `|` dropped, invalid ones ignored) joined with `|`
//!   into one regular expression searched in each path.
//! - A `.bbappend` applies to a `.bb` when their names agree once `.bbappend` becomes
//!   `.bb`, or when the append's name holds a `%` and the recipe's name starts with
//!   what precedes the `%` (`busybox_%.bbappend` matches `busybox_1.36.1.bb`, and also
//!   `busybox_foo.bb`: BitBake compares only the prefix).
//! - A file's layer is the first collection whose `BBFILE_PATTERN_<c>` matches it
//!   (`re.match`), with the patterns sorted longest text first (as strings, reverse).
//!   A layer's priority is `BBFILE_PRIORITY_<c>`; without one, BitBake computes it from
//!   `LAYERDEPENDS`: one more than the highest of its dependencies (the lowest
//!   explicit priority otherwise).

use super::datastore::DataStore;
use regex::Regex;
use std::collections::BTreeMap;

/// One layer collection (`BBFILE_COLLECTIONS` entry).
#[derive(Debug, Clone)]
pub struct Layer {
    /// The collection's name (`core`, `yocto`...), BitBake's `FILE_LAYERNAME`.
    pub name: String,
    /// `BBFILE_PATTERN_<name>` as written.
    pub pattern: String,
    regex: Regex,
    /// The layer's priority.
    pub priority: i64,
}

/// The recipes and appends of a configuration.
#[derive(Debug, Clone, Default)]
pub struct Collection {
    /// The layers, in `calc_bbfile_priority`'s order (longest pattern first).
    pub layers: Vec<Layer>,
    /// The `.bb` files, in BitBake's order (lowest priority layer first).
    pub recipes: Vec<String>,
    /// The `.bbappend` files as `(recipe file name it applies to, path)`.
    pub appends: Vec<(String, String)>,
    /// How many files `BBMASK` hid.
    pub masked: usize,
    /// Problems (invalid patterns), as BitBake logs them.
    pub warnings: Vec<String>,
}

/// Python's `re` syntax that the `regex` crate spells differently: `(?P<n>` is taken by
/// both; `\Z` is `\z`.
fn python_regex(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&pattern.replace("\\Z", "\\z"))
}

impl Collection {
    /// Collects the recipe files of the configuration `store` (the cooker's view).
    pub fn collect(store: &DataStore) -> Collection {
        let mut out = Collection::default();
        out.layers = layers(store, &mut out.warnings);
        let mut files: Vec<String> = store
            .get_text("BBFILES")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect();
        files.sort_by_key(|f| out.priority(f).0);
        let mut newfiles: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for f in &files {
            let path = std::path::Path::new(f);
            let mut found: Vec<String> = if path.is_dir() {
                walkdir::WalkDir::new(path)
                    .into_iter()
                    .filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".bb"))
                    .map(|e| e.path().to_string_lossy().into_owned())
                    .collect()
            } else {
                let mut g: Vec<String> = glob::glob(f)
                    .map(|paths| {
                        paths
                            .filter_map(Result::ok)
                            .map(|p| p.to_string_lossy().into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                if g.is_empty() && path.exists() {
                    g.push(f.clone());
                }
                g.sort();
                g
            };
            for g in found.drain(..) {
                if seen.insert(g.clone()) {
                    newfiles.push(g);
                }
            }
        }
        let mask = store.get_text("BBMASK").unwrap_or_default();
        let mut masks = Vec::new();
        for m in mask.split_whitespace() {
            let m = m.strip_prefix('|').unwrap_or(m);
            match python_regex(m) {
                Ok(_) => masks.push(m.to_string()),
                Err(_) => out.warnings.push(format!(
                    "BBMASK contains an invalid regular expression, ignoring: {m}"
                )),
            }
        }
        let mask = if masks.is_empty() {
            None
        } else {
            python_regex(&masks.join("|")).ok()
        };
        for f in newfiles {
            if mask.as_ref().is_some_and(|m| m.is_match(&f)) {
                out.masked += 1;
                continue;
            }
            if f.ends_with(".bb") {
                out.recipes.push(f);
            } else if let Some(stem) = f.strip_suffix(".bbappend") {
                let base = stem.rsplit('/').next().unwrap_or(stem);
                out.appends.push((format!("{base}.bb"), f.clone()));
            }
        }
        out
    }

    /// `calc_bbfile_priority(filename)`: (priority, layer name) of the first layer whose
    /// pattern matches at the start of `file`; (0, None) for none.
    pub fn priority(&self, file: &str) -> (i64, Option<&str>) {
        for layer in &self.layers {
            if layer.regex.find(file).is_some_and(|m| m.start() == 0) {
                return (layer.priority, Some(&layer.name));
            }
        }
        (0, None)
    }

    /// `get_file_appends(fn)`: the appends of recipe file `file`, in collection order.
    pub fn appends_of(&self, file: &str) -> Vec<String> {
        let f = file.rsplit('/').next().unwrap_or(file);
        self.appends
            .iter()
            .filter(|(name, _)| {
                name == f
                    || name.find('%').is_some_and(|i| {
                        // bbappend.startswith(f[:bbappend.index('%')])
                        let prefix = &f.as_bytes()[..i.min(f.len())];
                        name.as_bytes().starts_with(prefix)
                    })
            })
            .map(|(_, path)| path.clone())
            .collect()
    }
}

/// The layers with their patterns and priorities, as `handleCollections` computes them.
fn layers(store: &DataStore, warnings: &mut Vec<String>) -> Vec<Layer> {
    let names: Vec<String> = store
        .get_text("BBFILE_COLLECTIONS")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let mut explicit: BTreeMap<String, i64> = BTreeMap::new();
    let mut depends: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut min_prio = 0i64;
    for c in &names {
        if let Some(p) = store
            .get_text(&format!("BBFILE_PRIORITY_{c}"))
            .filter(|p| !p.is_empty())
        {
            match p.trim().parse::<i64>() {
                Ok(p) => {
                    if min_prio == 0 || p < min_prio {
                        min_prio = p;
                    }
                    explicit.insert(c.clone(), p);
                }
                Err(_) => warnings.push(format!("invalid value for BBFILE_PRIORITY_{c}: \"{p}\"")),
            }
        }
        // LAYERDEPENDS_<c>: names, each optionally with a version in parentheses.
        let deps = store
            .get_text(&format!("LAYERDEPENDS_{c}"))
            .unwrap_or_default();
        let mut list = Vec::new();
        let mut depth = 0;
        for word in deps.split_whitespace() {
            if word.starts_with('(') {
                depth += 1;
            }
            if depth == 0 && names.contains(&word.to_string()) {
                list.push(word.to_string());
            }
            if word.ends_with(')') && depth > 0 {
                depth -= 1;
            }
        }
        depends.insert(c.clone(), list);
    }
    fn calc(
        c: &str,
        prio: &mut BTreeMap<String, i64>,
        depends: &BTreeMap<String, Vec<String>>,
        min_prio: i64,
        active: &mut Vec<String>,
    ) -> i64 {
        if let Some(p) = prio.get(c) {
            return *p;
        }
        if active.iter().any(|a| a == c) {
            return min_prio;
        }
        active.push(c.to_string());
        let mut max = min_prio;
        for dep in depends.get(c).into_iter().flatten() {
            max = max.max(calc(dep, prio, depends, min_prio, active));
        }
        active.pop();
        prio.insert(c.to_string(), max + 1);
        max + 1
    }
    let mut prio = explicit;
    let mut layers = Vec::new();
    for c in &names {
        let priority = calc(c, &mut prio, &depends, min_prio, &mut Vec::new());
        let Ok(Some(pattern)) = store.get_var(&format!("BBFILE_PATTERN_{c}"), true) else {
            warnings.push(format!("BBFILE_PATTERN_{c} not defined"));
            continue;
        };
        let pattern = pattern.to_string();
        let regex = if pattern.is_empty() {
            python_regex("^NULL$")
        } else {
            python_regex(&pattern)
        };
        match regex {
            Ok(regex) => layers.push(Layer {
                name: c.clone(),
                pattern,
                regex,
                priority,
            }),
            Err(_) => warnings.push(format!(
                "BBFILE_PATTERN_{c} \"{pattern}\" is not a valid regular expression"
            )),
        }
    }
    // Python's sorted(..., key=pattern, reverse=True) is stable.
    layers.sort_by(|a, b| b.pattern.cmp(&a.pattern));
    layers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_appends_match_by_prefix() {
        let c = Collection {
            appends: vec![
                ("busybox_%.bb".into(), "/a/busybox_%.bbappend".into()),
                ("busybox_1.0.bb".into(), "/b/busybox_1.0.bbappend".into()),
                ("bash_%.bb".into(), "/c/bash_%.bbappend".into()),
            ],
            ..Collection::default()
        };
        assert_eq!(
            c.appends_of("/x/busybox_1.0.bb"),
            vec!["/a/busybox_%.bbappend", "/b/busybox_1.0.bbappend"]
        );
        assert_eq!(
            c.appends_of("/x/busybox_2.0.bb"),
            vec!["/a/busybox_%.bbappend"]
        );
        assert!(c.appends_of("/x/busy.bb").is_empty());
    }
}

#[cfg(test)]
mod layer_tests {
    use super::*;
    use crate::eval::Location;

    fn store(vars: &[(&str, &str)]) -> DataStore {
        let mut s = DataStore::new();
        for (k, v) in vars {
            s.set_var(k, v, &Location::new("test", 0));
        }
        s
    }

    #[test]
    fn layers_without_a_priority_get_one_more_than_their_dependencies() {
        let s = store(&[
            ("BBFILE_COLLECTIONS", "core app extra"),
            ("BBFILE_PATTERN_core", "^/l/core/"),
            ("BBFILE_PATTERN_app", "^/l/app/"),
            ("BBFILE_PATTERN_extra", "^/l/extra/"),
            ("BBFILE_PRIORITY_app", "7"),
            ("LAYERDEPENDS_extra", "app (>= 2) core"),
        ]);
        let mut warnings = Vec::new();
        let layers = layers(&s, &mut warnings);
        let prio = |n: &str| layers.iter().find(|l| l.name == n).unwrap().priority;
        // The lowest explicit priority is 7: core has no dependency (8), extra depends
        // on app (7) and core (8): 9.
        assert_eq!((prio("app"), prio("core"), prio("extra")), (7, 8, 9));
        assert!(warnings.is_empty(), "{warnings:?}");
        // Longest pattern text first, as strings in reverse order.
        let order: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(order, ["extra", "core", "app"]);
    }

    #[test]
    fn bbmask_words_drop_a_leading_bar_and_invalid_ones() {
        let dir = std::env::temp_dir().join(format!("bitzel-mask-{}", std::process::id()));
        for sub in ["a", "b", "c"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
            std::fs::write(dir.join(sub).join(format!("{sub}_1.0.bb")), "").unwrap();
        }
        let files = format!("{}/*/*.bb", dir.display());
        let s = store(&[("BBFILES", &files), ("BBMASK", "|/a/ ([ /c/c_")]);
        let c = Collection::collect(&s);
        let names: Vec<&str> = c
            .recipes
            .iter()
            .map(|f| f.rsplit('/').next().unwrap())
            .collect();
        assert_eq!(names, ["b_1.0.bb"]);
        assert_eq!(c.masked, 2);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
