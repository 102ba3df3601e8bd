//! The tree walk. Phase one walks the trees only (no file blob is read) in git's order,
//! applying `export-ignore` and git's lazy directory rule; phase two reads each blob
//! once, converts it, and hands the entry to every writer.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::attributes::{AttrStack, Attrs, Value};
use super::convert::CrlfAction;
use super::entry::{Entry, Kind};
use super::lfs::Pointer;
use super::objects::{BlobJob, Lanes, Weighed};
use super::settings::Settings;
use crate::error::{Error, Result};
use crate::model::paths::{FileMode, verify_path};

const MODE_DIR: u32 = 0o040000;
const MODE_SYMLINK: u32 = 0o120000;
const MODE_GITLINK: u32 = 0o160000;

/// A member chosen by phase one: path relative to the tree (directories and gitlinks
/// end in `/`), mode, object, and for files what conversion they need.
pub(crate) struct Planned {
    pub rel: Vec<u8>,
    pub kind: Kind,
    pub mode: u32,
    pub oid: git2::Oid,
    pub conversion: Option<Conversion>,
}

impl BlobJob for Planned {
    fn oid(&self) -> git2::Oid {
        self.oid
    }

    fn path(&self) -> &[u8] {
        &self.rel
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Conversion {
    pub crlf: CrlfAction,
    pub ident: bool,
    pub lfs: bool,
    /// Content must come from git (export-subst, a filter driver, an encoding).
    pub from_git: bool,
    /// For those, the attribute pathspec (`:(attr:export-subst)`, `:(attr:filter=x)`)
    /// that makes `git archive` include the file: files are asked for by attribute,
    /// never listed on a command line. `None` for a value no pathspec can match: then
    /// git archives the whole tree for them.
    pub git_selector: Option<String>,
    /// Its `$Format:…$` placeholders are expanded (what may make it depend on refs).
    pub export_subst: bool,
    pub diff_binary: Option<bool>,
}

struct Walker<'r> {
    repo: &'r git2::Repository,
    settings: &'r Settings,
    attrs: AttrStack,
    /// Directories entered but not yet written: git writes a directory only once a
    /// non-directory entry below it is reached (even one that is then export-ignored).
    pending: Vec<(Planned, bool)>,
    out: Vec<Planned>,
}

/// Phase one: the members of `tree` in archive order.
pub(crate) fn plan(
    repo: &git2::Repository,
    tree: &git2::Tree<'_>,
    settings: &Settings,
) -> Result<Vec<Planned>> {
    let attrs = AttrStack::new(
        &settings.global_attributes,
        settings.info_attributes.as_deref(),
        settings.ignore_case,
    )
    .map_err(|e| Error::io("cannot read the gitattributes files", e))?;
    let mut walker = Walker {
        repo,
        settings,
        attrs,
        pending: Vec::new(),
        out: Vec::new(),
    };
    let root_attrs = walker.gitattributes(tree, b"")?;
    walker.attrs.enter(b"", root_attrs.as_deref());
    let mut dir = Vec::new();
    walker.walk(tree, &mut dir)?;
    Ok(walker.out)
}

/// Only the members of `plan` at or below `path` (a directory or a file of the tree),
/// with the directories that lead to it: what `git archive <commit> -- <path>` writes.
/// A path that names nothing in the archive is an error, as it is for git.
pub(crate) fn restrict(plan: Vec<Planned>, path: &str) -> Result<Vec<Planned>> {
    let path = path.trim_matches('/').as_bytes();
    let inside = |rel: &[u8]| {
        let rel = rel.strip_suffix(b"/").unwrap_or(rel);
        rel == path || (rel.starts_with(path) && rel.get(path.len()) == Some(&b'/'))
    };
    // `a/` and `a/b/` lead to `a/b/c`.
    let leads_to_path = |rel: &[u8]| rel.ends_with(b"/") && path.starts_with(rel);
    if path.is_empty() {
        return Ok(plan);
    }
    if !plan.iter().any(|p| inside(&p.rel)) {
        return Err(Error::ArchivePath {
            path: String::from_utf8_lossy(path).into_owned(),
        });
    }
    Ok(plan
        .into_iter()
        .filter(|p| inside(&p.rel) || leads_to_path(&p.rel))
        .collect())
}

impl Walker<'_> {
    fn walk(&mut self, tree: &git2::Tree<'_>, dir: &mut Vec<u8>) -> Result<()> {
        for entry in tree.iter() {
            let base_len = dir.len();
            if base_len > 0 {
                dir.push(b'/');
            }
            dir.extend_from_slice(entry.name_bytes());
            let raw_mode = entry.filemode() as u32;
            let result = check_entry(entry.name_bytes(), raw_mode, dir).and_then(|()| {
                match raw_mode & 0o170000 {
                    MODE_DIR => self.directory(entry.id(), dir),
                    MODE_GITLINK => self.leaf(entry.id(), dir, Kind::Gitlink, MODE_GITLINK),
                    MODE_SYMLINK => self.leaf(entry.id(), dir, Kind::Symlink, MODE_SYMLINK),
                    0o100000 => {
                        // tree-walk.c canon_mode: any regular file is 0644 or 0755.
                        let mode = if raw_mode & 0o100 != 0 {
                            0o100755
                        } else {
                            0o100644
                        };
                        self.leaf(entry.id(), dir, Kind::File, mode)
                    }
                    _ => Err(Error::ArchiveTree {
                        path: String::from_utf8_lossy(dir).into_owned(),
                        reason: format!("unsupported file mode {raw_mode:o}"),
                    }),
                }
            });
            dir.truncate(base_len);
            result?;
        }
        Ok(())
    }

