//! The typed AST's accessors give what BitBake's regex groups and ast nodes hold.

use bitzel::syntax::ast::{
    AddPylib, AddTask, Assignment, AstNode, Expansion, Function, IncludeKind, PythonDef, Statement,
};
use bitzel::syntax::{parse, AssignOp, FileKind};

fn statements(text: &str, kind: FileKind) -> Vec<Statement> {
    let p = parse(text, kind);
    p.tree().statements().collect()
}

fn recipe(text: &str) -> Vec<Statement> {
    statements(text, FileKind::Recipe)
}

fn assignment(text: &str, kind: FileKind) -> Assignment {
    match statements(text, kind).into_iter().next() {
        Some(Statement::Assignment(a)) => a,
        other => panic!("not an assignment: {other:?}"),
    }
}

fn function(text: &str) -> Function {
    match recipe(text).into_iter().next() {
        Some(Statement::Function(f)) => f,
        other => panic!("not a function: {other:?}"),
    }
}

fn addtask(line: &str) -> AddTask {
    match recipe(line).into_iter().next() {
        Some(Statement::AddTask(t)) => t,
        other => panic!("not addtask: {other:?}"),
    }
}

#[test]
fn recipe_value_joins_rstripped_lines_without_their_backslash() {
    let a = assignment("A = \"one \\  \n   two \\\n three\"\n", FileKind::Recipe);
    assert_eq!(a.value(), "one    two  three");
    assert_eq!(a.end_line(), 3);
    assert_eq!(a.start_line(), 1);
}

#[test]
fn conf_value_joins_continued_lines() {
    let a = assignment("A = \"a \\\n  b\"\n", FileKind::Config);
    assert_eq!(a.value(), "a   b");
}

#[test]
fn conf_double_backslash_joins_through_a_blank_line() {
    // ConfHandler strips one `\` per line read and goes on while the line still ends in one.
    let a = assignment("A = \"x\\\\\n\nB\"\n", FileKind::Config);
    assert_eq!(a.value(), "xB");
}

#[test]
fn value_keeps_backslash_n_literal() {
    let a = assignment("A = \"a\\nb\"\n", FileKind::Config);
    assert_eq!(a.value(), "a\\nb");
    assert_eq!(a.quote(), '"');
}

#[test]
fn assignment_name_keeps_overrides_and_flag_is_separate() {
    let a = assignment("FOO:append:class-native = \" x\"\n", FileKind::Config);
    assert_eq!(a.name(), "FOO:append:class-native");
    assert_eq!(a.flag(), None);
    assert_eq!(a.value(), " x");
    let a = assignment("do_fetch[depends] ??= 'y'\n", FileKind::Config);
    assert_eq!(
        (a.name(), a.flag()),
        ("do_fetch".into(), Some("depends".into()))
    );
    assert_eq!(a.op(), AssignOp::WeakDefault);
    assert_eq!(a.quote(), '\'');
}

#[test]
fn plus_equals_without_spaces_appends_to_the_short_name() {
    let a = assignment("A+=\"a\"\n", FileKind::Config);
    assert_eq!((a.name(), a.op()), ("A".into(), AssignOp::Append));
}

#[test]
fn export_prefix_marks_the_assignment_exported() {
    let a = assignment("export PATH = \"/bin\"\n", FileKind::Config);
    assert!(a.exported());
    assert_eq!(a.name(), "PATH");
    assert!(!assignment("PATH = \"/bin\"\n", FileKind::Config).exported());
}

#[test]
fn addtask_before_and_after_are_whitespace_separated_words() {
    let t = addtask("addtask do_deploy after do_compile do_install before do_build\n");
    assert_eq!(t.task(), "do_deploy");
    assert_eq!(t.after(), vec!["do_compile", "do_install"]);
    assert_eq!(t.before(), vec!["do_build"]);
}

#[test]
fn addtask_after_names_get_no_do_prefix() {
    let t = addtask("addtask foo after bar\n");
    assert_eq!(
        (t.task(), t.after()),
        ("foo".into(), vec!["bar".to_string()])
    );
    assert!(t.before().is_empty());
}

#[test]
fn addtask_last_repeated_clause_wins() {
    let t = addtask("addtask x before a after b before c\n");
    assert_eq!(t.before(), vec!["c"]);
    assert_eq!(t.after(), vec!["b"]);
}

