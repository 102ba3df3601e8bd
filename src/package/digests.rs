//! The digests of a package file, taken as its bytes stream past once: SHA-256 (what
//! every check compares), and the SHA-1 and MD5 GitLab also reports. A size bound
//! stops a stream that brings more than it may, without reading the rest.

use std::io::{self, Read};

// md-5 0.10 is on digest 0.10; sha1/sha2 0.11 on digest 0.11: two traits named Digest.
use md5::{Digest as _, Md5};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::digest::hex;

/// What a stream of bytes came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    pub size: u64,
    pub sha256: String,
    pub sha1: String,
    pub md5: String,
}

/// A reader that hashes what passes through it and refuses to pass more than `limit`
/// bytes (the error then is [`TooLarge`], found with [`is_too_large`]).
pub struct Hashing<R> {
    inner: R,
    limit: Option<u64>,
    size: u64,
    sha256: Sha256,
    sha1: Sha1,
    md5: Md5,
}

/// The error a [`Hashing`] reader fails with past its limit.
#[derive(Debug)]
pub struct TooLarge {
    pub limit: u64,
}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "more than {} bytes", self.limit)
    }
}

impl std::error::Error for TooLarge {}

/// The limit a reader failed at, when that is why it failed.
pub fn is_too_large(error: &io::Error) -> Option<u64> {
    error
        .get_ref()
        .and_then(|e| e.downcast_ref::<TooLarge>())
        .map(|t| t.limit)
}

impl<R: Read> Hashing<R> {
    pub fn new(inner: R, limit: Option<u64>) -> Self {
        Hashing {
            inner,
            limit,
            size: 0,
            sha256: Sha256::new(),
            sha1: Sha1::new(),
            md5: Md5::new(),
        }
    }

    /// Bytes read so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn finish(self) -> Digests {
        Digests {
            size: self.size,
            sha256: hex(&self.sha256.finalize()),
            sha1: hex(&self.sha1.finalize()),
            md5: hex(&self.md5.finalize()),
        }
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let total = self.size + n as u64;
        if let Some(limit) = self.limit {
            if total > limit {
                return Err(io::Error::other(TooLarge { limit }));
            }
        }
        self.size = total;
        self.sha256.update(&buf[..n]);
        self.sha1.update(&buf[..n]);
        self.md5.update(&buf[..n]);
        Ok(n)
    }
}

/// Fills `buf` from `reader` as far as it goes: fewer bytes only at the end of the
/// stream.
pub fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_the_usual_tools() {
        let mut reader = Hashing::new(&b"abc"[..], None);
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        let d = reader.finish();
        assert_eq!(d.size, 3);
        assert_eq!(
            d.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(d.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(d.md5, "900150983cd24fb0d6963f7d28e17f72");
    }

    #[test]
    fn a_stream_past_its_limit_fails_as_too_large() {
        let data = [7u8; 100];
        let mut reader = Hashing::new(&data[..], Some(99));
        let error = reader.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(is_too_large(&error), Some(99));
        let mut exact = Hashing::new(&data[..], Some(100));
        exact.read_to_end(&mut Vec::new()).unwrap();
        assert_eq!(exact.finish().size, 100);
    }
}
