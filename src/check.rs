//! `bitzel check`: parse BitBake metadata and report every problem BitBake would report.
//!
//! A path to check is a single file, a layer (a folder with `conf/layer.conf`) or a folder
//! holding layers. For a layer, the files checked are the ones BitBake reads from it:
//!
//! - `conf/layer.conf`, `conf/bitbake.conf`, the machine, distro and multiconfig files,
//! - every `.bbclass` in `classes/`, `classes-global/` and `classes-recipe/`,
//! - the recipes and bbappends that the layer's `BBFILES` (and `BBFILES_DYNAMIC`) globs
//!   match, with `${LAYERDIR}` standing for the layer, as BitBake's cooker collects them,
//! - the files those recipes `include`/`require` by a literal name, searched in the
//!   including file's folder and then at the layer's top (BitBake searches the including
//!   folder, then BBPATH), and the other `.inc` files of the layer's recipe folders.
//!
//! Data files (the `files/` and `${BPN}/` folders beside recipes that FILESPATH searches)
//! are never parsed: they are not metadata.

use crate::diagnostic::{Diagnostic, LineIndex, Severity};
use crate::syntax::{self, ast, FileKind};
use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What a check run found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CheckSummary {
    /// Files parsed.
    pub files: usize,
    /// Errors reported.
    pub errors: usize,
    /// Warnings reported.
    pub warnings: usize,
}

/// Checks `paths`, writes every diagnostic and a closing summary line to `out`, and
/// returns the counts. Fails only when a path cannot be read at all.
///
/// Each file is parsed once; the files it includes by a literal name are queued as they
/// are found. Diagnostics are printed in path order, so the output is stable.
pub fn run(paths: &[PathBuf], out: &mut impl Write) -> Result<CheckSummary> {
    let mut queue: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
    for path in paths {
        queue.extend(files_to_check(path)?);
    }
    let mut seen: BTreeSet<PathBuf> = queue.iter().map(|(file, _)| file.clone()).collect();
    let mut reports = BTreeMap::new();
    let mut summary = CheckSummary::default();
    while let Some((file, layer)) = queue.pop() {
        let checked = check_file(&file, &mut summary)?;
        if let Some(layer) = layer {
            for included in literal_includes(&file, &layer, &checked.includes) {
                if seen.insert(included.clone()) {
                    queue.push((included, Some(layer.clone())));
                }
            }
        }
        reports.insert(file, checked.diagnostics);
    }
    for diagnostics in reports.values() {
        for diagnostic in diagnostics {
            out.write_all(diagnostic.as_bytes())?;
        }
    }
    writeln!(
        out,
        "bitzel check: {} {} checked, {} {}, {} {}",
        summary.files,
        plural(summary.files, "file", "files"),
        summary.errors,
        plural(summary.errors, "error", "errors"),
        summary.warnings,
        plural(summary.warnings, "warning", "warnings"),
    )?;
    Ok(summary)
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// What checking one file produced.
struct CheckedFile {
    /// Rendered diagnostics, in text order.
    diagnostics: Vec<String>,
    /// The argument words of its include/require statements.
    includes: Vec<String>,
}

/// Parses one file, renders its diagnostics (counting them in `summary`) and collects the
/// names it includes.
fn check_file(path: &Path, summary: &mut CheckSummary) -> Result<CheckedFile> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {shown}"))?;
    summary.files += 1;
    let (text, decode_error) = decode(&bytes, &shown);
    let kind = FileKind::from_path(path).unwrap_or(FileKind::Recipe);
    let parse = syntax::parse(&text, kind);
    let index = LineIndex::new(&text);
    let mut diagnostics: Vec<Diagnostic> = decode_error.into_iter().collect();
    diagnostics.extend(parse.errors().iter().map(|e| Diagnostic {
        severity: e.severity,
        message: e.message.clone(),
        path: shown.clone(),
        range: e.range.clone(),
    }));
    let mut rendered = Vec::with_capacity(diagnostics.len());
    for diagnostic in &diagnostics {
        match diagnostic.severity {
            Severity::Error => summary.errors += 1,
            Severity::Warning => summary.warnings += 1,
        }
        rendered.push(diagnostic.render(&text, &index));
    }
    let includes = parse
        .tree()
        .statements()
        .filter_map(|statement| match statement {
            ast::Statement::Include(include) => Some(include.files()),
            _ => None,
        })
        .flat_map(|files| {
            files
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    Ok(CheckedFile {
        diagnostics: rendered,
        includes,
    })
}

/// Decodes a file as BitBake does (UTF-8). Invalid UTF-8 is an error at the first bad
/// byte (BitBake fails with a UnicodeDecodeError); the rest is decoded lossily so that
/// the other problems of the file are still reported.
fn decode(bytes: &[u8], shown: &str) -> (String, Option<Diagnostic>) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), None),
        Err(err) => {
            let at = err.valid_up_to();
            let diagnostic = Diagnostic::error(
                shown,
                at..at,
                format!(
                    "invalid UTF-8 (byte 0x{:02x}): BitBake cannot read this file",
                    bytes[at]
                ),
            );
            (
                String::from_utf8_lossy(bytes).into_owned(),
                Some(diagnostic),
            )
        }
    }
}

