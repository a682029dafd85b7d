//! The parser: BitBake's line loops, statement by statement, into a rowan green tree.
//!
//! Three seams, as in rust-analyzer:
//!
//! - [`lexer::lines`] cuts the text into physical lines (with their `rstrip()` ends);
//! - the line loops here ([`Parser::recipe`] mirrors BBHandler's `get_statements` and
//!   `feeder`, [`Parser::config`] mirrors ConfHandler's `handle` loop) group physical
//!   lines into logical lines exactly as BitBake does, and hand each logical line to the
//!   recognisers of [`statement`];
//! - a [`Sink`] turns what was recognised (ranges of the logical line) into tokens and
//!   nodes, mapping logical offsets back to the file and wrapping the characters BitBake
//!   drops when it joins lines (`\`, trailing spaces, line ends) in `LINE_JOIN` nodes.
//!
//! Every byte of the input lands in exactly one token, in order.

use super::kinds::SyntaxKind::{self, *};
use super::lexer::{self, expansions, is_py_space, Expansion, Line};
use super::statement::{self, AssignOp};
use super::{FileKind, SyntaxError};
use crate::diagnostic::Severity;
use rowan::{GreenNode, GreenNodeBuilder};
use std::borrow::Cow;
use std::ops::Range;

/// Parses `text` as BitBake's handler for `kind` reads it.
/// Returns the green tree, the problems found (sorted by position) and the start offset of
/// every physical line.
pub(super) fn parse(text: &str, kind: FileKind) -> (GreenNode, Vec<SyntaxError>, Vec<usize>) {
    let mut p = Parser {
        text,
        lines: lexer::lines(text),
        sink: Sink {
            text,
            pos: 0,
            builder: GreenNodeBuilder::new(),
        },
        errors: Vec::new(),
        scratch: Vec::new(),
    };
    p.sink.builder.start_node(SOURCE_FILE.into());
    match kind {
        FileKind::Recipe => p.recipe(),
        FileKind::Config => p.config(false),
        FileKind::BaseConfig => p.config(true),
    }
    // Safety net: whatever is left (nothing, if the loops are right) stays in the tree.
    if p.sink.pos < text.len() {
        p.sink.token(TEXT, text.len());
    }
    p.sink.builder.finish_node();
    let mut errors = p.errors;
    errors.sort_by_key(|e| e.range.start);
    let mut line_starts: Vec<usize> = p.lines.iter().map(|l| l.start).collect();
    // After a final line end, the end of the text is on a line of its own (BitBake's
    // number for errors at the end of the file).
    if p.lines.last().is_some_and(|l| l.next > l.end) {
        line_starts.push(text.len());
    }
    (p.sink.builder.finish(), errors, line_starts)
}

/// Builds the green tree from left to right and knows how logical offsets map to the file.
struct Sink<'t> {
    text: &'t str,
    /// Everything before `pos` has been emitted.
    pos: usize,
    builder: GreenNodeBuilder<'static>,
}

/// A logical line: the physical content ranges BitBake concatenates, in order.
type Segs = [(usize, usize)];

impl<'t> Sink<'t> {
    /// Emits `text[pos..end]` as one token of `kind`.
    fn token(&mut self, kind: SyntaxKind, end: usize) {
        if end > self.pos {
            self.builder.token(kind.into(), &self.text[self.pos..end]);
            self.pos = end;
        }
    }

