//! Typed nodes over the syntax tree: thin wrappers with `cast` and accessors.
//!
//! Accessors return what BitBake's regex groups capture, computed from the tree without
//! lexing again: the characters BitBake drops when it joins continued lines sit in
//! `LINE_JOIN` nodes and are left out.

use super::kinds::SyntaxKind::{self, *};
use super::lexer::is_py_space;
pub use super::statement::AssignOp;
use super::{SyntaxNode, SyntaxToken};

/// A typed view of a syntax node of one kind.
pub trait AstNode: Sized {
    /// Wraps `node` if it has this type's kind.
    fn cast(node: SyntaxNode) -> Option<Self>;
    /// The underlying node (its range is the statement's range in the file).
    fn syntax(&self) -> &SyntaxNode;

    /// The 1-based line on which the node starts. Counts line ends before it, so it costs
    /// time in proportion to the node's offset; for many look-ups use
    /// [`crate::diagnostic::LineIndex`] on the file's text.
    fn start_line(&self) -> usize {
        line_at(self.syntax(), self.syntax().text_range().start().into())
    }

    /// The 1-based line on which the node ends: the line number BitBake gives a statement
    /// (the last physical line of a continued statement, the `}` of a function).
    fn end_line(&self) -> usize {
        line_at(self.syntax(), self.syntax().text_range().end().into())
    }
}

/// 1-based line of `offset`, counting the `NEWLINE` tokens of the whole tree that start
/// before it.
fn line_at(node: &SyntaxNode, offset: usize) -> usize {
    let root = node.ancestors().last().unwrap_or_else(|| node.clone());
    let mut line = 1;
    for element in root.descendants_with_tokens() {
        if let Some(token) = element.as_token() {
            if usize::from(token.text_range().start()) >= offset {
                break;
            }
            if token.kind() == NEWLINE {
                line += 1;
            }
        }
    }
    line
}

