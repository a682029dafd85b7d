//! The data store: BitBake's `bb.data_smart.DataSmart`, natively.
//!
//! A variable ([`Variable`]) has a value (`_content`), a weak default (`_defaultval`, from
//! `??=`), flags, and the `:append`/`:prepend`/`:remove` operations kept on it. A name with
//! an override suffix (`A:foo`) is a variable of its own, linked to `A` in the store's
//! override links (DataSmart's `overridedata`); reading `A` picks the active one by
//! `OVERRIDES`, then applies `:append`, `:prepend`, expansion and `:remove`, in that order.
//!
//! Copy-on-write: a store is its own writable layer over an optional chain of frozen,
//! `Arc`-shared [`Snapshot`]s (DataSmart's `_data` chain that `createCopy` makes). A finalized
//! configuration becomes a snapshot that every recipe's store reads through without copying;
//! a variable is copied into a store's own layer only when that store changes it (a shallow
//! copy of an `Arc`ed [`Variable`], as `_makeShadowCopy` does).
//!
//! Expanded values are memoised per store and forgotten on every change (DataSmart's
//! `expand_cache`); the expanded `OVERRIDES` is kept until a variable it was computed from
//! changes.

use super::expand::{
    expand_text, ExpansionError, InlinePython, InlinePythonError, NativeInlinePython,
};
use super::overrides::{
    override_links, select_override, split_operation, ConditionalOp, OperationKind, OverrideLink,
    Overrides,
};
use super::statement::{AssignOp, Assignment, Location};
use rustc_hash::{FxHashMap, FxHashSet};
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::sync::{Arc, OnceLock};

/// A variable's flags as (name, value) pairs, in the order they were first set.
pub type FlagList = Vec<(Arc<str>, Arc<str>)>;

/// Which BitBake's rules the store follows where versions differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// BitBake 2.8 (Poky scarthgap), the reference: `??=` on a flag sets the flag like `=`;
    /// `renameVar` of a variable that does not exist still deletes it (its flags go).
    #[default]
    Scarthgap,
    /// BitBake 2.12 and later (2.19 is what PyPI's bitbake-setup brings): `??=` on a flag
    /// is a weak default of that flag (`_defaultval_flag_<flag>`), which `?=` and `+=` on
    /// the flag ignore; `renameVar` of nothing does nothing.
    Current,
}

/// One entry of a variable's history: what `bitbake -e` prints above a variable
/// (DataSmart's `VariableHistory.record` loginfo: op, file, line, flag, detail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarHistoryEvent {
    /// The operation as BitBake names it: `set`, `set?`, `immediate`, `append`, `prepend`,
    /// `postdot`, `predot`, `:append[foo]`, `exported`, `del`, `delFlag`, `rename from X`...
    pub op: Arc<str>,
    /// Where the operation comes from.
    pub loc: Location,
    /// The flag the operation set, if it set a flag.
    pub flag: Option<Arc<str>>,
    /// The value as written (unexpanded).
    pub detail: Arc<str>,
}

/// One variable: an entry of DataSmart's `dict`, a map of flags with the value in
/// `_content`, the weak default in `_defaultval` and the operations in `:append`,
/// `:prepend`, `:remove`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variable {
    /// `_content`: the value.
    pub content: Option<Arc<str>>,
    /// `_defaultval`: the weak default from `??=`.
    pub defaultval: Option<Arc<str>>,
    /// The other flags in the order they were first set (BitBake's dict order).
    pub flags: FlagList,
    /// `:append` operations in the order they were written.
    pub appends: Vec<ConditionalOp>,
    /// `:prepend` operations in the order they were written.
    pub prepends: Vec<ConditionalOp>,
    /// `:remove` operations in the order they were written.
    pub removes: Vec<ConditionalOp>,
}

impl Variable {
    /// Whether nothing is set: a deleted variable (DataSmart's `dict[var] = {}`), which
    /// hides the variable in the snapshots below.
    pub fn is_empty(&self) -> bool {
        self.content.is_none()
            && self.defaultval.is_none()
            && self.flags.is_empty()
            && self.appends.is_empty()
            && self.prepends.is_empty()
            && self.removes.is_empty()
    }

    /// The value of a flag (not `_content` or `_defaultval`).
    pub fn flag(&self, flag: &str) -> Option<&Arc<str>> {
        self.flags
            .iter()
            .find(|(k, _)| &**k == flag)
            .map(|(_, v)| v)
    }

    fn operations(&self, kind: OperationKind) -> &Vec<ConditionalOp> {
        match kind {
            OperationKind::Append => &self.appends,
            OperationKind::Prepend => &self.prepends,
            OperationKind::Remove => &self.removes,
        }
    }

    fn operations_mut(&mut self, kind: OperationKind) -> &mut Vec<ConditionalOp> {
        match kind {
            OperationKind::Append => &mut self.appends,
            OperationKind::Prepend => &mut self.prepends,
            OperationKind::Remove => &mut self.removes,
        }
    }

    fn get(&self, flag: &str) -> Option<&Arc<str>> {
        match flag {
            CONTENT => self.content.as_ref(),
            DEFAULTVAL => self.defaultval.as_ref(),
            _ => self.flag(flag),
        }
    }

    fn set(&mut self, flag: &str, value: Arc<str>) {
        match flag {
            CONTENT => self.content = Some(value),
            DEFAULTVAL => self.defaultval = Some(value),
            _ => match self.flags.iter_mut().find(|(k, _)| &**k == flag) {
                Some(slot) => slot.1 = value,
                None => self.flags.push((flag.into(), value)),
            },
        }
    }

    fn remove(&mut self, flag: &str) -> bool {
        match flag {
            CONTENT => self.content.take().is_some(),
            DEFAULTVAL => self.defaultval.take().is_some(),
            _ => match self.flags.iter().position(|(k, _)| &**k == flag) {
                Some(i) => {
                    self.flags.remove(i);
                    true
                }
                None => false,
            },
        }
    }
}

const CONTENT: &str = "_content";
const DEFAULTVAL: &str = "_defaultval";
const FLAG_DEFAULT_PREFIX: &str = "_defaultval_flag_";

/// One layer of variables: a store's own changes, or a frozen [`Snapshot`]'s.
#[derive(Debug, Clone, Default)]
struct Layer {
    vars: FxHashMap<Arc<str>, Arc<Variable>>,
    /// DataSmart's `overridedata`; `None` is a deleted entry, which hides the layers below
    /// (an entry that is present but empty is not the same thing to `renameVar`).
    overridedata: FxHashMap<Arc<str>, Option<Arc<Vec<OverrideLink>>>>,
    history: FxHashMap<Arc<str>, Vec<VarHistoryEvent>>,
    /// Names that got an `export` or `unexport` flag (DataSmart's `__exportlist`).
    exports: Vec<Arc<str>>,
    /// Objects that Python code stored in variables ([`DataStore::set_var_object`]), by
    /// variable: kept in the layer so that they are frozen and copied with the values.
    objects: FxHashMap<Arc<str>, StoredObject>,
}

/// An object stored in a variable with the text the variable holds for it.
/// `placeholder` is what the variable's `_content` was set to: until the text is read,
/// an allocation of its own that only this entry points to ([`DataStore::content_of`]
/// gives the text instead); the text itself when it was made at once.
#[derive(Clone)]
struct StoredObject {
    placeholder: Arc<str>,
    text: Arc<ObjectText>,
    object: Arc<dyn Any + Send + Sync>,
}

impl std::fmt::Debug for StoredObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredObject")
            .field("text", &self.text.text.get())
            .finish_non_exhaustive()
    }
}

/// What a variable's `_content` is while the text of the object stored in it has not
/// been read (see [`StoredObject`]); no text of BitBake's starts with NUL.
const OBJECT_PLACEHOLDER: &str = "\0bitzel: object text not made yet\0";

/// The text a variable holds for an object stored in it ([`DataStore::set_var_object`]),
/// its `str()`, made on the first read of the variable as text: an expansion, `bitbake
/// -e`, a rename. Most objects are read so, but create-spdx stores its licence table
/// (180 kB of text) in every recipe and nothing reads it while recipes are parsed.
pub struct ObjectText {
    text: OnceLock<Arc<str>>,
    make: Box<dyn Fn() -> String + Send + Sync>,
}

