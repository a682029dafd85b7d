//! The data store printed as `bitbake -e` prints it: `bb.data.emit_env(o, d, all=True)`
//! and `emit_var` (values first, sorted by name; then the shell functions, sorted; Python
//! functions and names starting with `__` are left out).
//!
//! History comments come from [`DataStore::history`]: the statements' events are
//! BitBake's; operations that BitBake's own code makes (the cooker's `setVar`s,
//! `expandVarref`, the environment) are named after bitzel's internal locations, not
//! BitBake's `file.py:line [function]`.

use super::datastore::DataStore;
use std::io::{self, Write};

/// `bb.utils.to_boolean` of a flag: true for `yes`, `y`, `true`, `t`, `1` (any case);
/// an unset flag and every other text are false.
fn to_boolean(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        matches!(
            v.to_ascii_lowercase().as_str(),
            "yes" | "y" | "true" | "t" | "1"
        )
    })
}

fn flag(store: &DataStore, name: &str, flag: &str, expand: bool) -> Option<String> {
    store
        .get_var_flag(name, flag, expand)
        .ok()
        .flatten()
        .map(|v| v.to_string())
}

/// `emit_var`'s quoting: `"` becomes `\"`, a line end ` \` plus the line end, `$` `\$`.
pub fn quote_value(value: &str) -> String {
    value
        .replace('"', "\\\"")
        .replace('\n', " \\\n")
        .replace('$', "\\$")
}

/// `bb.data.emit_var(var, o, d, all)`: writes one variable (or shell function) and
/// returns whether it wrote a shell function (which `emit_env` follows with a blank line).
pub fn emit_var(store: &DataStore, var: &str, out: &mut dyn Write, all: bool) -> io::Result<bool> {
    let func = flag(store, var, "func", false).filter(|v| !v.is_empty());
    if func.is_some() && flag(store, var, "python", false).is_some_and(|v| !v.is_empty()) {
        return Ok(false);
    }
    let export = to_boolean(flag(store, var, "export", true).as_deref());
    let unexport = to_boolean(flag(store, var, "unexport", true).as_deref());
    if !all && !export && !unexport && func.is_none() {
        return Ok(false);
    }
    let val = match store.get_var(var, true) {
        Ok(v) => v,
        Err(e) => {
            let message = e.to_string().replace('\n', " ");
            writeln!(out, "# expansion of {var} threw ExpansionError: {message}")?;
            return Ok(false);
        }
    };
    if all {
        let oval = store.get_var(var, false).ok().flatten();
        emit_history(store, var, oval.as_deref(), out)?;
    }
    if !all && var.contains(['-', '.', '{', '}', '+']) {
        return Ok(false);
    }
    let expanded = store.expand(var, None).unwrap_or_else(|_| var.to_string());
    if unexport {
        writeln!(out, "unset {expanded}")?;
        return Ok(false);
    }
    let Some(val) = val else { return Ok(false) };
    if let Some(name) = expanded.strip_prefix("BASH_FUNC_") {
        let name = name
            .char_indices()
            .rev()
            .nth(1)
            .map_or("", |(i, _)| &name[..i]);
        let body = val.get(3..).unwrap_or("");
        writeln!(out, "{name}() {body}")?;
        writeln!(out, "export -f {name}")?;
        return Ok(true);
    }
    if func.is_some() {
        writeln!(
            out,
            "# line: {}, file: {}",
            flag(store, var, "lineno", false).unwrap_or_else(|| "None".into()),
            flag(store, var, "filename", false).unwrap_or_else(|| "None".into())
        )?;
        writeln!(out, "{expanded}() {{\n{}\n}}", val.trim_end_matches('\n'))?;
        return Ok(true);
    }
    if export {
        write!(out, "export ")?;
    }
    writeln!(out, "{expanded}=\"{}\"", quote_value(&val))?;
    Ok(false)
}

/// Where a history event comes from as `bitbake -e` prints it: `file:line`, or the text
/// of a [`bitbake_site`](super::interpret::bitbake_site) (line 0).
fn place(loc: &super::Location) -> String {
    if loc.line == 0 {
        loc.file.to_string()
    } else {
        format!("{}:{}", loc.file, loc.line)
    }
}