/// The files BitBake would read for `path`: the file itself, a layer's metadata, or the
/// metadata of every layer below a folder.
fn files_to_check(path: &Path) -> Result<Vec<(PathBuf, Option<PathBuf>)>> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.is_file() {
        return Ok(vec![(path.to_path_buf(), None)]);
    }
    if path.join("conf/layer.conf").is_file() {
        return Ok(layer_files(path));
    }
    let layers = layers_below(path);
    if layers.is_empty() {
        bail!(
            "{} is neither a BitBake file nor a layer (no conf/layer.conf in it or below it)",
            path.display()
        );
    }
    Ok(layers.iter().flat_map(|layer| layer_files(layer)).collect())
}

/// Layers (folders with `conf/layer.conf`) below `dir`, sorted, not looking inside a layer.
fn layers_below(dir: &Path) -> Vec<PathBuf> {
    let mut layers = Vec::new();
    let mut walk = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .max_depth(4)
        .sort_by_file_name()
        .into_iter();
    while let Some(Ok(entry)) = walk.next() {
        if !entry.file_type().is_dir() || entry.file_name().to_str().is_some_and(is_hidden) {
            if entry.file_type().is_dir() {
                walk.skip_current_dir();
            }
            continue;
        }
        if entry.path().join("conf/layer.conf").is_file() {
            layers.push(entry.path().to_path_buf());
            walk.skip_current_dir();
        }
    }
    layers
}

fn is_hidden(name: &str) -> bool {
    name.starts_with('.')
}

/// The metadata files BitBake reads from one layer, sorted, each paired with the layer
/// (the files they include are found while they are checked).
///
/// Of `conf/`, BitBake reads layer.conf, bitbake.conf, the machine, distro and
/// multiconfig files that a configuration selects, and what these include; other files
/// there are only read when something includes them (meta's ccache.conf is ccache's own
/// configuration, not BitBake's), so they are found through the includes.
fn layer_files(layer: &Path) -> Vec<(PathBuf, Option<PathBuf>)> {
    let mut files = BTreeSet::new();
    for top in ["conf/layer.conf", "conf/bitbake.conf"] {
        let file = layer.join(top);
        if file.is_file() {
            files.insert(file);
        }
    }
    for (sub, ext) in [
        ("conf/machine", "conf"),
        ("conf/machine-sdk", "conf"),
        ("conf/distro", "conf"),
        ("conf/multiconfig", "conf"),
        ("conf", "inc"),
        ("classes", "bbclass"),
        ("classes-global", "bbclass"),
        ("classes-recipe", "bbclass"),
    ] {
        files.extend(files_with_extension(&layer.join(sub), ext));
    }
    files.extend(bbfiles_of_layer(layer));
    files.extend(recipe_folder_includes(layer));
    files
        .into_iter()
        .map(|file| (file, Some(layer.to_path_buf())))
        .collect()
}

fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == ext))
        .map(|e| e.into_path())
        .collect()
}

