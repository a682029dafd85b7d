//! `${...}` expansion: data_smart's `expandWithRefs` and its two regular expressions, and
//! the seam through which `${@...}` inline Python is evaluated.

use super::datastore::DataStore;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// Why an expansion failed: BitBake's `ExpansionError` (and the recursion that ends in
/// one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpansionError {
    /// `A = "${A}"`: a value refers to the variable being expanded (VariableParse.var_sub's
    /// "variable A references itself!").
    SelfReference {
        /// The variable.
        var: Arc<str>,
    },
    /// An expansion needed a value that was already being computed (`A = "${B}"`,
    /// `B = "${A}"`); BitBake recurses until Python's recursion limit.
    Recursion {
        /// The chain of values being computed, outermost first, then the one asked again.
        chain: Vec<Arc<str>>,
    },
    /// A `${@...}` failed, or no [`InlinePython`] host could evaluate it.
    InlinePython {
        /// The variable (or `A[flag]`) being expanded, if any.
        var: Option<Arc<str>>,
        /// The Python expression.
        code: String,
        /// What went wrong.
        message: String,
    },
    /// `OVERRIDES` did not reach a fixed point in five rounds (BitBake's fatal "Overrides
    /// could not be expanded into a stable state").
    UnstableOverrides,
    /// Values nested too deeply (BitBake reaches Python's recursion limit).
    TooDeep {
        /// The value that would have gone one level too deep.
        var: Arc<str>,
    },
}

impl fmt::Display for ExpansionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpansionError::SelfReference { var } => write!(f, "variable {var} references itself"),
            ExpansionError::Recursion { chain } => {
                let chain: Vec<&str> = chain.iter().map(|c| &**c).collect();
                write!(f, "recursive expansion: {}", chain.join(" -> "))
            }
            ExpansionError::InlinePython { var, code, message } => match var {
                Some(var) => write!(
                    f,
                    "failure expanding variable {var}, expression was ${{@{code}}}: {message}"
                ),
                None => write!(f, "failure expanding expression ${{@{code}}}: {message}"),
            },
            ExpansionError::TooDeep { var } => write!(f, "expansion nested too deeply at {var}"),
            ExpansionError::UnstableOverrides => f.write_str(
                "OVERRIDES could not be expanded into a stable state after 5 iterations",
            ),
        }
    }
}

impl std::error::Error for ExpansionError {}

/// Why an [`InlinePython`] host could not evaluate an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InlinePythonError {
    /// The host does not evaluate this expression (the native host knows only trivial
    /// forms); a full Python host is needed.
    Unsupported,
    /// The expression raised, or reading the store for it failed.
    Failed(String),
    /// The expression does not compile because a string literal is not closed (Python's
    /// "unterminated string literal", "EOL while scanning string literal"). BitBake takes
    /// this for unmatched brackets and abandons the inline-Python step of that expansion
    /// round, leaving the text as it is.
    UnterminatedString,
}

impl fmt::Display for InlinePythonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InlinePythonError::Unsupported => {
                f.write_str("no inline Python host evaluates this expression")
            }
            InlinePythonError::Failed(message) => f.write_str(message),
            InlinePythonError::UnterminatedString => f.write_str("unterminated string literal"),
        }
    }
}

/// Evaluates the Python expression of a `${@...}` against a store, as VariableParse's
/// `python_sub` does with `utils.better_eval(code, DataContext(d), {'d': d})` and then
/// `str()` of the result.
///
/// The store has already checked BitBake's rule that an expression whose text still holds
/// a `${VAR}` reference is not run (the `${@...}` stays literal), so `code` holds none.
pub trait InlinePython: Send + Sync {
    /// The `str()` of the expression's value.
    fn eval(&self, code: &str, store: &DataStore) -> Result<String, InlinePythonError>;
}

/// The native inline-Python host: only the trivial forms, and
/// [`InlinePythonError::Unsupported`] for everything else, so nothing is silently dropped.
///
/// Forms: a string literal without escapes (`'x'`, `"x"`) and `d.getVar('NAME')` (the
/// expanded value, `None` when unset, as `str(None)` gives).
#[derive(Debug, Clone, Copy, Default)]
pub struct NativeInlinePython;

fn string_literal(text: &str) -> Option<&str> {
    let quote = text.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = text.strip_prefix(quote)?.strip_suffix(quote)?;
    (!inner.contains(quote) && !inner.contains('\\')).then_some(inner)
}

