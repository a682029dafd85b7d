//! Conformance of bitzel's parser with BitBake's own statement parser.
//!
//! Every expectation here comes from real BitBake: tests/oracle/bb_parse.py runs BitBake's
//! BBHandler/ConfHandler on the same files and prints its verdicts. For each file both sides
//! must agree on:
//!
//! - the verdict: accepted, or rejected with an error;
//! - for a rejection, the line BitBake names (ParseError.lineno, or the line in a bb.fatal
//!   message). BitBake names no line for a few errors (an undecodable file, a task name with
//!   `:append_`); then only the verdict is compared;
//! - for an accepted file, the statements in order: their kinds, and for each assignment
//!   its name, flag, operator, value and `export`.
//!
//! bitzel's side: a file that is not UTF-8 is rejected (BitBake's reader raises
//! UnicodeDecodeError), else the first error-severity [`SyntaxError`] decides the verdict
//! and its range's start gives the line, counted the way Python's universal-newline reader
//! counts lines (`\n`, `\r\n` and a lone `\r` each end one). Lines past the end of the
//! text count as the line the text ends on: at the end of a file BitBake counts each read
//! that finds EOF as a line (one past the last line, two after a final `\\` in a .conf),
//! which no position in the text can name. Every parse must also give its text back
//! unchanged.
//!
//! Which BitBake: with `BITZEL_POKY` set, the one in `$BITZEL_POKY/bitbake/lib` (scarthgap,
//! the version bitzel targets); else the installed `bb` (PyPI bitbake-setup, see
//! tests/oracle/requirements.txt). Files listed in tests/data/conformance/scarthgap-only.txt
//! are skipped unless the BitBake under test is 2.8. The tests fail, not skip, if python3 or `bb` is missing. `BITZEL_PYTHON` names
//! another interpreter.
//!
//! [`SyntaxError`]: bitzel::syntax::SyntaxError

use bitzel::diagnostic::Severity;
use bitzel::syntax::{ast, parse, FileKind};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The version prefix of scarthgap's BitBake.
const SCARTHGAP_VERSION: &str = "2.8.";

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures_dir() -> PathBuf {
    manifest_dir().join("tests/data/conformance")
}

/// Which BitBake the oracle runs.
#[derive(Debug, Clone)]
enum BitBake {
    /// `bitbake/lib` of a Poky checkout.
    Poky(PathBuf),
    /// Whatever `import bb` finds (the PyPI wheel in CI).
    Installed,
}

impl BitBake {
    fn under_test() -> BitBake {
        match std::env::var_os("BITZEL_POKY") {
            Some(poky) if !poky.is_empty() => {
                BitBake::Poky(PathBuf::from(poky).join("bitbake/lib"))
            }
            _ => BitBake::Installed,
        }
    }
}

#[derive(Debug, Deserialize)]
struct OracleHeader {
    bitbake: String,
    bb: String,
}

#[derive(Debug, Clone, Deserialize)]
struct OracleFile {
    path: PathBuf,
    accepted: bool,
    #[serde(default)]
    line: Option<usize>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    statements: Vec<OracleStatement>,
}

#[derive(Debug, Clone, Deserialize)]
struct OracleStatement {
    kind: String,
    #[serde(default)]
    var: Option<String>,
    #[serde(default)]
    flag: Option<String>,
    #[serde(default)]
    op: Option<String>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    exported: bool,
}

