//! `single`: one key-value server. Every write is logged and fsynced
//! before the reply, so the server is linearizable across crashes; while
//! it is down, requests go unanswered and clients time out.

use super::kv::{decode_lines, encode_line, KvStore, Op};
use super::{Ctx, Node, NodeId, Reply, Request, Role};
use serde::Serialize;

const LOG: &str = "kv.log";

#[derive(Debug, Default)]
pub struct Single {
    store: KvStore,
}

/// The single server talks to no one.
#[derive(Clone, Debug, Serialize)]
pub enum NoMsg {}

impl Node for Single {
    type Msg = NoMsg;
    type Timer = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        for op in decode_lines::<Op>(ctx.disk().read(LOG).unwrap_or_default()) {
            self.store.apply(&op);
        }
    }

    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, msg: NoMsg) {
        match msg {}
    }

    fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _timer: ()) {}

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        let (output, write) = self.store.apply(&request.op);
        if let Some(write) = write {
            ctx.disk().append(LOG, &encode_line(&write));
            ctx.disk().fsync();
        }
        ctx.reply(request.id, Reply::Ok(output));
    }

    fn role(&self) -> Role {
        Role::Leader
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Effects, Output, RequestId};
    use crate::sim::clock::Clock;
    use crate::sim::disk::Disk;
    use crate::sim::rng::stream;

    fn call(node: &mut Single, disk: &mut Disk, op: Op) -> Reply {
        let (clock, mut rng, mut timers, mut out) = (Clock::new(0, 0), stream(0, "t"), 0, Effects::default());
        let mut ctx = Ctx::new(NodeId(0), 1, 0, &clock, &mut rng, disk, &mut timers, &mut out);
        node.on_request(
            &mut ctx,
            Request {
                id: RequestId(1),
                client: 0,
                op,
            },
        );
        out.replies.pop().expect("single answers at once").1
    }

    #[test]
    fn acknowledged_writes_survive_a_crash() {
        let mut disk = Disk::default();
        let mut node = Single::default();
        let put = Op::Put {
            key: "k".into(),
            value: "v".into(),
        };
        assert_eq!(call(&mut node, &mut disk, put), Reply::Ok(Output::Done));
        disk.crash();
        let mut node = Single::default();
        let (clock, mut rng, mut timers, mut out) = (Clock::new(0, 0), stream(0, "t"), 0, Effects::default());
        node.on_start(&mut Ctx::new(
            NodeId(0),
            1,
            0,
            &clock,
            &mut rng,
            &mut disk,
            &mut timers,
            &mut out,
        ));
        let get = Op::Get { key: "k".into() };
        assert_eq!(
            call(&mut node, &mut disk, get),
            Reply::Ok(Output::Value(Some("v".into())))
        );
    }
}
