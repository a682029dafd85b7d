//! The native fast path: inline Python of the few shapes that make up most of Poky's
//! `${@...}`, evaluated in Rust with the exact semantics of the Python they spell, so
//! that the GIL is not taken for them.
//!
//! In Poky scarthgap's meta and meta-poky, 1,792 inline expressions: 1,005 call
//! `bb.utils.contains` (979 with string-literal arguments), 122 `bb.utils.filter`,
//! 28 `bb.utils.contains_any`, 19 `oe.utils.conditional`, 10 `oe.utils.vartrue`, and a
//! few are a bare `d.getVar('X')`. Counted by evaluation instead (a Poky parse evaluates
//! ~86,000 that the calls above do not cover), the most frequent are the file-name
//! defaults of bitbake.conf (`bb.parse.vars_from_file(d.getVar('FILE', False),d)[0] or
//! 'defaultpkgname'`, 16% of them), `d.getVar('TARGET_ARCH').replace("_", "-")` (14%),
//! `['', '-gnu'][(d.getVar('ABIEXTENSION') or '') != '']` (13%) and `d.getVar('DISTRO')
//! or ''` (10%).
//!
//! This module accepts exactly: those calls when every argument is a string literal, a
//! list of string literals, `True`/`False`/`None`, `d`, or (for the values returned)
//! another accepted expression; `d.getVar` with a literal name; `bb.parse.vars_from_file`
//! of such a read; `bool(x)`; `x or y`, `x and y`, `not x`, one `==` or `!=`; a list
//! display indexed (`[a, b][i]`, `f(...)[0]`); the str methods `replace(a, b)` and
//! `strip()`; parentheses. Anything else is left to Python, and so is an evaluation that
//! meets a case this module does not model (a method of `None`, an index out of range, a
//! file name BitBake refuses): it stops before anything is written and Python evaluates
//! the whole expression again (reading variables has no effect to repeat). Arguments are
//! evaluated left to right before a call and `or`/`and` short-circuit, as in Python, so
//! the first error is the same one. The semantics follow, and are tested against,
//! bb/utils.py (`contains`, `contains_any`, `filter`), bb/parse (`vars_from_file`),
//! meta/lib/oe (`utils.conditional`, `utils.vartrue`, `types.boolean`) and CPython.

use super::{EvalError, VarSource};
use std::collections::BTreeSet;

/// A parsed expression of the accepted subset of Python.
#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Str(String),
    /// A non-negative integer literal (an index).
    Int(usize),
    List(Vec<Expr>),
    /// A name, dotted or not (`d`, `True`, `bb.utils.contains`).
    Name(String),
    /// A call of a (dotted) name.
    Call(String, Vec<Expr>),
    /// `value.method(args)` of a value that is not a name.
    Method(Box<Expr>, String, Vec<Expr>),
    Index(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// `a == b` (true) or `a != b` (false).
    Equal(Box<Expr>, bool, Box<Expr>),
}

/// A Python value the accepted expressions produce.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Str(String),
    None,
    Bool(bool),
    Int(usize),
    /// A list or tuple (only indexed, never the result).
    Seq(Vec<Value>),
}

impl Value {
    /// Python's truth value.
    fn truth(&self) -> bool {
        match self {
            Value::Str(s) => !s.is_empty(),
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Seq(items) => !items.is_empty(),
        }
    }

