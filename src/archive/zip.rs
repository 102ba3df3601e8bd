//! The zip writer: git's archive-zip.c byte for byte (docs/archive-format.md, "zip"). The zip
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
pub(crate) fn prepare(entry: &Entry, deflater: &mut Deflater) -> io::Result<Prepared> {
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
            let deflated = deflater.deflate_raw(data)?;
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
        let member = Member::new(entry, &prepared, self.flags(path)?, self.offset);
        self.max_creator = self.max_creator.max(member.creator);
        let mtime_extra = self.mtime_extra();
        let header = self.local_header(&member, path, &mtime_extra);
        self.emit(&header)?;
        match &prepared.deflated {
            Some(d) => self.emit(d)?,
            None if member.size > 0 => self.emit(&entry.data)?,
            None => {}
        }
        if member.streamed {
            self.emit(&member.data_descriptor())?;
        }
        let mut directory = std::mem::take(&mut self.directory);
        self.central_record(&mut directory, &member, path, &mtime_extra);
        self.directory = directory;
        self.entries += 1;
        Ok(())
    }

    /// The general purpose flags a path gets: UTF-8 when it is non-ASCII valid UTF-8
    /// (git warns about, and leaves unflagged, any other non-ASCII name).
    fn flags(&mut self, path: &[u8]) -> io::Result<u16> {
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
        if path.is_ascii() {
            return Ok(0);
        }
        if is_utf8(path) {
            return Ok(FLAG_UTF8);
        }
        self.warnings.push(format!(
            "path is not valid UTF-8: {}",
            String::from_utf8_lossy(path)
        ));
        Ok(0)
    }

    /// The local file header, name and extra fields.
    fn local_header(&self, m: &Member, path: &[u8], mtime_extra: &[u8]) -> Vec<u8> {
        // A streamed entry's local header is written before git knows the CRC and the
        // compressed size, so it says 0 there and repeats them in a data descriptor.
        let (crc, csize, size) = if m.zip64 {
            (
                if m.streamed { 0 } else { m.crc },
                0xffff_ffffu32,
                0xffff_ffffu32,
            )
        } else if m.streamed {
            let csize = if m.method == METHOD_STORE {
                m.size as u32
            } else {
                0
            };
            (0, csize, m.size as u32)
        } else {
            (m.crc, m.compressed_size as u32, m.size as u32)
        };
        let mut header = Vec::with_capacity(30 + path.len() + 29);
        le32(&mut header, 0x0403_4b50);
        le16(&mut header, m.version_needed());
        le16(&mut header, m.flags);
        le16(&mut header, m.method);
        le16(&mut header, self.dos_time);
        le16(&mut header, self.dos_date);
        le32(&mut header, crc);
        le32(&mut header, csize);
        le32(&mut header, size);
        le16(&mut header, path.len() as u16);
        le16(
            &mut header,
            (mtime_extra.len() + if m.zip64 { 20 } else { 0 }) as u16,
        );
        header.extend_from_slice(path);
        header.extend_from_slice(mtime_extra);
        if m.zip64 {
            le16(&mut header, 0x0001);
            le16(&mut header, 16);
            le64(&mut header, m.size);
            // Streamed entries do not know the compressed size yet.
            let deflating = m.streamed && m.method == METHOD_DEFLATE;
            le64(&mut header, if deflating { 0 } else { m.compressed_size });
        }
        header
    }

    /// The member's central directory record.
    fn central_record(&self, d: &mut Vec<u8>, m: &Member, path: &[u8], mtime_extra: &[u8]) {
        let big = [m.size, m.compressed_size, m.offset];
        let zip64_payload: u16 = if big.iter().any(|&v| v > 0xffff_ffff) {
            8 * big.iter().filter(|&&v| v >= 0xffff_ffff).count() as u16
        } else {
            0
        };
        let extra = mtime_extra.len() as u16
            + if zip64_payload > 0 {
                4 + zip64_payload
            } else {
                0
            };
        le32(d, 0x0201_4b50);
        le16(d, m.creator);
        le16(d, m.version_needed());
        le16(d, m.flags);
        le16(d, m.method);
        le16(d, self.dos_time);
        le16(d, self.dos_date);
        le32(d, m.crc);
        le32(d, clamp32(m.compressed_size));
        le32(d, clamp32(m.size));
        le16(d, path.len() as u16);
        le16(d, extra);
        le16(d, 0);
        le16(d, 0);
        // Internal attributes: 1 = text. Directories are "neither" in git (0).
        le16(d, u16::from(m.is_binary == Some(false)));
        le32(d, m.external_attr);
        le32(d, clamp32(m.offset));
        d.extend_from_slice(path);
        d.extend_from_slice(mtime_extra);
        if zip64_payload > 0 {
            le16(d, 0x0001);
            le16(d, zip64_payload);
            for v in [m.size, m.compressed_size, m.offset] {
                if v >= 0xffff_ffff {
                    le64(d, v);
                }
            }
        }
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

/// One member's fields, as both its local header and its central record give them.
struct Member {
    flags: u16,
    method: u16,
    crc: u32,
    size: u64,
    compressed_size: u64,
    offset: u64,
    streamed: bool,
    zip64: bool,
    /// "Version made by": Unix 2.3 for executables and symlinks, else 0.
    creator: u16,
    external_attr: u32,
    is_binary: Option<bool>,
}

impl Member {
    fn new(entry: &Entry, prepared: &Prepared, flags: u16, offset: u64) -> Self {
        let (external_attr, creator): (u32, u16) = match entry.kind {
            Kind::Dir | Kind::Gitlink => (0x10, 0),
            Kind::Symlink => ((entry.mode | 0o777) << 16, 0x0317),
            Kind::File if entry.mode & 0o111 != 0 => (entry.mode << 16, 0x0317),
            Kind::File => (0, 0),
        };
        let size = match entry.kind {
            Kind::Dir | Kind::Gitlink => 0,
            _ => entry.data.len() as u64,
        };
        let streamed = entry.streamed && entry.kind == Kind::File;
        let compressed_size = prepared.deflated.as_ref().map_or(size, |d| d.len() as u64);
        Member {
            flags: flags | if streamed { FLAG_STREAM } else { 0 },
            method: prepared.method,
            crc: prepared.crc,
            size,
            compressed_size,
            offset,
            streamed,
            zip64: size > 0xffff_ffff
                || compressed_size > 0xffff_ffff
                || (streamed && size > 0x7fff_ffff),
            creator,
            external_attr,
            is_binary: prepared.is_binary,
        }
    }

    fn version_needed(&self) -> u16 {
        if self.zip64 { 45 } else { 10 }
    }

    /// What follows a streamed member's data: its CRC and sizes.
    fn data_descriptor(&self) -> Vec<u8> {
        let mut desc = Vec::with_capacity(24);
        le32(&mut desc, 0x0807_4b50);
        le32(&mut desc, self.crc);
        if self.size >= 0xffff_ffff || self.compressed_size >= 0xffff_ffff {
            le64(&mut desc, self.compressed_size);
            le64(&mut desc, self.size);
        } else {
            le32(&mut desc, self.compressed_size as u32);
            le32(&mut desc, self.size as u32);
        }
        desc
    }
}

/// A raw deflate stream reused from member to member: `deflateReset` gives the same
/// bytes as a new stream, without allocating and clearing zlib's 256 KiB of state
/// for each of thousands of members.
pub(crate) struct Deflater(Compress);

impl Default for Deflater {
    fn default() -> Self {
        Deflater(Compress::new(Compression::new(LEVEL), false))
    }
}

impl Deflater {
    /// Raw deflate (no zlib header) of the whole buffer, as git's `zlib_deflate_raw`.
    fn deflate_raw(&mut self, data: &[u8]) -> io::Result<Vec<u8>> {
        let z = &mut self.0;
        z.reset();
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