/// Runs BitBake's parser on `files` in one python process.
fn run_oracle(bitbake: &BitBake, files: &[PathBuf]) -> (OracleHeader, Vec<OracleFile>) {
    let python = std::env::var("BITZEL_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let driver = manifest_dir().join("tests/oracle/bb_parse.py");
    let mut command = Command::new(&python);
    command
        .arg(&driver)
        .args(["--statements", "--stdin"])
        .env("PYTHONUTF8", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let BitBake::Poky(lib) = bitbake {
        assert!(
            lib.join("bb").is_dir(),
            "BITZEL_POKY: no BitBake at {}",
            lib.display()
        );
        command.env("PYTHONPATH", lib);
    }
    let mut child = command.spawn().unwrap_or_else(|e| {
        panic!("cannot run {python} (install it, see tests/oracle/requirements.txt): {e}")
    });
    let mut stdin = child.stdin.take().unwrap();
    let list: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
    let writer = std::thread::spawn(move || stdin.write_all(list.as_bytes()));
    let output = child.wait_with_output().expect("oracle did not finish");
    writer.join().unwrap().expect("cannot feed the oracle");
    assert!(
        output.status.success(),
        "the BitBake oracle failed ({}); is BitBake's `bb` importable? \
         (pip install -r tests/oracle/requirements.txt)\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("oracle output is UTF-8");
    let mut lines = stdout.lines();
    let header: OracleHeader = serde_json::from_str(lines.next().expect("oracle header")).unwrap();
    let results: Vec<OracleFile> = lines.map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(results.len(), files.len(), "the oracle skipped files");
    (header, results)
}

/// A statement reduced to what both sides can say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Statement {
    Assignment {
        name: String,
        flag: Option<String>,
        op: String,
        value: String,
        exported: bool,
    },
    Other(String),
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Statement::Assignment {
                name,
                flag,
                op,
                value,
                exported,
            } => {
                let export = if *exported { "export " } else { "" };
                let flag = flag.as_ref().map(|f| format!("[{f}]")).unwrap_or_default();
                write!(f, "{export}{name}{flag} {op} {value:?}")
            }
            Statement::Other(kind) => f.write_str(kind),
        }
    }
}

/// What one side decided about one file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    accepted: bool,
    /// The line of the first error (1-based), if the side names one.
    line: Option<usize>,
    message: String,
    statements: Vec<Statement>,
}

impl Outcome {
    fn from_oracle(file: OracleFile) -> Outcome {
        let statements = file
            .statements
            .into_iter()
            .map(|s| match s.var {
                Some(name) => Statement::Assignment {
                    name,
                    flag: s.flag,
                    op: s.op.unwrap_or_default(),
                    value: s.value.unwrap_or_default(),
                    exported: s.exported,
                },
                None => Statement::Other(statement_kind_of_node(&s.kind).to_string()),
            })
            .collect();
        Outcome {
            accepted: file.accepted,
            line: file.line,
            message: file.message.unwrap_or_default(),
            statements,
        }
    }
}

/// The name of bitzel's statement kind for one of BitBake's AST node classes.
fn statement_kind_of_node(class: &str) -> &str {
    match class {
        "ExportNode" => "Export",
        "UnsetNode" | "UnsetFlagNode" => "Unset",
        "IncludeNode" | "IncludeAllNode" => "Include",
        "InheritNode" | "InheritDeferredNode" => "Inherit",
        "AddTaskNode" => "AddTask",
        "DelTaskNode" => "DelTask",
        "BBHandlerNode" => "AddHandler",
        "ExportFuncsNode" => "ExportFunctions",
        "PyLibNode" => "AddPylib",
        "MethodNode" => "Function",
        "PythonMethodNode" => "PythonDef",
        other => other,
    }
}

fn statement_of(statement: ast::Statement) -> Statement {
    #[allow(unreachable_patterns)]
    let kind = match statement {
        ast::Statement::Assignment(a) => {
            return Statement::Assignment {
                name: a.name().to_string(),
                flag: a.flag(),
                op: a.op().as_str().to_string(),
                value: a.value(),
                exported: a.exported(),
            }
        }
        ast::Statement::Export(_) => "Export",
        ast::Statement::Unset(_) => "Unset",
        ast::Statement::Include(_) => "Include",
        ast::Statement::Inherit(_) => "Inherit",
        ast::Statement::AddTask(_) => "AddTask",
        ast::Statement::DelTask(_) => "DelTask",
        ast::Statement::AddHandler(_) => "AddHandler",
        ast::Statement::ExportFunctions(_) => "ExportFunctions",
        ast::Statement::AddPylib(_) => "AddPylib",
        ast::Statement::Function(_) => "Function",
        ast::Statement::PythonDef(_) => "PythonDef",
        _ => "unknown statement kind",
    };
    Statement::Other(kind.to_string())
}