    /// Python's `str()` of the value; `None` for a value whose text is not modelled.
    fn into_string(self) -> Option<String> {
        Some(match self {
            Value::Str(s) => s,
            Value::None => "None".into(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Int(i) => i.to_string(),
            Value::Seq(_) => return None,
        })
    }
}

/// Why a native evaluation did not give a value.
enum Stop {
    /// A case the module does not model: Python evaluates the expression instead.
    Python,
    /// The error Python's evaluation raises.
    Error(EvalError),
}

impl From<EvalError> for Stop {
    fn from(e: EvalError) -> Self {
        Stop::Error(e)
    }
}

/// Evaluates `code` natively when its shape is accepted: `None` means "not accepted,
/// ask Python". `oe` says whether the `oe` package is loaded (else `oe.*` is Python's).
pub(super) fn eval(
    code: &str,
    store: &dyn VarSource,
    oe: bool,
) -> Option<Result<String, EvalError>> {
    let expr = parse(code)?;
    if !accepted(&expr, oe, true) {
        return None;
    }
    match evaluate(&expr, store) {
        Ok(value) => value.into_string().map(Ok),
        Err(Stop::Python) => None,
        Err(Stop::Error(e)) => Some(Err(e)),
    }
}

/// Whether [`eval`] takes `code` natively (it may still hand an evaluation to Python).
pub(super) fn accepts(code: &str, oe: bool) -> bool {
    parse(code).is_some_and(|e| accepted(&e, oe, true))
}

/// Python's `str.isspace()` for one character: Unicode White_Space plus the four
/// information separators U+001C..U+001F that Python also splits on.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `str.split()` without arguments.
fn py_split(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_py_space).filter(|w| !w.is_empty())
}

fn parse(code: &str) -> Option<Expr> {
    let mut p = Parser {
        s: code.trim_matches(is_py_space),
        i: 0,
    };
    let e = p.expr()?;
    p.ws();
    (p.i == p.s.len()).then_some(e)
}

/// Python's keywords that may follow or start an expression of the subset; any other
/// keyword makes the text something this module does not parse.
const KEYWORDS: [&str; 12] = [
    "and", "or", "not", "if", "else", "for", "in", "is", "lambda", "await", "yield", "async",
];

