//! bzip2 on every core, with the exact bytes of single-threaded `bzip2 -c`.
//!
//! A bzip2 stream is a header, blocks, an end marker and a combined CRC. Blocks are
//! compressed independently but are not byte-aligned, and where one ends depends on
//! the first run-length stage (RLE1). So we run RLE1's bookkeeping over the input to
//! find each block's input exactly as libbzip2 would cut it (a run still open when a
//! block fills up moves to the next block), compress each range as its own one-block
//! stream on a worker, cut the block's bits out, and splice them together.
//! Unlike pbzip2 (which concatenates whole streams), the result is byte-identical.

use std::ffi::{c_int, c_uint, c_void};
use std::io::{self, Write};

use bzip2_sys as ffi;

/// libbzip2's `nblockMAX` at level 9: 100000 * 9 - 19.
const NBLOCK_MAX: usize = 899_981;
const EOS_MAGIC: u64 = 0x1772_4538_5090;

/// Splits a byte stream into the input ranges libbzip2 makes blocks of.
pub(crate) struct Splitter {
    /// Current run character (256 = none) and its length, as `state_in_ch/len`.
    ch: u32,
    len: usize,
    /// Bytes the current block holds after RLE1.
    nblock: usize,
    /// Input bytes of the block being filled (ends with the open run).
    current: Vec<u8>,
}

impl Default for Splitter {
    fn default() -> Self {
        Splitter {
            ch: 256,
            len: 0,
            nblock: 0,
            current: Vec::with_capacity(NBLOCK_MAX + 1024),
        }
    }
}

impl Splitter {
    /// Feeds input; calls `block` with each completed block's input.
    pub(crate) fn feed(
        &mut self,
        data: &[u8],
        block: &mut impl FnMut(Vec<u8>) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, &byte) in data.iter().enumerate() {
            if self.nblock >= NBLOCK_MAX {
                self.current.extend_from_slice(&data[start..i]);
                start = i;
                self.cut(block)?;
            }
            let b = u32::from(byte);
            if b != self.ch && self.len == 1 {
                self.nblock += 1;
                self.ch = b;
            } else if b != self.ch || self.len == 255 {
                if self.ch < 256 {
                    self.nblock += pair_size(self.len);
                }
                self.ch = b;
                self.len = 1;
            } else {
                self.len += 1;
            }
        }
        self.current.extend_from_slice(&data[start..]);
        Ok(())
    }

    /// The end of input: the last block (plus, if the block filled up on the very
    /// last byte, the full one before it, as libbzip2 compresses that one first).
    pub(crate) fn finish(
        mut self,
        block: &mut impl FnMut(Vec<u8>) -> io::Result<()>,
    ) -> io::Result<()> {
        if self.nblock >= NBLOCK_MAX {
            self.cut(block)?;
        }
        if !self.current.is_empty() {
            block(std::mem::take(&mut self.current))?;
        }
        Ok(())
    }

    /// The block is full: everything but the open run goes; the run starts the next.
    fn cut(&mut self, block: &mut impl FnMut(Vec<u8>) -> io::Result<()>) -> io::Result<()> {
        let keep = self.len.min(self.current.len());
        let rest = self.current.split_off(self.current.len() - keep);
        let full = std::mem::replace(&mut self.current, rest);
        self.current.reserve(NBLOCK_MAX + 1024);
        self.nblock = 0;
        block(full)
    }
}

/// Bytes `add_pair_to_block` stores for a run: up to 3 as is, else 4 plus a count.
fn pair_size(len: usize) -> usize {
    if len < 4 { len } else { 5 }
}

/// Compresses one block's input as a complete one-block stream (level 9, work factor
/// 30: `bzip2 -c`'s settings), with the compressor's memory taken from `arena`.
pub(crate) fn compress_block(input: Vec<u8>, arena: &mut Arena) -> io::Result<Vec<u8>> {
    let fail = |what: &str, rc: c_int| io::Error::other(format!("bzip2 {what} failed ({rc})"));
    let len =
        c_uint::try_from(input.len()).map_err(|_| io::Error::other("bzip2 block too long"))?;
    let mut stream = Stream::new(arena)?;
    stream.strm.next_in = input.as_ptr().cast_mut().cast();
    stream.strm.avail_in = len;
    let mut out = Vec::with_capacity(input.len() / 3 + 1024);
    // Running first only copies the input into the compressor's own block (it is one
    // block at most, sorted at the finish or as its last byte fills it): our copy can
    // go before the sort, while the compressor's memory is at its peak.
    while stream.strm.avail_in > 0 {
        let rc = stream.step(&mut out, ffi::BZ_RUN);
        if rc != ffi::BZ_RUN_OK {
            return Err(fail("compression", rc));
        }
    }
    stream.strm.next_in = std::ptr::null_mut();
    drop(input);
    loop {
        match stream.step(&mut out, ffi::BZ_FINISH) {
            ffi::BZ_STREAM_END => return Ok(out),
            ffi::BZ_FINISH_OK => {}
            rc => return Err(fail("compression", rc)),
        }
    }
}

