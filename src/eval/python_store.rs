//! The data store seen from Python: [`DataStore`] as the bridge's [`VarSource`] (what
//! `d` is in BitBake's Python), and [`BridgeInlinePython`], the [`InlinePython`] host
//! that evaluates `${@...}` with the embedded CPython of [`PythonBridge`].

use super::datastore::{DataStore, ObjectText};
use super::expand::{ExpansionError, InlinePython, InlinePythonError};
use super::python::{self, EvalError, PythonBridge, VarSource};
use super::statement::Location;
use pyo3::prelude::*;
use std::sync::Arc;

/// The location that history records for a change made by Python code (BitBake records
/// the Python frame that called `setVar`).
fn python_location() -> Location {
    Location::new("<python>", 0)
}

/// A store's [`ExpansionError`] as the `bb.data_smart.ExpansionError` Python code sees.
fn to_eval_error(err: ExpansionError) -> EvalError {
    let (varname, expression, exception_type, exception_message) = match &err {
        ExpansionError::InlinePython { var, code, message } => (
            var.as_deref().map(str::to_string),
            format!("${{@{code}}}"),
            "Exception".to_string(),
            message.clone(),
        ),
        ExpansionError::SelfReference { var } => (
            Some(var.to_string()),
            String::new(),
            "Exception".to_string(),
            err.to_string(),
        ),
        ExpansionError::Recursion { .. } | ExpansionError::TooDeep { .. } => (
            None,
            String::new(),
            "RecursionError".to_string(),
            err.to_string(),
        ),
        ExpansionError::UnstableOverrides => (
            None,
            String::new(),
            "Exception".to_string(),
            err.to_string(),
        ),
    };
    let first = varname.clone().unwrap_or_else(|| expression.clone());
    EvalError::Expansion(python::ExpansionError {
        varname,
        expression,
        exception_type,
        exception_message,
        varlist: vec![first],
    })
}

fn none_unsupported(what: &str) -> EvalError {
    EvalError::other(
        "TypeError",
        format!("bitzel: {what} with the value None is not supported by the native store"),
    )
}

/// DataSmart's Python API over the native store: the bridge's `d` calls these.
impl VarSource for DataStore {
    fn get_var(&self, name: &str, expand: bool) -> Result<Option<String>, EvalError> {
        DataStore::get_var(self, name, expand)
            .map(|v| v.map(|v| v.to_string()))
            .map_err(to_eval_error)
    }

    fn get_var_flag(
        &self,
        name: &str,
        flag: &str,
        expand: bool,
    ) -> Result<Option<String>, EvalError> {
        DataStore::get_var_flag(self, name, flag, expand)
            .map(|v| v.map(|v| v.to_string()))
            .map_err(to_eval_error)
    }

    fn get_var_shared(&self, name: &str, expand: bool) -> Result<Option<Arc<str>>, EvalError> {
        DataStore::get_var(self, name, expand).map_err(to_eval_error)
    }

    fn get_var_flag_shared(
        &self,
        name: &str,
        flag: &str,
        expand: bool,
    ) -> Result<Option<Arc<str>>, EvalError> {
        DataStore::get_var_flag(self, name, flag, expand).map_err(to_eval_error)
    }

    fn get_var_flags(
        &self,
        name: &str,
        _internal: bool,
    ) -> Result<Vec<(String, String)>, EvalError> {
        Ok(DataStore::get_var_flags(self, name)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    fn has_overrides(&self, name: &str) -> Result<bool, EvalError> {
        // The store answers through its keys: an override-conditional form is a key
        // `name:...`.
        DataStore::has_key_with_prefix(self, &format!("{name}:")).map_err(to_eval_error)
    }

    fn expand(&self, text: &str, varname: Option<&str>) -> Result<String, EvalError> {
        DataStore::expand(self, text, varname).map_err(to_eval_error)
    }

    fn keys(&self) -> Result<Vec<Arc<str>>, EvalError> {
        DataStore::keys(self).map_err(to_eval_error)
    }

    fn set_var(&mut self, name: &str, value: Option<&str>) -> Result<(), EvalError> {
        let value = value.ok_or_else(|| none_unsupported("setVar"))?;
        DataStore::set_var(self, name, value, &python_location());
        Ok(())
    }

    fn set_var_flag(
        &mut self,
        name: &str,
        flag: &str,
        value: Option<&str>,
    ) -> Result<(), EvalError> {
        let value = value.ok_or_else(|| none_unsupported("setVarFlag"))?;
        DataStore::set_var_flag(self, name, flag, value, &python_location());
        Ok(())
    }

    fn append_var(&mut self, name: &str, value: &str) -> Result<(), EvalError> {
        DataStore::append_var(self, name, value, &python_location());
        Ok(())
    }

    fn prepend_var(&mut self, name: &str, value: &str) -> Result<(), EvalError> {
        DataStore::prepend_var(self, name, value, &python_location());
        Ok(())
    }

    fn append_var_flag(&mut self, name: &str, flag: &str, value: &str) -> Result<(), EvalError> {
        DataStore::append_var_flag(self, name, flag, value, &python_location());
        Ok(())
    }

    fn prepend_var_flag(&mut self, name: &str, flag: &str, value: &str) -> Result<(), EvalError> {
        DataStore::prepend_var_flag(self, name, flag, value, &python_location());
        Ok(())
    }

    fn del_var(&mut self, name: &str) -> Result<(), EvalError> {
        DataStore::del_var(self, name, &python_location());
        Ok(())
    }

    fn del_var_flag(&mut self, name: &str, flag: &str) -> Result<(), EvalError> {
        DataStore::del_var_flag(self, name, flag, &python_location());
        Ok(())
    }

    fn rename_var(&mut self, old: &str, new: &str) -> Result<(), EvalError> {
        DataStore::rename_var(self, old, new, &python_location());
        Ok(())
    }

    fn create_copy(&self) -> Result<Box<dyn VarSource + Send>, EvalError> {
        Ok(Box::new(self.copy()))
    }

    fn set_var_object(
        &mut self,
        name: &str,
        text: ObjectText,
        object: Py<PyAny>,
    ) -> Result<(), EvalError> {
        DataStore::set_var_object(self, name, text, Arc::new(object), &python_location());
        Ok(())
    }

    fn var_object(&self, py: Python<'_>, name: &str, value: &str) -> Option<Py<PyAny>> {
        let object = DataStore::var_object(self, name, value)?;
        object
            .downcast_ref::<Py<PyAny>>()
            .map(|object| object.clone_ref(py))
    }
}

/// The [`InlinePython`] host backed by the embedded CPython: `${@...}` evaluated by
/// [`PythonBridge::eval_inline`] (BitBake's `VariableParse.python_sub`) against the store
/// being expanded, with the bridge's native fast path for the common helpers.
pub struct BridgeInlinePython {
    bridge: Arc<PythonBridge>,
}

impl BridgeInlinePython {
    /// A host evaluating with `bridge`.
    pub fn new(bridge: Arc<PythonBridge>) -> BridgeInlinePython {
        BridgeInlinePython { bridge }
    }
}

impl InlinePython for BridgeInlinePython {
    fn eval(&self, code: &str, store: &DataStore) -> Result<String, InlinePythonError> {
        self.bridge
            .eval_inline(code, None, store)
            .map_err(|e| match e {
                e if e.is_unterminated_string() => InlinePythonError::UnterminatedString,
                EvalError::Python {
                    type_name, message, ..
                } => InlinePythonError::Failed(format!("{type_name}: {message}")),
                other => InlinePythonError::Failed(other.to_string()),
            })
    }
}
