// The client side of ZooKeeper's wire format: request bodies, response records (Stat, ACL,
// ClientInfo, WatcherEvent), connect strings and path validation as Apache's Java client
// does it (PathUtils). Pure, no I/O: the client in client.ts frames and sends these.
import {JuteReader, JuteWriter} from '../zookeeper/jute.js'
import {Op, CreateMode, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, type Acl} from '../zookeeper/records.js'

/**
 * Opcodes (ZooDefs.OpCode), create modes and ACLs: the server's tables in zookeeper/records.ts,
 * so that the server, this client and the broker's zk.ts speak one vocabulary.
 */
export const OpCode = Op
/** Apache's CreateMode flag values. */
export const Mode = CreateMode
export {OPEN_ACL_UNSAFE, READ_ACL_UNSAFE}
export type {Acl}

/** KeeperException.Code names, as KeeperException's message prints them. */
export const CODE_NAMES: Record<number, string> = {
  0: 'OK', [-1]: 'SystemError', [-2]: 'RuntimeInconsistency', [-3]: 'DataInconsistency',
  [-4]: 'ConnectionLoss', [-5]: 'MarshallingError', [-6]: 'Unimplemented', [-7]: 'OperationTimeout',
  [-8]: 'BadArguments', [-13]: 'NewConfigNoQuorum', [-14]: 'ReconfigInProgress',
  [-100]: 'APIError', [-101]: 'NoNode', [-102]: 'NoAuth', [-103]: 'BadVersion', [-108]: 'NoChildrenForEphemerals',
  [-110]: 'NodeExists', [-111]: 'Directory not empty', [-112]: 'Session expired', [-113]: 'Invalid callback',
  [-114]: 'InvalidACL', [-115]: 'AuthFailed', [-118]: 'Session moved', [-119]: 'Not a read-only call',
  [-120]: 'Ephemeral node on local session', [-121]: 'No such watcher',
  [-122]: 'Request Timeout', [-123]: 'Reconfig is disabled', [-124]: 'Session closed because client failed to authenticate',
  [-125]: 'Quota has exceeded', [-127]: 'Op throttled due to high load',
}

/** A failed request: the server's error code and the path it concerned (KeeperException). */
export class KeeperError extends Error {
  constructor(readonly code: number, readonly path: string | null) {
    super(`KeeperErrorCode = ${CODE_NAMES[code] ?? `Unknown error ${code}`}${path === null || path === '' ? '' : ` for ${path}`}`)
  }
}

export interface Stat {
  czxid: bigint; mzxid: bigint; ctime: bigint; mtime: bigint
  version: number; cversion: number; aversion: number
  ephemeralOwner: bigint; dataLength: number; numChildren: number; pzxid: bigint
}


export function readStat(r: JuteReader): Stat {
  return {
    czxid: r.bigLong(), mzxid: r.bigLong(), ctime: r.bigLong(), mtime: r.bigLong(),
    version: r.int(), cversion: r.int(), aversion: r.int(), ephemeralOwner: r.bigLong(),
    dataLength: r.int(), numChildren: r.int(), pzxid: r.bigLong(),
  }
}

/** A jute buffer keeping the difference between null (-1) and empty, as the Java client does. */
export function readBufferOrNull(r: JuteReader): Buffer | null {
  const n = r.int()
  if (n < 0) return null
  if (n > r.remaining()) throw new RangeError(`buffer of ${n} bytes exceeds the reply`)
  const b = Buffer.from(r.buf.subarray(r.pos, r.pos + n))
  r.pos += n
  return b
}

export function readAclList(r: JuteReader): Acl[] {
  const n = r.vectorCount()
  const out: Acl[] = []
  for (let i = 0; i < n; i++) out.push({perms: r.int(), scheme: r.ustringOrNull() ?? '', id: r.ustringOrNull() ?? ''})
  return out
}

export function writeAclList(w: JuteWriter, acl: readonly Acl[]): void {
  w.int(acl.length)
  for (const a of acl) w.int(a.perms).ustring(a.scheme).ustring(a.id)
}

