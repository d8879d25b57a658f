//! Sequential models: what a correct single copy of the object would do.
//!
//! A model is a pure step function over hashable states, plus how to read
//! its operations out of a format-neutral history, how to split a history
//! into independent parts, and how to describe things to a person. The
//! search knows nothing else about it: adding a model touches only this
//! file (and the list the CLI offers).

use super::rope::{self, Piece, Rope};
use crate::core::Value;
use crate::history::raw::{excerpt, RawOp};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::hash::Hash;
use std::mem::size_of;

/// What one heap allocation costs beyond the bytes it holds: the
/// allocator's header and rounding (glibc's, roughly). Counted so that
/// many small states do not slip past the memory budget.
pub const ALLOCATION_BYTES: usize = 16;

/// A sequential specification the search checks a history against.
pub trait Model: Sync {
    /// What the object holds between operations; hashed to cache
    /// configurations the search has seen.
    type State: Clone + Eq + Hash + Debug + Send;
    /// An operation and its arguments.
    type Input: Clone + Debug + Send + Sync;
    /// What an operation reported back.
    type Output: Clone + Debug + PartialEq + Send + Sync;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// The state after `input` if it is legal with this `output`, else
    /// None. `output == None` means the output is unknown: the op is legal
    /// if it can take effect at all. Called only with the ops of one
    /// partition.
    fn step(&self, state: &Self::State, input: &Self::Input, output: Option<&Self::Output>) -> Option<Self::State>;

    /// Heap bytes `state` owns, allocator overhead included (its inline
    /// size the search counts itself). The memory budget relies on it:
    /// a state that grows (a kv value under appends) must say so. Computed
    /// from lengths and capacities, so it is the same on every machine.
    fn state_bytes(&self, _state: &Self::State) -> usize {
        0
    }

    /// Reads one operation; the error says what the model expected.
    fn convert(&self, op: &RawOp) -> Result<(Self::Input, Option<Self::Output>), String>;

    /// Independent parts of a history, as (label, op indices): the history
    /// is linearizable iff every part is (P-compositionality).
    fn partition(&self, inputs: &[&Self::Input]) -> Vec<(String, Vec<usize>)> {
        vec![("history".to_string(), (0..inputs.len()).collect())]
    }

    /// An operation and its output for a person: `cas 1->2 -> ok`, with
    /// `?` for an unknown output.
    fn describe(&self, input: &Self::Input, output: Option<&Self::Output>) -> String;

    /// A state for a person, as counterexamples show it.
    fn describe_state(&self, state: &Self::State) -> String;

    /// Whether `input` never changes the state. An indeterminate op that
    /// does not may be left out of the search: it reported nothing, and
    /// leaving an indeterminate op unlinearized is always allowed.
    fn is_read_only(&self, _input: &Self::Input) -> bool {
        false
    }

    /// Whether `input` with this `output` leaves every state it is legal
    /// in unchanged (a read; a cas that reported failure). The search
    /// places such an op as soon as it is legal and never tries it
    /// elsewhere: moved earlier, it changes no state any other op sees.
    fn is_inert(&self, input: &Self::Input, _output: Option<&Self::Output>) -> bool {
        self.is_read_only(input)
    }

    /// An op (index into `ops`, one partition's inputs and outputs) that
    /// no state the object can reach from `start` allows, such as a read of
    /// a value nothing wrote: the partition then fails in any order, and no
    /// search is needed. None when no such op is known (the default).
    fn impossible(&self, _start: &Self::State, _ops: &[(&Self::Input, Option<&Self::Output>)]) -> Option<usize> {
        None
    }

    /// For each op (indices into `ops`, one partition), the ops that could
    /// make it legal again once the state no longer allows it (for a read:
    /// the writes of what it read), or None where the model cannot say
    /// (the default). With [`Model::may_become_legal`] this lets the search
    /// drop at once a configuration in which an op still to be placed never
    /// can be, instead of finding out at that op's return.
    fn enablers(&self, ops: &[(&Self::Input, Option<&Self::Output>)]) -> Vec<Option<Vec<usize>>> {
        vec![None; ops.len()]
    }

    /// Whether ops other than its enablers could make an op that `state`
    /// does not allow legal (appends, for a kv read of a longer string).
    /// Asked only of ops with enablers; true (the default) never prunes.
    /// May say true when unsure, never false when it could.
    fn may_become_legal(&self, _state: &Self::State, _input: &Self::Input, _output: Option<&Self::Output>) -> bool {
        true
    }

    /// Whether `step` would succeed: for inert ops the search asks only
    /// this, so a model can answer without building the next state.
    fn is_legal(&self, state: &Self::State, input: &Self::Input, output: Option<&Self::Output>) -> bool {
        self.step(state, input, output).is_some()
    }

    /// Ops of one partition (indices into `ops`) that never returned
    /// (`open[i]`) and whose effect no op of the partition could have
    /// seen: leaving them out changes no verdict, and each one left out
    /// halves what a search may have to explore. None by default.
    fn unseen(&self, _ops: &[(&Self::Input, Option<&Self::Output>)], _open: &[bool]) -> Vec<usize> {
        Vec::new()
    }
}

/// The built-in models, as `--model` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
pub enum ModelKind {
    /// One register: read, write.
    Register,
    /// One register: read, write, cas.
    CasRegister,
    /// String values per key: get, put, append, cas; partitioned by key.
    Kv,
    /// Transactions of reads and writes over several registers.
    MultiRegister,
    /// A lock: acquire, release.
    Mutex,
}

