//! Recognisers for BitBake's statement regexes, one function per regex, written as
//! hand-made matchers over a logical line (no regex engine, no allocation).
//!
//! Each function answers what `re.match` of the named BitBake regex answers: whether it
//! matches and where its groups are (byte ranges into the logical line). The matchers
//! reproduce the regexes' backtracking where it changes the answer (for instance the lazy
//! variable name of `__config_regexp__`, which makes `A+="a"` an append to `A`).

use super::lexer::{
    is_flag_char, is_flag_start, is_py_space, is_py_word, is_var_char, run_len, space_len,
};
use std::ops::Range;

/// The operator of an assignment, one alternative of `__config_regexp__`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssignOp {
    /// `=`: set the value, expanded when read.
    Set,
    /// `:=`: set the value expanded now (group `colon`).
    Immediate,
    /// `??=`: weak default (group `lazyques`).
    WeakDefault,
    /// `?=`: default, set if unset now (group `ques`).
    Default,
    /// `+=`: append with a space (group `append`).
    Append,
    /// `=+`: prepend with a space (group `prepend`).
    Prepend,
    /// `.=`: append without a space (group `postdot`).
    DotAppend,
    /// `=.`: prepend without a space (group `predot`).
    DotPrepend,
}

impl AssignOp {
    /// The operators in the order `__config_regexp__` tries them, with their text.
    pub const IN_REGEX_ORDER: [(&'static str, AssignOp); 8] = [
        (":=", AssignOp::Immediate),
        ("??=", AssignOp::WeakDefault),
        ("?=", AssignOp::Default),
        ("+=", AssignOp::Append),
        ("=+", AssignOp::Prepend),
        ("=.", AssignOp::DotPrepend),
        (".=", AssignOp::DotAppend),
        ("=", AssignOp::Set),
    ];

    /// The operator's text, e.g. `??=`.
    pub fn as_str(self) -> &'static str {
        Self::IN_REGEX_ORDER
            .iter()
            .find(|(_, op)| *op == self)
            .map(|(s, _)| *s)
            .expect("every operator is listed")
    }

    /// The operator for its written form, if it is one.
    pub fn from_text(text: &str) -> Option<AssignOp> {
        Self::IN_REGEX_ORDER
            .iter()
            .find(|(s, _)| *s == text)
            .map(|(_, op)| *op)
    }

    /// The operation name that `bb.parse.ast.DataNode.eval` records in the variable's
    /// history for this operator (its `op`: "set", "immediate", "set?", "append"...).
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

impl std::fmt::Display for AssignOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A match of ConfHandler's `__config_regexp__`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignMatch {
    /// `export` keyword (group `exp` without its whitespace).
    pub export: Option<Range<usize>>,
    /// Group `var`.
    pub var: Range<usize>,
    /// Group `flag` (without the brackets).
    pub flag: Option<Range<usize>>,
    /// The operator's range and kind.
    pub op: Range<usize>,
    /// Which operator.
    pub op_kind: AssignOp,
    /// Group `value` (between the quotes); the quotes are the bytes just outside it.
    pub value: Range<usize>,
}

/// `__config_regexp__` (ConfHandler.py, scarthgap):
/// `^(export\s+)?(?P<var>[a-zA-Z0-9\-_+.${}/~:]+?)(\[(?P<flag>...)\])?\s*(op)\s*`
/// `(?!'[^']*'[^']*'$)(?!"[^"]*"[^"]*"$)(?P<apo>['"])(?P<value>.*)(?P=apo)$`.
pub fn assignment(s: &str) -> Option<AssignMatch> {
    if let Some(rest) = s.strip_prefix("export") {
        let ws = space_len(rest);
        if ws > 0 {
            if let Some(mut m) = assignment_from(s, 6 + ws) {
                m.export = Some(0..6);
                return Some(m);
            }
        }
    }
    assignment_from(s, 0)
}

