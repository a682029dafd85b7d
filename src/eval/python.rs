//! The Python bridge: BitBake's `${@...}` inline Python and anonymous Python functions,
//! evaluated with real CPython semantics against bitzel's native data store.
//!
//! # Why an embedded CPython
//!
//! bitzel embeds CPython in its own process (through PyO3) rather than talking to a
//! long-lived `python3` worker over pipes. Measured with `cargo bench --bench
//! python_bridge` on the 2-core development machine with Poky scarthgap's `bb` and
//! `oe`; ranges over runs on a machine loaded by other builds (load average ~5):
//!
//! | cost                                        | embedded (PyO3) | worker over pipes |
//! |---------------------------------------------|-----------------|-------------------|
//! | start-up incl. `import bb` and oe's imports | 1.1-1.9 s       | 0.5-1.4 s         |
//! | trivial inline expression                   | 1.7-3.2 µs      | 9-23 µs           |
//! | expression with 3 `d.getVar` callbacks      | 2.4-5.6 µs      | 34-145 µs         |
//! | 2 threads (2 workers), per expression       | 4.3-5.9 µs      | 55-110 µs         |
//! | `bb.utils.contains` on the native path      | 0.6-1.3 µs      |                   |
//!
//! With the GIL held for batches of 100 expressions ([`PythonBridge::hold`]) two
//! threads take 3.6-5.7 µs per expression. BitBake itself spends about 21 µs on a
//! trivial `${@...}` (`DataSmart.expand`, code parser included). The embedded start-up
//! also runs BitBake's `addpylib` for `oe` (its code-parser registration included).
//!
//! Every `d.getVar` from Python into the Rust store is a function call when embedded
//! (~0.4 µs) and a pipe round trip with two context switches (~8-17 µs) with a worker.
//! Anonymous functions such as base.bbclass's make dozens of callbacks per recipe, for
//! ~1,900 recipe variants: the worker's callbacks alone would take seconds of the 3 s
//! budget. The price of embedding is the GIL: Python runs on one core at a time, which
//! suits bitzel because it evaluates the common helpers natively (`bb.utils.contains`
//! alone is 55% of Poky's `${@...}`) and calls Python only for what only Python can
//! answer, while other threads do native work. Start-up is mostly `import bb` (its
//! shell parser's tables) and `oe`'s BBIMPORTS; start the bridge on its own thread
//! while the configuration is parsed. Building needs libpython (`python3-dev` on
//! Debian 12, i.e. `libpython3.11.so`); build.rs records its folder as an rpath so that
//! the binaries find it at run time.
//!
//! # Shape
//!
//! - [`VarSource`] is what the data store implements: DataSmart's operations
//!   (`getVar`, `setVarFlag`, `appendVar`, `renameVar`, `hasOverrides`, `createCopy`,
//!   ...) in Rust terms. Writes travel as [`StoreWrite`] values; those made by inline
//!   Python during an expansion go to [`VarSource::write_while_expanding`].
//! - [`PythonBridge`] owns the interpreter set-up: `sys.path`, BitBake's `bb` package,
//!   `addpylib` libraries (`oe`), the method pool of `def` functions from classes, and
//!   evaluates inline expressions ([`PythonBridge::eval_inline`], with a native fast
//!   path for the common helpers) and anonymous functions
//!   ([`PythonBridge::run_anonymous`]). What BitBake's code logs (`bb.warn`, ...) is
//!   collected per thread ([`PythonBridge::take_messages`]). CPython runs with hash seed
//!   0, so values built from Python sets have one word order on every machine.
//! - Inside Python, `d` is a proxy (src/eval/python_bridge.py) whose methods call the
//!   [`VarSource`] through a handle that is valid only while the call that lent it runs
//!   (a `d` kept past that raises `RuntimeError`, except one held by an object stored in
//!   a variable, [`VarSource::set_var_object`]: it acts on the store that reads the
//!   object, see python_bridge.py's `_Rebound`).
//! - The write guard: bitzel writes nothing outside its output directory, so the
//!   bridge wraps Python's file-system writes (`os.mkdir`/`makedirs`/`symlink`/
//!   `unlink`/`rename`/..., `os.open` and `open()` for writing, `sqlite3.connect`)
//!   before BitBake is imported; a write outside the roots allowed
//!   ([`PythonBridge::allow_writes_under`]) is not made, returns as if it had been,
//!   and is recorded ([`PythonBridge::take_withheld_writes`]). base.bbclass's
//!   ConfigParsed handler (TMPDIR/hosttools and its symlinks) is the main writer.
//! - [`EvalError`] carries what BitBake would raise: `bb.parse.SkipRecipe`,
//!   `bb.data_smart.ExpansionError`, `BBHandledException`, `SystemExit`, or another
//!   Python exception, in both directions.
//!
//! What stays with the data store: finding `${@...}` in a value with BitBake's own
//! pattern (`\${@(?:{.*?}|.)+?}`, not brace matching), leaving an expression that still
//! holds an unexpanded `${X}` literal ([`has_unexpanded_var`] answers that), leaving it
//! literal too when the match cut a string literal short
//! ([`EvalError::is_unterminated_string`]), turning a failure into the
//! `ExpansionError` of the variable being expanded ([`ExpansionError::from_python`],
//! [`ExpansionError::add_var`]), and keeping `__BBANONFUNCS` (the names
//! [`PythonBridge::insert_anonymous`] returns, in parse order).

mod native;

use super::datastore::ObjectText;
use super::task_deps::{self, TaskDeps};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use std::cell::Cell;
use std::ffi::CString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::ThreadId;

/// The Python half of the bridge, run once as module `bitzel_bridge`.
const BRIDGE_SOURCE: &str = include_str!("python_bridge.py");

/// What went wrong while evaluating BitBake Python, in BitBake's own terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalError {
    /// `bb.parse.SkipRecipe` (or `SkipPackage`) was raised: the recipe is skipped, with
    /// this reason, exactly as BitBake skips it.
    SkipRecipe(String),
    /// `bb.data_smart.ExpansionError`: expanding a variable failed.
    Expansion(ExpansionError),
    /// `bb.BBHandledException`: an error BitBake has already reported (`bb.fatal()`,
    /// or any exception of an anonymous function, which `better_exec` logs and wraps).
    /// Expansion passes it on without making it an [`ExpansionError`].
    Handled {
        /// The wrapped exception's class name, or `BBHandledException` (`bb.fatal()`).
        type_name: String,
        /// `str()` of the wrapped exception (empty for `bb.fatal()`, which logged it).
        message: String,
        /// Python's formatted traceback; empty when there is none.
        traceback: String,
    },
    /// `SystemExit` (`bb.msg.fatal()` calls `sys.exit(1)`): BitBake itself would stop.
    /// Expansion passes it on unchanged; bitzel reports the recipe as failed.
    Exit(String),
    /// Any other Python exception raised by the evaluated code (a `NameError`, a
    /// `ZeroDivisionError`, ...); inline expansion turns it into an [`ExpansionError`].
    Python {
        /// The exception's class name (`ZeroDivisionError`).
        type_name: String,
        /// `str()` of the exception.
        message: String,
        /// Python's formatted traceback, for the user; empty when there is none.
        traceback: String,
    },
    /// The bridge itself failed: the interpreter could not start or `bb` not import.
    Bridge(String),
}

impl EvalError {
    /// True for the `SyntaxError` that BitBake's `expandWithRefs` swallows: the inline
    /// pattern cut a string literal at a `}` inside it, so the expression stays literal.
    pub fn is_unterminated_string(&self) -> bool {
        matches!(self, EvalError::Python { type_name, message, .. }
            if type_name == "SyntaxError"
                && (message.starts_with("EOL while scanning string literal")
                    || message.starts_with("unterminated string literal")))
    }

    /// A store-side error for a failure that has no Python exception behind it.
    pub fn other(type_name: &str, message: impl Into<String>) -> Self {
        EvalError::Python {
            type_name: type_name.to_string(),
            message: message.into(),
            traceback: String::new(),
        }
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::SkipRecipe(reason) => write!(f, "recipe skipped: {reason}"),
            EvalError::Expansion(e) => e.fmt(f),
            EvalError::Python {
                type_name, message, ..
            } => write!(f, "{type_name}: {message}"),
            EvalError::Handled {
                type_name, message, ..
            } => write!(f, "{type_name}: {message}"),
            EvalError::Exit(code) => write!(f, "Python code exited (SystemExit: {code})"),
            EvalError::Bridge(message) => write!(f, "Python bridge: {message}"),
        }
    }
}

impl std::error::Error for EvalError {}