    /// An export-ignored directory writes nothing, but git loads it into its index
    /// all the same, so a path below it that git refuses fails the archive too.
    fn check_ignored(&self, oid: git2::Oid, dir: &mut Vec<u8>) -> Result<()> {
        let tree = self.repo.find_tree(oid).map_err(|e| missing(dir, oid, e))?;
        for entry in tree.iter() {
            let base_len = dir.len();
            dir.push(b'/');
            dir.extend_from_slice(entry.name_bytes());
            let raw_mode = entry.filemode() as u32;
            let result = check_entry(entry.name_bytes(), raw_mode, dir).and_then(|()| {
                if raw_mode & 0o170000 == MODE_DIR {
                    self.check_ignored(entry.id(), dir)
                } else {
                    Ok(())
                }
            });
            dir.truncate(base_len);
            result?;
        }
        Ok(())
    }

    fn directory(&mut self, oid: git2::Oid, path: &mut Vec<u8>) -> Result<()> {
        // A directory's own .gitattributes does not apply to the directory itself.
        if self.attrs.lookup(path, true).export_ignore {
            return self.check_ignored(oid, path);
        }
        let subtree = self
            .repo
            .find_tree(oid)
            .map_err(|e| missing(path, oid, e))?;
        let contents = self.gitattributes(&subtree, path)?;
        self.attrs.enter(path, contents.as_deref());
        let mut rel = path.clone();
        rel.push(b'/');
        self.pending.push((
            Planned {
                rel,
                kind: Kind::Dir,
                mode: MODE_DIR,
                oid,
                conversion: None,
            },
            false,
        ));
        let result = self.walk(&subtree, path);
        self.pending.pop();
        self.attrs.leave();
        result
    }

    fn leaf(&mut self, oid: git2::Oid, path: &[u8], kind: Kind, mode: u32) -> Result<()> {
        for (planned, written) in &mut self.pending {
            if !*written {
                *written = true;
                self.out.push(Planned {
                    rel: planned.rel.clone(),
                    kind: planned.kind,
                    mode: planned.mode,
                    oid: planned.oid,
                    conversion: None,
                });
            }
        }
        let attrs = self.attrs.lookup(path, kind == Kind::Gitlink);
        if attrs.export_ignore {
            return Ok(());
        }
        let mut rel = path.to_vec();
        let conversion = match kind {
            Kind::File => Some(self.conversion(&attrs)),
            Kind::Symlink => Some(Conversion {
                crlf: CrlfAction::Binary,
                ident: false,
                lfs: false,
                from_git: false,
                git_selector: None,
                export_subst: false,
                diff_binary: self.diff_binary(&attrs.diff),
            }),
            Kind::Gitlink => {
                rel.push(b'/');
                None
            }
            Kind::Dir => None,
        };
        self.out.push(Planned {
            rel,
            kind,
            mode,
            oid,
            conversion,
        });
        Ok(())
    }

