//! The quorum store's own property: replicas converge after the heal.
//! (`NoStaleReads` and `NoLostWrites` are generic checks over the client
//! history; they need nothing from the family.)

use super::ring::Ring;
use super::Quorum;
use crate::check::converge::{Converges, Placement};
use crate::core::Value;
use crate::property::{PropertyDef, When};

/// Every replica of every key holds the same value, within a bound after
/// the heal.
pub const CONVERGES: &str = "Converges";

/// What the quorum store offers scenarios' `checks`.
pub const PROPERTIES: &[PropertyDef] = &[PropertyDef {
    name: CONVERGES,
    when: When::Eventually,
    about: "within the bound after the heal, every replica of every key holds the same value",
}];

/// The observer of `Converges` for `nodes` nodes with `n` replicas per key.
pub fn converges(nodes: u32, n: u32) -> Converges<Quorum> {
    let ring = Ring::new(nodes);
    let placement: Placement = Box::new(move |key: &Value| {
        let key = key.as_str().expect("the store's keys are strings");
        ring.home(key, n)
    });
    Converges::new(CONVERGES, nodes, Quorum::values, placement)
}
