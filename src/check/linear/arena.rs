//! Append-only storage in chunks of a fixed size, for the search's cache.
//!
//! A vector that doubles holds, while it grows, its old buffer and one
//! twice as large: three times what it stores, which the memory budget
//! must count, and up to twice what it stores after. The search's caches
//! grow to gigabytes, so they grow a chunk at a time instead: never copied,
//! never more than one chunk of slack.

/// Items kept in chunks of `1 << shift` each. The first chunk grows as a
/// vector does, up to that size, so that a small search holds little.
pub struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    shift: u32,
    /// Positions used (for runs, padding included).
    len: usize,
}

/// Bytes a chunk of items aims at: large enough that the chunk list stays
/// short, small enough that slack is a rounding error.
const CHUNK_BYTES: usize = 1 << 20;

/// Where `n` more items go: a new chunk, or the last one, grown to a
/// capacity (only the first chunk ever grows).
enum Room {
    Fits,
    Grow(usize),
    NewChunk,
}

/// Bytes of the list of `chunks` chunks (a vector: at least 4, doubling).
fn list_bytes<T>(chunks: usize) -> usize {
    if chunks == 0 {
        0
    } else {
        chunks.next_power_of_two().max(4) * size_of::<Vec<T>>()
    }
}

impl<T> Chunked<T> {
    /// An empty arena whose chunks hold at least `min_items` each.
    pub fn new(min_items: usize) -> Self {
        let items = (CHUNK_BYTES / size_of::<T>().max(1)).max(min_items).max(1);
        Chunked {
            chunks: Vec::new(),
            shift: items.next_power_of_two().trailing_zeros(),
            len: 0,
        }
    }

    fn chunk_items(&self) -> usize {
        1 << self.shift
    }

    /// Positions used: items pushed, or for runs, padding included.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Where `n` more items go, side by side.
    fn room(&self, n: usize) -> Room {
        let size = self.chunk_items();
        let within = self.len & (size - 1);
        match self.chunks.last() {
            _ if n == 0 => Room::Fits,
            Some(_) if within == 0 || within + n > size => Room::NewChunk,
            None => Room::Grow(n.next_power_of_two().max(4).min(size)),
            Some(last) if within + n <= last.capacity() => Room::Fits,
            Some(last) => Room::Grow((2 * last.capacity()).max(within + n).next_power_of_two().min(size)),
        }
    }

    /// Bytes held once `n` more items are added side by side: the chunks,
    /// and while the first grows, its old buffer and its new one.
    pub fn bytes_with(&self, n: usize) -> usize {
        let capacities: usize = self.chunks.iter().map(Vec::capacity).sum();
        let (more, chunks) = match self.room(n) {
            Room::Fits => (0, self.chunks.len()),
            Room::Grow(capacity) => (capacity, self.chunks.len().max(1)),
            Room::NewChunk => (self.chunk_items(), self.chunks.len() + 1),
        };
        (capacities + more) * size_of::<T>() + list_bytes::<T>(chunks)
    }

    /// Makes room for `n` items side by side; returns where they go.
    fn make_room(&mut self, n: usize) -> usize {
        match self.room(n) {
            Room::Fits => {}
            Room::Grow(capacity) => {
                if self.chunks.is_empty() {
                    self.chunks.push(Vec::new());
                }
                let first = &mut self.chunks[0];
                first.reserve_exact(capacity - first.len());
            }
            Room::NewChunk => {
                self.len = self.len.next_multiple_of(self.chunk_items());
                self.chunks.push(Vec::with_capacity(self.chunk_items()));
            }
        }
        // The next items go in the last chunk, the one `len` points into
        // (a new chunk starts exactly at `len`).
        debug_assert!(n == 0 || self.chunks.len() == (self.len >> self.shift) + 1);
        self.len
    }

    /// Adds `item`; its index is the length before.
    pub fn push(&mut self, item: T) {
        self.make_room(1);
        let chunk = self.chunks.last_mut().expect("a chunk with room");
        debug_assert!(chunk.len() < chunk.capacity(), "pushing never reallocates");
        chunk.push(item);
        self.len += 1;
    }
}

