//! FNV-1a, 64 bit: a hash that is the same on every machine and build.
//!
//! Used to name RNG streams and for sweep digests. std's hashers are
//! seeded per process or may change between Rust releases; this one is a
//! dozen lines and never changes.

/// A running FNV-1a hash: feed it bytes with `write`, read it with
/// `finish`. `Default` starts from the standard 64-bit offset basis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv64 {
    /// Folds `bytes` into the hash; writing `a` then `b` gives the same
    /// hash as writing `a` and `b` joined.
    pub fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// The hash of every byte written so far; the hasher can keep going.
    pub fn finish(&self) -> u64 {
        self.0
    }
}

/// The FNV-1a 64-bit hash of `bytes` in one call.
pub fn hash(bytes: &[u8]) -> u64 {
    let mut h = Fnv64::default();
    h.write(bytes);
    h.finish()
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_the_published_test_vectors() {
        assert_eq!(super::hash(b""), 0xcbf29ce484222325);
        assert_eq!(super::hash(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(super::hash(b"foobar"), 0x85944171f73967e8);
    }
}
