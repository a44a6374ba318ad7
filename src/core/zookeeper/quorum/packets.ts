// The wire formats between ensemble members, as Apache ZooKeeper 3.8 writes them.
// Quorum port: QuorumPacket records (int type, long zxid, buffer data, vector<Id> authinfo)
// back to back with no length prefix; a snapshot (SNAP) follows its packet as raw jute
// (sessions, ACL map, nodes, "/") and the string "BenWasHere". Election port: each side
// opens with long protocolVersion (-65536), long sid, int length, "host:port"; then
// messages framed by an int32 length: the FastLeaderElection notification.
import {JuteReader, JuteWriter, JuteError, JuteTruncated} from '../jute.js'
import type {AuthId} from '../datatree.js'

export const Q = {
  REQUEST: 1, PROPOSAL: 2, ACK: 3, COMMIT: 4, PING: 5, REVALIDATE: 6, SYNC: 7, INFORM: 8,
  COMMITANDACTIVATE: 9, NEWLEADER: 10, FOLLOWERINFO: 11, UPTODATE: 12, DIFF: 13, TRUNC: 14,
  SNAP: 15, OBSERVERINFO: 16, LEADERINFO: 17, ACKEPOCH: 18, INFORMANDACTIVATE: 19,
} as const

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(Q).map(([k, v]) => [v, k]))

export function packetName(type: number): string {
  return NAMES[type] ?? `UNKNOWN${type}`
}

export interface QuorumPacket {
  type: number
  zxid: number
  data: Buffer | null
  authinfo: AuthId[]
}

/** Apache's protocol version in LEADERINFO / LearnerInfo (ZAB 1.0). */
export const ZAB_VERSION = 0x10000
export const PROTOCOL_VERSION_V1 = -65536
export const PROTOCOL_VERSION_V2 = -65535
/** Apache's QuorumCnxManager limits: the initial message's address, an election message. */
export const MAX_INITIAL_ADDRESS = 2048
export const MAX_ELECTION_MESSAGE = 512 * 1024
/** Apache's QuorumPeer.OBSERVER_ID: observers of old versions connected with it. */
export const OBSERVER_ID = Number.MAX_SAFE_INTEGER

export function writePacket(w: JuteWriter, p: {type: number; zxid: number; data?: Buffer | null; authinfo?: readonly AuthId[] | null}): void {
  w.int(p.type).long(p.zxid).buffer(p.data ?? null)
  const a = p.authinfo
  if (!a) w.int(-1)
  else {
    w.int(a.length)
    for (const id of a) w.ustring(id.scheme).ustring(id.id)
  }
}

/** Reads one packet; JuteTruncated when the bytes are not all there yet. */
export function readPacket(r: JuteReader, maxData: number): QuorumPacket {
  const type = r.int()
  const zxid = r.long()
  const n = r.int()
  if (n < -1 || n > maxData) throw new JuteError(`quorum packet data length ${n} out of range`)
  let data: Buffer | null = null
  if (n >= 0) {
    if (r.remaining() < n) throw new JuteTruncated('data')
    data = Buffer.from(r.buf.subarray(r.pos, r.pos + n))
    r.pos += n
  }
  const count = r.int()
  if (count < -1 || count > 1024) throw new JuteError(`quorum packet authinfo count ${count} out of range`)
  const authinfo: AuthId[] = []
  for (let i = 0; i < count; i++) authinfo.push({scheme: r.ustringOrNull() ?? '', id: r.ustringOrNull() ?? ''})
  return {type, zxid, data, authinfo}
}

/** Bytes received on a stream, read record by record as they become complete. */
export class StreamBuffer {
  private buf = Buffer.allocUnsafe(64 * 1024)
  private start = 0
  private end = 0

  get length(): number {
    return this.end - this.start
  }

  push(chunk: Buffer): void {
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start
      if (live + chunk.length <= this.buf.length && this.start > 0) {
        this.buf.copy(this.buf, 0, this.start, this.end)
      } else {
        let size = this.buf.length * 2
        while (size < live + chunk.length) size *= 2
        const nb = Buffer.allocUnsafe(size)
        this.buf.copy(nb, 0, this.start, this.end)
        this.buf = nb
      }
      this.start = 0
      this.end = live
    }
    chunk.copy(this.buf, this.end)
    this.end += chunk.length
  }

  /**
   * Runs fn over the buffered bytes; when it returns, what it read is consumed. When the
   * record is not complete yet, nothing is consumed and undefined is returned.
   */
  parse<T>(fn: (r: JuteReader) => T): T | undefined {
    const r = new JuteReader(this.buf, this.start, this.end)
    try {
      const v = fn(r)
      this.start = r.pos
      if (this.start === this.end) {
        this.start = this.end = 0
        if (this.buf.length > 1 << 20) this.buf = Buffer.allocUnsafe(64 * 1024)
      }
      return v
    } catch (e) {
      if (e instanceof JuteTruncated) return undefined
      throw e
    }
  }
}

// ---------------------------------------------------------------- election messages

export const PeerState = {LOOKING: 0, FOLLOWING: 1, LEADING: 2, OBSERVING: 3} as const
export const STATE_NAMES = ['LOOKING', 'FOLLOWING', 'LEADING', 'OBSERVING']

export interface Notification {
  state: number
  leader: number
  zxid: number
  electionEpoch: number
  peerEpoch: number
  version: number
  /** The sender's configuration text (server.N lines and version=), when it sent one. */
  config: string | null
}

/** FastLeaderElection's message, version 2 (with the sender's configuration). */
export function encodeNotification(n: Omit<Notification, 'version'>): Buffer {
  const cfg = Buffer.from(n.config ?? '', 'utf8')
  const w = new JuteWriter(48 + cfg.length)
  w.int(n.state).long(n.leader).long(n.zxid).long(n.electionEpoch).long(n.peerEpoch).int(2).int(cfg.length).raw(cfg)
  return w.toBuffer()
}

/** Parses a notification of any of Apache's generations (28, 40, 44+ bytes); null if malformed. */
export function decodeNotification(b: Buffer): Notification | null {
  if (b.length < 28) return null
  const r = new JuteReader(b)
  try {
    const state = r.int()
    const leader = r.long()
    const zxid = r.long()
    const electionEpoch = r.long()
    let peerEpoch: number
    let version = 0
    let config: string | null = null
    if (b.length === 28) peerEpoch = Math.floor(zxid / 4294967296)
    else {
      peerEpoch = r.long()
      if (b.length > 40) {
        version = r.int()
        if (version > 1) {
          const n = r.int()
          if (n < 0 || n > r.remaining()) return null
          config = b.toString('utf8', r.pos, r.pos + n)
        }
      }
    }
    return {state, leader, zxid, electionEpoch, peerEpoch, version, config}
  } catch {
    return null
  }
}

/** The first bytes a connecting server sends on the election port. */
export function encodeInitialMessage(sid: number, address: string): Buffer {
  const a = Buffer.from(address, 'utf8')
  return new JuteWriter(20 + a.length).long(PROTOCOL_VERSION_V1).long(sid).int(a.length).raw(a).toBuffer()
}

export function zxidEpoch(zxid: number): number {
  return Math.floor(zxid / 4294967296)
}

export function makeZxid(epoch: number, counter: number): number {
  return epoch * 4294967296 + counter
}

export function hex(n: number | bigint): string {
  return (typeof n === 'bigint' ? BigInt.asUintN(64, n) : n < 0 ? BigInt.asUintN(64, BigInt(n)) : BigInt(n)).toString(16)
}