macro_rules! ast_node {
    ($(#[$doc:meta])* $name:ident, $kind:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(SyntaxNode);

        impl AstNode for $name {
            fn cast(node: SyntaxNode) -> Option<Self> {
                (node.kind() == $kind).then(|| $name(node))
            }
            fn syntax(&self) -> &SyntaxNode {
                &self.0
            }
        }

        impl $name {
            /// Wraps `node` if it has this type's kind (also [`AstNode::cast`], here so
            /// that callers need not import the trait).
            pub fn cast(node: SyntaxNode) -> Option<Self> {
                <Self as AstNode>::cast(node)
            }

            /// The underlying node: its range is the node's range in the file.
            pub fn syntax(&self) -> &SyntaxNode {
                &self.0
            }
        }
    };
}

/// The text of `node` as BitBake sees it: every token except those inside `LINE_JOIN`.
pub fn logical_text(node: &SyntaxNode) -> String {
    let mut out = String::new();
    for element in node.descendants_with_tokens() {
        if let Some(token) = element.as_token() {
            if token.parent().is_some_and(|p| p.kind() != LINE_JOIN) {
                out.push_str(token.text());
            }
        }
    }
    out
}

/// The concatenated text of the direct child tokens of `kind` (a name split by a line
/// join comes in several tokens).
fn child_text(node: &SyntaxNode, kind: SyntaxKind) -> Option<String> {
    let mut out: Option<String> = None;
    for token in tokens(node).filter(|t| t.kind() == kind) {
        out.get_or_insert_with(String::new).push_str(token.text());
    }
    out
}

fn tokens(node: &SyntaxNode) -> impl Iterator<Item = SyntaxToken> {
    node.children_with_tokens().filter_map(|e| e.into_token())
}

fn has_token(node: &SyntaxNode, kind: SyntaxKind) -> bool {
    tokens(node).any(|t| t.kind() == kind)
}

fn child(node: &SyntaxNode, kind: SyntaxKind) -> Option<SyntaxNode> {
    node.children().find(|c| c.kind() == kind)
}

fn args_text(node: &SyntaxNode, nth: usize) -> String {
    node.children()
        .filter(|c| c.kind() == ARGS)
        .nth(nth)
        .map(|a| logical_text(&a))
        .unwrap_or_default()
}

/// Renders a `BODY` node: text of each line, `\n` for each line end, trailing
/// whitespace dropped (BitBake `rstrip()`s every line).
fn render_body(body: &SyntaxNode, skip_first_line_end: bool) -> String {
    let mut out = String::new();
    let mut skipping = skip_first_line_end;
    for token in tokens(body) {
        match token.kind() {
            NEWLINE if skipping => skipping = false,
            NEWLINE => out.push('\n'),
            TEXT if !skipping => out.push_str(token.text()),
            _ => {}
        }
    }
    out
}

ast_node!(
    /// A whole file: the root of the tree.
    SourceFile, SOURCE_FILE
);

impl SourceFile {
    /// The statements in file order (`ERROR` nodes and comments are not statements).
    pub fn statements(&self) -> impl Iterator<Item = Statement> {
        self.0.children().filter_map(Statement::cast)
    }
}

/// One statement BitBake's handlers recognise, as `bb.parse.ast` builds one node for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Statement {
    /// `VAR op "value"` (ast.DataNode).
    Assignment(Assignment),
    /// `export VAR` (ast.ExportNode).
    Export(Export),
    /// `unset VAR`, `unset VAR[flag]` (ast.UnsetNode, ast.UnsetFlagNode).
    Unset(Unset),
    /// `include`, `include_all`, `require` (ast.IncludeNode).
    Include(Include),
    /// `inherit`, `inherit_defer` (ast.InheritNode, ast.InheritDeferredNode).
    Inherit(Inherit),
    /// `addtask` (ast.AddTaskNode).
    AddTask(AddTask),
    /// `deltask` (ast.DelTaskNode).
    DelTask(DelTask),
    /// `addhandler` (ast.BBHandlerNode).
    AddHandler(AddHandler),
    /// `EXPORT_FUNCTIONS` (ast.ExportFuncsNode).
    ExportFunctions(ExportFunctions),
    /// `addpylib` (ast.PyLibNode).
    AddPylib(AddPylib),
    /// A brace function (ast.MethodNode).
    Function(Function),
    /// A `def` block (ast.PythonMethodNode).
    PythonDef(PythonDef),
}

impl Statement {
    /// Wraps `node` if it is a statement.
    pub fn cast(node: SyntaxNode) -> Option<Statement> {
        Some(match node.kind() {
            ASSIGNMENT => Statement::Assignment(Assignment(node)),
            EXPORT => Statement::Export(Export(node)),
            UNSET => Statement::Unset(Unset(node)),
            INCLUDE => Statement::Include(Include(node)),
            INHERIT => Statement::Inherit(Inherit(node)),
            ADD_TASK => Statement::AddTask(AddTask(node)),
            DEL_TASK => Statement::DelTask(DelTask(node)),
            ADD_HANDLER => Statement::AddHandler(AddHandler(node)),
            EXPORT_FUNCTIONS => Statement::ExportFunctions(ExportFunctions(node)),
            ADD_PYLIB => Statement::AddPylib(AddPylib(node)),
            FUNCTION => Statement::Function(Function(node)),
            PYTHON_DEF => Statement::PythonDef(PythonDef(node)),
            _ => return None,
        })
    }

    /// The underlying node.
    pub fn syntax(&self) -> &SyntaxNode {
        match self {
            Statement::Assignment(n) => n.syntax(),
            Statement::Export(n) => n.syntax(),
            Statement::Unset(n) => n.syntax(),
            Statement::Include(n) => n.syntax(),
            Statement::Inherit(n) => n.syntax(),
            Statement::AddTask(n) => n.syntax(),
            Statement::DelTask(n) => n.syntax(),
            Statement::AddHandler(n) => n.syntax(),
            Statement::ExportFunctions(n) => n.syntax(),
            Statement::AddPylib(n) => n.syntax(),
            Statement::Function(n) => n.syntax(),
            Statement::PythonDef(n) => n.syntax(),
        }
    }

