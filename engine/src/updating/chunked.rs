//! A vector that grows without moving what it holds: the updating operators' per-key entries.
//!
//! `table_aggregate` and `keep_last` keep one entry per key in a vector, found through a map
//! from key to position. A `Vec` grown by doubling copies all its entries into a new
//! allocation each time: with millions of keys (q17's (auction, day) groups: 2.4 M for 40 M
//! events) every page of each copy is a fresh page the kernel clears before the copy writes it,
//! and the copies add up to the vector's final size once more. Here the entries live in chunks
//! of [`CHUNK`] slots, each allocated once at its full capacity and never moved, so each entry
//! is written where it stays; finding one costs a shift, a mask and one more load (the list of
//! chunks is small and stays cached).
//!
//! A chunk is allocated with its capacity reserved and not written: only the pages its entries
//! reach are ever touched, so a job with few keys holds little of it.

use std::ops::{Index, IndexMut};

/// log2 of the entries per chunk.
const CHUNK_BITS: u32 = 12;
/// Entries per chunk.
const CHUNK: usize = 1 << CHUNK_BITS;

/// Entries by position `0..len`, in chunks of [`CHUNK`] that never move.
pub(crate) struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Self {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Appends `value` at position [`len`](Self::len) (before the push).
    pub(crate) fn push(&mut self, value: T) {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        let chunk = self
            .chunks
            .last_mut()
            .expect("a chunk with room was just ensured");
        chunk.push(value);
        self.len += 1;
    }
}

impl<T> Index<usize> for Chunked<T> {
    type Output = T;

    #[inline]
    fn index(&self, at: usize) -> &T {
        &self.chunks[at >> CHUNK_BITS][at & (CHUNK - 1)]
    }
}

impl<T> IndexMut<usize> for Chunked<T> {
    #[inline]
    fn index_mut(&mut self, at: usize) -> &mut T {
        &mut self.chunks[at >> CHUNK_BITS][at & (CHUNK - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::{CHUNK, Chunked};

    /// Entries keep their positions and their addresses across chunk boundaries.
    #[test]
    fn entries_stay_where_they_were_written() {
        let mut c = Chunked::default();
        for i in 0..(3 * CHUNK + 5) {
            c.push(i);
        }
        let first = std::ptr::from_ref(&c[0]);
        for i in 0..CHUNK {
            c.push(i);
        }
        assert_eq!(c.len(), 4 * CHUNK + 5);
        assert!(
            std::ptr::eq(first, std::ptr::from_ref(&c[0])),
            "the first entry did not move"
        );
        for i in 0..(3 * CHUNK + 5) {
            assert_eq!(c[i], i);
        }
        c[CHUNK] += 1;
        assert_eq!(c[CHUNK], CHUNK + 1);
        assert_eq!(c[3 * CHUNK + 5 + 7], 7);
    }
}
