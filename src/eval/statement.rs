//! The statements the data store evaluates, as the parser hands them over.

use std::sync::Arc;

/// The operator of an assignment: the parser's [`crate::syntax::AssignOp`] (the
/// alternatives of ConfHandler's `__config_regexp__`), whose effects
/// `bb.parse.ast.DataNode.eval` defines and [`DataStore::assign`](super::DataStore::assign)
/// applies.
pub use crate::syntax::AssignOp;

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
