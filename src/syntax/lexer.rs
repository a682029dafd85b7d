//! The lexical layer: physical lines and Python's character classes.
//!
//! BitBake reads a file line by line (`f.readline()` in text mode, so `\n`, `\r\n` and a
//! lone `\r` all end a line) and `rstrip()`s every line before its handlers look at it.
//! [`lines`] splits a text the same way and remembers, for each line, where its content
//! ends (after `rstrip()`) and where its line end is, so that the parser can account for
//! every byte.
//!
//! BitBake's regexes are Python `str` patterns: `\s` and `str.rstrip()` use
//! `str.isspace()`, `\w` is Unicode-aware. [`is_py_space`] and [`is_py_word`] mirror them.

use std::ops::Range;

/// One physical line of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// Byte offset of the line's first character.
    pub start: usize,
    /// End of the line's content after Python's `rstrip()`.
    pub content_end: usize,
    /// End of the line before its line end (`\n`, `\r\n` or `\r`).
    pub end: usize,
    /// Offset just after the line end (equal to `end` on a last line without one).
    pub next: usize,
}

impl Line {
    /// The byte range of the line's content after `rstrip()`.
    pub fn content(&self) -> Range<usize> {
        self.start..self.content_end
    }
}

/// Splits `text` into physical lines the way Python's universal-newline `readline()`
/// does, with each line's `rstrip()` end. A text ending in a line end has no empty last
/// line (as `readline()` returns `''` there).
pub fn lines(text: &str) -> Vec<Line> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 32 + 1);
    let mut start = 0;
    while start < bytes.len() {
        let mut i = start;
        while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
            i += 1;
        }
        let end = i;
        let next = if i >= bytes.len() {
            i
        } else if bytes[i] == b'\r' && i + 1 < bytes.len() && bytes[i + 1] == b'\n' {
            i + 2
        } else {
            i + 1
        };
        let content_end = start + rstrip_len(&text[start..end]);
        out.push(Line {
            start,
            content_end,
            end,
            next,
        });
        start = next;
    }
    out
}

/// Python's `str.isspace()` (and so the `\s` of BitBake's regexes and `str.rstrip()`):
/// Unicode White_Space plus the ASCII separators U+001C..U+001F.
pub fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `\w` for `str` patterns: `_` and what `str.isalnum()` accepts, which is
/// exactly the Unicode general categories L* (letters) and N* (numbers). Rust's
/// `char::is_alphanumeric` would also take the Other_Alphabetic combining marks (a
/// Devanagari vowel sign, the Greek ypogegrammeni) that BitBake's regexes refuse.
pub fn is_py_word(c: char) -> bool {
    use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
    if c.is_ascii() {
        return c == '_' || c.is_ascii_alphanumeric();
    }
    matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Letter | GeneralCategoryGroup::Number
    )
}

/// The length of `s` after Python's `rstrip()`.
pub fn rstrip_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut n = b.len();
    while n > 0 {
        let last = b[n - 1];
        if last < 0x80 {
            if is_py_space(last as char) {
                n -= 1;
                continue;
            }
            break;
        }
        // A multi-byte character: decode it.
        let c = s[..n].chars().next_back().expect("non-empty");
        if is_py_space(c) {
            n -= c.len_utf8();
        } else {
            break;
        }
    }
    n
}

/// The length of the run of Python whitespace at the start of `s`.
pub fn space_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] < 0x80 {
            if is_py_space(b[i] as char) {
                i += 1;
                continue;
            }
            break;
        }
        let c = s[i..].chars().next().expect("non-empty");
        if is_py_space(c) {
            i += c.len_utf8();
        } else {
            break;
        }
    }
    i
}

/// The length of the run at the start of `s` whose characters satisfy `f`.
pub fn run_len(s: &str, f: impl Fn(char) -> bool) -> usize {
    s.char_indices()
        .find(|&(_, c)| !f(c))
        .map_or(s.len(), |(i, _)| i)
}

/// The character class of a variable name in ConfHandler's regexes
/// (`[a-zA-Z0-9\-_+.${}/~]`), plus `:` where `with_colon` (the assignment regex allows
/// it, `export` and `unset` do not).
pub fn is_var_char(c: char, with_colon: bool) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '-' | '_' | '+' | '.' | '$' | '{' | '}' | '/' | '~')
        || (with_colon && c == ':')
}

/// The first character of a flag name: `[a-zA-Z0-9\-_+.]`.
pub fn is_flag_start(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '.')
}

/// A later character of a flag name: `[a-zA-Z0-9\-_+.@]`.
pub fn is_flag_char(c: char) -> bool {
    is_flag_start(c) || c == '@'
}

/// A character of a variable name inside `${...}` (data_smart's `__expand_var_regexp__`:
/// `[a-zA-Z0-9\-_+./~:]`).
pub fn is_ref_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '.' | '/' | '~' | ':')
}

/// A byte-range piece of a value that later expansion cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expansion {
    /// `${NAME}`: data_smart's `__expand_var_regexp__`.
    Var(usize, usize),
    /// `${@...}`: data_smart's `__expand_python_regexp__`.
    Python(usize, usize),
}