    fn conversion(&self, attrs: &Attrs) -> Conversion {
        let filter = match &attrs.filter {
            Value::Text(name) => Some(String::from_utf8_lossy(name).into_owned()),
            _ => None,
        };
        let driver_configured = filter
            .as_ref()
            .is_some_and(|f| self.settings.filter_drivers.contains(f));
        let encoding = match &attrs.working_tree_encoding {
            Value::Text(v) if !v.is_empty() => Some(String::from_utf8_lossy(v).into_owned()),
            _ => None,
        };
        // `Some(None)`: git must make the file, but no pathspec can single it out.
        let git_selector = if attrs.export_subst {
            Some(Some(":(attr:export-subst)".to_owned()))
        } else if let Some(driver) = filter.as_ref().filter(|_| driver_configured) {
            Some(pathspec_value(driver).map(|v| format!(":(attr:filter={v})")))
        } else {
            encoding
                .as_ref()
                .map(|e| pathspec_value(e).map(|v| format!(":(attr:working-tree-encoding={v})")))
        };
        Conversion {
            crlf: self.settings.eol.crlf_action(attrs),
            ident: attrs.ident,
            // A configured lfs driver (local mode) is git's to run; otherwise we
            // substitute the objects ourselves.
            lfs: filter.as_deref() == Some("lfs") && !driver_configured,
            from_git: git_selector.is_some(),
            git_selector: git_selector.flatten(),
            export_subst: attrs.export_subst,
            diff_binary: self.diff_binary(&attrs.diff),
        }
    }

    /// userdiff.c: `-diff` means binary, `diff` means "look at the content", and a
    /// named driver is binary if its `diff.<name>.binary` says so.
    fn diff_binary(&self, diff: &Value) -> Option<bool> {
        match diff {
            Value::Unset => Some(true),
            Value::Text(name) => self
                .settings
                .diff_binary
                .get(&*String::from_utf8_lossy(name))
                .copied(),
            Value::Set | Value::Unspecified => None,
        }
    }

    /// The `.gitattributes` blob of `tree`, read whatever its position in the tree:
    /// names sorting before it (`-x`, `!x`) are still governed by it.
    fn gitattributes(&self, tree: &git2::Tree<'_>, dir: &[u8]) -> Result<Option<Vec<u8>>> {
        let Some(entry) = tree.get_name_bytes(b".gitattributes") else {
            return Ok(None);
        };
        if entry.kind() != Some(git2::ObjectType::Blob) {
            return Ok(None);
        }
        let mut path = dir.to_vec();
        if !path.is_empty() {
            path.push(b'/');
        }
        path.extend_from_slice(b".gitattributes");
        let blob = self
            .repo
            .find_blob(entry.id())
            .map_err(|e| missing(&path, entry.id(), e))?;
        Ok(Some(blob.content().to_vec()))
    }
}

/// A blob made ready for the archive, on a reader's thread.
pub(crate) struct Converted {
    pub data: Vec<u8>,
    /// Larger than core.bigFileThreshold: git streams it unconverted.
    pub streamed: bool,
    /// The Git LFS object its pointer names is not in this clone: (path, warning).
    pub lfs_missing: Option<(String, String)>,
}

impl Weighed for Converted {
    fn weight(&self) -> usize {
        self.data.len() + 64
    }
}

/// Phase two for one blob (`planned` has a conversion not done by git): its bytes as
/// `git archive` writes them. Pure, so it runs on any thread.
pub(crate) fn convert(
    settings: &Settings,
    common_dir: &Path,
    planned: &Planned,
    raw: Vec<u8>,
) -> Result<Converted> {
    let mut done = Converted {
        data: raw,
        streamed: false,
        lfs_missing: None,
    };
    let Some(conv) = &planned.conversion else {
        return Ok(done);
    };
    if planned.kind == Kind::Symlink {
        return Ok(done);
    }
    // git streams big files straight from the object store: no conversion at all.
    if done.data.len() as u64 > settings.big_file_threshold {
        done.streamed = true;
        return Ok(done);
    }
    if conv.lfs {
        if let Some(pointer) = Pointer::parse(&done.data) {
            match pointer.load(common_dir) {
                Some(object) => {
                    done.data = object;
                    return Ok(done);
                }
                None => {
                    let rel = String::from_utf8_lossy(&planned.rel).into_owned();
                    let warning = format!(
                        "{rel}: Git LFS object {} is not in {}; the archive contains the pointer file",
                        pointer.oid,
                        common_dir.join("lfs").join("objects").display()
                    );
                    done.lfs_missing = Some((rel, warning));
                }
            }
        }
    }
    if let Some(converted) =
        settings
            .eol
            .to_worktree(&done.data, &planned.oid.to_string(), conv.crlf, conv.ident)
    {
        done.data = converted;
    }
    Ok(done)
}