impl ModelKind {
    /// The name `--model` takes and reports print.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Register => "register",
            ModelKind::CasRegister => "cas-register",
            ModelKind::Kv => "kv",
            ModelKind::MultiRegister => "multi-register",
            ModelKind::Mutex => "mutex",
        }
    }

    /// Whether the model's state starts from a value `--initial` can set;
    /// a lock starts free, whatever value is given.
    pub fn has_initial(self) -> bool {
        self != ModelKind::Mutex
    }

    /// Whether the model reads operations with these functions (keyed or
    /// not, as a service records them); else what it reads instead.
    pub fn reads(self, functions: &[&str], keyed: bool) -> Result<(), String> {
        let (accepted, wants_key): (&[&str], Option<bool>) = match self {
            ModelKind::Register => (&["read", "write", "get", "put"], Some(false)),
            ModelKind::CasRegister => (&["read", "write", "get", "put", "cas"], Some(false)),
            ModelKind::Kv => (&["read", "write", "get", "put", "append", "cas"], Some(true)),
            ModelKind::MultiRegister => (&["txn"], None),
            ModelKind::Mutex => (&["acquire", "release"], None),
        };
        let missing: Vec<&str> = functions.iter().copied().filter(|f| !accepted.contains(f)).collect();
        if !missing.is_empty() {
            return Err(format!(
                "model {} reads {}, not {}",
                self.name(),
                accepted.join(", "),
                missing.join(", ")
            ));
        }
        match wants_key {
            Some(true) if !keyed => Err(format!("model {} needs a key on every operation", self.name())),
            Some(false) if keyed => Err(format!(
                "model {} is one register, but these operations have keys (model kv splits by key)",
                self.name()
            )),
            _ => Ok(()),
        }
    }
}

fn unknown_f(op: &RawOp, model: &str, expected: &str) -> String {
    format!(
        "model {model} has no operation :{}; expected {expected}",
        excerpt(&op.f)
    )
}

fn output_of<'a>(op: &'a RawOp, model: &str) -> Result<Option<&'a Value>, String> {
    match (&op.key, model) {
        (Some(key), "register" | "cas-register") => Err(format!(
            "model {model} is one register, but this op has key {}; use --model kv",
            shown(key)
        )),
        _ => Ok(op.output.as_ref()),
    }
}

/// A value from the history for an error message, cut short if long.
fn shown(v: &Value) -> String {
    excerpt(&v.to_string())
}

/// A read's output must be a plain value.
fn read_value(v: Option<&Value>) -> Result<Option<Value>, String> {
    match v {
        Some(Value::List(_)) => Err("a read returned a list; expected a single value".into()),
        other => Ok(other.cloned()),
    }
}

fn cas_args(input: &Value) -> Result<(Value, Value), String> {
    match input.as_list() {
        Some([from, to]) => Ok((from.clone(), to.clone())),
        _ => Err(format!("cas takes [from to], got {}", shown(input))),
    }
}

fn cas_output(v: Option<&Value>) -> Result<Option<bool>, String> {
    match v {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(format!("a cas completes with true or false, got {}", shown(other))),
    }
}

/// A register operation: shared by register, cas-register and kv.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RegisterOp {
    /// Reads the value (`get` in kv histories).
    Read,
    /// Sets the value (`put` in kv histories).
    Write(Value),
    /// Appends a string to the value; nil counts as empty.
    Append(Value),
    /// Sets the value to the second if it equals the first.
    Cas(Value, Value),
}

/// What the register operations report: the value read, or whether a cas
/// applied. Writes report nothing worth checking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegisterOutput {
    /// The value a read returned.
    Read(Value),
    /// Whether a cas found the expected value and applied.
    Cas(bool),
    /// A write or append completed.
    Done,
}

/// Heap bytes `v` owns, allocator overhead included.
pub fn value_bytes(v: &Value) -> usize {
    match v {
        Value::Str(s) | Value::Keyword(s) if s.capacity() > 0 => s.capacity() + ALLOCATION_BYTES,
        Value::List(items) if items.capacity() > 0 => {
            let own = items.capacity() * size_of::<Value>() + ALLOCATION_BYTES;
            own + items.iter().map(value_bytes).sum::<usize>()
        }
        _ => 0,
    }
}

/// `s` then `tail`, in a string of exactly their length: states are
/// cloned and kept by the thousand, and `format!` would double the
/// capacity.
fn joined(s: &str, tail: &str) -> String {
    let mut out = String::with_capacity(s.len() + tail.len());
    out.push_str(s);
    out.push_str(tail);
    out
}

fn register_step(state: &Value, op: &RegisterOp, output: Option<&RegisterOutput>) -> Option<Value> {
    match (op, output) {
        (RegisterOp::Read, Some(RegisterOutput::Read(v))) => (v == state).then(|| state.clone()),
        (RegisterOp::Read, _) => Some(state.clone()),
        (RegisterOp::Write(v), _) => Some(v.clone()),
        (RegisterOp::Append(v), _) => match (state, v) {
            (Value::Nil, v) => Some(v.clone()),
            (Value::Str(s), Value::Str(tail)) => Some(Value::Str(joined(s, tail))),
            _ => None,
        },
        (RegisterOp::Cas(from, to), Some(RegisterOutput::Cas(true))) => (state == from).then(|| to.clone()),
        (RegisterOp::Cas(from, _), Some(RegisterOutput::Cas(false))) => (state != from).then(|| state.clone()),
        (RegisterOp::Cas(from, to), _) => Some(if state == from { to.clone() } else { state.clone() }),
    }
}

/// A read, or a cas that reported failure: legal or not, it changes nothing.
fn register_inert(op: &RegisterOp, output: Option<&RegisterOutput>) -> bool {
    matches!(
        (op, output),
        (RegisterOp::Read, _) | (RegisterOp::Cas(..), Some(RegisterOutput::Cas(false)))
    )
}