/// The 1-based line of byte `offset`, counting line ends as Python's universal-newline
/// reader does (BitBake reads files with it): `\r\n`, `\r` and `\n`.
fn python_line_of(text: &str, offset: usize) -> usize {
    let bytes = &text.as_bytes()[..offset.min(text.len())];
    let mut line = 1;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => line += 1,
            b'\r' => {
                line += 1;
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    line
}

/// bitzel's verdict on `path`; an error string if bitzel broke its own contract.
fn bitzel_outcome(path: &Path) -> Result<Outcome, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let kind = FileKind::from_path(path).ok_or("FileKind::from_path refuses it")?;
    let Ok(text) = String::from_utf8(bytes) else {
        return Ok(Outcome {
            accepted: false,
            line: None,
            message: "not UTF-8".to_string(),
            statements: Vec::new(),
        });
    };
    let parse = parse(&text, kind);
    let round_trip = parse.syntax().to_string();
    if round_trip != text {
        return Err(format!(
            "the tree does not give the text back: {round_trip:?}"
        ));
    }
    for error in parse.errors() {
        if error.range.start > error.range.end || error.range.end > text.len() {
            return Err(format!("error range {:?} out of bounds", error.range));
        }
    }
    if let Some(error) = parse
        .errors()
        .iter()
        .find(|e| e.severity == Severity::Error)
    {
        return Ok(Outcome {
            accepted: false,
            line: Some(python_line_of(&text, error.range.start)),
            message: error.message.clone(),
            statements: Vec::new(),
        });
    }
    Ok(Outcome {
        accepted: true,
        line: None,
        message: String::new(),
        statements: parse.tree().statements().map(statement_of).collect(),
    })
}

/// Why bitzel's outcome differs from BitBake's, or `None` if they agree.
fn disagreement(bitbake: &Outcome, bitzel: &Outcome) -> Option<String> {
    let verdict = |o: &Outcome| match (o.accepted, o.line) {
        (true, _) => "accepted".to_string(),
        (false, Some(line)) => format!("rejected at line {line}: {}", o.message),
        (false, None) => format!("rejected: {}", o.message),
    };
    if bitbake.accepted != bitzel.accepted
        || (!bitbake.accepted && bitbake.line.is_some() && bitbake.line != bitzel.line)
    {
        return Some(format!(
            "BitBake: {}\n    bitzel:  {}",
            verdict(bitbake),
            verdict(bitzel)
        ));
    }
    if bitbake.accepted && bitbake.statements != bitzel.statements {
        let at = bitbake
            .statements
            .iter()
            .zip(&bitzel.statements)
            .position(|(a, b)| a != b)
            .unwrap_or(bitbake.statements.len().min(bitzel.statements.len()));
        let show = |s: Option<&Statement>| s.map_or("(none)".to_string(), |s| s.to_string());
        return Some(format!(
            "statement {} differs ({} in BitBake, {} in bitzel)\n    BitBake: {}\n    bitzel:  {}",
            at + 1,
            bitbake.statements.len(),
            bitzel.statements.len(),
            show(bitbake.statements.get(at)),
            show(bitzel.statements.get(at))
        ));
    }
    None
}

/// Files compared and the disagreements found.
struct Comparison {
    bitbake_version: String,
    compared: usize,
    accepted: usize,
    /// Statements of accepted files that were compared one by one.
    statements: usize,
    /// The files compared.
    files: Vec<PathBuf>,
    /// Each file bitzel disagrees on, with why.
    failures: Vec<(PathBuf, String)>,
}