// ---- connect strings: host:port[,host:port...][/chroot], IPv6 as [::1]:2181 ----

export interface HostPort { host: string; port: number }
export interface ConnectString { hosts: HostPort[]; chroot: string | null }

/**
 * Parses a connect string as Apache's ConnectStringParser does. A bad one throws an Error whose
 * message is the Java exception's "class: message" (what the Java shell dies with).
 */
export function parseConnectString(s: string): ConnectString {
  let rest = s
  let chroot: string | null = null
  const slash = s.indexOf('/')
  if (slash >= 0) {
    chroot = s.slice(slash)
    rest = s.slice(0, slash)
    if (chroot.length === 1) chroot = null
    else {
      try {
        validatePath(chroot)
      } catch (e) {
        throw new Error(`java.lang.IllegalArgumentException: ${(e as Error).message}`)
      }
    }
  }
  const hosts: HostPort[] = []
  for (const part of rest.split(',')) {
    const h = part.trim()
    if (h === '') continue
    let host = h
    let port = 2181
    if (h.startsWith('[')) {
      const end = h.lastIndexOf(']')
      if (end < 0) throw illegal(`${h} starts with '[' but has no matching ']'`)
      host = h.slice(1, end)
      if (host === '') throw illegal(`${host} is empty.`)
      if (h.length > end + 1) {
        if (h[end + 1] !== ':') throw illegal(`${h} does not have : after ]`)
        if (end + 2 === h.length) throw illegal(`${h} doesn't have a port after colon.`)
        port = javaPort(h.slice(end + 2))
      }
    } else {
      const colon = h.lastIndexOf(':')
      if (colon >= 0) {
        if (colon < h.length - 1) port = javaPort(h.slice(colon + 1))
        host = h.slice(0, colon)
      }
    }
    hosts.push({host, port})
  }
  if (hosts.length === 0) throw illegal('A HostProvider may not be empty!')
  return {hosts, chroot}
}

function illegal(message: string): Error {
  return new Error(`java.lang.IllegalArgumentException: ${message}`)
}

function javaPort(p: string): number {
  if (!/^[-+]?\d+$/.test(p) || Math.abs(Number(p)) > 2147483647) throw new Error(`java.lang.NumberFormatException: For input string: "${p}"`)
  const n = Number(p)
  if (n < 0 || n > 65535) throw illegal(`port out of range:${n}`)
  return n
}

// ---- path validation: Apache's PathUtils.validatePath, same messages ----

/** Throws IllegalArgument-style errors with the Java client's messages for a bad znode path. */
export function validatePath(path: string, sequential = false): void {
  const p = sequential ? path + '1' : path
  if (p.length === 0) throw new PathError('Path length must be > 0')
  if (p[0] !== '/') throw new PathError('Path must start with / character')
  if (p.length === 1) return
  if (p[p.length - 1] === '/') throw new PathError('Path must not end with / character')
  let reason: string | null = null
  let last = '/'
  const chars = p
  for (let i = 1; i < chars.length; last = chars[i], i++) {
    const c = chars[i]
    const code = chars.charCodeAt(i)
    if (code === 0) { reason = `null character not allowed @${i}`; break }
    if (c === '/' && last === '/') { reason = `empty node name specified @${i}`; break }
    if (c === '.' && last === '.') {
      if (chars[i - 2] === '/' && (i + 1 === chars.length || chars[i + 1] === '/')) { reason = `relative paths not allowed @${i}`; break }
    } else if (c === '.') {
      if (chars[i - 1] === '/' && (i + 1 === chars.length || chars[i + 1] === '/')) { reason = `relative paths not allowed @${i}`; break }
    } else if ((code > 0x0000 && code <= 0x001f) || (code >= 0x007f && code <= 0x009f) || (code >= 0xd800 && code <= 0xf8ff) || (code >= 0xfff0 && code <= 0xffff)) {
      reason = `invalid character @${i}`; break
    }
  }
  if (reason !== null) throw new PathError(`Invalid path string "${p}" caused by ${reason}`)
}

/** A path the client refuses before sending (Java's IllegalArgumentException). */
export class PathError extends Error {}