/// The first op that no reachable value allows: a read of a value, or a
/// successful cas from a value, that is neither `start` nor written by
/// any write or cas (whatever their outcome, unless a cas reported
/// failure). With appends any string may be built: none is known.
fn register_impossible<'a>(
    initial: &Value,
    ops: impl Iterator<Item = (&'a RegisterOp, Option<&'a RegisterOutput>)> + Clone,
) -> Option<usize> {
    let mut values: Vec<&Value> = vec![initial];
    for (op, output) in ops.clone() {
        match (op, output) {
            (RegisterOp::Append(_), _) => return None,
            (RegisterOp::Write(v), _) => values.push(v),
            (RegisterOp::Cas(_, to), out) if out != Some(&RegisterOutput::Cas(false)) => values.push(to),
            _ => {}
        }
    }
    let set: std::collections::BTreeSet<&Value> = values.into_iter().collect();
    ops.enumerate().find_map(|(i, (op, output))| match (op, output) {
        (RegisterOp::Read, Some(RegisterOutput::Read(v))) if !set.contains(v) => Some(i),
        (RegisterOp::Cas(from, _), Some(RegisterOutput::Cas(true))) if !set.contains(from) => Some(i),
        _ => None,
    })
}

/// Most work [`register_unseen`] does: open ops times the bytes of the
/// reads it searches. Past it, it leaves every op in (it only saves time).
const UNSEEN_WORK_MAX: usize = 1 << 26;