impl ObjectText {
    /// The text `make` makes, when it is first asked for.
    pub fn new(make: impl Fn() -> String + Send + Sync + 'static) -> ObjectText {
        ObjectText {
            text: OnceLock::new(),
            make: Box::new(make),
        }
    }

    /// A text already made.
    pub fn made(text: String) -> ObjectText {
        ObjectText {
            text: OnceLock::from(Arc::<str>::from(text)),
            make: Box::new(String::new),
        }
    }

    /// The text, made now if it was not yet.
    pub fn text(&self) -> &Arc<str> {
        self.text.get_or_init(|| (self.make)().into())
    }
}

/// A frozen, shareable state of a store: the base that recipes' stores read through
/// (DataSmart's `_data` parent dict). Cheap to share: `Arc<Snapshot>`.
#[derive(Debug)]
pub struct Snapshot {
    layer: Layer,
    parent: Option<Arc<Snapshot>>,
    dialect: Dialect,
    /// What `keys()` needs of the whole chain, computed once on first use.
    index: OnceLock<SnapshotIndex>,
    /// The same of the names that hold a `${` reference, all that `expandKeys` looks at
    /// (a handful among thousands: finalising a recipe does not walk them all).
    index_of_references: OnceLock<SnapshotIndex>,
}

/// The names of a snapshot chain, for enumerating a store over it without walking the
/// chain per store.
#[derive(Debug, Default)]
struct SnapshotIndex {
    /// Names that are set in the nearest layer that has them, sorted.
    keys: Vec<Arc<str>>,
    /// Override links of the nearest layer that has an entry, deleted ones left out.
    overridedata: Vec<(Arc<str>, Arc<Vec<OverrideLink>>)>,
}

/// Which of a snapshot's names an index holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IndexedNames {
    All,
    /// Names with a `${` in them (see [`has_reference`]).
    WithReferences,
}

impl IndexedNames {
    fn keeps(self, name: &str) -> bool {
        self == IndexedNames::All || has_reference(name)
    }
}

/// Whether a variable name holds a `${` reference (`expandKeys` renames those).
fn has_reference(name: &str) -> bool {
    name.contains("${")
}

impl Snapshot {
    /// The chain's names of one kind, computed once per snapshot from its parent's
    /// (itself computed once and shared by every snapshot above it): the configuration's
    /// thousands of names are sorted once, and a recipe's snapshot only merges its own
    /// layer in.
    fn index(self: &Arc<Snapshot>, names: IndexedNames) -> &SnapshotIndex {
        let cell = match names {
            IndexedNames::All => &self.index,
            IndexedNames::WithReferences => &self.index_of_references,
        };
        cell.get_or_init(|| {
            let layer = &self.layer;
            let mut own: Vec<Arc<str>> = layer
                .vars
                .iter()
                .filter(|(name, var)| !var.is_empty() && names.keeps(name))
                .map(|(name, _)| name.clone())
                .collect();
            own.sort_unstable();
            let mut overridedata: Vec<(Arc<str>, Arc<Vec<OverrideLink>>)> = layer
                .overridedata
                .iter()
                .filter(|(name, _)| names.keeps(name))
                .filter_map(|(name, links)| Some((name.clone(), links.clone()?)))
                .collect();
            let Some(parent) = &self.parent else {
                return SnapshotIndex {
                    keys: own,
                    overridedata,
                };
            };
            let below = parent.index(names);
            // A name this layer has (set or deleted) is decided here; the others as below.
            let mut keys = Vec::with_capacity(below.keys.len() + own.len());
            let mut own_iter = own.into_iter().peekable();
            for name in below
                .keys
                .iter()
                .filter(|n| !layer.vars.contains_key(&***n))
            {
                while let Some(mine) = own_iter.next_if(|mine| mine < name) {
                    keys.push(mine);
                }
                keys.push(name.clone());
            }
            keys.extend(own_iter);
            overridedata.extend(
                below
                    .overridedata
                    .iter()
                    .filter(|(name, _)| !layer.overridedata.contains_key(&**name))
                    .cloned(),
            );
            SnapshotIndex { keys, overridedata }
        })
    }

    fn layers(self: &Arc<Snapshot>) -> impl Iterator<Item = &Layer> {
        let mut next = Some(&**self);
        std::iter::from_fn(move || {
            let snap = next?;
            next = snap.parent.as_deref();
            Some(&snap.layer)
        })
    }
}

/// A read's result: DataSmart's VariableParse for `_content` (the value before and after
/// expansion, and which `:remove`s matched, to carry into a variable that this one
/// overrides).
#[derive(Debug, Clone)]
struct Resolved {
    unexpanded: Option<Arc<str>>,
    value: Option<Arc<str>>,
    /// `parser.removes`: `None` when the remove step did not run.
    matched_removes: Option<Vec<Arc<str>>>,
}

/// What a read may remember in the memo.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum CacheKey {
    Content(Arc<str>),
    Flag(Arc<str>, Arc<str>),
}

/// A variable and one of its flags.
type FlagKey = (Arc<str>, Arc<str>);

/// A value before expansion, and the chosen override variable with the `:remove`s carried
/// from it (when its read ran the remove step).
type Assembled = (Option<Arc<str>>, Option<(Arc<str>, Vec<Arc<str>>)>);

#[derive(Default)]
struct EvalState {
    /// DataSmart's `expand_cache`.
    content_cache: FxHashMap<Arc<str>, Resolved>,
    flag_cache: FxHashMap<FlagKey, Option<Arc<str>>>,
    /// The expanded OVERRIDES, and the names it was computed from.
    overrides: Option<Arc<Overrides>>,
    override_deps: FxHashSet<Arc<str>>,
    /// While OVERRIDES itself is computed: the provisional overrides (DataSmart's
    /// `inoverride` with `self.overrides` set to the previous round).
    provisional: Option<Arc<Overrides>>,
    /// Names read while OVERRIDES is computed.
    recording: Option<FxHashSet<Arc<str>>>,
    /// The values being computed, for recursion detection.
    stack: Vec<CacheKey>,
    /// How many values are being computed, OVERRIDES' nested computation included.
    depth: usize,
}

/// How deep values may nest (`A = "${B}"`, `B = "${C}"`...) before a read fails. BitBake
/// fails at Python's recursion limit, about 330 levels; this keeps bitzel's own stack
/// safe.
const MAX_DEPTH: usize = 400;

/// BitBake's data store (`bb.data_smart.DataSmart`): variables, flags, override-conditional
/// operations, expansion and history, with copy-on-write [`Snapshot`]s.
///
/// Statements go in with [`DataStore::assign`], [`DataStore::export`] and
/// [`DataStore::unset`] (what `bb.parse.ast` does); the Python API's operations are the
/// other methods, named after theirs (`setVar` is [`DataStore::set_var`]...).
pub struct DataStore {
    base: Option<Arc<Snapshot>>,
    local: Layer,
    dialect: Dialect,
    python: Arc<dyn InlinePython>,
    state: RefCell<EvalState>,
    recording: Cell<bool>,
    /// Set while an operation runs that BitBake records with `ignore=True`.
    quiet: bool,
    /// Whether history is recorded (DataSmart's `_tracking`).
    tracking: bool,
}

impl Default for DataStore {
    fn default() -> DataStore {
        DataStore::new()
    }
}

impl std::fmt::Debug for DataStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataStore")
            .field("dialect", &self.dialect)
            .field("local_vars", &self.local.vars.len())
            .field("has_base", &self.base.is_some())
            .finish()
    }
}

impl DataStore {
    /// An empty store (`DataSmart()`) with scarthgap's rules and the native inline-Python
    /// host.
    pub fn new() -> DataStore {
        DataStore::with_dialect(Dialect::Scarthgap)
    }

    /// An empty store following `dialect`'s rules.
    pub fn with_dialect(dialect: Dialect) -> DataStore {
        DataStore {
            base: None,
            local: Layer::default(),
            dialect,
            python: Arc::new(NativeInlinePython),
            state: RefCell::new(EvalState::default()),
            recording: Cell::new(false),
            quiet: false,
            tracking: true,
        }
    }

