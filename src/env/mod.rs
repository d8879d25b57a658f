//! A node's environment, owned by the simulator: its clocks, its disk and
//! its random streams. Nodes reach them only through their `Ctx`.

pub mod clock;
pub mod disk;
pub mod rng;
