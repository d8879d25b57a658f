//! Protocol families: each one folder (state machine, config, properties,
//! planted bugs, doc), all behind one [`Family`] trait and one
//! [`Registry`].
//!
//! - [`single`]: one key-value server.
//! - [`primary_backup`]: asynchronous primary-backup replication.
//! - [`raft`]: a replicated key-value store on Raft.
//! - [`paxos`]: a replicated key-value store on Multi-Paxos.
//! - [`quorum`]: a Dynamo-style key-value store on N/R/W quorums.

/// The names of a family's planted bugs, as scenarios write them, as a
/// constant array: from the family's `Bug::ALL` and its `const fn name`.
/// (`[T; N]::map` is not const, and `Family::planted_bugs` lends a
/// `'static` slice.)
macro_rules! bug_names {
    ($bug:ty) => {{
        const N: usize = <$bug>::ALL.len();
        let mut names = [""; N];
        let mut i = 0;
        while i < N {
            names[i] = <$bug>::ALL[i].name();
            i += 1;
        }
        names
    }};
}
pub(crate) use bug_names;

pub mod checks;
mod family;
pub mod paxos;
pub mod primary_backup;
pub mod quorum;
pub mod raft;
mod registry;
pub mod single;

pub use checks::{Check, Offered, ServiceShape};
pub use family::{Family, Setup};
pub use registry::{Bound, DynFamily, Registry, Runner};