    /// A store whose reads go through `base` and whose changes stay its own: a recipe's
    /// store over the finalized configuration (`createCopy`).
    pub fn from_snapshot(base: Arc<Snapshot>) -> DataStore {
        let mut store = DataStore::with_dialect(base.dialect);
        store.base = Some(base);
        store
    }

    /// Freezes this store's changes into a shareable [`Snapshot`]; the store keeps working
    /// on top of it (nothing is copied).
    pub fn snapshot(&mut self) -> Arc<Snapshot> {
        if self.local.vars.is_empty()
            && self.local.overridedata.is_empty()
            && self.local.history.is_empty()
            && self.local.exports.is_empty()
        {
            if let Some(base) = &self.base {
                return base.clone();
            }
        }
        let snap = Arc::new(Snapshot {
            layer: std::mem::take(&mut self.local),
            parent: self.base.take(),
            dialect: self.dialect,
            index: OnceLock::new(),
            index_of_references: OnceLock::new(),
        });
        self.base = Some(snap.clone());
        snap
    }

    /// DataSmart's `createCopy`: a store that starts as this one and changes on its own.
    /// Freezes this store's changes into a snapshot that both share.
    pub fn create_copy(&mut self) -> DataStore {
        let snap = self.snapshot();
        let mut copy = DataStore::from_snapshot(snap);
        copy.python = self.python.clone();
        copy.tracking = self.tracking;
        copy
    }

    /// DataSmart's `localkeys()`: the names written in this store since its base was
    /// frozen (since [`DataStore::snapshot`] or [`DataStore::from_snapshot`]), deleted
    /// ones included, in no particular order. The cooker's `expandVarref('LAYERDIR')`
    /// rewrites only these.
    pub fn local_keys(&self) -> Vec<Arc<str>> {
        self.local.vars.keys().cloned().collect()
    }

    /// `createCopy` through a shared reference (what Python's `d.createCopy()` needs): a
    /// store that starts as this one and changes on its own, sharing this store's base;
    /// this store's own changes since its base are cloned, at a cost in proportion to
    /// them.
    pub fn copy(&self) -> DataStore {
        DataStore {
            base: self.base.clone(),
            local: self.local.clone(),
            dialect: self.dialect,
            python: self.python.clone(),
            state: RefCell::new(EvalState::default()),
            recording: Cell::new(false),
            quiet: false,
            tracking: self.tracking,
        }
    }

    /// The rules the store follows.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// DataSmart's `enableTracking`: record variable history (the default here, unlike
    /// BitBake, so that `bitzel env` can print it; it costs little).
    pub fn enable_tracking(&mut self) {
        self.tracking = true;
    }

    /// DataSmart's `disableTracking`: stop recording variable history.
    pub fn disable_tracking(&mut self) {
        self.tracking = false;
    }

    /// Sets the host that evaluates `${@...}` inline Python.
    pub fn set_inline_python(&mut self, python: Arc<dyn InlinePython>) {
        self.python = python;
    }

    // ----- layers -------------------------------------------------------------------

    fn layers(&self) -> impl Iterator<Item = &Layer> {
        std::iter::once(&self.local).chain(self.base.iter().flat_map(|b| b.layers()))
    }

    fn record_read(&self, name: &str) {
        if self.recording.get() {
            if let Some(set) = self.state.borrow_mut().recording.as_mut() {
                set.insert(name.into());
            }
        }
    }

    /// DataSmart's `_findVar`: the variable in the nearest layer that has it (an empty,
    /// deleted one included).
    fn find_var(&self, name: &str) -> Option<&Arc<Variable>> {
        self.record_read(name);
        self.layers().find_map(|layer| layer.vars.get(name))
    }

    fn find_overridedata(&self, name: &str) -> Option<&Arc<Vec<OverrideLink>>> {
        self.record_read(name);
        self.layers()
            .find_map(|layer| layer.overridedata.get(name))
            .and_then(Option::as_ref)
    }

    /// `del self.overridedata[name]`.
    fn delete_overridedata(&mut self, name: &str) {
        if self.find_overridedata(name).is_some() {
            self.touched(name);
            self.local.overridedata.insert(name.into(), None);
        }
    }

    /// Forget what depends on `name`: every memoised value, and the expanded OVERRIDES if
    /// it was computed from `name`.
    fn touched(&mut self, name: &str) {
        let state = self.state.get_mut();
        if !state.content_cache.is_empty() {
            state.content_cache.clear();
        }
        if !state.flag_cache.is_empty() {
            state.flag_cache.clear();
        }
        if state.overrides.is_some() && state.override_deps.contains(name) {
            state.overrides = None;
            state.override_deps.clear();
        }
    }

    /// `_makeShadowCopy` and write access: the variable in this store's own layer.
    fn var_mut(&mut self, name: &str) -> &mut Variable {
        self.touched(name);
        if !self.local.vars.contains_key(name) {
            let inherited = self
                .base
                .iter()
                .flat_map(|b| b.layers())
                .find_map(|layer| layer.vars.get(name))
                .cloned()
                .unwrap_or_default();
            self.local.vars.insert(name.into(), inherited);
        }
        Arc::make_mut(self.local.vars.get_mut(name).expect("inserted above"))
    }

    fn overridedata_mut(&mut self, name: &str) -> &mut Vec<OverrideLink> {
        self.touched(name);
        if !matches!(self.local.overridedata.get(name), Some(Some(_))) {
            let inherited = match self.local.overridedata.get(name) {
                Some(None) => None,
                _ => self
                    .base
                    .iter()
                    .flat_map(|b| b.layers())
                    .find_map(|layer| layer.overridedata.get(name))
                    .cloned()
                    .flatten(),
            };
            self.local
                .overridedata
                .insert(name.into(), Some(inherited.unwrap_or_default()));
        }
        let slot = self
            .local
            .overridedata
            .get_mut(name)
            .expect("inserted above");
        Arc::make_mut(slot.as_mut().expect("present"))
    }

    fn record(&mut self, var: &str, op: &str, loc: &Location, flag: Option<&str>, detail: &str) {
        if self.quiet || !self.tracking {
            return;
        }
        let event = VarHistoryEvent {
            op: op.into(),
            loc: loc.clone(),
            flag: flag.map(Arc::from),
            detail: detail.into(),
        };
        match self.local.history.get_mut(var) {
            Some(events) => events.push(event),
            None => {
                self.local.history.insert(var.into(), vec![event]);
            }
        }
    }

    /// `_setvar_update_overrides`: link `var` to the shorter names it is an override of.
    fn register_overrides(&mut self, var: &str) {
        let var_arc: Arc<str> = var.into();
        for (shortvar, override_) in override_links(var) {
            let link = OverrideLink {
                var: var_arc.clone(),
                override_: override_.into(),
            };
            let exists = self
                .find_overridedata(shortvar)
                .is_some_and(|links| links.contains(&link));
            if !exists {
                self.overridedata_mut(shortvar).push(link);
            }
        }
    }

    /// The override links that `delVar` removes.
    fn unregister_overrides(&mut self, var: &str) {
        for (shortvar, override_) in override_links(var) {
            let has = self.find_overridedata(shortvar).is_some_and(|links| {
                links
                    .iter()
                    .any(|l| &*l.var == var && &*l.override_ == override_)
            });
            if has {
                let links = self.overridedata_mut(shortvar);
                if let Some(i) = links
                    .iter()
                    .position(|l| &*l.var == var && &*l.override_ == override_)
                {
                    links.remove(i);
                }
            }
        }
    }

    // ----- statements -----------------------------------------------------------------