impl InlinePython for NativeInlinePython {
    fn eval(&self, code: &str, store: &DataStore) -> Result<String, InlinePythonError> {
        let code = code.trim();
        if let Some(text) = string_literal(code) {
            return Ok(text.to_string());
        }
        if let Some(quote) = code.chars().next().filter(|c| *c == '\'' || *c == '"') {
            if !code[1..].contains(quote) && !code.contains('\\') && !code.contains('\n') {
                return Err(InlinePythonError::UnterminatedString);
            }
        }
        if let Some(arg) = code
            .strip_prefix("d.getVar(")
            .and_then(|rest| rest.strip_suffix(')'))
        {
            if let Some(name) = string_literal(arg.trim()) {
                return match store.get_var(name, true) {
                    Ok(Some(value)) => Ok(value.to_string()),
                    Ok(None) => Ok("None".to_string()),
                    Err(err) => Err(InlinePythonError::Failed(err.to_string())),
                };
            }
        }
        Err(InlinePythonError::Unsupported)
    }
}

/// The position of the next `${` at or after `from` (a byte scan: cheaper than a substring
/// search for these short patterns).
fn find_open(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 1 < bytes.len() {
        match bytes[i + 1..].iter().position(|b| *b == b'{') {
            None => return None,
            Some(off) => {
                let brace = i + 1 + off;
                if bytes[brace - 1] == b'$' {
                    return Some(brace - 1);
                }
                i = brace;
            }
        }
    }
    None
}

/// The characters of a variable name in a reference: `__expand_var_regexp__` is
/// `\${[a-zA-Z0-9\-_+./~:]+}`.
fn is_ref_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'.' | b'/' | b'~' | b':')
}

/// The end (exclusive) of a `${NAME}` reference starting at `start` (which holds `$`).
fn var_ref_end(bytes: &[u8], start: usize) -> Option<usize> {
    if bytes.get(start + 1) != Some(&b'{') {
        return None;
    }
    let mut i = start + 2;
    while i < bytes.len() && is_ref_name_byte(bytes[i]) {
        i += 1;
    }
    (i > start + 2 && bytes.get(i) == Some(&b'}')).then_some(i + 1)
}

/// Whether `text` holds a `${NAME}` reference (`__expand_var_regexp__.findall(code)`).
pub fn has_var_ref(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr_positions(bytes, b'$').any(|i| var_ref_end(bytes, i).is_some())
}

fn memchr_positions(bytes: &[u8], needle: u8) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter(move |(_, b)| **b == needle)
        .map(|(i, _)| i)
}

/// The end (exclusive) of a `${@...}` starting at `start`, by the semantics of
/// `__expand_python_regexp__` = `\${@(?:{.*?}|.)+?}`: at least one item, each either a
/// brace group `{...}` (to the nearest `}` that lets the rest match) or any character but
/// a newline, up to the first `}` that ends the match; backtracking order as Python's `re`.
fn python_ref_end(bytes: &[u8], start: usize) -> Option<usize> {
    if !bytes[start..].starts_with(b"${@") {
        return None;
    }
    // memo[p]: result of "after at least one item, match the rest from p".
    let mut memo: Vec<Option<Option<usize>>> = vec![None; bytes.len() + 1];
    items_then_close(bytes, start + 3, true, &mut memo)
}

fn items_then_close(
    bytes: &[u8],
    mut p: usize,
    mut first: bool,
    memo: &mut Vec<Option<Option<usize>>>,
) -> Option<usize> {
    let entry = p;
    if !first {
        if let Some(known) = memo[p] {
            return known;
        }
    }
    let entry_first = first;
    let result = loop {
        if p >= bytes.len() {
            break None;
        }
        if !first && bytes[p] == b'}' {
            break Some(p + 1);
        }
        if bytes[p] == b'{' {
            // `{.*?}`: each closing brace in turn, not across a newline.
            let mut found = None;
            let mut q = p + 1;
            while q < bytes.len() && bytes[q] != b'\n' {
                if bytes[q] == b'}' {
                    if let Some(end) = items_then_close(bytes, q + 1, false, memo) {
                        found = Some(end);
                        break;
                    }
                }
                q += 1;
            }
            if found.is_some() {
                break found;
            }
        }
        if bytes[p] == b'\n' {
            break None;
        }
        p += 1;
        first = false;
        if let Some(known) = memo[p] {
            break known;
        }
    };
    if !entry_first {
        memo[entry] = Some(result);
    }
    result
}

/// Reads a variable's expanded value for a `${NAME}` reference (`None`: unset).
pub(crate) type VarLookup<'a> = dyn FnMut(&str) -> Result<Option<Arc<str>>, ExpansionError> + 'a;

