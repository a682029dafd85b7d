//! The lossless parser for BitBake's files.
//!
//! PLACEHOLDER: the real lexer, parser and typed AST replace this module (issue 2).
//! Public contract that the rest of the crate relies on:
//!
//! - [`FileKind`]: which of BitBake's handlers reads a file (BBHandler or ConfHandler).
//! - [`parse`]: text in, [`Parse`] out (a rowan green tree plus [`SyntaxError`]s).
//! - `ast`: typed nodes over the tree.

pub mod ast;

use crate::diagnostic::Severity;
use std::ops::Range;
use std::path::Path;

/// PLACEHOLDER: the kinds of tokens and nodes in bitzel's syntax tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum SyntaxKind {
    /// Text the placeholder does not look into.
    Text,
    /// The root: one whole file.
    SourceFile,
}

/// The rowan language of BitBake's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BitBakeLanguage {}

impl rowan::Language for BitBakeLanguage {
    type Kind = SyntaxKind;

    fn kind_from_raw(raw: rowan::SyntaxKind) -> SyntaxKind {
        match raw.0 {
            0 => SyntaxKind::Text,
            _ => SyntaxKind::SourceFile,
        }
    }

    fn kind_to_raw(kind: SyntaxKind) -> rowan::SyntaxKind {
        rowan::SyntaxKind(kind as u16)
    }
}

/// A node of the lossless tree.
pub type SyntaxNode = rowan::SyntaxNode<BitBakeLanguage>;

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
    green: rowan::GreenNode,
    errors: Vec<SyntaxError>,
}

impl Parse {
    /// The problems found, in text order.
    pub fn errors(&self) -> &[SyntaxError] {
        &self.errors
    }

    /// The lossless tree: its text is the parsed text, byte for byte.
    pub fn syntax(&self) -> SyntaxNode {
        SyntaxNode::new_root(self.green.clone())
    }

    /// The typed view of the tree.
    pub fn tree(&self) -> ast::SourceFile {
        ast::SourceFile::new(self.syntax())
    }
}

/// Parses `text` the way BitBake's handler for `kind` reads it.
pub fn parse(text: &str, kind: FileKind) -> Parse {
    let _ = kind;
    let mut builder = rowan::GreenNodeBuilder::new();
    builder.start_node(rowan::SyntaxKind(SyntaxKind::SourceFile as u16));
    builder.token(rowan::SyntaxKind(SyntaxKind::Text as u16), text);
    builder.finish_node();
    Parse {
        green: builder.finish(),
        errors: Vec::new(),
    }
}