#[test]
fn addtask_before_stops_at_after_inside_a_word() {
    let t = addtask("addtask f before do_after_x\n");
    assert_eq!(t.before(), vec!["do_"]);
    assert_eq!(t.after(), vec!["_x"]);
}

#[test]
fn anonymous_python_functions_have_no_name_and_are_python() {
    for text in [
        "python () {\n    pass\n}\n",
        "python __anonymous () {\n    pass\n}\n",
        "() {\n}\n",
    ] {
        let f = function(text);
        assert_eq!(f.name(), None, "{text}");
        assert!(f.is_python(), "{text}");
    }
}

#[test]
fn function_flags_come_from_its_keywords() {
    let f = function("fakeroot python do_x() {\n    pass\n}\n");
    assert_eq!(f.name().as_deref(), Some("do_x"));
    assert!(f.is_python() && f.is_fakeroot());
    let f = function("do_install:append() {\n    :\n}\n");
    assert_eq!(f.name().as_deref(), Some("do_install:append"));
    assert!(!f.is_python() && !f.is_fakeroot());
}

#[test]
fn function_body_is_its_rstripped_lines_each_ending_in_newline() {
    let f = function("do_x() {\n    echo a   \n\n    b \\\n}\n");
    assert_eq!(f.body(), "    echo a\n\n    b \\\n");
    assert_eq!(function("do_x() {\n}\n").body(), "");
    assert_eq!(f.start_line(), 1);
    assert_eq!(f.end_line(), 5);
}

#[test]
fn function_body_ends_only_at_a_bare_brace() {
    let f = function("do_x() {\n  }\n} # no\n}\nA = \"a\"\n");
    assert_eq!(f.body(), "  }\n} # no\n");
}

#[test]
fn python_def_ends_at_the_first_unindented_line() {
    let st = recipe("def f(d):\n    return 1\n\n# c\nA = \"a\"\n");
    let Statement::PythonDef(d) = &st[0] else {
        panic!("{st:?}")
    };
    assert_eq!(d.name(), "f");
    assert_eq!(d.text(), "def f(d):\n    return 1\n\n# c");
    assert!(matches!(&st[1], Statement::Assignment(a) if a.name() == "A"));
}

#[test]
fn python_def_header_may_be_continued() {
    let st = recipe("def g(a, \\\n      b):\n    pass\n");
    let Statement::PythonDef(d) = &st[0] else {
        panic!("{st:?}")
    };
    assert_eq!(d.text(), "def g(a,       b):\n    pass");
    let _: &PythonDef = d;
}

#[test]
fn crlf_line_ends_read_as_newlines() {
    let f = function("do_x() {\r\n    a\r\n}\r\n");
    assert_eq!(f.body(), "    a\n");
    let a = assignment("A = \"x \\\r\n y\"\r\n", FileKind::Config);
    assert_eq!(a.value(), "x  y");
}