/// One libbzip2 compressor, ended however the compression ends. Boxed: libbzip2
/// keeps a pointer to it and refuses calls made through a moved copy.
struct Stream<'a> {
    strm: Box<ffi::bz_stream>,
    _arena: std::marker::PhantomData<&'a mut Arena>,
}

impl<'a> Stream<'a> {
    fn new(arena: &'a mut Arena) -> io::Result<Self> {
        // SAFETY: an all-zero bz_stream is the documented starting state (null
        // pointers, no callbacks) before the allocator is filled in.
        let mut strm: ffi::bz_stream = unsafe { std::mem::zeroed() };
        strm.bzalloc = Some(arena_alloc);
        strm.bzfree = Some(arena_free);
        strm.opaque = std::ptr::from_mut(arena).cast();
        let mut stream = Stream {
            strm: Box::new(strm),
            _arena: std::marker::PhantomData,
        };
        // SAFETY: the stream is initialised as libbzip2 requires; `opaque` points at
        // the arena, borrowed mutably for the stream's whole life.
        let rc = unsafe { ffi::BZ2_bzCompressInit(&mut *stream.strm, 9, 0, 30) };
        if rc != ffi::BZ_OK {
            // Init failed: there is nothing to end.
            stream.strm.state = std::ptr::null_mut();
            return Err(io::Error::other(format!("bzip2 init failed ({rc})")));
        }
        Ok(stream)
    }

    /// One call of `BZ2_bzCompress` with `action`, writing into `out`'s spare room.
    fn step(&mut self, out: &mut Vec<u8>, action: c_int) -> c_int {
        if out.capacity() - out.len() < 1 << 16 {
            out.reserve(1 << 18);
        }
        let room = (out.capacity() - out.len()).min(c_uint::MAX as usize);
        // SAFETY: next_out/avail_out describe `out`'s spare capacity; libbzip2 writes
        // at most `room` bytes there and counts them down in avail_out, so exactly the
        // bytes it wrote are added to the length.
        unsafe {
            self.strm.next_out = out.as_mut_ptr().add(out.len()).cast();
            self.strm.avail_out = room as c_uint;
            let rc = ffi::BZ2_bzCompress(&mut *self.strm, action);
            let wrote = room - self.strm.avail_out as usize;
            out.set_len(out.len() + wrote);
            self.strm.next_out = std::ptr::null_mut();
            self.strm.avail_out = 0;
            rc
        }
    }
}

impl Drop for Stream<'_> {
    fn drop(&mut self) {
        if !self.strm.state.is_null() {
            // SAFETY: the stream was initialised by BZ2_bzCompressInit and not ended.
            unsafe { ffi::BZ2_bzCompressEnd(&mut *self.strm) };
        }
    }
}

/// The memory of one worker's compressors. libbzip2 allocates the same four buffers
/// for every block (7 MB at level 9, mostly the sort arrays) and frees them at the
/// end; from the system allocator they come back as fresh pages every time, and
/// faulting them in and unmapping them cost 4–5% of the whole archive's CPU. Kept
/// here, a block reuses the previous block's pages.
#[derive(Default)]
pub(crate) struct Arena {
    free: Vec<Buffer>,
    used: Vec<Buffer>,
}

struct Buffer {
    ptr: std::ptr::NonNull<u8>,
    layout: std::alloc::Layout,
}

// SAFETY: a Buffer owns its allocation; nothing else points at it once its stream ends.
unsafe impl Send for Buffer {}