/// `bb.data_smart.ExpansionError`: which variable failed, on which expression, why, and
/// the chain of variables whose expansion led there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpansionError {
    /// The variable being expanded (`None` for `d.expand()` of free text).
    pub varname: Option<String>,
    /// The text being expanded when the failure happened.
    pub expression: String,
    /// The class name of the exception behind the failure.
    pub exception_type: String,
    /// `str()` of that exception.
    pub exception_message: String,
    /// BitBake's `varlist`: the failing variable first, then each variable whose
    /// expansion included it (`ExpansionError.addVar`).
    pub varlist: Vec<String>,
}

impl ExpansionError {
    /// The error `expandWithRefs` raises when evaluating inside `varname` failed on
    /// `expression` with `cause`: only an ordinary Python exception becomes an
    /// `ExpansionError`; `SkipRecipe`, `BBHandledException`, `SystemExit` and an
    /// `ExpansionError` pass through unchanged (the store then calls
    /// [`ExpansionError::add_var`] on the latter).
    pub fn from_python(varname: Option<&str>, expression: &str, cause: EvalError) -> EvalError {
        match cause {
            EvalError::Python {
                type_name, message, ..
            } => EvalError::Expansion(ExpansionError {
                varname: varname.map(str::to_string),
                expression: expression.to_string(),
                exception_type: type_name,
                exception_message: message,
                varlist: vec![varname.unwrap_or(expression).to_string()],
            }),
            other => other,
        }
    }

    /// `ExpansionError.addVar`: an enclosing variable's expansion passed this error on.
    pub fn add_var(&mut self, varname: Option<&str>) {
        if let Some(v) = varname {
            self.varlist.push(v.to_string());
        }
    }
}

impl fmt::Display for ExpansionError {
    /// Exactly `str(bb.data_smart.ExpansionError)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (t, m) = (&self.exception_type, &self.exception_message);
        match &self.varname {
            Some(v) if !self.expression.is_empty() => write!(
                f,
                "Failure expanding variable {v}, expression was {} which triggered exception {t}: {m}",
                self.expression
            )?,
            Some(v) => write!(f, "Failure expanding variable {v}: {t}: {m}")?,
            None => write!(
                f,
                "Failure expanding expression {} which triggered exception {t}: {m}",
                self.expression
            )?,
        }
        write!(
            f,
            "\nThe variable dependency chain for the failure is: {}",
            self.varlist.join(" -> ")
        )
    }
}

/// One change that Python code makes to the data store through `d`.
///
/// Anonymous functions change the store directly (the bridge calls the matching
/// [`VarSource`] method). Inline Python may write too, while the store is only lent
/// for reading (`bb.fetch2.get_autorev` sets `__BBAUTOREV_SEEN` and `BB_DONT_CACHE`
/// from `${@...}` in SRCREV): those writes reach
/// [`VarSource::write_while_expanding`] as values of this type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreWrite {
    /// `d.setVar(name, value)`.
    SetVar {
        /// The variable.
        name: String,
        /// The value; `None` as in [`VarSource::set_var`].
        value: Option<String>,
    },
    /// `d.setVarFlag(name, flag, value)`.
    SetVarFlag {
        /// The variable.
        name: String,
        /// The flag.
        flag: String,
        /// The value; `None` as in [`VarSource::set_var`].
        value: Option<String>,
    },
    /// `d.appendVar(name, value)`.
    AppendVar {
        /// The variable.
        name: String,
        /// The text appended.
        value: String,
    },
    /// `d.prependVar(name, value)`.
    PrependVar {
        /// The variable.
        name: String,
        /// The text prepended.
        value: String,
    },
    /// `d.appendVarFlag(name, flag, value)`.
    AppendVarFlag {
        /// The variable.
        name: String,
        /// The flag.
        flag: String,
        /// The text appended.
        value: String,
    },
    /// `d.prependVarFlag(name, flag, value)`.
    PrependVarFlag {
        /// The variable.
        name: String,
        /// The flag.
        flag: String,
        /// The text prepended.
        value: String,
    },
    /// `d.delVar(name)`.
    DelVar {
        /// The variable.
        name: String,
    },
    /// `d.delVarFlag(name, flag)`.
    DelVarFlag {
        /// The variable.
        name: String,
        /// The flag.
        flag: String,
    },
    /// `d.renameVar(old, new)`.
    RenameVar {
        /// The variable renamed.
        old: String,
        /// Its new name.
        new: String,
    },
}

impl StoreWrite {
    /// Makes the change on `store` with the matching [`VarSource`] method; a store that
    /// queues the writes of [`VarSource::write_while_expanding`] applies them with this.
    pub fn apply_to(self, store: &mut dyn VarSource) -> Result<(), EvalError> {
        match self {
            StoreWrite::SetVar { name, value } => store.set_var(&name, value.as_deref()),
            StoreWrite::SetVarFlag { name, flag, value } => {
                store.set_var_flag(&name, &flag, value.as_deref())
            }
            StoreWrite::AppendVar { name, value } => store.append_var(&name, &value),
            StoreWrite::PrependVar { name, value } => store.prepend_var(&name, &value),
            StoreWrite::AppendVarFlag { name, flag, value } => {
                store.append_var_flag(&name, &flag, &value)
            }
            StoreWrite::PrependVarFlag { name, flag, value } => {
                store.prepend_var_flag(&name, &flag, &value)
            }
            StoreWrite::DelVar { name } => store.del_var(&name),
            StoreWrite::DelVarFlag { name, flag } => store.del_var_flag(&name, &flag),
            StoreWrite::RenameVar { old, new } => store.rename_var(&old, &new),
        }
    }
}

/// The data store as Python code sees it through `d`: the operations of BitBake's
/// `bb.data_smart.DataSmart` that Poky's inline Python and anonymous functions use.
///
/// Values are text. BitBake's list-valued internal variables (`__inherit_cache`,
/// `__BBANONFUNCS`, `__BBTASKS`) are kept as whitespace-separated words; `d` splits and
/// joins them. Every method may fail with what BitBake would raise (an
/// [`ExpansionError`] while expanding, a [`EvalError::SkipRecipe`] from inline Python);
/// the bridge re-raises it in Python as the same BitBake exception.
///
/// Reading methods may evaluate Python again (expanding a value with `${@...}` calls
/// [`PythonBridge::eval_inline`] with `self`); the writing methods (`&mut self`) must
/// not, as DataSmart's do not: the bridge relies on that to lend `&mut` safely.
/// Callbacks run with the GIL held: a store shared between threads must not hold one of
/// its own locks while it calls the bridge, or a callback on another thread waiting for
/// that lock would wait for ever.
pub trait VarSource {
    /// `d.getVar(name, expand)`: the value after override selection and
    /// :append/:prepend/:remove, expanded when `expand`; `None` when unset.
    fn get_var(&self, name: &str, expand: bool) -> Result<Option<String>, EvalError>;
    /// `d.getVarFlag(name, flag, expand)`.
    fn get_var_flag(
        &self,
        name: &str,
        flag: &str,
        expand: bool,
    ) -> Result<Option<String>, EvalError>;
    /// [`VarSource::get_var`] as the store's own shared text, where it has one (what
    /// d.getVar hands to Python, 300,000 times a parse, without a copy of its own first).
    fn get_var_shared(&self, name: &str, expand: bool) -> Result<Option<Arc<str>>, EvalError> {
        Ok(self.get_var(name, expand)?.map(Arc::from))
    }
    /// [`VarSource::get_var_flag`] as the store's own shared text (d.getVarFlag: a
    /// million times a parse).
    fn get_var_flag_shared(
        &self,
        name: &str,
        flag: &str,
        expand: bool,
    ) -> Result<Option<Arc<str>>, EvalError> {
        Ok(self.get_var_flag(name, flag, expand)?.map(Arc::from))
    }
    /// The flags of `name` with their unexpanded values, in a stable order, as
    /// `d.getVarFlags(name)` lists them: without the internal ones (names starting with
    /// `_` or `:`) unless `internal`.
    fn get_var_flags(&self, name: &str, internal: bool)
        -> Result<Vec<(String, String)>, EvalError>;
    /// `d.hasOverrides(name)`: whether override-conditional forms of `name`
    /// (`name:override = ...`, :append/:prepend/:remove) were set.
    fn has_overrides(&self, name: &str) -> Result<bool, EvalError>;
    /// `d.expand(text, varname)`: expand free text; `varname` names it in errors.
    fn expand(&self, text: &str, varname: Option<&str>) -> Result<String, EvalError>;
    /// `d.keys()`: every variable name (costly: call sparingly).
    fn keys(&self) -> Result<Vec<Arc<str>>, EvalError>;
    /// `d.setVar(name, value)`. `None` is BitBake's `setVar(name, None)`, common in
    /// Poky (`l.setVar("WORKDIR", d.getVar("WORKDIR"))`): the variable exists, its flags
    /// stay, and `getVar` gives `None`.
    fn set_var(&mut self, name: &str, value: Option<&str>) -> Result<(), EvalError>;
    /// `d.setVarFlag(name, flag, value)`; `None` as for [`VarSource::set_var`].
    fn set_var_flag(
        &mut self,
        name: &str,
        flag: &str,
        value: Option<&str>,
    ) -> Result<(), EvalError>;
    /// `d.appendVar(name, value)`: append to the current value, no space added.
    fn append_var(&mut self, name: &str, value: &str) -> Result<(), EvalError>;
    /// `d.prependVar(name, value)`.
    fn prepend_var(&mut self, name: &str, value: &str) -> Result<(), EvalError>;
    /// `d.appendVarFlag(name, flag, value)`.
    fn append_var_flag(&mut self, name: &str, flag: &str, value: &str) -> Result<(), EvalError>;
    /// `d.prependVarFlag(name, flag, value)`.
    fn prepend_var_flag(&mut self, name: &str, flag: &str, value: &str) -> Result<(), EvalError>;
    /// `d.delVar(name)`.
    fn del_var(&mut self, name: &str) -> Result<(), EvalError>;
    /// `d.delVarFlag(name, flag)`.
    fn del_var_flag(&mut self, name: &str, flag: &str) -> Result<(), EvalError>;
    /// `d.renameVar(old, new)`: value, flags and pending operations move to `new`.
    fn rename_var(&mut self, old: &str, new: &str) -> Result<(), EvalError>;
    /// A write that inline Python makes while the store is lent for reading (during an
    /// expansion). BitBake applies it at once; a store may do so through interior
    /// mutability, or queue it and apply it ([`StoreWrite::apply_to`]) when the
    /// expansion is over. The default refuses it with a `RuntimeError`, which the
    /// expansion reports as an [`ExpansionError`].
    fn write_while_expanding(&self, write: StoreWrite) -> Result<(), EvalError> {
        Err(EvalError::other(
            "RuntimeError",
            format!("bitzel: the data store is read-only while a variable is being expanded ({write:?})"),
        ))
    }
    /// `d.createCopy()` / `bb.data.createCopy(d)`: an independent copy (copy-on-write
    /// in a real store) that Python code may change without touching this one.
    fn create_copy(&self) -> Result<Box<dyn VarSource + Send>, EvalError>;
    /// `d.setVar(name, object)` with a Python object that is not text (BitBake keeps the
    /// object as the value): the variable holds `text` (the object's `str()`, what
    /// `bitbake -e` prints, made when first read); a store that keeps objects keeps
    /// `object` too, as its own (copies share it), for [`VarSource::var_object`]. The
    /// default keeps the text only.
    fn set_var_object(
        &mut self,
        name: &str,
        text: ObjectText,
        object: Py<PyAny>,
    ) -> Result<(), EvalError> {
        drop(object);
        self.set_var(name, Some(text.text()))
    }
    /// The object that [`VarSource::set_var_object`] stored in `name`, while a read of
    /// `name` still gives `value` (the text it was stored as); `None` otherwise, and in a
    /// store that keeps no objects (the default).
    fn var_object(&self, py: Python<'_>, name: &str, value: &str) -> Option<Py<PyAny>> {
        let _ = (py, name, value);
        None
    }
}