struct Parser<'a> {
    s: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    /// Whitespace inside brackets, where Python joins lines implicitly.
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// The two characters `==` or `!=`.
    fn eat_equal(&mut self) -> Option<bool> {
        self.ws();
        let rest = &self.s[self.i..];
        let eq = if rest.starts_with("==") {
            true
        } else if rest.starts_with("!=") {
            false
        } else {
            return None;
        };
        self.i += 2;
        Some(eq)
    }

    /// The keyword `word` (not the start of a longer name).
    fn eat_keyword(&mut self, word: &str) -> bool {
        self.ws();
        let rest = &self.s[self.i..];
        let after = rest.as_bytes().get(word.len());
        if rest.starts_with(word) && !after.is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    /// A plain '...' or "..." literal: no escapes, prefixes, triple quotes or implicit
    /// concatenation (those go to Python).
    fn string(&mut self) -> Option<String> {
        self.ws();
        let q = self.peek()?;
        if q != b'\'' && q != b'"' {
            return None;
        }
        let rest = &self.s[self.i + 1..];
        let end = rest.find(q as char)?;
        let body = &rest[..end];
        if end == 0 && rest.as_bytes().get(1) == Some(&q) {
            return None; // ''' or """
        }
        if body.contains(['\\', '\n', '\r']) {
            return None;
        }
        self.i += end + 2;
        let save = self.i;
        self.ws();
        if matches!(self.peek(), Some(b'\'' | b'"')) {
            return None;
        }
        self.i = save;
        Some(body.to_string())
    }

    /// A decimal integer literal without sign, underscores or leading zeros.
    fn int(&mut self) -> Option<usize> {
        self.ws();
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let digits = &self.s[start..self.i];
        if digits.len() > 1 && digits.starts_with('0') {
            return None;
        }
        if self
            .peek()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_' || c == b'.')
        {
            return None; // 1e3, 1_000, 1.5, 0x1, 1j
        }
        digits.parse().ok()
    }

    fn ident(&mut self) -> Option<&str> {
        self.ws();
        let start = self.i;
        let bytes = self.s.as_bytes();
        if !matches!(bytes.get(self.i), Some(c) if c.is_ascii_alphabetic() || *c == b'_') {
            return None;
        }
        while matches!(bytes.get(self.i), Some(c) if c.is_ascii_alphanumeric() || *c == b'_') {
            self.i += 1;
        }
        let word = &self.s[start..self.i];
        (!KEYWORDS.contains(&word)).then_some(word)
    }

    /// `or_test`: `and_test ('or' and_test)*`.
    fn expr(&mut self) -> Option<Expr> {
        let mut left = self.and_test()?;
        while self.eat_keyword("or") {
            left = Expr::Or(Box::new(left), Box::new(self.and_test()?));
        }
        Some(left)
    }

    fn and_test(&mut self) -> Option<Expr> {
        let mut left = self.not_test()?;
        while self.eat_keyword("and") {
            left = Expr::And(Box::new(left), Box::new(self.not_test()?));
        }
        Some(left)
    }

    fn not_test(&mut self) -> Option<Expr> {
        if self.eat_keyword("not") {
            return Some(Expr::Not(Box::new(self.not_test()?)));
        }
        let left = self.primary()?;
        let Some(eq) = self.eat_equal() else {
            return Some(left);
        };
        let right = self.primary()?;
        // A chain (`a == b == c`) or another comparison after it is Python's.
        if self.eat_equal().is_some() {
            return None;
        }
        Some(Expr::Equal(Box::new(left), eq, Box::new(right)))
    }

    /// Comma-separated expressions up to `close` (a trailing comma allowed).
    fn items(&mut self, close: u8) -> Option<Vec<Expr>> {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Some(items);
            }
            items.push(self.expr()?);
            if !self.eat(b',') {
                return self.eat(close).then_some(items);
            }
        }
    }

    /// An atom with its trailers (calls, attributes, subscripts).
    fn primary(&mut self) -> Option<Expr> {
        self.ws();
        let mut e = match self.peek()? {
            b'\'' | b'"' => Expr::Str(self.string()?),
            b'0'..=b'9' => Expr::Int(self.int()?),
            b'[' => {
                self.i += 1;
                Expr::List(self.items(b']')?)
            }
            b'(' => {
                self.i += 1;
                let inner = self.expr()?;
                if !self.eat(b')') {
                    return None; // a tuple, or a generator
                }
                inner
            }
            _ => {
                let mut name = self.ident()?.to_string();
                while self.peek() == Some(b'.') {
                    self.i += 1;
                    name.push('.');
                    name.push_str(self.ident()?);
                }
                if self.eat(b'(') {
                    Expr::Call(name, self.items(b')')?)
                } else {
                    Expr::Name(name)
                }
            }
        };
        loop {
            if self.eat(b'[') {
                let index = self.expr()?;
                if !self.eat(b']') {
                    return None; // a slice
                }
                e = Expr::Index(Box::new(e), Box::new(index));
            } else if self.eat(b'.') {
                let method = self.ident()?.to_string();
                if !self.eat(b'(') {
                    return None;
                }
                e = Expr::Method(Box::new(e), method, self.items(b')')?);
            } else if self.eat(b'(') {
                return None; // a call of a call's result
            } else {
                return Some(e);
            }
        }
    }
}

fn is_value(e: &Expr, oe: bool) -> bool {
    match e {
        Expr::Name(n) => matches!(n.as_str(), "True" | "False" | "None"),
        Expr::List(_) => false,
        _ => accepted(e, oe, false),
    }
}

fn is_d(e: &Expr) -> bool {
    matches!(e, Expr::Name(n) if n == "d")
}

fn is_str(e: &Expr) -> bool {
    matches!(e, Expr::Str(_))
}

/// A list display of string literals (a `checkvalues` argument).
fn is_str_list(e: &Expr) -> bool {
    matches!(e, Expr::List(items) if items.iter().all(is_str))
}

/// Variables that BitBake keeps as Python lists (the bridge's LIST_VARS): reading them
/// in Python gives a list, so their expressions stay with Python.
const LIST_VARS: [&str; 3] = ["__inherit_cache", "__BBANONFUNCS", "__BBTASKS"];

