//! Typed nodes over the syntax tree.
//!
//! PLACEHOLDER: only the shape of the public contract, so that code written against it
//! compiles; the placeholder parser yields no statements. The real typed AST replaces it.

use super::SyntaxNode;

/// One parsed file: the root of the tree.
#[derive(Debug, Clone)]
pub struct SourceFile {
    syntax: SyntaxNode,
}

impl SourceFile {
    pub(crate) fn new(syntax: SyntaxNode) -> SourceFile {
        SourceFile { syntax }
    }

    /// The underlying syntax node.
    pub fn syntax(&self) -> &SyntaxNode {
        &self.syntax
    }

    /// The statements of the file, in text order (one per BitBake AST node).
    pub fn statements(&self) -> impl Iterator<Item = Statement> {
        std::iter::empty()
    }
}

/// An assignment operator (the alternatives of ConfHandler's `__config_regexp__`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssignOp {
    /// `=`
    Set,
    /// `:=`, expanded immediately.
    Immediate,
    /// `??=`, a weak default.
    WeakDefault,
    /// `?=`, a default.
    Default,
    /// `+=`, appended with a space.
    Append,
    /// `=+`, prepended with a space.
    Prepend,
    /// `.=`, appended without a space.
    PostDot,
    /// `=.`, prepended without a space.
    PreDot,
}

impl AssignOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            AssignOp::Set => "=",
            AssignOp::Immediate => ":=",
            AssignOp::WeakDefault => "??=",
            AssignOp::Default => "?=",
            AssignOp::Append => "+=",
            AssignOp::Prepend => "=+",
            AssignOp::PostDot => ".=",
            AssignOp::PreDot => "=.",
        }
    }
}

macro_rules! statement_nodes {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone)]
            pub struct $name {
                syntax: SyntaxNode,
            }

            impl $name {
                /// The underlying syntax node.
                pub fn syntax(&self) -> &SyntaxNode {
                    &self.syntax
                }
            }
        )*
    };
}

statement_nodes! {
    /// `[export] NAME[flag] op "value"` (BitBake's DataNode).
    Assignment,
    /// `export NAME` (ExportNode).
    Export,
    /// `unset NAME` or `unset NAME[flag]` (UnsetNode, UnsetFlagNode).
    Unset,
    /// `include ...`, `include_all ...` or `require ...` (IncludeNode).
    Include,
    /// `inherit ...` or `inherit_defer ...` (InheritNode, InheritDeferredNode).
    Inherit,
    /// `addtask ...` (AddTaskNode).
    AddTask,
    /// `deltask ...` (DelTaskNode).
    DelTask,
    /// `addhandler ...` (BBHandlerNode).
    AddHandler,
    /// `EXPORT_FUNCTIONS ...` (ExportFuncsNode).
    ExportFunctions,
    /// `addpylib DIR NAMESPACE` (PyLibNode).
    AddPylib,
    /// A shell or python function in braces (MethodNode).
    Function,
    /// A `def` block (PythonMethodNode).
    PythonDef,
}

impl Assignment {
    /// Whether the assignment starts with `export`.
    pub fn exported(&self) -> bool {
        false
    }

    /// The variable name as written (the regex's `var` group).
    pub fn name(&self) -> String {
        String::new()
    }

    /// The flag name, for `NAME[flag] = ...`.
    pub fn flag(&self) -> Option<String> {
        None
    }

    /// The operator.
    pub fn op(&self) -> AssignOp {
        AssignOp::Set
    }

    /// The value between the quotes, continuation lines joined (the regex's `value` group).
    pub fn value(&self) -> String {
        String::new()
    }
}

impl Include {
    /// The raw argument text: zero or more files, unexpanded.
    pub fn files(&self) -> String {
        String::new()
    }
}

/// A statement of a BitBake file.
#[derive(Debug, Clone)]
pub enum Statement {
    /// See [`Assignment`].
    Assignment(Assignment),
    /// See [`Export`].
    Export(Export),
    /// See [`Unset`].
    Unset(Unset),
    /// See [`Include`].
    Include(Include),
    /// See [`Inherit`].
    Inherit(Inherit),
    /// See [`AddTask`].
    AddTask(AddTask),
    /// See [`DelTask`].
    DelTask(DelTask),
    /// See [`AddHandler`].
    AddHandler(AddHandler),
    /// See [`ExportFunctions`].
    ExportFunctions(ExportFunctions),
    /// See [`AddPylib`].
    AddPylib(AddPylib),
    /// See [`Function`].
    Function(Function),
    /// See [`PythonDef`].
    PythonDef(PythonDef),
}