/// The severity of a [`LogMessage`], as BitBake's `bb.note`/`bb.warn`/`bb.error`/
/// `bb.fatal` log it (Python logging levels, BitBake's own custom levels mapped to the
/// nearest below).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// `bb.note` (INFO) and BitBake's verbose notes.
    Note,
    /// `bb.warn` (WARNING).
    Warning,
    /// `bb.error` (ERROR), and the traceback `better_exec` logs for a failing
    /// anonymous function.
    Error,
    /// `bb.fatal` (CRITICAL), logged just before it raises `BBHandledException`.
    Fatal,
}

impl LogLevel {
    fn from_python(levelno: i64) -> LogLevel {
        match levelno {
            n if n >= 50 => LogLevel::Fatal,
            n if n >= 40 => LogLevel::Error,
            n if n >= 30 => LogLevel::Warning,
            _ => LogLevel::Note,
        }
    }
}

/// A message that BitBake's Python code logged while bitzel evaluated it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogMessage {
    /// How severe BitBake considers it.
    pub level: LogLevel,
    /// The message text.
    pub text: String,
}

/// Where the embedded interpreter finds BitBake and the layers' Python libraries.
#[derive(Debug, Clone, Default)]
pub struct PythonConfig {
    /// Folders put first on `sys.path`, in order: the `bitbake/lib` of the Poky that
    /// is evaluated (so its `bb` wins over any installed one), and any folder holding
    /// packages that BitBake imports.
    pub python_path: Vec<PathBuf>,
}

/// How a store's borrowed or owned data reaches the `Store` handle inside Python.
#[derive(Clone, Copy)]
enum Target {
    /// Lent for the duration of an inline evaluation: reading, and writes through
    /// [`VarSource::write_while_expanding`].
    Shared(*const (dyn VarSource + 'static)),
    /// Lent for the duration of anonymous functions: reading and writing.
    Exclusive(*mut (dyn VarSource + 'static)),
    /// A `createCopy()` owned by the handle (freed when Python drops it).
    Owned(*mut (dyn VarSource + Send + 'static)),
    /// The call that lent the store has returned.
    Expired,
}

/// One guarded file-system call of the write guard (python_bridge.py): `decide(name,
/// args, kwargs)` answers `None` (make the call), `("skip", value)` (return `value`,
/// the write withheld) or `("call", args, kwargs)` (make the call with these). It is
/// native so that it adds no frame to the tracebacks BitBake's messages print.
#[pyclass(frozen, name = "GuardedCall", module = "bitzel")]
struct GuardedCall {
    name: String,
    real: Py<PyAny>,
    decide: Py<PyAny>,
}

#[pymethods]
impl GuardedCall {
    #[new]
    fn new(name: String, real: Py<PyAny>, decide: Py<PyAny>) -> Self {
        GuardedCall { name, real, decide }
    }

    #[pyo3(signature = (*args, **kwargs))]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        args: Bound<'py, PyTuple>,
        kwargs: Option<Bound<'py, pyo3::types::PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let decision = self
            .decide
            .bind(py)
            .call1((self.name.as_str(), &args, &kwargs))?;
        if decision.is_none() {
            return self.real.bind(py).call(args, kwargs.as_ref());
        }
        let kind: String = decision.get_item(0)?.extract()?;
        if kind == "skip" {
            return decision.get_item(1);
        }
        let args = decision.get_item(1)?.cast_into::<PyTuple>()?;
        let kwargs = decision.get_item(2)?;
        let kwargs = if kwargs.is_none() {
            None
        } else {
            Some(kwargs.cast_into::<pyo3::types::PyDict>()?)
        };
        self.real.bind(py).call(args, kwargs.as_ref())
    }

    /// The wrapped function, as functools.wraps would name it.
    #[getter]
    fn __wrapped__(&self, py: Python<'_>) -> Py<PyAny> {
        self.real.clone_ref(py)
    }
}

/// A fresh copy of a value `json.loads` made: every dict and list made anew, the
/// immutable leaves (str, int, float, bool, None) shared, which only `is` could tell
/// from a new parse. It serves the bridge's JSON memo (python_bridge.py), where it is
/// ~4 times faster than unpickling. Deeper than 1,000 levels it raises RecursionError
/// (the memo then keeps nothing).
#[pyfunction]
fn fresh_json_copy<'py>(value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    plain_copy_of(value, false, 0).map(|copy| copy.unwrap_or_else(|| value.clone()))
}

/// [`fresh_json_copy`] of a value made only of dicts, lists, str, int, float, bool
/// and None (exact types), else None: a copy that nobody else can change, which the
/// bridge keeps beside the text of an object stored in a variable.
#[pyfunction]
fn plain_copy<'py>(value: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
    plain_copy_of(value, true, 0)
}

fn plain_copy_of<'py>(
    value: &Bound<'py, PyAny>,
    strict: bool,
    depth: usize,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    use pyo3::types::{PyBool, PyDict, PyFloat, PyInt};
    if depth > 1000 {
        return Err(pyo3::exceptions::PyRecursionError::new_err(
            "value too deep",
        ));
    }
    let is_container = |v: &Bound<'py, PyAny>| {
        v.is_exact_instance_of::<PyDict>() || v.is_exact_instance_of::<PyList>()
    };
    let is_plain_leaf = |v: &Bound<'py, PyAny>| {
        v.is_none()
            || v.is_exact_instance_of::<PyString>()
            || v.is_exact_instance_of::<PyInt>()
            || v.is_exact_instance_of::<PyFloat>()
            || v.is_exact_instance_of::<PyBool>()
    };
    // A container is copied whole by CPython (PyDict_Copy, a list slice: the same
    // keys, order and items), then each item that is itself a container is replaced
    // by its own copy (in place: the order stays).
    if let Ok(dict) = value.cast_exact::<PyDict>() {
        let out = dict.copy()?;
        for (k, v) in dict.iter() {
            if strict && !k.is_exact_instance_of::<PyString>() {
                return Ok(None);
            }
            if is_container(&v) {
                let Some(v) = plain_copy_of(&v, strict, depth + 1)? else {
                    return Ok(None);
                };
                out.set_item(k, v)?;
            } else if strict && !is_plain_leaf(&v) {
                return Ok(None);
            }
        }
        return Ok(Some(out.into_any()));
    }
    if let Ok(list) = value.cast_exact::<PyList>() {
        let out = list.get_slice(0, list.len());
        for (i, v) in list.iter().enumerate() {
            if is_container(&v) {
                let Some(v) = plain_copy_of(&v, strict, depth + 1)? else {
                    return Ok(None);
                };
                out.set_item(i, v)?;
            } else if strict && !is_plain_leaf(&v) {
                return Ok(None);
            }
        }
        return Ok(Some(out.into_any()));
    }
    Ok((is_plain_leaf(value) || !strict).then(|| value.clone()))
}