fn assignment_from(s: &str, start: usize) -> Option<AssignMatch> {
    let b = s.as_bytes();
    let run = run_len(&s[start..], |c| is_var_char(c, true));
    // The lazy `+?`: try the shortest name first. Variable characters are ASCII.
    for var_end in start + 1..=start + run {
        // The optional flag is greedy: try with it first.
        let mut after_flag = (var_end, None);
        if b.get(var_end) == Some(&b'[') {
            let f = var_end + 1;
            if s[f..].chars().next().is_some_and(is_flag_start) {
                let flen = 1 + run_len(&s[f + 1..], is_flag_char);
                if b.get(f + flen) == Some(&b']') {
                    after_flag = (f + flen + 1, Some(f..f + flen));
                    // Without the flag, `[` would have to be whitespace or an operator:
                    // it is neither, so the flag alternative is the only one.
                }
            }
        }
        let (pos, flag) = after_flag;
        let op_start = pos + space_len(&s[pos..]);
        // Every operator starts with one of these; most candidates stop here.
        if !matches!(b.get(op_start), Some(b':' | b'?' | b'+' | b'=' | b'.')) {
            continue;
        }
        for (text, kind) in AssignOp::IN_REGEX_ORDER {
            if !s[op_start..].starts_with(text) {
                continue;
            }
            let op_end = op_start + text.len();
            let q = op_end + space_len(&s[op_end..]);
            if let Some(value) = quoted_value(s, q) {
                return Some(AssignMatch {
                    export: None,
                    var: start..var_end,
                    flag,
                    op: op_start..op_end,
                    op_kind: kind,
                    value,
                });
            }
        }
    }
    None
}

/// The quoted tail of `__config_regexp__` at `q`: the two negative lookaheads, then
/// `(['"])(.*)\1$`. Returns the range of the value.
fn quoted_value(s: &str, q: usize) -> Option<Range<usize>> {
    let b = s.as_bytes();
    let quote = *b.get(q)?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let end = b.len();
    if end < q + 2 || b[end - 1] != quote {
        return None;
    }
    // (?!'[^']*'[^']*'$): a tail with exactly three such quotes is refused.
    if b[q..].iter().filter(|&&c| c == quote).count() == 3 {
        return None;
    }
    Some(q + 1..end - 1)
}

/// A keyword followed by `\s+(.+)`, as in `include\s+(.+)`: the range of the group, which
/// runs to the end of the line. Backtracking gives the group the last whitespace
/// character when nothing else follows the keyword.
pub fn keyword_rest(s: &str, keyword: &str) -> Option<Range<usize>> {
    let rest = s.strip_prefix(keyword)?;
    let k = keyword.len();
    let ws = space_len(rest);
    if ws == 0 {
        return None;
    }
    if k + ws < s.len() {
        return Some(k + ws..s.len());
    }
    // Only whitespace follows: `\s+` gives its last character back to `(.+)`.
    let last = rest.chars().next_back()?;
    let start = s.len() - last.len_utf8();
    (start > k).then_some(start..s.len())
}

/// A match of BBHandler's `__func_start_regexp__`:
/// `(((?P<py>python(?=(\s|\()))|(?P<fr>fakeroot(?=\s)))\s*)*(?P<func>[\w\.\-\+\{\}\$:]+)?\s*\(\s*\)\s*{$`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncStartMatch {
    /// Each `python` or `fakeroot` keyword, with whether it is `python`.
    pub keywords: Vec<(Range<usize>, bool)>,
    /// Group `func`.
    pub name: Option<Range<usize>>,
    /// `(`, `)` and `{`.
    pub l_paren: usize,
    /// Offset of `)`.
    pub r_paren: usize,
    /// Offset of `{` (the last byte of the line).
    pub l_brace: usize,
}

fn is_func_name_char(c: char) -> bool {
    is_py_word(c) || matches!(c, '.' | '-' | '+' | '{' | '}' | '$' | ':')
}

