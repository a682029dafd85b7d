//! The lossless parser for BitBake's files.
//!
//! PLACEHOLDER: the real lexer, parser and typed AST replace this module (issue 2).
//! Public contract that the rest of the crate relies on:
//!
//! - [`FileKind`]: which of BitBake's handlers reads a file (BBHandler or ConfHandler).
//! - [`parse`]: text in, [`Parse`] out (a rowan green tree plus [`SyntaxError`]s).
//! - `ast`: typed nodes over the tree.

use crate::diagnostic::Severity;
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
    /// `conf/layer.conf` and `conf/bblayers.conf`, which BitBake parses as base
    /// configuration: like [`FileKind::Config`] plus `addpylib`.
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
            "conf" if name == "layer.conf" || name == "bblayers.conf" => Some(FileKind::BaseConfig),
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
    errors: Vec<SyntaxError>,
}

impl Parse {
    /// The problems found, in text order.
    pub fn errors(&self) -> &[SyntaxError] {
        &self.errors
    }
}

/// Parses `text` the way BitBake's handler for `kind` reads it.
pub fn parse(text: &str, kind: FileKind) -> Parse {
    let _ = (text, kind);
    Parse { errors: Vec::new() }
}

impl Parse {
    /// The typed root of the tree (placeholder: no statements).
    pub fn tree(&self) -> ast::SourceFile {
        ast::SourceFile
    }
}

/// Typed nodes over the tree (placeholder until the parser lands).
pub mod ast {
    /// A whole file.
    pub struct SourceFile;
    impl SourceFile {
        /// The statements of the file, in order.
        pub fn statements(&self) -> impl Iterator<Item = Statement> {
            std::iter::empty()
        }
    }
    /// One statement.
    pub enum Statement {
        /// `VAR = "value"` and its operator and flag forms.
        Assignment(Assignment),
        /// `include`, `include_all`, `require`.
        Include(Include),
    }
    /// An assignment.
    pub struct Assignment;
    impl Assignment {
        /// The variable name with its overrides.
        pub fn name(&self) -> String {
            String::new()
        }
        /// The flag, for `VAR[flag] = ...`.
        pub fn flag(&self) -> Option<String> {
            None
        }
        /// The value between the quotes.
        pub fn value(&self) -> String {
            String::new()
        }
    }
    /// An include statement.
    pub struct Include;
    impl Include {
        /// The raw argument text.
        pub fn files(&self) -> String {
            String::new()
        }
    }
}
