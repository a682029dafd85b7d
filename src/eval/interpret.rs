//! Applying parsed statements to a data store, as BitBake's `bb.parse.ast` nodes do in
//! their `eval`, and reading files the way `bb.parse.handle` reads them (ConfHandler for
//! `.conf`, BBHandler for `.bb`, `.bbclass` and `.inc`): resolving the file along
//! `BBPATH`, setting `FILE`, `include`/`require`/`include_all`, `inherit` with its
//! `__inherit_cache`, functions, tasks and handlers.
//!
//! An [`Interpreter`] evaluates into a [`DataStore`] it is given; it keeps what BitBake
//! keeps beside the store: the files parsed so far (BitBake's `cached_statements`), the
//! dependency list (`__depends`, which becomes `BBINCLUDED`), the deferred inherits
//! (`__BBDEFINHERITS`), the `addpylib` statements met and the [`Diagnostic`]s.
//!
//! BitBake's list-valued internal variables (`__inherit_cache`, `__BBTASKS`,
//! `__BBHANDLERS`, `__BBANONFUNCS`, a task's `deps` flag) are kept as words separated by
//! single spaces, the convention of the Python bridge, which splits and joins them for
//! Python code. A path with a space in it would not survive that; BitBake's layers have
//! none.
//!
//! Errors: BitBake stops at the first `ParseError` (a syntax error, a missing `require`,
//! a class that cannot be inherited). The interpreter records it as an error
//! [`Diagnostic`] naming the file and line and goes on with the next statement, so that
//! one run reports every problem; a caller must treat a result with errors as BitBake
//! treats a failed parse.

use super::datastore::DataStore;
use super::python::{anonymous_function_name, PythonBridge};
use super::statement::{Assignment, Location};
use crate::diagnostic::{Diagnostic, LineIndex, Severity};
use crate::syntax::ast::{IncludeKind, Statement};
use crate::syntax::{parse, FileKind, Parse};
use rustc_hash::FxHashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One file as BitBake's handlers read it: its text and parsed statements.
#[derive(Debug)]
pub struct SourceFile {
    /// The absolute path, as BitBake names the file in `FILE` and in history.
    pub path: String,
    /// The file's text (for diagnostics).
    pub text: String,
    /// The parse.
    pub parse: Parse,
    /// Each statement's parts as evaluation takes them ([`Lowered`]), read out of the
    /// syntax tree on the first evaluation: a class is evaluated once per recipe variant,
    /// and reading them each time was 3% of a Poky parse.
    lowered: std::sync::OnceLock<Vec<Lowered>>,
}

/// A statement's parts that evaluation reads, taken out of the syntax tree.
#[derive(Debug)]
enum Lowered {
    /// An assignment in the store's form.
    Assignment(Assignment),
    /// A brace function.
    Function(FunctionParts),
    /// A `def` block: its name and whole text.
    PythonDef { name: String, text: String },
    /// Any other statement, read from the tree when it is evaluated.
    Other,
}

/// A brace function's parts (`MethodNode`).
#[derive(Debug)]
struct FunctionParts {
    /// None for an anonymous function.
    name: Option<String>,
    body: String,
    is_python: bool,
    is_fakeroot: bool,
}

impl Lowered {
    fn of(statement: &Statement) -> Lowered {
        match statement {
            Statement::Assignment(a) => Lowered::Assignment(Assignment {
                exported: a.exported(),
                name: a.name(),
                flag: a.flag(),
                op: a.op(),
                value: a.value(),
            }),
            Statement::Function(f) => Lowered::Function(FunctionParts {
                name: f.name(),
                body: f.body(),
                is_python: f.is_python(),
                is_fakeroot: f.is_fakeroot(),
            }),
            Statement::PythonDef(def) => Lowered::PythonDef {
                name: def.name(),
                text: def.text(),
            },
            _ => Lowered::Other,
        }
    }
}

impl SourceFile {
    /// The file at `path` with `text`, parsed as `parse`.
    pub fn new(path: String, text: String, parse: Parse) -> SourceFile {
        SourceFile {
            path,
            text,
            parse,
            lowered: std::sync::OnceLock::new(),
        }
    }

    fn lowered(&self) -> &[Lowered] {
        self.lowered.get_or_init(|| {
            self.parse
                .tree()
                .statements()
                .map(|s| Lowered::of(&s))
                .collect()
        })
    }
}

/// Parsed classes, .inc and .conf files shared by the interpreters of one
/// configuration's recipes (BitBake caches the statements of the files it includes in
/// the same way, `bb.parse.ast`'s cached ASTs): each is read and parsed once, not once
/// per recipe. Recipe files themselves are not kept.
#[derive(Default)]
pub struct FileCache {
    files: std::sync::Mutex<FxHashMap<(String, FileKind), Arc<SourceFile>>>,
    /// Whether each path looked for (`include`, `require`, `inherit` along BBPATH) is a
    /// file on disk: the layers do not change while they are parsed, and every recipe
    /// looks for the same classes in the same directories (a stat each, 1.5% of a Poky
    /// parse).
    existing: std::sync::Mutex<FxHashMap<PathBuf, bool>>,
}

impl FileCache {
    fn get(&self, path: &str, kind: FileKind) -> Option<Arc<SourceFile>> {
        let files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        files.get(&(path.to_string(), kind)).cloned()
    }

    fn exists(&self, path: &Path) -> bool {
        let lock = || self.existing.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&known) = lock().get(path) {
            return known;
        }
        // Looked at without the lock: other threads' lookups do not wait for the disk.
        let found = path.exists();
        lock().insert(path.to_path_buf(), found);
        found
    }

    fn put(&self, kind: FileKind, file: &Arc<SourceFile>) {
        let shared = [".bbclass", ".inc", ".conf"];
        if shared.iter().any(|ext| file.path.ends_with(ext)) {
            let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
            files.insert((file.path.clone(), kind), file.clone());
        }
    }
}

/// An `inherit_defer` statement kept for the end of parsing: an entry of BitBake's
/// `__BBDEFINHERITS` (`InheritDeferredNode`), `(classes, filename, lineno)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeferredInherit {
    /// The classes, unexpanded.
    pub classes: String,
    /// The file of the statement.
    pub file: String,
    /// Its line.
    pub line: u32,
}

/// An `addpylib` statement met while evaluating (`PyLibNode`): the library folder
/// (unexpanded) and the Python namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyLib {
    /// The folder, unexpanded (`${LAYERDIR}/lib`).
    pub dir: String,
    /// The namespace (`oe`).
    pub namespace: String,
    /// Where the statement is.
    pub location: Location,
}

/// Which of BitBake's handlers reads a file (`bb.parse.handle` picks it by the name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handler {
    /// ConfHandler (`.conf`).
    Conf,
    /// BBHandler (`.bb`, `.bbclass`, `.inc`).
    Recipe,
}

fn handler_for(path: &str) -> Option<Handler> {
    if path.ends_with(".conf") {
        Some(Handler::Conf)
    } else if path.ends_with(".bb")
        || path.ends_with(".bbclass")
        || path.ends_with(".inc")
        || path.ends_with(".bbappend")
    {
        Some(Handler::Recipe)
    } else {
        None
    }
}

/// Why [`Interpreter::handle`] could not read a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandleError {
    /// BitBake's `IOError(ENOENT)`: the file is nowhere (`include` ignores it, `require`
    /// reports it); not reported yet.
    NotFound,
    /// Any other failure, already reported as a diagnostic.
    Reported,
}

