// The per-znode part of a snapshot (path, data, ACL index, StatPersisted), encoded and decoded
// byte by byte: a million-node tree is written and read without a JuteWriter/JuteReader call
// per field, without a BigInt per node and without a Map lookup per node for its parent.
// The bytes are exactly those of JuteWriter's ustring/latin1/long/int/bigLong (snapshot.ts).
import {JuteError, JuteTruncated, type JuteWriter} from './jute.js'
import {ZNode, type DataTree} from './datatree.js'
import type {Acl} from './records.js'

const TWO32 = 4294967296

/** Buffer's own slicers (what toString calls after looking the encoding up), once per field here. */
interface Slicers {
  latin1Slice(start: number, end: number): string
  utf8Slice(start: number, end: number): string
}

function putInt(b: Buffer, p: number, v: number): void {
  b[p] = v >>> 24
  b[p + 1] = v >>> 16
  b[p + 2] = v >>> 8
  b[p + 3] = v
}

function putLong(b: Buffer, p: number, v: number): void {
  const hi = Math.floor(v / TWO32)
  putInt(b, p, hi | 0)
  putInt(b, p + 4, (v - hi * TWO32) >>> 0)
}

function getInt(b: Buffer, p: number): number {
  return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]
}

function getLong(b: Buffer, p: number): number {
  return getInt(b, p) * TWO32 + (getInt(b, p + 4) >>> 0)
}

function short(pos: number, count: number, partial: boolean): {pos: number; count: number; done: boolean} {
  if (!partial) throw new JuteTruncated(`truncated snapshot at ${pos}`)
  return {pos, count, done: false}
}

/** Appends one znode record to w (the root's path is written as ""). */
export function encodeNode(w: JuteWriter, path: string, n: ZNode, aclIndex: number): void {
  const data = n.data
  const dlen = data === null ? 0 : data.length
  const plen = path === '/' ? 0 : path.length
  // At most 3 bytes of UTF-8 per UTF-16 unit; 4 + 4 + 8 for the lengths and ACL, 60 of stat.
  w.ensure(plen * 3 + dlen + 76)
  const b = w.buf
  const start = w.pos
  let p = start + 4
  let i = 0
  for (; i < plen; i++) {
    const c = path.charCodeAt(i)
    if (c > 0x7f) break
    b[p + i] = c
  }
  p += i === plen ? plen : b.write(path, p, 'utf8')
  putInt(b, start, p - start - 4)
  if (data === null) putInt(b, p, -1)
  else {
    putInt(b, p, dlen)
    if (dlen > 32) b.write(data, p + 4, dlen, 'latin1')
    else for (let j = 0; j < dlen; j++) b[p + 4 + j] = data.charCodeAt(j)
  }
  p += 4 + dlen
  putLong(b, p, aclIndex)
  putLong(b, p + 8, n.czxid)
  putLong(b, p + 16, n.mzxid)
  putLong(b, p + 24, n.ctime)
  putLong(b, p + 32, n.mtime)
  putInt(b, p + 40, n.version)
  putInt(b, p + 44, n.cversion)
  putInt(b, p + 48, n.aversion)
  if (n.ephemeralOwner === 0n) {
    putInt(b, p + 52, 0)
    putInt(b, p + 56, 0)
  } else b.writeBigInt64BE(n.ephemeralOwner, p + 52)
  putLong(b, p + 60, n.pzxid)
  w.pos = p + 68
}

/**
 * Reads znode records from buf at pos up to the "/" end mark into tree (whose nodes are
 * cleared), linking each to its parent, which must come before it. Returns the position after
 * the end mark and the number of nodes read; throws on truncation or an orphan.
 */
export function decodeNodes(buf: Buffer, pos: number, end: number, tree: DataTree, acls: Map<number, readonly Acl[]>, partial = false): {pos: number; count: number; done: boolean} {
  const nodes = tree.nodes
  const fallback = acls.get(-1) ?? []
  let lastAclIdx = NaN
  let lastAcl: readonly Acl[] = fallback
  // The parent of the previous node: siblings come one after another in a pre-order walk.
  let parentStart = -1
  let parentLen = -1
  let parent: ZNode | undefined
  let count = 0
  const sl = buf as unknown as Slicers
  for (;;) {
    // A record that runs past end: with partial, the caller reads on and calls again from it.
    const rec = pos
    if (pos + 4 > end) return short(rec, count, partial)
    const plen = getInt(buf, pos)
    if (plen < 0) throw new JuteError('null string where a value is required')
    const ps = pos + 4
    if (plen === 1 && ps + 1 <= end && buf[ps] === 0x2f) return {pos: ps + 1, count, done: true}
    if (ps + plen + 4 > end) return short(rec, count, partial)
    const path = plen === 0 ? '/' : sl.utf8Slice(ps, ps + plen)
    pos = ps + plen
    const dl = getInt(buf, pos)
    pos += 4
    let data: string | null = null
    if (dl === 0) data = ''
    else if (dl > 0) {
      if (pos + dl > end) return short(rec, count, partial)
      data = sl.latin1Slice(pos, pos + dl)
      pos += dl
    }
    if (pos + 68 > end) return short(rec, count, partial)
    const aclIdx = getLong(buf, pos)
    if (aclIdx !== lastAclIdx) {
      lastAclIdx = aclIdx
      lastAcl = acls.get(aclIdx) ?? fallback
    }
    const hi = getInt(buf, pos + 52)
    const lo = getInt(buf, pos + 56)
    const owner = hi === 0 && lo === 0 ? 0n : buf.readBigInt64BE(pos + 52)
    const n = new ZNode(data, lastAcl, getLong(buf, pos + 8), getLong(buf, pos + 16), getLong(buf, pos + 24), getLong(buf, pos + 32),
      getInt(buf, pos + 40), getInt(buf, pos + 44), getInt(buf, pos + 48), owner, getLong(buf, pos + 60))
    pos += 68
    const size = nodes.size
    nodes.set(path, n)
    // A path seen twice replaces its node: the cached parent may be the old one.
    if (nodes.size === size) parentLen = -1
    if (plen !== 0) {
      // The parent's path is the bytes before the last '/' (UTF-8 never has 0x2f inside a character).
      let slash = ps + plen - 1
      while (slash > ps && buf[slash] !== 0x2f) slash--
      const len = slash - ps
      let same = len === parentLen
      for (let k = 0; same && k < len; k++) same = buf[parentStart + k] === buf[ps + k]
      if (!same) {
        parent = nodes.get(len === 0 ? '/' : sl.utf8Slice(ps, slash))
        if (parent === undefined) throw new Error(`node ${path} has no parent`)
        parentLen = len
      }
      // The bytes compared next time must stay put: this node's own, in buf.
      parentStart = ps
      ;(parent!.children ??= new Set()).add(path.slice(path.lastIndexOf('/') + 1))
    }
    tree.reindex(path, n)
    count++
  }
}
