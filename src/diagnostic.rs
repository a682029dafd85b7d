//! Diagnostics: what bitzel tells a user about their metadata.
//!
//! A diagnostic names the file, the line and the column (both 1-based, the column counted
//! in characters) and shows the source line with a caret under the offending text, the way
//! compilers do:
//!
//! ```text
//! recipes/foo/foo.bb:3:1: error: unparsed line: 'FOO "bar"'
//!   |
//! 3 | FOO "bar"
//!   | ^^^^^^^^^
//! ```
//!
//! Positions are byte ranges into the file's text; [`LineIndex`] turns them into lines and
//! columns. Rendering is plain text and deterministic so that tests can snapshot it.

use std::fmt::Write as _;
use std::ops::Range;

/// How bad a diagnostic is. BitBake refuses to parse a file with an error; a warning is
/// something BitBake itself warns about (or silently tolerates) and parsing goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// BitBake would stop with a ParseError (or a fatal error) here.
    Error,
    /// BitBake warns here, or the construct is accepted but almost certainly a mistake.
    Warning,
}

impl Severity {
    /// The word printed before the message: `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem found in one file, located by a byte range of that file's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The message, in BitBake's words where BitBake has words for it.
    pub message: String,
    /// The file, as the user named it (relative paths stay relative).
    pub path: String,
    /// Byte range in the file's text that the diagnostic points at.
    pub range: Range<usize>,
}

/// Maps byte offsets of a text to 1-based line and column numbers.
#[derive(Debug, Clone)]
pub struct LineIndex {
    /// Byte offset at which each line starts; the first entry is 0.
    line_starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes the line starts of `text`. Lines end the way Python's universal newlines
    /// (which BitBake reads files with) end them: at `\n`, `\r\n` or a lone `\r`.
    pub fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            let ends_line = b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
            if ends_line {
                line_starts.push(i + 1);
            }
        }
        LineIndex { line_starts }
    }

    /// The 0-based line that holds byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    /// The byte range of 0-based `line` in `text`, without its line ending.
    pub fn line_range(&self, text: &str, line: usize) -> Range<usize> {
        let start = self.line_starts[line];
        let end = self
            .line_starts
            .get(line + 1)
            .copied()
            .unwrap_or(text.len());
        let content = text[start..end]
            .trim_end_matches('\n')
            .trim_end_matches('\r');
        start..start + content.len()
    }

    /// 1-based line and 1-based column (in characters) of byte `offset` in `text`.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        let col = text[start..offset].chars().count() + 1;
        (line + 1, col)
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl Diagnostic {
    /// Creates an error at `range` of the file `path`.
    pub fn error(path: impl Into<String>, range: Range<usize>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            path: path.into(),
            range,
        }
    }

    /// Creates a warning at `range` of the file `path`.
    pub fn warning(
        path: impl Into<String>,
        range: Range<usize>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(path, range, message)
        }
    }

    /// 1-based line and column where the diagnostic starts in `text`.
    pub fn line_col(&self, text: &str, index: &LineIndex) -> (usize, usize) {
        index.line_col(text, self.range.start)
    }

    /// Renders `path:line:col: severity: message`, then the source line with carets under
    /// the part of the range that lies on that line (one caret for an empty range).
    pub fn render(&self, text: &str, index: &LineIndex) -> String {
        let (line, col) = self.line_col(text, index);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}:{}:{}: {}: {}",
            self.path,
            line,
            col,
            self.severity.as_str(),
            self.message
        );
        let line_range = index.line_range(text, line - 1);
        let source = &text[line_range.clone()];
        let gutter = line.to_string();
        let pad = " ".repeat(gutter.len());
        let start = floor_char_boundary(
            text,
            self.range.start.clamp(line_range.start, line_range.end),
        );
        let end = floor_char_boundary(text, self.range.end.clamp(start, line_range.end));
        let lead: String = text[line_range.start..start]
            .chars()
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let carets = text[start..end].chars().count().max(1);
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{gutter} | {source}");
        let _ = writeln!(out, "{pad} | {lead}{}", "^".repeat(carets));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_from_one() {
        let text = "A = \"1\"\nBé = x\n";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(text, 0), (1, 1));
        assert_eq!(index.line_col(text, 8), (2, 1));
        assert_eq!(index.line_col(text, 12), (2, 4));
    }

    #[test]
    fn render_shows_source_line_and_caret() {
        let text = "A = \"1\"\nFOO \"bar\"\n";
        let index = LineIndex::new(text);
        let d = Diagnostic::error("x.bb", 8..17, "unparsed line: 'FOO \"bar\"'");
        assert_eq!(
            d.render(text, &index),
            "x.bb:2:1: error: unparsed line: 'FOO \"bar\"'\n  |\n2 | FOO \"bar\"\n  | ^^^^^^^^^\n"
        );
    }

    #[test]
    fn lone_carriage_return_ends_a_line_as_in_python() {
        let text = "A = \"1\"\rB = \"2\"\r\nC";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(text, 8), (2, 1));
        assert_eq!(index.line_col(text, 17), (3, 1));
        assert_eq!(&text[index.line_range(text, 1)], "B = \"2\"");
    }

    #[test]
    fn render_at_end_of_file_without_newline() {
        let text = "foo() {\n  echo";
        let index = LineIndex::new(text);
        let d = Diagnostic::error("x.bb", text.len()..text.len(), "unclosed");
        let out = d.render(text, &index);
        assert!(out.starts_with("x.bb:2:7: error: unclosed\n"), "{out}");
        assert!(out.ends_with("2 |   echo\n  |       ^\n"), "{out}");
    }
}
