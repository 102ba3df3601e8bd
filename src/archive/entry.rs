//! One archive member as every writer sees it: its final path (prefix included,
//! directories ending in `/`), git mode, object id and converted content.

use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Dir,
    File,
    Symlink,
    Gitlink,
}

#[derive(Debug)]
pub(crate) struct Entry {
    pub path: Vec<u8>,
    pub kind: Kind,
    /// The git mode (0100644, 0100755, 0120000, 040000, 0160000).
    pub mode: u32,
    pub oid: git2::Oid,
    /// File content after conversion, or the symlink target; empty otherwise.
    pub data: Arc<Vec<u8>>,
    /// Larger than core.bigFileThreshold: git streams it unconverted, and its zip
    /// entry gets a data descriptor.
    pub streamed: bool,
    /// The `diff` attribute's verdict for zip's text flag: `Some(true)` binary,
    /// `Some(false)` text, `None` decided from the content.
    pub diff_binary: Option<bool>,
}

impl Entry {
    pub(crate) fn oid_hex(&self) -> String {
        self.oid.to_string()
    }

    /// Bytes this entry keeps in memory while queued.
    pub(crate) fn weight(&self) -> usize {
        self.data.len() + self.path.len() + 64
    }
}
