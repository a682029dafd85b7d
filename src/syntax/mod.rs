//! The lossless parser for BitBake's files.
//!
//! BitBake has no grammar: its handlers read a file line by line, join continued lines,
//! collect function bodies and match each logical line against a list of regexes
//! (BBHandler.py for `.bb`, `.bbclass`, `.bbappend` and `.inc`; ConfHandler.py for
//! `.conf`). This module does the same and keeps every byte: the result is a rowan tree
//! whose text is the input, with a typed AST on top and the problems BitBake would report
//! as [`SyntaxError`]s.
//!
//! - [`kinds`]: the one [`SyntaxKind`] enum and the rowan language.
//! - [`lexer`]: physical lines, `rstrip()`, Python's character classes, `${}` pieces.
//! - [`statement`]: one matcher per BitBake statement regex.
//! - `parser`: BitBake's line loops, building the tree.
//! - [`ast`]: typed nodes with accessors that give what BitBake's regex groups capture.
//!
//! Line ends: Python's universal newlines turn `\r\n` and a lone `\r` into `\n` when
//! BitBake reads a file, so all three end a line here; the tree keeps them as they are
//! (`NEWLINE` tokens) and the AST's strings hold `\n` where BitBake's do.
//!
//! The rules are scarthgap's (BitBake 2.8): its `__addtask_regexp__`, its
//! `__config_regexp__` (a name of at least one character, no whitespace warning), its
//! comment checks inside continued lines. On top, `include_all` (BitBake 2.10+) is
//! accepted. tests/conformance.rs compares the statements found here with BitBake's own
//! parser (tests/oracle/bb_parse.py), on fixtures, on Poky and on random line soup.
//!
//! Where the parser knowingly differs from BitBake:
//!
//! - It goes on after an error (BitBake stops at the first one). The logical line
//!   BitBake refuses becomes an `ERROR` node; a comment line inside a continued statement
//!   is reported and skipped (BitBake 2.8 refuses it, older BitBake ignored it); a
//!   continued comment followed by a statement, or a continued statement starting with a
//!   line that is only `\`, becomes an `ERROR` node and the next line is read afresh.
//! - BitBake can number a line past the end of the file (an error at the end of a file
//!   without a final line end, a `\` on the last line of a .conf file); ranges here stop
//!   at the end of the text.
//! - `${@...}` pieces are found in the text as written, with `${VAR}` taken as one unit
//!   (BitBake looks for them after expanding variables).
//! - Errors BitBake finds while evaluating (a missing `require`, a class that cannot be
//!   inherited, EXPORT_FUNCTIONS in a class whose name has a dash) belong to the
//!   evaluator, not here.

pub mod ast;
pub mod kinds;
pub mod lexer;
mod parser;
pub mod statement;

pub use kinds::{BitBakeLanguage, SyntaxElement, SyntaxKind, SyntaxNode, SyntaxToken};
pub use statement::AssignOp;

use crate::diagnostic::Severity;
use rowan::GreenNode;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;

/// Which of BitBake's handlers reads a file, which decides the statements it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// `.bb`, `.bbclass`, `.bbappend`, `.inc`: BitBake's BBHandler (functions, inherit,
    /// addtask... on top of the configuration statements).
    Recipe,
    /// `.conf`: BitBake's ConfHandler (assignments, include/require, export, unset).
    Config,
    /// `conf/layer.conf`, `conf/bblayers.conf` and `conf/bitbake.conf`, which BitBake
    /// parses as base configuration (cookerdata's `parse_config_file`): like
    /// [`FileKind::Config`] plus `addpylib`. Files they include are plain configuration.
    BaseConfig,
}

impl FileKind {
    /// The handler BitBake picks for `path` by its name, or `None` if BitBake would refuse
    /// it ("not a BitBake file").
    pub fn from_path(path: &Path) -> Option<FileKind> {
        let name = path.file_name()?.to_str()?;
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        match ext {
            "bb" | "bbclass" | "bbappend" | "inc" => Some(FileKind::Recipe),
            "conf" if matches!(name, "layer.conf" | "bblayers.conf" | "bitbake.conf") => {
                Some(FileKind::BaseConfig)
            }
            "conf" => Some(FileKind::Config),
            _ => None,
        }
    }
}

/// A problem the parser found, located by a byte range of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// What is wrong, in BitBake's words where it has words for it.
    pub message: String,
    /// Where: the range starts on the line BitBake reports.
    pub range: Range<usize>,
    /// Error (BitBake refuses the file) or warning (BitBake warns and goes on).
    pub severity: Severity,
}

/// The result of parsing one file: the lossless tree and the problems found.
#[derive(Debug, Clone)]
pub struct Parse {
    green: GreenNode,
    errors: Vec<SyntaxError>,
    line_starts: Vec<usize>,
}

impl Parse {
    /// The problems found, in text order.
    pub fn errors(&self) -> &[SyntaxError] {
        &self.errors
    }

    /// The 1-based line that holds byte `offset`, counted as BitBake counts lines (`\n`,
    /// `\r\n` and a lone `\r` each end one). Use it with a node's
    /// `syntax().text_range()`: BitBake gives a statement the line of its last character,
    /// a function the line of its closing `}`.
    pub fn line_number(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i.max(1),
        }
    }

    /// The root of the syntax tree (a `SOURCE_FILE` node); its text is the input.
    pub fn syntax(&self) -> SyntaxNode {
        SyntaxNode::new_root(self.green.clone())
    }

    /// The typed root of the tree.
    pub fn tree(&self) -> ast::SourceFile {
        ast::SourceFile::cast(self.syntax()).expect("the root is a SOURCE_FILE")
    }

    /// The tree printed one element a line, indented by depth, as `KIND@start..end` and
    /// the token text for tokens (rust-analyzer's format), for golden tests.
    pub fn debug_tree(&self) -> String {
        let mut out = String::new();
        let mut depth = 0usize;
        for event in self.syntax().preorder_with_tokens() {
            match event {
                rowan::WalkEvent::Enter(element) => {
                    let range = element.text_range();
                    let _ = write!(
                        out,
                        "{:indent$}{:?}@{}..{}",
                        "",
                        element.kind(),
                        u32::from(range.start()),
                        u32::from(range.end()),
                        indent = depth * 2
                    );
                    if let rowan::NodeOrToken::Token(token) = &element {
                        let _ = write!(out, " {:?}", token.text());
                    } else {
                        depth += 1;
                    }
                    out.push('\n');
                }
                rowan::WalkEvent::Leave(element) => {
                    if element.as_node().is_some() {
                        depth -= 1;
                    }
                }
            }
        }
        out
    }
}

/// Parses `text` the way BitBake's handler for `kind` reads it. Never fails and never
/// panics: what BitBake refuses becomes an `ERROR` node and a [`SyntaxError`], and parsing
/// goes on with the next statement (BitBake itself stops at the first error).
pub fn parse(text: &str, kind: FileKind) -> Parse {
    let (green, errors, line_starts) = parser::parse(text, kind);
    Parse {
        green,
        errors,
        line_starts,
    }
}