/// `__func_start_regexp__` (BBHandler.py). The repeated keyword group is greedy and a
/// shorter repetition never helps, so a left-to-right scan is exact.
pub fn func_start(s: &str) -> Option<FuncStartMatch> {
    // Quick refusal: the line must end with `{` and hold `(`.
    if !s.ends_with('{') || !s.contains('(') {
        return None;
    }
    let mut keywords = Vec::new();
    let mut i = 0;
    loop {
        let rest = &s[i..];
        let next_after = |k: usize| rest[k..].chars().next();
        if rest.starts_with("python") && next_after(6).is_some_and(|c| is_py_space(c) || c == '(') {
            keywords.push((i..i + 6, true));
            i += 6;
        } else if rest.starts_with("fakeroot") && next_after(8).is_some_and(is_py_space) {
            keywords.push((i..i + 8, false));
            i += 8;
        } else {
            break;
        }
        i += space_len(&s[i..]);
    }
    let n = run_len(&s[i..], is_func_name_char);
    let name = (n > 0).then_some(i..i + n);
    i += n;
    i += space_len(&s[i..]);
    let l_paren = i;
    if s.as_bytes().get(i) != Some(&b'(') {
        return None;
    }
    i += 1;
    i += space_len(&s[i..]);
    let r_paren = i;
    if s.as_bytes().get(i) != Some(&b')') {
        return None;
    }
    i += 1;
    i += space_len(&s[i..]);
    (i + 1 == s.len() && s.as_bytes()[i] == b'{').then_some(FuncStartMatch {
        keywords,
        name,
        l_paren,
        r_paren,
        l_brace: i,
    })
}

/// `__def_regexp__` (BBHandler.py): `def\s+(\w+).*:` matched at the start of the line
/// (the `:` may be anywhere after the name). Returns the name's range.
pub fn def_start(s: &str) -> Option<Range<usize>> {
    let rest = s.strip_prefix("def")?;
    let ws = space_len(rest);
    if ws == 0 {
        return None;
    }
    let start = 3 + ws;
    let n = run_len(&s[start..], is_py_word);
    if n == 0 || !s[start + n..].contains(':') {
        return None;
    }
    Some(start..start + n)
}

/// `__python_func_regexp__` (BBHandler.py): `(\s+.*)|(^$)|(^#)`, whether a line continues
/// a `def` block.
pub fn continues_def(s: &str) -> bool {
    s.is_empty() || s.starts_with('#') || s.chars().next().is_some_and(is_py_space)
}

/// `__python_tab_regexp__` (BBHandler.py): ` *\t` at the start of a line.
pub fn has_python_tab(s: &str) -> bool {
    s.trim_start_matches(' ').starts_with('\t')
}

/// One `before` or `after` repetition of scarthgap's `__addtask_regexp__`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskClause {
    /// True for `before`, false for `after`.
    pub before: bool,
    /// The keyword.
    pub keyword: Range<usize>,
    /// The group (`before` or `after`), possibly empty.
    pub tasks: Range<usize>,
}

/// A match of scarthgap's `__addtask_regexp__`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddTaskMatch {
    /// Group `func`.
    pub func: Range<usize>,
    /// The repetitions of the before/after group, in order. Python keeps the last capture
    /// of each group.
    pub clauses: Vec<TaskClause>,
    /// End of the whole match (`m.group()`); text after it is ignored by BitBake.
    pub end: usize,
}

/// scarthgap's `__addtask_regexp__` (BBHandler.py):
/// `addtask\s+(?P<func>\w+)\s*((before\s*(?P<before>((.*(?=after))|(.*))))|`
/// `(after\s*(?P<after>((.*(?=before))|(.*)))))*`. A `before` group runs up to the last
/// `after` in the rest of the line (even inside a word), an `after` group up to the last
/// `before`, else to the end; the repetition then goes on from that keyword.
pub fn addtask(s: &str) -> Option<AddTaskMatch> {
    let rest = s.strip_prefix("addtask")?;
    let ws = space_len(rest);
    if ws == 0 {
        return None;
    }
    let fstart = 7 + ws;
    let n = run_len(&s[fstart..], is_py_word);
    if n == 0 {
        return None;
    }
    let func = fstart..fstart + n;
    let mut i = func.end + space_len(&s[func.end..]);
    let mut clauses = Vec::new();
    loop {
        let (before, kw_len, other) = if s[i..].starts_with("before") {
            (true, 6, "after")
        } else if s[i..].starts_with("after") {
            (false, 5, "before")
        } else {
            break;
        };
        let keyword = i..i + kw_len;
        let tstart = keyword.end + space_len(&s[keyword.end..]);
        // `.*(?=other)` is greedy: the last occurrence of the other keyword; else `.*`.
        let tend = s[tstart..].rfind(other).map_or(s.len(), |o| tstart + o);
        clauses.push(TaskClause {
            before,
            keyword,
            tasks: tstart..tend,
        });
        i = tend;
        if tend == s.len() {
            break;
        }
    }
    let end = if clauses.is_empty() { i } else { s.len() };
    Some(AddTaskMatch { func, clauses, end })
}