impl Comparison {
    /// Panics if bitzel disagrees on a file not in `known`, or agrees on one that is
    /// (the entry is stale: remove it).
    fn assert_agreement(&self, what: &str, known: &BTreeMap<PathBuf, String>) {
        let (expected, unexpected): (Vec<_>, Vec<_>) = self
            .failures
            .iter()
            .partition(|(path, _)| known.contains_key(path));
        eprintln!(
            "{what}: BitBake {} accepted {} of {} files ({} statements); bitzel disagrees on {} \
             ({} known deviations)",
            self.bitbake_version,
            self.accepted,
            self.compared,
            self.statements,
            self.failures.len(),
            expected.len()
        );
        for (path, _) in &expected {
            eprintln!("  known deviation: {}: {}", path.display(), known[path]);
        }
        let stale: Vec<String> = known
            .keys()
            .filter(|path| self.files.contains(path))
            .filter(|path| !self.failures.iter().any(|(failed, _)| failed == *path))
            .map(|path| path.display().to_string())
            .collect();
        assert!(
            stale.is_empty(),
            "{what}: bitzel now agrees with BitBake on files listed in \
             tests/data/conformance/known-deviations.txt; remove them: {stale:?}"
        );
        if !unexpected.is_empty() {
            let shown: Vec<&str> = unexpected
                .iter()
                .take(40)
                .map(|(_, why)| why.as_str())
                .collect();
            panic!(
                "{what}: bitzel disagrees with BitBake {} on {} of {} files:\n\n{}{}",
                self.bitbake_version,
                unexpected.len(),
                self.compared,
                shown.join("\n\n"),
                if unexpected.len() > shown.len() {
                    "\n\n..."
                } else {
                    ""
                }
            );
        }
    }
}

/// Runs both parsers on `files` and collects where they disagree.
fn compare(bitbake: &BitBake, files: &[PathBuf], show_text: bool) -> Comparison {
    let (header, results) = run_oracle(bitbake, files);
    let mut comparison = Comparison {
        bitbake_version: format!("{} ({})", header.bitbake, header.bb),
        compared: files.len(),
        accepted: results.iter().filter(|r| r.accepted).count(),
        statements: results.iter().map(|r| r.statements.len()).sum(),
        files: files.to_vec(),
        failures: Vec::new(),
    };
    for (path, result) in files.iter().zip(results) {
        assert_eq!(&result.path, path, "the oracle answered out of order");
        let mut expected = Outcome::from_oracle(result);
        let problem = match bitzel_outcome(path) {
            Err(broken) => Some(broken),
            Ok(mut actual) => {
                if let Ok(text) = std::fs::read_to_string(path) {
                    let last = python_line_of(&text, text.len());
                    for outcome in [&mut expected, &mut actual] {
                        outcome.line = outcome.line.map(|line| line.min(last));
                    }
                }
                disagreement(&expected, &actual)
            }
        };
        if let Some(problem) = problem {
            let text = if show_text {
                let bytes = std::fs::read(path).unwrap_or_default();
                format!("\n    text: {:?}", String::from_utf8_lossy(&bytes))
            } else {
                String::new()
            };
            let why = format!("{}:\n    {problem}{text}", path.display());
            comparison.failures.push((path.clone(), why));
        }
    }
    comparison
}

/// The files BitBake would parse under `dir`, sorted.
fn bitbake_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.expect("cannot walk the corpus").into_path())
        .filter(|p| p.is_file() && FileKind::from_path(p).is_some())
        .collect();
    files.sort();
    files
}

/// The conformance fixtures and, once they exist, the parser's golden inputs.
fn corpus() -> Vec<PathBuf> {
    let mut files = bitbake_files(&fixtures_dir());
    assert!(files.len() > 100, "the conformance corpus is missing");
    let parse_goldens = manifest_dir().join("tests/data/parse");
    if parse_goldens.is_dir() {
        files.extend(bitbake_files(&parse_goldens));
    }
    files
}

/// Fixtures whose verdict differs between BitBake 2.19 and scarthgap's 2.8.
fn scarthgap_only() -> BTreeSet<PathBuf> {
    let list = std::fs::read_to_string(fixtures_dir().join("scarthgap-only.txt"))
        .expect("tests/data/conformance/scarthgap-only.txt");
    list.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| manifest_dir().join("tests/data").join(l))
        .collect()
}

/// Files on which bitzel knowingly differs from scarthgap's BitBake, with the reason
/// (tests/data/conformance/known-deviations.txt: `path  # reason`, paths under tests/data).
fn known_deviations() -> BTreeMap<PathBuf, String> {
    let list = std::fs::read_to_string(fixtures_dir().join("known-deviations.txt"))
        .expect("tests/data/conformance/known-deviations.txt");
    list.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (path, reason) = l.split_once(" #").unwrap_or((l, ""));
            let path = manifest_dir().join("tests/data").join(path.trim());
            (path, reason.trim().to_string())
        })
        .collect()
}

