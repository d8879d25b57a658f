//! `Single`: one key-value server. Every write is logged and fsynced
//! before the reply, so the server is linearizable across crashes; while
//! it is down, requests go unanswered and clients time out.

use crate::core::{Ctx, Node, NodeId, Reply, Request, Role};
use crate::env::disk::{decode_lines, encode_line};
use crate::path;
use crate::protocols::Family;
use crate::scenario::{Invalid, Scenario};
use crate::workload::kv::{Kv, KvStore, Op};
use serde::Deserialize;

const LOG: &str = "kv.log";

/// The single server's state: its store, rebuilt from its log at start.
#[derive(Debug, Default)]
pub struct Server {
    store: KvStore,
}

/// The single server talks to no one.
#[derive(Clone, Debug)]
pub enum NoMsg {}

impl Node for Server {
    type Msg = NoMsg;
    type Timer = ();
    type Service = Kv;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        for op in decode_lines::<Op>(ctx.disk().read(LOG).unwrap_or_default()) {
            self.store.apply(&op);
        }
    }

    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, msg: NoMsg) {
        match msg {}
    }

    fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _timer: ()) {}

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request<Op>) {
        let (output, write) = self.store.apply(&request.op);
        if let Some(write) = write {
            ctx.disk().append(LOG, &encode_line(&write));
            if let Err(e) = ctx.disk().fsync() {
                // Not durable, so not done; the write stays in memory and
                // a crash loses it, as it should.
                return ctx.reply(request.id, Reply::Fail(e.to_string()));
            }
        }
        ctx.reply(request.id, Reply::Ok(output));
    }

    fn role(&self) -> Role {
        Role::LEADER
    }
}

/// `protocol: Single` takes no fields.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SingleConfig {}

/// One key-value server.
pub struct Single;

impl Family for Single {
    const NAME: &'static str = "Single";
    const ABOUT: &'static str = "one key-value server (node 0); linearizable, unavailable while down";
    type Config = SingleConfig;
    type Node = Server;

    fn validate(_config: &SingleConfig, scenario: &Scenario) -> Result<(), Invalid> {
        if scenario.nodes != 1 {
            return Err(Invalid::at(
                path!["nodes"],
                format!(
                    "protocol Single runs on exactly one node, but nodes is {}; expected nodes: 1",
                    scenario.nodes
                ),
            ));
        }
        Ok(())
    }

    fn node(_config: &SingleConfig, _id: NodeId, _nodes: u32) -> Server {
        Server::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Harness, RequestId};
    use crate::workload::kv::Output;

    fn call(h: &mut Harness<Server>, op: Op) -> Reply<Output> {
        let request = Request {
            id: RequestId(1),
            client: 0,
            op,
        };
        h.request(request).replies.pop().expect("single answers at once").1
    }

    #[test]
    fn acknowledged_writes_survive_a_crash() {
        let mut h = Harness::new(NodeId(0), 1, |_| Server::default());
        h.start();
        let put = Op::Put {
            key: "k".into(),
            value: "v".into(),
        };
        assert_eq!(call(&mut h, put), Reply::Ok(Output::Done));
        h.crash_and_restart();
        let get = Op::Get { key: "k".into() };
        assert_eq!(call(&mut h, get), Reply::Ok(Output::Value(Some("v".into()))));
    }
}
