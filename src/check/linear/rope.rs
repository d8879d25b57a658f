//! A string built by appends, as the kv model's states hold it.
//!
//! A search over appends reaches millions of states, each the string of
//! some set of appends: held as plain strings they cost their whole length
//! each (1.6 GB for 8M states of 150 bytes). A rope here is a chain of
//! pieces shared with the state it was appended to, so a new state costs
//! one small link. Equal strings are equal ropes however they were cut
//! into pieces: the hash is a polynomial over the bytes (so `"ab" + "c"`
//! and `"a" + "bc"` hash alike) and equality compares bytes, stopping
//! early where two ropes share a link.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The polynomial hash's base: odd, so powers never reach zero mod 2^64.
const BASE: u64 = 0x100_0000_01b3;

/// A string to append, with what extending a hash by it needs.
#[derive(Debug)]
struct PieceText {
    text: Box<str>,
    /// Polynomial hash of `text`.
    hash: u64,
    /// BASE^len(text).
    power: u64,
}

/// A piece of text, shared by every rope that holds it.
#[derive(Clone, Debug)]
pub struct Piece(Arc<PieceText>);

/// The polynomial hash of `bytes`, as ropes hash their text.
pub fn text_hash(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0u64, |h, &b| h.wrapping_mul(BASE).wrapping_add(u64::from(b)))
}

/// (length, hash) of every prefix of `bytes`, the empty one first.
pub fn prefix_hashes(bytes: &[u8]) -> impl Iterator<Item = (usize, u64)> + '_ {
    let hashes = bytes.iter().scan(0u64, |h, &b| {
        *h = h.wrapping_mul(BASE).wrapping_add(u64::from(b));
        Some(*h)
    });
    std::iter::once((0, 0)).chain(hashes.enumerate().map(|(i, h)| (i + 1, h)))
}

impl Piece {
    /// A piece holding `text`.
    pub fn new(text: &str) -> Piece {
        let (hash, power) = text.bytes().fold((0u64, 1u64), |(h, p), b| {
            (h.wrapping_mul(BASE).wrapping_add(u64::from(b)), p.wrapping_mul(BASE))
        });
        Piece(Arc::new(PieceText {
            text: text.into(),
            hash,
            power,
        }))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0.text
    }
}

/// One append: the rope before it, and the piece.
#[derive(Debug)]
struct Link {
    before: Option<Arc<Link>>,
    piece: Piece,
}

impl Drop for Link {
    /// Unlinks the chain a link at a time: dropped recursively, a chain of
    /// 100k appends would overflow the stack.
    fn drop(&mut self) {
        let mut next = self.before.take();
        while let Some(link) = next {
            next = match Arc::try_unwrap(link) {
                Ok(mut only) => only.before.take(),
                Err(_) => None,
            };
        }
    }
}

/// A string held as a chain of appended pieces.
#[derive(Clone, Debug, Default)]
pub struct Rope {
    len: usize,
    hash: u64,
    last: Option<Arc<Link>>,
}

/// Heap bytes of one link: its allocation (the Arc's two counts, the two
/// pointers) and the allocator's overhead.
pub const LINK_BYTES: usize = 2 * size_of::<usize>() + size_of::<Link>() + super::model::ALLOCATION_BYTES;

impl Rope {
    /// The rope of one piece.
    pub fn of(piece: &Piece) -> Rope {
        Rope::default().then(piece)
    }

    /// This rope with `piece` appended; shares this rope's links.
    pub fn then(&self, piece: &Piece) -> Rope {
        let hash = self.hash.wrapping_mul(piece.0.power).wrapping_add(piece.0.hash);
        Rope {
            len: self.len + piece.0.text.len(),
            hash,
            last: Some(Arc::new(Link {
                before: self.last.clone(),
                piece: piece.clone(),
            })),
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it is the empty string.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether this rope holds a link of its own (none when empty).
    pub fn has_links(&self) -> bool {
        self.last.is_some()
    }

    /// The pieces, last first.
    fn pieces_back(&self) -> impl Iterator<Item = &str> {
        std::iter::successors(self.last.as_deref(), |l| l.before.as_deref()).map(|l| l.piece.as_str())
    }

    /// Whether this rope may be a prefix of `s`: false means it is not;
    /// true, that the prefix of its length has its hash.
    pub fn may_prefix(&self, s: &str) -> bool {
        self.len <= s.len() && text_hash(&s.as_bytes()[..self.len]) == self.hash
    }

    /// Whether this rope spells `s`: compared from the end, where ropes
    /// that differ mostly do.
    pub fn eq_str(&self, s: &str) -> bool {
        if self.len != s.len() {
            return false;
        }
        let mut end = s.len();
        for piece in self.pieces_back() {
            let start = end - piece.len();
            if &s.as_bytes()[start..end] != piece.as_bytes() {
                return false;
            }
            end = start;
        }
        debug_assert_eq!(end, 0, "the pieces add up to the length");
        true
    }
}

impl std::fmt::Display for Rope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pieces: Vec<&str> = self.pieces_back().collect();
        pieces.iter().rev().try_for_each(|p| f.write_str(p))
    }
}