/// Evaluates BitBake files and statements into a [`DataStore`] (see the module docs).
pub struct Interpreter<'p> {
    python: Option<&'p PythonBridge>,
    cwd: PathBuf,
    files: FxHashMap<String, Arc<SourceFile>>,
    diagnostics: Vec<Diagnostic>,
    depends: Vec<String>,
    active: Vec<String>,
    deferred: Vec<DeferredInherit>,
    pylibs: Vec<PyLib>,
    include_history: Vec<(usize, String)>,
    /// Files held in memory that stand in for files on disk (by absolute path).
    in_memory: FxHashMap<String, Arc<str>>,
    /// Parsed files shared with other interpreters of the same configuration.
    shared: Option<Arc<FileCache>>,
}

/// A change that BitBake's own code makes, located as BitBake's variable history names
/// it (`file.py:line [function]` of BitBake 2.8.1): line 0 marks such a location, and
/// `bitbake -e` output prints its text as it is.
pub fn bitbake_site(site: &'static str) -> Location {
    Location::new(site, 0)
}

/// `os.path.join(a, b)`: `b` if it is absolute, else `a/b` (`b` alone when `a` is empty).
fn path_join(a: &str, b: &str) -> String {
    if b.starts_with('/') || a.is_empty() {
        b.to_string()
    } else if a.ends_with('/') {
        format!("{a}{b}")
    } else {
        format!("{a}/{b}")
    }
}

/// `os.path.dirname`.
fn dirname(path: &str) -> &str {
    match path.rfind('/') {
        None => "",
        Some(i) => match path[..i].trim_end_matches('/') {
            "" => "/",
            head => head,
        },
    }
}