/// Expands the `BBFILES` and `BBFILES_DYNAMIC` globs that `conf/layer.conf` sets, with
/// `${LAYERDIR}` replaced by the layer (as BitBake does while it parses layer.conf).
/// Patterns that still hold other `${...}` references cannot be globbed and are passed over.
fn bbfiles_of_layer(layer: &Path) -> Vec<PathBuf> {
    let layer_conf = layer.join("conf/layer.conf");
    let Ok(text) = std::fs::read_to_string(&layer_conf) else {
        return Vec::new();
    };
    let parse = syntax::parse(&text, FileKind::BaseConfig);
    let layer_dir = layer.to_string_lossy();
    let mut matched = BTreeSet::new();
    for statement in parse.tree().statements() {
        let ast::Statement::Assignment(assignment) = statement else {
            continue;
        };
        let name = assignment.name();
        let base = name.split(':').next().unwrap_or("");
        if assignment.flag().is_some() || (base != "BBFILES" && base != "BBFILES_DYNAMIC") {
            continue;
        }
        for word in assignment.value().split_whitespace() {
            // BBFILES_DYNAMIC entries are `collection:pattern`; the pattern is what is read.
            let pattern = if base == "BBFILES_DYNAMIC" {
                word.split_once(':').map_or(word, |(_, p)| p)
            } else {
                word
            };
            let pattern = pattern.replace("${LAYERDIR}", &layer_dir);
            if pattern.contains("${") {
                continue;
            }
            if let Ok(paths) = glob::glob(&pattern) {
                matched.extend(paths.filter_map(|p| p.ok()).filter(|p| p.is_file()));
            }
        }
    }
    matched.into_iter().collect()
}

/// The `.inc` files among a layer's recipes: every `.inc` outside `conf/` that is not in a
/// data folder (a `files/` folder, or a folder named after a recipe beside it, which
/// FILESPATH searches for `file://` sources).
fn recipe_folder_includes(layer: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut walk = walkdir::WalkDir::new(layer)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter();
    while let Some(Ok(entry)) = walk.next() {
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_dir() {
            let top_level_skip =
                entry.depth() == 1 && (name == "conf" || name.starts_with("classes"));
            if is_hidden(&name) || top_level_skip || is_data_folder(entry.path()) {
                walk.skip_current_dir();
            }
            continue;
        }
        if entry.file_type().is_file() && name.ends_with(".inc") {
            found.push(entry.into_path());
        }
    }
    found
}

/// Whether `dir` is one of the folders FILESPATH searches beside a recipe: `files/`, or a
/// folder whose name begins a recipe file's name in the same parent (`${BPN}`, `${BP}`).
fn is_data_folder(dir: &Path) -> bool {
    let Some(name) = dir.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    if name == "files" {
        return true;
    }
    let Some(parent) = dir.parent() else {
        return false;
    };
    let Ok(entries) = std::fs::read_dir(parent) else {
        return false;
    };
    entries.filter_map(|e| e.ok()).any(|e| {
        let file = e.file_name();
        let file = file.to_string_lossy();
        let stem = file
            .strip_suffix(".bb")
            .or_else(|| file.strip_suffix(".bbappend"));
        stem.is_some_and(|stem| {
            let pn = stem.split('_').next().unwrap_or(stem);
            pn == name || stem == name || name.starts_with(&format!("{pn}-"))
        })
    })
}

/// The files named by `includes` (include/require arguments of `file`) that exist, found
/// in the including file's folder and then at the layer's top as BitBake searches them
/// (BBPATH starts with the layers); names holding `${...}` need a data store and are passed
/// over, and only files inside the layer are returned.
fn literal_includes(file: &Path, layer: &Path, includes: &[String]) -> Vec<PathBuf> {
    let folder = file.parent().unwrap_or(layer);
    includes
        .iter()
        .filter(|name| !name.contains("${"))
        .filter_map(|name| {
            [folder.join(name), layer.join(name)]
                .into_iter()
                .find(|candidate| candidate.is_file())
        })
        .filter(|found| found.starts_with(layer))
        .collect()
}
