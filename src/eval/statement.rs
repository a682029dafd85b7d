//! The statements the data store evaluates, as the parser hands them over.

use std::fmt;
use std::sync::Arc;

/// The operator of an assignment: the alternatives of ConfHandler's `__config_regexp__`
/// (`colon`, `lazyques`, `ques`, `append`, `prepend`, `predot`, `postdot`, plain `=`),
/// whose effects `bb.parse.ast.DataNode.eval` defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssignOp {
    /// `A = "v"`: sets the value (or the flag).
    Set,
    /// `A := "v"`: sets the value expanded now, against the store as it is.
    Immediate,
    /// `A ??= "v"`: a weak default, kept in the `_defaultval` flag and used only when the
    /// variable has no value at all when it is read. On a flag, BitBake 2.8 sets the flag
    /// like `=`; 2.12 and later keep a weak default per flag ([`Dialect`](super::Dialect)).
    WeakDefault,
    /// `A ?= "v"`: sets the value unless the variable (or the flag) already has one; a weak
    /// default does not count as a value.
    Default,
    /// `A += "v"`: the current value (never the weak default), a space, then `v`.
    Append,
    /// `A =+ "v"`: `v`, a space, then the current value.
    Prepend,
    /// `A .= "v"`: the current value directly followed by `v`.
    DotAppend,
    /// `A =. "v"`: `v` directly followed by the current value.
    DotPrepend,
}

impl AssignOp {
    /// The operator as it is written in BitBake's files.
    pub fn as_str(self) -> &'static str {
        match self {
            AssignOp::Set => "=",
            AssignOp::Immediate => ":=",
            AssignOp::WeakDefault => "??=",
            AssignOp::Default => "?=",
            AssignOp::Append => "+=",
            AssignOp::Prepend => "=+",
            AssignOp::DotAppend => ".=",
            AssignOp::DotPrepend => "=.",
        }
    }

    /// The operator for its written form, if it is one.
    pub fn from_text(text: &str) -> Option<AssignOp> {
        Some(match text {
            "=" => AssignOp::Set,
            ":=" => AssignOp::Immediate,
            "??=" => AssignOp::WeakDefault,
            "?=" => AssignOp::Default,
            "+=" => AssignOp::Append,
            "=+" => AssignOp::Prepend,
            ".=" => AssignOp::DotAppend,
            "=." => AssignOp::DotPrepend,
            _ => return None,
        })
    }

    /// The operation name that BitBake's variable history records for this operator
    /// (DataNode.eval's `op`: "set", "immediate", "set?", "append"...).
    pub fn history_op(self) -> &'static str {
        match self {
            AssignOp::Set | AssignOp::WeakDefault => "set",
            AssignOp::Immediate => "immediate",
            AssignOp::Default => "set?",
            AssignOp::Append => "append",
            AssignOp::Prepend => "prepend",
            AssignOp::DotAppend => "postdot",
            AssignOp::DotPrepend => "predot",
        }
    }
}

impl fmt::Display for AssignOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One assignment statement, `[export] NAME[flag] op "value"`: the groups of ConfHandler's
/// `__config_regexp__` that `bb.parse.ast.handleData` turns into a `DataNode`.
///
/// `name` is the whole variable name as written, override suffixes included
/// (`A:append:foo`); `value` is the text between the quotes, unexpanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// `export` was written before the name: the statement also sets the `export` flag.
    pub exported: bool,
    /// The variable name, with any `:override` and `:append`/`:prepend`/`:remove` suffixes.
    pub name: String,
    /// The flag in `NAME[flag]`, if the statement assigns a flag.
    pub flag: Option<String>,
    /// The operator.
    pub op: AssignOp,
    /// The value between the quotes.
    pub value: String,
}

/// Where a statement comes from: the file and the 1-based line that BitBake's variable
/// history records (`loginfo['file']`, `loginfo['line']`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// The file, as BitBake names it (usually an absolute path).
    pub file: Arc<str>,
    /// The 1-based line of the statement.
    pub line: u32,
}

impl Location {
    /// A location in `file` at `line`.
    pub fn new(file: impl Into<Arc<str>>, line: u32) -> Location {
        Location {
            file: file.into(),
            line,
        }
    }
}