/// `VariableHistory.emit(var, oval, val, o, d)`: the `# $VAR` comment block of
/// `bitbake -e`, with the events of the variable and of its override variables
/// (`override[foo]:op`), and the value before expansion when there were several.
pub fn emit_history(
    store: &DataStore,
    var: &str,
    oval: Option<&str>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut history: Vec<(String, String, Option<String>, String)> = store
        .history(var)
        .into_iter()
        .map(|e| {
            (
                e.op.to_string(),
                place(&e.loc),
                e.flag.map(|f| f.to_string()),
                e.detail.to_string(),
            )
        })
        .collect();
    for link in store.override_variables(var) {
        for e in store.history(&link.var) {
            if e.flag
                .as_deref()
                .is_some_and(|f| !f.starts_with('_') && !f.starts_with(':'))
            {
                continue;
            }
            history.push((
                format!("override[{}]:{}", link.override_, e.op),
                place(&e.loc),
                e.flag.map(|f| f.to_string()),
                e.detail.to_string(),
            ));
        }
    }
    let comment_val = oval.unwrap_or("None").replace('\n', "\n#");
    if history.is_empty() {
        write!(out, "#\n# ${var}\n#   [no history recorded]\n#\n")?;
        return writeln!(out, "#   \"{comment_val}\"");
    }
    if history.len() == 1 {
        writeln!(out, "#\n# ${var}")?;
    } else {
        writeln!(out, "#\n# ${var} [{} operations]", history.len())?;
    }
    for (op, place, flag, detail) in &history {
        let flag = flag.as_ref().map(|f| format!("[{f}] ")).unwrap_or_default();
        let detail = detail.replace('\n', "\n#     ");
        writeln!(out, "#   {op} {place}\n#     {flag}\"{detail}\"")?;
    }
    if history.len() > 1 {
        writeln!(out, "# pre-expansion value:\n#   \"{comment_val}\"")?;
    }
    Ok(())
}

/// `bb.data.emit_env(o, d, all=True)`, what `bitbake -e` prints after its headers: the
/// variables (not starting with `__`) sorted by name, then the shell functions sorted by
/// name, each function followed by a blank line.
pub fn emit_env(store: &DataStore, out: &mut dyn Write) -> io::Result<()> {
    let keys = store
        .keys()
        .map_err(|e| io::Error::other(format!("cannot list the variables: {e}")))?;
    let mut values = Vec::new();
    let mut funcs = Vec::new();
    for key in keys.iter().filter(|k| !k.starts_with("__")) {
        if flag(store, key, "func", false).is_some_and(|v| !v.is_empty()) {
            funcs.push(key);
        } else {
            values.push(key);
        }
    }
    values.sort();
    funcs.sort();
    for key in values {
        if emit_var(store, key, out, true)? {
            writeln!(out)?;
        }
    }
    for key in funcs {
        if emit_var(store, key, out, false)? {
            writeln!(out)?;
        }
    }
    Ok(())
}

/// Only the named variables, as `emit_var` prints them (for `bitzel env VAR...`).
pub fn emit_vars(store: &DataStore, names: &[String], out: &mut dyn Write) -> io::Result<()> {
    for name in names {
        let is_func = flag(store, name, "func", false).is_some_and(|v| !v.is_empty());
        if emit_var(store, name, out, !is_func)? {
            writeln!(out)?;
        }
    }
    Ok(())
}

/// The end of `bb.cooker.BBCooker.showEnvironment`: every Python function (names
/// starting with `__` included, so anonymous functions too), sorted by name, as
/// `\npython NAME () {\nBODY}\n` followed by a line end, unexpanded.
pub fn emit_python_functions(store: &DataStore, out: &mut dyn Write) -> io::Result<()> {
    let mut keys = store
        .keys()
        .map_err(|e| io::Error::other(format!("cannot list the variables: {e}")))?;
    keys.sort();
    for key in keys {
        let is_func = flag(store, &key, "func", false).is_some_and(|v| !v.is_empty());
        let is_python = flag(store, &key, "python", false).is_some_and(|v| !v.is_empty());
        if is_func && is_python {
            let body = store
                .get_var(&key, false)
                .ok()
                .flatten()
                .map(|v| v.to_string())
                .unwrap_or_else(|| "None".into());
            writeln!(out, "\npython {key} () {{\n{body}}}\n")?;
        }
    }
    Ok(())
}

