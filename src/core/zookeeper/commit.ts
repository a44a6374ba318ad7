// The middle stage of the write path: a prepared transaction gets its zxid and is made
// durable. Standalone (LogCommit): appended to the transaction log and group-committed, the
// zxid counts as committed once the fsync covering it returns. In an ensemble the leader's
// stage also proposes the transaction and counts it committed on a quorum's ACKs
// (quorum/leader.ts), and a follower's logs the leader's proposals and ACKs them.
// Whoever produced a reply or a notification for a zxid holds it until committed() has
// reached that zxid.
import {TxnLog} from './txnlog.js'
import type {Txn, TxnHeader} from './records.js'

export interface CommitStage {
  /** The last zxid assigned. */
  readonly lastZxid: number
  /** Every zxid up to this one is committed (durable standalone; quorum-acked in an ensemble). */
  readonly committedZxid: number
  /** Gives the txn the next zxid (written into hdr), starts committing it, returns the zxid. */
  submit(hdr: TxnHeader, txn: Txn): number
  /** The log reports everything up to zxid on disk. */
  durable?(zxid: number): void
}

/** Standalone: log, group-committed fsync, committed when durable. */
export class LogCommit implements CommitStage {
  lastZxid: number
  committedZxid: number

  constructor(readonly log: TxnLog, startZxid: number, readonly onCommitted: (zxid: number) => void) {
    this.lastZxid = this.committedZxid = startZxid
  }

  submit(hdr: TxnHeader, txn: Txn): number {
    hdr.zxid = ++this.lastZxid
    this.log.append(hdr, txn)
    return hdr.zxid
  }

  /** The log reports zxid durable. */
  durable(zxid: number): void {
    if (zxid <= this.committedZxid) return
    this.committedZxid = zxid
    this.onCommitted(zxid)
  }
}
