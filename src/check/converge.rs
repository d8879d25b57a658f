//! `Converges(within)`: within the bound after the heal, every replica of
//! every key holds the same value (or the same set of siblings).
//!
//! Generic over the family: it gives a projection from a node's state to
//! the values it holds as a replica (key to value; siblings as one
//! [`Value::List`], sorted), and a placement naming the replicas each key
//! must be on. The observer keeps each node's latest projection from the
//! heal on, and the property is reached at the first moment when every
//! node has stepped since the heal, none is down, and for every key held
//! anywhere all of its replicas hold the same value (a replica without the
//! key holds nothing, which differs from any value). Before the heal it
//! does no work at all.

use crate::core::{Node, NodeId, Value};
use crate::property::{Findings, Moment, Observer};
use std::collections::{BTreeMap, BTreeSet};

/// What a node holds as a replica: key to value (or sorted sibling list).
pub type Projection<N> = fn(&N) -> BTreeMap<Value, Value>;

/// The replicas a key must be on.
pub type Placement = Box<dyn Fn(&Value) -> Vec<NodeId> + Send>;

/// The observer behind `Converges` (or any property name a family gives
/// it).
pub struct Converges<N> {
    name: &'static str,
    project: Projection<N>,
    placement: Placement,
    /// Each node's projection since the heal; `None`: not seen since, or
    /// down.
    held: Vec<Option<BTreeMap<Value, Value>>>,
    reached: bool,
    /// Steps judged after the heal, for the evidence.
    judged: u64,
    /// Why the last judgment found no convergence.
    gap: String,
}

impl<N> Converges<N> {
    /// Judges property `name` over `nodes` nodes.
    pub fn new(name: &'static str, nodes: u32, project: Projection<N>, placement: Placement) -> Self {
        Converges {
            name,
            project,
            placement,
            held: vec![None; nodes as usize],
            reached: false,
            judged: 0,
            gap: "no node stepped after the heal".into(),
        }
    }

    /// Where the replicas still differ, or `None` once they all agree.
    pub fn divergence(&self) -> Option<String> {
        if let Some(i) = self.held.iter().position(Option::is_none) {
            return Some(format!("n{i} was down or had not stepped since the heal"));
        }
        let held: Vec<&BTreeMap<Value, Value>> = self.held.iter().flatten().collect();
        let keys: BTreeSet<&Value> = held.iter().flat_map(|m| m.keys()).collect();
        for key in keys {
            let replicas = (self.placement)(key);
            debug_assert!(!replicas.is_empty(), "a key has replicas");
            let value_at = |r: &NodeId| held[r.0 as usize].get(key);
            let first = value_at(&replicas[0]);
            if let Some(other) = replicas.iter().find(|r| value_at(r) != first) {
                let show = |v: Option<&Value>| v.map_or("nothing".to_string(), ToString::to_string);
                return Some(format!(
                    "key {key}: {} holds {}, {other} holds {}",
                    replicas[0],
                    show(first),
                    show(value_at(other))
                ));
            }
        }
        None
    }

    fn judge(&mut self, found: &mut Findings) {
        self.judged += 1;
        match self.divergence() {
            Some(gap) => self.gap = gap,
            None => {
                let keys: BTreeSet<&Value> = self.held.iter().flatten().flat_map(|m| m.keys()).collect();
                found.reached(self.name, format!("every replica of all {} keys agreed", keys.len()));
                self.reached = true;
            }
        }
    }
}

impl<N: Node> Observer<N> for Converges<N> {
    fn after_step(&mut self, at: &Moment, id: NodeId, node: &N, found: &mut Findings) {
        if self.reached || !at.after_heal() {
            return;
        }
        self.held[id.0 as usize] = Some((self.project)(node));
        self.judge(found);
    }

    fn crashed(&mut self, _at: &Moment, id: NodeId, _found: &mut Findings) {
        self.held[id.0 as usize] = None;
    }

    fn finish(self: Box<Self>, _at: &Moment, _states: &[Option<&N>], found: &mut Findings) {
        let evidence = if self.reached {
            "replicas agreed".to_string()
        } else {
            format!("replicas still differed after {} steps: {}", self.judged, self.gap)
        };
        found.evaluated(self.name, evidence);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Ctx, Node};
    use crate::property::Moment;

    /// A node that is nothing but its values.
    struct Held(BTreeMap<Value, Value>);

    impl Node for Held {
        type Msg = ();
        type Timer = ();
        type Service = crate::core::NoService;
        fn on_start(&mut self, _ctx: &mut Ctx<'_, Self>) {}
        fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, _msg: ()) {}
        fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _timer: ()) {}
    }

    fn held(pairs: &[(&str, &str)]) -> Held {
        Held(pairs.iter().map(|(k, v)| (Value::from(*k), Value::from(*v))).collect())
    }

    /// Three nodes; "a" lives on n0 and n1, "b" on n1 and n2.
    fn observer() -> Converges<Held> {
        let placement: Placement = Box::new(|k: &Value| match k.as_str() {
            Some("a") => vec![NodeId(0), NodeId(1)],
            _ => vec![NodeId(1), NodeId(2)],
        });
        Converges::new("Converges", 3, |n: &Held| n.0.clone(), placement)
    }

    fn at(now_ns: u64) -> Moment {
        Moment {
            now_ns,
            recover_at_ns: Some(100),
        }
    }

    #[test]
    fn replicas_that_differ_do_not_converge_until_they_agree() {
        let mut o = observer();
        let mut f = Findings::default();
        f.recovery_begins(100);
        o.after_step(&at(50), NodeId(0), &held(&[("a", "1")]), &mut f);
        assert_eq!(o.judged, 0, "nothing is judged before the heal");
        o.after_step(&at(110), NodeId(0), &held(&[("a", "1")]), &mut f);
        o.after_step(&at(120), NodeId(1), &held(&[("a", "1"), ("b", "2")]), &mut f);
        o.after_step(&at(130), NodeId(2), &held(&[]), &mut f);
        assert_eq!(o.divergence().unwrap(), r#"key "b": n1 holds "2", n2 holds nothing"#);
        assert_eq!(f.reached_after_heal("Converges"), None);
        o.crashed(&at(135), NodeId(0), &mut f);
        o.after_step(&at(140), NodeId(2), &held(&[("b", "2")]), &mut f);
        assert_eq!(o.divergence().unwrap(), "n0 was down or had not stepped since the heal");
        f.at(150);
        o.after_step(&at(150), NodeId(0), &held(&[("a", "1")]), &mut f);
        assert_eq!(f.reached_after_heal("Converges").map(|r| r.0), Some(150));
    }

    #[test]
    fn a_run_that_never_agrees_says_where_it_differed() {
        let mut o = observer();
        let mut f = Findings::default();
        f.recovery_begins(100);
        for (i, v) in [(0, "1"), (1, "2"), (2, "")] {
            o.after_step(&at(110), NodeId(i), &held(&[("a", v)]), &mut f);
        }
        Box::new(o).finish(&at(200), &[], &mut f);
        let check = super::super::property(
            "Converges",
            crate::property::When::Eventually,
            Some(crate::scenario::Dur(50)),
            &f,
            Some(100),
        );
        assert_eq!(check.verdict, super::super::Verdict::Fail, "{}", check.detail);
        assert!(
            check.detail.contains(r#"key "a": n0 holds "1", n1 holds "2""#),
            "{}",
            check.detail
        );
    }
}
