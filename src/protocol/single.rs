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