fn oracle_version(bitbake: &BitBake) -> String {
    run_oracle(bitbake, &[]).0.bitbake
}

#[test]
fn fixtures_agree_with_bitbake() {
    let bitbake = BitBake::under_test();
    let mut files = corpus();
    if !oracle_version(&bitbake).starts_with(SCARTHGAP_VERSION) {
        let skip = scarthgap_only();
        files.retain(|f| !skip.contains(f));
    }
    compare(&bitbake, &files, true).assert_agreement("fixtures", &known_deviations());
}

/// scarthgap-only.txt must list exactly the fixtures on which the two BitBakes disagree.
/// Needs BITZEL_POKY and the installed `bb`.
#[test]
fn scarthgap_only_list_is_what_the_bitbakes_disagree_on() {
    let Some(poky) = std::env::var_os("BITZEL_POKY").filter(|p| !p.is_empty()) else {
        eprintln!("skipped: BITZEL_POKY is not set");
        return;
    };
    let files = corpus();
    let (old, old_results) = run_oracle(
        &BitBake::Poky(PathBuf::from(poky).join("bitbake/lib")),
        &files,
    );
    let (new, new_results) = run_oracle(&BitBake::Installed, &files);
    assert!(
        old.bitbake.starts_with(SCARTHGAP_VERSION),
        "BITZEL_POKY is not scarthgap"
    );
    assert!(
        !new.bitbake.starts_with(SCARTHGAP_VERSION),
        "the installed bb is scarthgap's"
    );
    let differing: BTreeSet<PathBuf> = files
        .iter()
        .zip(old_results.into_iter().zip(new_results))
        .filter(|(_, (a, b))| {
            let (a, b) = (
                Outcome::from_oracle(a.clone()),
                Outcome::from_oracle(b.clone()),
            );
            (a.accepted, a.line, a.statements) != (b.accepted, b.line, b.statements)
        })
        .map(|(f, _)| f.clone())
        .collect();
    assert_eq!(
        differing,
        scarthgap_only(),
        "tests/data/conformance/scarthgap-only.txt is out of date (BitBake {} vs {})",
        old.bitbake,
        new.bitbake
    );
}

/// Every file of Poky's own layers: BitBake and bitzel agree. Needs BITZEL_POKY.
#[test]
fn poky_layers_agree_with_bitbake() {
    let Some(poky) = std::env::var_os("BITZEL_POKY").filter(|p| !p.is_empty()) else {
        eprintln!("skipped: BITZEL_POKY is not set");
        return;
    };
    let poky = PathBuf::from(poky);
    let mut files = Vec::new();
    for layer in ["meta", "meta-poky", "meta-yocto-bsp", "meta-skeleton"] {
        files.extend(bitbake_files(&poky.join(layer)));
    }
    assert!(
        files.len() > 1000,
        "{} does not look like Poky",
        poky.display()
    );
    let bitbake = BitBake::Poky(poky.join("bitbake/lib"));
    let (_, results) = run_oracle(&bitbake, &files);
    // Sanity of the oracle: BitBake parses all of Poky's recipes and classes. (Rejected
    // .conf files are configuration files of packages that live beside recipes; they are
    // compared too.)
    for (path, result) in files.iter().zip(&results) {
        if path.extension().is_none_or(|e| e != "conf") {
            assert!(
                result.accepted,
                "BitBake rejects {}: {:?}",
                path.display(),
                result.message
            );
        }
    }
    compare(&bitbake, &files, false).assert_agreement("poky", &BTreeMap::new());
}

/// A small deterministic generator (SplitMix64), so that a failing case can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