impl<T> std::ops::Index<usize> for Chunked<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        debug_assert!(i < self.len, "index {i} past {} items", self.len);
        &self.chunks[i >> self.shift][i & (self.chunk_items() - 1)]
    }
}

impl<T: Copy> Chunked<T> {
    /// Adds `items` side by side in one chunk (a chunk holds at least the
    /// longest run, as `new` was told) and returns where they start. The
    /// rest of a chunk a run does not fit in stays empty, and is counted.
    /// An arena holds runs or single items, not both.
    pub fn extend_together(&mut self, items: &[T]) -> usize {
        assert!(items.len() <= self.chunk_items(), "a run fits a chunk");
        let start = self.make_room(items.len());
        if let Some(chunk) = self.chunks.last_mut() {
            debug_assert!(chunk.len() + items.len() <= chunk.capacity(), "a run never reallocates");
            chunk.extend_from_slice(items);
        }
        self.len += items.len();
        start
    }

    /// The `n` items from `start`, as `extend_together` placed them.
    pub fn run(&self, start: usize, n: usize) -> &[T] {
        if n == 0 {
            return &[];
        }
        let offset = start & (self.chunk_items() - 1);
        &self.chunks[start >> self.shift][offset..offset + n]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_keep_their_index_across_chunks() {
        let mut a: Chunked<u64> = Chunked::new(0);
        let per_chunk = a.chunk_items();
        for i in 0..3 * per_chunk as u64 + 5 {
            a.push(i * 7);
        }
        assert_eq!(a.len(), 3 * per_chunk + 5);
        assert_eq!(a.chunks.len(), 4);
        assert!((0..a.len()).all(|i| a[i] == i as u64 * 7));
        assert_eq!(a.bytes_with(0), 4 * CHUNK_BYTES + list_bytes::<u64>(4));
        assert_eq!(a.bytes_with(per_chunk), 5 * CHUNK_BYTES + list_bytes::<u64>(5));
        assert!(a.chunks.iter().all(|c| c.capacity() == per_chunk));
    }

    #[test]
    fn a_small_arena_holds_little_and_counts_its_growth() {
        let mut a: Chunked<u64> = Chunked::new(0);
        assert_eq!(a.bytes_with(0), 0);
        assert_eq!(a.bytes_with(1), 4 * 8 + list_bytes::<u64>(1));
        for i in 0..5 {
            a.push(i);
        }
        assert_eq!(a.chunks[0].capacity(), 8);
        // 8 items held: the ninth grows the buffer to 16 (both held while
        // it moves).
        a.push(5);
        a.push(6);
        a.push(7);
        assert_eq!(a.bytes_with(1), (8 + 16) * 8 + list_bytes::<u64>(1));
        a.push(8);
        assert_eq!(a.bytes_with(0), 16 * 8 + list_bytes::<u64>(1));
        assert!((0..9).all(|i| a[i] == i as u64));
    }

    #[test]
    fn runs_never_straddle_two_chunks() {
        let mut a: Chunked<u64> = Chunked::new(0);
        let size = a.chunk_items();
        let mut placed = Vec::new();
        let mut n = 0u64;
        for len in (0..5000).map(|i| i % 97) {
            let items: Vec<u64> = (n..n + len).collect();
            n += len;
            placed.push((a.extend_together(&items), items));
        }
        for (start, items) in &placed {
            assert_eq!(a.run(*start, items.len()), &items[..]);
            if !items.is_empty() {
                assert_eq!(start / size, (start + items.len() - 1) / size);
            }
        }
        assert!(a.chunks.iter().all(|c| c.capacity() == size));
    }

    #[test]
    fn a_chunk_holds_the_longest_run_it_is_told_of() {
        let mut a: Chunked<u64> = Chunked::new(1 << 20);
        let long: Vec<u64> = (0..1 << 20).collect();
        let start = a.extend_together(&long);
        assert_eq!(a.run(start, long.len()), &long[..]);
    }
}