/// Writes and appends that never returned and whose value no read saw
/// (for a string: no read returned a string containing it), in a
/// partition without cas. Why leaving one out changes no verdict: in any
/// order that places it, what it leaves lasts (appends only extend a
/// string) until the next write, and a read in between would have
/// returned it; so no read is in between, and without it the appends in
/// between (which report nothing) leave another string, which the next
/// write overwrites or nothing reads. A cas, even one that failed, could
/// tell; so could a read after a write of nil, which appends turn into
/// any string: nil is never left out. (Nor is "", unless no read returned
/// a string, when no read can follow it.) And where appends follow a
/// write of something that is neither nil nor a string (illegal onto
/// it), a later write of a string may be what made them legal: with both
/// in the partition, writes of strings stay.
fn register_unseen<'a>(
    ops: impl Iterator<Item = (&'a RegisterOp, Option<&'a RegisterOutput>)> + Clone,
    open: &[bool],
) -> Vec<usize> {
    if !open.contains(&true) || ops.clone().any(|(op, _)| matches!(op, RegisterOp::Cas(..))) {
        return Vec::new();
    }
    let read: Vec<&Value> = ops
        .clone()
        .filter_map(|(op, out)| match (op, out) {
            (RegisterOp::Read, Some(RegisterOutput::Read(v))) => Some(v),
            _ => None,
        })
        .collect();
    let texts: Vec<&str> = read
        .iter()
        .filter_map(|v| match v {
            Value::Str(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    let bytes = texts.iter().map(|t| t.len()).sum::<usize>() + read.len();
    let open_count = open.iter().filter(|&&o| o).count();
    if open_count.saturating_mul(bytes) > UNSEEN_WORK_MAX {
        return Vec::new();
    }
    // A write of a string may be what let a later append take effect, if
    // the value before it could be one that is neither nil nor a string
    // (appends onto those are illegal): then writes of strings stay.
    let appends = ops.clone().any(|(op, _)| matches!(op, RegisterOp::Append(_)));
    let other = |v: &Value| !matches!(v, Value::Nil | Value::Str(_));
    let mixed = appends
        && ops
            .clone()
            .any(|(op, _)| matches!(op, RegisterOp::Write(v) if other(v)));
    let seen = |v: &Value| match v {
        Value::Nil => true,
        Value::Str(w) => mixed || texts.iter().any(|t| t.contains(w.as_str())),
        v => read.contains(&v),
    };
    let unseen = |op: &RegisterOp| match op {
        RegisterOp::Write(v) | RegisterOp::Append(v) => !seen(v),
        RegisterOp::Read | RegisterOp::Cas(..) => false,
    };
    ops.enumerate()
        .filter(|(i, (op, _))| open[*i] && unseen(op))
        .map(|(i, _)| i)
        .collect()
}

/// For each read that reported a value, the writes and cas (unless
/// reported failed) that leave that value: once all are placed and the
/// state is another, the read never becomes legal.
fn register_enablers<'a>(
    ops: impl Iterator<Item = (&'a RegisterOp, Option<&'a RegisterOutput>)> + Clone,
) -> Vec<Option<Vec<usize>>> {
    let mut writers: BTreeMap<&Value, Vec<usize>> = BTreeMap::new();
    for (i, (op, output)) in ops.clone().enumerate() {
        match (op, output) {
            (RegisterOp::Write(v), _) => writers.entry(v).or_default().push(i),
            (RegisterOp::Cas(_, v), out) if out != Some(&RegisterOutput::Cas(false)) => {
                writers.entry(v).or_default().push(i)
            }
            _ => {}
        }
    }
    ops.map(|(op, output)| match (op, output) {
        (RegisterOp::Read, Some(RegisterOutput::Read(v))) => Some(writers.get(v).cloned().unwrap_or_default()),
        _ => None,
    })
    .collect()
}

/// Whether an inert op is legal, without cloning the state.
fn register_legal(state: &Value, op: &RegisterOp, output: Option<&RegisterOutput>) -> bool {
    match (op, output) {
        (RegisterOp::Read, Some(RegisterOutput::Read(v))) => v == state,
        (RegisterOp::Cas(from, _), Some(RegisterOutput::Cas(false))) => state != from,
        _ => register_step(state, op, output).is_some(),
    }
}

fn register_describe(op: &RegisterOp, output: Option<&RegisterOutput>) -> String {
    let out = |o: Option<&RegisterOutput>| match o {
        Some(RegisterOutput::Read(v)) => format!(" -> {v}"),
        Some(RegisterOutput::Cas(b)) => format!(" -> {}", if *b { "ok" } else { "fail" }),
        Some(RegisterOutput::Done) => String::new(),
        None => " -> ?".to_string(),
    };
    match op {
        RegisterOp::Read => format!("read{}", out(output)),
        RegisterOp::Write(v) => format!("write {v}{}", out(output)),
        RegisterOp::Append(v) => format!("append {v}{}", out(output)),
        RegisterOp::Cas(a, b) => format!("cas {a}->{b}{}", out(output)),
    }
}

fn register_convert(op: &RawOp, model: &str, allow: &[&str]) -> Result<(RegisterOp, Option<RegisterOutput>), String> {
    let output = output_of(op, model)?;
    let f = match op.f.as_str() {
        "get" => "read",
        "put" => "write",
        f => f,
    };
    if !allow.contains(&f) {
        return Err(unknown_f(
            op,
            model,
            &allow.iter().map(|f| format!(":{f}")).collect::<Vec<_>>().join(", "),
        ));
    }
    Ok(match f {
        "read" => (RegisterOp::Read, read_value(output)?.map(RegisterOutput::Read)),
        "write" => (
            RegisterOp::Write(op.input.clone()),
            output.map(|_| RegisterOutput::Done),
        ),
        "append" => (
            RegisterOp::Append(op.input.clone()),
            output.map(|_| RegisterOutput::Done),
        ),
        _ => {
            let (from, to) = cas_args(&op.input)?;
            (RegisterOp::Cas(from, to), cas_output(output)?.map(RegisterOutput::Cas))
        }
    })
}

/// One register with read and write.
pub struct Register {
    /// The value before the first write.
    pub initial: Value,
}

/// One register with read, write and compare-and-set.
pub struct CasRegister {
    /// The value before the first write.
    pub initial: Value,
}

macro_rules! register_model {
    ($ty:ty, $name:expr, $allow:expr) => {
        impl Model for $ty {
            type State = Value;
            type Input = RegisterOp;
            type Output = RegisterOutput;

            fn init(&self) -> Value {
                self.initial.clone()
            }

            fn step(&self, state: &Value, input: &RegisterOp, output: Option<&RegisterOutput>) -> Option<Value> {
                register_step(state, input, output)
            }

            fn state_bytes(&self, state: &Value) -> usize {
                value_bytes(state)
            }

            fn convert(&self, op: &RawOp) -> Result<(RegisterOp, Option<RegisterOutput>), String> {
                register_convert(op, $name, $allow)
            }

            fn describe(&self, input: &RegisterOp, output: Option<&RegisterOutput>) -> String {
                register_describe(input, output)
            }

            fn describe_state(&self, state: &Value) -> String {
                state.to_string()
            }

            fn is_read_only(&self, input: &RegisterOp) -> bool {
                matches!(input, RegisterOp::Read)
            }

            fn is_inert(&self, input: &RegisterOp, output: Option<&RegisterOutput>) -> bool {
                register_inert(input, output)
            }

            fn is_legal(&self, state: &Value, input: &RegisterOp, output: Option<&RegisterOutput>) -> bool {
                register_legal(state, input, output)
            }

            fn impossible(&self, start: &Value, ops: &[(&RegisterOp, Option<&RegisterOutput>)]) -> Option<usize> {
                register_impossible(start, ops.iter().copied())
            }

            /// Only writes change the value: a read waits for its writer.
            fn enablers(&self, ops: &[(&RegisterOp, Option<&RegisterOutput>)]) -> Vec<Option<Vec<usize>>> {
                register_enablers(ops.iter().copied())
            }

            fn may_become_legal(&self, _: &Value, _: &RegisterOp, _: Option<&RegisterOutput>) -> bool {
                false
            }

            fn unseen(&self, ops: &[(&RegisterOp, Option<&RegisterOutput>)], open: &[bool]) -> Vec<usize> {
                register_unseen(ops.iter().copied(), open)
            }
        }
    };
}

register_model!(Register, "register", &["read", "write"]);
register_model!(CasRegister, "cas-register", &["read", "write", "cas"]);

/// A map from keys to values, each key its own register (with append).
/// Partitioned by key, so the state is one key's value.
pub struct Kv {
    /// The value of every key before its first write.
    pub initial: Value,
}

/// One key's value as the kv model holds it: strings as ropes, so that a
/// state built by an append shares the string it was appended to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvValue {
    /// A string.
    Text(Rope),
    /// Anything else (never a string: equal values have one form).
    Other(Value),
}

impl KvValue {
    /// The kv form of `v`.
    pub fn of(v: &Value) -> KvValue {
        match v {
            Value::Str(s) => KvValue::Text(Rope::of(&Piece::new(s))),
            v => KvValue::Other(v.clone()),
        }
    }

    /// Whether this is `v`.
    pub fn is(&self, v: &Value) -> bool {
        match (self, v) {
            (KvValue::Text(r), Value::Str(s)) => r.eq_str(s),
            (KvValue::Other(a), b) => a == b,
            _ => false,
        }
    }

    /// The plain value, as histories and people see it.
    pub fn to_value(&self) -> Value {
        match self {
            KvValue::Text(r) => Value::Str(r.to_string()),
            KvValue::Other(v) => v.clone(),
        }
    }
}

/// A kv operation: its key and register op, with the value it writes and
/// the piece it appends made once, not at every step.
#[derive(Clone, Debug)]
pub struct KvOp {
    /// The key it reads or writes.
    pub key: Value,
    /// What it does to the key's value.
    pub op: RegisterOp,
    /// What a write, or a cas that applies, leaves.
    written: Option<KvValue>,
    /// What an append appends.
    tail: Option<Piece>,
}

impl KvOp {
    /// `op` on `key`.
    pub fn new(key: Value, op: RegisterOp) -> KvOp {
        let written = match &op {
            RegisterOp::Write(v) | RegisterOp::Cas(_, v) => Some(KvValue::of(v)),
            _ => None,
        };
        let tail = match &op {
            RegisterOp::Append(Value::Str(s)) => Some(Piece::new(s)),
            _ => None,
        };
        KvOp { key, op, written, tail }
    }

    fn written(&self) -> KvValue {
        self.written.clone().expect("a write or cas has its value made")
    }
}

fn kv_step(state: &KvValue, input: &KvOp, output: Option<&RegisterOutput>) -> Option<KvValue> {
    match (&input.op, output) {
        (RegisterOp::Read, Some(RegisterOutput::Read(v))) => state.is(v).then(|| state.clone()),
        (RegisterOp::Read, _) => Some(state.clone()),
        (RegisterOp::Write(_), _) => Some(input.written()),
        (RegisterOp::Append(_), _) => {
            let tail = input.tail.as_ref()?;
            match state {
                KvValue::Other(Value::Nil) => Some(KvValue::Text(Rope::of(tail))),
                KvValue::Text(r) => Some(KvValue::Text(r.then(tail))),
                KvValue::Other(_) => None,
            }
        }
        (RegisterOp::Cas(from, _), Some(RegisterOutput::Cas(true))) => state.is(from).then(|| input.written()),
        (RegisterOp::Cas(from, _), Some(RegisterOutput::Cas(false))) => (!state.is(from)).then(|| state.clone()),
        (RegisterOp::Cas(from, _), _) => Some(if state.is(from) { input.written() } else { state.clone() }),
    }
}

impl Model for Kv {
    type State = KvValue;
    type Input = KvOp;
    type Output = RegisterOutput;

    fn init(&self) -> KvValue {
        KvValue::of(&self.initial)
    }

    fn step(&self, state: &KvValue, input: &KvOp, output: Option<&RegisterOutput>) -> Option<KvValue> {
        kv_step(state, input, output)
    }

    /// A new state owns its last link (the rest it shares); one made by
    /// a write shares even that with the op, and is counted anyway.
    fn state_bytes(&self, state: &KvValue) -> usize {
        match state {
            KvValue::Text(r) if r.has_links() => rope::LINK_BYTES,
            KvValue::Text(_) => 0,
            KvValue::Other(v) => value_bytes(v),
        }
    }

    fn convert(&self, op: &RawOp) -> Result<(KvOp, Option<RegisterOutput>), String> {
        let key = op.key.clone().ok_or("model kv needs a key on every operation")?;
        let (reg, out) = register_convert(op, "kv", &["read", "write", "append", "cas"])?;
        if let RegisterOp::Append(tail) = &reg {
            appends_strings(tail, &self.initial)?;
        }
        Ok((KvOp::new(key, reg), out))
    }

    fn partition(&self, inputs: &[&KvOp]) -> Vec<(String, Vec<usize>)> {
        let mut by_key: BTreeMap<&Value, Vec<usize>> = BTreeMap::new();
        for (i, input) in inputs.iter().enumerate() {
            by_key.entry(&input.key).or_default().push(i);
        }
        by_key.into_iter().map(|(k, ops)| (format!("key {k}"), ops)).collect()
    }

    fn describe(&self, input: &KvOp, output: Option<&RegisterOutput>) -> String {
        let text = register_describe(&input.op, output);
        let (verb, rest) = text.split_once(' ').unwrap_or((&text, ""));
        let verb = match verb {
            "read" => "get",
            "write" => "put",
            v => v,
        };
        format!("{verb} {} {rest}", input.key).trim_end().to_string()
    }

    fn describe_state(&self, state: &KvValue) -> String {
        state.to_value().to_string()
    }

    fn is_read_only(&self, input: &KvOp) -> bool {
        matches!(input.op, RegisterOp::Read)
    }

    fn is_inert(&self, input: &KvOp, output: Option<&RegisterOutput>) -> bool {
        register_inert(&input.op, output)
    }

    fn is_legal(&self, state: &KvValue, input: &KvOp, output: Option<&RegisterOutput>) -> bool {
        match (&input.op, output) {
            (RegisterOp::Read, Some(RegisterOutput::Read(v))) => state.is(v),
            (RegisterOp::Cas(from, _), Some(RegisterOutput::Cas(false))) => !state.is(from),
            _ => kv_step(state, input, output).is_some(),
        }
    }

    fn impossible(&self, start: &KvValue, ops: &[(&KvOp, Option<&RegisterOutput>)]) -> Option<usize> {
        register_impossible(
            &start.to_value(),
            ops.iter().map(|(input, output)| (&input.op, *output)),
        )
    }

    fn enablers(&self, ops: &[(&KvOp, Option<&RegisterOutput>)]) -> Vec<Option<Vec<usize>>> {
        kv_enablers(ops)
    }

    fn unseen(&self, ops: &[(&KvOp, Option<&RegisterOutput>)], open: &[bool]) -> Vec<usize> {
        register_unseen(ops.iter().map(|(input, output)| (&input.op, *output)), open)
    }

    /// Appends only extend a string: a read of `s` waits on a state that
    /// may be a prefix of `s` (by hash: a false "maybe" only prunes less),
    /// or on nil, which an append turns into any string.
    fn may_become_legal(&self, state: &KvValue, _: &KvOp, output: Option<&RegisterOutput>) -> bool {
        match (state, output) {
            (KvValue::Text(r), Some(RegisterOutput::Read(Value::Str(s)))) => r.may_prefix(s),
            (KvValue::Other(Value::Nil), Some(RegisterOutput::Read(Value::Str(_)))) => true,
            _ => false,
        }
    }
}

/// For each kv read that reported a value: the writes (and cas, unless
/// reported failed) whose value it could read after appends: the same
/// value, a string it extends, or nil (an append onto nil starts any
/// string). Written strings are found by the hashes of the read's prefixes.
fn kv_enablers(ops: &[(&KvOp, Option<&RegisterOutput>)]) -> Vec<Option<Vec<usize>>> {
    let mut texts: BTreeMap<(usize, u64), Vec<usize>> = BTreeMap::new();
    let mut others: BTreeMap<&Value, Vec<usize>> = BTreeMap::new();
    for (i, (input, output)) in ops.iter().enumerate() {
        let written = match (&input.op, output) {
            (RegisterOp::Write(v), _) => v,
            (RegisterOp::Cas(_, v), out) if *out != Some(&RegisterOutput::Cas(false)) => v,
            _ => continue,
        };
        match written {
            Value::Str(w) => texts
                .entry((w.len(), rope::text_hash(w.as_bytes())))
                .or_default()
                .push(i),
            v => others.entry(v).or_default().push(i),
        }
    }
    let is_write_of = |j: &&usize, prefix: &[u8]| match &ops[**j].0.op {
        RegisterOp::Write(Value::Str(w)) | RegisterOp::Cas(_, Value::Str(w)) => w.as_bytes() == prefix,
        _ => false,
    };
    let read = |v: &Value| -> Vec<usize> {
        let mut found: Vec<usize> = others.get(v).cloned().unwrap_or_default();
        if let Value::Str(s) = v {
            found.extend(others.get(&Value::Nil).into_iter().flatten());
            let bytes = s.as_bytes();
            for (len, hash) in rope::prefix_hashes(bytes) {
                let writes = texts.get(&(len, hash)).into_iter().flatten();
                found.extend(writes.filter(|j| is_write_of(j, &bytes[..len])));
            }
        }
        found
    };
    ops.iter()
        .map(|(input, output)| match (&input.op, output) {
            (RegisterOp::Read, Some(RegisterOutput::Read(v))) => Some(read(v)),
            _ => None,
        })
        .collect()
}

/// An append concatenates strings; nil counts as "". One of anything else,
/// or onto keys that start as something else (`--initial 0`), could never
/// take effect: refused as the input mistake it is, not reported as a
/// history that is not linearizable.
fn appends_strings(tail: &Value, initial: &Value) -> Result<(), String> {
    match (tail, initial) {
        (Value::Str(_), Value::Nil | Value::Str(_)) => Ok(()),
        (Value::Str(_), other) => Err(format!(
            "append concatenates strings, but keys start at {other} (--initial); expected nil or a \"string\""
        )),
        (other, _) => Err(format!("append takes a string, got {}", shown(other))),
    }
}

/// Registers named by keys, read and written by atomic transactions. A
/// read of nil inside a transaction constrains nothing (Knossos's rule).
pub struct MultiRegister {
    /// The value of every register before its first write.
    pub initial: Value,
}

/// One step of a transaction: `[:read k v]` or `[:write k v]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Micro {
    /// A write if true, else a read.
    pub write: bool,
    /// The register.
    pub key: Value,
    /// The value written, or the value read (nil: not known).
    pub value: Value,
}

