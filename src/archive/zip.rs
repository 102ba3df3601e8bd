//! The zip writer: git's archive-zip.c byte for byte (shared/ARCHIVE.md §4). The zip
//! crate cannot produce git's layout (version fields, the `UT` extra field, external
//! attributes, the "stored when deflate does not help" rule), so records are written
//! here; deflate is zlib's raw deflate at level 6, as git calls it.

use std::io::{self, Write};

use flate2::{Compress, Compression, FlushCompress, Status};

use super::entry::{Entry, Kind};

const METHOD_STORE: u16 = 0;
const METHOD_DEFLATE: u16 = 8;
const FLAG_STREAM: u16 = 1 << 3;
const FLAG_UTF8: u16 = 1 << 11;
const LEVEL: u32 = 6;

/// What the (parallelisable) compression step found out about one entry.
pub(crate) struct Prepared {
    crc: u32,
    method: u16,
    /// Deflated bytes, when deflate is the method.
    deflated: Option<Vec<u8>>,
    is_binary: Option<bool>,
}

/// Compresses one entry as git would; pure, so it may run on any thread.
pub(crate) fn prepare(entry: &Entry) -> io::Result<Prepared> {
    match entry.kind {
        Kind::Dir | Kind::Gitlink => Ok(Prepared {
            crc: 0,
            method: METHOD_STORE,
            deflated: None,
            is_binary: None,
        }),
        Kind::Symlink | Kind::File => {
            let data = entry.data.as_slice();
            let crc = crc32(data);
            let is_binary = Some(entry.diff_binary.unwrap_or_else(|| buffer_is_binary(data)));
            if entry.kind == Kind::Symlink || data.is_empty() {
                return Ok(Prepared {
                    crc,
                    method: METHOD_STORE,
                    deflated: None,
                    is_binary,
                });
            }
            let deflated = deflate_raw(data)?;
            // git keeps a file stored when deflate does not make it smaller — except
            // when streaming, where the local header is already written.
            if deflated.len() >= data.len() && !entry.streamed {
                return Ok(Prepared {
                    crc,
                    method: METHOD_STORE,
                    deflated: None,
                    is_binary,
                });
            }
            Ok(Prepared {
                crc,
                method: METHOD_DEFLATE,
                deflated: Some(deflated),
                is_binary,
            })
        }
    }
}

pub(crate) struct ZipWriter<W: Write> {
    out: W,
    offset: u64,
    directory: Vec<u8>,
    entries: u64,
    max_creator: u16,
    dos_time: u16,
    dos_date: u16,
    time: i64,
    commit_hex: String,
    /// Paths git warns about (not UTF-8: no "language encoding" flag).
    pub warnings: Vec<String>,
}

impl<W: Write> ZipWriter<W> {
    /// `local_time` is the archive time broken down in the zone whose clock the DOS
    /// fields use (git: the local zone of the process; canonical archives: UTC).
    pub(crate) fn new(
        out: W,
        commit_hex: &str,
        time: i64,
        local_time: chrono::NaiveDateTime,
    ) -> Self {
        use chrono::{Datelike, Timelike};
        // git computes these in an int and keeps the low 16 bits; so do we.
        let dos_date = i64::from(local_time.day())
            + i64::from(local_time.month()) * 32
            + (i64::from(local_time.year()) - 1980) * 512;
        let dos_time = i64::from(local_time.second() / 2)
            + i64::from(local_time.minute()) * 32
            + i64::from(local_time.hour()) * 2048;
        ZipWriter {
            out,
            offset: 0,
            directory: Vec::new(),
            entries: 0,
            max_creator: 0,
            dos_time: dos_time as u16,
            dos_date: dos_date as u16,
            time,
            commit_hex: commit_hex.to_owned(),
            warnings: Vec::new(),
        }
    }

