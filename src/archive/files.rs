//! Archives as files: names, atomic creation (a temporary file in the target directory,
//! renamed into place only when complete), and SHA256SUMS.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{Format, Output, Progress, Report, Request, Written};
use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::git::sign::Signer;

/// `<project>-<tag>`, with `/` in the tag turned into `-` (GitLab's archive name, and
/// the directory every entry is under).
pub fn base_name(project: &str, tag: &str) -> String {
    format!("{project}-{}", tag.replace('/', "-"))
}

/// `<project>-<tag>.<ext>`.
pub fn file_name(project: &str, tag: &str, format: Format) -> String {
    format!("{}.{}", base_name(project, tag), format.extension())
}

/// `dir/<project>-<tag>.<ext>`, only when that name is one plain file name in `dir`
/// (`model::paths::confine`): however the project name or tag came to be, the archive
/// lands in the directory asked for.
pub fn path_in(dir: &Path, project: &str, tag: &str, format: Format) -> Result<PathBuf> {
    let name = file_name(project, tag, format);
    crate::model::paths::confine(dir, &name).map_err(|reason| Error::Refused {
        action: format!("writing the {format} archive of {tag:?}"),
        reason: format!("its file name {name:?} cannot be used: {reason}"),
    })
}

/// One archive written to disk.
#[derive(Debug, Clone)]
pub struct WrittenFile {
    pub path: PathBuf,
    pub written: Written,
}

/// Writes each `(format, path)` atomically. Existing files are refused unless `force`
/// (checked for all before any work); on any failure no new file is left behind.
pub fn write_files(
    repo: &Repo,
    request: &Request<'_>,
    targets: &[(Format, PathBuf)],
    force: bool,
    progress: &dyn Progress,
) -> Result<(Report, Vec<WrittenFile>)> {
    if !force {
        if let Some((_, path)) = targets.iter().find(|(_, p)| p.exists()) {
            return Err(Error::FileExists { path: path.clone() });
        }
    }
    let mut temps = Vec::new();
    let mut outputs = Vec::new();
    for (format, path) in targets {
        let temp = TempFile::create(path)?;
        let file = temp.file.try_clone().map_err(|source| Error::WriteFile {
            path: path.clone(),
            source,
        })?;
        outputs.push(Output {
            format: *format,
            sink: Box::new(BufWriter::with_capacity(1 << 20, file)),
        });
        temps.push(temp);
    }
    let report = super::write_archives(repo, request, outputs, progress).map_err(|e| match e {
        Error::ArchiveOutput { format, source } => {
            let path = targets
                .iter()
                .find(|(f, _)| f.to_string() == format)
                .map(|(_, p)| p.clone());
            Error::WriteFile {
                path: path.unwrap_or_default(),
                source,
            }
        }
        e => e,
    })?;
    let mut files = Vec::new();
    for (temp, (format, path)) in temps.into_iter().zip(targets) {
        temp.persist(force)?;
        let written = report.outputs.iter().find(|w| w.format == *format).cloned();
        if let Some(written) = written {
            files.push(WrittenFile {
                path: path.clone(),
                written,
            });
        }
    }
    Ok((report, files))
}

/// Writes a `sha256sum`-style file listing each archive by file name; with `signer`,
/// also its detached signature beside it (`<path>.asc` for OpenPGP, `<path>.sig` for
/// SSH, in namespace `git-release`, and X.509), made before anything is written.
/// Returns the signature's path.
pub fn write_checksums(
    path: &Path,
    files: &[(String, String)],
    force: bool,
    signer: Option<&Signer>,
) -> Result<Option<PathBuf>> {
    let signature_path = signer.map(|s| {
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".{}", s.format.extension()));
        PathBuf::from(name)
    });
    for target in std::iter::once(path).chain(signature_path.as_deref()) {
        if !force && target.exists() {
            return Err(Error::FileExists {
                path: target.to_path_buf(),
            });
        }
    }
    let mut text = String::new();
    for (sha256, name) in files {
        text.push_str(&format!("{sha256}  {name}\n"));
    }
    let signature = signer
        .map(|s| s.sign_detached(text.as_bytes()))
        .transpose()?;
    write_file(path, text.as_bytes(), force)?;
    if let (Some(target), Some(signature)) = (&signature_path, signature) {
        write_file(target, &signature, force)?;
    }
    Ok(signature_path)
}

fn write_file(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    let mut temp = TempFile::create(path)?;
    temp.file
        .write_all(bytes)
        .map_err(|source| Error::WriteFile {
            path: path.to_path_buf(),
            source,
        })?;
    temp.persist(force)
}

/// A file being written next to its final path; removed unless persisted.
struct TempFile {
    file: File,
    temp: PathBuf,
    target: PathBuf,
    done: bool,
}

impl TempFile {
    fn create(target: &Path) -> Result<Self> {
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut last_error = None;
        for _ in 0..16 {
            let temp = dir.join(format!(".{name}.{:08x}.tmp", rand::random::<u32>()));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)
            {
                Ok(file) => {
                    return Ok(TempFile {
                        file,
                        temp,
                        target: target.to_path_buf(),
                        done: false,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_error = Some(e),
                Err(source) => {
                    return Err(Error::WriteFile {
                        path: target.to_path_buf(),
                        source,
                    });
                }
            }
        }
        Err(Error::WriteFile {
            path: target.to_path_buf(),
            source: last_error.unwrap_or_else(|| std::io::Error::other("no free temporary name")),
        })
    }

    /// Moves the file into place. Without `force` a hard link is used, which fails
    /// rather than replace a file that appeared in the meantime.
    fn persist(mut self, force: bool) -> Result<()> {
        let fail = |source| Error::WriteFile {
            path: self.target.clone(),
            source,
        };
        // No fsync: like git archive > file, and it would double the time of a tar. The
        // rename still never exposes a partial file to other processes.
        if force {
            std::fs::rename(&self.temp, &self.target).map_err(fail)?;
        } else {
            match std::fs::hard_link(&self.temp, &self.target) {
                Ok(()) => {
                    let _ = std::fs::remove_file(&self.temp);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(Error::FileExists {
                        path: self.target.clone(),
                    });
                }
                // File systems without hard links: fall back to a rename.
                Err(_) => std::fs::rename(&self.temp, &self.target).map_err(fail)?,
            }
        }
        self.done = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}
