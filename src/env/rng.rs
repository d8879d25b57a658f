//! Named random streams, all derived from the run's seed.
//!
//! Each purpose (network, nemesis, each node, each client) draws from its
//! own ChaCha stream, so an extra draw in one place leaves every other
//! stream as it was: adding a timer to a protocol does not change which
//! messages the network drops.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator behind every random stream in a run: ChaCha8, which gives
/// the same numbers on every platform for the same seed and stream.
pub type SimRng = ChaCha8Rng;

/// The stream called `name` for `seed`.
pub fn stream(seed: u64, name: &str) -> SimRng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(crate::fnv::hash(name.as_bytes()));
    rng
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_independent_and_reproducible() {
        let draw = |seed, name| stream(seed, name).gen::<u64>();
        assert_eq!(draw(7, "network"), draw(7, "network"));
        assert_ne!(draw(7, "network"), draw(7, "nemesis"));
        assert_ne!(draw(7, "network"), draw(8, "network"));
        assert_ne!(draw(7, "node/1"), draw(7, "node/2"));
    }
}