/// Finds the `${VAR}` and `${@...}` pieces of `s`, in text order, where BitBake's
/// expansion regexes find them: `\${[a-zA-Z0-9\-_+./~:]+}` and `\${@(?:{.*?}|.)+?}`.
/// Python pieces are the outermost matches; `Var` pieces inside a `Python` piece come
/// right after it (a `${VAR}` never straddles the end of a `${@...}`).
pub fn expansions(s: &str, out: &mut Vec<Expansion>) {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(off) = memfind_dollar_brace(&b[i..]) {
        let at = i + off;
        if b.get(at + 2) == Some(&b'@') {
            if let Some(end) = python_end(b, at + 3) {
                out.push(Expansion::Python(at, end));
                // `${VAR}` pieces inside it.
                let mut j = at + 3;
                while let Some(off) = memfind_dollar_brace(&b[j..end]) {
                    let vat = j + off;
                    if let Some(vend) = var_end(s, vat, end) {
                        out.push(Expansion::Var(vat, vend));
                        j = vend;
                    } else {
                        j = vat + 1;
                    }
                }
                i = end;
                continue;
            }
            i = at + 1;
            continue;
        }
        if let Some(vend) = var_end(s, at, b.len()) {
            out.push(Expansion::Var(at, vend));
            i = vend;
        } else {
            i = at + 1;
        }
    }
}

fn memfind_dollar_brace(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'$' && b[i + 1] == b'{' {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// End of `${NAME}` starting at `at` (which holds `${`), if it is one, within `limit`.
fn var_end(s: &str, at: usize, limit: usize) -> Option<usize> {
    let name = run_len(&s[at + 2..limit], is_ref_char);
    let close = at + 2 + name;
    (name > 0 && close < limit && s.as_bytes()[close] == b'}').then_some(close + 1)
}

/// End of `${@...}` whose code starts at `p`, following the backtracking of
/// `(?:{.*?}|.)+?}`: at least one unit, each unit either a `{...}` up to the next `}` (taken
/// only when another `}` follows it) or one character; the match ends at the first `}`
/// reached after a unit.
///
/// BitBake expands `${VAR}` references before it looks for `${@...}`, so the Python regex
/// sees their values, not their braces. Here a `${VAR}` reference counts as one unit
/// without braces (exact when the value holds no brace, as values almost never do).
fn python_end(b: &[u8], p: usize) -> Option<usize> {
    // `.` matches anything but `\n`; logical lines never hold one, but stay exact.
    let eol = b[p.min(b.len())..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |o| p + o);
    // One unit at `k` that is not a `{...}`: a whole `${VAR}`, or one character.
    let step = |k: usize| -> usize {
        if b[k] == b'$' && b.get(k + 1) == Some(&b'{') {
            if let Some(end) = var_end_bytes(b, k, eol) {
                return end;
            }
        }
        k + utf8_len(b[k])
    };
    let next_close = |mut k: usize| {
        while k < eol {
            if b[k] == b'}' {
                return Some(k);
            }
            k = step(k);
        }
        None
    };
    let mut r = p;
    let mut first = true;
    loop {
        if r >= eol {
            return None;
        }
        if !first && b[r] == b'}' {
            return Some(r + 1);
        }
        first = false;
        if b[r] == b'{' {
            if let Some(q) = next_close(r + 1) {
                if next_close(q + 1).is_some() {
                    r = q + 1;
                    continue;
                }
            }
        }
        r = step(r);
    }
}

/// [`var_end`] on bytes.
fn var_end_bytes(b: &[u8], at: usize, limit: usize) -> Option<usize> {
    let mut k = at + 2;
    while k < limit && b[k].is_ascii() && is_ref_char(b[k] as char) {
        k += 1;
    }
    (k > at + 2 && k < limit && b[k] == b'}').then_some(k + 1)
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_on_all_three_line_ends() {
        let ls = lines("a\r\nb\rc\n d  \n");
        let got: Vec<_> = ls
            .iter()
            .map(|l| (l.start, l.content_end, l.end, l.next))
            .collect();
        assert_eq!(
            got,
            vec![(0, 1, 1, 3), (3, 4, 4, 5), (5, 6, 6, 7), (7, 9, 11, 12)]
        );
    }

    #[test]
    fn rstrip_strips_python_whitespace_only() {
        assert_eq!(rstrip_len("a \t\u{1c}\u{a0}"), 1);
        assert_eq!(rstrip_len("a\u{200b}"), "a\u{200b}".len());
    }

    fn found(s: &str) -> Vec<&str> {
        let mut v = Vec::new();
        expansions(s, &mut v);
        v.iter()
            .map(|e| match *e {
                Expansion::Var(a, b) | Expansion::Python(a, b) => &s[a..b],
            })
            .collect()
    }

    #[test]
    fn python_expansion_takes_nested_braces() {
        assert_eq!(
            found("${@d.getVar('X') or {}} y"),
            vec!["${@d.getVar('X') or {}}"]
        );
        assert_eq!(
            found("${@bb.utils.contains('A', 'b', '${C}', '', d)}"),
            vec!["${@bb.utils.contains('A', 'b', '${C}', '', d)}", "${C}"]
        );
        assert_eq!(found("${@foo${X}"), vec!["${X}"]);
        assert_eq!(
            found("${@ {'a': '${A}'}['a'] } ${B}"),
            vec!["${@ {'a': '${A}'}['a'] }", "${A}", "${B}"]
        );
        assert_eq!(found("${@}"), Vec::<&str>::new());
        assert_eq!(found("${@}}"), vec!["${@}}"]);
    }

    #[test]
    fn var_refs_need_a_name_of_ref_chars() {
        assert_eq!(
            found("${A}${B_c:d}${} ${A B} ${A${B}}"),
            vec!["${A}", "${B_c:d}", "${B}"]
        );
    }
}
