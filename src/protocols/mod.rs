//! Protocol families: each one folder (state machine, config, properties,
//! planted bugs, doc), all behind one [`Family`] trait and one
//! [`Registry`].
//!
//! - [`single`]: one key-value server.
//! - [`primary_backup`]: asynchronous primary-backup replication.
//! - [`raft`]: a replicated key-value store on Raft.
//! - [`paxos`]: a replicated key-value store on Multi-Paxos.
//! - [`quorum`]: a Dynamo-style key-value store on N/R/W quorums.

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