/// `os.path.basename`.
fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `os.path.normpath` of an absolute path (`.` and `..` resolved textually).
fn normpath(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

fn words(value: Option<Arc<str>>) -> Vec<String> {
    value
        .map(|v| v.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Whether a list that BitBake keeps as a Python list (here its words) holds `word`.
/// A word without whitespace is searched as text (the list is `__inherit_cache`, a
/// hundred paths, searched at every inherit): a match with whitespace or an end on both
/// sides is a word.
fn has_word(value: Option<&str>, word: &str) -> bool {
    let Some(v) = value else { return false };
    if word.is_empty() || word.contains(char::is_whitespace) {
        return v.split_whitespace().any(|w| w == word);
    }
    v.match_indices(word).any(|(at, _)| {
        let before = v[..at].chars().next_back();
        let after = v[at + word.len()..].chars().next();
        before.is_none_or(char::is_whitespace) && after.is_none_or(char::is_whitespace)
    })
}

/// Whether `text` is already its words joined by single spaces (ASCII, no other
/// whitespace, none at either end).
fn is_joined_words(text: &str) -> bool {
    let bytes = text.as_bytes();
    text.is_ascii()
        && bytes.first() != Some(&b' ')
        && bytes.last() != Some(&b' ')
        && !bytes
            .iter()
            .any(|b| matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        && !text.contains("  ")
}

/// Such a list with `added` appended (`list.append`), as its text: the words joined by
/// single spaces. One string, where splitting into words and joining them made one per
/// word (every recipe appends to __inherit_cache some 70 times).
fn with_words_appended<'a>(
    value: Option<&'a str>,
    added: impl IntoIterator<Item = &'a str>,
) -> String {
    let mut text = String::with_capacity(value.map_or(0, str::len) + 64);
    // A list this function made is already joined: kept whole, not split and joined.
    let (kept, rest) = match value {
        Some(v) if is_joined_words(v) => (v, None),
        other => ("", other),
    };
    text.push_str(kept);
    for word in rest
        .into_iter()
        .flat_map(str::split_whitespace)
        .chain(added)
    {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(word);
    }
    text
}

impl<'p> Interpreter<'p> {
    /// An interpreter whose relative paths are relative to `cwd` (BitBake's current
    /// directory, the build directory), evaluating Python with `python` when given: `def`
    /// functions go to its method pool, anonymous functions are defined there, `addpylib`
    /// loads the library. Without a bridge those are only recorded in the store.
    pub fn new(cwd: impl Into<PathBuf>, python: Option<&'p PythonBridge>) -> Interpreter<'p> {
        Interpreter {
            python,
            cwd: cwd.into(),
            files: FxHashMap::default(),
            diagnostics: Vec::new(),
            depends: Vec::new(),
            active: Vec::new(),
            deferred: Vec::new(),
            pylibs: Vec::new(),
            include_history: Vec::new(),
            in_memory: FxHashMap::default(),
            shared: None,
        }
    }

    /// Shares parsed classes, .inc and .conf files with the other interpreters using
    /// `cache` (those of one configuration's recipes).
    pub fn share_files(&mut self, cache: Arc<FileCache>) {
        self.shared = Some(cache);
    }

    /// Makes the file `path` (absolute) read as `text`, whether or not it exists on
    /// disk: the configuration files that `oe-init-build-env` would write, or that
    /// `--layers`/`--machine`/`--distro` stand for, without writing them.
    pub fn add_in_memory_file(&mut self, path: &Path, text: &str) {
        self.in_memory
            .insert(path.to_string_lossy().into_owned(), Arc::from(text));
    }

    /// The problems found so far, in the order they were found.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Takes the problems found so far.
    pub fn take_diagnostics(&mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.diagnostics)
    }

    /// Whether an error (something BitBake stops at) was found.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    /// Renders every diagnostic with its source line when the file was read, else as
    /// `path:line: severity: message`.
    pub fn render_diagnostics(&self) -> String {
        let mut out = String::new();
        for d in &self.diagnostics {
            out.push_str(&self.render(d));
        }
        out
    }

    /// Renders one diagnostic (see [`Interpreter::render_diagnostics`]).
    pub fn render(&self, d: &Diagnostic) -> String {
        match self.files.get(&d.path) {
            Some(file) if d.range.end <= file.text.len() => {
                d.render(&file.text, &LineIndex::new(&file.text))
            }
            _ => format!("{}: {}: {}\n", d.path, d.severity.as_str(), d.message),
        }
    }

    /// The files BitBake's `mark_dependency` recorded (`__depends`): every file read and
    /// every candidate path looked at along a search path, in order, without repeats.
    pub fn depends(&self) -> &[String] {
        &self.depends
    }

    /// The `inherit_defer` statements met, in order (`__BBDEFINHERITS`).
    pub fn deferred_inherits(&self) -> &[DeferredInherit] {
        &self.deferred
    }

    /// BitBake's include history (DataSmart's `inchistory`): every file handed to
    /// `bb.parse.handle`, as it was named (relative names stay relative; a file that was
    /// not found is listed too), in order, with its depth (0 for a file the caller read,
    /// 1 for what that file included...).
    pub fn include_history(&self) -> &[(usize, String)] {
        &self.include_history
    }

    /// The `addpylib` statements met, in order.
    pub fn pylibs(&self) -> &[PyLib] {
        &self.pylibs
    }

    /// The files read so far, by absolute path.
    pub fn files(&self) -> impl Iterator<Item = &Arc<SourceFile>> {
        self.files.values()
    }

    fn error_at(&mut self, file: &str, line: u32, message: impl Into<String>) {
        let range = self.line_range(file, line);
        self.diagnostics
            .push(Diagnostic::error(file.to_string(), range, message));
    }

    fn warning_at(&mut self, file: &str, line: u32, message: impl Into<String>) {
        let range = self.line_range(file, line);
        self.diagnostics
            .push(Diagnostic::warning(file.to_string(), range, message));
    }

    fn line_range(&self, file: &str, line: u32) -> std::ops::Range<usize> {
        match self.files.get(file) {
            Some(f) if line > 0 && line as usize <= f.parse.line_number(f.text.len()) => {
                let index = LineIndex::new(&f.text);
                let r = index.line_range(&f.text, line as usize - 1);
                r.start..r.start.max(r.end)
            }
            _ => 0..0,
        }
    }

    /// `bb.parse.mark_dependency`.
    fn mark_dependency(&mut self, path: &str) {
        let path = if let Some(rest) = path.strip_prefix("./") {
            path_join(&self.cwd.to_string_lossy(), rest)
        } else {
            path.to_string()
        };
        if !self.depends.contains(&path) {
            self.depends.push(path);
        }
    }

    fn exists(&self, path: &str) -> bool {
        let full = self.cwd.join(path);
        let on_disk = match &self.shared {
            Some(cache) => cache.exists(&full),
            None => full.exists(),
        };
        on_disk || self.is_in_memory(&full)
    }

    fn is_in_memory(&self, full: &Path) -> bool {
        !self.in_memory.is_empty() && self.in_memory.contains_key(&*full.to_string_lossy())
    }

    fn abspath(&self, path: &str) -> String {
        if path.starts_with('/') {
            normpath(path)
        } else {
            normpath(&path_join(&self.cwd.to_string_lossy(), path))
        }
    }

    /// `bb.utils.which(path, item, history=True)`: the first `dir/item` that exists along
    /// the colon-separated `path` (made absolute), and every candidate looked at.
    pub fn which(&self, path: &str, item: &str) -> (Option<String>, Vec<String>) {
        let mut attempts = Vec::new();
        for dir in path.split(':') {
            let candidate = path_join(dir, item);
            attempts.push(candidate.clone());
            if self.exists(&candidate) {
                let found = if candidate.starts_with('/') {
                    candidate
                } else {
                    self.abspath(&candidate)
                };
                return (Some(found), attempts);
            }
        }
        (None, attempts)
    }

    fn bbpath(store: &DataStore) -> String {
        store
            .get_var("BBPATH", true)
            .ok()
            .flatten()
            .map(|v| v.to_string())
            .unwrap_or_default()
    }

    /// `bb.parse.resolve_file`: a relative name found along `BBPATH` (candidates marked
    /// as dependencies), an absolute one marked; `None` when it is not a file.
    fn resolve_file(&mut self, store: &DataStore, name: &str) -> Option<String> {
        let path = if !name.starts_with('/') {
            let (found, attempts) = self.which(&Self::bbpath(store), name);
            for a in &attempts {
                self.mark_dependency(a);
            }
            found?
        } else {
            self.mark_dependency(name);
            name.to_string()
        };
        let full = self.cwd.join(&path);
        (full.is_file() || self.is_in_memory(&full)).then_some(path)
    }

    /// Reads and parses `path` once (BitBake caches the statements of classes and .inc
    /// files; configuration files are read again, with the same result).
    fn load(&mut self, path: &str, kind: FileKind) -> Result<Arc<SourceFile>, HandleError> {
        if let Some(file) = self.files.get(path) {
            return Ok(file.clone());
        }
        if let Some(file) = self.shared.as_ref().and_then(|c| c.get(path, kind)) {
            self.push_parse_errors(&file);
            self.files.insert(path.to_string(), file.clone());
            return Ok(file);
        }
        let full = self.cwd.join(path);
        let in_memory = self.in_memory.get(&*full.to_string_lossy()).cloned();
        let read = match in_memory {
            Some(text) => Ok(text.as_bytes().to_vec()),
            None => std::fs::read(&full),
        };
        let bytes = read.map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                HandleError::NotFound
            } else {
                self.diagnostics.push(Diagnostic::error(
                    path.to_string(),
                    0..0,
                    format!("cannot read {path}: {e}"),
                ));
                HandleError::Reported
            }
        })?;
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                self.diagnostics.push(Diagnostic::error(
                    path.to_string(),
                    0..0,
                    format!("{path} is not UTF-8 text: {e}"),
                ));
                return Err(HandleError::Reported);
            }
        };
        let parse = parse(&text, kind);
        let file = Arc::new(SourceFile::new(path.to_string(), text, parse));
        self.push_parse_errors(&file);
        if let Some(cache) = &self.shared {
            cache.put(kind, &file);
        }
        self.files.insert(path.to_string(), file.clone());
        Ok(file)
    }

    fn push_parse_errors(&mut self, file: &SourceFile) {
        for err in file.parse.errors() {
            self.diagnostics.push(Diagnostic {
                severity: err.severity,
                message: err.message.clone(),
                path: file.path.clone(),
                range: err.range.clone(),
            });
        }
    }

    /// `bb.parse.handle(fn, d, include)` for a configuration file read as base
    /// configuration (cookerdata's `parse_config_file`: `bblayers.conf`, `layer.conf`,
    /// `bitbake.conf`, which may hold `addpylib`). Returns false when the file does not
    /// exist (BitBake's `IOError`), which the caller reports.
    pub fn parse_config_file(&mut self, store: &mut DataStore, name: &str) -> bool {
        match self.handle(store, name, true, Some(FileKind::BaseConfig)) {
            Ok(()) => true,
            Err(HandleError::Reported) => true,
            Err(HandleError::NotFound) => false,
        }
    }

    /// `bb.parse.handle(fn, d, include)`: picks the handler by the file name, resolves
    /// the file along `BBPATH`, sets `FILE` as the handler does, evaluates the
    /// statements and restores `FILE` (only for an `include`: a recipe read with
    /// `include` false keeps its `FILE`). `kind` overrides the parser's dialect
    /// ([`FileKind::BaseConfig`] for cookerdata's `parse_config_file`). For a recipe the
    /// caller then finalises (deferred inherits, anonymous functions), as
    /// `ast.multi_finalize` does.
    pub fn handle(
        &mut self,
        store: &mut DataStore,
        name: &str,
        include: bool,
        kind: Option<FileKind>,
    ) -> Result<(), HandleError> {
        let Some(handler) = handler_for(name) else {
            self.diagnostics.push(Diagnostic::error(
                name.to_string(),
                0..0,
                format!("{name}: not a BitBake file"),
            ));
            return Err(HandleError::Reported);
        };
        let depth = self.active.len();
        self.include_history.push((depth, name.to_string()));
        let is_class = name.ends_with(".bbclass");
        if is_class {
            // BBHandler.handle adds the class to __inherit_cache before resolving it.
            self.add_to_inherit_cache(store, name);
        }
        let oldfile = if include {
            store
                .get_var("FILE", false)
                .ok()
                .flatten()
                .map(|v| v.to_string())
        } else {
            None
        };
        let Some(abs) = self.resolve_file(store, name) else {
            return Err(HandleError::NotFound);
        };
        if self.active.contains(&abs) {
            let (file, line) = self.active_location();
            self.error_at(
                &file,
                line,
                format!("{abs} includes itself (recursive inclusion)"),
            );
            return Err(HandleError::Reported);
        }
        let kind = kind.unwrap_or(match handler {
            Handler::Conf => FileKind::Config,
            Handler::Recipe => FileKind::Recipe,
        });
        let file = self.load(&abs, kind)?;
        let (set_site, restore_site) = match handler {
            Handler::Conf => (
                bitbake_site("ConfHandler.py:151 [handle]"),
                bitbake_site("ConfHandler.py:154 [handle]"),
            ),
            Handler::Recipe => (
                bitbake_site("BBHandler.py:143 [handle]"),
                bitbake_site("BBHandler.py:161 [handle]"),
            ),
        };
        let sets_file = match handler {
            Handler::Conf => true,
            Handler::Recipe => !is_class && Some(&abs) != oldfile.as_ref(),
        };
        if sets_file {
            store.set_var("FILE", &abs, &set_site);
        }
        self.active.push(abs.clone());
        self.eval_file(store, &file);
        self.active.pop();
        let restore = match handler {
            Handler::Conf => oldfile.is_some(),
            Handler::Recipe => !is_class && oldfile.is_some() && Some(&abs) != oldfile.as_ref(),
        };
        if restore {
            if let Some(old) = oldfile {
                store.set_var("FILE", &old, &restore_site);
            }
        }
        Ok(())
    }

    /// Where the file being evaluated now is, for errors without a statement.
    fn active_location(&self) -> (String, u32) {
        (self.active.last().cloned().unwrap_or_default(), 0)
    }

    fn add_to_inherit_cache(&mut self, store: &mut DataStore, path: &str) {
        let cache = store.get_var("__inherit_cache", false).ok().flatten();
        if !has_word(cache.as_deref(), path) {
            let text = with_words_appended(cache.as_deref(), [path]);
            store.set_var(
                "__inherit_cache",
                &text,
                &bitbake_site("BBHandler.py:129 [handle]"),
            );
        }
    }

    /// Evaluates the statements of `file` in order (`StatementGroup.eval`).
    pub fn eval_file(&mut self, store: &mut DataStore, file: &SourceFile) {
        let classname = if file.path.ends_with(".bbclass") {
            let base = basename(&file.path);
            base[..base.len() - ".bbclass".len()].to_string()
        } else {
            String::new()
        };
        for (statement, lowered) in file.parse.tree().statements().zip(file.lowered()) {
            self.eval_statement(store, file, &classname, &statement, lowered);
        }
    }

    /// Evaluates one statement of `file` as its `bb.parse.ast` node's `eval` does;
    /// `classname` is the class being read (for `EXPORT_FUNCTIONS`), empty elsewhere;
    /// `lowered` the statement's parts ([`SourceFile::lowered`]).
    fn eval_statement(
        &mut self,
        store: &mut DataStore,
        file: &SourceFile,
        classname: &str,
        statement: &Statement,
        lowered: &Lowered,
    ) {
        let end: usize = statement.syntax().text_range().end().into();
        let start: usize = statement.syntax().text_range().start().into();
        let line = file.parse.line_number(end.saturating_sub(1).max(start)) as u32;
        let loc = Location::new(file.path.as_str(), line);
        match lowered {
            Lowered::Assignment(stmt) => {
                if let Err(e) = store.assign(stmt, loc.clone()) {
                    self.error_at(&file.path, line, e.to_string());
                }
                return;
            }
            Lowered::Function(f) => return self.method(store, f, &file.path, line, &loc),
            Lowered::PythonDef { name, text } => {
                // PythonMethodNode: BitBake's node line is the line that ended the block;
                // its lineno flag and method-pool line are the `def` line minus one.
                let def_line = file.parse.line_number(start) as u32;
                if let Some(python) = self.python {
                    if let Err(e) = python.insert_method(
                        basename(&file.path),
                        text,
                        &file.path,
                        def_line as usize - 1,
                    ) {
                        self.error_at(&file.path, def_line, format!("{e}"));
                    }
                }
                store.set_var_flag(name, "func", "1", &loc);
                store.set_var_flag(name, "python", "1", &loc);
                store.set_var_parsing(name, text, &loc);
                store.set_var_flag(name, "filename", &file.path, &loc);
                store.set_var_flag(name, "lineno", &(def_line - 1).to_string(), &loc);
                return;
            }
            Lowered::Other => {}
        }
        match statement {
            // Lowered, and evaluated above.
            Statement::Assignment(_) | Statement::Function(_) | Statement::PythonDef(_) => {}
            // ExportNode passes no location: BitBake's history names its own code.
            Statement::Export(e) => store.export(&e.name(), bitbake_site("ast.py:52 [eval]")),
            Statement::Unset(u) => store.unset(&u.name(), u.flag().as_deref(), loc),
            Statement::Include(i) => {
                let error_out = match i.kind() {
                    IncludeKind::Require => Some("include required"),
                    IncludeKind::Include | IncludeKind::IncludeAll => None,
                };
                let files = self.expand_or_report(store, &i.files(), &file.path, line);
                if i.kind() == IncludeKind::IncludeAll {
                    self.include_all(store, &file.path, &files, line);
                } else {
                    self.include(store, &file.path, &files, line, error_out);
                }
            }
            Statement::Inherit(i) if i.deferred() => self.deferred.push(DeferredInherit {
                classes: i.classes(),
                file: file.path.clone(),
                line,
            }),
            Statement::Inherit(i) => self.inherit(store, &i.classes(), &file.path, line),
            Statement::AddTask(t) => {
                let task = t.task();
                if !task.is_empty() {
                    add_task(store, &task, &t.before(), &t.after());
                }
            }
            Statement::DelTask(t) => {
                let tasks = self.expand_or_report(store, &t.tasks(), &file.path, line);
                for task in tasks.split_whitespace() {
                    del_task(store, task);
                }
            }
            Statement::AddHandler(h) => {
                let handlers = store.get_var("__BBHANDLERS", false).ok().flatten();
                let names = h.handlers();
                for name in names.split_whitespace() {
                    store.set_var_flag(name, "handler", "1", &loc);
                }
                let text = with_words_appended(handlers.as_deref(), names.split_whitespace());
                store.set_var("__BBHANDLERS", &text, &loc);
            }
            Statement::ExportFunctions(e) => {
                self.export_functions(store, &e.functions(), classname, &file.path, line, &loc)
            }
            Statement::AddPylib(p) => {
                let pylib = PyLib {
                    dir: p.dir(),
                    namespace: p.namespace(),
                    location: loc.clone(),
                };
                if let Some(python) = self.python {
                    if let Err(e) = python.add_pylib(
                        &pylib.dir,
                        &pylib.namespace,
                        &file.path,
                        line as usize,
                        store,
                    ) {
                        self.error_at(&file.path, line, format!("addpylib failed: {e}"));
                    }
                }
                self.pylibs.push(pylib);
            }
        }
    }

    fn expand_or_report(&mut self, store: &DataStore, text: &str, file: &str, line: u32) -> String {
        match store.expand(text, None) {
            Ok(v) => v,
            Err(e) => {
                self.error_at(file, line, e.to_string());
                text.to_string()
            }
        }
    }

    /// `MethodNode.eval`: a brace function, named or anonymous.
    fn method(
        &mut self,
        store: &mut DataStore,
        f: &FunctionParts,
        file: &str,
        line: u32,
        loc: &Location,
    ) {
        let body = &f.body;
        // BitBake's body is the lines between the braces plus an empty one for the `}`.
        let body_len = body.matches('\n').count() as u32 + 1;
        let mut python = f.is_python;
        let (funcname, text) = match &f.name {
            Some(name) => (name.clone(), body.clone()),
            None => {
                python = true;
                let lines: Vec<&str> = body
                    .strip_suffix('\n')
                    .unwrap_or(body)
                    .split('\n')
                    .collect();
                let lines: Vec<&str> = if body.is_empty() { Vec::new() } else { lines };
                let name = match self.python {
                    Some(bridge) => match bridge.insert_anonymous(&lines, file, line as usize) {
                        Ok(name) => name,
                        Err(e) => {
                            self.error_at(file, line, format!("{e}"));
                            anonymous_function_name(file, line as usize)
                        }
                    },
                    None => anonymous_function_name(file, line as usize),
                };
                let anon = store.get_var("__BBANONFUNCS", false).ok().flatten();
                let text = with_words_appended(anon.as_deref(), [name.as_str()]);
                store.set_var("__BBANONFUNCS", &text, loc);
                let text = format!("def {name}(d):\n{body}");
                (name, text)
            }
        };
        if store
            .get_var(&funcname, false)
            .ok()
            .flatten()
            .is_some_and(|v| !v.is_empty())
        {
            store.del_var_flag(&funcname, "python", loc);
            store.del_var_flag(&funcname, "fakeroot", loc);
        }
        if python {
            store.set_var_flag(&funcname, "python", "1", loc);
        }
        if f.is_fakeroot {
            store.set_var_flag(&funcname, "fakeroot", "1", loc);
        }
        store.set_var_flag(&funcname, "func", "1", loc);
        store.set_var_parsing(&funcname, &text, loc);
        store.set_var_flag(&funcname, "filename", file, loc);
        store.set_var_flag(
            &funcname,
            "lineno",
            &(line.saturating_sub(body_len)).to_string(),
            loc,
        );
    }

    /// `ExportFuncsNode.eval`: `func` becomes a stub calling `<class>_func`, unless a
    /// recipe or another class already defined `func` itself.
    fn export_functions(
        &mut self,
        store: &mut DataStore,
        functions: &str,
        classname: &str,
        file: &str,
        line: u32,
        loc: &Location,
    ) {
        const SENTINEL: &str = "    # Export function set\n";
        let raw = |store: &DataStore, name: &str| store.get_var(name, false).ok().flatten();
        let flag = |store: &DataStore, name: &str, flag: &str| {
            store
                .get_var_flag(name, flag, false)
                .ok()
                .flatten()
                .filter(|v| !v.is_empty())
        };
        for func in functions.split_whitespace() {
            let calledfunc = format!("{classname}_{func}");
            let basevar = raw(store, func);
            if let Some(base) = &basevar {
                if !base.is_empty() && !base.contains(SENTINEL) {
                    continue;
                }
            }
            if basevar.as_deref().is_some_and(|v| !v.is_empty()) {
                store.del_var_flag(func, "python", loc);
                store.del_var_flag(func, "func", loc);
            }
            for f in ["func", "python"] {
                if let Some(v) = flag(store, &calledfunc, f) {
                    store.set_var_flag(func, f, &v, loc);
                }
            }
            for f in ["dirs", "cleandirs", "fakeroot"] {
                if let Some(v) = flag(store, func, f) {
                    store.set_var_flag(&calledfunc, f, &v, loc);
                }
            }
            store.set_var_flag(func, "filename", "autogenerated", loc);
            store.set_var_flag(func, "lineno", "1", loc);
            if flag(store, &calledfunc, "python").is_some() {
                let text = format!("{SENTINEL}    bb.build.exec_func('{calledfunc}', d)\n");
                store.set_var_parsing(func, &text, loc);
            } else {
                if classname.contains('-') {
                    self.error_at(
                        file,
                        line,
                        format!(
                            "The classname {classname} contains a dash character and is calling an sh function {calledfunc} using EXPORT_FUNCTIONS. Since a dash is illegal in sh function names, this cannot work, please rename the class or don't use EXPORT_FUNCTIONS."
                        ),
                    );
                }
                let text = format!("{SENTINEL}    {calledfunc}\n");
                store.set_var_parsing(func, &text, loc);
            }
        }
    }

    /// ConfHandler's `include(parentfn, fns, lineno, data, error_out)`: each word of the
    /// (already expanded) `files` through [`Interpreter::include_single_file`].
    pub fn include(
        &mut self,
        store: &mut DataStore,
        parent: &str,
        files: &str,
        line: u32,
        error_out: Option<&str>,
    ) {
        for name in files.split_whitespace() {
            self.include_single_file(store, parent, name, line, error_out);
        }
    }

    /// ConfHandler's `include_single_file`: a relative name is looked for in the
    /// including file's folder, then along `BBPATH` (every candidate is a dependency);
    /// a file that is missing is an error only with `error_out` (`require`: "Could not
    /// include required file X", at the requiring file and line). Including the
    /// including file itself does nothing.
    pub fn include_single_file(
        &mut self,
        store: &mut DataStore,
        parent: &str,
        name: &str,
        line: u32,
        error_out: Option<&str>,
    ) {
        if parent == name {
            return;
        }
        let mut target = name.to_string();
        if !name.starts_with('/') {
            let search = format!("{}:{}", dirname(parent), Self::bbpath(store));
            let (found, attempts) = self.which(&search, name);
            for a in &attempts {
                self.mark_dependency(a);
            }
            if let Some(found) = found {
                target = found;
            }
        }
        match self.handle(store, &target, true, None) {
            Ok(()) | Err(HandleError::Reported) => {}
            Err(HandleError::NotFound) => {
                if let Some(verb) = error_out {
                    self.error_at(parent, line, format!("Could not {verb} file {target}"));
                }
            }
        }
    }

    /// `include_all` (BitBake 2.10+, `IncludeAllNode`): `include` of `<dir>/<files>` for
    /// every folder of `BBPATH`, in order (the joined text is split into words again, as
    /// BitBake's `include` splits it); a missing file is ignored.
    pub fn include_all(&mut self, store: &mut DataStore, parent: &str, files: &str, line: u32) {
        let bbpath = Self::bbpath(store);
        for dir in bbpath.split(':') {
            let joined = path_join(dir, files);
            self.include(store, parent, &joined, line, None);
        }
    }

    /// BBHandler's `inherit(files, fn, lineno, d)`: each class (expanded, split) looked
    /// up as `classes-<__bbclasstype>/<name>.bbclass`, then `classes/<name>.bbclass`,
    /// along `BBPATH`; read once (`__inherit_cache`); "Could not inherit file" at
    /// `file:line` when it is nowhere.
    pub fn inherit(&mut self, store: &mut DataStore, classes: &str, file: &str, line: u32) {
        let classes = self.expand_or_report(store, classes, file, line);
        for class in classes.split_whitespace() {
            let classtype = store
                .get_var("__bbclasstype", false)
                .ok()
                .flatten()
                .map(|v| v.to_string())
                .unwrap_or_else(|| "None".to_string());
            let mut path = class.to_string();
            for folder in [format!("classes-{classtype}"), "classes".to_string()] {
                path = class.to_string();
                if !path.starts_with('/') && !path.ends_with(".bbclass") {
                    path = format!("{folder}/{class}.bbclass");
                }
                if !path.starts_with('/') {
                    let (found, attempts) = self.which(&Self::bbpath(store), &path);
                    for a in &attempts {
                        if Some(a) != found.as_ref() {
                            self.mark_dependency(a);
                        }
                    }
                    if let Some(found) = found {
                        path = found;
                    }
                }
                if self.exists(&path) {
                    break;
                }
            }
            if !self.exists(&path) {
                self.error_at(file, line, format!("Could not inherit file {path}"));
                continue;
            }
            let cache = store.get_var("__inherit_cache", false).ok().flatten();
            if !has_word(cache.as_deref(), &path) {
                self.add_to_inherit_cache(store, &path);
                match self.handle(store, &path, true, None) {
                    Ok(()) | Err(HandleError::Reported) => {}
                    Err(HandleError::NotFound) => {
                        self.error_at(file, line, format!("Could not inherit file {path}"))
                    }
                }
            }
        }
    }

    /// The end of `bb.parse.ast.finalize`'s first step: the `inherit_defer` statements,
    /// in order, as `inherit`s (more may be deferred meanwhile; they run too).
    pub fn run_deferred_inherits(&mut self, store: &mut DataStore) {
        while !self.deferred.is_empty() {
            let d = self.deferred.remove(0);
            self.inherit(store, &d.classes, &d.file, d.line);
        }
    }

    /// Replaces the pending `inherit_defer`s (`__BBDEFINHERITS`): a BBCLASSEXTEND
    /// variant starts from the list as the recipe left it, plus its class.
    pub fn set_deferred_inherits(&mut self, deferred: Vec<DeferredInherit>) {
        self.deferred = deferred;
    }

    /// Forgets the files recorded by [`Interpreter::depends`] after the first `len`: a
    /// variant's `__depends` starts from the recipe's.
    pub fn truncate_depends(&mut self, len: usize) {
        self.depends.truncate(len);
    }

    /// `bb.parse.ast.finalize`'s warning for a statement that could not be evaluated;
    /// exposed for callers that evaluate more (recipes).
    pub fn warn(&mut self, file: &str, line: u32, message: impl Into<String>) {
        self.warning_at(file, line, message);
    }
}

