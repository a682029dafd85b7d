//! Prints the statements bitzel's parser finds in BitBake files, one a line, in the
//! format of tests/bitbake_statements.py (which prints what BitBake's own parser finds),
//! so that the two can be diffed: `cargo run --release --example dump_statements FILES`.

use bitzel::syntax::ast::{AstNode, IncludeKind, Statement};
use bitzel::syntax::{parse, FileKind};
use std::path::Path;

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A list as Python prints a list of strings without quotes in them: `["a", "b"]`.
fn list<'a>(words: impl Iterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = words.map(|w| format!("\"{}\"", esc(w))).collect();
    format!("[{}]", quoted.join(", "))
}

fn main() {
    for arg in std::env::args().skip(1) {
        let path = Path::new(&arg);
        let Some(kind) = FileKind::from_path(path) else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let parse = parse(&text, kind);
        println!("FILE {arg}");
        if let Some(e) = parse
            .errors()
            .iter()
            .find(|e| e.severity == bitzel::diagnostic::Severity::Error)
        {
            // Line ends as Python's universal newlines see them: \n, \r\n, lone \r.
            let before = &text[..e.range.start];
            let line = before.matches('\n').count() + before.matches('\r').count()
                - before.matches("\r\n").count()
                + 1;
            println!("ERROR {line}");
            continue;
        }
        for st in parse.tree().statements() {
            let line = match &st {
                Statement::Assignment(a) => format!(
                    "Data {} exp={} var={} flag={} op={} apo={} value={}",
                    a.end_line(),
                    a.exported(),
                    esc(&a.name()),
                    a.flag().map(|f| esc(&f)).unwrap_or("-".into()),
                    a.op().as_str(),
                    a.quote(),
                    esc(&a.value())
                ),
                Statement::Export(e) => format!("Export {} {}", e.end_line(), esc(&e.name())),
                Statement::Unset(u) => match u.flag() {
                    Some(f) => format!("UnsetFlag {} {} {}", u.end_line(), esc(&u.name()), esc(&f)),
                    None => format!("Unset {} {}", u.end_line(), esc(&u.name())),
                },
                Statement::Include(i) => format!(
                    "Include {} force={} {}",
                    i.end_line(),
                    i.kind() == IncludeKind::Require,
                    esc(&i.files())
                ),
                Statement::Inherit(i) => format!(
                    "{} {} {}",
                    if i.deferred() {
                        "InheritDeferred"
                    } else {
                        "Inherit"
                    },
                    i.end_line(),
                    esc(&i.classes())
                ),
                Statement::AddTask(t) => format!(
                    "AddTask {} {} before={} after={}",
                    t.end_line(),
                    esc(&t.task()),
                    list(t.before().iter().map(String::as_str)),
                    list(t.after().iter().map(String::as_str))
                ),
                Statement::DelTask(t) => format!("DelTask {} {}", t.end_line(), esc(&t.tasks())),
                Statement::AddHandler(h) => format!(
                    "Handler {} {}",
                    h.end_line(),
                    list(
                        h.handlers()
                            .split(bitzel::syntax::lexer::is_py_space)
                            .filter(|w| !w.is_empty())
                    )
                ),
                Statement::ExportFunctions(f) => format!(
                    "ExportFuncs {} {}",
                    f.end_line(),
                    list(
                        f.functions()
                            .split(bitzel::syntax::lexer::is_py_space)
                            .filter(|w| !w.is_empty())
                    )
                ),
                Statement::AddPylib(p) => {
                    format!(
                        "PyLib {} {} {}",
                        p.end_line(),
                        esc(&p.dir()),
                        esc(&p.namespace())
                    )
                }
                Statement::Function(f) => format!(
                    "Method {} python={} fakeroot={} body={}",
                    f.name().unwrap_or("__anonymous".into()),
                    f.is_python(),
                    f.is_fakeroot(),
                    esc(&f.body())
                ),
                Statement::PythonDef(d) => format!("PyMethod {} body={}", d.name(), esc(&d.text())),
            };
            println!("{line}");
        }
    }
}