/// Whether `str()` of `a` and of `b` is sure to be the same text without making
/// it: dicts (exact) with the same keys in the same order and lists (exact) of the same
/// length, pairwise so, down to leaves that are the same object or equal str or int
/// (exact types). False says nothing. `a` is what [`plain_copy`] made.
#[pyfunction]
fn same_text(a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> PyResult<bool> {
    fn same(a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>, depth: usize) -> PyResult<bool> {
        use pyo3::types::{PyDict, PyInt};
        if a.is(b) {
            return Ok(true);
        }
        if depth > 1000 {
            return Ok(false);
        }
        if let (Ok(x), Ok(y)) = (a.cast_exact::<PyDict>(), b.cast_exact::<PyDict>()) {
            if x.len() != y.len() {
                return Ok(false);
            }
            for ((k1, v1), (k2, v2)) in x.iter().zip(y.iter()) {
                if !same(&k1, &k2, depth + 1)? || !same(&v1, &v2, depth + 1)? {
                    return Ok(false);
                }
            }
            return Ok(true);
        }
        if let (Ok(x), Ok(y)) = (a.cast_exact::<PyList>(), b.cast_exact::<PyList>()) {
            if x.len() != y.len() {
                return Ok(false);
            }
            for (v1, v2) in x.iter().zip(y.iter()) {
                if !same(&v1, &v2, depth + 1)? {
                    return Ok(false);
                }
            }
            return Ok(true);
        }
        let both = |exact: fn(&Bound<'_, PyAny>) -> bool| exact(a) && exact(b);
        if both(|v| v.is_exact_instance_of::<PyString>())
            || both(|v| v.is_exact_instance_of::<PyInt>())
        {
            return a.eq(b);
        }
        Ok(false)
    }
    same(a, b, 0)
}

/// The `Store` object the Python proxy `d` calls: a handle on a [`VarSource`].
///
/// Safety: the pointers are dereferenced only on the thread that created the handle
/// (checked on every call) and only while the call that lent them runs (the lending
/// frame sets [`Target::Expired`] before it returns, also when unwinding).
#[pyclass(frozen, weakref, name = "Store", module = "bitzel")]
struct StoreHandle {
    target: Cell<Target>,
    thread: ThreadId,
}

// SAFETY: see the type's comment: every access checks that it runs on `thread`.
unsafe impl Send for StoreHandle {}
// SAFETY: as above; the Cell is touched only on `thread`.
unsafe impl Sync for StoreHandle {}

impl Drop for StoreHandle {
    fn drop(&mut self) {
        if let Target::Owned(p) = self.target.get() {
            // SAFETY: made by Box::into_raw in create_copy and freed only here. The box
            // is Send, so freeing it on another thread is sound.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

impl StoreHandle {
    fn new(target: Target) -> Self {
        StoreHandle {
            target: Cell::new(target),
            thread: std::thread::current().id(),
        }
    }

    fn check_thread(&self) -> PyResult<()> {
        if std::thread::current().id() != self.thread {
            return Err(PyRuntimeError::new_err(
                "bitzel: a data store `d` was used outside the evaluation that lent it",
            ));
        }
        Ok(())
    }

    fn read(&self) -> PyResult<&dyn VarSource> {
        self.check_thread()?;
        // SAFETY: on the lending thread, inside the lending call (see the type).
        unsafe {
            match self.target.get() {
                Target::Shared(p) => Ok(&*p),
                Target::Exclusive(p) => Ok(&*p),
                Target::Owned(p) => Ok(&*p),
                Target::Expired => Err(expired()),
            }
        }
    }

    fn write(&self, py: Python<'_>, write: StoreWrite) -> PyResult<()> {
        self.check_thread()?;
        // SAFETY: as in read(); an Exclusive target was lent as `&mut`, and Python
        // re-enters the store only through nested calls that borrow from this one.
        let result = unsafe {
            match self.target.get() {
                Target::Exclusive(p) => write.apply_to(&mut *p),
                Target::Owned(p) => write.apply_to(&mut *p),
                Target::Shared(p) => (*p).write_while_expanding(write),
                Target::Expired => return Err(expired()),
            }
        };
        result.map_err(|e| raise(py, e))
    }
}

fn expired() -> PyErr {
    PyRuntimeError::new_err("bitzel: a data store `d` was used after its evaluation ended")
}

/// Turns a store error into the BitBake exception Python code would see.
fn raise(py: Python<'_>, err: EvalError) -> PyErr {
    let result = (|| -> PyResult<PyErr> {
        let m = py.import("bitzel_bridge")?;
        let call = match &err {
            EvalError::SkipRecipe(msg) => m.getattr("raise_skip_recipe")?.call1((msg,)),
            EvalError::Expansion(e) => m.getattr("raise_expansion_error")?.call1((
                e.varname.as_deref(),
                &e.expression,
                &e.exception_type,
                &e.exception_message,
                e.varlist.clone(),
            )),
            EvalError::Handled { message, .. } => m.getattr("raise_handled")?.call1((message,)),
            EvalError::Exit(code) => m.getattr("raise_exit")?.call1((code,)),
            EvalError::Python {
                type_name, message, ..
            } => return Ok(PyRuntimeError::new_err(format!("{type_name}: {message}"))),
            EvalError::Bridge(message) => return Ok(PyRuntimeError::new_err(message.clone())),
        };
        Ok(match call {
            Err(e) => e,
            Ok(_) => PyRuntimeError::new_err("bitzel: raising a BitBake exception failed"),
        })
    })();
    result.unwrap_or_else(|e| e)
}

/// A Python argument taken by its truth value (`bool(x)`), as DataProxy takes `expand`.
struct Truth(bool);

impl<'a, 'py> FromPyObject<'a, 'py> for Truth {
    type Error = PyErr;

    fn extract(obj: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Ok(Truth(obj.is_truthy()?))
    }
}

/// What the native `d.getVar`/`d.getVarFlag` take from python_bridge.py (its one module
/// per process): LIST_VARS, LIST_FLAGS, the names that ever held an object
/// (`_object_vars`, a set that grows) and `_get_var_slow`.
/// A text and the words of its `str.split()`.
type SplitText = (Arc<str>, Py<PyTuple>);

struct ProxyState {
    list_vars: Py<PyAny>,
    list_flags: Py<PyAny>,
    object_vars: Py<PyAny>,
    get_var_slow: Py<PyAny>,
    /// The last split of each LIST_VARS variable: its text and the words `str.split()`
    /// made of it. bb.data.inherits_class reads `__inherit_cache` (a hundred class
    /// paths) 13 times a recipe, and splitting it anew made every word again; a read
    /// of the same text gets a new list of the same word objects (strings are
    /// immutable, the list is the caller's).
    last_splits: std::sync::Mutex<rustc_hash::FxHashMap<Box<str>, SplitText>>,
}

static PROXY_STATE: pyo3::sync::PyOnceLock<ProxyState> = pyo3::sync::PyOnceLock::new();

/// Takes [`ProxyState`] from the bridge module once it has run.
fn keep_proxy_state(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let state = ProxyState {
        list_vars: m.getattr("LIST_VARS")?.unbind(),
        list_flags: m.getattr("LIST_FLAGS")?.unbind(),
        object_vars: m.getattr("_object_vars")?.unbind(),
        get_var_slow: m.getattr("_get_var_slow")?.unbind(),
        last_splits: Default::default(),
    };
    let _ = PROXY_STATE.set(m.py(), state);
    Ok(())
}

impl ProxyState {
    /// `value.split()` of the LIST_VARS variable `name`, from [`ProxyState::last_splits`]
    /// when its text is the same as last time.
    fn split_list_var<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        value: Arc<str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let splits = || {
            self.last_splits
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        };
        if let Some((text, words)) = splits().get(name) {
            if *text == value {
                return Ok(words.bind(py).to_list().into_any());
            }
        }
        // Outside the lock: nothing of Python runs while it is held.
        let list = PyString::new(py, &value)
            .call_method0("split")?
            .cast_into::<PyList>()?;
        let words = list.to_tuple().unbind();
        splits().insert(name.into(), (value, words));
        Ok(list.into_any())
    }
}

fn proxy_state(py: Python<'_>) -> PyResult<&ProxyState> {
    PROXY_STATE
        .get(py)
        .ok_or_else(|| PyRuntimeError::new_err("bitzel: the bridge module is not set up"))
}

#[pymethods]
impl StoreHandle {
    /// `d.getVar(var, expand=True, noweakdefault=False, parsing=False)`: python_bridge.py's
    /// DataProxy._get_var without a Python frame (DataProxy binds it as `getVar`). The
    /// variables that _get_var treats apart (BB_ORIGENV, the names that held an object)
    /// are handed to it; those of LIST_VARS come split, as there.
    #[pyo3(signature = (var, expand=Truth(true), noweakdefault=None, parsing=None))]
    fn proxy_get_var<'py>(
        slf: &Bound<'py, Self>,
        var: &Bound<'py, PyString>,
        expand: Truth,
        noweakdefault: Option<&Bound<'py, PyAny>>,
        parsing: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = (noweakdefault, parsing);
        let py = slf.py();
        let state = proxy_state(py)?;
        let name = var.to_str()?;
        if name == "BB_ORIGENV" || state.object_vars.bind(py).contains(var)? {
            return state.get_var_slow.bind(py).call1((slf, var, expand.0));
        }
        let value = slf.get().read()?.get_var_shared(name, expand.0);
        match value.map_err(|e| raise(py, e))? {
            // A list BitBake keeps as a list (inherits_class reads __inherit_cache 13
            // times a recipe): split as _get_var splits it.
            Some(v) if state.list_vars.bind(py).contains(var)? => state.split_list_var(py, name, v),
            Some(v) => Ok(PyString::new(py, &v).into_any()),
            None => Ok(py.None().into_bound(py)),
        }
    }

    /// `d.getVarFlag(var, flag, expand=True, noweakdefault=False, parsing=False,
    /// retparser=False)`: DataProxy._get_var_flag without a Python frame (bound as
    /// `getVarFlag`): a flag of LIST_FLAGS comes split, as BitBake keeps it as a list.
    #[pyo3(signature = (var, flag, expand=Truth(true), noweakdefault=None, parsing=None, retparser=Truth(false)))]
    fn proxy_get_var_flag<'py>(
        &self,
        var: &str,
        flag: &Bound<'py, PyString>,
        expand: Truth,
        noweakdefault: Option<&Bound<'py, PyAny>>,
        parsing: Option<&Bound<'py, PyAny>>,
        retparser: Truth,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = (noweakdefault, parsing);
        let py = flag.py();
        if retparser.0 {
            return Err(pyo3::exceptions::PyNotImplementedError::new_err(
                "bitzel: getVarFlag(retparser=True) is not supported",
            ));
        }
        let value = self
            .read()?
            .get_var_flag_shared(var, flag.to_str()?, expand.0)
            .map_err(|e| raise(py, e))?;
        let Some(v) = value else {
            return Ok(py.None().into_bound(py));
        };
        let text = PyString::new(py, &v).into_any();
        if proxy_state(py)?.list_flags.bind(py).contains(flag)? {
            return text.call_method0("split");
        }
        Ok(text)
    }

    #[pyo3(signature = (name, expand))]
    fn get_var(&self, py: Python<'_>, name: &str, expand: bool) -> PyResult<Option<String>> {
        self.read()?.get_var(name, expand).map_err(|e| raise(py, e))
    }

    fn get_var_flag(
        &self,
        py: Python<'_>,
        name: &str,
        flag: &str,
        expand: bool,
    ) -> PyResult<Option<String>> {
        self.read()?
            .get_var_flag(name, flag, expand)
            .map_err(|e| raise(py, e))
    }

    fn get_var_flags(
        &self,
        py: Python<'_>,
        name: &str,
        internal: bool,
    ) -> PyResult<Vec<(String, String)>> {
        self.read()?
            .get_var_flags(name, internal)
            .map_err(|e| raise(py, e))
    }

    fn has_overrides(&self, py: Python<'_>, name: &str) -> PyResult<bool> {
        self.read()?.has_overrides(name).map_err(|e| raise(py, e))
    }

    #[pyo3(signature = (text, varname=None))]
    fn expand(&self, py: Python<'_>, text: &str, varname: Option<&str>) -> PyResult<String> {
        self.read()?.expand(text, varname).map_err(|e| raise(py, e))
    }

    /// `list(filter(lambda k: d.getVarFlag(k, flag), d.keys()))`: the names, in
    /// `keys()` order, whose `flag`, expanded, is true to Python (a flag of LIST_FLAGS
    /// when it has a word). bb.build.tasksbetween finds the tasks so, a flag read for
    /// each of a recipe's ~2,800 names (python_bridge.py's `_tasksbetween`).
    fn names_with_flag<'py>(
        &self,
        py: Python<'py>,
        flag: &Bound<'py, PyString>,
    ) -> PyResult<Bound<'py, PyList>> {
        let store = self.read()?;
        let listed = proxy_state(py)?.list_flags.bind(py).contains(flag)?;
        let flag = flag.to_str()?;
        let mut names = Vec::new();
        for name in store.keys().map_err(|e| raise(py, e))? {
            let value = store
                .get_var_flag(&name, flag, true)
                .map_err(|e| raise(py, e))?;
            let truthy = value.is_some_and(|v| {
                if listed {
                    v.split(super::datastore::py_isspace).any(|w| !w.is_empty())
                } else {
                    !v.is_empty()
                }
            });
            if truthy {
                names.push(name);
            }
        }
        PyList::new(py, names.iter().map(|n| PyString::new(py, n)))
    }

    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        // Built from the shared names, without a String of each first (a recipe has
        // thousands; bb.build.tasksbetween asks for them all).
        let keys = self.read()?.keys().map_err(|e| raise(py, e))?;
        PyList::new(py, keys.iter().map(|k| PyString::new(py, k)))
    }

    #[pyo3(signature = (name, value))]
    fn set_var(&self, py: Python<'_>, name: &str, value: Option<&str>) -> PyResult<()> {
        self.write(
            py,
            StoreWrite::SetVar {
                name: name.into(),
                value: value.map(Into::into),
            },
        )
    }

    #[pyo3(signature = (name, flag, value))]
    fn set_var_flag(
        &self,
        py: Python<'_>,
        name: &str,
        flag: &str,
        value: Option<&str>,
    ) -> PyResult<()> {
        self.write(
            py,
            StoreWrite::SetVarFlag {
                name: name.into(),
                flag: flag.into(),
                value: value.map(Into::into),
            },
        )
    }

    fn append_var(&self, py: Python<'_>, name: &str, value: &str) -> PyResult<()> {
        self.write(
            py,
            StoreWrite::AppendVar {
                name: name.into(),
                value: value.into(),
            },
        )
    }

    fn prepend_var(&self, py: Python<'_>, name: &str, value: &str) -> PyResult<()> {
        self.write(
            py,
            StoreWrite::PrependVar {
                name: name.into(),
                value: value.into(),
            },
        )
    }

    fn append_var_flag(&self, py: Python<'_>, name: &str, flag: &str, value: &str) -> PyResult<()> {
        self.write(
            py,
            StoreWrite::AppendVarFlag {
                name: name.into(),
                flag: flag.into(),
                value: value.into(),
            },
        )
    }

    fn prepend_var_flag(
        &self,
        py: Python<'_>,
        name: &str,
        flag: &str,
        value: &str,
    ) -> PyResult<()> {
        self.write(
            py,
            StoreWrite::PrependVarFlag {
                name: name.into(),
                flag: flag.into(),
                value: value.into(),
            },
        )
    }

    fn del_var(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        self.write(py, StoreWrite::DelVar { name: name.into() })
    }

    fn del_var_flag(&self, py: Python<'_>, name: &str, flag: &str) -> PyResult<()> {
        self.write(
            py,
            StoreWrite::DelVarFlag {
                name: name.into(),
                flag: flag.into(),
            },
        )
    }

    fn rename_var(&self, py: Python<'_>, old: &str, new: &str) -> PyResult<()> {
        self.write(
            py,
            StoreWrite::RenameVar {
                old: old.into(),
                new: new.into(),
            },
        )
    }

    fn create_copy(&self, py: Python<'_>) -> PyResult<StoreHandle> {
        let copy = self.read()?.create_copy().map_err(|e| raise(py, e))?;
        Ok(StoreHandle::new(Target::Owned(Box::into_raw(copy))))
    }

    /// `d.setVar(name, object)` with a Python object: [`VarSource::set_var_object`].
    /// While the store is lent for reading, only the text reaches
    /// [`VarSource::write_while_expanding`].
    ///
    /// `text` is the object's text, or None when `make_text` (a callable without
    /// arguments) makes it on the first read ([`ObjectText`]).
    fn set_var_object(
        &self,
        py: Python<'_>,
        name: &str,
        text: Option<String>,
        object: Py<PyAny>,
        make_text: Py<PyAny>,
    ) -> PyResult<()> {
        self.check_thread()?;
        let text = match text {
            Some(text) => ObjectText::made(text),
            None => ObjectText::new(move || {
                Python::attach(|py| {
                    make_text
                        .call0(py)
                        .and_then(|t| t.extract::<String>(py))
                        // str() of a dict or a list, which is what comes here, does not
                        // fail; if it does, the error is the text.
                        .unwrap_or_else(|e| e.to_string())
                })
            }),
        };
        // SAFETY: as in write().
        let result = unsafe {
            match self.target.get() {
                Target::Exclusive(p) => (*p).set_var_object(name, text, object),
                Target::Owned(p) => (*p).set_var_object(name, text, object),
                Target::Shared(p) => (*p).write_while_expanding(StoreWrite::SetVar {
                    name: name.into(),
                    value: Some(text.text().to_string()),
                }),
                Target::Expired => return Err(expired()),
            }
        };
        result.map_err(|e| raise(py, e))
    }

    /// The object stored in `name` while a read of it gives `value`:
    /// [`VarSource::var_object`].
    fn var_object(&self, py: Python<'_>, name: &str, value: &str) -> PyResult<Option<Py<PyAny>>> {
        Ok(self.read()?.var_object(py, name, value))
    }

    /// How the calling thread may use this handle: `"shared"` (lent for reading),
    /// `"exclusive"` (lent for writing), `"owned"` (a copy), or `"expired"` (its call
    /// ended, or it belongs to another thread).
    fn kind(&self) -> &'static str {
        if self.check_thread().is_err() {
            return "expired";
        }
        match self.target.get() {
            Target::Shared(_) => "shared",
            Target::Exclusive(_) => "exclusive",
            Target::Owned(_) => "owned",
            Target::Expired => "expired",
        }
    }
}