/// `__addpylib_regexp__` (ConfHandler.py): `addpylib\s+(.+)\s+(.+)`. Returns the two
/// groups: the directory (greedy, so up to the last whitespace that leaves a character
/// after it) and the namespace.
pub fn addpylib(s: &str) -> Option<(Range<usize>, Range<usize>)> {
    let rest = s.strip_prefix("addpylib")?;
    let ws = space_len(rest);
    if ws == 0 {
        return None;
    }
    // `\s+` after the keyword may give back characters to group 1 when needed; try the
    // longest first.
    let ws_chars: Vec<usize> = rest[..ws].char_indices().map(|(i, _)| i).collect();
    let mut ends: Vec<usize> = ws_chars.iter().skip(1).map(|&i| 8 + i).collect();
    ends.push(8 + ws);
    for &g1 in ends.iter().rev() {
        // Group 1 is `.+` (greedy), then `\s+`, then group 2 `.+`: the last whitespace
        // character that is after g1's first character and before the last character.
        let chars: Vec<(usize, char)> = s[g1..].char_indices().map(|(i, c)| (g1 + i, c)).collect();
        if chars.len() < 3 {
            continue;
        }
        let last_start = chars[chars.len() - 1].0;
        if let Some(&(e, c)) = chars[1..chars.len() - 1]
            .iter()
            .rev()
            .find(|(_, c)| is_py_space(*c))
        {
            let g2 = e + c.len_utf8();
            debug_assert!(g2 <= last_start);
            return Some((g1..e, g2..s.len()));
        }
    }
    None
}

/// `__export_regexp__` (`export\s+([a-zA-Z0-9\-_+.${}/~]+)$`) and `__unset_regexp__`:
/// the name's range.
pub fn keyword_name(s: &str, keyword: &str) -> Option<Range<usize>> {
    let rest = s.strip_prefix(keyword)?;
    let ws = space_len(rest);
    if ws == 0 {
        return None;
    }
    let start = keyword.len() + ws;
    let n = run_len(&s[start..], |c| is_var_char(c, false));
    (n > 0 && start + n == s.len()).then_some(start..s.len())
}