    /// Emits `text[pos..end]` as whitespace, line ends, backslashes and (for anything
    /// else, which the loops never leave here) text.
    fn trivia(&mut self, end: usize) {
        let b = self.text.as_bytes();
        while self.pos < end {
            let start = self.pos;
            let c = b[start];
            let kind;
            let mut i = start;
            let at_line_start = start == 0 || matches!(b[start - 1], b'\n' | b'\r');
            if c == b'#' && at_line_start {
                // A comment line BitBake refused inside a continued statement.
                kind = COMMENT;
                while i < end && !matches!(b[i], b'\n' | b'\r') {
                    i += 1;
                }
            } else if c == b'\n' || c == b'\r' {
                kind = NEWLINE;
                i += if c == b'\r' && i + 1 < end && b[i + 1] == b'\n' {
                    2
                } else {
                    1
                };
            } else if c == b'\\' {
                kind = BACKSLASH;
                while i < end && b[i] == b'\\' {
                    i += 1;
                }
            } else {
                let is_ws = |i: usize| {
                    let ch = self.text[i..].chars().next().expect("in bounds");
                    (is_py_space(ch) && ch != '\n' && ch != '\r', ch.len_utf8())
                };
                if is_ws(i).0 {
                    kind = WHITESPACE;
                    while i < end {
                        let (ws, len) = is_ws(i);
                        if !ws {
                            break;
                        }
                        i += len;
                    }
                } else {
                    kind = TEXT;
                    while i < end && !matches!(b[i], b'\n' | b'\r' | b'\\') && !is_ws(i).0 {
                        i += self.text[i..].chars().next().expect("in bounds").len_utf8();
                    }
                }
            }
            self.token(kind, i.min(end));
        }
    }

    /// Emits the dropped characters up to `p` (if any) as a `LINE_JOIN` node.
    fn join_to(&mut self, p: usize) {
        if p > self.pos {
            self.builder.start_node(LINE_JOIN.into());
            self.trivia(p);
            self.builder.finish_node();
        }
    }

    /// The file offset of logical offset `l` (the start of the character there; the end
    /// of the last content when `l` is the logical length).
    fn phys(segs: &Segs, l: usize) -> usize {
        let mut acc = 0;
        let mut last_end = segs.first().map_or(0, |s| s.0);
        for &(a, b) in segs {
            let len = b - a;
            if l < acc + len {
                return a + (l - acc);
            }
            acc += len;
            if len > 0 {
                last_end = b;
            }
        }
        last_end
    }

    /// Emits logical range `l` as tokens of `kind`, split around dropped characters.
    fn emit(&mut self, segs: &Segs, kind: SyntaxKind, l: Range<usize>) {
        if l.is_empty() {
            return;
        }
        let mut acc = 0;
        for &(a, b) in segs {
            let len = b - a;
            let lo = l.start.max(acc);
            let hi = l.end.min(acc + len);
            if lo < hi {
                let p = a + (lo - acc);
                self.join_to(p);
                self.token(kind, a + (hi - acc));
            }
            acc += len;
            if acc >= l.end {
                break;
            }
        }
    }

    /// Starts a node at logical offset `l`, after any dropped characters before it.
    fn start(&mut self, segs: &Segs, kind: SyntaxKind, l: usize) {
        let p = Self::phys(segs, l);
        self.join_to(p);
        self.builder.start_node(kind.into());
    }

    fn finish(&mut self) {
        self.builder.finish_node();
    }

    /// Emits the logical text `l` with its `${VAR}` and `${@...}` pieces as nodes.
    fn expandable(&mut self, segs: &Segs, s: &str, l: Range<usize>, scratch: &mut Vec<Expansion>) {
        scratch.clear();
        expansions(&s[l.clone()], scratch);
        let mut at = l.start;
        let mut python_end = None;
        for e in scratch.iter() {
            let (kind, a, b) = match *e {
                Expansion::Var(a, b) => (VAR_REF, l.start + a, l.start + b),
                Expansion::Python(a, b) => (INLINE_PYTHON, l.start + a, l.start + b),
            };
            if let Some(pe) = python_end {
                if a >= pe {
                    self.emit(segs, TEXT, at..pe);
                    self.finish();
                    at = pe;
                    python_end = None;
                }
            }
            self.emit(segs, TEXT, at..a);
            self.start(segs, kind, a);
            if kind == VAR_REF {
                self.emit(segs, TEXT, a..b);
                self.finish();
                at = b;
            } else {
                at = a;
                python_end = Some(b);
            }
        }
        if let Some(pe) = python_end {
            self.emit(segs, TEXT, at..pe);
            self.finish();
            at = pe;
        }
        self.emit(segs, TEXT, at..l.end);
    }
}