impl Model for MultiRegister {
    /// Registers written so far; the others hold `initial`.
    type State = BTreeMap<Value, Value>;
    type Input = Vec<Micro>;
    type Output = ();

    fn init(&self) -> Self::State {
        BTreeMap::new()
    }

    /// B-tree nodes are at least half full: at most twice the entries'
    /// inline size, plus a little per entry for the nodes' links.
    fn state_bytes(&self, state: &Self::State) -> usize {
        let slots = state.len() * 2 * (2 * size_of::<Value>() + size_of::<usize>());
        let heap: usize = state.iter().map(|(k, v)| value_bytes(k) + value_bytes(v)).sum();
        slots + heap + ALLOCATION_BYTES
    }

    fn is_read_only(&self, txn: &Vec<Micro>) -> bool {
        txn.iter().all(|m| !m.write)
    }

    fn step(&self, state: &Self::State, txn: &Vec<Micro>, _output: Option<&()>) -> Option<Self::State> {
        let mut next = state.clone();
        for m in txn {
            if m.write {
                next.insert(m.key.clone(), m.value.clone());
            } else if m.value != Value::Nil && next.get(&m.key).unwrap_or(&self.initial) != &m.value {
                return None;
            }
        }
        Some(next)
    }

    fn convert(&self, op: &RawOp) -> Result<(Vec<Micro>, Option<()>), String> {
        if op.f != "txn" {
            return Err(unknown_f(op, "multi-register", ":txn"));
        }
        // A completed transaction carries the values it read.
        let source = op.output.as_ref().unwrap_or(&op.input);
        let micros = source
            .as_list()
            .ok_or_else(|| format!("a :txn value is a vector of [f k v], got {}", shown(source)))?;
        let txn = micros
            .iter()
            .map(|m| match m.as_list() {
                Some([Value::Keyword(f), k, v]) if f == "read" || f == "write" => Ok(Micro {
                    write: f == "write",
                    key: k.clone(),
                    value: v.clone(),
                }),
                _ => Err(format!("a micro-op is [:read k v] or [:write k v], got {}", shown(m))),
            })
            .collect::<Result<_, String>>()?;
        Ok((txn, op.output.as_ref().map(|_| ())))
    }