/// `__unset_flag_regexp__`: `unset\s+([a-zA-Z0-9\-_+.${}/~]+)\[([a-zA-Z0-9\-_+.][a-zA-Z0-9\-_+.@]+)\]$`
/// (a flag of at least two characters). Returns the name's and the flag's ranges.
pub fn unset_flag(s: &str) -> Option<(Range<usize>, Range<usize>)> {
    let rest = s.strip_prefix("unset")?;
    let ws = space_len(rest);
    if ws == 0 {
        return None;
    }
    let start = 5 + ws;
    let n = run_len(&s[start..], |c| is_var_char(c, false));
    let lb = start + n;
    if n == 0 || s.as_bytes().get(lb) != Some(&b'[') {
        return None;
    }
    let f = lb + 1;
    if !s[f..].chars().next().is_some_and(is_flag_start) {
        return None;
    }
    let flen = 1 + run_len(&s[f + 1..], is_flag_char);
    (flen >= 2 && f + flen + 1 == s.len() && s.as_bytes()[f + flen] == b']')
        .then_some((start..lb, f..f + flen))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assign(s: &str) -> Option<(String, Option<String>, AssignOp, String)> {
        assignment(s).map(|m| {
            (
                s[m.var].to_string(),
                m.flag.map(|f| s[f].to_string()),
                m.op_kind,
                s[m.value].to_string(),
            )
        })
    }

    #[test]
    fn lazy_name_makes_plus_equals_an_append() {
        assert_eq!(
            assign("A+=\"a\""),
            Some(("A".into(), None, AssignOp::Append, "a".into()))
        );
        assert_eq!(
            assign("A+=+\"a\""),
            Some(("A+".into(), None, AssignOp::Prepend, "a".into()))
        );
        assert_eq!(
            assign("A::=\"a\""),
            Some(("A:".into(), None, AssignOp::Immediate, "a".into()))
        );
        assert_eq!(assign("a/b~c.d+e-f = 'x'").unwrap().0, "a/b~c.d+e-f");
    }

    #[test]
    fn three_quote_values_are_refused_but_four_are_not() {
        assert_eq!(assign("A = \"a\"b\""), None);
        assert_eq!(assign("A = 'a'b'"), None);
        assert_eq!(assign("A = \"a\"b\"c\"").unwrap().3, "a\"b\"c");
        assert_eq!(assign("A = \"a'b'c\"").unwrap().3, "a'b'c");
    }

    #[test]
    fn value_must_end_the_line() {
        assert_eq!(assign("A = \"a\" # c"), None);
        assert_eq!(assign("A = \"\"").unwrap().3, "");
        assert_eq!(assign("A = \""), None);
    }

    #[test]
    fn export_prefix_or_variable_named_export() {
        let m = assignment("export A = \"1\"").unwrap();
        assert_eq!(m.export, Some(0..6));
        let m = assignment("export = \"1\"").unwrap();
        assert_eq!(m.export, None);
        assert_eq!(m.var, 0..6);
    }

    #[test]
    fn flags_need_a_first_character_without_at() {
        assert_eq!(
            assign("A[doc] ??= \"x\"").unwrap().1.as_deref(),
            Some("doc")
        );
        assert_eq!(assign("A[@x] = \"x\""), None);
    }

    #[test]
    fn keyword_rest_gives_back_last_space() {
        assert_eq!(keyword_rest("include  a b", "include"), Some(9..12));
        assert_eq!(keyword_rest("include ", "include"), None);
        assert_eq!(keyword_rest("include  ", "include"), Some(8..9));
        assert_eq!(keyword_rest("includes a", "include"), None);
    }

    #[test]
    fn func_start_forms() {
        assert!(func_start("do_install() {").is_some());
        assert!(func_start("python do_foo () {").is_some());
        assert!(func_start("fakeroot python do_x() {").is_some());
        assert_eq!(func_start("python () {").unwrap().name, None);
        assert_eq!(func_start("python() {").unwrap().name, None);
        assert!(func_start("foo() { echo }").is_none());
        assert!(func_start("foo() {}").is_none());
        assert_eq!(func_start("pythonfoo() {").unwrap().name, Some(0..9));
        assert_eq!(func_start("fakeroot() {").unwrap().name, Some(0..8));
        assert_eq!(
            func_start("do_${PN}.a-b+c:d() {").unwrap().name,
            Some(0..16)
        );
    }

    #[test]
    fn addtask_groups_follow_the_regex() {
        let s = "addtask do_x before do_a after do_b";
        let m = addtask(s).unwrap();
        assert_eq!(&s[m.func.clone()], "do_x");
        let got: Vec<_> = m
            .clauses
            .iter()
            .map(|c| (c.before, &s[c.tasks.clone()]))
            .collect();
        assert_eq!(got, vec![(true, "do_a "), (false, "do_b")]);
        let s = "addtask foo before do_after_x";
        let m = addtask(s).unwrap();
        let got: Vec<_> = m
            .clauses
            .iter()
            .map(|c| (c.before, &s[c.tasks.clone()]))
            .collect();
        assert_eq!(got, vec![(true, "do_"), (false, "_x")]);
        let s = "addtask foo bar";
        let m = addtask(s).unwrap();
        assert!(m.clauses.is_empty());
        assert_eq!(m.end, 12);
    }

    #[test]
    fn addpylib_splits_at_last_space() {
        let s = "addpylib ${LAYERDIR}/lib oe";
        let (a, b) = addpylib(s).unwrap();
        assert_eq!((&s[a], &s[b]), ("${LAYERDIR}/lib", "oe"));
        assert_eq!(addpylib("addpylib a"), None);
    }

    #[test]
    fn unset_flag_needs_two_characters() {
        assert_eq!(unset_flag("unset A[f]"), None);
        assert_eq!(unset_flag("unset A[fo]"), Some((6..7, 8..10)));
        assert_eq!(keyword_name("unset A:b", "unset"), None);
    }
}
