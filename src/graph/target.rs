//! Which recipe variant `bitbake -e NAME` shows: `BBCooker.showEnvironment` with one
//! target runs `buildTaskData([NAME])` over every parsed recipe and takes the fn the
//! run list names, i.e. the provider `TaskData.add_provider` chooses for NAME (a PN, a
//! `PROVIDES` name such as `virtual/kernel`, a variant's PN such as `zlib-native`).
//!
//! That needs every recipe parsed (all of Poky: ~15 s). The common case, NAME a PN, is
//! answered from a few files when the answer cannot differ, by BitBake's own rule in
//! `bb.providers._filterProviders`: when no PREFERRED_PROVIDER names a provider of NAME,
//! the best version of the recipes whose PN is NAME comes first. So if
//!
//! 1. neither `PREFERRED_PROVIDER_<NAME>` nor a `PREFERRED_PROVIDERS` entry for NAME is
//!    set,
//! 2. every recipe variant whose PN may be NAME is among the files parsed: the files
//!    whose name-derived PN (`vars_from_file`) is part of NAME (`zlib` for `zlib`,
//!    `zlib-native`, `nativesdk-zlib`, `lib32-zlib`...), parsed with all their
//!    BBCLASSEXTEND variants; and no `.bb`, `.bbappend` or `.inc` file of the layers
//!    sets PN (`PN = "gcc-cross-${TARGET_ARCH}"`, or `setVar("PN"` in Python) to a value
//!    that could be NAME (each `${...}` matching anything), which would make another
//!    file a candidate, and
//! 3. among those variants one whose PN is NAME is buildable and is the provider chosen
//!    (the same `TaskData` code, over those variants),
//!
//! then the whole parse would choose it too. Otherwise every recipe is parsed. What this
//! does not see: a class that sets PN to a name unrelated to the recipe's file name
//! outside BBCLASSEXTEND (Poky's classes set PN only for their variants: native,
//! nativesdk, multilib, mcextend, devupstream, each keeping the file's PN in the name).

use std::path::Path;
use std::sync::Arc;

use super::cache::recipe_infos;
use super::recipe::{GraphConfig, RecipeInfo};
use super::{provider_of, GraphFailure};
use crate::eval::collection::Collection;
use crate::eval::config::Configuration;
use crate::eval::python::PythonBridge;
use crate::eval::recipe::{parse_all, vars_from_file};

/// The recipe `bitbake -e NAME` shows: (real file, variant name: `""`, `native`,
/// `multilib:lib32`...), and whether the fast path answered (see the module doc).
/// `graph_config` is [`GraphConfig::from_store`] of the configuration; `parsed_all` is
/// called for the whole parse when the fast path cannot answer and returns every
/// variant's facts ([`recipe_infos`] of `parse_all`).
pub fn recipe_for_environment(
    config: &Configuration,
    graph_config: &GraphConfig,
    collection: &Collection,
    python: Option<&Arc<PythonBridge>>,
    jobs: usize,
    name: &str,
    parsed_all: impl FnOnce() -> Vec<RecipeInfo>,
) -> Result<(String, String, bool), GraphFailure> {
    if let Some(found) = fast_path(config, graph_config, collection, python, jobs, name) {
        return Ok((found.0, found.1, true));
    }
    let recipes = parsed_all();
    let recipe = provider_of(&recipes, graph_config, name)?;
    let (file, variant) = virtualfn2realfn(&recipe.file);
    Ok((file, variant, false))
}

/// `bb.cache.virtualfn2realfn` without multiconfig: (real file, variant).
pub fn virtualfn2realfn(virtualfn: &str) -> (String, String) {
    match virtualfn.strip_prefix("virtual:") {
        Some(rest) => match rest.rsplit_once(':') {
            Some((variant, file)) => (file.to_string(), variant.to_string()),
            None => (virtualfn.to_string(), String::new()),
        },
        None => (virtualfn.to_string(), String::new()),
    }
}