#[test]
fn include_statements_keep_their_raw_argument() {
    let st = statements(
        "include a.inc ${B}.inc\nrequire x.inc\ninclude_all y.inc\n",
        FileKind::Config,
    );
    let got: Vec<_> = st
        .iter()
        .map(|s| match s {
            Statement::Include(i) => (i.kind(), i.files()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (IncludeKind::Include, "a.inc ${B}.inc".to_string()),
            (IncludeKind::Require, "x.inc".to_string()),
            (IncludeKind::IncludeAll, "y.inc".to_string()),
        ]
    );
}

#[test]
fn inherit_and_inherit_defer_are_one_statement_kind() {
    let st = recipe("inherit a b\ninherit_defer ${C}\n");
    let got: Vec<_> = st
        .iter()
        .map(|s| match s {
            Statement::Inherit(i) => (i.deferred(), i.classes()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(got, vec![(false, "a b".into()), (true, "${C}".into())]);
}

#[test]
fn keyword_statements_give_their_arguments() {
    let st = recipe(
        "export A\nunset B[doc]\nunset C\ndeltask do_x\naddhandler h\nEXPORT_FUNCTIONS do_a do_b\n",
    );
    let got: Vec<String> = st
        .iter()
        .map(|s| match s {
            Statement::Export(e) => format!("export {}", e.name()),
            Statement::Unset(u) => format!("unset {} {:?}", u.name(), u.flag()),
            Statement::DelTask(t) => format!("deltask {}", t.tasks()),
            Statement::AddHandler(h) => format!("addhandler {}", h.handlers()),
            Statement::ExportFunctions(f) => format!("EXPORT_FUNCTIONS {}", f.functions()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        vec![
            "export A",
            "unset B Some(\"doc\")",
            "unset C None",
            "deltask do_x",
            "addhandler h",
            "EXPORT_FUNCTIONS do_a do_b",
        ]
    );
}

#[test]
fn addpylib_splits_folder_and_namespace_in_base_config_only() {
    let st = statements("addpylib ${LAYERDIR}/lib oe\n", FileKind::BaseConfig);
    let Statement::AddPylib(p) = &st[0] else {
        panic!("{st:?}")
    };
    let _: &AddPylib = p;
    assert_eq!(
        (p.dir(), p.namespace()),
        ("${LAYERDIR}/lib".into(), "oe".into())
    );
    let p = parse("addpylib ${LAYERDIR}/lib oe\n", FileKind::Config);
    assert_eq!(p.errors().len(), 1);
    assert_eq!(p.tree().statements().count(), 0);
}

#[test]
fn value_marks_var_refs_and_inline_python() {
    let a = assignment(
        "A = \"${B} ${@d.getVar('C') or {}} ${@x('${D}')}\"\n",
        FileKind::Config,
    );
    let v = a.value_node().unwrap();
    let pieces: Vec<String> = v
        .expansions()
        .map(|e| match e {
            Expansion::Var(r) => format!("var {}", r.name()),
            Expansion::Python(p) => format!("py {}", p.code()),
        })
        .collect();
    assert_eq!(
        pieces,
        vec!["var B", "py d.getVar('C') or {}", "py x('${D}')"]
    );
    let refs: Vec<String> = v.var_refs().map(|r| r.name()).collect();
    assert_eq!(refs, vec!["B", "D"]);
    assert_eq!(a.value(), "${B} ${@d.getVar('C') or {}} ${@x('${D}')}");
}

#[test]
fn refused_lines_are_errors_not_statements() {
    let p = parse("A = \"x\" # c\nB = \"y\"\n", FileKind::Config);
    assert_eq!(p.errors().len(), 1);
    assert_eq!(p.errors()[0].message, "unparsed line: 'A = \"x\" # c'");
    assert_eq!(p.errors()[0].range, 0..11);
    let names: Vec<String> = p
        .tree()
        .statements()
        .map(|s| match s {
            Statement::Assignment(a) => a.name(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names, vec!["B"]);
}

#[test]
fn error_of_a_continued_line_starts_on_its_last_line() {
    let text = "A = \"x\" \\\n  # c\n";
    let p = parse(text, FileKind::Config);
    assert_eq!(p.errors().len(), 1);
    assert_eq!(p.errors()[0].range.start, text.find("  # c").unwrap());
}

#[test]
fn inherit_is_refused_in_conf_files() {
    let p = parse("inherit foo\n", FileKind::Config);
    assert_eq!(p.errors()[0].message, "unparsed line: 'inherit foo'");
    assert_eq!(p.tree().statements().count(), 0);
}

#[test]
fn line_numbers_count_every_kind_of_line_end() {
    let text = "A = \"1\"\rB = \"2\"\r\nC = \"3\"\n";
    let p = parse(text, FileKind::Config);
    let lines: Vec<usize> = p
        .tree()
        .statements()
        .map(|s| p.line_number(s.syntax().text_range().start().into()))
        .collect();
    assert_eq!(lines, vec![1, 2, 3]);
    // The end of a text that ends with a line end is the line after it, as BitBake says
    // for an unclosed function.
    assert_eq!(p.line_number(text.len()), 4);
    assert_eq!(parse("A = \"1\"", FileKind::Config).line_number(7), 1);
}

#[test]
fn unclosed_function_is_reported_at_the_end_of_the_file() {
    let text = "do_x() {\n    echo\n";
    let p = parse(text, FileKind::Recipe);
    assert_eq!(p.errors().len(), 1);
    assert_eq!(p.errors()[0].range, text.len()..text.len());
    assert_eq!(p.line_number(p.errors()[0].range.start), 3);
    assert_eq!(p.tree().statements().count(), 0);
}