/// Whether `e` is one of the accepted shapes (a bare literal or a list display only
/// inside a larger expression unless `top`).
fn accepted(e: &Expr, oe: bool, top: bool) -> bool {
    match e {
        Expr::Str(_) | Expr::Int(_) => true,
        Expr::Name(n) => matches!(n.as_str(), "True" | "False" | "None"),
        Expr::List(items) => !top && items.iter().all(|i| accepted(i, oe, false)),
        Expr::Index(base, index) => {
            matches!(**base, Expr::List(_) | Expr::Call(..))
                && accepted(base, oe, false)
                && accepted(index, oe, false)
        }
        Expr::Method(value, method, args) => {
            accepted(value, oe, false)
                && match (method.as_str(), args.as_slice()) {
                    ("replace", [old, new]) => accepted(old, oe, false) && accepted(new, oe, false),
                    ("strip", []) => true,
                    _ => false,
                }
        }
        Expr::Or(a, b) | Expr::And(a, b) | Expr::Equal(a, _, b) => {
            accepted(a, oe, false) && accepted(b, oe, false)
        }
        Expr::Not(a) => accepted(a, oe, false),
        Expr::Call(name, args) => accepted_call(name, args, oe),
    }
}

fn accepted_call(name: &str, args: &[Expr], oe: bool) -> bool {
    if matches!(args.first(), Some(Expr::Str(v)) if LIST_VARS.contains(&v.as_str())) {
        return false;
    }
    match (name, args) {
        ("bb.utils.contains" | "bb.utils.contains_any", [var, check, t, f, d]) => {
            is_str(var)
                && (is_str(check) || is_str_list(check))
                && is_value(t, oe)
                && is_value(f, oe)
                && is_d(d)
        }
        ("bb.utils.filter", [var, check, d]) => {
            is_str(var) && (is_str(check) || is_str_list(check)) && is_d(d)
        }
        ("oe.utils.conditional", [var, check, t, f, d]) => {
            oe && is_str(var) && is_str(check) && is_value(t, oe) && is_value(f, oe) && is_d(d)
        }
        ("oe.utils.vartrue", [var, t, f, d]) => {
            oe && is_str(var) && is_value(t, oe) && is_value(f, oe) && is_d(d)
        }
        ("d.getVar", [var]) => is_str(var),
        ("d.getVar", [var, Expr::Name(expand)]) => {
            is_str(var) && matches!(expand.as_str(), "True" | "False")
        }
        ("bb.parse.vars_from_file", [file, d]) => {
            matches!(file, Expr::Call(..)) && accepted(file, oe, false) && is_d(d)
        }
        ("bool", [value]) => accepted(value, oe, false),
        _ => false,
    }
}

/// The set of words of `checkvalues`: a string is split, a list taken as it is.
fn check_set(e: &Expr) -> BTreeSet<&str> {
    match e {
        Expr::Str(s) => py_split(s).collect(),
        Expr::List(items) => items.iter().map(literal).collect(),
        _ => unreachable!("checked by accepted()"),
    }
}

fn literal(e: &Expr) -> &str {
    match e {
        Expr::Str(s) => s,
        _ => unreachable!("checked by accepted()"),
    }
}

