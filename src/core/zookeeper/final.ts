// The last stage of the write path (Apache ZooKeeper's FinalRequestProcessor): a transaction
// is applied to the data tree, the watches it triggers are queued on the tree (the server
// delivers them), and the reply for the client that sent the request is written, with the
// Stat as of this transaction. The same function serves every role: a standalone server or a
// leader applies a transaction as soon as it is prepared (its replies and notifications are
// held until the commit stage reports the zxid committed); a follower or an observer applies
// it when the leader's COMMIT (or INFORM) arrives.
import {JuteWriter} from './jute.js'
import {Op, Err, ZkError, type Txn, type TxnHeader} from './records.js'
import {DataTree, writeStat} from './datatree.js'

/** No local client waits for this transaction's reply. */
export const NO_REPLY = -100000

export class Finalizer {
  private readonly sub = new JuteWriter(256)

  constructor(readonly tree: DataTree) {}

  /**
   * Applies hdr/txn to the tree. When requestType is a client request's opcode, the whole
   * reply frame (ReplyHeader xid/zxid/err and the response record) is appended to w.
   * Returns the reply's error code.
   */
  apply(hdr: TxnHeader, txn: Txn, requestType: number, xid: number, w: JuteWriter | null): number {
    const tree = this.tree
    const reply = requestType !== NO_REPLY && w !== null
    if (txn.type === Op.multi) return this.multi(hdr, txn, requestType, xid, reply ? w : null)
    let err = 0
    try {
      tree.applyTxn(hdr, txn)
    } catch (e) {
      if (!(e instanceof ZkError)) throw e
      err = e.code
    }
    if (txn.type === Op.error) err = txn.err
    if (!reply) return err
    const m = w.startFrame()
    w.int(xid).long(hdr.zxid).int(err)
    if (err === 0) {
      switch (requestType) {
        case Op.create:
          w.ustring((txn as {path: string}).path)
          break
        case Op.create2: case Op.createContainer: case Op.createTTL: {
          const path = (txn as {path: string}).path
          w.ustring(path)
          writeStat(w, tree.get(path)!)
          break
        }
        case Op.setData: case Op.setACL:
          writeStat(w, tree.get((txn as {path: string}).path)!)
          break
        case Op.reconfig: {
          // GetDataResponse: the configuration now active and /zookeeper/config's Stat.
          const t = txn as {path: string; data: string | null}
          w.latin1(t.data)
          writeStat(w, tree.get(t.path)!)
          break
        }
      }
    }
    w.finishFrame(m)
    return err
  }

  /** A multi's ops one by one, each result (and Stat) as of that op, as Apache's. */
  private multi(hdr: TxnHeader, txn: Extract<Txn, {type: typeof Op.multi}>, requestType: number, xid: number, w: JuteWriter | null): number {
    const tree = this.tree
    if (hdr.zxid > tree.lastZxid) tree.lastZxid = hdr.zxid
    const failed = txn.txns.some(s => s.type === Op.error)
    const sub = this.sub.reset()
    if (!failed) {
      for (const s of txn.txns) {
        try {
          tree.applyTxn({...hdr, type: s.type}, s)
        } catch (e) {
          // Only a follower out of step with its leader gets here; Apache logs and goes on.
          if (!(e instanceof ZkError)) throw e
          sub.int(-1).bool(false).int(e.code).int(e.code)
          continue
        }
        if (w === null) continue
        switch (s.type) {
          case Op.create:
            // Apache ZooKeeper 3.8 answers a create2 inside multi with a plain CreateResult.
            sub.int(Op.create).bool(false).int(0).ustring(s.path)
            break
          case Op.createContainer: case Op.createTTL:
            sub.int(Op.create2).bool(false).int(0).ustring(s.path)
            writeStat(sub, tree.get(s.path)!)
            break
          case Op.delete: case Op.deleteContainer:
            sub.int(Op.delete).bool(false).int(0)
            break
          case Op.check:
            sub.int(Op.check).bool(false).int(0)
            break
          case Op.setData:
            sub.int(Op.setData).bool(false).int(0)
            writeStat(sub, tree.get(s.path)!)
            break
        }
      }
    } else if (w !== null) {
      // Apache logs the ops before the failing one as their own txns (kafkit as error txns
      // with code 0): either way they answer 0, the failing one its code, the rest -2.
      let postFailed = false
      for (const s of txn.txns) {
        const code = s.type === Op.error ? s.err : postFailed ? Err.RuntimeInconsistency : 0
        if (code !== 0) postFailed = true
        sub.int(-1).bool(false).int(code).int(code)
      }
    }
    if (w === null || requestType === NO_REPLY) return 0
    const m = w.startFrame()
    w.int(xid).long(hdr.zxid).int(0)
    w.raw(sub.buf.subarray(0, sub.pos))
    w.int(-1).bool(true).int(-1)
    w.finishFrame(m)
    return 0
  }
}