// The vocabulary of generated lines. It leaves out what BitBake 2.19 parses differently
// from scarthgap (flags with `/`, `export` or `addtask` as variable names, `addtask` or
// `deltask` followed by something other than a word), so that CI's 2.19 can be the oracle.
const NAMES: &[&str] = &[
    "A",
    "FOO",
    "B_1",
    "a/b~c.d+e-f",
    "${PN}",
    "do_install",
    "X:append",
    "RDEPENDS:${PN}",
    "do_x:prepend:class-native",
    "python",
    "def",
    "include",
    "inherit_x",
    "fakeroot",
    "É",
    "A+",
    "B.",
    "C:",
    "x-y",
    "do_${PN}",
    "EXPORT_FUNCTIONS",
    "unset",
    "require",
];
const FLAGS: &[&str] = &[
    "doc",
    "f",
    "depends",
    "flag@.service",
    "a.b-c+d_e",
    "@f",
    "",
    "x y",
];
const OPS: &[&str] = &[
    "=", ":=", "??=", "?=", "+=", "=+", ".=", "=.", "?", "==", "= =", "::=",
];
const VALUES: &[&str] = &[
    "",
    "x",
    "a b",
    "${@d.getVar('A')}",
    "${@'{%s}' % x}",
    "it's",
    "say \"hi\"",
    "a\\nb",
    "a\\\"b",
    "# not a comment",
    "{ }",
    "é ✓ 日本",
    "\\",
    "a'b'c",
    "a\"b\"c",
    "\t",
];
const SPACES: &[&str] = &[
    "", " ", "  ", "\t", " \t ", "\u{a0}", "\u{3000}", "\u{1c}", "\u{c}",
];
const KEYWORD_LINES: &[&str] = &[
    "inherit foo",
    "inherit ${X} bar",
    "inherit_defer foo",
    "inherit",
    "include a.inc",
    "require b.inc c.inc",
    "include",
    "include ${X}",
    "export A",
    "export A B",
    "export ${X}",
    "unset A",
    "unset A[ab]",
    "unset A[f]",
    "unset A B",
    "addtask do_x",
    "addtask do_x after do_y before do_z",
    "addtask x before y after z",
    "addtask do_a do_b",
    "addtask do_x # c",
    "addtask do_foo:append_x",
    "deltask do_x",
    "deltask do_x do_y",
    "addhandler foo",
    "addhandler",
    "EXPORT_FUNCTIONS do_compile",
    "EXPORT_FUNCTIONS",
    "addpylib ${LAYERDIR}/lib oe",
    "addpylib x",
    "python",
    "def",
    "fakeroot",
];
const FUNCTION_HEADS: &[&str] = &[
    "do_x",
    "do_x ",
    "python do_y",
    "python ",
    "python",
    "fakeroot do_z",
    "fakeroot python do_w",
    "my-func.v1+x:append",
    "do_${PN}",
    "export do_x",
    "do x",
    "f\u{93e}", // a combining mark: not \w for BitBake
    "do_\u{2160}",
];
const BODY_LINES: &[&str] = &[
    "    echo",
    "\techo \"}\"",
    "  }",
    "} # c",
    "}\t",
    "} ",
    "# don't",
    "    x = 1",
    "    return 1 + \\",
    "",
    "    ",
    "  if x; then",
    "{",
    "A = \"in body\"",
];
const JUNK: &[&str] = &[
    "\"", "'", "{", "}", "(", ")", "[", "]", "\\", "#", "=", "?", "+", ".", ":", "$", "@", " ",
    "\t", "A", "x", "é", "\u{2028}", "\u{85}", "def", "python", "export", "inherit",
];
const LINE_ENDS: &[&str] = &["\n", "\n", "\n", "\n", "\n", "\n", "\r\n", "\r"];

fn assignment_line(rng: &mut Rng) -> String {
    let mut line = String::new();
    if rng.chance(15) {
        line.push_str(rng.pick(&["export ", "export\t", "export  "]));
    }
    line.push_str(rng.pick(NAMES));
    if rng.chance(20) {
        line.push_str(&format!("[{}]", rng.pick(FLAGS)));
    }
    line.push_str(rng.pick(SPACES));
    line.push_str(rng.pick(OPS));
    line.push_str(rng.pick(SPACES));
    let quote = rng.pick(&["\"", "\"", "'", ""]);
    line.push_str(quote);
    line.push_str(rng.pick(VALUES));
    if rng.chance(10) {
        line.push_str(rng.pick(VALUES));
    }
    line.push_str(rng.pick(&[quote, quote, quote, "", "\"", "'"]));
    if rng.chance(10) {
        line.push_str(rng.pick(&[" # c", "  ", "\t", "x", "\u{a0}"]));
    }
    line
}