fn evaluate(e: &Expr, store: &dyn VarSource) -> Result<Value, Stop> {
    match e {
        Expr::Str(s) => Ok(Value::Str(s.clone())),
        Expr::Int(i) => Ok(Value::Int(*i)),
        Expr::Name(n) if n == "True" => Ok(Value::Bool(true)),
        Expr::Name(n) if n == "False" => Ok(Value::Bool(false)),
        Expr::Name(_) => Ok(Value::None),
        Expr::List(items) => Ok(Value::Seq(
            items
                .iter()
                .map(|i| evaluate(i, store))
                .collect::<Result<_, _>>()?,
        )),
        Expr::Index(base, index) => {
            let Value::Seq(items) = evaluate(base, store)? else {
                return Err(Stop::Python);
            };
            let i = match evaluate(index, store)? {
                Value::Int(i) => i,
                Value::Bool(b) => usize::from(b),
                _ => return Err(Stop::Python),
            };
            items.into_iter().nth(i).ok_or(Stop::Python)
        }
        Expr::Method(value, method, args) => {
            // An attribute of anything but a str (None's AttributeError) is Python's.
            let Value::Str(s) = evaluate(value, store)? else {
                return Err(Stop::Python);
            };
            let args: Vec<Value> = args
                .iter()
                .map(|a| evaluate(a, store))
                .collect::<Result<_, _>>()?;
            match (method.as_str(), args.as_slice()) {
                ("replace", [Value::Str(old), Value::Str(new)]) if !old.is_empty() => {
                    Ok(Value::Str(s.replace(old.as_str(), new)))
                }
                ("strip", []) => Ok(Value::Str(s.trim_matches(is_py_space).to_string())),
                _ => Err(Stop::Python),
            }
        }
        Expr::Or(a, b) => {
            let left = evaluate(a, store)?;
            if left.truth() {
                Ok(left)
            } else {
                evaluate(b, store)
            }
        }
        Expr::And(a, b) => {
            let left = evaluate(a, store)?;
            if left.truth() {
                evaluate(b, store)
            } else {
                Ok(left)
            }
        }
        Expr::Not(a) => Ok(Value::Bool(!evaluate(a, store)?.truth())),
        Expr::Equal(a, eq, b) => {
            let (left, right) = (evaluate(a, store)?, evaluate(b, store)?);
            let same = match (&left, &right) {
                (Value::Seq(_), _) | (_, Value::Seq(_)) => return Err(Stop::Python),
                // bool is an int to Python: True == 1.
                (Value::Bool(x), Value::Int(y)) | (Value::Int(y), Value::Bool(x)) => {
                    usize::from(*x) == *y
                }
                _ => left == right,
            };
            Ok(Value::Bool(same == *eq))
        }
        Expr::Call(name, args) => call(name, args, store),
    }
}

fn call(name: &str, args: &[Expr], store: &dyn VarSource) -> Result<Value, Stop> {
    // Python evaluates every argument before the call.
    let mut values = Vec::with_capacity(args.len());
    for a in args {
        // `d`, and a checkvalues list (which check_set reads), give no value.
        let checkvalues = matches!(a, Expr::List(_)) && name != "bool";
        values.push(if is_d(a) || checkvalues {
            None
        } else {
            Some(evaluate(a, store)?)
        });
    }
    let mut value = |i: usize| values[i].take().expect("a value argument");
    let get = |var: &Expr| store.get_var(literal(var), true);
    match name {
        "bb.utils.contains" | "bb.utils.contains_any" => {
            let (t, f) = (value(2), value(3));
            let Some(val) = get(&args[0])?.filter(|v| !v.is_empty()) else {
                return Ok(f);
            };
            let have: BTreeSet<&str> = py_split(&val).collect();
            let want = check_set(&args[1]);
            let hit = if name == "bb.utils.contains" {
                want.is_subset(&have)
            } else {
                !want.is_disjoint(&have)
            };
            Ok(if hit { t } else { f })
        }
        "bb.utils.filter" => {
            let Some(val) = get(&args[0])?.filter(|v| !v.is_empty()) else {
                return Ok(Value::Str(String::new()));
            };
            let have: BTreeSet<&str> = py_split(&val).collect();
            let both: Vec<&str> = check_set(&args[1]).intersection(&have).copied().collect();
            Ok(Value::Str(both.join(" ")))
        }
        "oe.utils.conditional" => {
            let (t, f) = (value(2), value(3));
            let hit = get(&args[0])?.as_deref() == Some(literal(&args[1]));
            Ok(if hit { t } else { f })
        }
        "oe.utils.vartrue" => {
            let (t, f) = (value(1), value(2));
            Ok(if oe_boolean(get(&args[0])?)? { t } else { f })
        }
        "d.getVar" => {
            let expand = !matches!(args.get(1), Some(Expr::Name(n)) if n == "False");
            Ok(store
                .get_var(literal(&args[0]), expand)?
                .map_or(Value::None, Value::Str))
        }
        "bb.parse.vars_from_file" => match value(0) {
            Value::Str(file) => vars_from_file(&file),
            Value::None => Ok(Value::Seq(vec![Value::None, Value::None, Value::None])),
            _ => Err(Stop::Python),
        },
        "bool" => Ok(Value::Bool(value(0).truth())),
        _ => unreachable!("checked by accepted()"),
    }
}