/// Reads a rope's bytes from the end, a piece at a time.
struct Backwards<'a> {
    link: Option<&'a Link>,
    /// Bytes of `link`'s piece not yet read.
    left: usize,
}

impl<'a> Backwards<'a> {
    fn new(rope: &'a Rope) -> Self {
        let link = rope.last.as_deref();
        Backwards {
            link,
            left: link.map_or(0, |l| l.piece.as_str().len()),
        }
    }

    /// Steps past read-out pieces; false at the start of the rope.
    fn settle(&mut self) -> bool {
        while self.left == 0 {
            let Some(link) = self.link else { return false };
            self.link = link.before.as_deref();
            self.left = self.link.map_or(0, |l| l.piece.as_str().len());
        }
        true
    }

    fn unread(&self) -> &'a [u8] {
        let link = self.link.expect("settled on a link");
        &link.piece.as_str().as_bytes()[..self.left]
    }
}

impl PartialEq for Rope {
    fn eq(&self, other: &Rope) -> bool {
        if self.len != other.len || self.hash != other.hash {
            return false;
        }
        let (mut a, mut b) = (Backwards::new(self), Backwards::new(other));
        loop {
            let (more_a, more_b) = (a.settle(), b.settle());
            if !more_a || !more_b {
                debug_assert!(!more_a && !more_b, "equal lengths end together");
                return true;
            }
            let both_whole = a.left == a.link.map_or(0, |l| l.piece.as_str().len())
                && b.left == b.link.map_or(0, |l| l.piece.as_str().len());
            if both_whole && std::ptr::eq(a.link.unwrap(), b.link.unwrap()) {
                return true;
            }
            let (x, y) = (a.unread(), b.unread());
            let n = x.len().min(y.len());
            if x[x.len() - n..] != y[y.len() - n..] {
                return false;
            }
            a.left -= n;
            b.left -= n;
        }
    }
}

impl Eq for Rope {}

impl Hash for Rope {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
        state.write_usize(self.len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    fn rope(pieces: &[&str]) -> Rope {
        pieces.iter().fold(Rope::default(), |r, p| r.then(&Piece::new(p)))
    }

    #[test]
    fn ropes_of_one_string_are_equal_however_cut() {
        let hasher = rustc_hash::FxBuildHasher;
        let cuts = [
            rope(&["abc", "de"]),
            rope(&["a", "bcd", "e"]),
            rope(&["abcde"]),
            rope(&["", "ab", "", "cde"]),
        ];
        for a in &cuts {
            assert_eq!(a.to_string(), "abcde");
            assert!(a.eq_str("abcde") && !a.eq_str("abcdf") && !a.eq_str("abcd"));
            for b in &cuts {
                assert_eq!(a, b);
                assert_eq!(hasher.hash_one(a), hasher.hash_one(b));
            }
        }
        assert_ne!(rope(&["ab", "c"]), rope(&["ab", "d"]));
        assert_ne!(rope(&["ab", "c"]), rope(&["a", "bc", "d"]));
        assert_eq!(rope(&[]), rope(&["", ""]));
        assert!(rope(&[]).eq_str(""));
    }

    #[test]
    fn ropes_that_share_links_compare_by_the_links() {
        let base = rope(&["x"; 1000]);
        let p = Piece::new("y");
        let (a, b) = (base.then(&p), base.then(&p));
        assert_eq!(a, b);
        assert_ne!(a, base.then(&Piece::new("z")));
        assert_eq!(a.len(), 1001);
    }

    #[test]
    fn equal_hashes_of_different_strings_are_told_apart() {
        // Same length and a forced equal hash: only the bytes differ.
        let a = rope(&["ab"]);
        let mut b = rope(&["ba"]);
        b.hash = a.hash;
        assert_ne!(a, b);
    }

    #[test]
    fn a_long_chain_drops_without_recursion() {
        let p = Piece::new("a");
        let mut r = Rope::default();
        for _ in 0..1_000_000 {
            r = r.then(&p);
        }
        assert_eq!(r.len(), 1_000_000);
        drop(r);
    }
}
