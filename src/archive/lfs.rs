//! Git LFS: GitLab's archives contain the real files, not the pointers. A file whose
//! `filter` attribute is `lfs` and whose blob is a valid pointer is replaced by the
//! object from `<git dir>/lfs/objects/aa/bb/<oid>` when that object is present and has
//! the pointer's size; otherwise the pointer stays and the caller warns.

use std::path::{Path, PathBuf};

/// A parsed pointer file (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Pointer {
    pub oid: String,
    pub size: u64,
}

impl Pointer {
    pub(crate) fn parse(data: &[u8]) -> Option<Pointer> {
        // Pointers are small text files; anything large is a real file.
        if data.len() > 1024 {
            return None;
        }
        let text = std::str::from_utf8(data).ok()?;
        let mut lines = text.lines();
        if !lines
            .next()?
            .starts_with("version https://git-lfs.github.com/spec/v1")
        {
            return None;
        }
        let mut oid = None;
        let mut size = None;
        for line in lines {
            if let Some(hex) = line.strip_prefix("oid sha256:") {
                if hex.len() == 64
                    && hex
                        .bytes()
                        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
                {
                    oid = Some(hex.to_owned());
                }
            } else if let Some(n) = line.strip_prefix("size ") {
                size = n.parse().ok();
            }
        }
        Some(Pointer {
            oid: oid?,
            size: size?,
        })
    }

    pub(crate) fn object_path(&self, common_dir: &Path) -> PathBuf {
        common_dir
            .join("lfs")
            .join("objects")
            .join(&self.oid[0..2])
            .join(&self.oid[2..4])
            .join(&self.oid)
    }

    /// The object's content, if it is present and complete.
    pub(crate) fn load(&self, common_dir: &Path) -> Option<Vec<u8>> {
        let path = self.object_path(common_dir);
        let meta = std::fs::metadata(&path).ok()?;
        if meta.len() != self.size {
            return None;
        }
        std::fs::read(path).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pointers_and_rejects_other_text() {
        let oid = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393";
        let text =
            format!("version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 12345\n");
        assert_eq!(
            Pointer::parse(text.as_bytes()),
            Some(Pointer {
                oid: oid.into(),
                size: 12345
            })
        );
        assert_eq!(Pointer::parse(b"hello\n"), None);
    }
}