    fn describe(&self, txn: &Vec<Micro>, output: Option<&()>) -> String {
        let parts: Vec<String> = txn
            .iter()
            .map(|m| format!("{} {} {}", if m.write { "w" } else { "r" }, m.key, m.value))
            .collect();
        format!("txn [{}]{}", parts.join(", "), if output.is_none() { " ?" } else { "" })
    }

    fn describe_state(&self, state: &Self::State) -> String {
        let parts: Vec<String> = state.iter().map(|(k, v)| format!("{k} {v}")).collect();
        format!("{{{}}} (others {})", parts.join(", "), self.initial)
    }
}

/// A lock, initially free.
pub struct Mutex;

/// An operation on the lock.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LockOp {
    /// Takes the lock; legal only while it is free.
    Acquire,
    /// Frees the lock; legal only while it is locked, by anyone (the model
    /// does not track owners).
    Release,
}

impl Model for Mutex {
    /// Locked?
    type State = bool;
    type Input = LockOp;
    type Output = ();

    fn init(&self) -> bool {
        false
    }

    fn step(&self, locked: &bool, op: &LockOp, _output: Option<&()>) -> Option<bool> {
        match op {
            LockOp::Acquire => (!locked).then_some(true),
            LockOp::Release => locked.then_some(false),
        }
    }