/// `bb.build.addtask(task, before, after, d)`: `do_` is added to the task's name (not,
/// in scarthgap, to the names after `before`/`after`); the task is flagged `task`,
/// listed in `__BBTASKS`, its `deps` flag gets the `after` names and each `before` task's
/// `deps` gets this one in front. History names `build.py`, as BitBake's does.
pub fn add_task(store: &mut DataStore, task: &str, before: &[String], after: &[String]) {
    let task = if task.starts_with("do_") {
        task.to_string()
    } else {
        format!("do_{task}")
    };
    store.set_var_flag(&task, "task", "1", &bitbake_site("build.py:937 [addtask]"));
    let mut tasks = words(store.get_var("__BBTASKS", false).ok().flatten());
    if !tasks.contains(&task) {
        tasks.push(task.clone());
    }
    store.set_var(
        "__BBTASKS",
        &tasks.join(" "),
        &bitbake_site("build.py:941 [addtask]"),
    );
    let mut deps = words(store.get_var_flag(&task, "deps", false).ok().flatten());
    for entry in after {
        if !deps.contains(entry) {
            deps.push(entry.clone());
        }
    }
    store.set_var_flag(
        &task,
        "deps",
        &deps.join(" "),
        &bitbake_site("build.py:949 [addtask]"),
    );
    for entry in before {
        let existing = words(store.get_var_flag(entry, "deps", false).ok().flatten());
        if !existing.contains(&task) {
            let mut deps = vec![task.clone()];
            deps.extend(existing);
            store.set_var_flag(
                entry,
                "deps",
                &deps.join(" "),
                &bitbake_site("build.py:955 [addtask]"),
            );
        }
    }
}

