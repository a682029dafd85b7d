//! Properties of the parser on any input: it never panics, the tree's text is the input,
//! and every diagnostic's range lies inside the text on character boundaries.

use bitzel::syntax::{parse, FileKind};
use proptest::prelude::*;

const KINDS: [FileKind; 3] = [FileKind::Recipe, FileKind::Config, FileKind::BaseConfig];

fn check(text: &str) {
    for kind in KINDS {
        let p = parse(text, kind);
        assert_eq!(p.syntax().to_string(), text, "{kind:?}");
        for e in p.errors() {
            assert!(
                e.range.start <= e.range.end && e.range.end <= text.len(),
                "{e:?}"
            );
            assert!(text.is_char_boundary(e.range.start) && text.is_char_boundary(e.range.end));
        }
        // The AST accessors never panic either.
        for st in p.tree().statements() {
            use bitzel::syntax::ast::Statement::*;
            match st {
                Assignment(a) => {
                    let _ = (
                        a.name(),
                        a.flag(),
                        a.op(),
                        a.quote(),
                        a.value(),
                        a.exported(),
                    );
                    if let Some(v) = a.value_node() {
                        for r in v.var_refs() {
                            let _ = r.name();
                        }
                    }
                }
                Export(e) => drop(e.name()),
                Unset(u) => drop((u.name(), u.flag())),
                Include(i) => drop((i.kind(), i.files())),
                Inherit(i) => drop((i.deferred(), i.classes())),
                AddTask(t) => drop((t.task(), t.before(), t.after())),
                DelTask(t) => drop(t.tasks()),
                AddHandler(h) => drop(h.handlers()),
                ExportFunctions(f) => drop(f.functions()),
                AddPylib(p) => drop((p.dir(), p.namespace())),
                Function(f) => drop((f.name(), f.is_python(), f.is_fakeroot(), f.body())),
                PythonDef(d) => drop((d.name(), d.text())),
            }
        }
    }
}

/// Pieces BitBake files are made of, to build line soup from.
fn fragment() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "A",
        "FOO:append",
        "B[doc]",
        " ",
        "\t",
        "=",
        "?=",
        "??=",
        ":=",
        "+=",
        "=+",
        ".=",
        "=.",
        "\"",
        "'",
        "x",
        "${A}",
        "${@",
        "{",
        "}",
        "(",
        ")",
        "\\",
        "#",
        "# c",
        "\n",
        "\r\n",
        "\r",
        "export ",
        "unset ",
        "include ",
        "require ",
        "include_all ",
        "inherit ",
        "inherit_defer ",
        "addtask ",
        " before ",
        " after ",
        "deltask ",
        "addhandler ",
        "EXPORT_FUNCTIONS ",
        "addpylib ",
        "python ",
        "fakeroot ",
        "do_x",
        "() {",
        "}\n",
        "def f(d):",
        "    ",
        "\u{a0}",
        "\u{3000}",
        "é",
        "\0",
        "[",
        "]",
        "@",
        ":append_x",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_round_trips(text in any::<String>()) {
        check(&text);
    }

    #[test]
    fn line_soup_round_trips(parts in prop::collection::vec(fragment(), 0..60)) {
        check(&parts.concat());
    }
}
