//! Clients: what they ask (a [`Generator`] per service) and the session
//! rules every client follows whatever it asks ([`session`]).
//!
//! A service that clients can use implements [`Workload`]: it builds each
//! client's generator from the scenario's `workload` and checks the fields
//! it reads. [`kv`] is the key-value service; a family of your own can
//! serve it, or define a service of its own.

pub mod kv;
pub mod session;

pub use session::{Budget, ClientAction, ClientTimer, Session};

use crate::core::{NoService, RequestId, Service};
use crate::env::rng::SimRng;
use crate::scenario::{Invalid, WorkloadSpec};

/// What one client asks, one operation at a time.
pub trait Generator<S: Service>: Send {
    /// The next operation. `request` is unique in the run: a generator can
    /// make written values unique with it.
    fn next_op(&mut self, request: RequestId, rng: &mut SimRng) -> S::Op;

    /// How an operation ended: ok with its output (a value read, say, that
    /// a later cas can expect), failed, or unknown (timed out).
    fn observe(&mut self, _op: &S::Op, _outcome: Outcome<'_, S::Output>) {}

    /// What the client asks at the end (the workload's `final_reads`): a
    /// read of every key, for a key-value service. None by default.
    fn final_ops(&mut self) -> Vec<S::Op> {
        Vec::new()
    }
}

/// How one of a client's operations ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome<'a, Output> {
    /// It took effect, with this output.
    Ok(&'a Output),
    /// It definitely did not take effect.
    Failed,
    /// It timed out: it may take effect at any later point, or never.
    Unknown,
}

/// A service that clients can use in a scenario.
pub trait Workload: Service + Sized {
    /// The generator of client `client` (of `spec.clients`).
    fn generator(spec: &WorkloadSpec, client: u32) -> Box<dyn Generator<Self>>;

    /// Checks the fields of `spec` that this service reads. The session's
    /// own fields (clients, timeout, retry...) are checked already.
    fn validate(_spec: &WorkloadSpec) -> Result<(), Invalid> {
        Ok(())
    }
}

impl Workload for kv::Kv {
    fn generator(spec: &WorkloadSpec, client: u32) -> Box<dyn Generator<Self>> {
        Box::new(kv::KvGenerator::new(spec, client))
    }

    fn validate(spec: &WorkloadSpec) -> Result<(), Invalid> {
        crate::scenario::validate::kv_workload(spec)
    }
}

impl Workload for NoService {
    fn generator(_spec: &WorkloadSpec, _client: u32) -> Box<dyn Generator<Self>> {
        unreachable!("validation refuses a workload for a family that serves no clients")
    }

    fn validate(_spec: &WorkloadSpec) -> Result<(), Invalid> {
        Err(Invalid::at(
            crate::path!["workload"],
            "this protocol serves no clients; expected no workload field",
        ))
    }
}