/// Expands `text` the way data_smart's `expandWithRefs` does: repeatedly, every
/// `${NAME}` reference whose variable has a value is replaced by it (fully expanded by
/// `lookup`), unset ones stay literal; then every `${@...}` is evaluated by `python`
/// unless its code still holds a `${NAME}` (then it stays literal); until a round changes
/// nothing or no `${` is left.
///
/// `varname` is the variable (or `A[flag]`) being expanded, for the self-reference check.
/// `python` gives `None` to abandon the round's inline-Python step (an unterminated string
/// literal, which BitBake takes for unmatched brackets).
pub(crate) fn expand_text<'t>(
    text: &'t str,
    varname: Option<&str>,
    lookup: &mut VarLookup<'_>,
    python: &mut dyn FnMut(&str) -> Result<Option<String>, ExpansionError>,
) -> Result<Cow<'t, str>, ExpansionError> {
    let mut current: Cow<'t, str> = Cow::Borrowed(text);
    while find_open(current.as_bytes(), 0).is_some() {
        // A pass gives `None` when it replaced every match by its own text, so that the
        // common "nothing left to expand" round ends without comparing whole strings.
        let after_vars = substitute_vars(&current, varname, lookup)?;
        let after_python = match &after_vars {
            Some(s) => substitute_python(s, python)?,
            None => substitute_python(&current, python)?,
        };
        let next = match (after_vars, after_python) {
            (_, Some(s)) => s,
            (Some(s), None) => s,
            (None, None) => break,
        };
        if next == *current {
            break;
        }
        current = Cow::Owned(next);
    }
    Ok(current)
}

/// One `__expand_var_regexp__.sub(var_sub, s)` pass; `None` when no match was replaced by
/// other text.
fn substitute_vars(
    text: &str,
    varname: Option<&str>,
    lookup: &mut VarLookup<'_>,
) -> Result<Option<String>, ExpansionError> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while let Some(start) = find_open(bytes, i) {
        match var_ref_end(bytes, start) {
            Some(end) => {
                let key = &text[start + 2..end - 1];
                if varname == Some(key) {
                    return Err(ExpansionError::SelfReference { var: key.into() });
                }
                if let Some(value) = lookup(key)? {
                    if *value != text[start..end] {
                        let buf = out.get_or_insert_with(|| String::with_capacity(text.len()));
                        buf.push_str(&text[copied..start]);
                        buf.push_str(&value);
                        copied = end;
                    }
                }
                i = end;
            }
            None => i = start + 1,
        }
    }
    if let Some(buf) = out.as_mut() {
        buf.push_str(&text[copied..]);
    }
    Ok(out)
}

/// One `__expand_python_regexp__.sub(python_sub, s)` pass; `None` when no match was
/// replaced by other text, or the pass was abandoned.
fn substitute_python(
    text: &str,
    python: &mut dyn FnMut(&str) -> Result<Option<String>, ExpansionError>,
) -> Result<Option<String>, ExpansionError> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while let Some(start) = find_open(bytes, i) {
        if bytes.get(start + 2) != Some(&b'@') {
            i = start + 1;
            continue;
        }
        match python_ref_end(bytes, start) {
            Some(end) => {
                let code = &text[start + 3..end - 1];
                if !has_var_ref(code) {
                    match python(code)? {
                        Some(value) => {
                            if value != text[start..end] {
                                let buf =
                                    out.get_or_insert_with(|| String::with_capacity(text.len()));
                                buf.push_str(&text[copied..start]);
                                buf.push_str(&value);
                                copied = end;
                            }
                        }
                        None => return Ok(None),
                    }
                }
                i = end;
            }
            None => i = start + 1,
        }
    }
    if let Some(buf) = out.as_mut() {
        buf.push_str(&text[copied..]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python_span(text: &str) -> Option<&str> {
        let start = text.find("${@")?;
        python_ref_end(text.as_bytes(), start).map(|end| &text[start..end])
    }

    #[test]
    fn python_regexp_semantics() {
        assert_eq!(python_span("${@'a'} b}"), Some("${@'a'}"));
        assert_eq!(python_span("${@{'a':1}['a']}"), Some("${@{'a':1}['a']}"));
        assert_eq!(python_span("${@}"), None);
        assert_eq!(python_span("${@}}"), Some("${@}}"));
        assert_eq!(python_span("${@x"), None);
    }

    #[test]
    fn var_refs() {
        assert!(has_var_ref("a ${B} c"));
        assert!(!has_var_ref("a ${B C} ${}"));
        assert!(has_var_ref("${${A}}"));
    }
}