    /// Evaluates an assignment statement as `bb.parse.ast.DataNode.eval` does: sets the
    /// `export` flag if exported, computes the value from the operator (`?=` keeps a value
    /// that is already set, `:=` expands now, `+=`/`=+`/`.=`/`=.` combine with the current
    /// value but never with a `??=` default), then sets the flag, the `_defaultval` (for
    /// `??=`) or the variable, where a name with `:append`/`:prepend`/`:remove` becomes an
    /// operation applied when the variable is read.
    ///
    /// Fails only when `:=` fails to expand (the export flag is already set then, as in
    /// BitBake).
    pub fn assign(&mut self, stmt: &Assignment, loc: Location) -> Result<(), ExpansionError> {
        let key = stmt.name.as_str();
        let flag = stmt.flag.as_deref();
        if stmt.exported {
            self.set_var_flag_op(key, "export", "1", "exported", &loc, "1");
        }
        let current = |store: &DataStore| -> Option<Arc<str>> {
            // DataNode.getFunc: the value as set, no weak default, no operations.
            let var = store.find_var(key)?;
            match flag {
                Some(f) => var.get(f).cloned(),
                None => store.content_of(key, var),
            }
        };
        let value: Arc<str> = match stmt.op {
            AssignOp::Set | AssignOp::WeakDefault => stmt.value.as_str().into(),
            AssignOp::Default => current(self).unwrap_or_else(|| stmt.value.as_str().into()),
            AssignOp::Immediate => {
                let varname = format!("{key}[:=]");
                self.expand(&stmt.value, Some(&varname))?.into()
            }
            AssignOp::Append => {
                let old = current(self);
                format!("{} {}", old.as_deref().unwrap_or(""), stmt.value).into()
            }
            AssignOp::Prepend => {
                let old = current(self);
                format!("{} {}", stmt.value, old.as_deref().unwrap_or("")).into()
            }
            AssignOp::DotAppend => {
                let old = current(self);
                format!("{}{}", old.as_deref().unwrap_or(""), stmt.value).into()
            }
            AssignOp::DotPrepend => {
                let old = current(self);
                format!("{}{}", stmt.value, old.as_deref().unwrap_or("")).into()
            }
        };
        let op = stmt.op.history_op();
        match (flag, stmt.op) {
            (Some(f), AssignOp::WeakDefault) if self.dialect == Dialect::Current => {
                let weak = format!("{FLAG_DEFAULT_PREFIX}{f}");
                self.set_var_flag_op(key, &weak, &value, op, &loc, &stmt.value);
            }
            (Some(f), _) => self.set_var_flag_op(key, f, &value, op, &loc, &stmt.value),
            (None, AssignOp::WeakDefault) => {
                self.set_var_flag_op(key, DEFAULTVAL, &value, op, &loc, &stmt.value)
            }
            (None, _) => self.set_var_inner(key, value, true, op, &loc, &stmt.value),
        }
        Ok(())
    }

    /// The `export NAME` statement (`bb.parse.ast.ExportNode`): sets the `export` flag.
    pub fn export(&mut self, name: &str, loc: Location) {
        self.set_var_flag_op(name, "export", "1", "exported", &loc, "1");
    }

    /// The `unset NAME` and `unset NAME[flag]` statements (`UnsetNode`, `UnsetFlagNode`):
    /// [`DataStore::del_var`] or [`DataStore::del_var_flag`].
    pub fn unset(&mut self, name: &str, flag: Option<&str>, loc: Location) {
        match flag {
            Some(flag) => self.del_var_flag(name, flag, &loc),
            None => self.del_var(name, &loc),
        }
    }

    // ----- the Python API ---------------------------------------------------------------

    /// DataSmart's `setVar(var, value)` as Python code calls it: unlike a statement, it
    /// also drops the variable's `:append`/`:prepend`/`:remove` operations and deletes the
    /// override variables that are active now (`A:foo` when `foo` is in OVERRIDES). If
    /// OVERRIDES cannot be expanded, no override variable is deleted.
    pub fn set_var(&mut self, name: &str, value: &str, loc: &Location) {
        self.set_var_inner(name, value.into(), false, "set", loc, value);
    }

    /// DataSmart's `setVar(name, value)` with a value that is not text (a Python object,
    /// such as the `ClassExtender` that oe.classextend keeps in EXTENDERCLASS): BitBake
    /// keeps the object as the value. The variable holds `text` (its `str()`, which
    /// `bitbake -e` prints) and the store keeps `object` beside it, in its own layer, so
    /// that the object belongs to this store: copies and snapshots share it, as
    /// `createCopy` shares the value's reference ([`DataStore::var_object`] reads it).
    ///
    /// The text is made when the variable is first read as text ([`ObjectText`]); an
    /// operation (`A:append`) or a recorded history takes it at once.
    pub fn set_var_object(
        &mut self,
        name: &str,
        text: ObjectText,
        object: Arc<dyn Any + Send + Sync>,
        loc: &Location,
    ) {
        // An operation keeps text, and a recorded history shows it: the text is made now.
        let now = split_operation(name).is_some() || (self.tracking && !self.quiet);
        let content: Arc<str> = if now {
            text.text().clone()
        } else {
            OBJECT_PLACEHOLDER.into()
        };
        let detail: &str = if now { &content } else { "" };
        self.set_var_inner(name, content.clone(), false, "set", loc, detail);
        self.local.objects.insert(
            name.into(),
            StoredObject {
                placeholder: content,
                text: Arc::new(text),
                object,
            },
        );
    }

    /// The object [`DataStore::set_var_object`] stored in `name`, when `value` (what a
    /// read of `name` gives now) is still the text it was stored as; `None` once the
    /// variable was changed to other text.
    pub fn var_object(&self, name: &str, value: &str) -> Option<Arc<dyn Any + Send + Sync>> {
        self.layers()
            .find_map(|layer| layer.objects.get(name))
            .filter(|stored| **stored.text.text() == *value)
            .map(|stored| stored.object.clone())
    }

    /// A variable's `_content` as text: the text of the object stored in it while it
    /// holds that object's placeholder (see [`StoredObject`]).
    fn content_of(&self, name: &str, var: &Variable) -> Option<Arc<str>> {
        let content = var.content.as_ref()?;
        if content.as_bytes().first() == Some(&0) {
            let stored = self
                .layers()
                .filter_map(|layer| layer.objects.get(name))
                .find(|stored| Arc::ptr_eq(&stored.placeholder, content));
            if let Some(stored) = stored {
                return Some(stored.text.text().clone());
            }
        }
        Some(content.clone())
    }

    /// `setVar` with BitBake's `parsing=True` (what statements do): keeps the operations and
    /// override variables.
    pub fn set_var_parsing(&mut self, name: &str, value: &str, loc: &Location) {
        self.set_var_inner(name, value.into(), true, "set", loc, value);
    }

    fn set_var_inner(
        &mut self,
        var: &str,
        value: Arc<str>,
        parsing: bool,
        op: &str,
        loc: &Location,
        detail: &str,
    ) {
        if let Some((base, kind, override_)) = split_operation(var) {
            let op_name = match override_ {
                Some(o) => format!("{}[{o}]", kind.keyword()),
                None => kind.keyword().to_string(),
            };
            let entry = ConditionalOp {
                value: value.clone(),
                override_: override_.map(Arc::from),
            };
            let (base, value_for_history) = (base.to_string(), value);
            self.var_mut(&base).operations_mut(kind).push(entry);
            self.record(&base, &op_name, loc, None, &value_for_history);
            self.register_overrides(&base);
            return;
        }
        if !parsing {
            let var_entry = self.var_mut(var);
            var_entry.appends.clear();
            var_entry.prepends.clear();
            var_entry.removes.clear();
            if let Some(links) = self.find_overridedata(var).cloned() {
                let overrides = self.overrides().unwrap_or_default();
                let active: Vec<Arc<str>> = links
                    .iter()
                    .filter(|l| overrides.is_active(&l.override_))
                    .map(|l| l.var.clone())
                    .collect();
                for a in active {
                    self.del_var(&a, loc);
                }
                self.delete_overridedata(var);
            }
        }
        if var.contains(':') {
            self.register_overrides(var);
        }
        self.var_mut(var).content = Some(value);
        self.record(var, op, loc, None, detail);
    }

    /// DataSmart's `setVarFlag`. `_content` and `_defaultval` name the value and the weak
    /// default.
    pub fn set_var_flag(&mut self, name: &str, flag: &str, value: &str, loc: &Location) {
        self.set_var_flag_op(name, flag, value, "set", loc, value);
    }

