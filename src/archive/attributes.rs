//! Gitattributes as `git archive` sees them: read from the archived tree (not the work
//! tree), deeper `.gitattributes` overriding shallower ones, macros only at the top.
//! Matching is gix-attributes' (git's wildmatch, `[attr]` macros, `!attr`); this module
//! only keeps the per-directory stack that git's attr.c keeps.

use std::path::{Path, PathBuf};

use gix_attributes::search::{MetadataCollection, Outcome};
use gix_attributes::{Search, StateRef};

/// The attributes archive and checkout conversion consult, in this order.
const SELECTION: [&str; 9] = [
    "export-ignore",
    "export-subst",
    "text",
    "crlf",
    "eol",
    "ident",
    "filter",
    "diff",
    "working-tree-encoding",
];

/// One attribute's state, owned.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Value {
    #[default]
    Unspecified,
    Set,
    Unset,
    Text(Vec<u8>),
}

impl Value {
    fn from_ref(state: StateRef<'_>) -> Self {
        match state {
            StateRef::Set => Value::Set,
            StateRef::Unset => Value::Unset,
            StateRef::Value(v) => Value::Text(v.as_bstr().to_vec()),
            StateRef::Unspecified => Value::Unspecified,
        }
    }

    pub(crate) fn is(&self, text: &str) -> bool {
        matches!(self, Value::Text(v) if v == text.as_bytes())
    }
}

/// What the archive needs to know about one path.
#[derive(Debug, Clone, Default)]
pub(crate) struct Attrs {
    pub export_ignore: bool,
    pub export_subst: bool,
    pub text: Value,
    pub crlf: Value,
    pub eol: Value,
    pub ident: bool,
    pub filter: Value,
    pub diff: Value,
    pub working_tree_encoding: Value,
}

/// The attribute stack while walking a tree.
pub(crate) struct AttrStack {
    collection: MetadataCollection,
    /// Builtin macros, system and global files, then one list per `.gitattributes` of
    /// the directories currently entered (the deepest last, so it wins).
    tree: Search,
    /// `$GIT_DIR/info/attributes`, which beats every in-tree file.
    info: Option<Search>,
    /// Whether each entered directory pushed a list, so `leave` pops only its own.
    pushed: Vec<bool>,
    outcome: Outcome,
    case: gix_attributes::glob::pattern::Case,
    root: PathBuf,
}

impl AttrStack {
    /// `globals` are attribute files below the tree's (system, then global), lowest
    /// precedence first; `info` is `$GIT_DIR/info/attributes`. Canonical archives pass
    /// neither.
    pub(crate) fn new(
        globals: &[PathBuf],
        info: Option<&Path>,
        ignore_case: bool,
    ) -> std::io::Result<Self> {
        let mut collection = MetadataCollection::default();
        let mut buf = Vec::new();
        let tree = Search::new_globals(globals.iter().cloned(), &mut buf, &mut collection)?;
        let info = match info {
            Some(path) => {
                let mut search = Search::default();
                search.add_patterns_file(
                    path.to_path_buf(),
                    true,
                    None,
                    &mut buf,
                    &mut collection,
                    true,
                )?;
                Some(search)
            }
            None => None,
        };
        let mut outcome = Outcome::default();
        outcome.initialize_with_selection(&collection, SELECTION);
        Ok(AttrStack {
            collection,
            tree,
            info,
            pushed: Vec::new(),
            outcome,
            case: if ignore_case {
                gix_attributes::glob::pattern::Case::Fold
            } else {
                gix_attributes::glob::pattern::Case::Sensitive
            },
            // A stand-in root: patterns of `dir/.gitattributes` get the base `dir/`.
            root: PathBuf::from("/"),
        })
    }

    /// Enters directory `dir` (no trailing slash, empty for the root) whose
    /// `.gitattributes` blob holds `contents`, if it has one.
    pub(crate) fn enter(&mut self, dir: &[u8], contents: Option<&[u8]>) {
        let Some(contents) = contents else {
            self.pushed.push(false);
            return;
        };
        let mut source = self.root.clone();
        if !dir.is_empty() {
            source.push(bytes_to_path(dir));
        }
        source.push(".gitattributes");
        // git honours `[attr]` macro definitions only in the top-level file.
        let allow_macros = dir.is_empty();
        self.tree.add_patterns_buffer(
            contents,
            source,
            Some(&self.root),
            &mut self.collection,
            allow_macros,
        );
        self.outcome
            .initialize_with_selection(&self.collection, SELECTION);
        self.pushed.push(true);
    }

    pub(crate) fn leave(&mut self) {
        if self.pushed.pop() == Some(true) {
            self.tree.pop_pattern_list();
        }
    }

    /// Attributes of `path` (relative to the tree root, no trailing slash).
    pub(crate) fn lookup(&mut self, path: &[u8], is_dir: bool) -> Attrs {
        self.outcome.reset();
        let rel = bstr::BStr::new(path);
        if let Some(info) = &self.info {
            info.pattern_matching_relative_path(rel, self.case, Some(is_dir), &mut self.outcome);
        }
        if !self.outcome.is_done() {
            self.tree.pattern_matching_relative_path(
                rel,
                self.case,
                Some(is_dir),
                &mut self.outcome,
            );
        }
        let mut values = self
            .outcome
            .iter_selected()
            .map(|m| Value::from_ref(m.assignment.state));
        let mut next = || values.next().unwrap_or_default();
        let export_ignore = next() == Value::Set;
        let export_subst = next() == Value::Set;
        let text = next();
        let crlf = next();
        let eol = next();
        let ident = next() == Value::Set;
        let filter = next();
        let diff = next();
        let working_tree_encoding = next();
        Attrs {
            export_ignore,
            export_subst,
            text,
            crlf,
            eol,
            ident,
            filter,
            diff,
            working_tree_encoding,
        }
    }
}

#[cfg(unix)]
fn bytes_to_path(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn bytes_to_path(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeper_files_override_and_leave_restores() {
        let mut stack = AttrStack::new(&[], None, false).unwrap();
        stack.enter(
            b"",
            Some(b"*.txt text eol=crlf\n[attr]nope -text\n/top export-ignore\n"),
        );
        assert!(stack.lookup(b"a.txt", false).eol.is("crlf"));
        assert!(stack.lookup(b"top", true).export_ignore);
        stack.enter(b"sub", Some(b"*.txt -text\n*.bin binary\n"));
        let inner = stack.lookup(b"sub/a.txt", false);
        assert_eq!(inner.text, Value::Unset);
        assert_eq!(stack.lookup(b"sub/x.bin", false).diff, Value::Unset);
        // `/top` is anchored to the root file, not to sub/.
        assert!(!stack.lookup(b"sub/top", true).export_ignore);
        stack.leave();
        assert_eq!(stack.lookup(b"sub/a.txt", false).text, Value::Set);
    }
}
