//! The native fast path: inline Python of the few shapes that make up most of Poky's
//! `${@...}`, evaluated in Rust with the exact semantics of the Python functions they
//! call, so that the GIL is not taken for them.
//!
//! In Poky scarthgap's meta and meta-poky, 1,792 inline expressions: 1,005 call
//! `bb.utils.contains` (979 with string-literal arguments), 122 `bb.utils.filter`,
//! 28 `bb.utils.contains_any`, 19 `oe.utils.conditional`, 10 `oe.utils.vartrue`, and a
//! few are a bare `d.getVar('X')`. This module accepts exactly these calls when every
//! argument is a string literal, a list of string literals, `True`/`False`/`None`, `d`,
//! or (for the values returned) another accepted call; anything else is left to Python.
//! Arguments are evaluated left to right before the call, as Python does, so the first
//! error is the same one. The semantics follow, and are tested against, bb/utils.py
//! (`contains`, `contains_any`, `filter`) and meta/lib/oe (`utils.conditional`,
//! `utils.vartrue`, `types.boolean`).

use super::{EvalError, VarSource};
use std::collections::BTreeSet;

/// A parsed expression of the accepted subset of Python.
#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Str(String),
    List(Vec<String>),
    Name(String),
    Call(String, Vec<Expr>),
}

/// A Python value the accepted calls produce.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Str(String),
    None,
    Bool(bool),
}

impl Value {
    /// Python's `str()` of the value.
    fn into_string(self) -> String {
        match self {
            Value::Str(s) => s,
            Value::None => "None".into(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
        }
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
    Some(evaluate(&expr, store).map(Value::into_string))
}

/// Whether [`eval`] takes `code` natively.
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
        Some(&self.s[start..self.i])
    }

    fn expr(&mut self) -> Option<Expr> {
        self.ws();
        match self.peek()? {
            b'\'' | b'"' => self.string().map(Expr::Str),
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    if self.eat(b']') {
                        break;
                    }
                    items.push(self.string()?);
                    if !self.eat(b',') {
                        if !self.eat(b']') {
                            return None;
                        }
                        break;
                    }
                }
                Some(Expr::List(items))
            }
            _ => {
                let mut name = self.ident()?.to_string();
                while self.peek() == Some(b'.') {
                    self.i += 1;
                    name.push('.');
                    name.push_str(self.ident()?);
                }
                if !self.eat(b'(') {
                    return Some(Expr::Name(name));
                }
                let mut args = Vec::new();
                loop {
                    if self.eat(b')') {
                        break;
                    }
                    args.push(self.expr()?);
                    if !self.eat(b',') {
                        if !self.eat(b')') {
                            return None;
                        }
                        break;
                    }
                }
                Some(Expr::Call(name, args))
            }
        }
    }
}

fn is_value(e: &Expr, oe: bool) -> bool {
    match e {
        Expr::Str(_) => true,
        Expr::Name(n) => matches!(n.as_str(), "True" | "False" | "None"),
        Expr::Call(..) => accepted(e, oe, false),
        Expr::List(_) => false,
    }
}

fn is_d(e: &Expr) -> bool {
    matches!(e, Expr::Name(n) if n == "d")
}

fn is_str(e: &Expr) -> bool {
    matches!(e, Expr::Str(_))
}

/// Variables that BitBake keeps as Python lists (the bridge's LIST_VARS): reading them
/// in Python gives a list, so their expressions stay with Python.
const LIST_VARS: [&str; 3] = ["__inherit_cache", "__BBANONFUNCS", "__BBTASKS"];

/// Whether `e` is one of the accepted shapes (a literal only at the top when `top`).
fn accepted(e: &Expr, oe: bool, top: bool) -> bool {
    let Expr::Call(name, args) = e else {
        return top && is_value(e, oe);
    };
    if matches!(args.first(), Some(Expr::Str(v)) if LIST_VARS.contains(&v.as_str())) {
        return false;
    }
    match (name.as_str(), args.as_slice()) {
        ("bb.utils.contains" | "bb.utils.contains_any", [var, check, t, f, d]) => {
            is_str(var)
                && matches!(check, Expr::Str(_) | Expr::List(_))
                && is_value(t, oe)
                && is_value(f, oe)
                && is_d(d)
        }
        ("bb.utils.filter", [var, check, d]) => {
            is_str(var) && matches!(check, Expr::Str(_) | Expr::List(_)) && is_d(d)
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
        _ => false,
    }
}

/// The set of words of `checkvalues`: a string is split, a list taken as it is.
fn check_set(e: &Expr) -> BTreeSet<&str> {
    match e {
        Expr::Str(s) => py_split(s).collect(),
        Expr::List(items) => items.iter().map(String::as_str).collect(),
        _ => unreachable!("checked by accepted()"),
    }
}

fn literal(e: &Expr) -> &str {
    match e {
        Expr::Str(s) => s,
        _ => unreachable!("checked by accepted()"),
    }
}

fn evaluate(e: &Expr, store: &dyn VarSource) -> Result<Value, EvalError> {
    let (name, args) = match e {
        Expr::Str(s) => return Ok(Value::Str(s.clone())),
        Expr::Name(n) if n == "True" => return Ok(Value::Bool(true)),
        Expr::Name(n) if n == "False" => return Ok(Value::Bool(false)),
        Expr::Name(_) | Expr::List(_) => return Ok(Value::None),
        Expr::Call(name, args) => (name.as_str(), args.as_slice()),
    };
    // Python evaluates every argument before the call.
    let mut values = Vec::with_capacity(args.len());
    for a in args {
        values.push(match a {
            Expr::Call(..) | Expr::Str(_) => Some(evaluate(a, store)?),
            Expr::Name(n) if n != "d" => Some(evaluate(a, store)?),
            _ => None,
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
        _ => unreachable!("checked by accepted()"),
    }
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
