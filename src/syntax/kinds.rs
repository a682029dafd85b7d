//! The one enum of everything that can appear in a BitBake syntax tree, and the rowan
//! [`Language`](rowan::Language) that ties it to rowan's untyped trees.
//!
//! Tokens come first, nodes after them. Every byte of a file is covered by exactly one
//! token, so the tree's text is the file's text.

/// Every kind of token and node in a BitBake syntax tree.
///
/// Token kinds name the pieces of BitBake's statement regexes (`__config_regexp__` in
/// ConfHandler.py, the `__*_regexp__` patterns in BBHandler.py); node kinds name the
/// statements those regexes recognise.
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u16)]
pub enum SyntaxKind {
    // ---- tokens ----
    /// Whitespace inside a line, or trailing whitespace that BitBake's `rstrip()` removes.
    /// "Whitespace" is Python's `str.isspace()`, which BitBake's regexes' `\s` also use.
    WHITESPACE = 0,
    /// A line end: `\n`, `\r\n` or a lone `\r` (Python's universal newlines, which BitBake
    /// reads its files with, treat all three as `\n`).
    NEWLINE,
    /// A comment line (`#` in the first column), up to its last non-space character.
    COMMENT,
    /// The `\` that ends a continued line and that BitBake removes when it joins lines.
    BACKSLASH,
    /// `export`
    EXPORT_KW,
    /// `include`
    INCLUDE_KW,
    /// `include_all` (BitBake 2.10 and later; accepted for newer layers).
    INCLUDE_ALL_KW,
    /// `require`
    REQUIRE_KW,
    /// `unset`
    UNSET_KW,
    /// `inherit`
    INHERIT_KW,
    /// `inherit_defer`
    INHERIT_DEFER_KW,
    /// `addtask`
    ADDTASK_KW,
    /// `deltask`
    DELTASK_KW,
    /// `addhandler`
    ADDHANDLER_KW,
    /// `EXPORT_FUNCTIONS`
    EXPORT_FUNCTIONS_KW,
    /// `addpylib`
    ADDPYLIB_KW,
    /// `before` in `addtask`
    BEFORE_KW,
    /// `after` in `addtask`
    AFTER_KW,
    /// `python` before a function name
    PYTHON_KW,
    /// `fakeroot` before a function name
    FAKEROOT_KW,
    /// `def` that starts a Python block
    DEF_KW,
    /// A variable, flag, task or function name.
    NAME,
    /// `[`
    L_BRACK,
    /// `]`
    R_BRACK,
    /// `(`
    L_PAREN,
    /// `)`
    R_PAREN,
    /// `{`
    L_BRACE,
    /// `}`
    R_BRACE,
    /// `"` or `'` around a value.
    QUOTE,
    /// `=`
    EQ,
    /// `:=`
    COLON_EQ,
    /// `??=`
    QUESTION2_EQ,
    /// `?=`
    QUESTION_EQ,
    /// `+=`
    PLUS_EQ,
    /// `=+`
    EQ_PLUS,
    /// `.=`
    DOT_EQ,
    /// `=.`
    EQ_DOT,
    /// Any other text: values, arguments, body lines, unparsed lines.
    TEXT,

    // ---- nodes ----
    /// A whole file.
    SOURCE_FILE,
    /// The characters BitBake drops when it joins a continued line to the next one: the
    /// `\`, trailing whitespace and the line end.
    LINE_JOIN,
    /// A logical line BitBake refuses (or a function never closed).
    ERROR,
    /// `[export] VAR[flag] op "value"` (ConfHandler's `__config_regexp__`).
    ASSIGNMENT,
    /// `[flag]` after a variable name.
    FLAG,
    /// The text between the quotes of an assignment.
    VALUE,
    /// `${VAR}` (data_smart's `__expand_var_regexp__`).
    VAR_REF,
    /// `${@python}` (data_smart's `__expand_python_regexp__`).
    INLINE_PYTHON,
    /// Arguments of a keyword statement (files, classes, tasks...).
    ARGS,
    /// `export VAR`
    EXPORT,
    /// `unset VAR` or `unset VAR[flag]`
    UNSET,
    /// `include`, `include_all` or `require`
    INCLUDE,
    /// `inherit` or `inherit_defer`
    INHERIT,
    /// `addtask`
    ADD_TASK,
    /// `before ...` in `addtask`
    BEFORE_CLAUSE,
    /// `after ...` in `addtask`
    AFTER_CLAUSE,
    /// `deltask`
    DEL_TASK,
    /// `addhandler`
    ADD_HANDLER,
    /// `EXPORT_FUNCTIONS`
    EXPORT_FUNCTIONS,
    /// `addpylib`
    ADD_PYLIB,
    /// A brace function: shell, `python`, `fakeroot`, or anonymous Python.
    FUNCTION,
    /// A `def name(...):` Python block.
    PYTHON_DEF,
    /// The lines of a function or `def` block, starting with the header's line end.
    BODY,
}

use SyntaxKind::*;

impl SyntaxKind {
    /// Whether this kind is a token (a leaf) rather than a node.
    pub fn is_token(self) -> bool {
        (self as u16) < (SOURCE_FILE as u16)
    }

    /// Whether this token is trivia: whitespace, line ends, comments.
    pub fn is_trivia(self) -> bool {
        matches!(self, WHITESPACE | NEWLINE | COMMENT)
    }
}

impl From<SyntaxKind> for rowan::SyntaxKind {
    fn from(kind: SyntaxKind) -> Self {
        rowan::SyntaxKind(kind as u16)
    }
}

/// rowan's language tag for BitBake trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BitBakeLanguage {}

impl rowan::Language for BitBakeLanguage {
    type Kind = SyntaxKind;

    fn kind_from_raw(raw: rowan::SyntaxKind) -> SyntaxKind {
        assert!(raw.0 <= BODY as u16, "unknown SyntaxKind {}", raw.0);
        // SAFETY: SyntaxKind is repr(u16) with contiguous discriminants 0..=BODY, checked
        // just above.
        unsafe { std::mem::transmute::<u16, SyntaxKind>(raw.0) }
    }

    fn kind_to_raw(kind: SyntaxKind) -> rowan::SyntaxKind {
        kind.into()
    }
}

/// A node of a BitBake syntax tree.
pub type SyntaxNode = rowan::SyntaxNode<BitBakeLanguage>;
/// A token (leaf) of a BitBake syntax tree.
pub type SyntaxToken = rowan::SyntaxToken<BitBakeLanguage>;
/// A node or a token.
pub type SyntaxElement = rowan::SyntaxElement<BitBakeLanguage>;