/// `bb.build.deltask(task, d)`: the task leaves `__BBTASKS` (losing its `task` and `deps`
/// flags) and every other task's `deps`.
pub fn del_task(store: &mut DataStore, task: &str) {
    let task = if task.starts_with("do_") {
        task.to_string()
    } else {
        format!("do_{task}")
    };
    let mut tasks = words(store.get_var("__BBTASKS", false).ok().flatten());
    if let Some(i) = tasks.iter().position(|t| *t == task) {
        tasks.remove(i);
        store.del_var_flag(&task, "task", &bitbake_site("build.py:964 [deltask]"));
        store.set_var(
            "__BBTASKS",
            &tasks.join(" "),
            &bitbake_site("build.py:965 [deltask]"),
        );
    }
    store.del_var_flag(&task, "deps", &bitbake_site("build.py:967 [deltask]"));
    for other in tasks {
        let mut deps = words(store.get_var_flag(&other, "deps", false).ok().flatten());
        if let Some(i) = deps.iter().position(|t| *t == task) {
            deps.remove(i);
            store.set_var_flag(
                &other,
                "deps",
                &deps.join(" "),
                &bitbake_site("build.py:972 [deltask]"),
            );
        }
    }
}

/// Python's `re.escape` (3.7+): a backslash before each of `()[]{}?*+-|^$\.&~# ` and the
/// whitespace characters `\t\n\r\x0b\x0c`; what the cooker sets `LAYERDIR_RE` to.
pub fn re_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "()[]{}?*+-|^$\\.&~# \t\n\r\x0b\x0c".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// has_word and with_words_appended, which search and keep the text whole, give what
    /// splitting into words gives, on random lists of words, spaces, tabs, newlines,
    /// non-ASCII whitespace and words that contain each other.
    #[test]
    fn word_lists_as_text_equal_word_lists_split() {
        const PIECES: [&str; 12] = [
            "a",
            "ab",
            "b/a",
            "a.bbclass",
            " ",
            "  ",
            "\t",
            "\n",
            "\u{a0}",
            "é",
            "x a",
            "",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for _ in 0..5000 {
            let text: String = (0..next(8)).map(|_| PIECES[next(PIECES.len())]).collect();
            let word = PIECES[next(PIECES.len())];
            let split_has = text.split_whitespace().any(|w| w == word);
            assert_eq!(has_word(Some(&text), word), split_has, "{text:?} {word:?}");
            let joined: Vec<&str> = text.split_whitespace().chain([word]).collect();
            assert_eq!(
                with_words_appended(Some(&text), [word]),
                joined.join(" "),
                "{text:?} + {word:?}"
            );
        }
    }

    /// A fresh folder holding `files` (path, text); BBPATH is set to it.
    struct Tree {
        root: PathBuf,
    }

    impl Tree {
        fn new(files: &[(&str, &str)]) -> Tree {
            static COUNT: AtomicUsize = AtomicUsize::new(0);
            let root = std::env::temp_dir().join(format!(
                "bitzel-interpret-{}-{}",
                std::process::id(),
                COUNT.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&root);
            for (path, text) in files {
                let path = root.join(path);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
            Tree { root }
        }

        fn path(&self, rel: &str) -> String {
            self.root.join(rel).to_string_lossy().into_owned()
        }

        /// Evaluates `file` (relative to the root) with BBPATH = root and
        /// `__bbclasstype` = global, as the configuration does.
        fn eval(&self, file: &str) -> (DataStore, Vec<Diagnostic>, Vec<String>) {
            let mut store = DataStore::new();
            let loc = Location::new("test", 0);
            store.set_var("BBPATH", &self.root.to_string_lossy(), &loc);
            store.set_var("__bbclasstype", "global", &loc);
            let mut interp = Interpreter::new(&self.root, None);
            assert!(interp.parse_config_file(&mut store, &self.path(file)));
            let depends = interp.depends().to_vec();
            (store, interp.take_diagnostics(), depends)
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    fn value(store: &DataStore, name: &str) -> Option<String> {
        store.get_var(name, true).unwrap().map(|v| v.to_string())
    }

    fn flag(store: &DataStore, name: &str, flag: &str) -> Option<String> {
        store
            .get_var_flag(name, flag, false)
            .unwrap()
            .map(|v| v.to_string())
    }

    #[test]
    fn include_of_a_missing_file_is_silent() {
        let tree = Tree::new(&[("conf/a.conf", "include conf/absent.conf\nA = \"1\"\n")]);
        let (store, diagnostics, _) = tree.eval("conf/a.conf");
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(value(&store, "A").as_deref(), Some("1"));
    }

    #[test]
    fn require_of_a_missing_file_is_an_error_at_the_requiring_line() {
        let tree = Tree::new(&[(
            "conf/a.conf",
            "A = \"1\"\n\nrequire conf/absent.conf\nB = \"2\"\n",
        )]);
        let (store, diagnostics, _) = tree.eval("conf/a.conf");
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        let d = &diagnostics[0];
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.path, tree.path("conf/a.conf"));
        assert_eq!(
            d.message,
            "Could not include required file conf/absent.conf"
        );
        let text = std::fs::read_to_string(tree.path("conf/a.conf")).unwrap();
        assert_eq!(LineIndex::new(&text).line_of(d.range.start) + 1, 3);
        // Evaluation goes on after the error (BitBake would stop).
        assert_eq!(value(&store, "B").as_deref(), Some("2"));
    }

    #[test]
    fn include_looks_in_the_including_files_folder_before_bbpath() {
        let tree = Tree::new(&[
            ("conf/a.conf", "include b.conf\n"),
            ("conf/b.conf", "WHERE = \"beside\"\n"),
            ("b.conf", "WHERE = \"bbpath\"\n"),
        ]);
        let (store, _, depends) = tree.eval("conf/a.conf");
        assert_eq!(value(&store, "WHERE").as_deref(), Some("beside"));
        assert!(depends.contains(&tree.path("conf/b.conf")));
    }

    #[test]
    fn include_takes_several_files_and_expands_them() {
        let tree = Tree::new(&[
            ("conf/a.conf", "X = \"x\"\ninclude ${X}.conf y.conf\n"),
            ("conf/x.conf", "FROM_X = \"1\"\n"),
            ("conf/y.conf", "FROM_Y = \"1\"\n"),
        ]);
        let (store, diagnostics, _) = tree.eval("conf/a.conf");
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(value(&store, "FROM_X").as_deref(), Some("1"));
        assert_eq!(value(&store, "FROM_Y").as_deref(), Some("1"));
    }

    #[test]
    fn a_file_including_itself_through_another_is_reported_not_looped() {
        let tree = Tree::new(&[
            ("conf/a.conf", "include b.conf\n"),
            ("conf/b.conf", "include a.conf\n"),
        ]);
        let (_, diagnostics, _) = tree.eval("conf/a.conf");
        assert!(
            diagnostics
                .iter()
                .any(|d| d.message.contains("recursive inclusion")),
            "{diagnostics:?}"
        );
    }

    #[test]
    fn file_is_the_included_file_while_it_is_read_and_restored_after() {
        let tree = Tree::new(&[
            ("conf/a.conf", "include b.conf\nAFTER := \"${FILE}\"\n"),
            ("conf/b.conf", "DURING := \"${FILE}\"\n"),
        ]);
        let (store, _, _) = tree.eval("conf/a.conf");
        assert_eq!(value(&store, "DURING"), Some(tree.path("conf/b.conf")));
        assert_eq!(value(&store, "AFTER"), Some(tree.path("conf/a.conf")));
    }

    #[test]
    fn inherit_prefers_classes_of_the_class_type_and_reads_a_class_once() {
        let tree = Tree::new(&[
            ("classes/c.bbclass", "WHICH = \"classes\"\n"),
            (
                "classes-global/c.bbclass",
                "WHICH = \"classes-global\"\nCOUNT .= \"+\"\n",
            ),
            ("classes/top.bbclass", "inherit c\ninherit c\n"),
        ]);
        let mut store = DataStore::new();
        let loc = Location::new("test", 0);
        store.set_var("BBPATH", &tree.root.to_string_lossy(), &loc);
        store.set_var("__bbclasstype", "global", &loc);
        let mut interp = Interpreter::new(&tree.root, None);
        interp.inherit(&mut store, "top c", "test", 1);
        assert!(
            interp.diagnostics().is_empty(),
            "{:?}",
            interp.diagnostics()
        );
        assert_eq!(value(&store, "WHICH").as_deref(), Some("classes-global"));
        assert_eq!(value(&store, "COUNT").as_deref(), Some("+"));
        let cache = value(&store, "__inherit_cache").unwrap();
        assert_eq!(
            cache.split(' ').collect::<Vec<_>>(),
            [
                tree.path("classes/top.bbclass"),
                tree.path("classes-global/c.bbclass")
            ]
        );
    }

    #[test]
    fn inherit_of_a_missing_class_is_an_error() {
        let tree = Tree::new(&[]);
        let mut store = DataStore::new();
        store.set_var("__bbclasstype", "recipe", &Location::new("test", 0));
        let mut interp = Interpreter::new(&tree.root, None);
        interp.inherit(&mut store, "absent", "recipe.bb", 4);
        let d = &interp.diagnostics()[0];
        assert_eq!(d.message, "Could not inherit file classes/absent.bbclass");
        assert_eq!(d.path, "recipe.bb");
    }

    #[test]
    fn addtask_adds_do_to_the_task_but_not_to_the_names_after_it() {
        let tree = Tree::new(&[(
            "classes/t.bbclass",
            "addtask fetch\naddtask compile after do_fetch\naddtask install after compile before do_build\n",
        )]);
        let mut store = DataStore::new();
        store.set_var("__bbclasstype", "global", &Location::new("test", 0));
        let mut interp = Interpreter::new(&tree.root, None);
        interp.inherit(&mut store, &tree.path("classes/t.bbclass"), "test", 1);
        assert_eq!(
            value(&store, "__BBTASKS").as_deref(),
            Some("do_fetch do_compile do_install")
        );
        assert_eq!(
            flag(&store, "do_install", "deps").as_deref(),
            Some("compile")
        );
        assert_eq!(
            flag(&store, "do_build", "deps").as_deref(),
            Some("do_install")
        );
        assert_eq!(flag(&store, "do_fetch", "task").as_deref(), Some("1"));
    }

    #[test]
    fn deltask_removes_the_task_from_other_tasks_deps() {
        let mut store = DataStore::new();
        add_task(&mut store, "a", &[], &[]);
        add_task(&mut store, "b", &[], &["do_a".into()]);
        add_task(&mut store, "c", &[], &["do_a".into(), "do_b".into()]);
        del_task(&mut store, "a");
        assert_eq!(value(&store, "__BBTASKS").as_deref(), Some("do_b do_c"));
        assert_eq!(flag(&store, "do_b", "deps").as_deref(), Some(""));
        assert_eq!(flag(&store, "do_c", "deps").as_deref(), Some("do_b"));
        assert_eq!(flag(&store, "do_a", "task"), None);
    }

    #[test]
    fn a_shell_function_gets_its_flags_and_the_line_of_its_opening_brace() {
        let tree = Tree::new(&[(
            "classes/f.bbclass",
            "# comment\nfakeroot do_install() {\n\tone\n\ttwo\n}\npython do_py() {\n    pass\n}\n",
        )]);
        let mut store = DataStore::new();
        store.set_var("__bbclasstype", "global", &Location::new("test", 0));
        let mut interp = Interpreter::new(&tree.root, None);
        interp.inherit(&mut store, &tree.path("classes/f.bbclass"), "test", 1);
        assert_eq!(
            store.get_var("do_install", false).unwrap().as_deref(),
            Some("\tone\n\ttwo\n")
        );
        assert_eq!(flag(&store, "do_install", "lineno").as_deref(), Some("2"));
        assert_eq!(flag(&store, "do_install", "fakeroot").as_deref(), Some("1"));
        assert_eq!(flag(&store, "do_install", "func").as_deref(), Some("1"));
        assert_eq!(flag(&store, "do_install", "python"), None);
        assert_eq!(
            flag(&store, "do_install", "filename"),
            Some(tree.path("classes/f.bbclass"))
        );
        assert_eq!(flag(&store, "do_py", "python").as_deref(), Some("1"));
        assert_eq!(flag(&store, "do_py", "lineno").as_deref(), Some("6"));
    }

    #[test]
    fn an_anonymous_function_is_listed_in_bbanonfuncs_under_its_line_and_file() {
        let tree = Tree::new(&[("classes/a.bbclass", "python () {\n    pass\n}\n")]);
        let mut store = DataStore::new();
        store.set_var("__bbclasstype", "global", &Location::new("test", 0));
        let mut interp = Interpreter::new(&tree.root, None);
        let class = tree.path("classes/a.bbclass");
        interp.inherit(&mut store, &class, "test", 1);
        let name = anonymous_function_name(&class, 3);
        assert_eq!(value(&store, "__BBANONFUNCS"), Some(name.clone()));
        assert_eq!(
            store.get_var(&name, false).unwrap().as_deref(),
            Some(format!("def {name}(d):\n    pass\n").as_str())
        );
        assert_eq!(flag(&store, &name, "python").as_deref(), Some("1"));
    }

    #[test]
    fn export_functions_makes_a_stub_unless_the_function_is_already_defined() {
        let tree = Tree::new(&[
            (
                "classes/k.bbclass",
                "k_do_a() {\n\ta\n}\npython k_do_b() {\n    pass\n}\nk_do_c() {\n\tc\n}\nEXPORT_FUNCTIONS do_a do_b do_c\n",
            ),
            ("conf/r.conf", ""),
        ]);
        let mut store = DataStore::new();
        let loc = Location::new("test", 0);
        store.set_var("__bbclasstype", "global", &loc);
        store.set_var("do_c", "\town\n", &loc);
        let mut interp = Interpreter::new(&tree.root, None);
        interp.inherit(&mut store, &tree.path("classes/k.bbclass"), "test", 1);
        assert_eq!(
            store.get_var("do_a", false).unwrap().as_deref(),
            Some("    # Export function set\n    k_do_a\n")
        );
        assert_eq!(
            store.get_var("do_b", false).unwrap().as_deref(),
            Some("    # Export function set\n    bb.build.exec_func('k_do_b', d)\n")
        );
        assert_eq!(flag(&store, "do_b", "python").as_deref(), Some("1"));
        assert_eq!(
            flag(&store, "do_a", "filename").as_deref(),
            Some("autogenerated")
        );
        assert_eq!(
            store.get_var("do_c", false).unwrap().as_deref(),
            Some("\town\n")
        );
    }

    #[test]
    fn addhandler_lists_handlers_and_flags_them() {
        let tree = Tree::new(&[("classes/h.bbclass", "addhandler h1 h2\naddhandler h3\n")]);
        let mut store = DataStore::new();
        store.set_var("__bbclasstype", "global", &Location::new("test", 0));
        let mut interp = Interpreter::new(&tree.root, None);
        interp.inherit(&mut store, &tree.path("classes/h.bbclass"), "test", 1);
        assert_eq!(value(&store, "__BBHANDLERS").as_deref(), Some("h1 h2 h3"));
        assert_eq!(flag(&store, "h2", "handler").as_deref(), Some("1"));
    }

    #[test]
    fn inherit_defer_is_kept_for_the_end() {
        let tree = Tree::new(&[
            ("classes/d.bbclass", "inherit_defer late\nX = \"early\"\n"),
            ("classes/late.bbclass", "X = \"late\"\n"),
        ]);
        let mut store = DataStore::new();
        store.set_var("__bbclasstype", "global", &Location::new("test", 0));
        let mut interp = Interpreter::new(&tree.root, None);
        store.set_var(
            "BBPATH",
            &tree.root.to_string_lossy(),
            &Location::new("t", 0),
        );
        interp.inherit(&mut store, "d", "test", 1);
        assert_eq!(value(&store, "X").as_deref(), Some("early"));
        assert_eq!(interp.deferred_inherits().len(), 1);
        interp.run_deferred_inherits(&mut store);
        assert_eq!(value(&store, "X").as_deref(), Some("late"));
    }

    #[test]
    fn syntax_errors_of_an_included_file_are_reported_and_evaluation_goes_on() {
        let tree = Tree::new(&[
            ("conf/a.conf", "include b.conf\nAFTER = \"1\"\n"),
            ("conf/b.conf", "this is not bitbake\nB = \"2\"\n"),
        ]);
        let (store, diagnostics, _) = tree.eval("conf/a.conf");
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        assert_eq!(diagnostics[0].path, tree.path("conf/b.conf"));
        assert_eq!(value(&store, "B").as_deref(), Some("2"));
        assert_eq!(value(&store, "AFTER").as_deref(), Some("1"));
    }

    #[test]
    fn include_all_reads_the_file_in_every_bbpath_folder_in_order() {
        let tree = Tree::new(&[
            ("a/conf/x.conf", "SEEN .= \"a\"\n"),
            ("c/conf/x.conf", "SEEN .= \"c\"\n"),
            ("top.conf", "include_all conf/x.conf\n"),
        ]);
        let mut store = DataStore::new();
        let loc = Location::new("test", 0);
        let bbpath = format!("{}:{}:{}", tree.path("a"), tree.path("b"), tree.path("c"));
        store.set_var("BBPATH", &bbpath, &loc);
        let mut interp = Interpreter::new(&tree.root, None);
        assert!(interp.parse_config_file(&mut store, &tree.path("top.conf")));
        assert!(
            interp.diagnostics().is_empty(),
            "{:?}",
            interp.diagnostics()
        );
        assert_eq!(value(&store, "SEEN").as_deref(), Some("ac"));
        assert!(interp.depends().contains(&tree.path("b/conf/x.conf")));
    }

    #[test]
    fn re_escape_escapes_what_python_escapes() {
        assert_eq!(re_escape("/a-b/c.d_e"), "/a\\-b/c\\.d_e");
        assert_eq!(re_escape("x y~z"), "x\\ y\\~z");
    }

    #[test]
    fn which_returns_the_first_match_and_every_candidate() {
        let tree = Tree::new(&[("b/f", ""), ("c/f", "")]);
        let interp = Interpreter::new(&tree.root, None);
        let path = format!("{}:{}:{}", tree.path("a"), tree.path("b"), tree.path("c"));
        let (found, attempts) = interp.which(&path, "f");
        assert_eq!(found, Some(tree.path("b/f")));
        assert_eq!(attempts, [tree.path("a/f"), tree.path("b/f")]);
    }
}