/// Lends a store to Python for the duration of `f`, and takes it back afterwards even
/// when `f` unwinds.
struct Lend<'py> {
    handle: Bound<'py, StoreHandle>,
}

impl Drop for Lend<'_> {
    fn drop(&mut self) {
        self.handle.get().target.set(Target::Expired);
    }
}

/// The embedded interpreter, set up to evaluate BitBake's Python: `bb` imported from
/// the configured path, the bridge module loaded, the method pool shared by all
/// recipes. Cheap to share between threads (`&PythonBridge` is all a thread needs);
/// Python code itself runs under the GIL, one thread at a time.
pub struct PythonBridge {
    module: Py<PyModule>,
    /// Whether `addpylib` has loaded `oe`, so that `oe.utils.*` may be taken natively.
    oe_loaded: std::sync::atomic::AtomicBool,
    /// `bitzel_bridge.eval_inline`, looked up once: it is on the hot path.
    eval_inline: Py<PyAny>,
}

impl PythonBridge {
    /// Starts (once per process) the embedded interpreter, puts `config.python_path`
    /// first on `sys.path`, imports BitBake's `bb` and loads the bridge. Fails when
    /// `bb` cannot be imported: bitzel never evaluates Python without BitBake. There is
    /// one interpreter per process, so one BitBake: a later start with another path
    /// keeps the `bb` (and method pool) already loaded.
    pub fn start(config: &PythonConfig) -> Result<PythonBridge, EvalError> {
        initialize_interpreter()?;
        Python::attach(|py| {
            let setup = || -> PyResult<Py<PyModule>> {
                let sys = py.import("sys")?;
                let path = sys.getattr("path")?.cast_into::<PyList>()?;
                for (i, dir) in config.python_path.iter().enumerate() {
                    let dir = dir.to_string_lossy().into_owned();
                    if !path.contains(&dir)? {
                        path.insert(i, dir)?;
                    }
                }
                let modules = sys.getattr("modules")?;
                if let Ok(m) = modules.get_item("bitzel_bridge") {
                    return Ok(m.cast_into::<PyModule>()?.unbind());
                }
                let code = CString::new(BRIDGE_SOURCE).expect("bridge source has no NUL");
                let m =
                    PyModule::from_code(py, &code, c"bitzel/python_bridge.py", c"bitzel_bridge")?;
                modules.set_item("bitzel_bridge", &m)?;
                m.add_class::<StoreHandle>()?;
                m.add_class::<GuardedCall>()?;
                m.add_function(pyo3::wrap_pyfunction!(fresh_json_copy, &m)?)?;
                m.add_function(pyo3::wrap_pyfunction!(plain_copy, &m)?)?;
                m.add_function(pyo3::wrap_pyfunction!(same_text, &m)?)?;
                keep_proxy_state(&m)?;
                m.getattr("install_write_guard")?.call0()?;
                Ok(m.unbind())
            };
            setup()
                .and_then(|module| {
                    let eval_inline = module.bind(py).getattr("eval_inline")?.unbind();
                    Ok(PythonBridge {
                        module,
                        oe_loaded: false.into(),
                        eval_inline,
                    })
                })
                .map_err(|e| EvalError::Bridge(format_exception(py, &e)))
        })
    }