    /// The 1-based line on which the statement starts (see [`AstNode::start_line`]).
    pub fn start_line(&self) -> usize {
        line_at(self.syntax(), self.syntax().text_range().start().into())
    }

    /// The 1-based line on which the statement ends (see [`AstNode::end_line`]).
    pub fn end_line(&self) -> usize {
        line_at(self.syntax(), self.syntax().text_range().end().into())
    }
}

ast_node!(
    /// `[export] VAR[flag] op "value"`: a match of ConfHandler's `__config_regexp__`
    /// (ast.DataNode).
    Assignment, ASSIGNMENT
);

impl Assignment {
    /// Whether the line starts with `export` (group `exp`).
    pub fn exported(&self) -> bool {
        has_token(&self.0, EXPORT_KW)
    }

    /// The variable name as group `var` captures it, overrides included
    /// (`FOO:append:class-native`).
    pub fn name(&self) -> String {
        child_text(&self.0, NAME).unwrap_or_default()
    }

    /// The flag name (group `flag`), for `VAR[flag] = "..."`.
    pub fn flag(&self) -> Option<String> {
        child(&self.0, FLAG).and_then(|f| child_text(&f, NAME))
    }

    /// The operator.
    pub fn op(&self) -> AssignOp {
        for token in tokens(&self.0) {
            let op = match token.kind() {
                EQ => AssignOp::Set,
                COLON_EQ => AssignOp::Immediate,
                QUESTION2_EQ => AssignOp::WeakDefault,
                QUESTION_EQ => AssignOp::Default,
                PLUS_EQ => AssignOp::Append,
                EQ_PLUS => AssignOp::Prepend,
                DOT_EQ => AssignOp::DotAppend,
                EQ_DOT => AssignOp::DotPrepend,
                _ => continue,
            };
            return op;
        }
        AssignOp::Set
    }

    /// The quote character, `"` or `'` (group `apo`).
    pub fn quote(&self) -> char {
        tokens(&self.0)
            .find(|t| t.kind() == QUOTE)
            .and_then(|t| t.text().chars().next())
            .unwrap_or('"')
    }

    /// The value between the quotes (group `value`) of the logical line, continued lines
    /// joined as BitBake joins them. No escapes are processed (BitBake has none).
    pub fn value(&self) -> String {
        self.value_node().map(|v| v.text()).unwrap_or_default()
    }

    /// The value as a node, to find its `${VAR}` and `${@...}` pieces.
    pub fn value_node(&self) -> Option<Value> {
        child(&self.0, VALUE).map(Value)
    }
}

ast_node!(
    /// The text between the quotes of an assignment, with its expansions as child nodes.
    Value, VALUE
);

impl Value {
    /// The value as BitBake captures it.
    pub fn text(&self) -> String {
        logical_text(&self.0)
    }

    /// The `${VAR}` and `${@...}` pieces at the top level of the value, in order.
    pub fn expansions(&self) -> impl Iterator<Item = Expansion> {
        self.0.children().filter_map(Expansion::cast)
    }

    /// Every `${VAR}` in the value, including those inside `${@...}`.
    pub fn var_refs(&self) -> impl Iterator<Item = VarRef> {
        self.0.descendants().filter_map(VarRef::cast)
    }
}

/// A piece of a value that BitBake's expansion replaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expansion {
    /// `${VAR}`
    Var(VarRef),
    /// `${@...}`
    Python(InlinePython),
}

impl Expansion {
    /// Wraps `node` if it is a `VAR_REF` or an `INLINE_PYTHON`.
    pub fn cast(node: SyntaxNode) -> Option<Expansion> {
        VarRef::cast(node.clone())
            .map(Expansion::Var)
            .or_else(|| InlinePython::cast(node).map(Expansion::Python))
    }
}

ast_node!(
    /// `${VAR}`, where data_smart's `__expand_var_regexp__` finds one.
    VarRef, VAR_REF
);