fn generated_line(rng: &mut Rng) -> String {
    let indent = if rng.chance(5) { rng.pick(SPACES) } else { "" };
    let body = match rng.below(100) {
        0..=34 => assignment_line(rng),
        35..=49 => rng.pick(KEYWORD_LINES).to_string(),
        50..=59 => format!(
            "{}{}(){}{}",
            rng.pick(FUNCTION_HEADS),
            rng.pick(&["", " ", "\t"]),
            rng.pick(&[" {", "{", " { ", " { # c", " { echo; }", ""]),
            rng.pick(&["", "", " "])
        ),
        60..=64 => format!(
            "def f{}(d){}",
            rng.below(3),
            rng.pick(&[":", ": return 1", "", " -> str:"])
        ),
        65..=79 => rng.pick(BODY_LINES).to_string(),
        80..=87 => format!("#{}", rng.pick(&[" comment", "", " a \\", " it's"])),
        88..=91 => rng.pick(SPACES).to_string(),
        _ => (0..1 + rng.below(8)).map(|_| rng.pick(JUNK)).collect(),
    };
    let continued = if rng.chance(8) {
        rng.pick(&["\\", " \\", "\\  "])
    } else {
        ""
    };
    format!("{indent}{body}{continued}")
}

const GOOD_NAMES: &[&str] = &[
    "A",
    "FOO",
    "B_1",
    "a/b~c.d+e-f",
    "${PN}",
    "do_install",
    "X:append",
    "RDEPENDS:${PN}",
    "SRC_URI[sha256sum]",
    "FILES:${PN}-dev",
    "do_compile[depends]",
    "PACKAGECONFIG[x]",
];
const GOOD_OPS: &[&str] = &["=", ":=", "??=", "?=", "+=", "=+", ".=", "=."];
const GOOD_VALUES: &[&str] = &[
    "",
    "x",
    "a b",
    "${@d.getVar('A')}",
    "${@bb.utils.contains('A', 'b', 'c', '', d)}",
    "file://a.patch;striplevel=2",
    "# not a comment",
    "{ } ( )",
    "é ✓ 日本",
    "a\\nb",
    " y",
];
const GOOD_LINES: &[&str] = &[
    "inherit autotools pkgconfig",
    "inherit_defer ${CLASS}",
    "include a.inc",
    "require b.inc",
    "export CC",
    "unset A",
    "unset A[doc]",
    "addtask do_x after do_compile before do_install",
    "deltask do_x",
    "addhandler my_handler",
    "EXPORT_FUNCTIONS do_compile",
    "# comment",
    "",
];

/// A statement BitBake's BBHandler accepts (a few lines for functions and continuations).
fn well_formed(rng: &mut Rng) -> Vec<String> {
    match rng.below(10) {
        0..=4 => {
            let export = if rng.chance(10) { "export " } else { "" };
            let quote = rng.pick(&["\"", "\"", "'"]);
            let (name, op) = (rng.pick(GOOD_NAMES), rng.pick(GOOD_OPS));
            let mut value = rng.pick(GOOD_VALUES).to_string();
            if quote == "'" {
                value = value.replace('\'', "");
            }
            let space = rng.pick(&[" ", " ", "", "\t"]);
            if rng.chance(25) {
                let more = rng.pick(GOOD_VALUES).replace('\'', "");
                vec![
                    format!("{export}{name}{space}{op}{space}{quote}{value} \\"),
                    format!("    {more}{quote}"),
                ]
            } else {
                vec![format!(
                    "{export}{name}{space}{op}{space}{quote}{value}{quote}"
                )]
            }
        }
        5..=6 => vec![rng.pick(GOOD_LINES).to_string()],
        7..=8 => {
            let head = rng.pick(&["do_x", "python do_y", "python", "fakeroot do_z", "do_${PN}"]);
            let mut lines = vec![format!("{head}{}() {{", rng.pick(&["", " "]))];
            for _ in 0..rng.below(4) {
                lines.push(rng.pick(BODY_LINES).to_string());
            }
            lines.push("}".to_string());
            lines
        }
        _ => {
            let mut lines = vec![format!("def f{}(d):", rng.below(3))];
            for _ in 0..1 + rng.below(3) {
                lines.push(
                    rng.pick(&["    return 1", "    x = '}'", "", "# c", "\tpass"])
                        .to_string(),
                );
            }
            lines
        }
    }
}