/// `bb.parse.vars_from_file(file, d)`: (PN, PV, PR) from a recipe's file name `PN_PV_PR.bb`,
/// `None` for the parts it lacks; all `None` for a file that is not a .bb or .bbappend.
/// A name with more than two underscores (a ParseError, then a quirk of BitBake's cache)
/// is Python's.
fn vars_from_file(file: &str) -> Result<Value, Stop> {
    if file.is_empty() || !(file.ends_with(".bb") || file.ends_with(".bbappend")) {
        return Ok(Value::Seq(vec![Value::None, Value::None, Value::None]));
    }
    let base = file.rsplit('/').next().unwrap_or(file);
    // os.path.splitext: the last dot, unless only dots come before it.
    let root = match base.rfind('.') {
        Some(dot) if base[..dot].bytes().any(|c| c != b'.') => &base[..dot],
        _ => base,
    };
    let mut parts: Vec<Value> = root.split('_').map(|p| Value::Str(p.to_string())).collect();
    if parts.len() > 3 {
        return Err(Stop::Python);
    }
    parts.resize(3, Value::None);
    Ok(Value::Seq(parts))
}

/// `oe.types.boolean` for a variable's value.
fn oe_boolean(value: Option<String>) -> Result<bool, EvalError> {
    let Some(value) = value else {
        return Ok(false);
    };
    let lower = value.to_lowercase();
    match lower.as_str() {
        "yes" | "y" | "true" | "t" | "1" => Ok(true),
        "no" | "n" | "false" | "f" | "0" => Ok(false),
        _ => Err(EvalError::other(
            "ValueError",
            format!("Invalid boolean value '{lower}'"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_common_shapes_only() {
        let ok = |c: &str| parse(c).is_some_and(|e| accepted(&e, true, true));
        assert!(ok(
            "bb.utils.contains('DISTRO_FEATURES', 'x11', 'a', 'b', d)"
        ));
        assert!(ok(" bb.utils.contains(\"A\", ['x', 'y'],\n 'a', '', d) "));
        assert!(ok(
            "bb.utils.contains('A', 'x', bb.utils.contains('B', 'y', 'c', 'd', d), '', d)"
        ));
        assert!(ok("bb.utils.filter('A', 'x y', d)"));
        assert!(ok("d.getVar('A')"));
        assert!(ok("d.getVar('A', False)"));
        assert!(!ok("bb.utils.contains('A', 'x', 'a', 'b', d) + 'c'"));
        assert!(!ok("bb.utils.contains('A', 'x', 'a' 'b', 'c', d)"));
        assert!(!ok("bb.utils.contains('A', 'x', 'a\\n', 'c', d)"));
        assert!(!ok("bb.utils.contains('A', 'x', '''a''', 'c', d)"));
        assert!(!ok("bb.utils.contains('A', 'x', r'a', 'c', d)"));
        assert!(!ok(
            "bb.utils.contains(variable='A', checkvalues='x', truevalue='a', falsevalue='b', d=d)"
        ));
        assert!(!ok("bb.utils.contains('A', 'x', 'a', 'b', e)"));
        assert!(!ok("d.getVar('A', 0)"));
        assert!(!ok("d.getVar(A)"));
        let no_oe = |c: &str| parse(c).is_some_and(|e| accepted(&e, false, true));
        assert!(!no_oe("oe.utils.conditional('A', 'x', 'a', 'b', d)"));
    }

    #[test]
    fn python_whitespace_includes_information_separators() {
        let words: Vec<&str> = py_split("a\u{1f}b\u{a0}c\u{3000}d  e").collect();
        assert_eq!(words, ["a", "b", "c", "d", "e"]);
    }
}