    pub(crate) fn entry(&mut self, entry: &Entry, prepared: Prepared) -> io::Result<()> {
        let path = entry.path.as_slice();
        if path.len() > 0xffff {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "path too long for zip ({} bytes): {}",
                    path.len(),
                    String::from_utf8_lossy(path)
                ),
            ));
        }
        let mut flags = 0u16;
        if !path.is_ascii() {
            if is_utf8(path) {
                flags |= FLAG_UTF8;
            } else {
                self.warnings.push(format!(
                    "path is not valid UTF-8: {}",
                    String::from_utf8_lossy(path)
                ));
            }
        }
        let (attr2, mut creator): (u32, u16) = match entry.kind {
            Kind::Dir | Kind::Gitlink => (0x10, 0),
            Kind::Symlink => ((entry.mode | 0o777) << 16, 0x0317),
            Kind::File if entry.mode & 0o111 != 0 => (entry.mode << 16, 0x0317),
            Kind::File => (0, 0),
        };
        if matches!(entry.kind, Kind::Dir | Kind::Gitlink) {
            creator = 0;
        }
        self.max_creator = self.max_creator.max(creator);
        let size = match entry.kind {
            Kind::Dir | Kind::Gitlink => 0,
            _ => entry.data.len() as u64,
        };
        let streamed = entry.streamed && entry.kind == Kind::File;
        if streamed {
            flags |= FLAG_STREAM;
        }
        let method = prepared.method;
        let compressed_size = match &prepared.deflated {
            Some(d) => d.len() as u64,
            None => size,
        };
        let need_zip64 =
            size > 0xffff_ffff || compressed_size > 0xffff_ffff || (streamed && size > 0x7fff_ffff);
        let version_needed: u16 = if need_zip64 { 45 } else { 10 };
        let offset = self.offset;

        // A streamed entry's local header is written before git knows the CRC and the
        // compressed size, so it says 0 there and repeats them in a data descriptor.
        let (local_crc, local_csize, local_size) = if need_zip64 {
            (
                if streamed { 0 } else { prepared.crc },
                0xffff_ffffu32,
                0xffff_ffffu32,
            )
        } else if streamed {
            let csize = if method == METHOD_STORE {
                size as u32
            } else {
                0
            };
            (0, csize, size as u32)
        } else {
            (prepared.crc, compressed_size as u32, size as u32)
        };
        let mtime_extra = self.mtime_extra();
        let mut header = Vec::with_capacity(30 + path.len() + 29);
        le32(&mut header, 0x0403_4b50);
        le16(&mut header, version_needed);
        le16(&mut header, flags);
        le16(&mut header, method);
        le16(&mut header, self.dos_time);
        le16(&mut header, self.dos_date);
        le32(&mut header, local_crc);
        le32(&mut header, local_csize);
        le32(&mut header, local_size);
        le16(&mut header, path.len() as u16);
        le16(
            &mut header,
            (mtime_extra.len() + if need_zip64 { 20 } else { 0 }) as u16,
        );
        header.extend_from_slice(path);
        header.extend_from_slice(&mtime_extra);
        if need_zip64 {
            le16(&mut header, 0x0001);
            le16(&mut header, 16);
            le64(&mut header, size);
            // Streamed entries do not know the compressed size yet.
            le64(
                &mut header,
                if streamed && method == METHOD_DEFLATE {
                    0
                } else {
                    compressed_size
                },
            );
        }
        self.emit(&header)?;
        match &prepared.deflated {
            Some(d) => self.emit(d)?,
            None if size > 0 => {
                let data = entry.data.clone();
                self.emit(&data)?
            }
            None => {}
        }
        if streamed {
            let mut desc = Vec::with_capacity(24);
            le32(&mut desc, 0x0807_4b50);
            le32(&mut desc, prepared.crc);
            if size >= 0xffff_ffff || compressed_size >= 0xffff_ffff {
                le64(&mut desc, compressed_size);
                le64(&mut desc, size);
            } else {
                le32(&mut desc, compressed_size as u32);
                le32(&mut desc, size as u32);
            }
            self.emit(&desc)?;
        }

        let mut zip64_payload = 0u16;
        if compressed_size > 0xffff_ffff || size > 0xffff_ffff || offset > 0xffff_ffff {
            for v in [compressed_size, size, offset] {
                if v >= 0xffff_ffff {
                    zip64_payload += 8;
                }
            }
        }
        let dir_extra = mtime_extra.len() as u16
            + if zip64_payload > 0 {
                4 + zip64_payload
            } else {
                0
            };
        let d = &mut self.directory;
        le32(d, 0x0201_4b50);
        le16(d, creator);
        le16(d, version_needed);
        le16(d, flags);
        le16(d, method);
        le16(d, self.dos_time);
        le16(d, self.dos_date);
        le32(d, prepared.crc);
        le32(d, clamp32(compressed_size));
        le32(d, clamp32(size));
        le16(d, path.len() as u16);
        le16(d, dir_extra);
        le16(d, 0);
        le16(d, 0);
        // Internal attributes: 1 = text. Directories are "neither" in git (0).
        le16(d, u16::from(prepared.is_binary == Some(false)));
        le32(d, attr2);
        le32(d, clamp32(offset));
        d.extend_from_slice(path);
        d.extend_from_slice(&mtime_extra);
        if zip64_payload > 0 {
            le16(d, 0x0001);
            le16(d, zip64_payload);
            if size >= 0xffff_ffff {
                le64(d, size);
            }
            if compressed_size >= 0xffff_ffff {
                le64(d, compressed_size);
            }
            if offset >= 0xffff_ffff {
                le64(d, offset);
            }
        }
        self.entries += 1;
        Ok(())
    }

    pub(crate) fn finish(mut self) -> io::Result<W> {
        let directory = std::mem::take(&mut self.directory);
        let dir_offset = self.offset;
        self.out.write_all(&directory)?;
        let clamped = self.entries > 0xffff || dir_offset > 0xffff_ffff;
        if clamped {
            let mut z64 = Vec::with_capacity(76);
            le32(&mut z64, 0x0606_4b50);
            le64(&mut z64, 44);
            le16(&mut z64, self.max_creator);
            le16(&mut z64, 45);
            le32(&mut z64, 0);
            le32(&mut z64, 0);
            le64(&mut z64, self.entries);
            le64(&mut z64, self.entries);
            le64(&mut z64, directory.len() as u64);
            le64(&mut z64, dir_offset);
            le32(&mut z64, 0x0706_4b50);
            le32(&mut z64, 0);
            le64(&mut z64, dir_offset + directory.len() as u64);
            le32(&mut z64, 1);
            self.out.write_all(&z64)?;
        }
        let mut end = Vec::with_capacity(22 + 64);
        le32(&mut end, 0x0605_4b50);
        le16(&mut end, 0);
        le16(&mut end, 0);
        le16(&mut end, self.entries.min(0xffff) as u16);
        le16(&mut end, self.entries.min(0xffff) as u16);
        le32(&mut end, directory.len() as u32);
        le32(&mut end, clamp32(dir_offset));
        le16(&mut end, self.commit_hex.len() as u16);
        end.extend_from_slice(self.commit_hex.as_bytes());
        self.out.write_all(&end)?;
        Ok(self.out)
    }

    fn mtime_extra(&self) -> [u8; 9] {
        let mut extra = [0u8; 9];
        extra[0..2].copy_from_slice(&0x5455u16.to_le_bytes());
        extra[2..4].copy_from_slice(&5u16.to_le_bytes());
        extra[4] = 1;
        // git stores the 32 low bits of the time.
        extra[5..9].copy_from_slice(&(self.time as u32).to_le_bytes());
        extra
    }

    fn emit(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.offset += bytes.len() as u64;
        Ok(())
    }
}

/// Raw deflate (no zlib header) of the whole buffer, as git's `zlib_deflate_raw`.
fn deflate_raw(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut z = Compress::new(Compression::new(LEVEL), false);
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    loop {
        let consumed = z.total_in() as usize;
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(4096));
        }
        match z.compress_vec(&data[consumed..], &mut out, FlushCompress::Finish) {
            Ok(Status::StreamEnd) => return Ok(out),
            Ok(_) => {}
            Err(e) => return Err(io::Error::other(format!("deflate failed: {e}"))),
        }
    }
}

pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(data);
    crc.sum()
}

/// xdiff's `buffer_is_binary`: a NUL in the first 8000 bytes.
fn buffer_is_binary(data: &[u8]) -> bool {
    data[..data.len().min(8000)].contains(&0)
}

/// git's `is_utf8`, which unlike Rust also rejects U+FFFE and U+FFFF.
fn is_utf8(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(s) => !s.chars().any(|c| c == '\u{FFFE}' || c == '\u{FFFF}'),
        Err(_) => false,
    }
}

fn clamp32(v: u64) -> u32 {
    v.min(0xffff_ffff) as u32
}

fn le16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn le32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn le64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}