/// What the recipe loop is inside of.
enum Block {
    /// Between statements.
    None,
    /// A brace function whose header (a logical line) ended on line `header_last`.
    Func {
        segs: Vec<(usize, usize)>,
        m: statement::FuncStartMatch,
        header_last: usize,
        python: bool,
    },
    /// A `def` block whose header ended on `header_last`; `last` is its last line so far.
    Def {
        segs: Vec<(usize, usize)>,
        name: Range<usize>,
        header_last: usize,
        last: usize,
    },
}

struct Parser<'t> {
    text: &'t str,
    lines: Vec<Line>,
    sink: Sink<'t>,
    errors: Vec<SyntaxError>,
    scratch: Vec<Expansion>,
}

/// The logical text of `segs`: borrowed for one segment, joined otherwise.
fn joined<'t>(text: &'t str, segs: &Segs) -> Cow<'t, str> {
    match segs {
        [] => Cow::Borrowed(""),
        [(a, b)] => Cow::Borrowed(&text[*a..*b]),
        _ => {
            let mut s = String::new();
            for &(a, b) in segs {
                s.push_str(&text[a..b]);
            }
            Cow::Owned(s)
        }
    }
}

impl<'t> Parser<'t> {
    fn line_text(&self, i: usize) -> &'t str {
        let l = self.lines[i];
        &self.text[l.start..l.content_end]
    }

    fn error(&mut self, range: Range<usize>, message: String) {
        self.errors.push(SyntaxError {
            message,
            range,
            severity: Severity::Error,
        });
    }

    fn warning(&mut self, range: Range<usize>, message: String) {
        self.errors.push(SyntaxError {
            message,
            range,
            severity: Severity::Warning,
        });
    }

    /// The range of the statement from the start of physical line `line` (the line BitBake
    /// reports) to `end`; at the end of the file when `line` is past the last line.
    fn reported(&self, stmt_start: usize, line: usize, end: usize) -> Range<usize> {
        match self.lines.get(line) {
            Some(l) => {
                let start = l.start.max(stmt_start).min(end);
                start..end
            }
            None => self.text.len()..self.text.len(),
        }
    }

    /// Emits the trailing whitespace and the line end of physical line `i`.
    fn line_tail(&mut self, i: usize) {
        let l = self.lines[i];
        self.sink.trivia(l.next);
    }

    // ------------------------------------------------------------------------------
    // BBHandler

    /// BBHandler's `get_statements` loop and `feeder`, line by line.
    fn recipe(&mut self) {
        let n = self.lines.len();
        let mut block = Block::None;
        // Residue: the content ranges of continued lines, and the first line's index.
        let mut residue: Vec<(usize, usize)> = Vec::new();
        let mut residue_first = 0;
        let mut residue_last = 0;
        let mut i = 0;
        while i < n {
            let s = self.line_text(i);
            let line = self.lines[i];
            // Tabs in Python functions: BitBake warns (feeder's first check).
            let in_python = match &block {
                Block::Def { .. } => true,
                Block::Func { python, .. } => *python,
                Block::None => false,
            };
            if in_python && statement::has_python_tab(s) {
                self.warning(
                    line.start..line.content_end,
                    "python should use 4 spaces indentation, but found tabs".to_string(),
                );
            }
            match &mut block {
                Block::Func { .. } => {
                    if s == "}" {
                        let Block::Func {
                            segs,
                            m,
                            header_last,
                            ..
                        } = std::mem::replace(&mut block, Block::None)
                        else {
                            unreachable!()
                        };
                        self.function(FUNCTION, &segs, &m, header_last, i, true);
                        self.line_tail(i);
                    }
                    i += 1;
                    continue;
                }
                Block::Def { last, .. } => {
                    if statement::continues_def(s) {
                        *last = i;
                        i += 1;
                        continue;
                    }
                    let b = std::mem::replace(&mut block, Block::None);
                    self.python_def(b);
                }
                Block::None => {}
            }

            // Continuation lines and comments (feeder, after the blocks). BitBake stops
            // at these; to go on, a comment inside a continued statement is skipped (it
            // stays in the statement's LINE_JOIN), and a residue that cannot go on
            // becomes an ERROR node before the current line is read again.
            if !residue.is_empty() {
                let first = joined(self.text, &residue[..1]);
                if first.is_empty() {
                    let range =
                        self.lines[residue_first].start..self.lines[residue_first].content_end;
                    self.error(
                        range,
                        "BitBake fails here ('string index out of range'): a continued \
                         statement starts with a line that is only '\\'"
                            .to_string(),
                    );
                    self.abandon_residue(&mut residue, residue_last);
                    continue;
                }
                if s.starts_with('#') && !first.starts_with('#') {
                    self.error(
                        line.start..line.content_end,
                        format!(
                            "There is a comment on line {} which is in the middle of a \
                             multiline expression. This syntax is invalid, please correct it: \
                             '{s}'",
                            i + 1
                        ),
                    );
                    i += 1;
                    continue;
                }
                if first.starts_with('#') && !s.starts_with('#') {
                    let l = self.lines[residue_first];
                    self.error(
                        l.start..l.content_end,
                        format!(
                            "There is a confusing multiline partially commented expression on \
                             line {}. Please clarify whether this is all a comment or should \
                             be parsed.",
                            residue_first + 1
                        ),
                    );
                    self.abandon_residue(&mut residue, residue_last);
                    continue;
                }
            }
            if s.ends_with('\\') {
                if residue.is_empty() {
                    residue_first = i;
                }
                residue_last = i;
                residue.push((line.start, line.content_end - 1));
                i += 1;
                continue;
            }
            residue.push((line.start, line.content_end));
            let segs = std::mem::take(&mut residue);
            block = self.recipe_statement(segs, i);
            if !matches!(block, Block::Func { .. } | Block::Def { .. }) {
                self.line_tail(i);
            }
            i += 1;
        }

        // End of file (get_statements after its loop, then handle()).
        match block {
            Block::Def { .. } => self.python_def(block),
            Block::Func {
                segs,
                m,
                header_last,
                ..
            } => {
                let text = joined(self.text, &segs);
                let name = m
                    .name
                    .clone()
                    .map_or("__anonymous", |r| &text[r])
                    .to_string();
                if header_last + 1 >= n {
                    let end = self.lines[header_last].content_end;
                    let range = self.reported(segs[0].0, header_last, end);
                    self.error(range, format!("Shell function {name} is never closed"));
                } else {
                    let eof = self.text.len();
                    self.error(
                        eof..eof,
                        format!(
                            "Unparsed lines from unclosed function {name}: its body never \
                             ends with a line that is exactly '}}'"
                        ),
                    );
                }
                self.function(ERROR, &segs, &m, header_last, n, false);
                if let Some(last) = n.checked_sub(1) {
                    self.line_tail(last);
                }
            }
            Block::None => {}
        }
        if !residue.is_empty() {
            let last = n - 1;
            let end = self.lines[last].content_end;
            let text = joined(self.text, &residue);
            let eof = self.text.len();
            self.error(eof..eof, format!("Unparsed lines: '{text}'"));
            self.error_node(&residue, end);
            self.line_tail(last);
        }
    }

    /// Emits the residue (continued lines up to line `last`) as an `ERROR` node and
    /// empties it.
    fn abandon_residue(&mut self, residue: &mut Vec<(usize, usize)>, last: usize) {
        let end = self.lines[last].content_end;
        self.error_node(residue, end);
        self.line_tail(last);
        residue.clear();
    }

    /// Emits an `ERROR` node for the logical line `segs` that ends at `end`.
    fn error_node(&mut self, segs: &Segs, end: usize) {
        let len = segs.iter().map(|(a, b)| b - a).sum();
        self.sink.start(segs, ERROR, 0);
        self.sink.emit(segs, TEXT, 0..len);
        self.sink.join_to(end);
        self.sink.finish();
    }

    /// One logical line of a recipe (feeder after the residue is joined), ending on line
    /// `last`. Returns the block it opens, if any.
    fn recipe_statement(&mut self, segs: Vec<(usize, usize)>, last: usize) -> Block {
        let text = self.text;
        let s = joined(text, &segs);
        let s: &str = &s;
        let end = self.lines[last].content_end;
        if s.is_empty() {
            return Block::None;
        }
        if s.starts_with('#') {
            let len = s.len();
            self.sink.emit(&segs, COMMENT, 0..len);
            self.sink.join_to(end);
            return Block::None;
        }
        if let Some(m) = statement::func_start(s) {
            let python = m.keywords.iter().any(|(_, py)| *py)
                || m.name
                    .as_ref()
                    .is_none_or(|r| &s[r.clone()] == "__anonymous");
            return Block::Func {
                segs,
                m,
                header_last: last,
                python,
            };
        }
        if let Some(name) = statement::def_start(s) {
            return Block::Def {
                segs,
                name,
                header_last: last,
                last,
            };
        }
        let stmt_start = segs[0].0;
        if let Some(args) = statement::keyword_rest(s, "EXPORT_FUNCTIONS") {
            self.keyword_statement(
                &segs,
                s,
                EXPORT_FUNCTIONS,
                EXPORT_FUNCTIONS_KW,
                &[args],
                end,
            );
            return Block::None;
        }
        if let Some(m) = statement::addtask(s) {
            self.addtask(&segs, s, m, stmt_start, last, end);
            return Block::None;
        }
        for (kw, node, kw_kind) in [
            ("deltask", DEL_TASK, DELTASK_KW),
            ("addhandler", ADD_HANDLER, ADDHANDLER_KW),
            ("inherit", INHERIT, INHERIT_KW),
            ("inherit_defer", INHERIT, INHERIT_DEFER_KW),
        ] {
            if let Some(args) = statement::keyword_rest(s, kw) {
                self.keyword_statement(&segs, s, node, kw_kind, &[args], end);
                return Block::None;
            }
        }
        self.conf_statement(&segs, s, false, last, end);
        Block::None
    }

    /// `addtask`: the scarthgap regex, its warnings and its keyword check.
    fn addtask(
        &mut self,
        segs: &Segs,
        s: &str,
        m: statement::AddTaskMatch,
        stmt_start: usize,
        last: usize,
        end: usize,
    ) {
        let words: Vec<&str> = s.split(is_py_space).filter(|w| !w.is_empty()).collect();
        let range = self.reported(stmt_start, last, end);
        let matched_words = s[..m.end]
            .split(is_py_space)
            .filter(|w| !w.is_empty())
            .count();
        if matched_words == 2 && m.func.end < s.len() {
            self.warning(
                range.clone(),
                format!("addtask ignored: \"{}\"", &s[m.func.end..]),
            );
        }
        for word in ["before", "after"] {
            if words.iter().filter(|w| **w == word).count() > 1 {
                self.warning(
                    range.clone(),
                    format!("addtask contained multiple '{word}' keywords, only one is supported"),
                );
            }
        }
        // "Task name ... contains a keyword": BitBake raises (without a line number).
        if let Some(te) = words.iter().find(|w| {
            [":append_", ":prepend_", ":remove_"]
                .iter()
                .any(|k| w.contains(k))
        }) {
            self.error(
                range,
                format!(
                    "Task name '{te}' contains a keyword which is not recommended/supported. \
                     Please rename the task not to include the keyword (:append, :prepend, \
                     :remove)."
                ),
            );
            self.error_node(segs, end);
            return;
        }
        let sink = &mut self.sink;
        sink.start(segs, ADD_TASK, 0);
        sink.emit(segs, ADDTASK_KW, 0..7);
        sink.emit(segs, WHITESPACE, 7..m.func.start);
        sink.emit(segs, NAME, m.func.clone());
        let mut at = m.func.end;
        for c in &m.clauses {
            sink.emit(segs, WHITESPACE, at..c.keyword.start);
            let (node, kw) = if c.before {
                (BEFORE_CLAUSE, BEFORE_KW)
            } else {
                (AFTER_CLAUSE, AFTER_KW)
            };
            sink.start(segs, node, c.keyword.start);
            sink.emit(segs, kw, c.keyword.clone());
            sink.emit(segs, WHITESPACE, c.keyword.end..c.tasks.start);
            if !c.tasks.is_empty() {
                sink.start(segs, ARGS, c.tasks.start);
                sink.emit(segs, TEXT, c.tasks.clone());
                sink.finish();
            }
            sink.finish();
            at = c.tasks.end;
        }
        if m.clauses.is_empty() {
            sink.emit(segs, WHITESPACE, at..m.end);
            at = m.end;
        }
        sink.emit(segs, TEXT, at..s.len());
        sink.join_to(end);
        sink.finish();
    }

    /// A keyword, whitespace and argument groups (each an `ARGS` node, with `${}` pieces
    /// marked), whitespace between them.
    fn keyword_statement(
        &mut self,
        segs: &Segs,
        s: &str,
        node: SyntaxKind,
        kw: SyntaxKind,
        args: &[Range<usize>],
        end: usize,
    ) {
        let sink = &mut self.sink;
        sink.start(segs, node, 0);
        let kw_len = s.len() - s.trim_start_matches(|c: char| !is_py_space(c)).len();
        sink.emit(segs, kw, 0..kw_len);
        let mut at = kw_len;
        for a in args {
            sink.emit(segs, WHITESPACE, at..a.start);
            sink.start(segs, ARGS, a.start);
            sink.expandable(segs, s, a.clone(), &mut self.scratch);
            sink.finish();
            at = a.end;
        }
        sink.join_to(end);
        sink.finish();
    }

    /// ConfHandler's `feeder` on one logical line (also BBHandler's fallback).
    fn conf_statement(&mut self, segs: &Segs, s: &str, pylib: bool, last: usize, end: usize) {
        let stmt_start = segs[0].0;
        if let Some(m) = statement::assignment(s) {
            let sink = &mut self.sink;
            sink.start(segs, ASSIGNMENT, 0);
            if let Some(e) = &m.export {
                sink.emit(segs, EXPORT_KW, e.clone());
                sink.emit(segs, WHITESPACE, e.end..m.var.start);
            }
            sink.emit(segs, NAME, m.var.clone());
            let mut at = m.var.end;
            if let Some(f) = &m.flag {
                sink.start(segs, FLAG, f.start - 1);
                sink.emit(segs, L_BRACK, f.start - 1..f.start);
                sink.emit(segs, NAME, f.clone());
                sink.emit(segs, R_BRACK, f.end..f.end + 1);
                sink.finish();
                at = f.end + 1;
            }
            sink.emit(segs, WHITESPACE, at..m.op.start);
            let op_kind = match m.op_kind {
                AssignOp::Set => EQ,
                AssignOp::Immediate => COLON_EQ,
                AssignOp::WeakDefault => QUESTION2_EQ,
                AssignOp::Default => QUESTION_EQ,
                AssignOp::Append => PLUS_EQ,
                AssignOp::Prepend => EQ_PLUS,
                AssignOp::DotAppend => DOT_EQ,
                AssignOp::DotPrepend => EQ_DOT,
            };
            sink.emit(segs, op_kind, m.op.clone());
            sink.emit(segs, WHITESPACE, m.op.end..m.value.start - 1);
            sink.emit(segs, QUOTE, m.value.start - 1..m.value.start);
            sink.start(segs, VALUE, m.value.start);
            sink.expandable(segs, s, m.value.clone(), &mut self.scratch);
            sink.finish();
            sink.emit(segs, QUOTE, m.value.end..m.value.end + 1);
            sink.join_to(end);
            sink.finish();
            return;
        }
        for (kw, kw_kind) in [
            ("include", INCLUDE_KW),
            ("require", REQUIRE_KW),
            ("include_all", INCLUDE_ALL_KW),
        ] {
            if let Some(args) = statement::keyword_rest(s, kw) {
                self.keyword_statement(segs, s, INCLUDE, kw_kind, &[args], end);
                return;
            }
        }
        let named = statement::keyword_name(s, "export")
            .map(|n| (EXPORT, EXPORT_KW, n, None))
            .or_else(|| statement::keyword_name(s, "unset").map(|n| (UNSET, UNSET_KW, n, None)))
            .or_else(|| statement::unset_flag(s).map(|(n, f)| (UNSET, UNSET_KW, n, Some(f))));
        if let Some((node, kw, name, flag)) = named {
            let kw_len = if kw == EXPORT_KW { 6 } else { 5 };
            let sink = &mut self.sink;
            sink.start(segs, node, 0);
            sink.emit(segs, kw, 0..kw_len);
            sink.emit(segs, WHITESPACE, kw_len..name.start);
            sink.emit(segs, NAME, name.clone());
            if let Some(f) = flag {
                sink.start(segs, FLAG, f.start - 1);
                sink.emit(segs, L_BRACK, f.start - 1..f.start);
                sink.emit(segs, NAME, f.clone());
                sink.emit(segs, R_BRACK, f.end..f.end + 1);
                sink.finish();
            }
            sink.join_to(end);
            sink.finish();
            return;
        }
        if pylib {
            if let Some((dir, ns)) = statement::addpylib(s) {
                self.keyword_statement(segs, s, ADD_PYLIB, ADDPYLIB_KW, &[dir, ns], end);
                return;
            }
        }
        let range = self.reported(stmt_start, last, end);
        self.error(range, format!("unparsed line: '{s}'"));
        self.error_node(segs, end);
    }

    /// Emits a brace function (or, unclosed, an `ERROR` node of the same shape): the
    /// header logical line, then the body lines `header_last + 1 .. close`, then the `}`
    /// on line `close` when `closed`.
    fn function(
        &mut self,
        kind: SyntaxKind,
        segs: &Segs,
        m: &statement::FuncStartMatch,
        header_last: usize,
        close: usize,
        closed: bool,
    ) {
        let sink = &mut self.sink;
        sink.start(segs, kind, 0);
        let mut at = 0;
        for (r, py) in &m.keywords {
            sink.emit(segs, WHITESPACE, at..r.start);
            sink.emit(segs, if *py { PYTHON_KW } else { FAKEROOT_KW }, r.clone());
            at = r.end;
        }
        if let Some(r) = &m.name {
            sink.emit(segs, WHITESPACE, at..r.start);
            sink.emit(segs, NAME, r.clone());
            at = r.end;
        }
        sink.emit(segs, WHITESPACE, at..m.l_paren);
        sink.emit(segs, L_PAREN, m.l_paren..m.l_paren + 1);
        sink.emit(segs, WHITESPACE, m.l_paren + 1..m.r_paren);
        sink.emit(segs, R_PAREN, m.r_paren..m.r_paren + 1);
        sink.emit(segs, WHITESPACE, m.r_paren + 1..m.l_brace);
        sink.emit(segs, L_BRACE, m.l_brace..m.l_brace + 1);
        let header_end = self.lines[header_last].content_end;
        sink.join_to(header_end);
        self.body(header_last, close, !closed);
        if closed {
            let start = self.lines[close].start;
            self.sink.token(R_BRACE, start + 1);
        }
        self.sink.finish();
    }

    /// A `BODY` node: the tail of line `header_last`, then lines `header_last + 1 ..
    /// until`, each with its tail; when `to_content_end`, the last of them stops at its
    /// content (its tail stays outside).
    fn body(&mut self, header_last: usize, until: usize, to_content_end: bool) {
        if until <= header_last || (to_content_end && until == header_last + 1) {
            return;
        }
        self.sink.builder.start_node(BODY.into());
        self.line_tail(header_last);
        let last = until - 1;
        for k in header_last + 1..until {
            let l = self.lines[k];
            self.sink.token(TEXT, l.content_end);
            if k == last && to_content_end {
                break;
            }
            self.line_tail(k);
        }
        self.sink.finish();
    }

    /// Emits a finished `def` block and the tail of its last line.
    fn python_def(&mut self, block: Block) {
        let Block::Def {
            segs,
            name,
            header_last,
            last,
        } = block
        else {
            return;
        };
        let len: usize = segs.iter().map(|(a, b)| b - a).sum();
        let sink = &mut self.sink;
        sink.start(&segs, PYTHON_DEF, 0);
        sink.emit(&segs, DEF_KW, 0..3);
        sink.emit(&segs, WHITESPACE, 3..name.start);
        sink.emit(&segs, NAME, name.clone());
        sink.emit(&segs, TEXT, name.end..len);
        sink.join_to(self.lines[header_last].content_end);
        self.body(header_last, last + 1, true);
        self.sink.finish();
        self.line_tail(last);
    }

    // ------------------------------------------------------------------------------
    // ConfHandler

    /// ConfHandler's `handle` loop: blank lines skipped, continued lines joined (before
    /// the comment check), comments skipped, the rest fed to `feeder`.
    fn config(&mut self, baseconfig: bool) {
        let n = self.lines.len();
        let mut i = 0;
        let mut segs: Vec<(usize, usize)> = Vec::new();
        while i < n {
            let line = self.lines[i];
            let s = self.line_text(i);
            if s.is_empty() {
                self.line_tail(i);
                i += 1;
                continue;
            }
            segs.clear();
            segs.push((line.start, line.content_end));
            let starts_comment = s.starts_with('#');
            let mut j = i;
            let mut fatal: Option<(usize, String)> = None;
            // `while s[-1] == '\\'`: join the next line (an empty one past the end).
            loop {
                let Some(lastb) = segs.iter().rev().find(|(a, b)| b > a).map(|&(_, b)| b) else {
                    fatal = Some((
                        j,
                        "BitBake fails here ('string index out of range'): the joined line \
                         is empty"
                            .to_string(),
                    ));
                    break;
                };
                if self.text.as_bytes()[lastb - 1] != b'\\' {
                    break;
                }
                j += 1;
                let s2 = if j < n { self.line_text(j) } else { "" };
                if starts_comment && !s2.starts_with('#') {
                    // BitBake stops; to go on, the comment ends before line j, which is
                    // then read again as a line of its own.
                    fatal = Some((
                        i,
                        format!(
                            "There is a confusing multiline, partially commented expression \
                             starting on line {}. Please clarify whether this is all a comment \
                             or should be parsed.",
                            i + 1
                        ),
                    ));
                    j -= 1;
                    break;
                }
                // s = s[:-1] + s2
                let k = segs.iter().rposition(|(a, b)| b > a).expect("found above");
                segs[k].1 -= 1;
                if j < n {
                    let l = self.lines[j];
                    segs.push((l.start, l.content_end));
                }
            }
            let last_real = j.min(n - 1);
            let end = self.lines[last_real].content_end;
            if let Some((at, message)) = fatal {
                let range = match self.lines.get(at) {
                    Some(l) => l.start..l.content_end,
                    None => self.text.len()..self.text.len(),
                };
                self.error(range, message);
                let segs2 = std::mem::take(&mut segs);
                self.error_node(&segs2, end);
                segs = segs2;
            } else {
                let text = self.text;
                let s = joined(text, &segs);
                if s.starts_with('#') {
                    let segs2 = std::mem::take(&mut segs);
                    self.sink.emit(&segs2, COMMENT, 0..s.len());
                    self.sink.join_to(end);
                    segs = segs2;
                } else {
                    let segs2 = std::mem::take(&mut segs);
                    self.conf_statement(&segs2, &s, baseconfig, j, end);
                    segs = segs2;
                }
            }
            self.line_tail(last_real);
            i = last_real + 1;
        }
    }
}