    fn set_var_flag_op(
        &mut self,
        var: &str,
        flag: &str,
        value: &str,
        op: &str,
        loc: &Location,
        detail: &str,
    ) {
        self.record(var, op, loc, Some(flag), detail);
        self.var_mut(var).set(flag, value.into());
        if flag == DEFAULTVAL && var.contains(':') {
            self.register_overrides(var);
        }
        if (flag == "export" || flag == "unexport")
            && !self.exported_names().iter().any(|n| &**n == var)
        {
            self.local.exports.push(var.into());
        }
    }

    /// DataSmart's `delVar` (and the `unset` statement): the variable becomes empty in this
    /// store (which hides it in the snapshots below), its override links go, and so does its
    /// own link as an override of a shorter name.
    pub fn del_var(&mut self, name: &str, loc: &Location) {
        self.record(name, "del", loc, None, "");
        // The variable's own entry becomes empty: nothing of the one below is copied.
        self.touched(name);
        match self.local.vars.get_mut(name) {
            Some(var) => *var = Arc::default(),
            None => {
                self.local.vars.insert(name.into(), Arc::default());
            }
        }
        self.delete_overridedata(name);
        if name.contains(':') {
            self.unregister_overrides(name);
        }
    }

    /// DataSmart's `delVarFlag`. With [`Dialect::Current`] the flag's weak default goes
    /// with it.
    pub fn del_var_flag(&mut self, name: &str, flag: &str, loc: &Location) {
        let present = match self.find_var(name) {
            None => return,
            Some(var) if var.is_empty() => return,
            Some(var) => var.get(flag).is_some(),
        };
        if !present {
            return;
        }
        self.record(name, "delFlag", loc, Some(flag), "");
        let dialect = self.dialect;
        let var = self.var_mut(name);
        var.remove(flag);
        if dialect == Dialect::Current {
            var.remove(&format!("{FLAG_DEFAULT_PREFIX}{flag}"));
        }
    }

    /// DataSmart's `appendVar`: an unconditional `:append` operation.
    pub fn append_var(&mut self, name: &str, value: &str, loc: &Location) {
        self.record(name, "append", loc, None, value);
        // setVar(name + ":append", ..., ignore=True): not recorded again.
        let quiet = std::mem::replace(&mut self.quiet, true);
        self.set_var_inner(
            &format!("{name}:append"),
            value.into(),
            true,
            "append",
            loc,
            value,
        );
        self.quiet = quiet;
    }

    /// DataSmart's `prependVar`: an unconditional `:prepend` operation.
    pub fn prepend_var(&mut self, name: &str, value: &str, loc: &Location) {
        self.record(name, "prepend", loc, None, value);
        // setVar(name + ":prepend", ..., ignore=True): not recorded again.
        let quiet = std::mem::replace(&mut self.quiet, true);
        self.set_var_inner(
            &format!("{name}:prepend"),
            value.into(),
            true,
            "prepend",
            loc,
            value,
        );
        self.quiet = quiet;
    }

    /// DataSmart's `appendVarFlag`: the flag's value directly followed by `value`.
    pub fn append_var_flag(&mut self, name: &str, flag: &str, value: &str, loc: &Location) {
        let old = self.raw_flag_with_default(name, flag);
        let new = format!("{}{value}", old.as_deref().unwrap_or(""));
        self.set_var_flag_op(name, flag, &new, "append", loc, value);
    }

    /// DataSmart's `prependVarFlag`: `value` directly followed by the flag's value.
    pub fn prepend_var_flag(&mut self, name: &str, flag: &str, value: &str, loc: &Location) {
        let old = self.raw_flag_with_default(name, flag);
        let new = format!("{value}{}", old.as_deref().unwrap_or(""));
        self.set_var_flag_op(name, flag, &new, "prepend", loc, value);
    }

    /// DataSmart's `renameVar` (used for `BBCLASSEXTEND` and for names holding `${}`): the
    /// value (a `??=` default becomes the value), the `:append`/`:prepend`/`:remove`
    /// operations and the override variables move to `newkey` (other flags do not, as in
    /// BitBake), then `key` is deleted.
    pub fn rename_var(&mut self, key: &str, newkey: &str, loc: &Location) {
        if key == newkey {
            return;
        }
        let mut found = false;
        let src = self.find_var(key).cloned();
        let val = src
            .as_ref()
            .and_then(|v| self.content_of(key, v).or_else(|| v.defaultval.clone()));
        if let Some(val) = &val {
            // rename_variable_hist, which does nothing while history is not tracked.
            if self.tracking {
                for event in self.history(key) {
                    self.push_history(newkey, event);
                }
            }
            self.record(newkey, &format!("rename from {key}"), loc, None, val);
            // setVar(..., ignore=True): not recorded.
            let quiet = std::mem::replace(&mut self.quiet, true);
            self.set_var_inner(newkey, val.clone(), true, "set", loc, val);
            self.quiet = quiet;
            found = true;
        }
        if let Some(src) = &src {
            for kind in [
                OperationKind::Append,
                OperationKind::Prepend,
                OperationKind::Remove,
            ] {
                let ops = src.operations(kind);
                if !ops.is_empty() {
                    self.var_mut(newkey)
                        .operations_mut(kind)
                        .extend(ops.iter().cloned());
                    found = true;
                }
            }
        }
        if let Some(links) = self.find_overridedata(key).cloned() {
            found = true;
            let renamed: Vec<OverrideLink> = links
                .iter()
                .map(|l| OverrideLink {
                    var: l.var.replace(key, newkey).into(),
                    override_: l.override_.clone(),
                })
                .collect();
            let target = self.overridedata_mut(newkey);
            target.clear();
            target.extend(renamed);
            for link in links.iter() {
                let to = link.var.replace(key, newkey);
                self.rename_var(&link.var, &to, loc);
            }
        }
        if !found && self.dialect == Dialect::Current {
            return;
        }
        if newkey.contains(':') && val.is_none() {
            self.register_overrides(newkey);
        }
        self.record(key, "rename (to)", loc, None, newkey);
        // delVar(..., ignore=True): not recorded.
        let quiet = std::mem::replace(&mut self.quiet, true);
        self.del_var(key, loc);
        self.quiet = quiet;
    }

    fn push_history(&mut self, var: &str, event: VarHistoryEvent) {
        self.local
            .history
            .entry(var.into())
            .or_default()
            .push(event);
    }

    // ----- reads ------------------------------------------------------------------------

    /// `getVar(name)` as text: the expanded value, `None` when unset or when it fails to
    /// expand (for readers whose caller has reported, or will report, the failure).
    pub fn get_text(&self, name: &str) -> Option<String> {
        self.get_var(name, true)
            .ok()
            .flatten()
            .map(|v| v.to_string())
    }

    /// DataSmart's `getVar(name, expand)`: the value after override selection by
    /// OVERRIDES, `:append` and `:prepend` (the weak default when nothing else is set);
    /// with `expand`, also expanded and with `:remove` applied. `None` when unset.
    ///
    /// Even unexpanded, a read can fail: when an override variable is chosen, BitBake
    /// expands it (to carry its `:remove`s), and so does this store.
    pub fn get_var(&self, name: &str, expand: bool) -> Result<Option<Arc<str>>, ExpansionError> {
        if expand {
            Ok(self.resolve(name)?.value.clone())
        } else {
            let (value, carried) = self.assemble(name)?;
            if value.as_deref().is_some_and(|v| !v.is_empty()) {
                if let Some((_, c)) = &carried {
                    // Only for BitBake's side effect on the memo (see add_own_removes).
                    let mut removes = c.clone();
                    self.add_own_removes(name, &mut removes, carried.as_ref())?;
                }
            }
            Ok(value)
        }
    }

    /// Adds `var`'s own active `:remove`s to `removes`.
    ///
    /// BitBake quirk, replicated: `removes` starts as the very set object of the chosen
    /// override variable's memoised read (`removes = subparser.removes`), so adding to it
    /// also adds to that memo entry; a later read of another variable that chooses the same
    /// override variable (while the memo lasts, i.e. until the next change) then carries
    /// these removes too. Which values are affected depends on the order of reads, in
    /// BitBake as here.
    fn add_own_removes(
        &self,
        var: &str,
        removes: &mut Vec<Arc<str>>,
        carried: Option<&(Arc<str>, Vec<Arc<str>>)>,
    ) -> Result<(), ExpansionError> {
        let Some(local) = self.find_var(var) else {
            return Ok(());
        };
        if local.removes.is_empty() {
            return Ok(());
        }
        let overrides = self.overrides()?;
        let before = removes.len();
        for op in local.removes.iter().filter(|op| op.applies(&overrides)) {
            if !removes.contains(&op.value) {
                removes.push(op.value.clone());
            }
        }
        if let Some((chosen, _)) = carried {
            if removes.len() > before && self.caching() {
                let mut state = self.state.borrow_mut();
                if let Some(entry) = state.content_cache.get_mut(&**chosen) {
                    if entry.matched_removes.is_some() {
                        entry.matched_removes = Some(removes.clone());
                    }
                }
            }
        }
        Ok(())
    }

