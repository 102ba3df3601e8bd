//! The tar writer: git's archive-tar.c byte for byte (docs/archive-format.md, "tar"). Headers are
//! built by hand because git's differ from every tar library's in small ways (7-digit
//! checksum, devmajor/devminor written as octal zeros, a 154-byte prefix limit, pax
//! headers named after the object id).

use std::io::{self, Write};

use super::entry::{Entry, Kind};

const BLOCK: usize = 512;
/// git writes in 10240-byte records (20 blocks) and pads the last one.
const RECORD: usize = 10240;
const USTAR_MAX_SIZE: u64 = 0o77777777777;
const USTAR_MAX_MTIME: i64 = 0o77777777777;

pub(crate) struct TarWriter<W: Write> {
    out: W,
    time: i64,
    umask: u32,
    written: u64,
}

impl<W: Write> TarWriter<W> {
    /// Writes the pax global header carrying the commit id (and the real mtime when it
    /// does not fit the octal field, which is then clamped as git does).
    pub(crate) fn new(out: W, commit_hex: &str, time: i64, umask: u32) -> io::Result<Self> {
        let mut ext = Vec::new();
        ext_record(&mut ext, "comment", commit_hex.as_bytes());
        let mut time = time;
        if time > USTAR_MAX_MTIME {
            ext_record(&mut ext, "mtime", time.to_string().as_bytes());
            time = USTAR_MAX_MTIME;
        }
        let mut header = [0u8; BLOCK];
        put(&mut header[0..100], b"pax_global_header");
        prepare_header(&mut header, time, b'g', 0o100666, ext.len() as u64);
        let mut writer = TarWriter {
            out,
            time,
            umask,
            written: 0,
        };
        writer.emit(&header)?;
        writer.emit_padded(&ext)?;
        Ok(writer)
    }

    pub(crate) fn entry(&mut self, entry: &Entry) -> io::Result<()> {
        let (typeflag, mode) = match entry.kind {
            Kind::Dir | Kind::Gitlink => (b'5', (entry.mode | 0o777) & !self.umask),
            Kind::Symlink => (b'2', entry.mode | 0o777),
            Kind::File => {
                let bits = if entry.mode & 0o100 != 0 {
                    0o777
                } else {
                    0o666
                };
                (b'0', (entry.mode | bits) & !self.umask)
            }
        };
        let oid = entry.oid_hex();
        let path = &entry.path;
        let mut header = [0u8; BLOCK];
        let mut ext = Vec::new();
        if path.len() > 100 {
            let plen = path_prefix_len(path, 155);
            let rest = path.len() - plen - 1;
            if plen > 0 && rest <= 100 {
                put(&mut header[345..500], &path[..plen]);
                put(&mut header[0..100], &path[plen + 1..]);
            } else {
                put(&mut header[0..100], format!("{oid}.data").as_bytes());
                ext_record(&mut ext, "path", path);
            }
        } else {
            put(&mut header[0..100], path);
        }
        if entry.kind == Kind::Symlink {
            if entry.data.len() > 100 {
                put(
                    &mut header[157..257],
                    format!("see {oid}.paxheader").as_bytes(),
                );
                ext_record(&mut ext, "linkpath", &entry.data);
            } else {
                put(&mut header[157..257], &entry.data);
            }
        }
        let size = entry.data.len() as u64;
        let mut size_in_header = if entry.kind == Kind::File { size } else { 0 };
        if entry.kind == Kind::File && size > USTAR_MAX_SIZE {
            size_in_header = 0;
            ext_record(&mut ext, "size", size.to_string().as_bytes());
        }
        if !ext.is_empty() {
            let mut xheader = [0u8; BLOCK];
            put(&mut xheader[0..100], format!("{oid}.paxheader").as_bytes());
            prepare_header(&mut xheader, self.time, b'x', 0o100666, ext.len() as u64);
            self.emit(&xheader)?;
            self.emit_padded(&ext)?;
        }
        prepare_header(&mut header, self.time, typeflag, mode, size_in_header);
        self.emit(&header)?;
        if entry.kind == Kind::File {
            self.emit_padded(&entry.data)?;
        }
        Ok(())
    }