impl Arena {
    fn alloc(&mut self, size: usize) -> *mut c_void {
        let fits = (0..self.free.len())
            .filter(|&i| self.free[i].layout.size() >= size)
            .min_by_key(|&i| self.free[i].layout.size());
        let buffer = match fits {
            Some(i) => self.free.swap_remove(i),
            None => {
                let Ok(layout) = std::alloc::Layout::from_size_align(size.max(1), 16) else {
                    return std::ptr::null_mut();
                };
                // SAFETY: the layout has a non-zero size.
                let Some(ptr) = std::ptr::NonNull::new(unsafe { std::alloc::alloc(layout) }) else {
                    return std::ptr::null_mut();
                };
                Buffer { ptr, layout }
            }
        };
        let ptr = buffer.ptr.as_ptr().cast();
        self.used.push(buffer);
        ptr
    }

    fn free(&mut self, ptr: *mut c_void) {
        if let Some(i) = self.used.iter().position(|b| b.ptr.as_ptr().cast() == ptr) {
            let buffer = self.used.swap_remove(i);
            self.free.push(buffer);
        }
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        for buffer in self.free.drain(..).chain(self.used.drain(..)) {
            // SAFETY: allocated in `alloc` with this layout, and freed only here.
            unsafe { std::alloc::dealloc(buffer.ptr.as_ptr(), buffer.layout) };
        }
    }
}

/// libbzip2's allocator callback (like malloc, the memory need not be zeroed).
extern "C" fn arena_alloc(opaque: *mut c_void, items: c_int, size: c_int) -> *mut c_void {
    let (Ok(items), Ok(size)) = (usize::try_from(items), usize::try_from(size)) else {
        return std::ptr::null_mut();
    };
    let Some(bytes) = items.checked_mul(size) else {
        return std::ptr::null_mut();
    };
    // SAFETY: `opaque` is the arena the stream was made with (Stream::new), which
    // outlives the stream and is used by nothing else meanwhile.
    let arena = unsafe { &mut *opaque.cast::<Arena>() };
    arena.alloc(bytes)
}

extern "C" fn arena_free(opaque: *mut c_void, ptr: *mut c_void) {
    // SAFETY: as in arena_alloc.
    let arena = unsafe { &mut *opaque.cast::<Arena>() };
    arena.free(ptr);
}

/// Splices one-block streams into one stream.
pub(crate) struct Assembler<W: Write> {
    out: W,
    /// Pending bits (MSB first) not yet forming a whole byte, and how many.
    acc: u64,
    nacc: u32,
    combined_crc: u32,
    buf: Vec<u8>,
}

impl<W: Write> Assembler<W> {
    pub(crate) fn new(out: W) -> Self {
        let mut asm = Assembler {
            out,
            acc: 0,
            nacc: 0,
            combined_crc: 0,
            buf: Vec::with_capacity(1 << 20),
        };
        asm.buf.extend_from_slice(b"BZh9");
        asm
    }