/// Random BitBake-ish files: BitBake and bitzel must agree on every one.
/// BITZEL_FUZZ_SEED and BITZEL_FUZZ_CASES change the run (default: seed 1, 3000 files).
#[test]
fn random_files_agree_with_bitbake() {
    let seed: u64 = std::env::var("BITZEL_FUZZ_SEED").map_or(1, |s| s.parse().expect("seed"));
    let cases: usize =
        std::env::var("BITZEL_FUZZ_CASES").map_or(3000, |s| s.parse().expect("count"));
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("conformance-fuzz-{seed}"));
    let _ = std::fs::remove_dir_all(&dir);
    let mut rng = Rng(seed);
    let mut files = Vec::with_capacity(cases);
    for case in 0..cases {
        let name = match rng.below(10) {
            0..=4 => format!("case{case:05}.bb"),
            5 => format!("case{case:05}.bbclass"),
            6 => format!("case{case:05}.inc"),
            7..=8 => format!("case{case:05}.conf"),
            _ => format!("case{case:05}/layer.conf"),
        };
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let line_end = rng.pick(LINE_ENDS);
        // From well-formed files with a rare odd line to line soup.
        let chaos = rng.pick(&["0", "3", "10", "30", "100"]).parse().unwrap();
        let mut lines = Vec::new();
        for _ in 0..1 + rng.below(6) {
            if rng.chance(chaos) {
                lines.push(generated_line(&mut rng));
            } else {
                lines.extend(well_formed(&mut rng));
            }
        }
        let mut text = String::new();
        for line in lines {
            text.push_str(&line);
            text.push_str(if rng.chance(3) {
                rng.pick(LINE_ENDS)
            } else {
                line_end
            });
        }
        if rng.chance(10) {
            text.pop();
        }
        std::fs::write(&path, text).unwrap();
        files.push(path);
    }
    let what = format!("random files (seed {seed}, files in {})", dir.display());
    compare(&BitBake::under_test(), &files, true).assert_agreement(&what, &BTreeMap::new());
}

/// `bitzel check` names the line BitBake names: the first `path:line:col: error:` of each
/// fixture BitBake rejects is on BitBake's line (lines past the end count as the last).
#[test]
fn check_reports_the_line_bitbake_reports() {
    let files = corpus();
    let (header, results) = run_oracle(&BitBake::under_test(), &files);
    let skip = if header.bitbake.starts_with(SCARTHGAP_VERSION) {
        BTreeSet::new()
    } else {
        scarthgap_only()
    };
    let rejected: Vec<(&PathBuf, usize)> = files
        .iter()
        .zip(&results)
        .filter(|(path, r)| !r.accepted && !skip.contains(*path))
        .filter_map(|(path, r)| Some((path, r.line?)))
        .collect();
    assert!(rejected.len() > 50, "too few rejected fixtures");
    let output = Command::new(env!("CARGO_BIN_EXE_bitzel"))
        .arg("check")
        .args(rejected.iter().map(|(path, _)| path))
        .output()
        .expect("bitzel runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let known = known_deviations();
    let mut failures = Vec::new();
    for (path, bitbake_line) in &rejected {
        if known.contains_key(*path) {
            continue;
        }
        let prefix = format!("{}:", path.display());
        let first_error = stdout.lines().find_map(|line| {
            let rest = line.strip_prefix(&prefix)?;
            let (position, message) = rest.split_once(": error: ")?;
            let line: usize = position.split(':').next()?.parse().ok()?;
            Some((line, message.to_string()))
        });
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let last = python_line_of(&text, text.len());
        match first_error {
            None => failures.push(format!("{}: no error reported", path.display())),
            Some((line, message)) if line.min(last) != (*bitbake_line).min(last) => {
                failures.push(format!(
                    "{}: bitzel check says line {line} ({message}), BitBake line {bitbake_line}",
                    path.display()
                ))
            }
            Some(_) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "bitzel check disagrees with BitBake {} on {} of {} rejected files:\n{}",
        header.bitbake,
        failures.len(),
        rejected.len(),
        failures.join("\n")
    );
}