/// What `bitbake -e` prints after the include history: [`emit_env`], then
/// [`emit_python_functions`].
pub fn show_environment(store: &DataStore, out: &mut dyn Write) -> io::Result<()> {
    emit_env(store, out)?;
    emit_python_functions(store, out)
}

/// DataSmart's `IncludeHistory.emit` as `bitbake -e` prints it first: `# INCLUDE
/// HISTORY:` and one `# file` line per entry of `history` ((depth, name) in order, see
/// [`Interpreter::include_history`](super::interpret::Interpreter::include_history)),
/// indented two spaces per level, `includes:` after a file that included others.
pub fn emit_include_history(history: &[(usize, String)], out: &mut dyn Write) -> io::Result<()> {
    write!(out, "#\n# INCLUDE HISTORY:\n#")?;
    for (i, (depth, name)) in history.iter().enumerate() {
        write!(out, "\n# {}{name}", "  ".repeat(*depth))?;
        if history.get(i + 1).is_some_and(|(next, _)| *next > *depth) {
            write!(out, " includes:")?;
        }
    }
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::Location;

    /// The output without the history comments.
    fn printed(store: &DataStore) -> String {
        let mut out = Vec::new();
        show_environment(store, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text
            .split_inclusive('\n')
            .filter(|l| !l.starts_with('#') || l.starts_with("# line: "))
            .collect();
        lines.concat()
    }

    #[test]
    fn history_comments_precede_a_value() {
        let mut store = DataStore::new();
        store.set_var("A", "x", &Location::new("a.conf", 3));
        store.append_var("A", "y", &Location::new("b.conf", 4));
        let mut out = Vec::new();
        show_environment(&store, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "#\n# $A [2 operations]\n#   set a.conf:3\n#     \"x\"\n\
             #   append b.conf:4\n#     \"y\"\n# pre-expansion value:\n#   \"xy\"\nA=\"xy\"\n"
        );
    }

    #[test]
    fn values_are_quoted_for_a_shell_and_functions_come_after_values() {
        let mut store = DataStore::new();
        let loc = Location::new("t", 1);
        store.set_var("Z", "a \"q\" $x\nb", &loc);
        store.set_var("A", "1", &loc);
        store.export("A", loc.clone());
        store.set_var("do_x", "\techo\n", &loc);
        store.set_var_flag("do_x", "func", "1", &loc);
        store.set_var_flag("do_x", "lineno", "3", &loc);
        store.set_var_flag("do_x", "filename", "f.bbclass", &loc);
        store.set_var("do_py", "    pass\n", &loc);
        store.set_var_flag("do_py", "func", "1", &loc);
        store.set_var_flag("do_py", "python", "1", &loc);
        store.set_var("__hidden", "x", &loc);
        assert_eq!(
            printed(&store),
            "export A=\"1\"\nZ=\"a \\\"q\\\" \\$x \\\nb\"\n\
             # line: 3, file: f.bbclass\ndo_x() {\n\techo\n}\n\n\
             \npython do_py () {\n    pass\n}\n\n"
        );
    }

    #[test]
    fn an_unexported_variable_is_printed_as_unset() {
        let mut store = DataStore::new();
        let loc = Location::new("t", 1);
        store.set_var("SHELL", "/bin/sh", &loc);
        store.set_var_flag("SHELL", "unexport", "1", &loc);
        assert_eq!(printed(&store), "unset SHELL\n");
    }

    #[test]
    fn include_history_indents_what_a_file_included() {
        let history = vec![
            (0, "a.conf".to_string()),
            (0, "conf/bitbake.conf".to_string()),
            (1, "x.conf".to_string()),
            (2, "y.inc".to_string()),
            (1, "z.conf".to_string()),
        ];
        let mut out = Vec::new();
        emit_include_history(&history, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "#\n# INCLUDE HISTORY:\n#\n# a.conf\n# conf/bitbake.conf includes:\n\
             #   x.conf includes:\n#     y.inc\n#   z.conf\n"
        );
    }
}