    /// Pads the last record with zeros; if fewer than two zero blocks (1024 bytes) fit,
    /// git adds one more whole record.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        let used = (self.written % RECORD as u64) as usize;
        let tail = RECORD - used;
        let zeros = vec![0u8; RECORD];
        self.out.write_all(&zeros[..tail])?;
        if tail < 2 * BLOCK {
            self.out.write_all(&zeros)?;
        }
        Ok(self.out)
    }

    fn emit(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn emit_padded(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.emit(bytes)?;
        let pad = (BLOCK - bytes.len() % BLOCK) % BLOCK;
        if pad > 0 {
            self.emit(&[0u8; BLOCK][..pad])?;
        }
        Ok(())
    }
}

/// archive-tar.c `prepare_header`.
fn prepare_header(header: &mut [u8; BLOCK], time: i64, typeflag: u8, mode: u32, size: u64) {
    octal(&mut header[100..108], u64::from(mode & 0o7777));
    octal(&mut header[108..116], 0);
    octal(&mut header[116..124], 0);
    octal(&mut header[124..136], size);
    octal(&mut header[136..148], time.max(0) as u64);
    header[156] = typeflag;
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    put(&mut header[265..297], b"root");
    put(&mut header[297..329], b"root");
    octal(&mut header[329..337], 0);
    octal(&mut header[337..345], 0);
    // The checksum counts its own field as eight spaces.
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum::<u32>() + 8 * u32::from(b' ');
    octal(&mut header[148..156], u64::from(sum));
}

/// archive-tar.c `get_path_prefix`: the last `/` before `maxlen` (ignoring a trailing
/// one), so the ustar prefix field gets at most 154 bytes.
fn path_prefix_len(path: &[u8], maxlen: usize) -> usize {
    let mut i = path.len();
    if i > 1 && path[i - 1] == b'/' {
        i -= 1;
    }
    i = i.min(maxlen);
    loop {
        i -= 1;
        if i == 0 || path[i] == b'/' {
            return i;
        }
    }
}

/// archive-tar.c `strbuf_append_ext_header`: `<len> <key>=<value>\n` where `len`
/// counts its own digits, computed with git's loop.
fn ext_record(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    let mut len = 1 + 1 + key.len() + 1 + value.len() + 1;
    let mut tmp = 1;
    while len / 10 >= tmp {
        len += 1;
        tmp *= 10;
    }
    out.extend_from_slice(format!("{len} {key}=").as_bytes());
    out.extend_from_slice(value);
    out.push(b'\n');
}

/// `%0*o` with a NUL in the last byte of the field, as git's xsnprintf leaves it.
fn octal(field: &mut [u8], value: u64) {
    let digits = field.len() - 1;
    let text = format!("{value:0digits$o}");
    let bytes = text.as_bytes();
    // Wider values are cut by snprintf; callers clamp before that can happen.
    let n = bytes.len().min(digits);
    field[..n].copy_from_slice(&bytes[bytes.len() - n..]);
    field[digits] = 0;
}

/// Copies `bytes` into a fixed field; a value as long as the field has no NUL.
fn put(field: &mut [u8], bytes: &[u8]) {
    let n = bytes.len().min(field.len());
    field[..n].copy_from_slice(&bytes[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_record_length_counts_its_own_digits() {
        let mut out = Vec::new();
        ext_record(&mut out, "comment", &[b'a'; 40]);
        assert_eq!(&out[..11], b"52 comment=");
        assert_eq!(out.len(), 52);
        let mut out = Vec::new();
        ext_record(&mut out, "path", &[b'p'; 92]);
        // 99 bytes besides the length, whose three digits make 102.
        assert_eq!(&out[..4], b"102 ");
        assert_eq!(out.len(), 102);
    }

    #[test]
    fn prefix_split_follows_gits_rule() {
        let long = b"d60d60d60d60d60d60d60d60d60d60d60d60d60d60d60d60d60d60d60d60/e60/f28.txt";
        assert_eq!(path_prefix_len(long, 155), 64);
        let mut p = vec![b'a'; 155];
        p.extend_from_slice(b"/b10");
        assert_eq!(path_prefix_len(&p, 155), 0);
    }
}