    /// Evaluates the code of one `${@code}` of variable `varname` the way BitBake's
    /// `VariableParse.python_sub` does, reading variables from `store`: compiled as
    /// `Var <varname>` (or `<expansion>`), run with BitBake's global context and `d`,
    /// unknown names read as variables (`DataContext`), the result turned into text with
    /// `str()`. The caller has already checked [`has_unexpanded_var`].
    ///
    /// The common shapes (`bb.utils.contains`, `contains_any`, `filter`,
    /// `oe.utils.conditional`, `vartrue`, `d.getVar` with literal arguments,
    /// `bb.parse.vars_from_file`, and `or`/`and`/`not`/`==`/indexing/`replace`/`strip`
    /// over them: see native.rs; three quarters of the evaluations of a Poky parse) are
    /// evaluated natively, without the GIL, with the same results and errors; everything
    /// else runs in Python.
    pub fn eval_inline(
        &self,
        code: &str,
        varname: Option<&str>,
        store: &dyn VarSource,
    ) -> Result<String, EvalError> {
        let oe = self.oe_loaded.load(std::sync::atomic::Ordering::Relaxed);
        if let Some(result) = native::eval(code, store, oe) {
            return result;
        }
        self.eval_inline_in_python(code, varname, store)
    }

    /// Whether [`PythonBridge::eval_inline`] evaluates `code` natively (for statistics
    /// and tests).
    pub fn takes_native_path(&self, code: &str) -> bool {
        native::accepts(
            code,
            self.oe_loaded.load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    /// [`PythonBridge::eval_inline`] without the native fast path: always Python. For
    /// tests that prove the two equal, and for measurements.
    pub fn eval_inline_in_python(
        &self,
        code: &str,
        varname: Option<&str>,
        store: &dyn VarSource,
    ) -> Result<String, EvalError> {
        // SAFETY (lifetime extension): the handle is expired by `Lend` before `store`'s
        // borrow ends; see StoreHandle.
        let ptr: *const (dyn VarSource + 'static) = unsafe {
            std::mem::transmute::<*const dyn VarSource, *const (dyn VarSource + 'static)>(store)
        };
        self.with_store(Target::Shared(ptr), |py, _m, handle| {
            self.eval_inline
                .bind(py)
                .call1((handle, code, varname))?
                .cast_into::<PyString>()?
                .to_str()
                .map(str::to_string)
        })
    }

    /// Runs the anonymous functions named in the store's `__BBANONFUNCS`, in that order,
    /// with `d`, through BitBake's own `bb.parse.ast.runAnonFuncs` (what
    /// `bb.parse.ast.finalize` does). They may change the store; a
    /// `bb.parse.SkipRecipe` comes back as [`EvalError::SkipRecipe`].
    pub fn run_anonymous(&self, store: &mut dyn VarSource) -> Result<(), EvalError> {
        // SAFETY: as in eval_inline.
        let ptr: *mut (dyn VarSource + 'static) = unsafe {
            std::mem::transmute::<*mut dyn VarSource, *mut (dyn VarSource + 'static)>(store)
        };
        self.with_store(Target::Exclusive(ptr), |_py, m, handle| {
            m.getattr("run_anonymous")?.call1((handle,)).map(|_| ())
        })
    }

    /// Fires one of `bb.parse.ast.finalize`'s recipe events (`event` is its class name
    /// in `bb.event`: `RecipePreFinalise`, `RecipePostKeyExpansion`,
    /// `RecipeTaskPreProcess`, `RecipeParsed`) to the handlers named in the store's
    /// `__BBHANDLERS` whose `[eventmask]` takes it, through BitBake's own `bb.event`
    /// (registered for the call and unregistered afterwards, as finalize does).
    pub fn fire_recipe_event(
        &self,
        store: &mut dyn VarSource,
        event: &str,
        file: &str,
        variant: &str,
    ) -> Result<(), EvalError> {
        // SAFETY: as in eval_inline.
        let ptr: *mut (dyn VarSource + 'static) = unsafe {
            std::mem::transmute::<*mut dyn VarSource, *mut (dyn VarSource + 'static)>(store)
        };
        self.with_store(Target::Exclusive(ptr), |_py, m, handle| {
            m.getattr("fire_recipe_event")?
                .call1((handle, event, file, variant))
                .map(|_| ())
        })
    }

    /// Fires one of the configuration's events (`event` is its class name in
    /// `bb.event`: `ConfigParsed` as cookerdata's `parseBaseConfiguration` fires it
    /// after reading the configuration files) to the handlers named in the store's
    /// `__BBHANDLERS` whose `[eventmask]` takes it, through BitBake's own `bb.event`.
    /// File-system writes the handlers make outside the allowed roots are withheld
    /// (see [`PythonBridge::take_withheld_writes`]).
    pub fn fire_config_event(
        &self,
        store: &mut dyn VarSource,
        event: &str,
    ) -> Result<(), EvalError> {
        // SAFETY: as in eval_inline.
        let ptr: *mut (dyn VarSource + 'static) = unsafe {
            std::mem::transmute::<*mut dyn VarSource, *mut (dyn VarSource + 'static)>(store)
        };
        self.with_store(Target::Exclusive(ptr), |_py, m, handle| {
            m.getattr("fire_config_event")?
                .call1((handle, event))
                .map(|_| ())
        })
    }

    /// Sets what Python code reads as `BB_ORIGENV`: a `bb.data_smart.DataSmart` holding
    /// the whole environment BitBake was started in (`CookerDataBuilder`'s `savedenv`;
    /// base.bbclass's `setup_hosttools_dir` takes PATH from it). One per interpreter:
    /// the last configuration read sets it.
    pub fn set_original_environment(&self, env: &[(String, String)]) -> Result<(), EvalError> {
        self.call_module(|_py, m| m.getattr("set_origenv")?.call1((env.to_vec(),)).map(|_| ()))
    }

    /// Lets the write guard pass file-system writes under `dir` (an output directory).
    /// Without it, every write that the metadata's Python makes through `os`, `open` or
    /// `sqlite3` is withheld: not made, recorded, and the call returns as if it had
    /// succeeded (see python_bridge.py).
    pub fn allow_writes_under(&self, dir: &Path) -> Result<(), EvalError> {
        let dir = dir.to_string_lossy().into_owned();
        self.call_module(|_py, m| m.getattr("allow_writes_under")?.call1((dir,)).map(|_| ()))
    }

    /// The writes withheld on this thread since the last call, as (operation, path):
    /// `("symlink", "/.../tmp/hosttools/gcc")`, `("makedirs", ...)`, `("open", ...)`.
    pub fn take_withheld_writes(&self) -> Vec<(String, String)> {
        self.call_module(|_py, m| {
            m.getattr("take_withheld_writes")?
                .call0()?
                .extract::<Vec<(String, String)>>()
        })
        .unwrap_or_default()
    }

    /// Moves every Python object alive now (BitBake's modules, the classes' functions)
    /// to the garbage collector's permanent generation (`gc.freeze()`), so that the
    /// collections made while recipes are parsed do not traverse them each time. Values
    /// are unaffected; call it once the configuration is read.
    pub fn freeze_objects(&self) {
        let _ = self.call_module(|_py, m| m.getattr("freeze_objects")?.call0().map(|_| ()));
    }

    /// `os.fork()`, with the interpreter's own fork protocol (import lock, GIL and
    /// thread states reset in the child): the child's pid here, 0 in the child. Only
    /// for a process with one thread (see `parser_processes`).
    pub fn fork(&self) -> Result<i32, EvalError> {
        self.call_module(|py, _m| py.import("os")?.getattr("fork")?.call0()?.extract::<i32>())
    }

    /// `bb.build.add_tasks(__BBTASKS, d)`: the task flags (`task`, dependency flags
    /// expanded) and `_task_deps`, computed on the store ([`task_deps::collect`]) and
    /// stored as the dict BitBake's code makes; where that declines, by BitBake's own code.
    pub fn add_tasks(&self, store: &mut dyn VarSource) -> Result<(), EvalError> {
        let collected = task_deps::collect(store)?;
        // SAFETY: as in eval_inline.
        let ptr: *mut (dyn VarSource + 'static) = unsafe {
            std::mem::transmute::<*mut dyn VarSource, *mut (dyn VarSource + 'static)>(store)
        };
        self.with_store(Target::Exclusive(ptr), |py, m, handle| match &collected {
            Some(deps) => m
                .getattr("set_task_deps")?
                .call1((handle, task_deps_dict(py, deps)?))
                .map(|_| ()),
            None => m.getattr("add_tasks")?.call1((handle,)).map(|_| ()),
        })
    }

    /// `bb.methodpool.insert_method`: defines the `def` functions of `code` (a `def`
    /// block of a class or recipe, starting at line `lineno` + 1 of `filename`) in
    /// BitBake's global context, where inline Python and anonymous functions call them.
    pub fn insert_method(
        &self,
        modulename: &str,
        code: &str,
        filename: &str,
        lineno: usize,
    ) -> Result<(), EvalError> {
        self.call_module(|_py, m| {
            m.getattr("insert_method")?
                .call1((modulename, code, filename, lineno))
                .map(|_| ())
        })
    }

    /// Defines an anonymous function (`python () { body }` or `python __anonymous ()`)
    /// the way `bb.parse.ast.MethodNode` does: as `def __anon_<line>_<file>(d):` in the
    /// method pool. `lineno` is the line of the closing `}` (BitBake's node line) and
    /// `body` the lines between the braces, right-trimmed as BitBake reads them. Returns
    /// the function's name, which the store appends to `__BBANONFUNCS`.
    pub fn insert_anonymous(
        &self,
        body: &[&str],
        filename: &str,
        lineno: usize,
    ) -> Result<String, EvalError> {
        let name = anonymous_function_name(filename, lineno);
        // BitBake's body ends with an empty line for the closing brace.
        let text = format!("def {name}(d):\n{}\n", body.join("\n"));
        let start = lineno.saturating_sub(body.len() + 2);
        self.insert_method(&name, &text, filename, start)?;
        Ok(name)
    }

    /// The `addpylib <dir> <namespace>` statement (e.g. Poky's `addpylib
    /// ${LAYERDIR}/lib oe`): BitBake's own `PyLibNode` puts `dir` on `sys.path`, imports
    /// the namespace and its `BBIMPORTS` into the global context, and imports
    /// `BB_GLOBAL_PYMODULES` (read from `store`).
    pub fn add_pylib(
        &self,
        libdir: &str,
        namespace: &str,
        filename: &str,
        lineno: usize,
        store: &dyn VarSource,
    ) -> Result<(), EvalError> {
        // SAFETY: as in eval_inline.
        let ptr: *const (dyn VarSource + 'static) = unsafe {
            std::mem::transmute::<*const dyn VarSource, *const (dyn VarSource + 'static)>(store)
        };
        self.with_store(Target::Shared(ptr), |_py, m, handle| {
            m.getattr("add_pylib")?
                .call1((handle, libdir, namespace, filename, lineno))
                .map(|_| ())
        })?;
        if namespace == "oe" {
            self.oe_loaded
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    }

    /// The messages that BitBake's Python code logged on this thread (`bb.warn`, the
    /// traceback of a failing anonymous function, ...) since the last call: the caller
    /// turns them into diagnostics for the recipe it is evaluating.
    pub fn take_messages(&self) -> Vec<LogMessage> {
        let taken = self.call_module(|_py, m| {
            m.getattr("take_messages")?
                .call0()?
                .extract::<Vec<(i64, String)>>()
        });
        taken
            .unwrap_or_default()
            .into_iter()
            .map(|(levelno, text)| LogMessage {
                level: LogLevel::from_python(levelno),
                text,
            })
            .collect()
    }

    /// Runs `f` with the interpreter held by this thread, so that the evaluations it
    /// makes (inline expressions, anonymous functions) pay for one GIL acquisition
    /// instead of one each; use it around a recipe's batch of Python work. Other
    /// threads wait for Python meanwhile, so keep native work out of `f`.
    pub fn hold<R>(&self, f: impl FnOnce() -> R) -> R {
        keep_thread_state();
        Python::attach(|_py| f())
    }

    fn call_module<R>(
        &self,
        f: impl for<'py> FnOnce(Python<'py>, &Bound<'py, PyModule>) -> PyResult<R>,
    ) -> Result<R, EvalError> {
        keep_thread_state();
        Python::attach(|py| {
            let m = self.module.bind(py);
            f(py, m).map_err(|e| to_eval_error(py, m, &e))
        })
    }

    fn with_store<R>(
        &self,
        target: Target,
        f: impl for<'py> FnOnce(
            Python<'py>,
            &Bound<'py, PyModule>,
            &Bound<'py, StoreHandle>,
        ) -> PyResult<R>,
    ) -> Result<R, EvalError> {
        self.call_module(|py, m| {
            let lend = Lend {
                handle: Bound::new(py, StoreHandle::new(target))?,
            };
            f(py, m, &lend.handle)
        })
    }
}

/// The dict that `bb.build.add_tasks` leaves in `_task_deps`, with its keys in the order
/// it inserts them: `tasks`, `parents`, then the copied flags once a task was handled.
fn task_deps_dict<'py>(py: Python<'py>, deps: &TaskDeps) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("tasks", PyList::new(py, &deps.tasks)?)?;
    let parents = PyDict::new(py);
    for (task, after) in &deps.parents {
        parents.set_item(task, PyList::new(py, after)?)?;
    }
    dict.set_item("parents", parents)?;
    for (name, entries) in task_deps::COPIED_FLAGS.iter().zip(&deps.flags) {
        let by_task = PyDict::new(py);
        for (task, value) in entries {
            by_task.set_item(task, value)?;
        }
        dict.set_item(*name, by_task)?;
    }
    Ok(dict)
}

impl Drop for PythonBridge {
    /// Writes the Python profile when BITZEL_PYTHON_PROFILE asks for one (see
    /// python_bridge.py's `write_profile`); does nothing otherwise.
    fn drop(&mut self) {
        if std::env::var_os("BITZEL_PYTHON_PROFILE").is_some() {
            let _ = self.call_module(|_py, m| m.getattr("write_profile")?.call0().map(|_| ()));
        }
    }
}

/// Starts CPython once per process, with hash seed 0 and no signal handlers.
///
/// Some of BitBake's values come out of Python sets (COMBINED_FEATURES, for one), so
/// their word order follows string hashing, which CPython randomises per process: two
/// BitBake runs can disagree. bitzel fixes the seed so that every machine generates the
/// same workspace; the order is then that of any `python3` run with PYTHONHASHSEED=0.
fn initialize_interpreter() -> Result<(), EvalError> {
    static START: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    START
        .get_or_init(|| {
            // SAFETY: the CPython initialisation sequence (PyConfig API), run once per
            // process under the OnceLock, before anything else touches Python.
            unsafe {
                if pyo3::ffi::Py_IsInitialized() != 0 {
                    return Ok(());
                }
                let mut config = std::mem::MaybeUninit::<pyo3::ffi::PyConfig>::uninit();
                pyo3::ffi::PyConfig_InitPythonConfig(config.as_mut_ptr());
                let mut config = config.assume_init();
                config.use_hash_seed = 1;
                config.hash_seed = 0;
                config.install_signal_handlers = 0;
                // No __pycache__ next to BitBake's and the layers' modules: bitzel
                // writes nothing outside its output directory (PYTHONDONTWRITEBYTECODE
                // or not). Caches that are there are read.
                config.write_bytecode = 0;
                let status = pyo3::ffi::Py_InitializeFromConfig(&config);
                pyo3::ffi::PyConfig_Clear(&mut config);
                if pyo3::ffi::PyStatus_Exception(status) != 0 {
                    let msg = if status.err_msg.is_null() {
                        "unknown error".to_string()
                    } else {
                        std::ffi::CStr::from_ptr(status.err_msg)
                            .to_string_lossy()
                            .into_owned()
                    };
                    return Err(format!("CPython did not start: {msg}"));
                }
                // Release the GIL that initialisation left with this thread.
                pyo3::ffi::PyEval_SaveThread();
            }
            Ok(())
        })
        .clone()
        .map_err(EvalError::Bridge)
}

/// Gives the calling thread a Python thread state that outlives each call.
///
/// PyO3 attaches a thread that Python does not know with `PyGILState_Ensure` and
/// detaches it with `PyGILState_Release`, which frees the thread state when its count
/// drops to zero: every evaluation would build and free one. Taking one count for good
/// on the first call keeps it, so later calls only take and give back the GIL. The
/// state is leaked when the thread ends, which CPython tolerates.
fn keep_thread_state() {
    thread_local! {
        static KEPT: Cell<bool> = const { Cell::new(false) };
    }
    KEPT.with(|kept| {
        // SAFETY: the interpreter is initialised (PythonBridge exists). Only when this
        // thread does not hold the GIL already (else SaveThread would drop it under a
        // running attach): Ensure takes it and SaveThread gives it back, keeping the
        // state.
        unsafe {
            if !kept.get() && pyo3::ffi::PyGILState_Check() == 0 {
                pyo3::ffi::PyGILState_Ensure();
                pyo3::ffi::PyEval_SaveThread();
                kept.set(true);
            }
        }
    });
}

/// The Python name of an anonymous function, as `bb.parse.ast.MethodNode` makes it:
/// `__anon_<line>_<file with / . + - @ % & ~ turned into _>`.
pub fn anonymous_function_name(filename: &str, lineno: usize) -> String {
    let file: String = filename
        .chars()
        .map(|c| if "/.+-@%&~".contains(c) { '_' } else { c })
        .collect();
    format!("__anon_{lineno}_{file}")
}

/// BitBake's rule that inline Python still holding an unexpanded variable reference is
/// not run (`VariableParse.python_sub`): true when `code` contains `${NAME}` with NAME
/// made of `a-zA-Z0-9-_+./~:` (BitBake's `__expand_var_regexp__`).
pub fn has_unexpanded_var(code: &str) -> bool {
    let bytes = code.as_bytes();
    let mut i = 0;
    while let Some(off) = code[i..].find("${") {
        let start = i + off + 2;
        let mut j = start;
        while j < bytes.len()
            && (bytes[j].is_ascii_alphanumeric() || b"-_+./~:".contains(&bytes[j]))
        {
            j += 1;
        }
        if j > start && j < bytes.len() && bytes[j] == b'}' {
            return true;
        }
        i = start;
    }
    false
}

fn format_exception(py: Python<'_>, err: &PyErr) -> String {
    let tb = err
        .traceback(py)
        .and_then(|tb| tb.format().ok())
        .unwrap_or_default();
    format!("{tb}{err}")
}

/// Sorts a Python exception into what BitBake would make of it.
fn to_eval_error(py: Python<'_>, m: &Bound<'_, PyModule>, err: &PyErr) -> EvalError {
    let described = m
        .getattr("describe")
        .and_then(|f| f.call1((err.value(py),)))
        .and_then(|t| t.cast_into::<PyTuple>().map_err(PyErr::from));
    let traceback = err
        .traceback(py)
        .and_then(|tb| tb.format().ok())
        .unwrap_or_default();
    let Ok(t) = described else {
        return EvalError::Python {
            type_name: "Exception".into(),
            message: format_exception(py, err),
            traceback,
        };
    };
    let s = |i: usize| -> Option<String> { t.get_item(i).ok()?.extract::<Option<String>>().ok()? };
    match s(0).as_deref() {
        Some("skip") => EvalError::SkipRecipe(s(1).unwrap_or_default()),
        Some("handled") => EvalError::Handled {
            type_name: s(1).unwrap_or_default(),
            message: s(2).unwrap_or_default(),
            traceback,
        },
        Some("exit") => EvalError::Exit(s(1).unwrap_or_default()),
        Some("expansion") => {
            let (exception_type, exception_message) = t
                .get_item(3)
                .and_then(|x| x.extract::<(String, String)>())
                .unwrap_or_default();
            let varlist = t
                .get_item(4)
                .and_then(|x| x.extract::<Vec<String>>())
                .unwrap_or_default();
            EvalError::Expansion(ExpansionError {
                varname: s(1),
                expression: s(2).unwrap_or_default(),
                exception_type,
                exception_message,
                varlist,
            })
        }
        _ => EvalError::Python {
            type_name: s(1).unwrap_or_default(),
            message: s(2).unwrap_or_default(),
            traceback,
        },
    }
}