    /// Appends the block inside `stream` (a one-block stream from `compress_block`).
    pub(crate) fn block(&mut self, stream: &[u8]) -> io::Result<()> {
        let bad = || io::Error::other("bzip2 produced an unexpected stream");
        if stream.len() < 4 + 10 + 10 || &stream[..4] != b"BZh9" {
            return Err(bad());
        }
        let block_crc = u32::from_be_bytes([stream[10], stream[11], stream[12], stream[13]]);
        let total = stream.len() * 8;
        // The stream ends with the end marker, the CRC (equal to the block's in a
        // one-block stream) and 0–7 zero bits of padding.
        let end = (0..8)
            .map(|pad| total - pad - 80)
            .find(|&e| {
                read_bits(stream, e, 48) == EOS_MAGIC
                    && read_bits(stream, e + 48, 32) == u64::from(block_crc)
            })
            .ok_or_else(bad)?;
        self.put_bits(&stream[4..], end - 32);
        self.combined_crc = self.combined_crc.rotate_left(1) ^ block_crc;
        if self.buf.len() >= 1 << 20 {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.push(EOS_MAGIC, 48);
        self.push(u64::from(self.combined_crc), 32);
        if self.nacc > 0 {
            let pad = 8 - self.nacc;
            self.push(0, pad);
        }
        self.out.write_all(&self.buf)?;
        Ok(self.out)
    }

    /// Appends the first `nbits` bits of `src`.
    fn put_bits(&mut self, src: &[u8], nbits: usize) {
        let whole = nbits / 8;
        if self.nacc == 0 {
            self.buf.extend_from_slice(&src[..whole]);
        } else {
            // Shift whole bytes through the accumulator: each output byte is the
            // pending bits followed by the top bits of the next input byte.
            let shift = self.nacc;
            let mut acc = self.acc;
            self.buf.reserve(whole);
            for &byte in &src[..whole] {
                let merged = (acc << 8) | u64::from(byte);
                self.buf.push((merged >> shift) as u8);
                acc = merged & ((1 << shift) - 1);
            }
            self.acc = acc;
        }
        let rest = (nbits % 8) as u32;
        if rest > 0 {
            self.push(u64::from(src[whole] >> (8 - rest)), rest);
        }
    }

    fn push(&mut self, value: u64, n: u32) {
        let mut n = n;
        while n > 0 {
            let take = n.min(8);
            let bits = (value >> (n - take)) & ((1 << take) - 1);
            self.acc = (self.acc << take) | bits;
            self.nacc += take;
            n -= take;
            if self.nacc >= 8 {
                self.nacc -= 8;
                self.buf.push((self.acc >> self.nacc) as u8);
                self.acc &= (1 << self.nacc) - 1;
            }
        }
    }
}

fn read_bits(data: &[u8], start: usize, n: usize) -> u64 {
    let mut v = 0u64;
    for bit in start..start + n {
        let byte = data.get(bit / 8).copied().unwrap_or(0);
        v = (v << 1) | u64::from((byte >> (7 - bit % 8)) & 1);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serial(data: &[u8]) -> Vec<u8> {
        compress_block(data.to_vec(), &mut Arena::default()).unwrap()
    }

    fn parallel(data: &[u8], chunk: usize) -> Vec<u8> {
        let mut asm = Assembler::new(Vec::new());
        let mut blocks = Vec::new();
        let mut splitter = Splitter::default();
        for piece in data.chunks(chunk.max(1)) {
            splitter
                .feed(piece, &mut |b| {
                    blocks.push(b);
                    Ok(())
                })
                .unwrap();
        }
        splitter
            .finish(&mut |b| {
                blocks.push(b);
                Ok(())
            })
            .unwrap();
        for b in blocks {
            asm.block(&serial(&b)).unwrap();
        }
        asm.finish().unwrap()
    }

    #[test]
    fn spliced_blocks_equal_one_stream() {
        // Runs crossing block boundaries, long runs, and incompressible stretches.
        let mut data = Vec::new();
        let mut x = 1u32;
        for i in 0..2_600_000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let byte = if (i / 1000) % 3 == 0 {
                b'z'
            } else {
                (x >> 16) as u8 % 7
            };
            data.push(byte);
        }
        assert_eq!(parallel(&data, 65536), serial(&data));
        // Short runs of every length around RLE1's threshold of 4, over two blocks.
        let mut runs = Vec::new();
        let mut i = 0usize;
        while runs.len() < 2_000_000 {
            runs.extend(std::iter::repeat_n((i % 251) as u8, i % 7 + 1));
            i += 1;
        }
        assert_eq!(parallel(&runs, 10240), serial(&runs));
        assert_eq!(parallel(b"tiny", 1), serial(b"tiny"));
    }

    #[test]
    fn a_reused_arena_gives_the_bytes_of_a_fresh_one() {
        // The second block is compressed in memory the first one left dirty.
        let mut arena = Arena::default();
        let first: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let second: Vec<u8> = (0..200_000u32).map(|i| (i / 3 % 5) as u8 + b'a').collect();
        compress_block(first, &mut arena).unwrap();
        let reused = compress_block(second.clone(), &mut arena).unwrap();
        assert_eq!(reused, serial(&second));
        assert_eq!(arena.used.len(), 0);
        assert!(!arena.free.is_empty());
    }

    #[test]
    fn a_block_filled_by_the_last_byte_is_followed_by_the_open_run() {
        // With no runs every byte adds one to the block (the previous one is stored
        // when the next arrives), so this input fills the block with its last byte.
        let data: Vec<u8> = (0..=NBLOCK_MAX).map(|i| (i % 2) as u8 + b'a').collect();
        assert_eq!(parallel(&data, 4096), serial(&data));
        let mut blocks = 0;
        let mut splitter = Splitter::default();
        splitter
            .feed(&data, &mut |_| {
                blocks += 1;
                Ok(())
            })
            .unwrap();
        splitter
            .finish(&mut |_| {
                blocks += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!(blocks, 2);
    }
}