    fn convert(&self, op: &RawOp) -> Result<(LockOp, Option<()>), String> {
        let input = match op.f.as_str() {
            "acquire" => LockOp::Acquire,
            "release" => LockOp::Release,
            _ => return Err(unknown_f(op, "mutex", ":acquire, :release")),
        };
        Ok((input, op.output.as_ref().map(|_| ())))
    }

    fn describe(&self, op: &LockOp, output: Option<&()>) -> String {
        let verb = match op {
            LockOp::Acquire => "acquire",
            LockOp::Release => "release",
        };
        format!("{verb}{}", if output.is_none() { " ?" } else { "" })
    }

    fn describe_state(&self, locked: &bool) -> String {
        if *locked { "locked" } else { "free" }.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(i: i64) -> Value {
        Value::Int(i)
    }

    /// What `register_unseen` leaves out: open writes and appends whose
    /// value no read returned (inside a longer string counts as returned),
    /// never nil, nothing once a cas is in the partition, and nothing past
    /// its work bound.
    #[test]
    fn unseen_writes_are_open_ones_no_read_returned() {
        let s = |t: &str| Value::Str(t.into());
        let read = |t: &str| (RegisterOp::Read, Some(RegisterOutput::Read(s(t))));
        let done = Some(RegisterOutput::Done);
        let ops = vec![
            (RegisterOp::Write(s("v1")), None),
            (RegisterOp::Write(s("v2")), None),
            (RegisterOp::Append(s("v3;")), None),
            (RegisterOp::Write(Value::Nil), None),
            (RegisterOp::Write(s("v5")), done.clone()),
            read("v2v4;"),
        ];
        let unseen = |ops: &[(RegisterOp, Option<RegisterOutput>)]| {
            let open: Vec<bool> = ops
                .iter()
                .map(|(op, out)| out.is_none() && *op != RegisterOp::Read)
                .collect();
            register_unseen(ops.iter().map(|(op, out)| (op, out.as_ref())), &open)
        };
        // v2 was read inside "v2v4;"; nil never goes; v5 returned.
        assert_eq!(unseen(&ops), [0, 2]);
        let mut with_cas = ops.clone();
        with_cas.push((RegisterOp::Cas(s("x"), s("y")), Some(RegisterOutput::Cas(false))));
        assert!(unseen(&with_cas).is_empty());
        // Four open ops: a quarter of the bound in read text is past it.
        let long = "v".repeat(UNSEEN_WORK_MAX / 4 + 1);
        let mut big = ops.clone();
        big.push(read(&long));
        assert!(unseen(&big).is_empty(), "past the work bound nothing is left out");
        // put 0, then put "x" (never returned), then append "a": only the
        // put of "x" lets the append take effect, so it stays.
        let mixed = vec![
            (RegisterOp::Write(int(0)), done.clone()),
            (RegisterOp::Write(s("x")), None),
            (RegisterOp::Append(s("a")), done),
        ];
        assert!(unseen(&mixed).is_empty());
    }

    #[test]
    fn cas_register_follows_porcupines_etcd_model() {
        let m = CasRegister { initial: Value::Nil };
        let cas = RegisterOp::Cas(int(1), int(2));
        assert_eq!(m.step(&int(1), &cas, Some(&RegisterOutput::Cas(true))), Some(int(2)));
        assert_eq!(m.step(&int(3), &cas, Some(&RegisterOutput::Cas(true))), None);
        assert_eq!(m.step(&int(3), &cas, Some(&RegisterOutput::Cas(false))), Some(int(3)));
        assert_eq!(
            m.step(&int(1), &cas, Some(&RegisterOutput::Cas(false))),
            None,
            "a failed cas is an observation"
        );
        assert_eq!(m.step(&int(1), &cas, None), Some(int(2)));
        assert_eq!(m.step(&int(3), &cas, None), Some(int(3)));
        let read = RegisterOp::Read;
        assert_eq!(
            m.step(&Value::Nil, &read, Some(&RegisterOutput::Read(Value::Nil))),
            Some(Value::Nil)
        );
        assert_eq!(
            m.step(&int(1), &read, Some(&RegisterOutput::Read(Value::Nil))),
            None,
            "nil is absent here"
        );
        assert_eq!(m.step(&int(1), &read, None), Some(int(1)));
    }

    #[test]
    fn kv_appends_and_partitions_by_key() {
        let m = Kv {
            initial: Value::Str(String::new()),
        };
        let s = |x: &str| Value::Str(x.into());
        let append = KvOp::new(s("k"), RegisterOp::Append(s("ab")));
        let kv = |v: &Value| KvValue::of(v);
        assert_eq!(m.step(&kv(&s("x")), &append, None), Some(kv(&s("xab"))));
        assert_eq!(m.step(&kv(&Value::Nil), &append, None), Some(kv(&s("ab"))));
        assert_eq!(m.step(&kv(&int(1)), &append, None), None, "appends only onto strings");
        let put = KvOp::new(s("k"), RegisterOp::Write(s("xab")));
        let after = m.step(&kv(&s("x")), &append, None).unwrap();
        assert_eq!(
            m.step(&kv(&int(1)), &put, None),
            Some(after.clone()),
            "one string, however built"
        );
        let read = KvOp::new(s("k"), RegisterOp::Read);
        assert!(m.is_legal(&after, &read, Some(&RegisterOutput::Read(s("xab")))));
        assert!(!m.is_legal(&after, &read, Some(&RegisterOutput::Read(s("xa")))));
        assert_eq!(m.describe_state(&after), "\"xab\"");
        let inputs = [append.clone(), KvOp::new(s("j"), RegisterOp::Read), append];
        assert_eq!(
            m.partition(&inputs.iter().collect::<Vec<_>>()),
            [
                ("key \"j\"".to_string(), vec![1]),
                ("key \"k\"".to_string(), vec![0, 2])
            ]
        );
    }

    #[test]
    fn multi_register_and_mutex() {
        let m = MultiRegister { initial: int(0) };
        let kw = |k: &str| Value::Keyword(k.into());
        let txn = |w, k: &str, v| Micro {
            write: w,
            key: kw(k),
            value: v,
        };
        let s0 = BTreeMap::new();
        let s1 = m
            .step(&s0, &vec![txn(false, "x", int(0)), txn(true, "y", int(2))], Some(&()))
            .unwrap();
        assert_eq!(m.step(&s1, &vec![txn(false, "y", int(2))], Some(&())), Some(s1.clone()));
        assert_eq!(m.step(&s1, &vec![txn(false, "y", int(0))], Some(&())), None);
        assert_eq!(
            m.step(&s1, &vec![txn(false, "y", Value::Nil)], Some(&())),
            Some(s1.clone()),
            "nil reads are free"
        );
        assert_eq!(Mutex.step(&false, &LockOp::Acquire, None), Some(true));
        assert_eq!(Mutex.step(&true, &LockOp::Acquire, None), None);
        assert_eq!(Mutex.step(&false, &LockOp::Release, Some(&())), None);
    }

    /// `reads` lists what each model's `convert` takes: the two agree.
    #[test]
    fn what_a_model_says_it_reads_it_converts() {
        let op = |f: &str, key: Option<Value>, input: Value| RawOp {
            process: 0,
            f: f.to_string(),
            key,
            input,
            output: None,
            call: 0,
            ret: None,
            line: 1,
        };
        let all = [
            ModelKind::Register,
            ModelKind::CasRegister,
            ModelKind::Kv,
            ModelKind::MultiRegister,
            ModelKind::Mutex,
        ];
        for kind in all {
            for f in [
                "read", "write", "get", "put", "append", "cas", "txn", "acquire", "release",
            ] {
                let keyed = kind == ModelKind::Kv;
                let input = match f {
                    "cas" => Value::List(vec![Value::Nil, Value::Int(1)]),
                    "txn" => Value::List(vec![]),
                    "append" => Value::from("x"),
                    _ => Value::Int(1),
                };
                let raw = op(f, keyed.then(|| Value::from("k")), input);
                let nil = || Value::Nil;
                let converted = match kind {
                    ModelKind::Register => Register { initial: nil() }.convert(&raw).is_ok(),
                    ModelKind::CasRegister => CasRegister { initial: nil() }.convert(&raw).is_ok(),
                    ModelKind::Kv => Kv { initial: nil() }.convert(&raw).is_ok(),
                    ModelKind::MultiRegister => MultiRegister { initial: nil() }.convert(&raw).is_ok(),
                    ModelKind::Mutex => Mutex.convert(&raw).is_ok(),
                };
                assert_eq!(kind.reads(&[f], keyed).is_ok(), converted, "{kind:?} {f}");
            }
        }
    }

    #[test]
    fn a_model_says_whether_it_reads_a_services_operations() {
        let kv = ["get", "put", "append", "cas"];
        assert_eq!(ModelKind::Kv.reads(&kv, true), Ok(()));
        assert!(ModelKind::Mutex
            .reads(&kv, true)
            .unwrap_err()
            .contains("reads acquire, release, not get"));
        assert!(ModelKind::CasRegister
            .reads(&["get", "put", "cas"], true)
            .unwrap_err()
            .contains("have keys"));
        assert_eq!(ModelKind::Mutex.reads(&["acquire", "release"], false), Ok(()));
        assert!(ModelKind::Kv
            .reads(&["get"], false)
            .unwrap_err()
            .contains("needs a key"));
    }

    #[test]
    fn conversion_errors_say_what_was_expected() {
        let op = RawOp {
            process: 0,
            f: "txn".into(),
            key: None,
            input: Value::Nil,
            output: None,
            call: 0,
            ret: None,
            line: 1,
        };
        assert!(CasRegister { initial: Value::Nil }
            .convert(&op)
            .unwrap_err()
            .contains("expected :read, :write, :cas"));
        let keyed = RawOp {
            f: "read".into(),
            key: Some(Value::Str("k".into())),
            ..op.clone()
        };
        assert!(Register { initial: Value::Nil }
            .convert(&keyed)
            .unwrap_err()
            .contains("use --model kv"));
        assert!(Mutex.convert(&op).unwrap_err().contains(":acquire, :release"));
    }

    #[test]
    fn kv_appends_only_strings_onto_strings() {
        let append = |tail: Value| RawOp {
            process: 0,
            f: "append".into(),
            key: Some(Value::from("k")),
            input: tail,
            output: None,
            call: 0,
            ret: None,
            line: 1,
        };
        let kv = |initial| Kv { initial };
        assert!(kv(Value::Nil).convert(&append(Value::from("x"))).is_ok());
        assert!(kv(Value::from("")).convert(&append(Value::from("x"))).is_ok());
        let onto_int = kv(int(0)).convert(&append(Value::from("x"))).unwrap_err();
        assert!(onto_int.contains("keys start at 0 (--initial)"), "{onto_int}");
        let of_int = kv(Value::Nil).convert(&append(int(5))).unwrap_err();
        assert!(of_int.contains("append takes a string, got 5"), "{of_int}");
    }
}