fn fast_path(
    config: &Configuration,
    graph_config: &GraphConfig,
    collection: &Collection,
    python: Option<&Arc<PythonBridge>>,
    jobs: usize,
    name: &str,
) -> Option<(String, String)> {
    if graph_config
        .var(&format!("PREFERRED_PROVIDER_{name}"))
        .is_some()
        || graph_config
            .var("PREFERRED_PROVIDERS")
            .unwrap_or("")
            .split_whitespace()
            .any(|e| e.split_once(':').is_some_and(|(p, _)| p == name))
    {
        return None;
    }
    let candidates: Vec<String> = collection
        .recipes
        .iter()
        .filter(|f| vars_from_file(f).is_some_and(|(pn, _, _)| name.contains(pn.as_str())))
        .cloned()
        .collect();
    let layers = config
        .recipe_store(python)
        .get_var("BBLAYERS", true)
        .ok()
        .flatten()
        .map(|v| v.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .unwrap_or_default();
    if candidates.is_empty() || layers_may_set_pn(&layers, name) {
        return None;
    }
    let mut subset = collection.clone();
    subset.recipes = candidates;
    let parsed = parse_all(config, &subset, python, jobs);
    let recipes = recipe_infos(&parsed, &subset);
    let chosen = provider_of(&recipes, graph_config, name).ok()?;
    (chosen.pn == name).then(|| virtualfn2realfn(&chosen.file))
}

/// Whether a recipe-side file (`.bb`, `.bbappend`, `.inc`) under `layer_dirs` sets PN to
/// a value that could be `name`, or sets PN from Python.
fn layers_may_set_pn(layer_dirs: &[String], name: &str) -> bool {
    for dir in layer_dirs {
        for entry in walkdir::WalkDir::new(dir)
            .sort_by_file_name()
            .into_iter()
            .flatten()
        {
            let path = entry.path();
            let recipe_side = path
                .extension()
                .is_some_and(|e| e == "bb" || e == "bbappend" || e == "inc");
            if !recipe_side || !entry.file_type().is_file() {
                continue;
            }
            if file_may_set_pn(path, name) {
                return true;
            }
        }
    }
    false
}

fn file_may_set_pn(path: &Path, name: &str) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    if !text.contains("PN") {
        return false;
    }
    for line in text.lines() {
        let line = line.trim_start();
        if line.contains("setVar(\"PN\"") || line.contains("setVar('PN'") {
            return true;
        }
        let Some(rest) = line.strip_prefix("PN") else {
            continue;
        };
        // `PN = "..."`, `PN ?= `, `PN := `, `PN:override = `...: an assignment to PN.
        if !rest.starts_with([' ', '\t', '=', '?', ':', '.', '+']) {
            continue;
        }
        let value = match (rest.find('"'), rest.rfind('"')) {
            (Some(a), Some(b)) if b > a => &rest[a + 1..b],
            _ => match (rest.find('\''), rest.rfind('\'')) {
                (Some(a), Some(b)) if b > a => &rest[a + 1..b],
                _ => continue,
            },
        };
        if may_expand_to(value, name) {
            return true;
        }
    }
    false
}

/// Whether `value`, with each `${...}` standing for any text, matches part of `name`
/// (a conservative test: the variant classes add prefixes and suffixes).
fn may_expand_to(value: &str, name: &str) -> bool {
    let mut literals: Vec<&str> = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        literals.push(&rest[..start]);
        let mut depth = 0usize;
        let mut end = rest.len();
        for (i, c) in rest[start..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = start + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &rest[end..];
    }
    literals.push(rest);
    // The literal pieces must appear in `name` in order.
    let mut at = 0;
    for lit in literals.iter().filter(|l| !l.is_empty()) {
        match name[at..].find(lit) {
            Some(i) => at += i + lit.len(),
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansions_match_anything_literals_in_order() {
        assert!(may_expand_to(
            "gcc-cross-${TARGET_ARCH}",
            "gcc-cross-x86_64"
        ));
        assert!(may_expand_to("${BPN}-native", "zlib-native"));
        assert!(!may_expand_to("gcc-cross-${TARGET_ARCH}", "zlib"));
        assert!(!may_expand_to(
            "meta-environment-${MACHINE}",
            "environment-meta"
        ));
        assert!(may_expand_to("${@d.getVar('X')}", "anything"));
    }

    #[test]
    fn virtual_file_names_split_into_file_and_variant() {
        assert_eq!(
            virtualfn2realfn("virtual:multilib:lib32:/l/a.bb"),
            ("/l/a.bb".to_string(), "multilib:lib32".to_string())
        );
        assert_eq!(
            virtualfn2realfn("/l/a.bb"),
            ("/l/a.bb".to_string(), String::new())
        );
    }
}