impl VarRef {
    /// The variable's name (between `${` and `}`).
    pub fn name(&self) -> String {
        let t = logical_text(&self.0);
        t[2..t.len() - 1].to_string()
    }
}

ast_node!(
    /// `${@...}`, where data_smart's `__expand_python_regexp__` finds one.
    InlinePython, INLINE_PYTHON
);

impl InlinePython {
    /// The Python expression (between `${@` and the final `}`).
    pub fn code(&self) -> String {
        let t = logical_text(&self.0);
        t[3..t.len() - 1].to_string()
    }

    /// The `${VAR}` pieces inside the expression (BitBake expands them first).
    pub fn var_refs(&self) -> impl Iterator<Item = VarRef> {
        self.0.children().filter_map(VarRef::cast)
    }
}

ast_node!(
    /// `export VAR` (ConfHandler's `__export_regexp__`, ast.ExportNode).
    Export, EXPORT
);

impl Export {
    /// The variable name.
    pub fn name(&self) -> String {
        child_text(&self.0, NAME).unwrap_or_default()
    }
}

ast_node!(
    /// `unset VAR` or `unset VAR[flag]` (`__unset_regexp__`, `__unset_flag_regexp__`).
    Unset, UNSET
);

impl Unset {
    /// The variable name.
    pub fn name(&self) -> String {
        child_text(&self.0, NAME).unwrap_or_default()
    }

    /// The flag, for `unset VAR[flag]`.
    pub fn flag(&self) -> Option<String> {
        child(&self.0, FLAG).and_then(|f| child_text(&f, NAME))
    }
}

/// Which include statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncludeKind {
    /// `include`: a missing file is ignored.
    Include,
    /// `include_all`: the file in every layer of BBPATH (BitBake 2.10+).
    IncludeAll,
    /// `require`: a missing file is an error.
    Require,
}

ast_node!(
    /// `include`, `include_all` or `require` and its files (ast.IncludeNode).
    Include, INCLUDE
);

impl Include {
    /// Which statement.
    pub fn kind(&self) -> IncludeKind {
        if has_token(&self.0, REQUIRE_KW) {
            IncludeKind::Require
        } else if has_token(&self.0, INCLUDE_ALL_KW) {
            IncludeKind::IncludeAll
        } else {
            IncludeKind::Include
        }
    }

    /// The raw argument (group 1 of `include\s+(.+)`): zero or more files once expanded.
    pub fn files(&self) -> String {
        args_text(&self.0, 0)
    }
}

ast_node!(
    /// `inherit classes` or `inherit_defer classes` (BBHandler).
    Inherit, INHERIT
);

impl Inherit {
    /// Whether this is `inherit_defer` (evaluated at the end of parsing).
    pub fn deferred(&self) -> bool {
        has_token(&self.0, INHERIT_DEFER_KW)
    }

    /// The raw argument (group 1 of `inherit\s+(.+)`).
    pub fn classes(&self) -> String {
        args_text(&self.0, 0)
    }
}

ast_node!(
    /// `addtask` (scarthgap's `__addtask_regexp__`, ast.AddTaskNode).
    AddTask, ADD_TASK
);

impl AddTask {
    /// Group `func`: the task name as written (BitBake adds `do_` if it is missing).
    pub fn task(&self) -> String {
        child_text(&self.0, NAME).unwrap_or_default()
    }

    fn clause(&self, kind: SyntaxKind) -> Option<String> {
        let clause = self.0.children().filter(|c| c.kind() == kind).last()?;
        Some(
            child(&clause, ARGS)
                .map(|a| logical_text(&a))
                .unwrap_or_default(),
        )
    }

    /// Group `before` (its last capture), split on whitespace as `bb.build.addtask` does.
    pub fn before(&self) -> Vec<String> {
        split_words(self.clause(BEFORE_CLAUSE))
    }

    /// Group `after` (its last capture), split on whitespace. In scarthgap these names
    /// get no `do_` prefix.
    pub fn after(&self) -> Vec<String> {
        split_words(self.clause(AFTER_CLAUSE))
    }
}