    /// DataSmart's `getVarFlag(name, flag, expand)`; `_content` is [`DataStore::get_var`].
    /// A flag has no overrides or operations; with [`Dialect::Current`] a `??=` default of
    /// the flag is its value when it has none.
    pub fn get_var_flag(
        &self,
        name: &str,
        flag: &str,
        expand: bool,
    ) -> Result<Option<Arc<str>>, ExpansionError> {
        if flag == CONTENT {
            return self.get_var(name, expand);
        }
        let raw = self.raw_flag_with_default(name, flag);
        if !expand {
            return Ok(raw);
        }
        let Some(raw) = raw else { return Ok(None) };
        let key = (Arc::<str>::from(name), Arc::<str>::from(flag));
        let caching = self.caching();
        if caching {
            if let Some(hit) = self.state.borrow().flag_cache.get(&key) {
                return Ok(hit.clone());
            }
        }
        let cachename = format!("{name}[{flag}]");
        let stack_key = CacheKey::Flag(key.0.clone(), key.1.clone());
        self.push(stack_key)?;
        let result = stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
            self.expand_str(&raw, Some(&cachename))
        });
        self.pop();
        let value: Option<Arc<str>> = Some(match result? {
            std::borrow::Cow::Borrowed(_) => raw,
            std::borrow::Cow::Owned(s) => s.into(),
        });
        if caching {
            self.state
                .borrow_mut()
                .flag_cache
                .insert(key, value.clone());
        }
        Ok(value)
    }

    fn raw_flag_with_default(&self, name: &str, flag: &str) -> Option<Arc<str>> {
        let var = self.find_var(name)?;
        if flag == CONTENT && var.content.is_some() {
            return self.content_of(name, var);
        }
        if let Some(v) = var.get(flag) {
            return Some(v.clone());
        }
        if flag == CONTENT {
            return var.defaultval.clone();
        }
        if self.dialect == Dialect::Current {
            // The `??=` default of the flag, found without making its name (most reads
            // of a missing flag end here: bb.build.tasksbetween asks every variable).
            return var
                .flags
                .iter()
                .find(|(k, _)| k.strip_prefix(FLAG_DEFAULT_PREFIX) == Some(flag))
                .map(|(_, v)| v.clone());
        }
        None
    }

    /// DataSmart's `getVarFlags(name)`: the flags that are not internal (not starting with
    /// `_` or `:`), unexpanded, in the order they were set. With [`Dialect::Current`], a
    /// flag that has only a `??=` default shows it.
    pub fn get_var_flags(&self, name: &str) -> FlagList {
        let Some(var) = self.find_var(name) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, v) in &var.flags {
            if let Some(plain) = k.strip_prefix(FLAG_DEFAULT_PREFIX) {
                if self.dialect == Dialect::Current && var.flag(plain).is_none() {
                    out.push((Arc::from(plain), v.clone()));
                }
            } else if !k.starts_with('_') && !k.starts_with(':') {
                out.push((k.clone(), v.clone()));
            }
        }
        out
    }

    /// DataSmart's `getVarFlags(name, expand=[...])`: [`DataStore::get_var_flags`] with the
    /// flags named in `expand` expanded (as `expand(value, "name[flag]")`).
    pub fn get_var_flags_expanded(
        &self,
        name: &str,
        expand: &[&str],
    ) -> Result<FlagList, ExpansionError> {
        let mut flags = self.get_var_flags(name);
        for (flag, value) in &mut flags {
            if expand.contains(&&**flag) {
                let varname = format!("{name}[{flag}]");
                *value = self.expand(value, Some(&varname))?.into();
            }
        }
        Ok(flags)
    }

    /// DataSmart's `expand(s, varname)`: `s` with its references expanded against this
    /// store. `varname` (the variable being expanded, if any) only serves the
    /// self-reference check.
    pub fn expand(&self, text: &str, varname: Option<&str>) -> Result<String, ExpansionError> {
        Ok(self.expand_str(text, varname)?.into_owned())
    }

    fn expand_str<'t>(
        &self,
        text: &'t str,
        varname: Option<&str>,
    ) -> Result<std::borrow::Cow<'t, str>, ExpansionError> {
        let mut lookup = |name: &str| -> Result<Option<Arc<str>>, ExpansionError> {
            Ok(self.resolve(name)?.value.clone())
        };
        let mut python = |code: &str| -> Result<Option<String>, ExpansionError> {
            if let Some(var) = varname {
                // python_sub reads the variable's [vardeps], expanded, before it evaluates
                // (to decide whether to log the code parser's findings); its failure fails
                // the expansion.
                self.get_var_flag(var, "vardeps", true)?;
            }
            match self.python.eval(code, self) {
                Ok(value) => Ok(Some(value)),
                Err(InlinePythonError::UnterminatedString) => Ok(None),
                Err(e) => Err(ExpansionError::InlinePython {
                    var: varname.map(Arc::from),
                    code: code.to_string(),
                    message: e.to_string(),
                }),
            }
        };
        expand_text(text, varname, &mut lookup, &mut python)
    }

    fn caching(&self) -> bool {
        self.state.borrow().provisional.is_none()
    }

    fn push(&self, key: CacheKey) -> Result<(), ExpansionError> {
        let mut state = self.state.borrow_mut();
        if state.stack.contains(&key) {
            let mut chain: Vec<Arc<str>> = state.stack.iter().map(cache_key_name).collect();
            chain.push(cache_key_name(&key));
            return Err(ExpansionError::Recursion { chain });
        }
        if state.depth >= MAX_DEPTH {
            return Err(ExpansionError::TooDeep {
                var: cache_key_name(&key),
            });
        }
        state.depth += 1;
        state.stack.push(key);
        Ok(())
    }

    fn pop(&self) {
        let mut state = self.state.borrow_mut();
        state.depth -= 1;
        state.stack.pop();
    }

    /// The value before expansion (override selection, then `:append` and `:prepend`) and
    /// the `:remove`s carried from the override variable that was chosen: the first half of
    /// DataSmart's `getVarFlag` for `_content`.
    fn assemble(&self, var: &str) -> Result<Assembled, ExpansionError> {
        let mut value: Option<Arc<str>> = None;
        let mut carried = None;
        if let Some(links) = self.find_overridedata(var) {
            if !links.is_empty() {
                let overrides = self.overrides()?;
                if let Some(chosen) = select_override(links, &overrides) {
                    let sub = self.resolve(&chosen)?;
                    value = sub.unexpanded.clone();
                    if let Some(removes) = &sub.matched_removes {
                        carried = Some((chosen, removes.clone()));
                    }
                }
            }
        }
        let local = self.find_var(var);
        if let Some(local) = local {
            if value.is_none() {
                value = self
                    .content_of(var, local)
                    .or_else(|| local.defaultval.clone());
            }
            if !local.appends.is_empty() {
                let overrides = self.overrides()?;
                let mut buf: Option<String> = None;
                for op in local.appends.iter().filter(|op| op.applies(&overrides)) {
                    let b = buf.get_or_insert_with(|| value.as_deref().unwrap_or("").to_string());
                    b.push_str(&op.value);
                }
                if let Some(b) = buf {
                    value = Some(b.into());
                }
            }
            if !local.prepends.is_empty() {
                let overrides = self.overrides()?;
                for op in local.prepends.iter().filter(|op| op.applies(&overrides)) {
                    value = Some(format!("{}{}", op.value, value.as_deref().unwrap_or("")).into());
                }
            }
        }
        Ok((value, carried))
    }

    /// A full read of a variable's value, memoised: [`DataStore::assemble`], expansion,
    /// then `:remove` (its own and those carried from the chosen override variable).
    fn resolve(&self, var: &str) -> Result<Resolved, ExpansionError> {
        let caching = self.caching();
        if caching {
            if let Some(hit) = self.state.borrow().content_cache.get(var) {
                return Ok(hit.clone());
            }
        }
        let key: Arc<str> = var.into();
        self.push(CacheKey::Content(key.clone()))?;
        // Nested values recurse through here: grow the stack on demand rather than
        // overflow it (MAX_DEPTH bounds the total).
        let result = stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.resolve_uncached(var));
        self.pop();
        let resolved = result?;
        if caching {
            let mut state = self.state.borrow_mut();
            if state.content_cache.capacity() == 0 {
                // Skip the first steps of growth; a store's reads between two changes are
                // hundreds, not the thousands of names it has (and every change clears
                // the memo, at a cost in proportion to its capacity).
                state.content_cache.reserve(256);
            }
            state.content_cache.insert(key, resolved.clone());
        }
        Ok(resolved)
    }

    fn resolve_uncached(&self, var: &str) -> Result<Resolved, ExpansionError> {
        let (unexpanded, carried) = self.assemble(var)?;
        let mut removes = carried.as_ref().map(|(_, c)| c.clone()).unwrap_or_default();
        let mut value = match &unexpanded {
            None => None,
            Some(raw) => Some(match self.expand_str(raw, Some(var))? {
                std::borrow::Cow::Borrowed(_) => raw.clone(),
                std::borrow::Cow::Owned(s) => Arc::<str>::from(s),
            }),
        };
        let mut matched_removes = None;
        let truthy = value.as_deref().is_some_and(|v| !v.is_empty());
        if truthy {
            self.add_own_removes(var, &mut removes, carried.as_ref())?;
            if !removes.is_empty() {
                let mut words: Vec<(Arc<str>, Vec<String>)> = Vec::with_capacity(removes.len());
                for r in &removes {
                    let expanded = self.expand_str(r, None)?;
                    let split = expanded.split(py_isspace).filter(|w| !w.is_empty());
                    words.push((r.clone(), split.map(str::to_string).collect()));
                }
                let current = value.as_deref().unwrap_or("");
                let mut matched: Vec<Arc<str>> = Vec::new();
                let mut out = String::with_capacity(current.len());
                for token in split_keep_whitespace(current) {
                    let mut skip = false;
                    if !token.starts_with(py_isspace) {
                        for (r, list) in &words {
                            if list.iter().any(|w| w == token) {
                                if !matched.contains(r) {
                                    matched.push(r.clone());
                                }
                                skip = true;
                            }
                        }
                    }
                    if !skip {
                        out.push_str(token);
                    }
                }
                value = Some(out.into());
                matched_removes = Some(matched);
            }
        }
        Ok(Resolved {
            unexpanded,
            value,
            matched_removes,
        })
    }

    /// DataSmart's `need_overrides`: the expanded OVERRIDES, split at `:`. Computed as
    /// BitBake does, by rounds until it no longer changes (the first round reads with no
    /// overrides at all), at most five.
    fn overrides(&self) -> Result<Arc<Overrides>, ExpansionError> {
        {
            let state = self.state.borrow();
            if let Some(p) = &state.provisional {
                return Ok(p.clone());
            }
            if let Some(o) = &state.overrides {
                return Ok(o.clone());
            }
        }
        let saved_stack = {
            let mut state = self.state.borrow_mut();
            state.provisional = Some(Arc::new(Overrides::default()));
            state.recording = Some(FxHashSet::default());
            std::mem::take(&mut state.stack)
        };
        self.recording.set(true);
        let read = || -> Result<Overrides, ExpansionError> {
            let value = self.resolve("OVERRIDES")?.value.clone();
            Ok(Overrides::from_value(value.as_deref().unwrap_or("")))
        };
        let result = (|| {
            let mut current = read()?;
            for _ in 0..5 {
                self.state.borrow_mut().provisional = Some(Arc::new(current.clone()));
                let next = read()?;
                if next == current {
                    return Ok(current);
                }
                current = next;
            }
            Err(ExpansionError::UnstableOverrides)
        })();
        self.recording.set(false);
        let mut state = self.state.borrow_mut();
        state.provisional = None;
        state.stack = saved_stack;
        let deps = state.recording.take().unwrap_or_default();
        let overrides = Arc::new(result?);
        state.overrides = Some(overrides.clone());
        state.override_deps = deps;
        Ok(overrides)
    }

    /// `bb.data.expandKeys`: every variable whose name holds `${...}` is renamed to its
    /// expanded name (in sorted order of the old names; a name that expands to itself
    /// stays), with [`DataStore::rename_var`]'s rules.
    pub fn expand_keys(&mut self, loc: &Location) -> Result<(), ExpansionError> {
        let mut todo: Vec<(Arc<str>, String)> = Vec::new();
        for key in self.keys_where(IndexedNames::WithReferences)? {
            let expanded = self.expand(&key, None)?;
            if *expanded != *key {
                todo.push((key, expanded));
            }
        }
        todo.sort();
        for (key, expanded) in todo {
            self.rename_var(&key, &expanded, loc);
        }
        Ok(())
    }

    // ----- enumeration and history ------------------------------------------------------

    /// DataSmart's `keys()` (`__iter__`), sorted: every variable that is set in the nearest
    /// layer that has it, plus every variable with an override active now (even if it has
    /// no value of its own).
    pub fn keys(&self) -> Result<Vec<Arc<str>>, ExpansionError> {
        self.keys_where(IndexedNames::All)
    }

    /// [`DataStore::keys`] of one kind, in the same order (`expandKeys` wants only the
    /// few with `${`, which the snapshots index apart).
    fn keys_where(&self, names: IndexedNames) -> Result<Vec<Arc<str>>, ExpansionError> {
        let keep = |name: &str| names.keeps(name);
        let overrides = self.overrides()?;
        let active =
            |links: &[OverrideLink]| links.iter().any(|l| overrides.is_active(&l.override_));
        // The snapshot chain's names (already sorted) that this store does not shadow, and
        // the rest: this store's own names and the variables with an active override.
        let mut inherited: Vec<Arc<str>> = Vec::new();
        let mut extras: Vec<Arc<str>> = Vec::new();
        if let Some(base) = &self.base {
            let index = base.index(names);
            inherited.reserve(index.keys.len());
            for name in &index.keys {
                if keep(name) && !self.local.vars.contains_key(name) {
                    inherited.push(name.clone());
                }
            }
            for (name, links) in &index.overridedata {
                if keep(name) && !self.local.overridedata.contains_key(name) && active(links) {
                    extras.push(name.clone());
                }
            }
        }
        for (name, var) in &self.local.vars {
            if !var.is_empty() && keep(name) {
                extras.push(name.clone());
            }
        }
        for (name, links) in &self.local.overridedata {
            if links.as_deref().is_some_and(|l| active(l)) && keep(name) {
                extras.push(name.clone());
            }
        }
        extras.sort_unstable();
        extras.dedup();
        let mut out = Vec::with_capacity(inherited.len() + extras.len());
        let mut extras = extras.into_iter().peekable();
        for name in inherited {
            while let Some(extra) = extras.next_if(|e| *e < name) {
                out.push(extra);
            }
            extras.next_if(|e| *e == name);
            out.push(name);
        }
        out.extend(extras);
        Ok(out)
    }

    /// Whether one of [`DataStore::keys`] starts with `prefix`: the same answer, and the
    /// same error, without listing every name (a binary search in the configuration's
    /// sorted names, then this store's own).
    pub fn has_key_with_prefix(&self, prefix: &str) -> Result<bool, ExpansionError> {
        let overrides = self.overrides()?;
        let active =
            |links: &[OverrideLink]| links.iter().any(|l| overrides.is_active(&l.override_));
        if let Some(base) = &self.base {
            let index = base.index(IndexedNames::All);
            let start = index.keys.partition_point(|k| &**k < prefix);
            let inherited = index.keys[start..]
                .iter()
                .take_while(|k| k.starts_with(prefix))
                .any(|k| !self.local.vars.contains_key(k));
            if inherited
                || index.overridedata.iter().any(|(name, links)| {
                    name.starts_with(prefix)
                        && !self.local.overridedata.contains_key(name)
                        && active(links)
                })
            {
                return Ok(true);
            }
        }
        Ok(self
            .local
            .vars
            .iter()
            .any(|(name, var)| name.starts_with(prefix) && !var.is_empty())
            || self.local.overridedata.iter().any(|(name, links)| {
                name.starts_with(prefix) && links.as_deref().is_some_and(|l| active(l))
            }))
    }

    /// The override variables of `name` (DataSmart's `overridedata[name]`: `name:foo`
    /// with override `foo`...), in the order they were set; what `bitbake -e`'s history
    /// adds as `override[foo]:op` events.
    pub fn override_variables(&self, name: &str) -> Vec<OverrideLink> {
        self.find_overridedata(name)
            .map(|links| links.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The history of a variable, oldest first (DataSmart's `varhistory.variable(name)`).
    pub fn history(&self, name: &str) -> Vec<VarHistoryEvent> {
        let layers: Vec<&Layer> = self.layers().collect();
        layers
            .iter()
            .rev()
            .filter_map(|layer| layer.history.get(name))
            .flatten()
            .cloned()
            .collect()
    }

    /// The names that have an `export` or `unexport` flag set at some point (DataSmart's
    /// `__exportlist`), in the order first set.
    pub fn exported_names(&self) -> Vec<Arc<str>> {
        let layers: Vec<&Layer> = self.layers().collect();
        let mut out: Vec<Arc<str>> = Vec::new();
        for layer in layers.iter().rev() {
            for name in &layer.exports {
                if !out.contains(name) {
                    out.push(name.clone());
                }
            }
        }
        out
    }
}

fn cache_key_name(key: &CacheKey) -> Arc<str> {
    match key {
        CacheKey::Content(name) => name.clone(),
        CacheKey::Flag(name, flag) => format!("{name}[{flag}]").into(),
    }
}

/// Python's `str.isspace` for one character (what `str.split()` and `re`'s `\s` use).
pub(crate) fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `re.split(r'(\s)', text)`: words (possibly empty) and single whitespace characters.
fn split_keep_whitespace(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    let mut pending_ws: Option<&str> = None;
    let mut done = false;
    std::iter::from_fn(move || {
        if let Some(ws) = pending_ws.take() {
            return Some(ws);
        }
        if done {
            return None;
        }
        match rest.char_indices().find(|(_, c)| py_isspace(*c)) {
            Some((i, c)) => {
                let word = &rest[..i];
                let end = i + c.len_utf8();
                pending_ws = Some(&rest[i..end]);
                rest = &rest[end..];
                Some(word)
            }
            None => {
                done = true;
                Some(rest)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc() -> Location {
        Location::new("/t.conf", 1)
    }

    fn set(store: &mut DataStore, name: &str, op: AssignOp, value: &str) {
        let stmt = Assignment {
            exported: false,
            name: name.into(),
            flag: None,
            op,
            value: value.into(),
        };
        store.assign(&stmt, loc()).unwrap();
    }

    #[test]
    fn snapshots_are_shared_across_threads() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>() {}
        send_sync::<Snapshot>();
        send::<DataStore>();

        let mut config = DataStore::new();
        set(&mut config, "OVERRIDES", AssignOp::Set, "foo");
        set(&mut config, "CC", AssignOp::Set, "gcc ${CFLAGS}");
        set(&mut config, "CFLAGS", AssignOp::WeakDefault, "-O2");
        let base = config.snapshot();
        let values: Vec<String> = (0..4)
            .map(|i| {
                let base = base.clone();
                std::thread::spawn(move || {
                    let mut recipe = DataStore::from_snapshot(base);
                    set(
                        &mut recipe,
                        "CFLAGS:append:foo",
                        AssignOp::Set,
                        &format!(" -D{i}"),
                    );
                    recipe.get_var("CC", true).unwrap().unwrap().to_string()
                })
            })
            .map(|h| h.join().unwrap())
            .collect();
        assert_eq!(values[3], "gcc -O2 -D3");
        // The configuration itself is unchanged by its recipes.
        assert_eq!(&*config.get_var("CC", true).unwrap().unwrap(), "gcc -O2");
    }

    #[test]
    fn deleting_in_a_copy_hides_the_snapshot_value() {
        let mut config = DataStore::new();
        set(&mut config, "A", AssignOp::Set, "a");
        let mut copy = config.create_copy();
        copy.del_var("A", &loc());
        assert_eq!(copy.get_var("A", true).unwrap(), None);
        assert_eq!(copy.keys().unwrap(), Vec::<Arc<str>>::new());
        assert_eq!(config.get_var("A", true).unwrap().as_deref(), Some("a"));
    }

    #[test]
    fn a_very_deep_chain_fails_instead_of_overflowing() {
        let mut store = DataStore::new();
        for i in 0..20_000 {
            set(
                &mut store,
                &format!("V{i}"),
                AssignOp::Set,
                &format!("${{V{}}}", i + 1),
            );
        }
        let err = store.get_var("V0", true).unwrap_err();
        assert!(matches!(err, ExpansionError::TooDeep { .. }), "{err}");
        // The store is still usable afterwards.
        assert_eq!(
            store.get_var("V19999", true).unwrap().as_deref(),
            Some("${V20000}")
        );
    }

    #[test]
    fn remove_split_keeps_every_whitespace_character() {
        let tokens: Vec<&str> = split_keep_whitespace(" a  b").collect();
        assert_eq!(tokens, vec!["", " ", "a", " ", "", " ", "b"]);
    }

    /// An object's text is made on the first read of the variable as text, once, and
    /// every way of reading `_content` gives it (expansion, unexpanded read, rename, a
    /// statement's `+=`, `getVarFlag(_content)`); an operation takes it at once.
    #[test]
    fn object_text_is_made_on_the_first_read() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let made = Arc::new(AtomicUsize::new(0));
        let text = |made: &Arc<AtomicUsize>, value: &'static str| {
            let made = made.clone();
            ObjectText::new(move || {
                made.fetch_add(1, Ordering::SeqCst);
                value.to_string()
            })
        };
        let mut store = DataStore::new();
        store.disable_tracking();
        let object: Arc<dyn Any + Send + Sync> = Arc::new(7u32);
        store.set_var_object("OBJ", text(&made, "{'a': 1}"), object.clone(), &loc());
        set(&mut store, "USE", AssignOp::Set, "<${OBJ}>");
        assert_eq!(made.load(Ordering::SeqCst), 0, "nothing read it yet");
        assert_eq!(store.get_text("USE").as_deref(), Some("<{'a': 1}>"));
        assert_eq!(
            store.get_var("OBJ", false).unwrap().as_deref(),
            Some("{'a': 1}")
        );
        assert_eq!(
            store
                .get_var_flag("OBJ", CONTENT, false)
                .unwrap()
                .as_deref(),
            Some("{'a': 1}")
        );
        assert!(store.var_object("OBJ", "{'a': 1}").is_some());
        assert_eq!(made.load(Ordering::SeqCst), 1, "made once");

        let copy_made = Arc::new(AtomicUsize::new(0));
        let mut copy = store.create_copy();
        copy.set_var_object("LATER", text(&copy_made, "[1, 2]"), object.clone(), &loc());
        copy.rename_var("LATER", "RENAMED", &loc());
        assert_eq!(copy.get_text("RENAMED").as_deref(), Some("[1, 2]"));
        assert_eq!(copy.get_text("LATER"), None);
        copy.set_var_object("MORE", text(&copy_made, "[3]"), object.clone(), &loc());
        set(&mut copy, "MORE", AssignOp::Append, "x");
        assert_eq!(copy.get_text("MORE").as_deref(), Some("[3] x"));
        copy.set_var_object("A:append", text(&copy_made, "[4]"), object, &loc());
        assert_eq!(
            copy_made.load(Ordering::SeqCst),
            3,
            "the operation took its text at once"
        );
        assert_eq!(copy.get_text("A").as_deref(), Some("[4]"));
        assert_eq!(
            store.get_text("RENAMED"),
            None,
            "the copy's changes are its own"
        );
    }
}