/// Whether phase two reads this member's blob (export-subst files come from git).
pub(crate) fn reads_blob(planned: &Planned) -> bool {
    planned.conversion.as_ref().is_some_and(|c| !c.from_git)
}

/// Phase two for every member, in order, on the caller's thread: the blobs come
/// converted from the reader lanes.
pub(crate) struct Reader<'r> {
    pub blobs: Lanes<Converted>,
    pub prefix: &'r [u8],
    pub from_git: HashMap<Vec<u8>, Vec<u8>>,
    pub warnings: Vec<String>,
    /// Paths whose LFS object was missing (reported in `Report::lfs_missing`).
    pub lfs_missing: Vec<String>,
}

impl Reader<'_> {
    pub(crate) fn entry(&mut self, planned: &Planned) -> Result<Entry> {
        let mut path = self.prefix.to_vec();
        path.extend_from_slice(&planned.rel);
        let mut entry = Entry {
            path,
            kind: planned.kind,
            mode: planned.mode,
            oid: planned.oid,
            data: Arc::new(Vec::new()),
            streamed: false,
            diff_binary: None,
        };
        let Some(conv) = &planned.conversion else {
            return Ok(entry);
        };
        entry.diff_binary = conv.diff_binary;
        if conv.from_git {
            let data = self
                .from_git
                .remove(&planned.rel)
                .ok_or_else(|| Error::ArchiveTree {
                    path: String::from_utf8_lossy(&planned.rel).into_owned(),
                    reason: "git archive did not return this export-subst file".into(),
                })?;
            entry.data = Arc::new(data);
            return Ok(entry);
        }
        let done = self.blobs.next()?;
        if let Some((rel, warning)) = done.lfs_missing {
            self.warnings.push(warning);
            self.lfs_missing.push(rel);
        }
        entry.streamed = done.streamed;
        entry.data = Arc::new(done.data);
        Ok(entry)
    }
}

fn missing(path: &[u8], oid: git2::Oid, source: git2::Error) -> Error {
    super::objects::read_error(path, oid, source)
}

/// An attribute value as a pathspec's `attr:` magic takes it: only letters, digits,
/// `-`, `_` and `,` (escaped, as it separates magic words) can be matched
/// (pathspec.c); `None` for any other value.
fn pathspec_value(value: &str) -> Option<String> {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            ',' => out.push_str("\\,"),
            c if c.is_ascii_alphanumeric() || c == '-' || c == '_' => out.push(c),
            _ => return None,
        }
    }
    Some(out)
}

/// The paths `git archive` refuses (it fails with "invalid path" before writing
/// anything): an empty name in a tree, and every path of a file, symlink or submodule
/// that git's `verify_path` refuses (`model::paths::verify_path`: `..`, `.git` in its
/// NTFS and HFS+ spellings, `.gitmodules` symlinks). Such trees only come from
/// hand-crafted objects; archived, they would write outside the archive's directory,
/// into a checkout's `.git` or through a `.gitmodules` symlink where extracted.
fn check_entry(name: &[u8], raw_mode: u32, path: &[u8]) -> Result<()> {
    let invalid = |reason: &str| Error::ArchiveTree {
        path: String::from_utf8_lossy(path).into_owned(),
        reason: reason.to_owned(),
    };
    if name.is_empty() {
        return Err(invalid("empty filename in tree entry (git refuses it too)"));
    }
    let mode = match raw_mode & 0o170000 {
        MODE_DIR => return Ok(()),
        MODE_SYMLINK => FileMode::Symlink,
        MODE_GITLINK => FileMode::Gitlink,
        _ => FileMode::File,
    };
    if !verify_path(path, mode) {
        return Err(invalid(
            "invalid path, as git says: extracted, it would write outside the archive's \
             directory, into a .git directory or through a .gitmodules symlink",
        ));
    }
    Ok(())
}