fn split_words(s: Option<String>) -> Vec<String> {
    s.map(|s| {
        s.split(is_py_space)
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

ast_node!(
    /// `deltask tasks` (ast.DelTaskNode).
    DelTask, DEL_TASK
);

impl DelTask {
    /// The raw argument (expanded and split when evaluated).
    pub fn tasks(&self) -> String {
        args_text(&self.0, 0)
    }
}

ast_node!(
    /// `addhandler handlers` (ast.BBHandlerNode).
    AddHandler, ADD_HANDLER
);

impl AddHandler {
    /// The raw argument (split on whitespace when evaluated).
    pub fn handlers(&self) -> String {
        args_text(&self.0, 0)
    }
}

ast_node!(
    /// `EXPORT_FUNCTIONS functions` (ast.ExportFuncsNode).
    ExportFunctions, EXPORT_FUNCTIONS
);

impl ExportFunctions {
    /// The raw argument (split on whitespace when evaluated).
    pub fn functions(&self) -> String {
        args_text(&self.0, 0)
    }
}

ast_node!(
    /// `addpylib dir namespace` in layer.conf / bblayers.conf (ast.PyLibNode).
    AddPylib, ADD_PYLIB
);

impl AddPylib {
    /// Group 1: the library folder.
    pub fn dir(&self) -> String {
        args_text(&self.0, 0)
    }

    /// Group 2: the Python namespace to import.
    pub fn namespace(&self) -> String {
        args_text(&self.0, 1)
    }
}

ast_node!(
    /// A brace function: `[python] [fakeroot] [name] () {`, body lines, a line that is
    /// exactly `}` (BBHandler's `__func_start_regexp__`, ast.MethodNode).
    Function, FUNCTION
);

impl Function {
    /// The function's name (group `func`), or `None` for an anonymous Python function:
    /// no name, or the name `__anonymous`, which is what BitBake calls them.
    pub fn name(&self) -> Option<String> {
        child_text(&self.0, NAME).filter(|n| n != "__anonymous")
    }

    /// Whether the function is Python: `python` before the name, or anonymous (ast's
    /// MethodNode makes every anonymous function Python).
    pub fn is_python(&self) -> bool {
        has_token(&self.0, PYTHON_KW) || self.name().is_none()
    }

    /// Whether `fakeroot` precedes the name.
    pub fn is_fakeroot(&self) -> bool {
        has_token(&self.0, FAKEROOT_KW)
    }

    /// The body as BitBake stores it in the variable: the body lines, each `rstrip()`ped
    /// and followed by `\n` (`'\n'.join(body + [''])`).
    pub fn body(&self) -> String {
        child(&self.0, BODY)
            .map(|b| render_body(&b, true))
            .unwrap_or_default()
    }
}

ast_node!(
    /// A `def name(...):` block: the `def` line and the lines after it that are indented,
    /// empty or comments (BBHandler's `__def_regexp__` and `__python_func_regexp__`,
    /// ast.PythonMethodNode). BitBake numbers it with the line that ended it (the next
    /// statement's line, or one past the last line at the end of the file), which is
    /// `end_line() + 1`; its `lineno` flag is the `def` line minus one.
    PythonDef, PYTHON_DEF
);

impl PythonDef {
    /// The function's name (group 1 of `__def_regexp__`).
    pub fn name(&self) -> String {
        child_text(&self.0, NAME).unwrap_or_default()
    }

    /// All lines of the block joined with `\n`, as BitBake's body: the (joined) `def` line
    /// first; trailing empty and comment lines included.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for element in self.0.children_with_tokens() {
            match element {
                rowan::NodeOrToken::Token(t) => out.push_str(t.text()),
                rowan::NodeOrToken::Node(n) if n.kind() == BODY => {
                    out.push_str(&render_body(&n, false))
                }
                rowan::NodeOrToken::Node(_) => {}
            }
        }
        out
    }
}
