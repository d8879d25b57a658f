//! What clients ask of nodes: a service's operations and outputs, requests
//! and replies, and the neutral form in which the history records them.

use super::value::Value;
use super::{NodeId, RequestId};
use std::fmt::{self, Debug};

/// The operations a family serves and their outputs. Any number of
/// families can serve one service (key-value: single, primary-backup,
/// Raft); the history records its operations as neutral [`Call`]s and
/// [`Value`]s, so checkers never see a family's types.
pub trait Service: Send + 'static {
    /// What a client asks.
    type Op: Clone + Debug + Send + 'static;
    /// What a node answers when the operation took effect.
    type Output: Clone + Debug + Send + 'static;

    /// Every function `call` may record (`get`, `put`...), so that a
    /// scenario asking for a checker model that cannot read them is refused
    /// before it runs. Empty: not declared, not checked.
    const FUNCTIONS: &'static [&'static str] = &[];

    /// Whether every call records a key.
    const KEYED: bool = false;

    /// The operation as the history records it.
    fn call(op: &Self::Op) -> Call;

    /// The output as the history records it.
    fn output(op: &Self::Op, output: &Self::Output) -> Value;
}

/// An operation as the history records it: a function, the key it works on
/// (for checkers that split a history by key), and its argument.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Call {
    /// The function: `get`, `put`, `acquire`, `transfer`...
    pub f: String,
    /// The key, for services that have them.
    pub key: Option<Value>,
    /// The argument; `Nil` when there is none.
    pub value: Value,
}

impl Call {
    /// `f` with no key and no argument.
    pub fn new(f: impl Into<String>) -> Call {
        Call {
            f: f.into(),
            key: None,
            value: Value::Nil,
        }
    }

    /// The same call on `key`.
    pub fn key(self, key: Value) -> Call {
        Call { key: Some(key), ..self }
    }

    /// The same call with argument `value`.
    pub fn value(self, value: Value) -> Call {
        Call { value, ..self }
    }
}

/// `put "k0" "v7"`: the function, then the key and argument if any.
impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.f)?;
        if let Some(key) = &self.key {
            write!(f, " {key}")?;
        }
        if self.value != Value::Nil {
            write!(f, " {}", self.value)?;
        }
        Ok(())
    }
}

/// A client's request to a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request<Op> {
    /// Unique in the run; stays the same when the client retries.
    pub id: RequestId,
    /// The client that sent it. A client has one request outstanding at a
    /// time and its request ids increase, so (client, id) is a session
    /// sequence number a protocol can deduplicate retries with.
    pub client: u32,
    /// What the client asks.
    pub op: Op,
}

/// A node's answer to a client.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reply<Output> {
    /// The operation took effect, with this output.
    Ok(Output),
    /// The operation definitely did not take effect.
    Fail(String),
    /// Not handled here (this node is not the leader): try the node named,
    /// or another. Says nothing about whether the operation took effect,
    /// so the client retries the same request, which the protocol must
    /// deduplicate.
    Redirect(Option<NodeId>),
}

impl<Output: Debug> fmt::Display for Reply<Output> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Ok(out) => write!(f, "ok {out:?}"),
            Reply::Fail(why) => write!(f, "fail {why:?}"),
            Reply::Redirect(Some(to)) => write!(f, "redirect {to}"),
            Reply::Redirect(None) => write!(f, "redirect ?"),
        }
    }
}

/// The service of a family that has no clients (an election, a failure
/// detector): there is no operation to ask.
#[derive(Clone, Copy, Debug)]
pub enum NoService {}

/// An operation that cannot exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoOp {}

impl Service for NoService {
    type Op = NoOp;
    type Output = NoOp;

    fn call(op: &NoOp) -> Call {
        match *op {}
    }

    fn output(op: &NoOp, _output: &NoOp) -> Value {
        match *op {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_show_function_key_and_argument() {
        let put = Call::new("put")
            .key(Value::Str("k0".into()))
            .value(Value::Str("v7".into()));
        assert_eq!(put.to_string(), r#"put "k0" "v7""#);
        assert_eq!(Call::new("acquire").to_string(), "acquire");
        let reply: Reply<u32> = Reply::Redirect(Some(NodeId(2)));
        assert_eq!(reply.to_string(), "redirect n2");
        assert_eq!(Reply::Ok(5u32).to_string(), "ok 5");
    }
}
